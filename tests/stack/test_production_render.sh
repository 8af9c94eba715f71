#!/usr/bin/env bash
# server/production/render.sh turns the stack's templates into valid configuration for three
# real hosts: HAProxy and Prometheus accept theirs, ejabberd.yml parses, no placeholder left.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
XMPPWATCH_SQL_PASSWORD=0123abcd "$root/server/production/render.sh" "$out" >/dev/null 2>&1
fail=0 passed=0
check() {
  if "$@" >/dev/null 2>&1; then echo "ok: $*"; passed=$((passed + 1)); else echo "FAIL: $*"; fail=$((fail + 1)); fi
}
check haproxy -c -f "$out/vm1-proxy/etc/haproxy/haproxy.cfg"
check promtool check config "$out/vm1-proxy/etc/prometheus/prometheus.yml"
check amtool check-config "$out/vm1-proxy/etc/prometheus/alertmanager.yml"
for vm in vm2-xmpp1 vm3-xmpp2; do
  check /usr/bin/python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$out/$vm/etc/ejabberd/ejabberd.yml"
done
check grep -q 'bind-address = 192.168.10.4' "$out/vm3-xmpp2/etc/mysql/mariadb.conf.d/60-xmppwatch.cnf"
check grep -q 'ERLANG_NODE=ej2@192.168.10.4' "$out/vm3-xmpp2/etc/ejabberd/ejabberdctl.cfg"
# The database hosts' exporters watch ejabberd, MariaDB replication and the backup textfile.
for flag in collector.ejabberd.api-url=http://127.0.0.1:5280/api collector.mysql.address=127.0.0.1:3306 \
  collector.textfile.directory=/var/lib/xmppwatch/textfile; do
  check grep -q -- "--$flag" "$out/vm2-xmpp1/etc/default/xmppwatch-exporter"
done
check grep -q -- '--collector.service.names=haproxy=haproxy' "$out/vm1-proxy/etc/default/xmppwatch-exporter"
# The load balancer's agent-check has an agent to ask on each chat host's LAN address.
check grep -q -- '--lb-agent.listen-address=192.168.10.3:9101' "$out/vm2-xmpp1/etc/default/xmppwatch-exporter"
check grep -q -- 'agent-check agent-port 9101' "$out/vm1-proxy/etc/haproxy/haproxy.cfg"
# HAProxy drops root after binding: chrooted into Debian's empty /var/lib/haproxy, running as
# haproxy:haproxy (in the global section, before any other section starts).
global_section() { awk '/^global/ {g = 1; next} /^[a-z]/ {g = 0} g' "$out/vm1-proxy/etc/haproxy/haproxy.cfg"; }
check grep -qE '^\s+chroot /var/lib/haproxy$' <(global_section)
check grep -qE '^\s+user haproxy$' <(global_section)
check grep -qE '^\s+group haproxy$' <(global_section)
# The configuration holding a secret (the SQL password) is not world-readable; the others are.
check test "$(stat -c %a "$out/vm2-xmpp1/etc/ejabberd/ejabberd.yml")" = 640
check test "$(stat -c %a "$out/vm1-proxy/etc/haproxy/haproxy.cfg")" = 644
left=$(grep -rhoE '@[A-Z][A-Z0-9_]*@' "$out" | sort -u | tr '\n' ' ' || true)
if [ -n "$left" ]; then echo "FAIL: placeholders left: $left"; fail=$((fail + 1)); else echo "ok: no placeholder left"; passed=$((passed + 1)); fi
echo "$passed passed, $fail failed"
[ "$fail" -eq 0 ]
