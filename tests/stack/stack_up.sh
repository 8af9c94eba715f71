#!/usr/bin/env bash
# ctest fixture (FIXTURES_SETUP stack): the whole stack from nothing (`up --fresh` wipes the
# run directory), timed; then a second `up` must change nothing (idempotence).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
run_dir=${XMPPWATCH_RUN_DIR:-$root/run}
stack=$root/server/stack

t0=$(date +%s%3N)
"$stack" up --fresh
t1=$(date +%s%3N)
echo "STACK_UP_FROM_NOTHING_SECONDS=$(( (t1 - t0) / 1000 )).$(printf '%03d' $(( (t1 - t0) % 1000 )))"

pids() { for f in "$run_dir"/pids/*.pid; do printf '%s=%s\n' "$(basename "$f" .pid)" "$(cat "$f" 2>/dev/null)"; done; }
before=$(pids)
"$stack" up >/dev/null 2>&1
t2=$(date +%s%3N)
after=$(pids)
# Idempotence: nothing that ran was restarted. (A component that was missing may be started.)
changed=$(comm -23 <(sort <<<"$before") <(sort <<<"$after") | tr '\n' ' ')
if [ -n "$changed" ]; then
  echo "second up restarted: $changed(after: $(tr '\n' ' ' <<<"$after"))" >&2
  exit 1
fi
added=$(comm -13 <(sort <<<"$before") <(sort <<<"$after") | tr '\n' ' ')
echo "second up (nothing to do) took $(( t2 - t1 )) ms, same pids${added:+; started what was missing: $added}"
"$stack" status
