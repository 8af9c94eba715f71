#!/usr/bin/env bash
# Side by side, in one run: our exporter and Debian's prometheus-node-exporter serving the
# same collectors on loopback. For each: p50/p99 latency over scrapes in turns, CPU per
# scrape, requests/s under wrk -c8, RSS, series. Writes bench/results/exporters.md.
#
# usage: bench/compare_exporters.sh [BUILD_DIR] [SCRAPES] [WRK_SECONDS]
set -euo pipefail
build=${1:-build}
scrapes=${2:-1000}
wrk_secs=${3:-10}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
ours_bin="$root/$build/exporter/xmppwatch_exporter"
timer="$root/$build/bench/scrape_latency"
for f in "$ours_bin" "$timer"; do
  [ -x "$f" ] || { echo "missing $f: run 'make build' first" >&2; exit 1; }
done
command -v prometheus-node-exporter >/dev/null || { echo "prometheus-node-exporter is not installed" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed" >&2; exit 1; }

# shellcheck source=bench/exporter_common.sh
source "$here/exporter_common.sh"

start() {  # name port cmd...
  local name=$1 port=$2
  shift 2
  "$@" --web.listen-address="127.0.0.1:$port" "${flags[@]}" >"$tmp/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    # Answered by the process just started, not by a leftover holding the port.
    curl -fs "http://127.0.0.1:$port/metrics" >/dev/null && kill -0 "${pids[-1]}" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "$name did not start:" >&2
  cat "$tmp/$name.log" >&2
  exit 1
}

start ours 19311 "$ours_bin"
ours_pid=${pids[-1]}
start node_exporter 19312 prometheus-node-exporter
ne_pid=${pids[-1]}

# Latency and CPU: both exporters in one timer, in alternating blocks of 100 scrapes (see
# scrape_latency.cpp), so a slow minute of this VM lands on both. Then wrk, one at a time.
block=100
mapfile -t timed < <("$timer" "$scrapes" "$block" "127.0.0.1:19311:$ours_pid" "127.0.0.1:19312:$ne_pid")
[ "${#timed[@]}" = 2 ] || { echo "scrape_latency failed" >&2; exit 1; }

load() {  # name port pid timed-line
  local name=$1 port=$2 pid=$3 line=$4 rps rss_after
  rps=$(wrk -c8 -t2 -d"${wrk_secs}s" "http://127.0.0.1:$port/metrics" | awk '/Requests\/sec/ {print $2}')
  # RSS after the load, too: the higher of the two is what the host pays.
  rss_after=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$pid/status")
  echo "$name $line rps=$rps rss_after_load_mib=$rss_after"
}

{
  load xmppwatch_exporter 19311 "$ours_pid" "${timed[0]}"
  load node_exporter 19312 "$ne_pid" "${timed[1]}"
} >"$tmp/raw.txt"

mkdir -p "$here/results"
out="$here/results/exporters${XMPPWATCH_BENCH_COLLECTORS:+-custom}.md"
{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $scrapes scrapes of each (new connection each, blocks of $block taking turns),"
  echo "wrk -c8 -t2 for ${wrk_secs}s; collectors: ${collectors[*]}; node_exporter $(prometheus-node-exporter --version 2>&1 | awk 'NR==1 {print $3}')."
  echo
  echo "| exporter | p50 ms | p99 ms | CPU ms/scrape | req/s (wrk -c8) | RSS MiB (idle / after load) | series |"
  echo "|---|---|---|---|---|---|---|"
  while read -r name rest; do
    declare -A v=()
    for kv in $rest; do v[${kv%%=*}]=${kv#*=}; done
    echo "| $name | ${v[p50_ms]} | ${v[p99_ms]} | ${v[cpu_ms_per_scrape]} | ${v[rps]} | ${v[rss_mib]} / ${v[rss_after_load_mib]} | ${v[series]} |"
  done <"$tmp/raw.txt"
} >"$out"
cat "$out"
