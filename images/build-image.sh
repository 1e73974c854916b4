#!/usr/bin/env bash
# Builds a root file system for a gridbox box with debootstrap (Debian 12,
# minimal), installs the binary, the systemd units and first-boot
# provisioning, and packs it as a tarball to write onto the box's card with
# the board vendor's tools. Run as root on a Debian machine:
#   images/build-image.sh arm64 dist/rootfs-arm64.tar.gz
# Foreign architectures need qemu-user-static and binfmt-support.
set -euo pipefail
arch=${1:?usage: build-image.sh amd64|arm64|armhf OUT.tar.gz}
out=${2:?usage: build-image.sh ARCH OUT.tar.gz}
cd "$(dirname "$0")/.."
case $arch in amd64) bin=dist/gridbox-linux-amd64 ;; arm64) bin=dist/gridbox-linux-arm64 ;; armhf) bin=dist/gridbox-linux-armv7 ;; *) echo "unknown arch $arch" >&2; exit 2 ;; esac
[ -x "$bin" ] || images/build.sh
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
debootstrap --arch="$arch" --variant=minbase \
  --include=systemd,systemd-sysv,cups,cups-client,printer-driver-cups-pdf,fonts-wqy-microhei,fonts-hanazono,chromium,xserver-xorg-core,xinit,ca-certificates,iproute2 \
  bookworm "$root"
install -m 0755 "$bin" "$root/usr/local/bin/gridbox"
install -D -m 0755 images/firstboot.sh "$root/usr/local/lib/gridbox/firstboot.sh"
install -m 0644 images/gridbox.service images/gridbox-firstboot.service images/gridbox-kiosk.service "$root/etc/systemd/system/"
# The kiosk records voice messages without asking (no one can answer a
# permission prompt on a touch screen) from the local node only.
install -D -m 0644 images/chromium-kiosk-policy.json "$root/etc/chromium/policies/managed/gridbox-kiosk.json"
chroot "$root" systemctl enable gridbox-firstboot.service gridbox.service gridbox-kiosk.service
install -m 0644 images/gridbox.conf.example "$root/boot/gridbox.conf.example"
tar -C "$root" -czf "$out" .
echo "wrote $out"
