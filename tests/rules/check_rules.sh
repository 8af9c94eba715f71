#!/usr/bin/env bash
# Static checks of rules/: every rule file parses (promtool check rules, which also lints
# PromQL), and every promtool unit test under rules/tests/ passes.
# usage: tests/rules/check_rules.sh [check|test]   (default: both)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
command -v promtool >/dev/null || { echo "promtool missing (apt-get install prometheus; see scripts/packages/rules.txt)" >&2; exit 1; }
what=${1:-all}

rule_files=()
for f in rules/*.yml; do
  grep -q '^groups:' "$f" && rule_files+=("$f")
done
[ ${#rule_files[@]} -gt 0 ] || { echo "no rule files in rules/" >&2; exit 1; }

if [ "$what" = all ] || [ "$what" = check ]; then
  promtool check rules "${rule_files[@]}"
  echo "promtool check rules: ${#rule_files[@]} files OK"
fi
if [ "$what" = all ] || [ "$what" = test ]; then
  tests=(rules/tests/*_test.yml)
  promtool test rules "${tests[@]}"
  # Every rule file has its test file.
  for f in "${rule_files[@]}"; do
    base=$(basename "$f" .yml)
    [ -f "rules/tests/${base}_test.yml" ] || { echo "FAIL: $f has no rules/tests/${base}_test.yml" >&2; exit 1; }
  done
  echo "promtool test rules: ${#tests[@]} files OK"
fi
