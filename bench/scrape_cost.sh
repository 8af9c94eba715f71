#!/usr/bin/env bash
# The exporter's work per scrape in figures that do not move with the machine's load, for
# comparing two builds: user-space instructions (callgrind, exact) and system calls
# (strace -c), each over SCRAPES scrapes of the collector set compare_exporters.sh uses.
#
# usage: bench/scrape_cost.sh EXPORTER_BINARY [EXPORTER_BINARY...] [-- SCRAPES]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bins=()
scrapes=50
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then scrapes=${2:?SCRAPES after --}; break; fi
  bins+=("$1")
  shift
done
[ ${#bins[@]} -gt 0 ] || { echo "usage: $0 EXPORTER_BINARY [EXPORTER_BINARY...] [-- SCRAPES]" >&2; exit 2; }
for tool in valgrind callgrind_control callgrind_annotate strace curl; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (scripts/install-deps.sh installs it)" >&2; exit 1; }
done
# shellcheck source=bench/exporter_common.sh
source "$here/exporter_common.sh"

scrape() {  # port count
  for _ in $(seq "$2"); do curl -fs "http://127.0.0.1:$1/metrics" >/dev/null; done
}
wait_up() {  # port pid
  for _ in $(seq 200); do
    curl -fs "http://127.0.0.1:$1/metrics" >/dev/null && kill -0 "$2" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "exporter on port $1 did not start" >&2
  exit 1
}

port=19361
for bin in "${bins[@]}"; do
  # Instructions: instrumentation switched on after start-up and ten warm-up scrapes.
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$tmp/cg.$port" \
    "$bin" --web.listen-address="127.0.0.1:$port" "${flags[@]}" >/dev/null 2>"$tmp/vg.$port" &
  pid=$!
  pids+=("$pid")
  wait_up "$port" "$pid"
  scrape "$port" 10
  callgrind_control -i on "$pid" >/dev/null 2>&1
  scrape "$port" "$scrapes"
  callgrind_control -i off "$pid" >/dev/null 2>&1
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  instructions=$(callgrind_annotate "$tmp/cg.$port" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
  port=$((port + 1))

  # System calls: every thread, counted by strace while the scrapes run.
  "$bin" --web.listen-address="127.0.0.1:$port" "${flags[@]}" >/dev/null 2>&1 &
  pid=$!
  pids+=("$pid")
  wait_up "$port" "$pid"
  scrape "$port" 10
  strace -f -c -p "$pid" -o "$tmp/st.$port" 2>/dev/null &
  tracer=$!
  sleep 1
  scrape "$port" "$scrapes"
  sleep 0.5
  kill -INT "$tracer"
  wait "$tracer" 2>/dev/null || true
  kill "$pid"
  calls=$(awk '$NF == "total" {print $(NF-2)}' "$tmp/st.$port")
  port=$((port + 1))

  echo "$bin: user_instructions_per_scrape=$((instructions / scrapes)) syscalls_per_scrape=$((calls / scrapes))"
done
