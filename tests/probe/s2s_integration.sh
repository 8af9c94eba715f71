#!/usr/bin/env bash
# The s2s module against the real stack (fixture "stack"): xmpp.test (the cluster, through
# the load balancer) federated with peer.test (server/lib/peer.sh).
#   tests/probe/s2s_integration.sh PROBE_BIN
# 1. `check --module s2s` with the built-in configuration and no other flag: OK;
# 2. the peer killed: a named outcome (connect_refused) long before the module's 10 s timeout;
# 3. the peer started again: OK again (ejabberd retries a failed s2s domain after at most
#    s2s_max_retry_delay, 10 s). The peer is restarted on every exit path.
set -euo pipefail
probe=${1:?usage: s2s_integration.sh PROBE_BIN}
repo=$(cd "$(dirname "$0")/../.." && pwd)
run_dir=${XMPPWATCH_RUN_DIR:-$repo/run}
stack=$repo/server/stack
fail() { echo "FAIL: $*" >&2; exit 1; }
now_ms() { date +%s%3N; }

check() { "$probe" check --stack.run-dir "$run_dir" --module s2s "$@" 2>&1; }

[ -r "$run_dir/tls/peer.test.crt" ] || fail "no peer.test certificate in $run_dir/tls (is the stack up?)"

out=$(check -v) || fail "check --module s2s failed against the stack: $out"
echo "$out" | head -1
grep -qF 'XMPP OK - s2s to 127.0.0.4:5269' <<<"$out" || fail "unexpected output: $out"
grep -qE '^probe_s2s_auth_offered\{method="sasl_external"\} 1' <<<"$out" ||
  fail "the peer did not offer SASL EXTERNAL: $out"
grep -qE '^probe_s2s_tls 1' <<<"$out" || fail "no verified TLS on the s2s stream: $out"

# shellcheck disable=SC2317 # called by the EXIT trap
restart_peer() { "$stack" start peer >/dev/null 2>&1 || true; }
trap restart_peer EXIT
"$stack" kill peer
t0=$(now_ms)
set +e
out=$(check)
rc=$?
set -e
took=$(($(now_ms) - t0))
echo "$out (exit $rc, ${took} ms)"
[ "$rc" -eq 2 ] || fail "with the peer down: exit $rc, want 2 (CRITICAL)"
grep -qF 'CRITICAL - connect_refused' <<<"$out" || fail "with the peer down: not connect_refused: $out"
# Well within the 10 s timeout: a refused connection is known at once, not waited for.
[ "$took" -lt 5000 ] || fail "with the peer down the check took ${took} ms"

"$stack" start peer
trap - EXIT
# Bounded: 15 attempts, one a second (the cluster may still be in its s2s retry delay).
for i in $(seq 1 15); do
  if out=$(check); then
    echo "$out (after the restart, attempt $i)"
    exit 0
  fi
  echo "attempt $i: $out"
  sleep 1
done
fail "check --module s2s still failing 15 s after the peer came back: $out"
