# shellcheck shell=bash
# The ejabberd cluster: ej1@127.0.0.2 (ejabberd1) and ej2@127.0.0.3 (ejabberd2), each on the
# MariaDB of its own host. Sourced by server/stack.

ej_dir() { echo "$RUN_DIR/$1"; }
ej_node() { echo "ej$(node_index "$1")@$(node_ip "$1")"; }

# ejabberdctl re-executes itself as the ejabberd user; every path it gets must be readable
# by that user. Debian's ejabberdctl.cfg would override --config, hence a config dir per node.
ejctl() {
  local comp=$1 dir
  shift
  dir=$(ej_dir "$comp")
  ejabberdctl --config-dir "$dir/conf" --spool "$dir/spool" --logs "$dir/logs" "$@" 9>&-
}

ej_render() {
  local comp=$1 n ip dir
  n=$(node_index "$comp")
  ip=$(node_ip "$comp")
  dir=$(ej_dir "$comp")
  mkdir -p "$dir/conf" "$dir/spool" "$dir/logs" "$dir/upload"
  render "$TEMPLATE_DIR/ejabberd.yml" "$dir/conf/ejabberd.yml" \
    NODE_INDEX="$n" NODE_IP="$ip" DOMAIN="$DOMAIN" CERTFILE="$TLS_DIR/$DOMAIN.pem" \
    SQL_PASSWORD="$(secret mariadb-ejabberd.password)" UPLOAD_DIR="$dir/upload"
  render "$TEMPLATE_DIR/ejabberdctl.cfg" "$dir/conf/ejabberdctl.cfg" \
    NODE_INDEX="$n" NODE_NAME="$(ej_node "$comp")" NODE_IP="$ip" CONF_DIR="$dir/conf" \
    PID_FILE="$dir/ejabberd.pid"
  # The cookie goes in an args file, not on the command line where ps would show it.
  render "$TEMPLATE_DIR/vm.args" "$dir/conf/vm.args" COOKIE="$(secret erlang.cookie)"
  cp /etc/ejabberd/inetrc "$dir/conf/inetrc"
  chown -R ejabberd:ejabberd "$dir"
  chmod 700 "$dir" "$dir/conf"
  chmod 600 "$dir/conf/"*
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

# Test and probe accounts, created once with random passwords (secrets/xmpp-<user>.password).
XMPP_ACCOUNTS=(alice bob carol probe1 probe2)

ej_create_accounts() {
  local stamp=$RUN_DIR/state/accounts.done
  [ -e "$stamp" ] && return 0
  local user pids=() failed=0
  for user in "${XMPP_ACCOUNTS[@]}"; do
    secret "xmpp-$user.password" >/dev/null
    # ejabberdctl takes the password as an argument; it runs as a short-lived local process
    # and never reaches a log. Parallel because each call boots an Erlang VM (about 1 s).
    ejctl ejabberd1 register "$user" "$DOMAIN" "$(secret "xmpp-$user.password")" >/dev/null 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
  [ "$failed" -eq 0 ] || die "ejabberd1: registering $failed of ${#XMPP_ACCOUNTS[@]} test accounts failed"
  touch "$stamp"
}
