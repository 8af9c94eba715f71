#!/usr/bin/env bash
# Renders the stack's templates (server/templates, the same files the local stack runs) for
# three real hosts, one directory tree per host, ready to copy under /.
# usage: server/production/render.sh OUT_DIR [HOSTS_ENV]
# Secrets are not invented here: the ejabberd SQL password is taken from
# XMPPWATCH_SQL_PASSWORD, otherwise left as CHANGE-ME (ejabberd then fails to log in to SQL).
# shellcheck source-path=SCRIPTDIR
set -euo pipefail
SERVER_DIR=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)
# shellcheck source=../lib/common.sh
. "$SERVER_DIR/lib/common.sh"

out=${1:?usage: render.sh OUT_DIR [HOSTS_ENV]}
hosts=${2:-$SERVER_DIR/production/hosts.env}
[ -r "$hosts" ] || die "cannot read $hosts"
# shellcheck source=hosts.env
. "$hosts"
sql_password=${XMPPWATCH_SQL_PASSWORD:-CHANGE-ME}

# Configuration without secrets is world-readable as in /etc; ejabberd.yml (the SQL password)
# is written 600 and only then opened to its group (640, root:ejabberd once installed).
export RENDER_MODE=644
vm1=$out/vm1-proxy vm2=$out/vm2-xmpp1 vm3=$out/vm3-xmpp2
mkdir -p "$vm1/etc/haproxy" "$vm1/etc/prometheus/rules" "$vm1/etc/default"

render "$TEMPLATE_DIR/haproxy.cfg" "$vm1/etc/haproxy/haproxy.cfg" \
  HAPROXY_SOCKET=/run/haproxy/admin.sock HAPROXY_CHROOT=/var/lib/haproxy \
  HAPROXY_USER=haproxy HAPROXY_GROUP=haproxy STATS_IP=127.0.0.1 LB_BIND_IP="$LB_BIND_IP" \
  PROXY_IP="$PROXY_IP" XMPP1_IP="$XMPP1_IP" XMPP2_IP="$XMPP2_IP" DOMAIN="$DOMAIN" \
  RATE_LIMIT="$RATE_LIMIT" SESSION_RATE="$SESSION_RATE" EXTRA_SERVERS=""
render "$TEMPLATE_DIR/prometheus.yml" "$vm1/etc/prometheus/prometheus.yml" \
  RULES_GLOB="/etc/prometheus/rules/*.yml" STATS_IP=127.0.0.1 \
  PROXY_IP="$PROXY_IP" XMPP1_IP="$XMPP1_IP" XMPP2_IP="$XMPP2_IP" EXTRA_HOSTS="" EXTRA_NODES="" \
  REMOTE_WRITE="${XMPPWATCH_REMOTE_WRITE_URL:+remote_write:\n  - url: \"$XMPPWATCH_REMOTE_WRITE_URL\"}"
if [ -f "$RULES_DIR/alertmanager.yml" ]; then
  cp "$RULES_DIR/alertmanager.yml" "$vm1/etc/prometheus/alertmanager.yml"
else
  cp "$TEMPLATE_DIR/alertmanager.yml" "$vm1/etc/prometheus/alertmanager.yml"
