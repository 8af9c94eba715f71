# shellcheck shell=bash disable=SC2034
# Shared definitions for server/stack: paths, the component table, pid bookkeeping,
# bounded waits. Sourced, never executed.

REPO_DIR=$(cd "$SERVER_DIR/.." && pwd)
RUN_DIR=${XMPPWATCH_RUN_DIR:-$REPO_DIR/run}
BUILD_DIR=${XMPPWATCH_BUILD_DIR:-$REPO_DIR/build}
TEMPLATE_DIR=${XMPPWATCH_TEMPLATE_DIR:-$SERVER_DIR/templates}
RULES_DIR=${XMPPWATCH_RULES_DIR:-$REPO_DIR/rules}
BACKUP_DIR=${XMPPWATCH_BACKUP_DIR:-$RUN_DIR/backups}
# The exporter's --collector.textfile.directory on chat host 1, where the admin tasks run.
TEXTFILE_DIR=${XMPPWATCH_TEXTFILE_DIR:-$RUN_DIR/textfile}
DOMAIN=${XMPPWATCH_DOMAIN:-xmpp.test}

PROXY_IP=127.0.0.1
XMPP1_IP=127.0.0.2
XMPP2_IP=127.0.0.3
# Nodes of the ejabberd cluster: the seed's pair, or up to 5 with `up --nodes N` (recorded in
# state/nodes, so every later command knows them). Nodes 3 to 5 are chat hosts without a
# database of their own, on 127.0.0.5-7 (127.0.0.4 is the federated peer, lib/peer.sh).
MAX_NODES=5
NODES_FILE=$RUN_DIR/state/nodes
NODES=2
if [ -r "$NODES_FILE" ]; then
  NODES=$(tr -dc '0-9' <"$NODES_FILE")
  [[ $NODES =~ ^[2-5]$ ]] || NODES=2
fi

SECRETS_DIR=$RUN_DIR/secrets
PID_DIR=$RUN_DIR/pids
TLS_DIR=$RUN_DIR/tls

EXPORTER_BIN=${XMPPWATCH_EXPORTER_BIN:-$BUILD_DIR/exporter/xmppwatch_exporter}
PROBE_BIN=${XMPPWATCH_PROBE_BIN:-$BUILD_DIR/xmpp_probe/xmpp_probe}
RELAY_BIN=${XMPPWATCH_RELAY_BIN:-$BUILD_DIR/alert_relay/xmppwatch_alert_relay}

# Who runs what. Nothing the stack starts keeps root: ejabberd, MariaDB, HAProxy, Prometheus and
# Alertmanager run as the users their Debian packages create; epmd as Debian's `epmd`; our own
# daemons (exporters, probe, alert relay) as a system user the launcher creates if missing.
SERVICE_USER=xmppwatch
PROMETHEUS_USER=prometheus
VICTORIA_USER=_victoria-metrics
HAPROXY_USER=haproxy
EPMD_USER=epmd

# How long `up`/`start` waits for one component to become healthy before failing it.
START_TIMEOUT=${XMPPWATCH_START_TIMEOUT:-60}

# Components in start order; `down` walks it backwards. ejabberd2 stops before ejabberd1 so
# node 1 is the last Mnesia node down and can start first next time without waiting for 2.
# Nodes past the second add ejabberdN and its host's exporter (exporter N+1).
set_components() {
  local n extra_ej=() extra_exp=()
  for ((n = 3; n <= NODES; n++)); do
    extra_ej+=("ejabberd$n")
    extra_exp+=("exporter$((n + 1))")
  done
  COMPONENTS=(epmd mariadb1 mariadb2 ejabberd1 ejabberd2 "${extra_ej[@]}" peer haproxy alertmanager victoria
              prometheus exporter1 exporter2 exporter3 "${extra_exp[@]}" probe relay)
}
set_components

# Every ejabberd component of the cluster, node 1 first.
ej_components() {
  local n
  for ((n = 1; n <= NODES; n++)); do echo "ejabberd$n"; done
}

# Never let an operator's proxy settings turn a loopback health check into outside traffic.
export no_proxy='*' NO_PROXY='*'
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'stack: %s\n' "$*" >&2; exit 1; }

# Monotonic-enough milliseconds for timings printed to the operator.
now_ms() { date +%s%3N; }

