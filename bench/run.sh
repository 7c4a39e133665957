#!/usr/bin/env bash
# The embedded-engine benchmark and its peer, in one run:
#   baton (bench/embedded_bench.c): durable SQLite store, fsync per commit,
#     group commit of up to --batch commands;
#   bpmn-engine (bench/peer/bpmn-engine-bench.mjs): the npm package, in memory.
# Both run the models of bench/models. Usage: bench/run.sh [INSTANCES]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
bash scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" --target baton-bench-embedded >/dev/null
echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "# baton $(git rev-parse --short HEAD 2>/dev/null || echo '?'), store on $(df -T /tmp | awk 'NR==2 {print $2}')"
build/release/baton-bench-embedded --instances "$n" --waiting 100000
node bench/peer/bpmn-engine-bench.mjs
