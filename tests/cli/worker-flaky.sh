#!/bin/sh
# A job that fails the first $2 attempts and then succeeds. The attempts are
# counted in $1/<job key>; every attempt appends "<job key> <retries>" to
# $1/attempts.log, so a test can check that the key stays the same.
dir=$1 failures=$2
count_file="$dir/$BATON_JOB_KEY"
n=$(cat "$count_file" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" > "$count_file"
echo "$BATON_JOB_KEY $BATON_RETRIES" >> "$dir/attempts.log"
if [ "$n" -le "$failures" ]; then
  echo "attempt $n failed: the service is down" >&2
  exit 1
fi
printf '{"attempts":%s}\n' "$n"