# Canonical component name; accepts the short aliases people type during drills.
canonical() {
  case $1 in
    db1|mariadb1|mysql1) echo mariadb1 ;;
    db2|mariadb2|mysql2) echo mariadb2 ;;
    ej1|ejabberd1|node1|xmpp1) echo ejabberd1 ;;
    ej2|ejabberd2|node2|xmpp2) echo ejabberd2 ;;
    # Nodes past the second exist only in a cluster of that size (up --nodes N).
    ej[3-5]|ejabberd[3-5]|node[3-5]|xmpp[3-5]) [ "${1: -1}" -le "$NODES" ] || return 1; echo "ejabberd${1: -1}" ;;
    exporter[4-6]) [ $((${1: -1} - 1)) -le "$NODES" ] || return 1; echo "$1" ;;
    lb|haproxy) echo haproxy ;;
    prometheus|prom) echo prometheus ;;
    alertmanager|am) echo alertmanager ;;
    victoria|vm|victoria-metrics|victoriametrics) echo victoria ;;
    relay|alert-relay|alert_relay) echo relay ;;
    peer|peer.test|ejpeer) echo peer ;;
    exporter1|exporter2|exporter3|probe|epmd) echo "$1" ;;
    *) return 1 ;;
  esac
}

# The executable a component's pid must belong to; guards against acting on a reused pid.
component_exe() {
  case $1 in
    epmd) echo epmd ;;
    mariadb*) echo mariadbd ;;
    ejabberd* | peer) echo beam.smp ;;
    haproxy) echo haproxy ;;
    prometheus) echo prometheus ;;
    alertmanager) echo prometheus-alertmanager ;;
    victoria) echo victoria-metrics ;;
    exporter*) echo xmppwatch_exporter ;;
    probe) echo xmpp_probe ;;
    relay) echo xmppwatch_alert_relay ;;
  esac
}

component_address() {
  case $1 in
    epmd) echo "$PROXY_IP:4369" ;;
    mariadb1) echo "$XMPP1_IP:3306" ;;
    mariadb2) echo "$XMPP2_IP:3306" ;;
    ejabberd1) echo "$XMPP1_IP:5222 c2s :5223 tls :5224 lb :5269 s2s :5280 api :5443 upload" ;;
    ejabberd2) echo "$XMPP2_IP:5222 c2s :5223 tls :5224 lb :5269 s2s :5280 api :5443 upload" ;;
    ejabberd[3-5]) echo "$(node_ip "$1"):5222 c2s :5223 tls :5224 lb :5269 s2s :5280 api :5443 upload" ;;
    haproxy) echo "$PROXY_IP:5222 (c2s) :8404 (/metrics)" ;;
    prometheus) echo "http://$PROXY_IP:9090" ;;
    alertmanager) echo "http://$PROXY_IP:9093" ;;
    victoria) echo "http://$PROXY_IP:8428 (PromQL: /api/v1/query)" ;;
    exporter1) echo "http://$PROXY_IP:9100/metrics" ;;
    exporter2) echo "http://$XMPP1_IP:9100/metrics" ;;
    exporter3) echo "http://$XMPP2_IP:9100/metrics" ;;
    exporter[4-6]) echo "http://$(node_ip "ejabberd$((${1: -1} - 1))"):9100/metrics" ;;
    probe) echo "http://$PROXY_IP:9815/metrics" ;;
    relay) echo "http://$PROXY_IP:9099/alert" ;;
    peer) echo "$PEER_IP:5222 c2s :5269 s2s :5280 api" ;;
  esac
}

# The address of chat host N (from a name ending in N: ejabberd3, mariadb1).
node_ip() {
  case ${1: -1} in
    1) echo "$XMPP1_IP" ;;
    2) echo "$XMPP2_IP" ;;
    [3-5]) echo "127.0.0.$((${1: -1} + 2))" ;;
  esac
}
node_index() { echo "${1: -1}"; }

pid_file() { echo "$PID_DIR/$1.pid"; }

# Prints the recorded pid if that process is alive and runs the component's executable.
component_pid() {
  local f pid exe
  f=$(pid_file "$1")
  [ -s "$f" ] || return 1
  pid=$(tr -dc '0-9' <"$f")
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  exe=${exe% (deleted)}
  [ "${exe##*/}" = "$(component_exe "$1")" ] || return 1
  echo "$pid"
}

is_running() { component_pid "$1" >/dev/null; }

# Process state letter (R, S, T for stopped, ...), to tell a hung node from a live one.
proc_state() { awk '{print $3}' "/proc/$1/stat" 2>/dev/null; }

component_log() {
  case $1 in
    epmd) echo "$RUN_DIR/epmd/epmd.log" ;;
    mariadb*) echo "$RUN_DIR/$1/error.log" ;;
    ejabberd* | peer) echo "$RUN_DIR/$1/logs/ejabberd.log" ;;
    *) echo "$RUN_DIR/$1/$1.log" ;;
  esac
}

