#!/usr/bin/env bash
# The C++ sources follow the root .clang-format and pass the root .clang-tidy.
#   tests/lint_cpp.sh format            every tracked .cpp/.h is formatted (clang-format --dry-run)
#   tests/lint_cpp.sh tidy BUILD_DIR    the daemons' and libraries' sources pass clang-tidy, using
#                                       BUILD_DIR/compile_commands.json; any warning fails
# Tests and benchmarks are formatted but not tidied: tidy is there to catch bugs in what ships.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: lint_cpp.sh format | tidy BUILD_DIR}

case "$mode" in
  format)
    mapfile -t files < <(git ls-files '*.cpp' '*.h')
    echo "clang-format: ${#files[@]} files"
    clang-format --dry-run --Werror "${files[@]}"
    ;;
  tidy)
    build=${2:?usage: lint_cpp.sh tidy BUILD_DIR}
    [ -f "$build/compile_commands.json" ] || { echo "no $build/compile_commands.json (configure first)"; exit 1; }
    mapfile -t files < <(git ls-files 'common/*.cpp' 'exporter/*.cpp' 'xmpp/*.cpp' 'xmpp_probe/*.cpp' 'alert_relay/*.cpp' |
      grep -v '/fuzz/')
    echo "clang-tidy: ${#files[@]} files"
    log=$(mktemp)
    trap 'rm -f "$log"' EXIT
    # run-clang-tidy prints every file's diagnostics (its Debian 14 version has no
    # -warnings-as-errors): any warning or error line fails the test.
    run-clang-tidy -p "$build" -quiet -j "$(nproc)" "${files[@]/#/$PWD/}" >"$log" 2>&1 || true
    if grep -qE '(warning|error): ' "$log"; then
      grep -E '(warning|error): ' "$log" | sort -u | head -n 60
      echo "clang-tidy: failed (run it on one file with: clang-tidy -p $build FILE)"
      exit 1
    fi
    echo "clang-tidy: clean"
    ;;
  *) echo "unknown mode '$mode' (format | tidy BUILD_DIR)"; exit 2 ;;
esac
