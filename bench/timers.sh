#!/usr/bin/env bash
# The timer benchmark (bench/timer_bench.c), in one run: a million instances
# waiting at a timer (memory and disk per instance, creation rate, recovery),
# the cost of the loop with none and with all of them pending, and how late
# timers fire at 10,000 a second. Durable SQLite store under /tmp (fsync per
# group commit), the system clock.
# Usage: bench/timers.sh [WAITING [TIMERS [RATE]]]
#   WAITING  instances left waiting at a timer (default 1000000)
#   TIMERS   timers of the lateness run (default 100000)
#   RATE     timers falling due per second (default 10000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
timers=${2:-100000}
rate=${3:-10000}
# The C toolchain and libraries only (no Node needed here): the project's
# installer when any is missing.
command -v cmake >/dev/null && pkg-config --exists jansson libxml-2.0 sqlite3 liblz4 libcurl ||
  bash scripts/install-deps.sh
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build/release -j"$(nproc)" --target baton-bench-timers >/dev/null
echo "# machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "# baton $(git rev-parse --short HEAD 2>/dev/null || echo '?'), store on $(df -T /tmp | awk 'NR==2 {print $2}'), load $(cut -d' ' -f1-3 /proc/loadavg)"
build/release/baton-bench-timers --waiting "$n" --timers "$timers" --rate "$rate"
