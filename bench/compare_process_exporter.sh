#!/usr/bin/env bash
# The per-service process metrics as the host grows: our exporter's `service` collector alone
# against Debian's prometheus-process-exporter, both watching the same group (every `sleep`
# process) while 100, 1,000 and 5,000 extra processes run. Both must look at every process in
# /proc to find their group, which is the cost that grows. For each count: CPU per scrape,
# p50/p99 latency (scrape_latency, blocks taking turns), RSS, and the ratio ours / theirs, with
# process-exporter as Debian runs it (defaults: smaps and per-thread metrics on) and lean
# (-gather-smaps=false -threads=false), so the comparison is not only against its extras.
# Target (issue 18): ours <= 0.2x process-exporter's CPU per scrape. Writes
# bench/results/service-collector.md.
#
# usage: bench/compare_process_exporter.sh [BUILD_DIR] [SCRAPES] [COUNTS...]
#   defaults: build, 300 scrapes of each, counts 100 1000 5000 (each at most 10000)
# Every sleeper is this script's child, lives at most 15 minutes, and is killed on exit.
set -euo pipefail
build=${1:-build}
scrapes=${2:-300}
shift $(($# > 2 ? 2 : $#))
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(100 1000 5000)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
ours_bin="$root/$build/exporter/xmppwatch_exporter"
timer="$root/$build/bench/scrape_latency"
for f in "$ours_bin" "$timer"; do
  [ -x "$f" ] || { echo "missing $f: run 'make build' first" >&2; exit 1; }
done
command -v prometheus-process-exporter >/dev/null ||
  { echo "prometheus-process-exporter is not installed (scripts/packages/test.txt)" >&2; exit 1; }
for n in "${counts[@]}"; do
  if ! [[ $n =~ ^[0-9]+$ ]] || [ "$n" -gt 10000 ]; then echo "count '$n': 0..10000" >&2; exit 2; fi
done

tmp=$(mktemp -d)
pids=()
sleepers=()
cleanup() {
  for p in "${pids[@]}" "${sleepers[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

cat >"$tmp/pe.yml" <<'EOF'
process_names:
  - name: sleepers
    comm: [sleep]
EOF

start() {  # name port cmd...
  local name=$1 port=$2
  shift 2
  "$@" >"$tmp/$name.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 200); do
    curl -fs "http://127.0.0.1:$port/metrics" >/dev/null && kill -0 "${pids[-1]}" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "$name did not start:" >&2
  cat "$tmp/$name.log" >&2
  exit 1
}

start ours 19321 "$ours_bin" --web.listen-address=127.0.0.1:19321 --collector.disable-defaults \
  --collector.service --collector.service.names=sleepers=sleep
ours_pid=${pids[-1]}
start pe_default 19322 prometheus-process-exporter -web.listen-address=127.0.0.1:19322 -config.path="$tmp/pe.yml"
pe_pid=${pids[-1]}
start pe_lean 19323 prometheus-process-exporter -web.listen-address=127.0.0.1:19323 -config.path="$tmp/pe.yml" \
  -gather-smaps=false -threads=false
lean_pid=${pids[-1]}

value() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }

rows=()
have=0
for n in "${counts[@]}"; do
  while [ "$have" -lt "$n" ]; do
    sleep 900 &
    sleepers+=($!)
    have=$((have + 1))
  done
  procs=$(find /proc -maxdepth 1 -name '[0-9]*' | wc -l)
  # Let both exporters see the new processes once before timing.
  for port in 19321 19322 19323; do curl -fs "http://127.0.0.1:$port/metrics" >/dev/null; done
  mapfile -t t < <("$timer" "$scrapes" 50 "127.0.0.1:19321:$ours_pid" "127.0.0.1:19322:$pe_pid" "127.0.0.1:19323:$lean_pid")
  [ "${#t[@]}" = 3 ] || { echo "scrape_latency failed" >&2; exit 1; }
  ours_cpu=$(value "${t[0]}" cpu_ms_per_scrape)
  pe_cpu=$(value "${t[1]}" cpu_ms_per_scrape)
  lean_cpu=$(value "${t[2]}" cpu_ms_per_scrape)
  seen=$(curl -fs http://127.0.0.1:19321/metrics | awk '/^xmppwatch_service_processes\{.*sleepers/ {print $2; exit}')
  rows+=("| $n ($procs in /proc, ours saw ${seen:-?} sleepers) | $ours_cpu | $pe_cpu | $lean_cpu | $(awk -v a="$ours_cpu" -v b="$pe_cpu" 'BEGIN {printf "%.3f", a / b}') | $(awk -v a="$ours_cpu" -v b="$lean_cpu" 'BEGIN {printf "%.3f", a / b}') | $(value "${t[0]}" p50_ms) / $(value "${t[1]}" p50_ms) / $(value "${t[2]}" p50_ms) | $(value "${t[0]}" p99_ms) / $(value "${t[1]}" p99_ms) / $(value "${t[2]}" p99_ms) | $(value "${t[0]}" rss_mib) / $(value "${t[1]}" rss_mib) / $(value "${t[2]}" rss_mib) |")
done

mkdir -p "$here/results"
out="$here/results/service-collector.md"
{
  echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores by bench/compare_process_exporter.sh: $scrapes scrapes of each"
  echo "per count (new connection each, blocks of 50 taking turns). Ours: \`xmppwatch_exporter --collector.disable-defaults"
  echo "--collector.service --collector.service.names=sleepers=sleep\`; theirs: prometheus-process-exporter"
  echo "$(dpkg-query -W -f='${Version}' prometheus-process-exporter 2>/dev/null || echo '?') with \`comm: [sleep]\`, as Debian runs it (default) and with \`-gather-smaps=false -threads=false\` (lean)."
  echo
  echo "| extra processes | ours CPU ms/scrape | process-exporter default | process-exporter lean | ratio vs default | ratio vs lean | p50 ms (ours / default / lean) | p99 ms | RSS MiB |"
  echo "|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >"$out"
cat "$out"
