#!/usr/bin/env bash
# Load mode vs tsung on the same stack, same session count, login rate and message rate.
#   bench/probe_vs_tsung.sh BUILD_DIR [SESSIONS] [MSG_RATE_PER_SESSION] [DURATION_S] [LOGIN_RATE]
# Benchmark, not a test: prints a Markdown table (copied into docs/probe.md by hand).
#
# Both tools log into ejabberd node 1 directly (127.0.0.2:5222, STARTTLS), so the load
# balancer's connection-rate limit does not decide the result. tsung 1.7 only speaks SASL
# PLAIN, which the stack disables; for the tsung run this script enables PLAIN on node 1 by
# editing the node's rendered config in the run directory and reloading it, and puts the
# original back on exit. xmpp_probe uses SCRAM-SHA-256 either way.
set -euo pipefail
build=${1:?usage: probe_vs_tsung.sh BUILD_DIR [SESSIONS] [MSG_RATE] [DURATION] [LOGIN_RATE]}
sessions=${2:-1000}
msg_rate=${3:-0.5}
duration=${4:-30}
login_rate=${5:-100}
repo=$(cd "$(dirname "$0")/.." && pwd)
run_dir=${XMPPWATCH_RUN_DIR:-$repo/run}
domain=${XMPPWATCH_DOMAIN:-xmpp.test}
probe=$build/xmpp_probe/xmpp_probe
target_ip=127.0.0.2
out=$(mktemp -d /tmp/probe-bench.XXXXXX)
[ -x "$probe" ] || { echo "no $probe (build first)" >&2; exit 1; }
if ! [[ $sessions =~ ^[0-9]+$ && $duration =~ ^[0-9]+$ ]] || [ "$sessions" -gt 20000 ] || [ "$duration" -gt 600 ]; then
  echo "bounded: sessions <= 20000, duration <= 600" >&2
  exit 1
fi

"$repo/bench/probe_accounts.sh" "$sessions" load >/dev/null
# ejabberd holds one descriptor per session and inherits the launcher's soft limit (1024 on
# this machine): past about 1000 sessions per node, raise it where the node is started.
pw=$(cat "$run_dir/secrets/xmpp-load.password")

# measure RUSAGE_FILE CMD...: runs CMD (stdout/stderr inherited) and writes its CPU
# (user+sys of it and its children), peak RSS and wall time as JSON to RUSAGE_FILE.
measure() {
  /usr/bin/python3 -c '
import json, resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.run(sys.argv[2:]).returncode
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
json.dump({"rc": rc, "cpu_s": ru.ru_utime + ru.ru_stime, "max_rss_mib": ru.ru_maxrss / 1024,
           "wall_s": time.monotonic() - t}, open(sys.argv[1], "w"))
' "$@"
}

echo "== xmpp_probe load: $sessions sessions, $login_rate logins/s, $msg_rate msg/s each, ${duration}s" >&2
measure "$out/probe.rusage" "$probe" load --target "$target_ip:5222" --stack.run-dir "$run_dir" --xmpp.domain "$domain" \
  --password-file "$run_dir/secrets/xmpp-load.password" --sessions "$sessions" --login-rate "$login_rate" \
  --message-rate "$msg_rate" --duration "$duration" --json >"$out/probe.json" || true
cat "$out/probe.json" >&2

if ! command -v tsung >/dev/null; then
  echo "tsung not installed (apt-get install tsung): skipping the comparison" >&2
  exit 0
fi

# --- enable PLAIN on node 1 for tsung, restore on exit -------------------------------------
conf=$run_dir/ejabberd1/conf/ejabberd.yml
ejctl() { ejabberdctl --config-dir "$run_dir/ejabberd1/conf" --spool "$run_dir/ejabberd1/spool" --logs "$run_dir/ejabberd1/logs" "$@"; }
cp -p "$conf" "$out/ejabberd.yml.orig"
restore() { cp -p "$out/ejabberd.yml.orig" "$conf"; ejctl reload_config >/dev/null 2>&1 || true; }
trap restore EXIT
sed -i '/^disable_sasl_mechanisms:/,/^[^ ]/{/- "PLAIN"/d}' "$conf"
if ! reload_out=$(ejctl reload_config 2>&1); then
  echo "could not enable PLAIN on node 1 for tsung: $reload_out" >&2
  exit 1
fi

