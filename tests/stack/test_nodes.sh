#!/usr/bin/env bash
# server/stack up --nodes N (issue 18): a cluster of 3, then grown to 4, in a run directory of
# its own, after the shared stack is down (ctest: DEPENDS stack_down; the ports are the same).
# Checked on the real daemons: every node up and in the cluster, HAProxy and Prometheus follow
# (backends, exporter and per-node probe of the new hosts), a user on node 3 exchanges messages
# with one on node 1 both ways (receipts), the size is remembered, and bad sizes are refused.
# Everything it starts is stopped (server/stack down, by recorded pid) and its run directory
# removed, also when it fails or is interrupted.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=${XMPPWATCH_BUILD_DIR:-$repo/build}
export XMPPWATCH_BUILD_DIR=$build
export XMPPWATCH_RUN_DIR=$build/run-nodes
run=$XMPPWATCH_RUN_DIR
stack=$repo/server/stack
probe=$build/xmpp_probe/xmpp_probe
[ -x "$probe" ] || { echo "FAIL: $probe not built" >&2; exit 1; }
tmp=$(mktemp -d)
cleanup() {
  "$stack" down >"$tmp/down.log" 2>&1 || cat "$tmp/down.log" >&2
  rm -rf "$run" "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() { echo "FAIL: $*" >&2; exit 1; }
say() { echo "$(date +%H:%M:%S) $*"; }

up() {  # args...
  local t0=$SECONDS
  "$stack" up "$@" >"$tmp/up.log" 2>&1 || { tail -n 40 "$tmp/up.log" >&2; fail "server/stack up $*"; }
  say "up${*:+ $*} in $((SECONDS - t0)) s"
}

status_row() { "$stack" status | awk -v c="$1" '$1 == c'; }

# Every node 1..N up, in node 1's cluster view and UP in HAProxy; no node N+1.
check_cluster() {
  local n=$1 i ip row cluster backends
  cluster=$(status_row ejabberd1)
  backends=$(status_row haproxy)
  for ((i = 1; i <= n; i++)); do
    case $i in 1) ip=127.0.0.2 ;; 2) ip=127.0.0.3 ;; *) ip=127.0.0.$((i + 2)) ;; esac
    row=$(status_row "ejabberd$i")
    [[ $row == *" up "* && $row == *"$ip:5222"* ]] || fail "ejabberd$i not up on $ip: $row"
    [[ $cluster == *"ej$i@$ip"* ]] || fail "ej$i@$ip missing from node 1's cluster: $cluster"
    [[ $backends == *"ej$i=UP"* ]] || fail "HAProxy does not see ej$i UP: $backends"
  done
  [ -z "$(status_row "ejabberd$((n + 1))")" ] || fail "a node $((n + 1)) exists"
  say "cluster of $n: ${cluster##*cluster: }; HAProxy: ${backends##*backends: }"
}

# A message with a receipt request from a user logged in on node A to one on node B.
exchange() {  # from_ip to_ip
  cat >"$tmp/across.yml" <<EOF
modules:
  across:
    prober: message
    target: $1:5222
    timeout: 10s
    xmpp: {domain: xmpp.test, ca_file: $run/tls/xmpp.test.crt}
    account: {user: alice, password_file: $run/secrets/xmpp-alice.password, target: $1:5222}
    peer: {user: bob, password_file: $run/secrets/xmpp-bob.password, target: $2:5222}
EOF
  local out
  out=$("$probe" check --config.file "$tmp/across.yml" --module across 2>&1) || fail "$1 -> $2: $out"
  grep -qF "XMPP OK - across" <<<"$out" || fail "$1 -> $2: $out"
  say "message with receipt $1 -> $2: ${out%% |*}"
}

# Prometheus scrapes the new host's exporter and probes its login (up to 60 s: 15 s scrapes).
check_prometheus() {  # node_ip node_name
  local q="up{instance=\"$1:9100\"} == 1 or probe_success{job=\"xmpp_probe_nodes\",node=\"$2\"} == 1" i n
  for i in $(seq 60); do
    n=$(curl -fsS --max-time 5 http://127.0.0.1:9090/api/v1/query --data-urlencode "query=$q" |
      python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["result"]))')
    if [ "$n" = 2 ]; then say "Prometheus: exporter $1:9100 up, node_login on $2 succeeds"; return 0; fi
    sleep 1
  done
  fail "Prometheus has no up=1 for $1:9100 and probe_success=1 for $2 after 60 s"
}

for port in 127.0.0.2:5222 127.0.0.1:9090; do
  if (exec 3<>"/dev/tcp/${port%:*}/${port#*:}") 2>/dev/null; then
    fail "$port is in use: another stack is running (server/stack down first)"
  fi
done

up --fresh --nodes 3
check_cluster 3
exchange 127.0.0.5 127.0.0.2
exchange 127.0.0.2 127.0.0.5
check_prometheus 127.0.0.5 xmpp3

# The size is remembered: a plain `up` keeps 3; growing needs the stack down; shrinking and
# sizes out of range are refused with the reason.
up
check_cluster 3
if out=$("$stack" up --nodes 4 2>&1); then fail "up --nodes 4 on a running 3-node stack was accepted"; fi
grep -qF "down first" <<<"$out" || fail "growing a running stack: unexpected message: $out"
"$stack" down >"$tmp/down.log" 2>&1 || { cat "$tmp/down.log" >&2; fail "down"; }
up --nodes 4
check_cluster 4
exchange 127.0.0.6 127.0.0.5
check_prometheus 127.0.0.6 xmpp4
# A crashed extra node comes back alone (its exporter's ports are not its own).
"$stack" kill ej3 >/dev/null 2>&1 || fail "kill ej3"
"$stack" start ej3 >"$tmp/start.log" 2>&1 || { cat "$tmp/start.log" >&2; fail "start ej3 after a kill"; }
check_cluster 4
if out=$("$stack" start ej5 2>&1); then fail "start ej5 on a 4-node stack was accepted"; fi
for bad in "2|start from nothing" "1|must be 2 to 5" "6|must be 2 to 5" "x|must be 2 to 5"; do
  if out=$("$stack" up --nodes "${bad%%|*}" 2>&1); then fail "up --nodes ${bad%%|*} was accepted"; fi
  grep -qF "${bad#*|}" <<<"$out" || fail "up --nodes ${bad%%|*}: refused for another reason: $out"
  say "up --nodes ${bad%%|*} refused: ${out##*stack: }"
done
[ "$(cat "$run/state/nodes")" = 4 ] || fail "state/nodes changed by refused sizes: $(cat "$run/state/nodes")"
echo "PASS: 3 nodes, grown to 4"
