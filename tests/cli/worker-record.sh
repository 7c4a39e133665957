#!/bin/sh
# A job that succeeds with no variables after appending its element id to
# the file $1 (one line per job, in the order the jobs ran).
cat > /dev/null
echo "$BATON_ELEMENT_ID" >> "$1"
