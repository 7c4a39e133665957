#!/bin/sh
# A job that waits until $2 jobs have started (marks in $1), then succeeds:
# it only finishes when the worker runs $2 of them at once. Gives up after
# about 20 s (and fails) so that a broken worker cannot hang a test.
dir=$1 want=$2
: > "$dir/started-$BATON_JOB_KEY"
i=0
while [ "$(ls "$dir" | grep -c '^started-')" -lt "$want" ]; do
  i=$((i + 1))
  if [ "$i" -gt 400 ]; then echo "only some jobs ran at once" >&2; exit 1; fi
  sleep 0.05
done
cat > /dev/null
echo '{"together":true}'
