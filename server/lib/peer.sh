# shellcheck shell=bash
# The federated peer: a standalone ejabberd node for a second XMPP domain (peer.test on
# 127.0.0.4), its own certificate, Mnesia and internal auth, no cluster and no shared cookie
# with xmpp.test: another organisation's server, reachable only over s2s (port 5269).
# Also the name resolution both sides need for federation. Sourced by server/stack.

PEER_IP=127.0.0.4
PEER_DOMAIN=${XMPPWATCH_PEER_DOMAIN:-peer.test}
PEER_NODE=peer@$PEER_IP
# Accounts on the peer (secrets/peer-xmpp-<user>.password, owned by xmppwatch, 600): probe
# is xmpp_probe's s2s module's receiver, alice is for tests.
PEER_ACCOUNTS=(probe alice)
# The s2s module's sender on xmpp.test (secrets/xmpp-s2sprobe.password), an account of its own
# so its sessions do not count against another module's max_user_sessions.
S2S_HOME_ACCOUNTS=(s2sprobe)

# Name resolution for s2s without touching the host's /etc/hosts or DNS. ejabberd 23.01
# (p1_xmpp's xmpp_stream_out) resolves a remote domain in two steps: SRV records through
# Erlang's own resolver (inet_res: only the name servers of the node's inetrc; ours lists
# none, so the lookup fails at once and nothing leaves the host), then the domain itself with
# net:getaddrinfo, which is the C library's getaddrinfo: /etc/hosts, then DNS
# (nsswitch.conf). Erlang's inetrc `{host, ...}` entries are not consulted there. So every
# ejabberd node of the stack starts in a private mount namespace of its own where the stack's
# hosts file is bind-mounted over /etc/hosts: xmpp.test names both cluster nodes, peer.test
# the peer. Nothing outside those processes sees it.
S2S_HOSTS_FILE=$RUN_DIR/s2s/hosts
S2S_CA_FILE=$TLS_DIR/s2s-ca.pem

# The prefix that runs a command in that namespace (ejctl puts it before `start` only). Root
# makes the namespace and the mount; the command itself then drops to its user (setpriv).
# shellcheck disable=SC2016,SC2034 # $0/$@ belong to that inner sh; ejctl (lib/ejabberd.sh) uses it
S2S_NS=(unshare --mount --propagation private -- /bin/sh -c 'mount --bind "$0" /etc/hosts && exec "$@"'
        "$S2S_HOSTS_FILE")

s2s_hosts_render() {
  mkdir -p "$RUN_DIR/s2s"
  local tmp=$S2S_HOSTS_FILE.tmp
  {
    echo "# Rendered by server/stack: the /etc/hosts its ejabberd nodes see (lib/peer.sh)."
    grep -vE "[[:space:]]($DOMAIN|$PEER_DOMAIN)([[:space:]]|\$)" /etc/hosts || true
    echo "$XMPP1_IP $DOMAIN"
    echo "$XMPP2_IP $DOMAIN"
    local n
    for ((n = 3; n <= NODES; n++)); do echo "$(node_ip "ejabberd$n") $DOMAIN"; done
    echo "$PEER_IP $PEER_DOMAIN"
  } >"$tmp"
  chmod 644 "$tmp"
  mv "$tmp" "$S2S_HOSTS_FILE"
}

# An inetrc whose resolver (inet_res, used for the SRV lookups) has no name servers.
s2s_inetrc() {
  cat <<'EOF'
{lookup,["file","native"]}.
{host,{127,0,0,1}, ["localhost","hostalias"]}.
{resolv_conf, ""}.
EOF
}

