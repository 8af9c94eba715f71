# Sourced by the exporter benchmarks: the collector set both exporters serve, as flags, and a
# temporary directory with the processes started into `pids`, all gone on exit.
# shellcheck shell=bash

# node_exporter's default collectors that we also have (processes and interrupts are off by
# default in both). XMPPWATCH_BENCH_COLLECTORS="cpu meminfo ..." measures another set.
default_set="arp conntrack cpu cpufreq diskstats edac entropy filefd filesystem hwmon loadavg mdadm meminfo
  netclass netdev netstat os pressure schedstat selinux sockstat softnet stat textfile thermal_zone time timex
  udp_queues uname vmstat"
read -r -d '' -a collectors <<<"${XMPPWATCH_BENCH_COLLECTORS:-$default_set}" || true
flags=(--collector.disable-defaults)
for c in "${collectors[@]}"; do flags+=("--collector.$c"); done

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
