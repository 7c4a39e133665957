#!/bin/sh
# A job whose first attempt hangs (longer than any job timeout of the tests)
# and whose later attempts succeed. $1: a directory for the attempt marks;
# $1/started-<n> is created when attempt n starts.
dir=$1
n=1
while [ -e "$dir/started-$n" ]; do n=$((n + 1)); done
: > "$dir/started-$n"
if [ "$n" -eq 1 ]; then
  sleep 60
fi
cat > /dev/null
printf '{"attempt":%s}\n' "$n"