# The peer's certificate (its own key, its own self-signed root), and the bundle every node
# verifies s2s certificates against: xmpp.test's and peer.test's. Both carry serverAuth and
# clientAuth: in s2s the connecting server presents its certificate as a TLS client.
peer_tls_ensure() {
  local crt=$TLS_DIR/$PEER_DOMAIN.crt key=$TLS_DIR/$PEER_DOMAIN.key pem=$TLS_DIR/$PEER_DOMAIN.pem
  mkdir -p "$TLS_DIR"
  if [ ! -s "$crt" ] || [ ! -s "$key" ]; then
    log "generating the TLS certificate for $PEER_DOMAIN (RSA 4096)"
    (umask 077
     openssl req -x509 -newkey rsa:4096 -nodes -sha256 -days 825 \
       -keyout "$key.tmp" -out "$crt.tmp" -subj "/CN=$PEER_DOMAIN" \
       -addext "subjectAltName=DNS:$PEER_DOMAIN,DNS:*.$PEER_DOMAIN" \
       -addext "keyUsage=digitalSignature,keyEncipherment" \
       -addext "extendedKeyUsage=serverAuth,clientAuth" >"$TLS_DIR/openssl-peer.log" 2>&1) ||
      { cat "$TLS_DIR/openssl-peer.log" >&2; die "openssl could not generate the certificate for $PEER_DOMAIN"; }
    mv "$key.tmp" "$key"
    mv "$crt.tmp" "$crt"
    rm -f "$TLS_DIR/openssl-peer.log"
    chmod 644 "$crt"
  fi
  (umask 077; cat "$crt" "$key" >"$pem.tmp")
  mv "$pem.tmp" "$pem"
  chown ejabberd:ejabberd "$pem"
  chmod 600 "$pem" "$key"
  cat "$TLS_DIR/$DOMAIN.crt" "$crt" >"$S2S_CA_FILE.tmp"
  chmod 644 "$S2S_CA_FILE.tmp"
  mv "$S2S_CA_FILE.tmp" "$S2S_CA_FILE"
}

peer_dir() { echo "$RUN_DIR/peer"; }

peer_render() {
  local dir
  dir=$(peer_dir)
  mkdir -p "$dir/conf" "$dir/spool" "$dir/logs"
  render "$TEMPLATE_DIR/ejabberd-peer.yml" "$dir/conf/ejabberd.yml" \
    PEER_IP="$PEER_IP" PEER_DOMAIN="$PEER_DOMAIN" CERTFILE="$TLS_DIR/$PEER_DOMAIN.pem" \
    S2S_CAFILE="$S2S_CA_FILE"
  render "$TEMPLATE_DIR/ejabberdctl.cfg" "$dir/conf/ejabberdctl.cfg" \
    NODE_INDEX=peer NODE_NAME="$PEER_NODE" NODE_IP="$PEER_IP" CONF_DIR="$dir/conf" \
    PID_FILE="$dir/ejabberd.pid" EPMD_ADDRESS="$PROXY_IP,$XMPP1_IP,$XMPP2_IP,$PEER_IP"
  render "$TEMPLATE_DIR/vm.args" "$dir/conf/vm.args" NODE_IP_TUPLE="{${PEER_IP//./,}}"
  # A cookie of its own: the peer is another organisation's server, it can never join or be
  # reached by the xmpp.test cluster's Erlang distribution.
  local cookie
  cookie=$(secret peer-erlang.cookie)
  (umask 077; rm -f "$dir/conf/.erlang.cookie.tmp"; printf '%s' "$cookie" >"$dir/conf/.erlang.cookie.tmp")
  mv "$dir/conf/.erlang.cookie.tmp" "$dir/conf/.erlang.cookie"
  s2s_inetrc >"$dir/conf/inetrc"
  chown -R ejabberd:ejabberd "$dir"
  chmod 600 "$dir/conf/"* "$dir/conf/.erlang.cookie"
  chmod 700 "$dir" "$dir/conf" "$dir/spool" "$dir/logs"
}

