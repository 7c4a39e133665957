#!/usr/bin/env bash
# The FEEL evaluation benchmark and its peer, in one run:
#   baton (bench/feel_bench.c): each expression compiled once, evaluated
#     N times (default 1,000,000) over the same variables;
#   feelin (bench/peer/feelin-bench.mjs): the npm package's evaluate() on the
#     same expressions and variables (default 10,000 times: feelin parses
#     on every call, it has no compiled form, about 0.2 ms an evaluation).
# Prints both lines per expression, then the ratio feelin/baton.
# Usage: [BUILD_DIR=dir] bench/feel.sh [N_BATON [N_FEELIN]]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
np=${2:-10000}
build=${BUILD_DIR:-build/release}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target baton-bench-feel >/dev/null
echo "# machine: $(nproc) cores, $(uname -sr), node $(node --version)"
baton_out=$("$build"/baton-bench-feel --n "$n")
peer_out=$(node bench/peer/feelin-bench.mjs --n "$np")
echo "$baton_out"
echo "$peer_out"
echo "# ratio (feelin ns / baton ns per evaluation)"
# expr="..." holds escaped quotes: take the text between expr=" and " ns_per_eval=
awk '
  function field(line, name,   i, rest) {
    i = index(line, name "=")
    rest = substr(line, i + length(name) + 1)
    sub(/ .*/, "", rest)
    return rest
  }
  function expr(line,   i, j) {
    i = index(line, "expr=\"") + 6
    j = index(line, "\" ns_per_eval=")
    return substr(line, i, j - i)
  }
  FNR == NR { baton[expr($0)] = field($0, "ns_per_eval"); next }
  { e = expr($0); if (e in baton) printf "ratio expr=\"%s\" feelin/baton=%.0fx\n", e, field($0, "ns_per_eval") / baton[e] }
' <(echo "$baton_out") <(echo "$peer_out")
