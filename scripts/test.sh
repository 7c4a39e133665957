#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds baton twice (a
# release build and an AddressSanitizer + UBSan build), and runs every test
# under CTest in both. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

jobs=$(nproc)
run_suite() { # name, cmake options...
  local dir=build/$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j"$jobs"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" --timeout 600
}

echo "== release build"
run_suite release -DBATON_SANITIZE=OFF
echo "== ASan + UBSan build"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  run_suite asan -DBATON_SANITIZE=ON
