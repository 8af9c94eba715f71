# shellcheck shell=bash
# The ejabberd cluster: ej1@127.0.0.2 (ejabberd1) and ej2@127.0.0.3 (ejabberd2), each on the
# MariaDB of its own host. Sourced by server/stack.

ej_dir() { echo "$RUN_DIR/$1"; }
ej_node() { echo "ej$(node_index "$1")@$(node_ip "$1")"; }

# ejabberdctl run as root re-executes itself through `su`, whose PAM session drops the open
# files limit to 1024: a node with a thousand clients would then stop accepting. Running it
# as the ejabberd user directly keeps the limit raised here. Debian's ejabberdctl.cfg would
# override --config, hence a config dir per node.
ejctl() {
  local comp=$1 dir
  shift
  dir=$(ej_dir "$comp")
  (
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    cd "$dir/spool" || exit 1
    exec setpriv --reuid=ejabberd --regid=ejabberd --init-groups \
      env HOME=/var/lib/ejabberd \
      ejabberdctl --config-dir "$dir/conf" --spool "$dir/spool" --logs "$dir/logs" "$@"
  ) 9>&-
}

ej_render() {
  local comp=$1 n ip dir
  n=$(node_index "$comp")
  ip=$(node_ip "$comp")
  dir=$(ej_dir "$comp")
  mkdir -p "$dir/conf" "$dir/spool" "$dir/logs" "$dir/upload"
  render "$TEMPLATE_DIR/ejabberd.yml" "$dir/conf/ejabberd.yml" \
    NODE_INDEX="$n" NODE_IP="$ip" DOMAIN="$DOMAIN" CERTFILE="$TLS_DIR/$DOMAIN.pem" \
    SQL_PASSWORD="$(secret mariadb-ejabberd.password)" UPLOAD_DIR="$dir/upload" \
    API_IP="$ip" METRICS_IP="$ip" UPLOAD_URL="https://$ip:5443/upload"
  render "$TEMPLATE_DIR/ejabberdctl.cfg" "$dir/conf/ejabberdctl.cfg" \
    NODE_INDEX="$n" NODE_NAME="$(ej_node "$comp")" NODE_IP="$ip" CONF_DIR="$dir/conf" \
    PID_FILE="$dir/ejabberd.pid" EPMD_ADDRESS="$PROXY_IP,$XMPP1_IP,$XMPP2_IP"
  # The cookie goes in an args file, not on the command line where ps would show it.
  # The cluster link leaves from this host's own address, as between real hosts (a partition
  # can then cut it by address: server/stack fault partition).
  render "$TEMPLATE_DIR/vm.args" "$dir/conf/vm.args" COOKIE="$(secret erlang.cookie)" \
    NODE_IP_TUPLE="{${ip//./,}}"
  cp /etc/ejabberd/inetrc "$dir/conf/inetrc"
  chown -R ejabberd:ejabberd "$dir"
  chmod 700 "$dir" "$dir/conf"
  chmod 600 "$dir/conf/"*
}

