#!/bin/sh
# A job that throws the BPMN error $1 (exit 64 with the error on stdout).
cat > /dev/null
printf '{"errorCode":"%s","errorMessage":"no seats left"}\n' "$1"
exit 64
