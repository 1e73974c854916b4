#!/usr/bin/env bash
# Puts gridbox into a root file system that has the packages (see
# build-image.sh): users, the binary as the first release, the units,
# first-boot provisioning, journald limits, the network and the backup
# stick's mount, and enables the units. build-image.sh runs it; the QEMU
# boot test runs it again on a built root to test the binary of the tree.
#   images/install-gridbox.sh ROOT BINARY
set -euo pipefail
root=${1:?usage: install-gridbox.sh ROOT BINARY}
bin=${2:?usage: install-gridbox.sh ROOT BINARY}
cd "$(dirname "$0")/.."
in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }

# Users: gridbox owns the data folder; the kiosk browser runs as its own
# user and can read nothing of it.
in_root id gridbox >/dev/null 2>&1 || in_root useradd --system --home-dir /var/lib/gridbox --shell /usr/sbin/nologin --groups lp,lpadmin gridbox
in_root id kiosk >/dev/null 2>&1 || in_root useradd --system --home-dir /var/lib/gridbox-kiosk --shell /usr/sbin/nologin --groups video,render,input kiosk

# The binary as the first release: /var/lib/gridbox-releases/current is what
# the units run, and gridbox upgrade swaps it.
version=$("$bin" version | awk '{print $2}') # a foreign binary runs through binfmt
rel="$root/var/lib/gridbox-releases"
install -d -m 0750 "$root/var/lib/gridbox"
install -d -m 0755 "$rel"
sum=$(sha256sum "$bin" | cut -c1-12)
install -m 0755 "$bin" "$rel/gridbox-$version-$sum"
ln -sfn "gridbox-$version-$sum" "$rel/current"
ln -sfn /var/lib/gridbox-releases/current "$root/usr/local/bin/gridbox"
in_root chown -R gridbox:gridbox /var/lib/gridbox /var/lib/gridbox-releases

install -D -m 0755 images/firstboot.sh "$root/usr/local/lib/gridbox/firstboot.sh"
install -m 0644 images/gridbox.service images/gridbox-firstboot.service images/gridbox-kiosk.service "$root/etc/systemd/system/"
install -D -m 0644 images/journald.conf "$root/etc/systemd/journald.conf.d/gridbox.conf"
install -D -m 0644 images/network.network "$root/etc/systemd/network/80-gridbox.network"
install -m 0644 images/gridbox.conf.example "$root/boot/gridbox.conf.example"
# The kiosk browser's managed policy (the microphone for voice messages).
install -D -m 0644 images/chromium-kiosk-policy.json "$root/etc/chromium/policies/managed/gridbox-kiosk.json"
if [ -n "${RELEASE_KEY:-}" ]; then printf '%s\n' "$RELEASE_KEY" > "$root/etc/gridbox-release.key"; fi

# The backup stick: a FAT32 or exFAT stick labelled GRIDBOXBAK, mounted when
# the nightly backup opens the folder.
install -d -m 0755 "$root/media/gridbox-backup"
grep -q GRIDBOXBAK "$root/etc/fstab" 2>/dev/null ||
  echo 'LABEL=GRIDBOXBAK /media/gridbox-backup auto noauto,nofail,x-systemd.automount,x-systemd.idle-timeout=120,x-systemd.device-timeout=5s,uid=gridbox,gid=gridbox,umask=077 0 0' >> "$root/etc/fstab"

in_root systemctl enable systemd-networkd systemd-resolved systemd-timesyncd seatd \
  gridbox-firstboot.service gridbox.service gridbox-kiosk.service
# The kiosk owns the first screen; the console login is on the second.
in_root systemctl mask getty@tty1.service
in_root systemctl set-default graphical.target
# The units as installed pass systemd's own check.
in_root systemd-analyze verify /etc/systemd/system/gridbox.service /etc/systemd/system/gridbox-kiosk.service /etc/systemd/system/gridbox-firstboot.service
