#!/usr/bin/env bash
# Debian packages of the three daemons from an existing build tree (make build):
#   xmppwatch-exporter, xmppwatch-probe, xmppwatch-alert-relay   (docs/packaging.md)
# Usage: scripts/build-deb.sh [BUILD_DIR] [OUT_DIR] [--no-lintian]
#   BUILD_DIR  the configured and built CMake tree (default: build)
#   OUT_DIR    where the .deb files go (default: BUILD_DIR/deb); a staging tree
#              OUT_DIR/xmppwatch-VERSION is made afresh from packaging/ each run
# debhelper (compat 13) does the work: dh_strip, dh_shlibdeps (Depends), dh_installsystemd,
# conffiles. The systemd units are the hardened ones in server/systemd/ with the paths
# adapted (/usr/bin, /usr/share/doc/PACKAGE). Runs as any user (Rules-Requires-Root: no).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

lintian=1
args=()
for a in "$@"; do
  case "$a" in
    --no-lintian) lintian=0 ;;
    -h | --help) sed -n '2,10p' "$0"; exit 0 ;;
    *) args+=("$a") ;;
  esac
done
build=$(cd "${args[0]:-$here/build}" && pwd)
out=${args[1]:-$build/deb}
mkdir -p "$out"
out=$(cd "$out" && pwd)

for tool in dh dpkg-shlibdeps cmake; do
  command -v "$tool" >/dev/null || { echo "build-deb: $tool missing (scripts/install-deps.sh)" >&2; exit 1; }
done
for bin in exporter/xmppwatch_exporter xmpp_probe/xmpp_probe alert_relay/xmppwatch_alert_relay; do
  [ -x "$build/$bin" ] || { echo "build-deb: $build/$bin not built (make build)" >&2; exit 1; }
done

if grep -q '^XMPPWATCH_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "build-deb: $build is a sanitizer build (XMPPWATCH_SANITIZE=ON): package a normal build" >&2
  exit 1
fi

version=$(sed -n 's/^project(xmppwatch VERSION \([0-9.]*\).*/\1/p' "$here/CMakeLists.txt")
[ -n "$version" ] || { echo "build-deb: no version in CMakeLists.txt" >&2; exit 1; }
debversion="$version-1"

stage="$out/xmppwatch-$version"
rm -rf "$stage"
mkdir -p "$stage/doc"
cp -r "$here/packaging/debian" "$here/packaging/etc" "$here/packaging/man" "$stage/"
cp "$here/docs/stack.md" "$here/docs/packaging.md" "$here/docs/exporter.md" "$here/docs/probe.md" "$stage/doc/"
cp "$here/alert_relay/README.md" "$stage/doc/alert-relay.md"

# One postinst for all three: the system user.
for pkg in xmppwatch-exporter xmppwatch-probe xmppwatch-alert-relay; do
  cp "$stage/debian/postinst-user" "$stage/debian/$pkg.postinst"
done
rm "$stage/debian/postinst-user"

# Units: the hardened ones from server/systemd/, with the packaged paths.
for pkg in xmppwatch-exporter xmppwatch-probe xmppwatch-alert-relay; do
  unit="$here/server/systemd/$pkg.service"
  {
    echo "# $pkg.service, installed by the $pkg package (generated from"
    echo "# server/systemd/$pkg.service: the same hardening, packaged paths). Options in"
    echo "# /etc/default/$pkg, configuration in /etc/xmppwatch/; see"
    echo "# /usr/share/doc/$pkg/packaging.md. Local changes: systemctl edit $pkg"
    sed -e '1,/^\[Unit\]/{/^#/d}' \
      -e 's|/usr/local/bin/|/usr/bin/|g' \
      -e "s|file:///usr/share/doc/xmppwatch/|file:///usr/share/doc/$pkg/|g" "$unit"
  } >"$stage/debian/$pkg.service"
  if grep -q '/usr/local' "$stage/debian/$pkg.service"; then
    echo "build-deb: $pkg.service still refers to /usr/local" >&2
    exit 1
  fi
done

maintainer=$(sed -n 's/^Maintainer: //p' "$stage/debian/control")
cat >"$stage/debian/changelog" <<EOF
xmppwatch ($debversion) unstable; urgency=medium

  * xmppwatch $version, packaged by scripts/build-deb.sh.

 -- $maintainer  $(date -R -u -d "@$(git -C "$here" log -1 --format=%ct 2>/dev/null || date +%s)")
EOF

echo "build-deb: xmppwatch $debversion from $build"
(cd "$stage" && XMPPWATCH_BUILD_DIR="$build" debian/rules binary) >"$out/build-deb.log" 2>&1 || {
  tail -n 40 "$out/build-deb.log" >&2
  echo "build-deb: debian/rules binary failed (full log: $out/build-deb.log)" >&2
  exit 1
}

arch=$(dpkg --print-architecture)
debs=()
for pkg in xmppwatch-exporter xmppwatch-probe xmppwatch-alert-relay; do
  debs+=("$out/${pkg}_${debversion}_$arch.deb")
done
ls -l "${debs[@]}"
if [ "$lintian" = 1 ]; then
  if command -v lintian >/dev/null; then
    echo "build-deb: lintian (accepted tags are overridden, with reasons, in packaging/debian/*.lintian-overrides)"
    lintian --fail-on error,warning "${debs[@]}"
  else
    echo "build-deb: lintian not installed, skipped" >&2
  fi
fi
