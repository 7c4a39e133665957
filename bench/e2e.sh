#!/usr/bin/env bash
# End-to-end benchmark of `baton serve`: starts a server on a fresh data
# directory (durable: fsync'd group commits), deploys bench/models, and runs
# the load generator (bench/e2e_bench.c) for the one-task process at full
# speed and at 1,000 instances/s, for the trip saga, and for message
# correlation over REST. Usage: bench/e2e.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
bash scripts/install-deps.sh
cmake -S . -B "${BUILD_DIR:-build/release}" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build ${BUILD_DIR:-build/release} -j"$(nproc)" --target baton baton-bench-e2e >/dev/null
data=$(mktemp -d)
log=$data/serve.log
${BUILD_DIR:-build/release}/baton serve --port 0 --data "$data" --max-queue 100000 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*listening on http:\/\/[0-9.]*:\([0-9]*\).*/\1/p' "$log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
url=http://127.0.0.1:$port
for m in bench/models/one-task.bpmn bench/models/trip-saga.bpmn bench/models/order-message.bpmn; do
  curl -sf -F "resources=@$m" "$url/v2/deployments" >/dev/null
done
echo "# machine: $(nproc) cores, $(uname -sr); server and load generator share it"
${BUILD_DIR:-build/release}/baton-bench-e2e --url "$url" --workload one-task --instances "$n"
${BUILD_DIR:-build/release}/baton-bench-e2e --url "$url" --workload one-task --instances 10000 --rate 1000
${BUILD_DIR:-build/release}/baton-bench-e2e --url "$url" --workload trip-saga --instances $((n / 2))
${BUILD_DIR:-build/release}/baton-bench-e2e --url "$url" --workload order-message --instances "$n" --workers 8
