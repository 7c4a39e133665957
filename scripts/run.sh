#!/usr/bin/env bash
# baton's main job: installs what is missing, builds, and runs the trip-booking
# demo (scripts/demo.sh): baton serve on ./data, the saga calling its functions
# over HTTP, one trip booked and one compensated, then the commands to try.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" --target baton web
BATON_BIN=build/release/baton exec scripts/demo.sh "$@"
