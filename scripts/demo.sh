#!/usr/bin/env bash
# `make demo`: bring the HA chat stack up (with the exporters and probe of BUILD_DIR when
# built), show it working through a node failure, and leave it running.
# usage: scripts/demo.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac
export XMPPWATCH_BUILD_DIR=$build
stack=$root/server/stack

echo "== starting the stack (server/stack up)"
t0=$(date +%s%3N)
"$stack" up
t1=$(date +%s%3N)
echo "stack up in $(( (t1 - t0) / 1000 )).$(printf '%03d' $(( (t1 - t0) % 1000 ))) s"

echo
echo "== the stack at work: logins, messages across nodes, node 1 killed and brought back"
/usr/bin/python3 "$root/server/tools/demo.py"

probe=$build/xmpp_probe/xmpp_probe
if [ -x "$probe" ]; then
  echo
  echo "== failover drill (xmpp_probe drill): two sessions send a numbered message and a ping every"
  echo "   100 ms through HAProxy while node 1 is killed and restarted"
  "$probe" drill --stack "$stack" --stack.run-dir "${XMPPWATCH_RUN_DIR:-$root/run}"
fi

echo
echo "== status"
"$stack" status

echo
echo "== what xmppwatch_exporter on xmpp1 (127.0.0.2) reports, a few of its series"
if curl -fsS --max-time 5 http://127.0.0.2:9100/metrics >"${TMPDIR:-/tmp}/xmppwatch-demo-scrape.txt" 2>/dev/null; then
  grep -E '^(ejabberd_up|ejabberd_connected_sessions|ejabberd_cluster_member_up|ejabberd_user_stanzas_sent_total|mysql_up|mysql_slave_status_slave_(io|sql)_running|xmppwatch_replication_heartbeat_lag_seconds|xmppwatch_service_(up|resident_memory_bytes)|node_load1 |node_memory_MemAvailable_bytes)' \
    "${TMPDIR:-/tmp}/xmppwatch-demo-scrape.txt" || true
  echo "($(grep -vc '^#' "${TMPDIR:-/tmp}/xmppwatch-demo-scrape.txt") series in all)"
  rm -f "${TMPDIR:-/tmp}/xmppwatch-demo-scrape.txt"
else
  echo "(exporter not running: build it with make build)"
fi

proxy=127.0.0.1
cat <<EOT

Look at:
  Prometheus        http://$proxy:9090   (targets: http://$proxy:9090/targets, alerts: /alerts)
  Alertmanager      http://$proxy:9093
  HAProxy metrics   http://$proxy:8404/metrics   stats page http://$proxy:8404/stats
  exporters         http://127.0.0.1:9100/metrics  http://127.0.0.2:9100/metrics  http://127.0.0.3:9100/metrics
  xmpp_probe        http://$proxy:9815/metrics
  ejabberd API      http://127.0.0.2:5280/api/status  (POST, loopback only)
  XMPP              $proxy:5222 (STARTTLS required), domain xmpp.test, CA ${XMPPWATCH_RUN_DIR:-$root/run}/tls/xmpp.test.crt
                    accounts and passwords: ${XMPPWATCH_RUN_DIR:-$root/run}/secrets/xmpp-*.password

The stack is still running. Try: server/stack status | kill ej1 | start ej1 | logs haproxy
Stop it with: make down   (or server/stack down)
EOT
