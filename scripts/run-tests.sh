#!/usr/bin/env bash
# Every test, in the order that fails fastest:
#   1. the compiled unit suites (label "native") again under AddressSanitizer +
#      UndefinedBehaviorSanitizer, in their own build dir that builds only what they run,
#   2. the whole suite from the normal build: unit tests in parallel, then integration suites
#      against real daemons, serially; the "stack" ctest fixture starts the chat stack once
#      for every integration test that needs it and stops it (by pid) at the end.
# usage: scripts/run-tests.sh [BUILD_DIR]   (XMPPWATCH_SKIP_SANITIZE=1 skips stage 1)
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ "${XMPPWATCH_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== unit tests under ASan+UBSan (build-asan/)"
  cmake -S . -B build-asan -DXMPPWATCH_SANITIZE=ON -DXMPPWATCH_BENCHMARKS=OFF >/dev/null
  cmake --build build-asan --target unit_test_programs -j "$(nproc)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan -L native --output-on-failure -j "$(nproc)"
fi

echo "== all tests ($build/)"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)"
