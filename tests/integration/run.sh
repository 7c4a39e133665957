#!/bin/sh
# The integration suite: the real `baton serve` over HTTP, driven by the
# official Camunda client (node_modules/@camunda8/orchestration-cluster-api).
#
#   BATON_BIN=build/release/baton tests/integration/run.sh [node --test options]
#
# Every test starts its own server (free port, temp data directory) and stops
# it. CTest runs the same command (CMakeLists.txt, test integration_api).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${BATON_BIN:-}" ]; then
  echo "run.sh: set BATON_BIN to the baton binary (e.g. build/release/baton)" >&2
  exit 2
fi
case "$BATON_BIN" in /*) ;; *) BATON_BIN="$(pwd)/$BATON_BIN" ;; esac
if [ ! -x "$BATON_BIN" ]; then
  echo "run.sh: $BATON_BIN is not an executable" >&2
  exit 2
fi
export BATON_BIN
exec node --test "$@" "$here/"