log_tail() {
  local f
  f=$(component_log "$1")
  printf -- '--- last lines of %s ---\n' "$f" >&2
  if [ -s "$f" ]; then tail -n "${2:-25}" "$f" >&2; else echo "(empty or missing)" >&2; fi
  if [ "${1#ejabberd}" != "$1" ] || [ "$1" = peer ]; then
    local extra=$RUN_DIR/$1/logs/error.log starter=$RUN_DIR/$1/logs/start.log
    [ -s "$extra" ] && { printf -- '--- %s ---\n' "$extra" >&2; tail -n 15 "$extra" >&2; }
    [ -s "$starter" ] && { printf -- '--- %s ---\n' "$starter" >&2; tail -n 15 "$starter" >&2; }
  fi
  printf -- '---\n' >&2
}

# Starts a foreground daemon detached from our session (so ^C on `make demo` or a ctest
# timeout does not take it down) and records its pid. setsid and setpriv both exec (neither
# forks here), so the recorded pid is the daemon's own. The daemon starts in its log's
# directory: the launcher's working directory may be one its user cannot enter.
spawn() {
  local comp=$1 logf=$2
  shift 2
  mkdir -p "$(dirname "$logf")" "$PID_DIR"
  # fd 9 is the launcher lock: a daemon inheriting it would hold the lock forever.
  (cd "$(dirname "$logf")" && exec setsid "$@" >>"$logf" 2>&1 </dev/null 9>&-) &
  echo $! >"$(pid_file "$comp")"
}

# spawn_as USER COMPONENT LOG CMD...: the same, the daemon running as USER (its group, its
# supplementary groups, no way back to privileges: no_new_privs).
spawn_as() {
  local user=$1
  shift
  local comp=$1 logf=$2
  shift 2
  spawn "$comp" "$logf" setpriv --reuid="$user" --regid="$user" --init-groups --no-new-privs -- "$@"
}

# The system user of our own daemons, created once (no home, no shell).
ensure_service_user() {
  id "$SERVICE_USER" >/dev/null 2>&1 && return 0
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --comment "xmppwatch daemons" "$SERVICE_USER" ||
    die "could not create the system user $SERVICE_USER (useradd)"
  log "created system user $SERVICE_USER"
}

# wait_until SECONDS DESCRIPTION CMD...: polls CMD every 0.2 s until it succeeds or time runs out.
wait_until() {
  local secs=$1 what=$2 deadline
  shift 2
  deadline=$(( $(now_ms) + secs * 1000 ))
  while [ "$(now_ms)" -lt "$deadline" ]; do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  log "timed out after ${secs}s waiting for $what"
  return 1
}

http_ok() { curl -fsS --max-time 2 -o /dev/null "$1"; }

tcp_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# Sends SIGTERM, waits, escalates to SIGKILL: bounded at about $2 seconds.
stop_pid() {
  local pid=$1 secs=${2:-20} i
  kill -CONT "$pid" 2>/dev/null || true
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < secs * 10; i++)); do
    [ -d "/proc/$pid" ] || return 0
    # A zombie of ours has exited already.
    [ "$(proc_state "$pid")" = Z ] && return 0
    sleep 0.1
  done
  log "pid $pid ignored SIGTERM for ${secs}s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    [ -d "/proc/$pid" ] || return 0
    sleep 0.1
  done
  return 1
}

# Secrets are created once, mode 600 from the first byte (umask 077 before the file exists),
# and never echoed nor passed on a command line (they travel in variables, files and pipes).
secret() {
  local f=$SECRETS_DIR/$1
  if [ ! -s "$f" ]; then
    (umask 077; mkdir -p "$SECRETS_DIR"; openssl rand -hex 24 >"$f.new" && mv "$f.new" "$f")
  fi
  local v
  IFS= read -r v <"$f" || true
  printf '%s' "$v"
}

# render TEMPLATE OUT KEY=VALUE...: replaces @KEY@ by VALUE (a literal \n in VALUE becomes a
# line break). Done inside bash, with no helper process: values include secrets (the SQL
# password, the Erlang cookie), which a sed expression would show in /proc/PID/cmdline. The
# file is written mode 600 (umask 077 before it exists); RENDER_MODE=644 widens a file that
# holds no secret once it is complete.
render() {
  local tpl=$1 out=$2 kv k v text
  shift 2
  [ -r "$tpl" ] || die "template $tpl not found"
  text=$(<"$tpl")
  for kv in "$@"; do
    k=${kv%%=*} v=${kv#*=}
    v=${v//\\n/$'\n'}
    text=${text//"@$k@"/"$v"}
  done
  (umask 077; rm -f "$out.tmp"; printf '%s\n' "$text" >"$out.tmp") || die "render: cannot write $out"
  [ -z "${RENDER_MODE:-}" ] || chmod "$RENDER_MODE" "$out.tmp"
  mv "$out.tmp" "$out"
}