# ejabberd has no offline config check; a YAML syntax error is at least caught before
# anything starts (option errors show up in the log tail when the node refuses to start).
ej_check() {
  local f
  f=$(ej_dir "$1")/conf/ejabberd.yml
  [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import yaml' 2>/dev/null || return 0
  /usr/bin/python3 - "$f" <<'PY' || die "$1: $f (template: $TEMPLATE_DIR/ejabberd.yml) is not valid YAML"
import sys, yaml
try:
    doc = yaml.safe_load(open(sys.argv[1]))
    assert isinstance(doc, dict), "top level is not a mapping"
    for key in ("hosts", "listen", "modules"):
        assert key in doc, f"missing top-level key {key!r}"
except Exception as e:
    print(f"{sys.argv[1]}: {e}", file=sys.stderr)
    sys.exit(1)
PY
}

ej_start() {
  local comp=$1 dir
  dir=$(ej_dir "$comp")
  rm -f "$dir/ejabberd.pid"
  ej_pidfile_link "$comp"
  # -detached: the VM daemonizes itself and writes EJABBERD_PID_PATH once the app is up.
  if ! ejctl "$comp" start >"$dir/logs/start.log" 2>&1; then
    log_tail "$comp"
    die "$comp: ejabberdctl start failed"
  fi
}

# pids/ejabberdN.pid points at the pid file ejabberd writes itself (as the ejabberd user).
ej_pidfile_link() {
  mkdir -p "$PID_DIR"
  ln -sfn "$(ej_dir "$1")/ejabberd.pid" "$(pid_file "$1")"
}

# POST a command to the node's mod_http_api (loopback-only listener).
ej_api() {
  local comp=$1 cmd=$2 body=${3:-'{}'}
  curl -fsS --max-time 3 -H 'Content-Type: application/json' -d "$body" \
    "http://$(node_ip "$comp"):5280/api/$cmd"
}

ej_healthy() {
  is_running "$1" && ej_api "$1" status | grep -q 'is running in that node'
}

# Cluster members as seen by this node, space separated.
ej_cluster() { ej_api "$1" list_cluster '{}' | tr -d '[]"' | tr ',' ' '; }

# Node 2 joins node 1 once; Mnesia remembers the membership on disk after that.
ej_join_cluster() {
  local stamp=$RUN_DIR/state/cluster.done
  [ -e "$stamp" ] && return 0
  local out
  out=$(ejctl ejabberd2 join_cluster "$(ej_node ejabberd1)" 2>&1) ||
    die "ejabberd2: join_cluster failed: $out"
  wait_until 30 "ejabberd2 after join_cluster" ej_healthy ejabberd2 ||
    { log_tail ejabberd2; die "ejabberd2 did not come back after join_cluster"; }
  wait_until 10 "two cluster members" cluster_complete ||
    die "cluster members after join: $(ej_cluster ejabberd1)"
  mkdir -p "$RUN_DIR/state"
  touch "$stamp"
}

cluster_complete() {
  local m
  m=$(ej_cluster ejabberd1) || return 1
  [[ $m == *"$(ej_node ejabberd1)"* && $m == *"$(ej_node ejabberd2)"* ]]
}

# Accounts created at `up` with random passwords (secrets/xmpp-<user>.password): alice, bob,
# dave and erin belong to tests/stack, carol, probe1 and probe2 to xmpp_probe. An account is
# created when its password file does not exist yet, so adding a name here is enough.
XMPP_ACCOUNTS=(alice bob carol dave erin probe1 probe2)

ej_create_accounts() {
  local user pids=() names=() failed=0 i
  for user in "${XMPP_ACCOUNTS[@]}"; do
    [ -s "$SECRETS_DIR/xmpp-$user.password" ] && continue
    (umask 077; openssl rand -hex 24 >"$SECRETS_DIR/xmpp-$user.password.new")
    # ejabberdctl takes the password as an argument; it is a short-lived local process and
    # the password never reaches a log. In parallel: each call boots an Erlang VM (about 1 s).
    ejctl ejabberd1 register "$user" "$DOMAIN" "$(cat "$SECRETS_DIR/xmpp-$user.password.new")" \
      >"$RUN_DIR/state/register-$user.log" 2>&1 &
    pids+=($!)
    names+=("$user")
  done
  for i in "${!pids[@]}"; do
    if wait "${pids[i]}"; then
      mv "$SECRETS_DIR/xmpp-${names[i]}.password.new" "$SECRETS_DIR/xmpp-${names[i]}.password"
      rm -f "$RUN_DIR/state/register-${names[i]}.log"
    else
      log "registering ${names[i]}@$DOMAIN failed: $(cat "$RUN_DIR/state/register-${names[i]}.log")"
      failed=$((failed + 1))
    fi
  done
  [ "$failed" -eq 0 ] || die "ejabberd1: registering $failed account(s) failed"
  [ ${#names[@]} -eq 0 ] || log "accounts created: ${names[*]}"
}
