#!/usr/bin/env bash
# Builds the root file system of a gridbox box with debootstrap (Debian 12,
# minimal) and packs it as a tarball to write onto the box's card or disk:
#   images/build-image.sh amd64 dist/gridbox-rootfs-amd64.tar.gz
# It holds: the kernel, systemd with journald limits for a small card, the
# gridbox binary (as the first release, see docs/operations.md "Upgrades"),
# the kiosk screen (cage, a Wayland kiosk compositor, with Chromium), CUPS,
# the CJK fonts (WenQuanYi Micro Hei, and HanaMin for the rare characters
# of Extensions B–F), the units, first-boot provisioning and the mount of
# the backup stick. Run as root on Debian; a foreign architecture (arm64 on
# an x86 machine) needs qemu-user-static (binfmt), which runs its package
# scripts. Settings from the environment:
#   MIRROR            Debian mirror (default http://deb.debian.org/debian)
#   ROOT_PASSWORD_HASH  crypt(3) hash for root's console login (openssl
#                     passwd -6); without it root cannot log in, so nobody
#                     can run gridbox passwd at the console
#   RELEASE_KEY       hex public key of the county's release key; without it
#                     each box takes it from its settings file
set -euo pipefail
arch=${1:?usage: build-image.sh amd64|arm64 OUT.tar.gz}
out=${2:?usage: build-image.sh ARCH OUT.tar.gz}
mirror=${MIRROR:-http://deb.debian.org/debian}
cd "$(dirname "$0")/.."
case $arch in
  amd64) bin=dist/gridbox-linux-amd64 ;;
  arm64) bin=dist/gridbox-linux-arm64 ;;
  *) echo "build-image: unknown arch $arch (amd64 or arm64)" >&2; exit 2 ;;
esac
[ "$(id -u)" = 0 ] || { echo "build-image: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "build-image: apt-get install debootstrap" >&2; exit 1; }
host=$(dpkg --print-architecture)
qarch=${arch/arm64/aarch64}
foreign=""
if [ "$arch" != "$host" ]; then
  foreign=1
  # The foreign root's programs (package scripts, the second stage) run
  # through qemu-user, registered with binfmt_misc.
  if [ ! -e "/proc/sys/fs/binfmt_misc/qemu-$qarch" ] || ! command -v "qemu-$qarch-static" >/dev/null; then
    command -v apt-get >/dev/null || { echo "build-image: $arch on $host needs qemu-user-static and binfmt-support" >&2; exit 1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends qemu-user-static binfmt-support >/dev/null
    update-binfmts --enable "qemu-$qarch" 2>/dev/null || true
  fi
  [ -e "/proc/sys/fs/binfmt_misc/qemu-$qarch" ] || { echo "build-image: binfmt_misc has no qemu-$qarch (mount binfmt_misc, update-binfmts --enable qemu-$qarch)" >&2; exit 1; }
fi
[ -x "$bin" ] || images/build.sh

root=$(mktemp -d /var/tmp/gridbox-rootfs.XXXXXX)
cleanup() {
  for m in dev/pts dev proc sys; do umount -l "$root/$m" 2>/dev/null || true; done
  rm -rf "$root"
}
trap cleanup EXIT

start=$(date +%s)
if [ -n "$foreign" ]; then
  # First stage unpacks on the host; the second configures the packages
  # inside the root, its programs run by qemu-user (the static interpreter
  # copied in, for hosts whose binfmt entry does not preload it).
  debootstrap --foreign --arch="$arch" --variant=minbase --include=ca-certificates bookworm "$root" "$mirror"
  install -m 0755 "$(command -v "qemu-$qarch-static")" "$root/usr/bin/"
  chroot "$root" /debootstrap/debootstrap --second-stage
else
  debootstrap --arch="$arch" --variant=minbase --include=ca-certificates bookworm "$root" "$mirror"
fi

cat > "$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb http://security.debian.org/debian-security bookworm-security main
EOF
# No service starts inside the chroot.
printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
mount -t proc proc "$root/proc"
mount -t sysfs sys "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }

packages=(
  # system
  systemd systemd-sysv systemd-timesyncd systemd-resolved dbus libpam-systemd udev kmod
  iproute2 netbase e2fsprogs dosfstools exfatprogs "linux-image-$arch"
  # kiosk screen: a Wayland kiosk compositor and the browser; seatd gives
  # the kiosk user (group video) the screen and input devices, which
  # logind gives a non-root service only through polkit; cage does not
  # start without Xwayland (only a recommendation of its package)
  cage xwayland chromium seatd
  # fonts: Chinese, and the rare characters of names (Extensions B–F)
  fonts-wqy-microhei fonts-hanazono
  # printing
  cups cups-client
)
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends "${packages[@]}"

bash images/install-gridbox.sh "$root" "$bin"

echo gridbox > "$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\tgridbox\n' > "$root/etc/hosts"
ln -sf /usr/share/zoneinfo/Asia/Shanghai "$root/etc/localtime"
echo Asia/Shanghai > "$root/etc/timezone"
if [ -n "${ROOT_PASSWORD_HASH:-}" ]; then
  in_root usermod -p "$ROOT_PASSWORD_HASH" root
fi
in_root apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root/usr/sbin/policy-rc.d" "$root/usr/bin/qemu-$qarch-static" "$root"/var/log/*.log "$root/etc/machine-id"
: > "$root/etc/machine-id" # made at first boot
for m in dev/pts dev proc sys; do umount "$root/$m"; done

mkdir -p "$(dirname "$out")"
tar -C "$root" --numeric-owner --xattrs --xattrs-include='*' -czf "$out.partial" .
mv "$out.partial" "$out"
echo "wrote $out: $(du -sm "$root" | cut -f1) MB unpacked, $(du -m "$out" | cut -f1) MB packed, $(( $(date +%s) - start )) s"
