#!/usr/bin/env bash
# The message benchmark (bench/message_bench.c): instances waiting at a
# message catch event (memory and store bytes per instance), durable
# correlation throughput, buffered messages taken by later subscriptions.
# Usage: bench/messages.sh [WAITING] [BUFFERED]
set -euo pipefail
cd "$(dirname "$0")/.."
waiting=${1:-1000000}
buffered=${2:-100000}
bash scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" --target baton-bench-messages >/dev/null
echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "# baton $(git rev-parse --short HEAD 2>/dev/null || echo '?'), store on $(df -T /tmp | awk 'NR==2 {print $2}')"
build/release/baton-bench-messages --waiting "$waiting" --buffered "$buffered"
