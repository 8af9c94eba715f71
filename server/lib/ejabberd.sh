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
  # A node starts where /etc/hosts names the federation's domains (lib/peer.sh: S2S_NS).
  local -a ns=()
  [ "${1:-}" = start ] && ns=("${S2S_NS[@]}")
  (
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    cd "$dir/spool" || exit 1
    exec "${ns[@]}" setpriv --reuid=ejabberd --regid=ejabberd --init-groups \
      env HOME="$dir/conf" \
      ejabberdctl --config-dir "$dir/conf" --spool "$dir/spool" --logs "$dir/logs" "$@"
  ) 9>&-
}

# ejctl_secret COMPONENT COMMAND ARG...: ejabberdctl COMMAND ARG... SECRET, where SECRET (a
# password) is the first line of stdin instead of an argument. ejabberdctl only takes
# arguments from its command line, where `ps` (/proc/PID/cmdline) shows them to every local
# user. This boots the same kind of hidden client node ejabberdctl boots (same user, cookie
# from vm.args, not argv) and makes the same call, ejabberd_ctl:process(Args) on the node,
# with the secret read inside Erlang. Same output and exit status as ejabberdctl. (The cookie
# comes from $HOME/.erlang.cookie, as for every Erlang node of the stack.)
EJCTL_SECRET_EVAL='Node = list_to_atom(os:getenv("XMPPWATCH_CTL_NODE")),
Args = string:split(os:getenv("XMPPWATCH_CTL_ARGS"), "\t", all),
ok = io:setopts(standard_io, [binary]),
Secret = case io:get_line("") of
  Line when is_binary(Line) -> unicode:characters_to_list(hd(binary:split(Line, [<<"\r">>, <<"\n">>])));
  _ -> io:format("no secret on stdin~n"), halt(4)
end,
Status = case rpc:call(Node, ejabberd_ctl, process, [Args ++ [Secret]], 60000) of
  {badrpc, Reason} -> io:format("Failed RPC connection to the node ~p: ~p~n", [Node, Reason]), 3;
  S when is_integer(S) -> S;
  Other -> io:format("~p~n", [Other]), 1
end,
halt(Status).'

ejctl_secret() {
  local comp=$1 dir ip
  shift
  dir=$(ej_dir "$comp")
  ip=$(node_ip "$comp")
  (
    ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
    cd "$dir/spool" || exit 1
    XMPPWATCH_CTL_NODE=$(ej_node "$comp")
    XMPPWATCH_CTL_ARGS=$(IFS=$'\t'; printf '%s' "$*")
    export XMPPWATCH_CTL_NODE XMPPWATCH_CTL_ARGS
    exec setpriv --reuid=ejabberd --regid=ejabberd --init-groups \
      env HOME="$dir/conf" ERL_INETRC="$dir/conf/inetrc" \
      erl -name "ctl-$BASHPID-$RANDOM@$ip" -hidden -noshell -args_file "$dir/conf/vm.args" \
        -kernel inet_dist_use_interface "{${ip//./,}}" -eval "$EJCTL_SECRET_EVAL"
  ) 9>&-
}

# The database a node uses: its own host's on the pair; nodes past the second share the pair,
# odd ones MariaDB 1, even ones MariaDB 2, so neither takes all the extra load. A node
# whose database dies is taken out by HAProxy's agent (exporter --lb-agent), as on the pair.
ej_sql_ip() {
  local n
  n=$(node_index "$1")
  if [ $((n % 2)) -eq 1 ]; then echo "$XMPP1_IP"; else echo "$XMPP2_IP"; fi
}

