#!/usr/bin/env bash
# Builds the lab's libvirt guest: a Debian cloud kernel and a small initramfs
# (busybox, qemu-guest-agent, iproute2's ip, nft, tcpdump and the shared
# libraries they need, the virtio modules), cached under
#   /var/cache/hopdump/guest-image/<key>/{vmlinuz,initrd.gz,cmdline,manifest}
# with /var/cache/hopdump/guest-image/current pointing at the newest. The key
# is a hash of this script, init and the versions of every package used, so a
# Debian update or an edit here builds a new image; a second run with nothing
# changed does nothing (and needs no network).
#
# Usage: scripts/guest-image/build.sh [--print-dir]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${HOPDUMP_GUEST_IMAGE_CACHE:-/var/cache/hopdump/guest-image}
# Programs copied from the host, with the packages they come from (for the key).
host_packages=(busybox-static iproute2 nftables tcpdump libc6)
host_programs=(/usr/bin/ip /usr/sbin/nft /usr/bin/tcpdump)
# Modules loaded by init, in order; their dependencies come along through depmod.
modules=(virtio virtio_ring virtio_pci virtio_net virtio_console nf_tables)

die() { echo "guest-image: $*" >&2; exit 3; }
[ "$(id -u)" -eq 0 ] || die "run as root (it reads apt's cache and writes $cache)"
for p in apt-get apt-cache dpkg-deb dpkg-query depmod cpio gzip ldd sha256sum; do
  command -v "$p" >/dev/null || die "$p not found (make deps installs cpio; the rest is Debian's base)"
done

# The cloud kernel's metapackage names the versioned image package it depends on.
kernel_package() { apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }'; }
# "PKG=VERSION ..." of apt's candidates, in one apt-cache call (each costs ~0.5 s).
candidates() { apt-cache policy "$@" 2>/dev/null | awk '/^[^ ].*:$/ { p = substr($1, 1, length($1) - 1) } /Candidate:/ && $2 != "(none)" { printf "%s=%s ", p, $2 }'; }

kpkg=$(kernel_package)
if [ -z "$kpkg" ]; then apt-get update -qq; kpkg=$(kernel_package); fi
[ -n "$kpkg" ] || die "no linux-image-*-cloud-amd64 in apt's lists (apt-get update?)"
versions=$(candidates "$kpkg" qemu-guest-agent)
if ! grep -q "qemu-guest-agent=" <<<"$versions"; then apt-get update -qq; versions=$(candidates "$kpkg" qemu-guest-agent); fi
grep -q "qemu-guest-agent=" <<<"$versions" || die "qemu-guest-agent is not in apt's lists"
for p in "${host_packages[@]}"; do
  v=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null) || die "Debian package $p is not installed (make deps)"
  versions+="$p=$v "
done
key=$( { cat "$here/build.sh" "$here/init"; echo "$versions"; } | sha256sum | cut -c1-16)
out="$cache/$key"

if [ -f "$out/manifest" ]; then
  ln -sfn "$key" "$cache/current"
  [ "${1:-}" = "--print-dir" ] && echo "$out"
  exit 0
fi

echo "guest-image: building $key ($versions)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debs"
(cd "$work/debs" && apt-get download -qq "$kpkg" qemu-guest-agent 2>&1 | grep -v '^W: Download is performed unsandboxed' || true)
ls "$work/debs"/linux-image-*.deb "$work/debs"/qemu-guest-agent_*.deb >/dev/null 2>&1 || die "apt-get download $kpkg qemu-guest-agent failed"
dpkg-deb -x "$work/debs"/linux-image-*.deb "$work/kernel"
dpkg-deb -x "$work/debs"/qemu-guest-agent_*.deb "$work/qga"
kver=$(basename "$(ls -d "$work/kernel/lib/modules"/*)")

root=$work/root
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,var,srv,lib64,lib/x86_64-linux-gnu}
ln -s ../run "$root/var/run"

