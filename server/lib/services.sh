# shellcheck shell=bash
# The proxy host's services (HAProxy, Prometheus, Alertmanager), epmd, the TLS certificate,
# and the xmppwatch binaries (exporters, probe). Sourced by server/stack.

# RSA 4096 as in the seed, CN the XMPP domain (plus SANs, which TLS clients actually check).
# ejabberd wants certificate and key in one PEM; the key stays mode 600 either way.
tls_ensure() {
  local crt=$TLS_DIR/$DOMAIN.crt key=$TLS_DIR/$DOMAIN.key pem=$TLS_DIR/$DOMAIN.pem
  # clientAuth too: in s2s (lib/peer.sh) a node presents it as a TLS client. One made before
  # federation lacks it and is made again while no node runs that could be holding it.
  if [ -s "$crt" ] && ! openssl x509 -in "$crt" -noout -ext extendedKeyUsage 2>/dev/null | grep -q 'Client Auth' &&
    ! is_running ejabberd1 && ! is_running ejabberd2; then
    log "the certificate for $DOMAIN has no clientAuth usage (needed for s2s): making a new one"
    rm -f "$crt" "$key"
  fi
  if [ ! -s "$crt" ] || [ ! -s "$key" ]; then
    mkdir -p "$TLS_DIR"
    log "generating the TLS certificate for $DOMAIN (RSA 4096)"
    (umask 077
     openssl req -x509 -newkey rsa:4096 -nodes -sha256 -days 825 \
       -keyout "$key.tmp" -out "$crt.tmp" -subj "/CN=$DOMAIN" \
       -addext "subjectAltName=DNS:$DOMAIN,DNS:*.$DOMAIN" \
       -addext "keyUsage=digitalSignature,keyEncipherment" \
       -addext "extendedKeyUsage=serverAuth,clientAuth" >"$TLS_DIR/openssl.log" 2>&1) ||
      { cat "$TLS_DIR/openssl.log" >&2; die "openssl could not generate the certificate"; }
    mv "$key.tmp" "$key"
    mv "$crt.tmp" "$crt"
    rm -f "$TLS_DIR/openssl.log"
    chmod 644 "$crt"
  fi
  (umask 077; cat "$crt" "$key" >"$pem.tmp")
  mv "$pem.tmp" "$pem"
  chown ejabberd:ejabberd "$pem"
  chmod 600 "$pem" "$key"
}

# --- epmd ------------------------------------------------------------------------------
# ejabberd would start `epmd -daemon` itself, which then outlives the stack. Starting it
# ourselves in the foreground gives a pid to stop. One already running (someone else's)
# is used and left alone.
epmd_alive() { epmd -names >/dev/null 2>&1; }

epmd_start() {
  if epmd_alive; then
    log "epmd: already running and not started by this stack; using it, will not stop it"
    return 0
  fi
  # Every address a node may have (up to MAX_NODES), so a node added later (up --nodes N)
  # registers with the epmd already running.
  local n addrs="$PROXY_IP,$XMPP1_IP,$XMPP2_IP,$PEER_IP"
  for ((n = 3; n <= MAX_NODES; n++)); do addrs+=",$(node_ip "ejabberd$n")"; done
  spawn_as "$EPMD_USER" epmd "$RUN_DIR/epmd/epmd.log" epmd -address "$addrs"
}

# --- HAProxy -----------------------------------------------------------------------------
# HAProxy starts as root, binds its sockets, then locks itself into an empty directory and
# drops to the haproxy user (global: chroot, user, group), as in production.
haproxy_render() {
  mkdir -p "$RUN_DIR/haproxy" "$RUN_DIR/haproxy/chroot"
  chmod 755 "$RUN_DIR/haproxy/chroot"
  # Nodes past the second are backups too, in order: HAProxy sends everyone to the first
  # backup that is up (no allbackups), as it does with the pair.
  local n extra=""
  for ((n = 3; n <= NODES; n++)); do
    extra+="\n    server ej$n $(node_ip "ejabberd$n"):5224 send-proxy-v2 check port 5222 backup"
  done
  RENDER_MODE=644 render "$TEMPLATE_DIR/haproxy.cfg" "$RUN_DIR/haproxy/haproxy.cfg" \
    HAPROXY_SOCKET="$RUN_DIR/haproxy/admin.sock" HAPROXY_CHROOT="$RUN_DIR/haproxy/chroot" \
    HAPROXY_USER="$HAPROXY_USER" HAPROXY_GROUP="$HAPROXY_USER" \
    STATS_IP="$PROXY_IP" LB_BIND_IP="$PROXY_IP" \
    PROXY_IP="$PROXY_IP" XMPP1_IP="$XMPP1_IP" XMPP2_IP="$XMPP2_IP" \
    DOMAIN="$DOMAIN" RATE_LIMIT="${XMPPWATCH_HAPROXY_CONN_RATE:-300}" \
    SESSION_RATE="${XMPPWATCH_HAPROXY_SESSION_RATE:-200}" EXTRA_SERVERS="$extra"
}

