#!/bin/sh
# A job that always fails with a message on stderr (or, with $1 = garbage,
# exits 0 with output that is not JSON).
if [ "${1:-}" = garbage ]; then
  echo "hello, not JSON"
  exit 0
fi
echo "the service said no" >&2
exit 3