for i in $(seq 1 "$sessions"); do echo "load$i;$pw"; done >"$out/users.csv"
loops=$(awk -v d="$duration" -v r="$msg_rate" 'BEGIN { n = int(d * r); print (n < 1 ? 1 : n) }')
think=$(awk -v r="$msg_rate" 'BEGIN { printf "%.3f", (r > 0 ? 1 / r : 1) }')
arrival_s=$(awk -v n="$sessions" -v r="$login_rate" 'BEGIN { printf "%d", n / r + 1 }')
cat >"$out/tsung.xml" <<XML
<?xml version="1.0"?>
<!DOCTYPE tsung SYSTEM "/usr/share/tsung/tsung-1.0.dtd">
<tsung loglevel="warning" dumptraffic="false" version="1.0">
  <clients><client host="localhost" use_controller_vm="true" maxusers="$((sessions + 10))"/></clients>
  <servers><server host="$target_ip" port="5222" type="tcp"/></servers>
  <load duration="$((arrival_s + duration + 60))" unit="second">
    <arrivalphase phase="1" duration="$arrival_s" unit="second">
      <users maxnumber="$sessions" arrivalrate="$login_rate" unit="second"/>
    </arrivalphase>
  </load>
  <options>
    <option type="ts_jabber" name="domain" value="$domain"/>
    <option type="ts_jabber" name="userid_max" value="0"/>
    <option type="ts_jabber" name="random_from_fileid" value="userdb"/>
    <option type="ts_jabber" name="offline_from_fileid" value="userdb"/>
    <option type="ts_jabber" name="fileid_delimiter" value=";"/>
    <option name="file_server" id="userdb" value="$out/users.csv"/>
  </options>
  <sessions>
    <session bidi="true" probability="100" name="chat" type="ts_jabber">
      <setdynvars sourcetype="file" fileid="userdb" delimiter=";" order="iter">
        <var name="username"/><var name="password"/>
      </setdynvars>
      <transaction name="login">
        <request subst="true"><jabber type="connect" ack="local"><xmpp_authenticate username="%%_username%%" passwd="%%_password%%"/></jabber></request>
        <request><jabber type="starttls" ack="bidi_ack"/></request>
        <request><jabber type="connect" ack="local"/></request>
        <request><jabber type="auth_sasl" ack="local"/></request>
        <request><jabber type="connect" ack="local"/></request>
        <request><jabber type="auth_sasl_bind" ack="local"/></request>
        <request><jabber type="auth_sasl_session" ack="local"/></request>
      </transaction>
      <request><jabber type="presence:initial" ack="no_ack"/></request>
      <thinktime value="$((arrival_s + 2))"/>
      <for from="1" to="$loops" var="i">
        <request><jabber type="chat" ack="no_ack" size="40" destination="online" stamped="true"/></request>
        <thinktime value="$think" random="false"/>
      </for>
      <thinktime value="5"/>
      <request><jabber type="close" ack="local"/></request>
    </session>
  </sessions>
</tsung>
XML
echo "== tsung: same parameters (PLAIN, since tsung has no SCRAM)" >&2
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
measure "$out/tsung.rusage" tsung -f "$out/tsung.xml" -l "$out/tsung-log" start >"$out/tsung.stdout" 2>&1 || true
restore
trap - EXIT
log=$(find "$out/tsung-log" -name tsung.log | head -n 1)
echo "tsung log: $log" >&2
/usr/bin/python3 - "$out" "$log" "$sessions" "$msg_rate" "$duration" "$login_rate" <<'PY'
import json, re, sys
out, log, sessions, msg_rate, duration, login_rate = sys.argv[1:]
probe = json.load(open(f"{out}/probe.json"))
prus = json.load(open(f"{out}/probe.rusage"))
trus = json.load(open(f"{out}/tsung.rusage"))
# tsung.log: cumulative "stats: NAME count mean stddev max min meanfb countfb" lines every 10 s.
# The last two fields are the running mean and count over the whole run.
stats = {}
for line in open(log):
    m = re.match(r"stats: (\S+) (\d+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) (\d+)", line)
    if m:
        cur = stats.setdefault(m.group(1), {"count": 0, "mean": float("nan"), "max": 0.0})
        cur["max"] = max(cur["max"], float(m.group(5)))
        cur["mean"], cur["count"] = float(m.group(7)), int(m.group(8))
def mean(name):
    return stats.get(name, {}).get("mean", float("nan"))
logins = stats.get("tr_login", {}).get("count", 0)
lat = stats.get("xmpp_msg_latency", {"count": 0})
print(f"| {sessions} sessions, {login_rate} logins/s, {msg_rate} msg/s each, {duration} s | xmpp_probe load | tsung 1.7 |")
print("|---|---|---|")
print(f"| logged in | {probe['logged_in']} (SCRAM-SHA-256) | {logins} (PLAIN) |")
print(f"| login latency | p50 {probe['login_p50_ms']:.1f} ms, p99 {probe['login_p99_ms']:.1f} ms | mean {mean('tr_login'):.1f} ms |")
print(f"| messages delivered | {probe['received']} ({probe['msgs_per_s']:.0f}/s steady) | {lat['count']} |")
print(f"| delivery latency | p50 {probe['delivery_p50_ms']:.1f} ms, p99 {probe['delivery_p99_ms']:.1f} ms | mean {mean('xmpp_msg_latency'):.1f} ms |")
print(f"| client CPU (total) | {prus['cpu_s']:.2f} s | {trus['cpu_s']:.2f} s |")
print(f"| client CPU per delivered message | {1000 * prus['cpu_s'] / max(1, probe['received']):.3f} ms | {1000 * trus['cpu_s'] / max(1, lat['count']):.3f} ms |")
print(f"| client peak RSS | {prus['max_rss_mib']:.0f} MiB | {trus['max_rss_mib']:.0f} MiB |")
PY
echo "raw results in $out" >&2
