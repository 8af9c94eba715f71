#!/usr/bin/env bash
# xmpp_probe against the real stack (server/stack, ctest fixture "stack").
#   tests/probe/integration.sh PROBE_BIN CASE     CASE: modules | builtin | features | auth | cert | drill
# Leaves the stack as it found it: the drill restarts the node it kills.
set -euo pipefail
probe=${1:?usage: integration.sh PROBE_BIN CASE}
case_name=${2:?usage: integration.sh PROBE_BIN CASE}
repo=$(cd "$(dirname "$0")/../.." && pwd)
run_dir=${XMPPWATCH_RUN_DIR:-$repo/run}
domain=${XMPPWATCH_DOMAIN:-xmpp.test}
ca=$run_dir/tls/$domain.crt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

[ -r "$ca" ] || fail "no CA certificate at $ca (is the stack up?)"
[ -r "$run_dir/secrets/xmpp-probe1.password" ] || fail "no probe1 account in $run_dir/secrets"

# Expects `check` to exit with $1 and print $2 (a fixed string).
expect_check() {
  local want_rc=$1 want_text=$2 out rc
  shift 2
  set +e
  out=$("$probe" check --stack.run-dir "$run_dir" --xmpp.domain "$domain" "$@" 2>&1)
  rc=$?
  set -e
  echo "$out"
  [ "$rc" -eq "$want_rc" ] || fail "check $* exited $rc, want $want_rc"
  grep -qF -- "$want_text" <<<"$out" || fail "check $* did not say '$want_text'"
}

case $case_name in
  modules)
    for m in c2s c2s_tls login message offline mam; do
      expect_check 0 "XMPP OK - $m to" --module "$m"
    done
    # Straight at each node, not only through the load balancer.
    expect_check 0 "XMPP OK - login to 127.0.0.2:5222" --module login --target 127.0.0.2:5222
    expect_check 0 "XMPP OK - login to 127.0.0.3:5222" --module login --target 127.0.0.3:5222
    ;;
  builtin)
    # Every one-shot module of the built-in configuration passes `check` with no other flag
    # than the stack's run directory and domain: read from `xmpp_probe config`, so a module
    # added later is covered without touching this list. Continuous probers (failover, e2e;
    # the drills) are what `check` itself refuses with "is continuous"; anything else that is
    # not OK fails the test.
    mapfile -t modules < <("$probe" config --stack.run-dir "$run_dir" --xmpp.domain "$domain" |
      sed -n 's/^  \([A-Za-z0-9_-]*\):$/\1/p')
    [ "${#modules[@]}" -ge 10 ] || fail "only ${#modules[@]} modules in the built-in configuration: ${modules[*]}"
    checked=0
    for m in "${modules[@]}"; do
      set +e
      out=$("$probe" check --stack.run-dir "$run_dir" --xmpp.domain "$domain" --module "$m" 2>&1)
      rc=$?
      set -e
      echo "$m: $out"
      if [ "$rc" -eq 3 ] && grep -qF "is continuous" <<<"$out"; then continue; fi
      [ "$rc" -eq 0 ] || fail "check --module $m exited $rc"
      grep -qF "XMPP OK - $m to" <<<"$out" || fail "check --module $m did not say OK"
      checked=$((checked + 1))
    done
    for m in c2s c2s_tls login message offline mam muc upload push carbons; do
      grep -qxF "$m" < <(printf '%s\n' "${modules[@]}") || fail "module $m missing from the built-in configuration"
    done
    echo "$checked one-shot modules OK"
    ;;
  features)
    # Failing paths of the feature modules against the real servers: a MUC service that is
    # not one (the upload component), and upload URLs resolved to the other node, which does
    # not know the slot (each node keeps its own files).
    pw=$run_dir/secrets/xmpp
    cat >"$tmp/probe.yml" <<YAML
modules:
  muc_wrong_service:
    prober: muc
    target: 127.0.0.2:5222
    timeout: 10s
    xmpp: {domain: $domain, ca_file: $ca}
    account: {user: probe1, password_file: $pw-probe1.password}
    peer: {user: probe2, password_file: $pw-probe2.password}
    muc: {service: upload.$domain}
  upload_wrong_node:
    prober: upload
    target: 127.0.0.2:5222
    timeout: 10s
    xmpp: {domain: $domain, ca_file: $ca}
    account: {user: probe3, password_file: $pw-probe3.password}
    upload: {resolve: {ejabberd1.$domain: 127.0.0.3}}
YAML
    expect_check 2 "CRITICAL - feature_missing" --config.file "$tmp/probe.yml" --module muc_wrong_service
    expect_check 2 "CRITICAL - upload_failed" --config.file "$tmp/probe.yml" --module upload_wrong_node
    ;;
  auth)
    printf 'definitely-not-the-password\n' >"$tmp/wrong.password"
    # A source address of its own keeps ejabberd's auth-failure ban (mod_fail2ban) away from
    # every other client, which reach the nodes from 127.0.0.1.
    cat >"$tmp/probe.yml" <<YAML
modules:
  wrong_password:
    prober: login
    timeout: 10s
    xmpp: {domain: $domain, ca_file: $ca, source_address: 127.0.0.9}
    account: {user: probe1, password_file: $tmp/wrong.password}
YAML
    out=$(expect_check 2 "CRITICAL - auth_failed" --config.file "$tmp/probe.yml" --module wrong_password --target 127.0.0.2:5222)
    echo "$out"
    ! grep -q 'definitely-not-the-password' <<<"$out" || fail "the password appeared in the output"
    ;;
  cert)
    cat >"$tmp/probe.yml" <<YAML
modules:
  wrong_name:
    prober: c2s
    xmpp: {domain: wrong.example, tls: direct, ca_file: $ca}
  untrusted:
    prober: c2s
    xmpp: {domain: $domain, tls: direct}
  insecure:
    prober: c2s
    xmpp: {domain: $domain, tls: direct, insecure_skip_verify: true}
YAML
    expect_check 2 "CRITICAL - cert_verify_failed" --config.file "$tmp/probe.yml" --module wrong_name --target 127.0.0.2:5223
    expect_check 2 "CRITICAL - cert_verify_failed" --config.file "$tmp/probe.yml" --module untrusted --target 127.0.0.2:5223
    expect_check 0 "XMPP OK" --config.file "$tmp/probe.yml" --module insecure --target 127.0.0.2:5223
    ;;
  drill)
    set +e
    report=$("$probe" drill --stack.run-dir "$run_dir" --xmpp.domain "$domain" --stack "$repo/server/stack" --json)
    rc=$?
    set -e
    # Whatever happened, the primary must be back for the tests after this one.
    "$repo/server/stack" start ej1 >/dev/null 2>&1 || true
    echo "$report"
    [ "$rc" -eq 0 ] || fail "drill exited $rc"
    python3 - "$report" <<'PY'
import json, sys
r = json.loads(sys.argv[1])
assert r["kill_rc"] == 0, r
assert r["recovered"], "service did not come back"
assert 0 < r["outage_seconds"] < 15, f"outage {r['outage_seconds']} s out of bounds"
assert r["outages"] >= 1, "no session noticed the kill"
assert r["lost"] == 0, f"{r['lost']} acknowledged messages lost"
assert r["received"] > 0 and r["acked"] > 0, r
print(f"drill OK: outage {r['outage_seconds']} s, detection {r['detection_seconds']} s, "
      f"{r['received']}/{r['sent']} received, lost {r['lost']}, duplicated {r['duplicated']}")
PY
    ;;
  *) fail "unknown case $case_name" ;;
esac
echo "PASS: $case_name"
