#!/usr/bin/env bash
# Static checks of rules/alertmanager.yml and the notification template:
#   amtool check-config; one route per severity; the title and text templates rendered
#   against fixture notifications (tests/rules/fixtures/notify_*.json) match the expected
#   text (notify_*.{title,text}.txt). UPDATE=1 rewrites the expected files.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cfg=$root/rules/alertmanager.yml
command -v amtool >/dev/null || { echo "amtool missing (apt-get install prometheus-alertmanager)" >&2; exit 1; }
fail=0

amtool check-config "$cfg"

# amtool warns that --config.file overrides --alertmanager.url; that is what we want.
route() { amtool config routes test --config.file="$cfg" "$@" 2>/dev/null; }
expect_route() {
  local want=$1; shift
  local got
  got=$(route "$@")
  if [ "$got" = "$want" ]; then echo "route $* -> $got"; else echo "FAIL: route $* -> '$got', expected '$want'"; fail=1; fi
}
expect_route oncall-critical alertname=EjabberdNodeDown severity=critical host=xmpp1
expect_route oncall-warning alertname=HaproxyBackendServerDown severity=warning
expect_route ticket alertname=Something severity=info
expect_route oncall-warning alertname=NoSeverity

# Every receiver that notifies on-call sends resolved notifications too.
if grep -q 'send_resolved: false' <(sed -n '/name: oncall/,/name: ticket/p' "$cfg"); then
  echo "FAIL: an oncall receiver has send_resolved: false"; fail=1
fi

for data in "$here"/fixtures/notify_*.json; do
  base=${data%.json}
  for t in title text; do
    out=$(amtool template render --template.glob="$root/rules/templates/*.tmpl" \
            --template.text="{{ template \"xmppwatch.$t\" . }}" --template.data="$data")
    if [ "${UPDATE:-0}" = 1 ]; then printf '%s\n' "$out" >"$base.$t.txt"; fi
    if [ "$out" != "$(cat "$base.$t.txt")" ]; then
      echo "FAIL: $(basename "$base").$t differs:"; diff <(printf '%s\n' "$out") "$base.$t.txt" || true; fail=1
    elif grep -q '<no value>' <<<"$out"; then
      echo "FAIL: $(basename "$base").$t renders '<no value>'"; fail=1
    else
      echo "template xmppwatch.$t on $(basename "$data"): OK"
    fi
  done
done
exit $fail
