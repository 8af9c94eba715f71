#!/usr/bin/env bash
# server/stack validate's command line without a stack: it lists the twelve scenarios of the
# fault matrix by their JSON names, and refuses an unknown one by name with exit 2.
set -euo pipefail
stack=$(cd "$(dirname "$0")/../.." && pwd)/server/stack
fail() { echo "FAIL: $*" >&2; exit 1; }

list=$("$stack" validate --list)
for name in ejabberd-crash ejabberd-hang db-stop replication lb-affinity lb-restart messaging offline \
            carbons backup-restore partition disk-full; do
  grep -q "^$name " <<<"$list" || fail "--list does not name $name"
done
[ "$(wc -l <<<"$list")" -eq 12 ] || fail "--list shows $(wc -l <<<"$list") scenarios, expected 12"

set +e
out=$("$stack" validate --scenario no-such-thing 2>&1)
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "an unknown scenario exited $rc, expected 2"
grep -q "no-such-thing" <<<"$out" || fail "the error does not name the unknown scenario: $out"

out=$("$stack" fault sideways on 2>&1) && fail "fault with an unknown name succeeded"
grep -q "usage: server/stack fault" <<<"$out" || fail "fault's usage error is not shown: $out"
echo "PASS validate command line"
