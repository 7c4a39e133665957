#!/usr/bin/env bash
# baton's main job: installs what is missing, builds, and runs the
# trip-booking saga on the embedded store (./data): one trip booked, one
# whose flight fails and is compensated.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)"
exec build/release/baton-trip-demo --data data --model examples/trip-booking/trip-booking.bpmn "$@"