peer_check() {
  local f
  f=$(peer_dir)/conf/ejabberd.yml
  [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import yaml' 2>/dev/null || return 0
  /usr/bin/python3 -c 'import sys, yaml; d = yaml.safe_load(open(sys.argv[1])); assert isinstance(d, dict) and "listen" in d' "$f" ||
    die "peer: $f (template: $TEMPLATE_DIR/ejabberd-peer.yml) is not valid YAML"
}

peer_start() {
  local dir
  dir=$(peer_dir)
  rm -f "$dir/ejabberd.pid"
  mkdir -p "$PID_DIR"
  ln -sfn "$dir/ejabberd.pid" "$(pid_file peer)"
  if ! ejctl peer start >"$dir/logs/start.log" 2>&1; then
    log_tail peer
    die "peer: ejabberdctl start failed"
  fi
}

peer_api() {
  local body=${2:-'{}'}
  curl -fsS --max-time 3 -H 'Content-Type: application/json' -d "$body" "http://$PEER_IP:5280/api/$1"
}

peer_healthy() { is_running peer && peer_api status | grep -q 'is running in that node'; }

# The same call as ejctl_secret (lib/ejabberd.sh), aimed at the peer's node and cookie.
peer_ctl_secret() {
  local dir
  dir=$(peer_dir)
  (
    cd "$dir/spool" || exit 1
    XMPPWATCH_CTL_NODE=$PEER_NODE
    XMPPWATCH_CTL_ARGS=$(IFS=$'\t'; printf '%s' "$*")
    export XMPPWATCH_CTL_NODE XMPPWATCH_CTL_ARGS
    exec setpriv --reuid=ejabberd --regid=ejabberd --init-groups \
      env HOME="$dir/conf" ERL_INETRC="$dir/conf/inetrc" \
      erl -name "ctl-$BASHPID-$RANDOM@$PEER_IP" -hidden -noshell -args_file "$dir/conf/vm.args" \
        -kernel inet_dist_use_interface "{${PEER_IP//./,}}" -eval "$EJCTL_SECRET_EVAL"
  ) 9>&-
}

# register_once FILE USER DOMAIN CTL...: creates USER@DOMAIN with a new random password
# written to FILE (600, then owned by xmppwatch), when FILE does not exist yet, like the
# cluster's accounts (lib/ejabberd.sh). The password goes in on stdin of CTL (never argv).
register_once() {
  local f=$1 user=$2 dom=$3 logf
  shift 3
  [ -s "$f" ] && return 1
  logf=$RUN_DIR/state/register-$user@$dom.log
  rm -f "$f.new"
  (umask 077; openssl rand -hex 24 >"$f.new")
  if ! "$@" register "$user" "$dom" <"$f.new" >"$logf" 2>&1; then
    log "registering $user@$dom failed: $(cat "$logf")"
    rm -f "$f.new"
    die "registering $user@$dom failed"
  fi
  chown "$SERVICE_USER:$SERVICE_USER" "$f.new"
  mv "$f.new" "$f"
  rm -f "$logf"
}

peer_create_accounts() {
  local user created=()
  for user in "${PEER_ACCOUNTS[@]}"; do
    register_once "$SECRETS_DIR/peer-xmpp-$user.password" "$user" "$PEER_DOMAIN" peer_ctl_secret &&
      created+=("$user@$PEER_DOMAIN")
  done
  for user in "${S2S_HOME_ACCOUNTS[@]}"; do
    register_once "$SECRETS_DIR/xmpp-$user.password" "$user" "$DOMAIN" ejctl_secret ejabberd1 &&
      created+=("$user@$DOMAIN")
  done
  [ ${#created[@]} -eq 0 ] || log "federation accounts created: ${created[*]}"
}

peer_secrets_permissions() {
  local f
  for f in "${PEER_ACCOUNTS[@]/#/$SECRETS_DIR/peer-xmpp-}" "${S2S_HOME_ACCOUNTS[@]/#/$SECRETS_DIR/xmpp-}"; do
    f=$f.password
    if [ -e "$f" ]; then chmod 600 "$f"; chown "$SERVICE_USER:$SERVICE_USER" "$f"; fi
  done
}