ej_render() {
  local comp=$1 n ip dir
  n=$(node_index "$comp")
  ip=$(node_ip "$comp")
  dir=$(ej_dir "$comp")
  mkdir -p "$dir/conf" "$dir/spool" "$dir/logs" "$dir/upload"
  # Rendered 600 from the start (ejabberd.yml holds the SQL password, vm.args the cookie),
  # then handed to the ejabberd user. Upload URLs name the node (ejabberdN.DOMAIN, covered by
  # the certificate's *.DOMAIN), not its address, so a client can verify them; each node keeps
  # its own files, so the URL must lead back to the node that took the upload.
  render "$TEMPLATE_DIR/ejabberd.yml" "$dir/conf/ejabberd.yml" \
    NODE_INDEX="$n" NODE_IP="$ip" DOMAIN="$DOMAIN" CERTFILE="$TLS_DIR/$DOMAIN.pem" \
    SQL_PASSWORD="$(secret mariadb-ejabberd.password)" UPLOAD_DIR="$dir/upload" \
    API_IP="$ip" METRICS_IP="$ip" UPLOAD_URL="https://$comp.$DOMAIN:5443/upload" S2S_CAFILE="$S2S_CA_FILE" \
    SQL_IP="$(ej_sql_ip "$comp")"
  render "$TEMPLATE_DIR/ejabberdctl.cfg" "$dir/conf/ejabberdctl.cfg" \
    NODE_INDEX="$n" NODE_NAME="$(ej_node "$comp")" NODE_IP="$ip" CONF_DIR="$dir/conf" \
    PID_FILE="$dir/ejabberd.pid" EPMD_ADDRESS="$PROXY_IP,$XMPP1_IP,$XMPP2_IP"
  # The cluster link leaves from this host's own address, as between real hosts (a partition
  # can then cut it by address: server/stack fault partition).
  render "$TEMPLATE_DIR/vm.args" "$dir/conf/vm.args" NODE_IP_TUPLE="{${ip//./,}}"
  # The cookie: not -setcookie (erlexec copies an args file into the VM's argv, where ps shows
  # it), but $HOME/.erlang.cookie, with HOME=conf/ for every node and client of this node
  # (ejctl, ejctl_secret). Erlang insists on mode 400 or 600.
  local cookie
  cookie=$(secret erlang.cookie)
  (umask 077; rm -f "$dir/conf/.erlang.cookie.tmp"; printf '%s' "$cookie" >"$dir/conf/.erlang.cookie.tmp")
  mv "$dir/conf/.erlang.cookie.tmp" "$dir/conf/.erlang.cookie"
  # No name servers for Erlang's resolver: s2s names come from the hosts file (lib/peer.sh).
  s2s_inetrc >"$dir/conf/inetrc"
  chown -R ejabberd:ejabberd "$dir"
  chmod 600 "$dir/conf/"* "$dir/conf/.erlang.cookie"
  # The exporter of this host (user xmppwatch) reads the log (ejabberd_auth collector): it may
  # pass through the node's directory and read logs/, nothing else (conf, spool, upload 700).
  chgrp "$SERVICE_USER" "$dir" "$dir/logs"
  chmod 710 "$dir"
  chmod 750 "$dir/logs"
  chmod 700 "$dir/conf" "$dir/spool" "$dir/upload"
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

# Every node past the first joins node 1 once (state/cluster.done for node 2, as before;
# state/cluster-ejabberdN.done for the others); Mnesia remembers the membership on disk.
ej_join_cluster() {
  local comp stamp out
  for comp in $(ej_components); do
    [ "$comp" = ejabberd1 ] && continue
    stamp=$RUN_DIR/state/cluster-$comp.done
    [ "$comp" = ejabberd2 ] && stamp=$RUN_DIR/state/cluster.done
    [ -e "$stamp" ] && continue
    out=$(ejctl "$comp" join_cluster "$(ej_node ejabberd1)" 2>&1) ||
      die "$comp: join_cluster failed: $out"
    wait_until 30 "$comp after join_cluster" ej_healthy "$comp" ||
      { log_tail "$comp"; die "$comp did not come back after join_cluster"; }
    wait_until 10 "$comp in the cluster" cluster_has "$comp" ||
      die "cluster members after join: $(ej_cluster ejabberd1)"
    mkdir -p "$RUN_DIR/state"
    touch "$stamp"
  done
}

cluster_has() {
  local m
  m=$(ej_cluster ejabberd1) || return 1
  [[ $m == *"$(ej_node ejabberd1)"* && $m == *"$(ej_node "$1")"* ]]
}

# "ej1@127.0.0.2,ej2@127.0.0.3,...": what the exporters expect to see in the cluster.
cluster_members() {
  local comp out=()
  for comp in $(ej_components); do out+=("$(ej_node "$comp")"); done
  local IFS=,
  echo "${out[*]}"
}

# Accounts created at `up` with random passwords (secrets/xmpp-<user>.password): alice, bob,
# dave and erin belong to tests/stack, carol, probe1 and probe2 to xmpp_probe (which also
# drills with alice and bob), alerts is the alert relay's own account and oncall the one it
# writes to; e2etx, e2erx1 and e2erx2 are the continuous e2e module's sender and its receivers
# on node 1 and node 2; probe3 (upload, carbons), probe4 (push: must be offline) and pushsvc (the
# push prober's app server) and nodeprobe (node_login, on each node directly) belong to xmpp_probe too. An account is created when its password file does not exist yet, so adding a
# name here is enough. Their password files belong to the daemons' user (xmppwatch), mode 600.
XMPP_ACCOUNTS=(alice bob carol dave erin probe1 probe2 alerts oncall e2etx e2erx1 e2erx2 probe3 probe4 pushsvc nodeprobe)

ej_create_accounts() {
  local user pids=() names=() failed=0 i
  for user in "${XMPP_ACCOUNTS[@]}"; do
    [ -s "$SECRETS_DIR/xmpp-$user.password" ] && continue
    rm -f "$SECRETS_DIR/xmpp-$user.password.new"
    (umask 077; openssl rand -hex 24 >"$SECRETS_DIR/xmpp-$user.password.new")
    # The password goes in on stdin, never on a command line. In parallel: each call boots an
    # Erlang VM (about 1 s).
    ejctl_secret ejabberd1 register "$user" "$DOMAIN" <"$SECRETS_DIR/xmpp-$user.password.new" \
      >"$RUN_DIR/state/register-$user.log" 2>&1 &
    pids+=($!)
    names+=("$user")
  done
  for i in "${!pids[@]}"; do
    if wait "${pids[i]}"; then
      chown "$SERVICE_USER:$SERVICE_USER" "$SECRETS_DIR/xmpp-${names[i]}.password.new"
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
