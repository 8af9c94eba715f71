#!/usr/bin/env bash
# Every shell script in the repository passes shellcheck.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t scripts < <(git ls-files | while read -r f; do
  case "$f" in
    *.sh) echo "$f" ;;
    *) if [ -f "$f" ] && head -c 64 "$f" | grep -qE '^#!.*\b(ba)?sh\b'; then echo "$f"; fi ;;
  esac
done)
echo "shellcheck: ${#scripts[@]} scripts"
shellcheck -x "${scripts[@]}"
