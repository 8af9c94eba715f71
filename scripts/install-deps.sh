#!/usr/bin/env bash
# Installs every Debian package the project needs that is not installed yet.
# Idempotent; the lists live in scripts/packages/*.txt (one package a line, # comments).
# A line "package command" skips the package when that command is already on PATH: the
# machine image may bring a tool from elsewhere (npm comes with its Node.js build, and
# Debian's npm package conflicts with that).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

wanted=()
missing=()
while read -r pkg cmd _; do
  wanted+=("$pkg")
  if [ -n "${cmd:-}" ] && command -v "$cmd" >/dev/null 2>&1; then
    continue
  fi
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done < <(sed -e 's/#.*//' "$here"/packages/*.txt | awk 'NF {print $1, $2}' | sort -u)
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#wanted[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing packages: ${missing[*]}" >&2
  echo "deps: run as root (or install them) to continue" >&2
  exit 1
fi
echo "deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Package installs must not start services in a container; the launcher starts what it needs.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/xmppwatch-apt.log 2>&1 || {
  tail -n 30 /tmp/xmppwatch-apt.log >&2
  echo "deps: apt-get install failed (full log: /tmp/xmppwatch-apt.log)" >&2
  exit 1
}
# Peers the stack or the benchmarks start themselves, on loopback: their Debian units, enabled
# by the packages, would start them at the next boot on every interface (VictoriaMetrics
# :8428, the exporters) and take the stack's ports. Only packages this run installed, and only
# under systemd (elsewhere policy-rc.d above already kept them from starting).
if [ -d /run/systemd/system ]; then
  for unit in victoria-metrics prometheus-process-exporter prometheus-node-exporter; do
    if [[ " ${missing[*]} " == *" $unit "* ]]; then systemctl disable --now --quiet "$unit" || true; fi
  done
fi
echo "deps: done"
