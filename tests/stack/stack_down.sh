#!/usr/bin/env bash
# ctest fixture (FIXTURES_CLEANUP stack): `down` leaves no process behind (every recorded pid
# gone, nothing running from the run directory), and a second `down` is harmless.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
run_dir=${XMPPWATCH_RUN_DIR:-$root/run}
stack=$root/server/stack

pids=$(cat "$run_dir"/pids/*.pid 2>/dev/null || true)
t0=$(date +%s%3N)
"$stack" down
echo "down took $(( $(date +%s%3N) - t0 )) ms"

left=()
for pid in $pids; do
  # A stopped daemon may linger a moment as a zombie until its new parent reaps it.
  for _ in $(seq 1 50); do
    state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
    [ -z "$state" ] || [ "$state" = Z ] && break
    sleep 0.1
  done
  state=$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)
  if [ -n "$state" ] && [ "$state" != Z ]; then left+=("$pid($(cat "/proc/$pid/comm"))"); fi
done
for pid in $(pgrep -f -- "$run_dir/" || true); do
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null || true)
  case ${exe##*/} in
    mariadbd | beam.smp | epmd | haproxy | prometheus | prometheus-alertmanager | victoria-metrics | xmppwatch_exporter | xmpp_probe | xmppwatch_alert_relay)
      left+=("$pid(${exe##*/})") ;;
  esac
done
if [ ${#left[@]} -gt 0 ]; then
  echo "FAIL: processes left after down: ${left[*]}" >&2
  exit 1
fi
echo "no process left ($(wc -w <<<"$pids") recorded pids gone)"

"$stack" down
"$stack" status | awk 'NR > 1 && $2 == "up" {bad = 1; print "still up: " $0} END {exit bad}'
echo "second down harmless; 2 passed, 0 failed"