fi
for f in "$RULES_DIR"/*.yml; do
  if [ -f "$f" ] && grep -q '^groups:' "$f"; then cp "$f" "$vm1/etc/prometheus/rules/"; fi
done
printf 'ARGS="--web.listen-address=%s:9100 --collector.processes %s"\n' "$PROXY_IP" \
  "--collector.service.names=haproxy=haproxy,prometheus=prometheus,alertmanager=prometheus-aler,probe=xmpp_probe" \
  >"$vm1/etc/default/xmppwatch-exporter"
printf 'ARGS="--web.listen-address=%s:9815 --config.file=/etc/xmppwatch/probe.yml"\n' "$PROXY_IP" \
  >"$vm1/etc/default/xmppwatch-probe"
# The alert relay: Alertmanager on the same host posts to 127.0.0.1:9099; it logs in through the
# load balancer on this host. Accounts alerts@ and oncall@ are created like any other.
{
  printf 'ARGS="--web.listen-address 127.0.0.1:9099 --xmpp.target 127.0.0.1:5222 --xmpp.domain %s' "$DOMAIN"
  printf ' --xmpp.user alerts --xmpp.password-file /etc/xmppwatch/xmpp-alerts.password'
  printf ' --xmpp.ca-file /etc/xmppwatch/ca.crt --xmpp.to oncall@%s' "$DOMAIN"
  printf ' --fallback.file /var/lib/xmppwatch-alert-relay/fallback.log"\n'
} >"$vm1/etc/default/xmppwatch-alert-relay"

n=0
for vm in "$vm2" "$vm3"; do
  n=$((n + 1))
  if [ "$n" = 1 ]; then ip=$XMPP1_IP; else ip=$XMPP2_IP; fi
  mkdir -p "$vm/etc/ejabberd" "$vm/etc/mysql/mariadb.conf.d" "$vm/etc/default"
  RENDER_MODE=640 render "$TEMPLATE_DIR/ejabberd.yml" "$vm/etc/ejabberd/ejabberd.yml" \
    NODE_INDEX="$n" NODE_IP="$ip" DOMAIN="$DOMAIN" CERTFILE="/etc/ejabberd/$DOMAIN.pem" \
    SQL_PASSWORD="$sql_password" UPLOAD_DIR=/var/lib/ejabberd/upload \
    API_IP=127.0.0.1 METRICS_IP=127.0.0.1 UPLOAD_URL="https://$ip:5443/upload" \
    S2S_CAFILE=/etc/ejabberd/s2s-ca.pem SQL_IP="$ip"
  render "$TEMPLATE_DIR/ejabberdctl.cfg" "$vm/etc/ejabberd/ejabberdctl.cfg" \
    NODE_INDEX="$n" NODE_NAME="ej$n@$ip" NODE_IP="$ip" CONF_DIR=/etc/ejabberd \
    PID_FILE=/run/ejabberd/ejabberd.pid EPMD_ADDRESS="127.0.0.1,$ip"
  render "$TEMPLATE_DIR/mariadb.cnf" "$vm/etc/mysql/mariadb.conf.d/60-xmppwatch.cnf" \
    NODE_INDEX="$n" NODE_IP="$ip" LOCAL_PATHS="# datadir, socket and logs: Debian's defaults." \
    LOCAL_TUNING="# Size innodb-buffer-pool-size to the host (Debian's default is 128M)."
  # The exporter listens on the LAN for Prometheus on VM1; the ejabberd API, mod_metrics and
  # MariaDB are reached on 127.0.0.1. The backup timer writes into the textfile directory.
  {
    printf 'ARGS="--web.listen-address=%s:9100 --collector.processes' "$ip"
    printf ' --collector.service.names=ejabberd=beam.smp,mariadb=mariadbd'
    printf ' --collector.ejabberd --collector.ejabberd.api-url=http://127.0.0.1:5280/api'
    printf ' --collector.ejabberd.cluster-members=ej1@%s,ej2@%s' "$XMPP1_IP" "$XMPP2_IP"
    printf ' --collector.ejabberd_metrics --collector.ejabberd_metrics.listen-address=127.0.0.1:11111'
    printf ' --collector.ejabberd_auth --collector.ejabberd_auth.log-file=/var/log/ejabberd/ejabberd.log'
    printf ' --collector.mysql --collector.mysql.address=127.0.0.1:3306'
    printf ' --collector.mysql.credentials-file=/etc/xmppwatch/mariadb-exporter.cnf'
    printf ' --collector.textfile.directory=/var/lib/xmppwatch/textfile'
    # HAProxy on VM1 asks this agent whether the node can write to its database (port 9101).
    printf ' --lb-agent.listen-address=%s:9101 --lb-agent.ejabberd-api-url=http://127.0.0.1:5280/api' "$ip"
    printf ' --lb-agent.domain=%s"\n' "$DOMAIN"
  } >"$vm/etc/default/xmppwatch-exporter"
done
log "rendered for $DOMAIN into $out: $(cd "$out" && find . -type f | sort | tr '\n' ' ')"
if [ "$sql_password" = CHANGE-ME ]; then log "note: sql_password is CHANGE-ME in both ejabberd.yml (set XMPPWATCH_SQL_PASSWORD)"; fi
