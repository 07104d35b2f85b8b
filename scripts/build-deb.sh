#!/usr/bin/env bash
# `make deb`: release/hopdump_VERSION_amd64.deb, a native Debian package of the single executable
# that `make exe` builds (release/hopdump-linux-x64), with the man pages, shell completions, JSON
# Schemas, contrib/ (systemd unit, Prometheus alert rules, Grafana dashboard, an example watch
# config) and the docs; then lintian on it (the build fails on any E: line). docs/install.md,
# "Debian package", says what is where and why.
#
# Needs: dpkg-deb, dpkg-shlibdeps (dpkg-dev), lintian, node (to read package.json and generate the
# man pages and copyright), and release/ from `make exe`. Environment: DEB_MAINTAINER (default
# below), DEB_COMPRESS (dpkg-deb -Z type, default gzip), DEB_LEVEL (-z level, default 6),
# SOURCE_DATE_EPOCH (default: the last commit's time; all timestamps in the package).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
release=release
exe=$release/hopdump-linux-x64
notices=$release/THIRD-PARTY-NOTICES
[ -x "$exe" ] && [ -f "$notices" ] || { echo "build-deb: $exe or $notices missing: run make exe" >&2; exit 3; }

version=$(node -p 'require("./package.json").version')
license=$(node -p 'require("./package.json").license')
[ "$license" = MIT ] || { echo "build-deb: package.json licence is $license: update scripts/deb-copyright.mjs" >&2; exit 1; }
arch=amd64
maintainer=${DEB_MAINTAINER:-hopdump maintainers <hopdump@example.org>}
# gzip -6: 9 s for the ~100 MB executable on 2 cores (36 MB), where xz -1 takes 29 s (29 MB) and
# xz -9 minutes. zstd -6 would take 5 s (32 MB) and Debian 12's dpkg reads it, but Debian 12's
# lintian calls a zstd member a malformed-deb-archive error (the archive takes gz and xz only).
# DEB_COMPRESS=xz DEB_LEVEL=1 for a smaller file.
compress=${DEB_COMPRESS:-gzip}
level=${DEB_LEVEL:-6}
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
deb=$release/hopdump_${version}_${arch}.deb

# The executable must be the one of this version (its --version prints package.json's).
got=$("$exe" --version)
[ "$got" = "$version" ] || [ "$got" = "hopdump $version" ] ||
  { echo "build-deb: $exe --version says '$got', package.json $version: run make exe" >&2; exit 1; }

stage=$release/deb/hopdump
rm -rf "$release/deb"
mkdir -p "$stage/DEBIAN"
umask 022
doc=$stage/usr/share/doc/hopdump
share=$stage/usr/share/hopdump
install -d "$stage/usr/bin" "$doc/examples" "$share/schema" "$share/prometheus" "$share/grafana" \
  "$stage/lib/systemd/system" "$stage/usr/share/lintian/overrides"

# /usr/bin/hopdump. Not stripped: the SEA blob is injected after the fact, and strip(1) on the
# injected binary makes it crash (the overrides below say so).
install -m 0755 "$exe" "$stage/usr/bin/hopdump"