# busybox-static: every applet as a link, except the ones iproute2 replaces
# (the operator expects `ip -j`; busybox ip has no JSON).
cp /bin/busybox "$root/bin/busybox"
for applet in $("$root/bin/busybox" --list); do
  case "$applet" in ip|tc|busybox) continue ;; esac
  [ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
ln -s ../bin/busybox "$root/sbin/modprobe"
ln -s ../bin/busybox "$root/sbin/insmod"

# Dynamic programs and every library ldd resolves for them.
copy_with_libs() {
  local src=$1 dest=$2
  install -D -m 0755 "$src" "$root$dest"
  local libs
  libs=$(ldd "$src") || die "ldd $src failed"
  if grep -q 'not found' <<<"$libs"; then die "$src needs libraries the host lacks: $(grep 'not found' <<<"$libs" | tr -s ' \t' ' ')"; fi
  for lib in $(awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' <<<"$libs"); do
    [ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
  done
}
copy_with_libs "$work/qga/usr/sbin/qemu-ga" /usr/sbin/qemu-ga
for p in "${host_programs[@]}"; do copy_with_libs "$p" "$p"; done
ln -s ../usr/bin/ip "$root/sbin/ip"
# Debian links /lib to /usr/lib: ldd names either; both must resolve in the guest.
if [ -d "$root/usr/lib/x86_64-linux-gnu" ]; then cp -an "$root/usr/lib/x86_64-linux-gnu/." "$root/lib/x86_64-linux-gnu/"; fi
# nft reads its JSON/iproute2 tables from here; tcpdump drops to a user named with -Z.
[ -d /etc/iproute2 ] && cp -r /etc/iproute2 "$root/etc/"
printf 'root:x:0:0:root:/:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
printf 'ip 0 IP\nicmp 1 ICMP\ntcp 6 TCP\nudp 17 UDP\nipv6-icmp 58 IPv6-ICMP\n' >"$root/etc/protocols"
printf '127.0.0.1 localhost\n' >"$root/etc/hosts"

# Modules (and what they depend on), with a modules.dep for busybox modprobe.
kmods=$work/kernel/lib/modules/$kver
need=()
resolve() {
  local m=$1 f dep
  f=$(find "$kmods/kernel" -name "$m.ko" -o -name "$m.ko.xz" -o -name "$m.ko.zst" | head -1)
  if [ -z "$f" ]; then
    grep -q "/$m.ko" "$kmods/modules.builtin" 2>/dev/null && return 0
    die "kernel module $m is neither a module nor built in ($kver)"
  fi
  for x in "${need[@]:-}"; do [ "$x" = "$f" ] && return 0; done
  for dep in $(/sbin/modinfo -F depends "$f" | tr ',' ' '); do resolve "$dep"; done
  need+=("$f")
}
for m in "${modules[@]}"; do resolve "$m"; done
for f in "${need[@]}"; do install -D -m 0644 "$f" "$root/lib/modules/$kver/${f#"$kmods/"}"; done
cp "$kmods"/modules.builtin* "$kmods/modules.order" "$root/lib/modules/$kver/" 2>/dev/null || true
depmod -b "$root" "$kver"
printf '%s\n' "${modules[@]}" >"$root/etc/modules"

install -m 0755 "$here/init" "$root/init"

mkdir -p "$cache"; rm -rf "$out.tmp"; mkdir -p "$out.tmp"
cp "$work/kernel/boot/vmlinuz-$kver" "$out.tmp/vmlinuz"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -6 >"$out.tmp/initrd.gz"
# console=ttyS0: the boot log goes to the domain's serial file; panic=-1: a
# broken init reboots at once instead of hanging under TCG.
echo "console=ttyS0 panic=-1 quiet" >"$out.tmp/cmdline"
{
  echo "key=$key"
  echo "kernel=$kver"
  echo "versions=$versions"
  echo "initrd_bytes=$(stat -c %s "$out.tmp/initrd.gz")"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$out.tmp/manifest"
rm -rf "$out"
mv "$out.tmp" "$out"
ln -sfn "$key" "$cache/current"
# Older keys are other package versions' images: keep only the newest two.
ls -1t "$cache" | grep -v '^current$' | tail -n +3 | while read -r old; do rm -rf "${cache:?}/$old"; done
echo "guest-image: $out ($(du -sh "$out" | cut -f1))"
[ "${1:-}" = "--print-dir" ] && echo "$out"
exit 0
