#!/bin/sh
# A job that marks $1/started, takes half a second, then succeeds: a test
# stops the worker while it runs.
: > "$1/started"
sleep 0.5
cat > /dev/null
echo '{"finished":true}'