# Man pages, from the same source as --help (scripts/gen-man.mjs, when present).
if [ -f scripts/gen-man.mjs ]; then
  man_out=$release/deb/man
  node scripts/gen-man.mjs "$man_out"
  install -d "$stage/usr/share/man/man1"
  for page in "$man_out"/*.1; do
    gzip -9n <"$page" >"$stage/usr/share/man/man1/$(basename "$page").gz"
  done
  echo "build-deb: man pages: $(cd "$man_out" && echo *.1)"
else
  echo "build-deb: note: scripts/gen-man.mjs is not there yet: the package has no man pages"
fi

# Shell completions, printed by the executable itself (hopdump completion SHELL), when it has them.
if "$exe" --help | grep -qE '^\s+completion\b'; then
  install -d "$stage/usr/share/bash-completion/completions" "$stage/usr/share/zsh/vendor-completions" \
    "$stage/usr/share/fish/vendor_completions.d"
  "$exe" completion bash >"$stage/usr/share/bash-completion/completions/hopdump"
  "$exe" completion zsh >"$stage/usr/share/zsh/vendor-completions/_hopdump"
  "$exe" completion fish >"$stage/usr/share/fish/vendor_completions.d/hopdump.fish"
  echo "build-deb: completions: bash, zsh, fish"
else
  echo "build-deb: note: this hopdump has no completion command yet: the package has no completions"
fi

# What hopdump and its integrations read, in /usr/share/hopdump.
install -m 0644 schema/*.schema.json "$share/schema/"
install -m 0644 contrib/prometheus/alerts.yml contrib/prometheus/alerts.test.yml "$share/prometheus/"
install -m 0644 contrib/grafana/hopdump.json "$share/grafana/"

# The watch service: its ExecStart must be the packaged executable.
unit=contrib/systemd/hopdump-watch.service
grep -qx 'ExecStart=/usr/bin/hopdump watch --config /etc/hopdump/watch.yaml' "$unit" ||
  { echo "build-deb: $unit: ExecStart is not /usr/bin/hopdump watch --config /etc/hopdump/watch.yaml" >&2; exit 1; }
install -m 0644 "$unit" "$stage/lib/systemd/system/"

# Docs. docs/watch.md stays uncompressed: the unit's Documentation= names it by that path.
gzip -9n <README.md >"$doc/README.md.gz"
for f in docs/*.md; do
  case $f in
  docs/watch.md) install -m 0644 "$f" "$doc/" ;;
  *) gzip -9n <"$f" >"$doc/$(basename "$f").gz" ;;
  esac
done
install -m 0644 contrib/watch/watch.yaml "$doc/examples/watch.yaml"
gzip -9n <"$notices" >"$doc/THIRD-PARTY-NOTICES.gz"
node_version=$(head -1 "$notices" | grep -oE 'Node\.js v[0-9]+\.[0-9]+\.[0-9]+' | cut -d' ' -f2)
node_license=${HOPDUMP_CACHE:-/var/cache/hopdump}/node/${node_version}-linux-x64/package/LICENSE
[ -f "$node_license" ] || { echo "build-deb: $node_license missing (make exe fetches it)" >&2; exit 1; }
gzip -9n <"$node_license" >"$doc/NODEJS-LICENSE.gz"
node scripts/deb-copyright.mjs "$notices" "$node_license" >"$doc/copyright"

# The changelog of a native package: /usr/share/doc/hopdump/changelog.gz, Debian's format.
{
  echo "hopdump ($version) unstable; urgency=medium"
  echo
  echo "  * hopdump $version as a Debian package: the single executable (Node.js"
  echo "    $node_version and hopdump's bundle) built from git commit $commit."
  echo "    The project's history is its git log."
  echo
  echo " -- $maintainer  $(date -u -R -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$doc/changelog.gz"

# Lintian tags inherent to a Node.js single executable (docs/install.md says why each).
cat >"$stage/usr/share/lintian/overrides/hopdump" <<'EOF'
# /usr/bin/hopdump is the official Node.js binary with hopdump injected into it (a Node single
# executable application). Node.js links its own copies of these libraries statically; they are
# part of the runtime hopdump is built for and cannot be swapped for Debian's without rebuilding
# Node.js, which is what the package avoids (Debian 12's nodejs is 18, hopdump needs 20).
hopdump: embedded-library * [usr/bin/hopdump]
# The official Node.js binary is built with its debug info, and strip(1) on the injected executable
# makes it crash (the injected blob sits in a note segment the stripped layout loses).
hopdump: unstripped-binary-or-object [usr/bin/hopdump]
# Node.js's own build flags (the official binary is not rebuilt with dpkg-buildflags).
hopdump: hardening-no-fortify-functions [usr/bin/hopdump]
hopdump: hardening-no-pie [usr/bin/hopdump]
# Strings of Node.js, V8 and the bundled npm packages (none of hopdump's own: checked when this
# override was written, and src/ is hopdump's to spell-check).
hopdump: spelling-error-in-binary * [usr/bin/hopdump]
EOF

# Every file's timestamp is SOURCE_DATE_EPOCH (a reproducible package).
find "$stage" -depth -newermt "@$SOURCE_DATE_EPOCH" -print0 | xargs -0r touch --no-dereference -d "@$SOURCE_DATE_EPOCH"

# Depends: the shared libraries the Node.js binary links, as dpkg-shlibdeps computes them from the
# symbols files of the installed libc6, libstdc++6 and libgcc-s1 (per symbol: the version that
# first had each symbol the binary uses). The raw facts first, in the log.
echo "build-deb: NEEDED: $(readelf -d "$exe" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
echo "build-deb: symbol versions: $(objdump -T "$exe" | grep -oE '\((GLIBC|GLIBCXX|CXXABI|GCC)_[0-9.]+\)' |
  tr -d '()' | sort -uV | awk -F_ '{v[$1]=$0} END {for (k in v) printf "%s ", v[k]}')(highest of each)"
shl=$release/deb/shlibdeps
mkdir -p "$shl/debian"
printf 'Source: hopdump\n\nPackage: hopdump\nArchitecture: %s\n' "$arch" >"$shl/debian/control"
libs=$(cd "$shl" && dpkg-shlibdeps -O --warnings=0 "$root/$stage/usr/bin/hopdump" | sed -n 's/^shlibs:Depends=//p')
[ -n "$libs" ] || { echo "build-deb: dpkg-shlibdeps found no libraries" >&2; exit 1; }
echo "build-deb: shared library dependencies: $libs"

installed_size=$(du -sk --apparent-size --exclude=DEBIAN "$stage" | cut -f1)
cat >"$stage/DEBIAN/control" <<EOF
Package: hopdump
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $libs, tcpdump, iproute2, iputils-ping, arping, netcat-openbsd
Recommends: nftables, iptables, fping, procps
Suggests: openvswitch-switch, ovn-common, libvirt-clients, docker.io | podman, prometheus, ebtables, ethtool, tshark
Section: net
Priority: optional
Description: find where and why packets die on the way to a VM or a container
 hopdump discovers the datapath from a hypervisor's or container host's uplink
 to a guest (Linux bridges, Open vSwitch and OVN, OpenStack Neutron, libvirt
 and QEMU, Docker and Podman, macvlan and macvtap, network namespaces),
 captures on every hop at once, matches the same packets across hops, names
 the hop where they stop and explains why, with evidence and the commands that
 would fix it.
 .
 It is read-only unless asked and leaves nothing behind. Besides diagnose, it
 reads pcap files like tcpdump (read), correlates captures taken by hand
 (analyze), shows the host's network (discover, path), probes targets
 continuously with Prometheus metrics (watch, with a systemd unit) and serves a
 web view of the datapath (serve).
 .
 The program is a single executable that carries its own Node.js runtime: it
 does not need the nodejs package.
EOF
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | LC_ALL=C sort -z | xargs -0 md5sum) \
  >"$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"
touch -d "@$SOURCE_DATE_EPOCH" "$stage/DEBIAN" "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"

rm -f "$deb"
start=$(date +%s%N)
dpkg-deb --root-owner-group -Z"$compress" -z"$level" --build "$stage" "$deb"
echo "build-deb: dpkg-deb ($compress -$level) took $((($(date +%s%N) - start) / 1000000)) ms;" \
  "$(du -h "$deb" | cut -f1) for $installed_size KiB installed"
dpkg-deb --info "$deb"

# lintian, all of its output (informational tags and the overridden ones too); no E: allowed.
echo "build-deb: lintian $(lintian --version | cut -d' ' -f2)"
set +e
out=$(lintian --display-info --show-overrides --tag-display-limit 0 "$deb" 2>&1)
set -e
echo "$out"
if grep -q '^E: ' <<<"$out"; then
  echo "build-deb: lintian reports errors (E:) on $deb" >&2
  exit 1
fi
echo "build-deb: lintian: $(grep -c '^E: ' <<<"$out" || true) errors, $(grep -c '^W: ' <<<"$out" || true) warnings," \
  "$(grep -c '^I: ' <<<"$out" || true) info, $(grep -c '^O: ' <<<"$out" || true) overridden"
rm -rf "$release/deb"
echo "$deb"
