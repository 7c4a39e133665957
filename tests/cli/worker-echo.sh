#!/bin/sh
# A job that succeeds: answers with its input (the job's variables) and what
# the worker put in its environment. Optional $1: a value to add as "tag".
input=$(cat)
printf '{"input":%s,"jobKey":"%s","jobType":"%s","instanceKey":"%s","elementId":"%s","retries":"%s","header":"%s","tag":"%s"}\n' \
  "$input" "$BATON_JOB_KEY" "$BATON_JOB_TYPE" "$BATON_PROCESS_INSTANCE_KEY" \
  "$BATON_ELEMENT_ID" "$BATON_RETRIES" "${BATON_HEADER_FLIGHT_CLASS:-}" "${1:-}"