haproxy_check() {
  local out
  out=$(haproxy -c -f "$RUN_DIR/haproxy/haproxy.cfg" 2>&1) ||
    { printf '%s\n' "$out" >&2; die "haproxy: configuration $RUN_DIR/haproxy/haproxy.cfg is invalid (template: $TEMPLATE_DIR/haproxy.cfg)"; }
}

haproxy_start() {
  # -db: stay in the foreground so the recorded pid is the master process.
  spawn haproxy "$(component_log haproxy)" haproxy -db -f "$RUN_DIR/haproxy/haproxy.cfg"
}

# Healthy means it also sees every live ejabberd node as UP: a check that cannot pass
# (wrong port, wrong domain) would otherwise leave a balancer with nothing behind it.
haproxy_healthy() {
  http_ok "http://$PROXY_IP:8404/metrics" && tcp_open "$PROXY_IP" 5222 || return 1
  local servers n
  servers=" $(haproxy_servers) "
  for ((n = 1; n <= NODES; n++)); do
    if ej_healthy "ejabberd$n" 2>/dev/null; then
      [[ $servers == *" ej$n=UP "* ]] || return 1
    fi
  done
}

haproxy_server_up() { [[ " $(haproxy_servers) " == *" $1=UP "* ]]; }

# "ej1=UP ej2=UP" from HAProxy's CSV stats.
haproxy_servers() {
  curl -fsS --max-time 2 "http://$PROXY_IP:8404/stats;csv" 2>/dev/null |
    awk -F, '$1=="ejabberd_c2s" && $2!="BACKEND" {printf "%s%s=%s", sep, $2, $18; sep=" "}'
}

