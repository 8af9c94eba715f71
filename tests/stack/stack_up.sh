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

before=$(cat "$run_dir"/pids/*.pid | sort)
"$stack" up >/dev/null 2>&1
t2=$(date +%s%3N)
after=$(cat "$run_dir"/pids/*.pid | sort)
if [ "$before" != "$after" ]; then
  echo "second up restarted something: pids before: $before after: $after" >&2
  exit 1
fi
echo "second up (nothing to do) took $(( t2 - t1 )) ms, same pids"
"$stack" status
