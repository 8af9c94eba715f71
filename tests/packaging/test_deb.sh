#!/usr/bin/env bash
# make deb's packages (scripts/build-deb.sh): built from the build tree into a throwaway
# directory, then checked: files, conffiles, maintainer scripts, Depends against the
# binaries' NEEDED libraries, units against server/systemd/ (the same hardening), no build
# path anywhere, lintian. Then the packages are extracted (dpkg -x, never installed) into a
# throwaway root and the exporter and the probe are started from there on free 127.0.0.1
# ports: the exporter on the fixture procfs/sysfs with the packaged web config, scraped once;
# the probe with the packaged probe.yml. Both are stopped by pid; the trap removes the rest.
# Nothing on the host's /usr, /etc or systemd is touched.
# Usage: test_deb.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=$(cd "$1" && pwd)
build=$(cd "$2" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/xmppwatch-deb-test.XXXXXX")
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    kill "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

failures=0
fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
ok() { echo "ok: $*"; }

out="$work/out"
root="$work/root"
mkdir -p "$out" "$root"

# Lintian: errors and warnings fail (build-deb.sh runs it with --fail-on error,warning);
# accepted tags carry overrides with reasons in packaging/debian/*.lintian-overrides.
lintian_arg=()
command -v lintian >/dev/null || lintian_arg=(--no-lintian)
if "$src/scripts/build-deb.sh" "$build" "$out" "${lintian_arg[@]}" >"$work/build.log" 2>&1; then
  ok "build-deb.sh built the packages${lintian_arg:+ (lintian not installed)}, lintian clean"
else
  cat "$work/build.log" >&2
  echo "FAIL: scripts/build-deb.sh" >&2
  exit 1
fi

version=$(sed -n 's/^project(xmppwatch VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")-1
arch=$(dpkg --print-architecture)

# The package that owns a shared library the dynamic loader would pick.
lib_owner() {
  local path
  path=$(ldconfig -p | awk -v lib="$1" '$1 == lib && /x86-64|x86_64|AArch64|aarch64/ {print $NF; exit}')
  [ -n "$path" ] || path=$(ldconfig -p | awk -v lib="$1" '$1 == lib {print $NF; exit}')
  [ -n "$path" ] || return 1
  local real
  real=$(readlink -f "$path")
  # Usrmerge: dpkg may know the file under /lib or under /usr/lib.
  for p in "$path" "$real" "${path#/usr}" "/usr$path" "${real#/usr}" "/usr$real"; do
    if owner=$(dpkg-query -S "$p" 2>/dev/null); then
      echo "${owner%%:*}"
      return 0
    fi
  done
  return 1
}

check_package() {
  local pkg=$1 bin=$2 conffiles=$3 extra_depends=$4 enabled=$5
  local deb="$out/${pkg}_${version}_$arch.deb"
  if [ ! -f "$deb" ]; then
    fail "$pkg: $deb missing"
    return
  fi
  local ctl="$work/ctl/$pkg" pkgroot="$work/pkg/$pkg"
  mkdir -p "$ctl" "$pkgroot"
  dpkg-deb -e "$deb" "$ctl"
  dpkg-deb -x "$deb" "$pkgroot"
  dpkg-deb -x "$deb" "$root"
  echo "$pkg: $(stat -c %s "$deb") bytes"

  # Files.
  local unit_dir=""
  for d in lib/systemd/system usr/lib/systemd/system; do
    [ -f "$pkgroot/$d/$pkg.service" ] && unit_dir=$d
  done
  [ -n "$unit_dir" ] || fail "$pkg: no $pkg.service under /lib/systemd/system or /usr/lib/systemd/system"
  [ -x "$pkgroot/usr/bin/$bin" ] || fail "$pkg: /usr/bin/$bin missing or not executable"
  [ -f "$pkgroot/usr/share/doc/$pkg/copyright" ] || fail "$pkg: no copyright file"
  [ -f "$pkgroot/usr/share/man/man1/$bin.1.gz" ] || fail "$pkg: no manual page"
  [ -f "$pkgroot/usr/share/doc/$pkg/stack.md" ] || fail "$pkg: the unit's Documentation= file is missing"
  if find "$pkgroot" -path '*/usr/local*' | grep -q .; then fail "$pkg: ships files under /usr/local"; fi

  # Conffiles: exactly the packaged configuration, all under /etc.
  local want got
  want=$(tr ' ' '\n' <<<"$conffiles" | sort)
  got=$(sort "$ctl/conffiles" 2>/dev/null || true)
  if [ "$want" = "$got" ]; then ok "$pkg: conffiles $(echo "$got" | tr '\n' ' ')"; else
    fail "$pkg: conffiles are '$got', expected '$want'"
  fi
  for f in $conffiles; do
    [ -f "$pkgroot$f" ] || fail "$pkg: conffile $f not in the package"
  done

  # Maintainer scripts: the system user, and the unit enabled (exporter) or not (the others).
  grep -q 'adduser --quiet --system' "$ctl/postinst" || fail "$pkg: postinst does not create the system user"
  if grep -q '^#DEBHELPER#' "$ctl/postinst"; then fail "$pkg: postinst still has #DEBHELPER#"; fi
  if [ "$enabled" = yes ]; then
    grep -q 'new installations run enable' "$ctl/postinst" || fail "$pkg: postinst does not enable the unit"
  else
    if ! grep -q "deb-systemd-helper debian-installed '$pkg.service'" "$ctl/postinst" ||
      grep -q 'new installations run enable' "$ctl/postinst"; then
      fail "$pkg: postinst should not enable the unit"
    fi
  fi
  grep -q "deb-systemd-invoke stop '$pkg.service'" "$ctl/prerm" || fail "$pkg: prerm does not stop the unit"
  grep -q "deb-systemd-helper purge '$pkg.service'" "$ctl/postrm" || fail "$pkg: postrm does not purge the unit state"
  sh -n "$ctl/postinst" || fail "$pkg: postinst is not valid sh"

  # Depends: every NEEDED library's package (dpkg-shlibdeps), plus what is dlopen()ed.
  local depends needed lib owner
  depends=$(dpkg-deb -f "$deb" Depends)
  for owner in adduser $extra_depends; do
    [[ ", $depends," == *", $owner"[\ ,]* ]] || fail "$pkg: Depends lacks $owner: $depends"
  done
  needed=$(readelf -d "$pkgroot/usr/bin/$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  for lib in $needed; do
    if ! owner=$(lib_owner "$lib"); then
      fail "$pkg: no installed package has $lib"
      continue
    fi
    [[ ", $depends," == *", $owner"[\ ,]* ]] || fail "$pkg: needs $lib ($owner), not in Depends: $depends"
  done
  ok "$pkg: Depends: $depends"

  # Units: ExecStart in /usr/bin, options from /etc/default, every hardening line of
  # server/systemd/ kept.
  local unit="$pkgroot/$unit_dir/$pkg.service"
  if [ -n "$unit_dir" ]; then
    grep -qx "ExecStart=/usr/bin/$bin \$ARGS" "$unit" || fail "$pkg: ExecStart is not /usr/bin/$bin \$ARGS"
    grep -qx "EnvironmentFile=-/etc/default/$pkg" "$unit" || fail "$pkg: EnvironmentFile is not /etc/default/$pkg"
    grep -qx "User=xmppwatch" "$unit" || fail "$pkg: not User=xmppwatch"
    local n=0 line
    while IFS= read -r line; do
      n=$((n + 1))
      grep -qxF "$line" "$unit" || fail "$pkg: hardening line '$line' of server/systemd/$pkg.service missing"
    done < <(grep -E '^(NoNewPrivileges|Protect|Private|Restrict|LockPersonality|MemoryDenyWriteExecute|SystemCallArchitectures|CapabilityBoundingSet|MemoryMax|StateDirectory|UMask)' \
      "$src/server/systemd/$pkg.service")
    [ "$n" -ge 10 ] || fail "$pkg: only $n hardening lines found in server/systemd/$pkg.service"
    if grep -q /usr/local "$unit" "$pkgroot/etc/default/$pkg"; then fail "$pkg: /usr/local in the unit or defaults"; fi
    if command -v systemd-analyze >/dev/null; then
      # The unit's syntax (any message fails: unknown keys are only warned about), with
      # ExecStart pointed at the extracted binary so that it exists.
      mkdir -p "$work/verify"
      sed "s|^ExecStart=/usr/bin/|ExecStart=$pkgroot/usr/bin/|" "$unit" >"$work/verify/$pkg.service"
      if ! timeout 30 systemd-analyze verify "$work/verify/$pkg.service" >"$work/verify.$pkg" 2>&1 ||
        [ -s "$work/verify.$pkg" ]; then
        fail "$pkg: systemd-analyze verify: $(cat "$work/verify.$pkg")"
      fi
    fi
  fi

  # No build-time path: the source tree, the build tree, the staging tree, in any file.
  local hits
  hits=$(grep -rlaF -e "$src/" -e "$build/" -e "$out/" "$pkgroot" "$ctl" || true)
  if [ -n "$hits" ]; then fail "$pkg: build paths in: $hits"; else ok "$pkg: no build path in any file"; fi
  # Into a file first: with grep -q in a pipe, strings dies of SIGPIPE when grep matches, and
  # pipefail turns the match into a failure of the pipeline, i.e. into "no match".
  strings -a "$pkgroot/usr/bin/$bin" >"$work/strings.$pkg"
  if grep -qE '^/work/|/build/(exporter|xmpp_probe|alert_relay|common|xmpp)/' "$work/strings.$pkg"; then
    fail "$pkg: strings of /usr/bin/$bin show a build path"
  fi
  # Stripped: no debug sections left (they hold the compilation directory).
  if readelf -S "$pkgroot/usr/bin/$bin" | grep -q '\.debug_'; then fail "$pkg: /usr/bin/$bin has debug sections"; fi

  # Runs from the extracted tree with the host's libraries (what Depends names).
  "$pkgroot/usr/bin/$bin" --help >"$work/help.$pkg" 2>&1 || fail "$pkg: $bin --help failed"
}

check_package xmppwatch-exporter xmppwatch_exporter \
  "/etc/default/xmppwatch-exporter /etc/xmppwatch/exporter-web.yml" "libproc2-0" yes
check_package xmppwatch-probe xmpp_probe \
  "/etc/default/xmppwatch-probe /etc/xmppwatch/probe.yml /etc/xmppwatch/probe-web.yml" "" no
check_package xmppwatch-alert-relay xmppwatch_alert_relay \
  "/etc/default/xmppwatch-alert-relay /etc/xmppwatch/alert-relay-web.yml" "" no

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Polls URL until it answers (or the process is gone): 0 when it answered.
wait_http() {
  local url=$1 pid=$2 _
  for _ in $(seq 1 100); do
    curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# Stops a daemon we started by its pid; 0 when it exited with status 0.
stop_pid() {
  local pid=$1 rc=0
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  local keep=() p
  for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  pids=("${keep[@]}")
  return "$rc"
}

# The exporter from the extracted root: the packaged binary and web config, the fixture
# /proc and /sys of the unit tests (so the values are known), a free loopback port.
exporter="$root/usr/bin/xmppwatch_exporter"
if [ -x "$exporter" ]; then
  port=$(free_port)
  env -i PATH=/usr/bin:/bin "$exporter" --web.listen-address="127.0.0.1:$port" \
    --web.config.file="$root/etc/xmppwatch/exporter-web.yml" \
    --path.procfs="$src/tests/fixtures/proc" --path.sysfs="$src/tests/fixtures/sys" \
    >"$work/exporter.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  if wait_http "http://127.0.0.1:$port/metrics" "$pid"; then
    curl -fsS --max-time 10 "http://127.0.0.1:$port/metrics" >"$work/metrics" || fail "exporter: scrape failed"
    grep -qx 'node_load1 0.25' "$work/metrics" || fail "exporter: node_load1 from the fixture procfs missing"
    grep -q '^xmppwatch_exporter_build_info{version="' "$work/metrics" || fail "exporter: build info missing"
    if grep -q 'node_scrape_collector_success{collector="loadavg"} 1' "$work/metrics"; then
      ok "exporter from the extracted package: $(grep -c '^[a-z]' "$work/metrics") series on 127.0.0.1:$port"
    else
      fail "exporter: loadavg collector did not succeed"
    fi
  else
    fail "exporter did not answer on 127.0.0.1:$port: $(tail -n 5 "$work/exporter.log")"
  fi
  stop_pid "$pid" || fail "exporter: exit status $? after SIGTERM"
fi

# The probe from the extracted root with an explicit --config.file: no repository layout,
# no XMPPWATCH_RUN_DIR. Its example modules only connect when probed.
probe="$root/usr/bin/xmpp_probe"
if [ -x "$probe" ]; then
  env -i PATH=/usr/bin:/bin "$probe" config --config.file "$root/etc/xmppwatch/probe.yml" >"$work/probe-config.log" 2>&1 ||
    fail "probe: packaged probe.yml rejected: $(cat "$work/probe-config.log")"
  port=$(free_port)
  env -i PATH=/usr/bin:/bin "$probe" --web.listen-address="127.0.0.1:$port" --config.file "$root/etc/xmppwatch/probe.yml" \
    --web.config.file "$root/etc/xmppwatch/probe-web.yml" >"$work/probe.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  if wait_http "http://127.0.0.1:$port/-/healthy" "$pid"; then
    curl -fsS --max-time 10 "http://127.0.0.1:$port/metrics" >"$work/probe-metrics" || fail "probe: /metrics failed"
    ok "probe from the extracted package with --config.file answers on 127.0.0.1:$port"
  else
    fail "probe did not answer on 127.0.0.1:$port: $(tail -n 5 "$work/probe.log")"
  fi
  stop_pid "$pid" || fail "probe: exit status $? after SIGTERM"
fi

if [ "$failures" -gt 0 ]; then
  echo "$failures failure(s)" >&2
  exit 1
fi
echo "packaging: all checks passed"