# --- Prometheus and Alertmanager ---------------------------------------------------------
# Only files that look like rule files (top-level `groups:`) are linked: rules/ also holds
# alertmanager.yml and promtool test files, which Prometheus would refuse as rules.
prometheus_link_rules() {
  local dir=$RUN_DIR/prometheus/rules f
  mkdir -p "$dir"
  find "$dir" -maxdepth 1 -type l -delete
  [ -d "$RULES_DIR" ] || return 0
  for f in "$RULES_DIR"/*.yml "$RULES_DIR"/*.yaml; do
    [ -f "$f" ] || continue
    grep -q '^groups:' "$f" || continue
    ln -s "$f" "$dir/$(basename "${f%.*}").yml"
  done
}

prometheus_render() {
  mkdir -p "$RUN_DIR/prometheus/data"
  chown -R "$PROMETHEUS_USER:$PROMETHEUS_USER" "$RUN_DIR/prometheus/data"
  # Nodes past the second: their host's exporter and their per-node login probe.
  local n ip extra_hosts="" extra_nodes=""
  for ((n = 3; n <= NODES; n++)); do
    ip=$(node_ip "ejabberd$n")
    extra_hosts+="\n      - targets: [\"$ip:9100\"]\n        labels: {host: xmpp$n, role: xmpp}"
    extra_nodes+="\n      - targets: [\"$ip:5222\"]\n        labels: {host: proxy, node: xmpp$n}"
  done
  RENDER_MODE=644 render "$TEMPLATE_DIR/prometheus.yml" "$RUN_DIR/prometheus/prometheus.yml" \
    RULES_GLOB="$RUN_DIR/prometheus/rules/*.yml" STATS_IP="$PROXY_IP" \
    PROXY_IP="$PROXY_IP" XMPP1_IP="$XMPP1_IP" XMPP2_IP="$XMPP2_IP" \
    EXTRA_HOSTS="$extra_hosts" EXTRA_NODES="$extra_nodes" \
    REMOTE_WRITE="remote_write:\n  - url: \"http://$PROXY_IP:8428/api/v1/write\""
  prometheus_link_rules
}

prometheus_check() {
  local out
  out=$(promtool check config "$RUN_DIR/prometheus/prometheus.yml" 2>&1) ||
    { printf '%s\n' "$out" >&2; die "prometheus: configuration or rule files invalid (see above)"; }
}

prometheus_start() {
  spawn_as "$PROMETHEUS_USER" prometheus "$(component_log prometheus)" prometheus \
    --config.file="$RUN_DIR/prometheus/prometheus.yml" \
    --storage.tsdb.path="$RUN_DIR/prometheus/data" \
    --storage.tsdb.retention.time=15d \
    --web.listen-address="$PROXY_IP:9090" \
    --web.enable-lifecycle
}

prometheus_healthy() { http_ok "http://$PROXY_IP:9090/-/ready"; }

# Picks up re-rendered configuration and new rule files without a restart.
prometheus_reload() { curl -fsS --max-time 5 -X POST "http://$PROXY_IP:9090/-/reload" >/dev/null; }

alertmanager_render() {
  mkdir -p "$RUN_DIR/alertmanager/data"
  chown -R "$PROMETHEUS_USER:$PROMETHEUS_USER" "$RUN_DIR/alertmanager/data"
  if [ -f "$RULES_DIR/alertmanager.yml" ]; then
    cp "$RULES_DIR/alertmanager.yml" "$RUN_DIR/alertmanager/alertmanager.yml"
    # Its notification templates are found relative to the configuration file.
    if [ -d "$RULES_DIR/templates" ]; then
      rm -rf "$RUN_DIR/alertmanager/templates"
      cp -r "$RULES_DIR/templates" "$RUN_DIR/alertmanager/templates"
    fi
  else
    cp "$TEMPLATE_DIR/alertmanager.yml" "$RUN_DIR/alertmanager/alertmanager.yml"
  fi
}

alertmanager_check() {
  local out
  out=$(amtool check-config "$RUN_DIR/alertmanager/alertmanager.yml" 2>&1) ||
    { printf '%s\n' "$out" >&2; die "alertmanager: configuration invalid (see above)"; }
}

alertmanager_start() {
  # An empty cluster address turns off gossip, which would otherwise listen on 0.0.0.0:9094.
  spawn_as "$PROMETHEUS_USER" alertmanager "$(component_log alertmanager)" prometheus-alertmanager \
    --config.file="$RUN_DIR/alertmanager/alertmanager.yml" \
    --storage.path="$RUN_DIR/alertmanager/data" \
    --web.listen-address="$PROXY_IP:9093" \
    --cluster.listen-address=
}

alertmanager_healthy() { http_ok "http://$PROXY_IP:9093/-/ready"; }

# --- VictoriaMetrics: long-term storage ----------------------------------------------------
# Single-node VictoriaMetrics (Debian's package) receives everything Prometheus scrapes and
# records through remote_write, and answers PromQL on :8428 for longer than Prometheus keeps
# it (docs/scaling.md). Retention: XMPPWATCH_VM_RETENTION (VictoriaMetrics syntax: 15d, 12w,
# 1y; a bare number is months), 15 days by default like Prometheus'.
victoria_start() {
  mkdir -p "$RUN_DIR/victoria/data"
  chown -R "$VICTORIA_USER:$VICTORIA_USER" "$RUN_DIR/victoria/data"
  spawn_as "$VICTORIA_USER" victoria "$(component_log victoria)" victoria-metrics \
    -storageDataPath="$RUN_DIR/victoria/data" \
    -retentionPeriod="${XMPPWATCH_VM_RETENTION:-15d}" \
    -httpListenAddr="$PROXY_IP:8428" \
    -loggerLevel=WARN
}

victoria_healthy() { http_ok "http://$PROXY_IP:8428/health"; }

# --- xmppwatch exporter (one per simulated host) and probe ----------------------------------
# exporter1 is the proxy's, exporter N+1 chat host N's.
exporter_ip() {
  case $1 in
    exporter1) echo "$PROXY_IP" ;;
    exporter[2-6]) node_ip "ejabberd$((${1: -1} - 1))" ;;
  esac
}

exporter_start() {
  local comp=$1 ip
  ip=$(exporter_ip "$comp")
  mkdir -p "$RUN_DIR/$comp"
  local -a host=()
  case $comp in
    exporter1)
      # Process names are /proc/PID/comm, cut at 15 characters (prometheus-alertmanager).
      host=(--collector.service.names="haproxy=haproxy,prometheus=prometheus,alertmanager=prometheus-aler,probe=xmpp_probe,alert_relay=xmppwatch_alert") ;;
    exporter2 | exporter3)
      # A chat host: its own ejabberd node (API, mod_metrics datagrams, log) and MariaDB.
      # Both nodes run on this one machine, so each service is told apart by its command line.
      local n=1 node
      [ "$comp" = exporter3 ] && n=2
      node=$(ej_node "ejabberd$n")
      # Admin tasks (backup) run on host 1 and leave their metrics in the textfile directory.
      if [ "$n" = 1 ]; then
        mkdir -p "$TEXTFILE_DIR"
        host=(--collector.textfile.directory="$TEXTFILE_DIR")
      fi
      host+=(
        --collector.service.names="ejabberd=beam.smp:$node,mariadb=mariadbd:$(mariadb_dir "mariadb$n")/"
        --collector.ejabberd --collector.ejabberd.api-url="http://$ip:5280/api"
        --collector.ejabberd.cluster-members="$(cluster_members)"
        --collector.ejabberd_metrics --collector.ejabberd_metrics.listen-address="$ip:11111"
        --collector.ejabberd_auth --collector.ejabberd_auth.log-file="$RUN_DIR/ejabberd$n/logs/ejabberd.log"
        --collector.mysql --collector.mysql.address="$ip:3306"
        --collector.mysql.credentials-file="$SECRETS_DIR/mariadb-exporter.cnf"
        # Every 50 ms, so the lag it measures is good to well under 100 ms.
        --collector.mysql.heartbeat-interval=0.05
        # HAProxy's agent-check: "down" while ejabberd cannot write to its database.
        --lb-agent.listen-address="$ip:9101" --lb-agent.ejabberd-api-url="http://$ip:5280/api"
        --lb-agent.domain="$DOMAIN"
      ) ;;
    exporter[4-6])
      # A chat host past the second: its ejabberd node, no database of its own (it uses the
      # pair's, lib/ejabberd.sh), and the agent HAProxy asks about it.
      local n=$((${comp: -1} - 1)) node
      node=$(ej_node "ejabberd$n")
      host+=(
        --collector.service.names="ejabberd=beam.smp:$node"
        --collector.ejabberd --collector.ejabberd.api-url="http://$ip:5280/api"
        --collector.ejabberd.cluster-members="$(cluster_members)"
        --collector.ejabberd_metrics --collector.ejabberd_metrics.listen-address="$ip:11111"
        --collector.ejabberd_auth --collector.ejabberd_auth.log-file="$RUN_DIR/ejabberd$n/logs/ejabberd.log"
        --lb-agent.listen-address="$ip:9101" --lb-agent.ejabberd-api-url="http://$ip:5280/api"
        --lb-agent.domain="$DOMAIN"
      ) ;;
  esac
  # Extra flags for experiments, without editing this file.
  local -a extra=()
  read -r -a extra <<<"${XMPPWATCH_EXPORTER_FLAGS:-}"
  spawn_as "$SERVICE_USER" "$comp" "$(component_log "$comp")" "$EXPORTER_BIN" \
    --web.listen-address="$ip:9100" \
    --collector.processes \
    "${host[@]}" "${extra[@]}"
}

exporter_healthy() { is_running "$1" && http_ok "http://$(exporter_ip "$1"):9100/metrics"; }

# The probe's flags are its owner's business (xmpp_probe/README.md); with only the run
# directory it builds its module configuration from secrets/ and tls/ here.
probe_start() {
  mkdir -p "$RUN_DIR/probe"
  local -a extra=()
  read -r -a extra <<<"${XMPPWATCH_PROBE_FLAGS:-}"
  spawn_as "$SERVICE_USER" probe "$(component_log probe)" "$PROBE_BIN" \
    --web.listen-address="$PROXY_IP:9815" --stack.run-dir="$RUN_DIR" "${extra[@]}"
}

probe_healthy() { is_running probe && http_ok "http://$PROXY_IP:9815/metrics"; }

# The alert relay: Alertmanager's webhook (rules/alertmanager.yml: 127.0.0.1:9099/alert) to
# XMPP messages from alerts@ to oncall@ and the room oncall@conference through the load
# balancer; what it cannot deliver goes to relay/fallback.log. oncall@ may answer with chat
# commands (silence, ack, ...) run against Alertmanager. Its password is read from a file,
# never taken from the command line.
relay_start() {
  mkdir -p "$RUN_DIR/relay"
  chown "$SERVICE_USER:$SERVICE_USER" "$RUN_DIR/relay"
  chmod 750 "$RUN_DIR/relay"
  spawn_as "$SERVICE_USER" relay "$(component_log relay)" "$RELAY_BIN" \
    --web.listen-address "$PROXY_IP:9099" --xmpp.target "$PROXY_IP:5222" --xmpp.domain "$DOMAIN" \
    --xmpp.user alerts --xmpp.password-file "$SECRETS_DIR/xmpp-alerts.password" \
    --xmpp.ca-file "$TLS_DIR/$DOMAIN.crt" --xmpp.to "oncall@$DOMAIN" \
    --xmpp.room "oncall@conference.$DOMAIN" \
    --chatops.allow "oncall@$DOMAIN" --alertmanager.url "http://$PROXY_IP:9093" \
    --fallback.file "$RUN_DIR/relay/fallback.log"
}

relay_healthy() { is_running relay && http_ok "http://$PROXY_IP:9099/-/healthy"; }
