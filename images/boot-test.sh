#!/usr/bin/env bash
# Boots a built root file system in QEMU (no KVM needed) and checks a box's
# first life: first boot provisions from a settings file, gridbox serves,
# the kiosk unit starts, and after a reboot the node is the same one (its
# data kept). Prints the figures docs/operations.md records. Needs root
# (the image's files belong to root and other users).
#   images/boot-test.sh dist/gridbox-rootfs-amd64.tar.gz [BINARY]
# With BINARY (e.g. dist/gridbox-linux-amd64) the gridbox part is laid on
# again (install-gridbox.sh), so the image tests the tree's binary.
set -euo pipefail
tarball=${1:?usage: boot-test.sh ROOTFS.tar.gz [BINARY]}
bin=${2:-}
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "boot-test: needs root" >&2; exit 1; }
command -v qemu-system-x86_64 >/dev/null || { echo "boot-test: apt-get install qemu-system-x86" >&2; exit 1; }
work=$(mktemp -d /var/tmp/gridbox-boot.XXXXXX)
qpid=""
cleanup() { [ -n "$qpid" ] && kill "$qpid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
root=$work/root
mkdir -p "$root"
tar -C "$root" --numeric-owner -xzf "$tarball"
if [ -n "$bin" ]; then
  for m in dev proc sys; do mount --bind "/$m" "$root/$m"; done
  bash images/install-gridbox.sh "$root" "$bin"
  for m in dev proc sys; do umount "$root/$m"; done
fi
cat > "$root/boot/gridbox.conf" <<'CONF'
GRIDBOX_ROLE=village
GRIDBOX_CODE=410184104201
GRIDBOX_NAME=杏花村
GRIDBOX_DUTY_PHONE=0371-62581234
CONF
# What the test reads on the serial line: the units' states, each 5 s.
cat > "$root/etc/systemd/system/boot-report.service" <<'UNIT'
[Unit]
Description=report the gridbox units on the serial line (boot test only)
After=gridbox.service
[Service]
ExecStart=/bin/sh -c 'while :; do echo "REPORT gridbox=$(systemctl is-active gridbox) kiosk=$(systemctl is-active gridbox-kiosk) firstboot=$(systemctl is-active gridbox-firstboot)" > /dev/ttyS0; sleep 5; done'
[Install]
WantedBy=multi-user.target
UNIT
ln -sf /etc/systemd/system/boot-report.service "$root/etc/systemd/system/multi-user.target.wants/boot-report.service"
kernel=$(ls "$root"/boot/vmlinuz-* | head -1)
initrd=$(ls "$root"/boot/initrd.img-* | head -1)
cp "$kernel" "$work/vmlinuz"; cp "$initrd" "$work/initrd"
du_root=$(du -sm "$root" | cut -f1)
mkfs.ext4 -q -L gridboxroot -d "$root" "$work/disk.img" $((du_root + 1024))M
rm -rf "$root"
port=$((20000 + RANDOM % 20000))

boot() {
  : > "$work/serial.log"
  qemu-system-x86_64 -m 1024 -smp 2 -kernel "$work/vmlinuz" -initrd "$work/initrd" \
    -append "root=LABEL=gridboxroot rw console=ttyS0 systemd.show_status=1" \
    -drive "file=$work/disk.img,if=virtio,format=raw" \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:8080" -device virtio-net-pci,netdev=n0 \
    -vga std -display none -serial "file:$work/serial.log" -monitor "tcp:127.0.0.1:$((port + 1)),server,nowait" &
  qpid=$!
}
wait_for() { # wait_for SECONDS COMMAND...: seconds it took
  local limit=$1; shift; local t0=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS - t0 > limit )); then return 1; fi
    sleep 2
  done
  echo $((SECONDS - t0))
}
healthy() { curl -fsS "http://127.0.0.1:$port/healthz" | grep -q '^ok'; }
kiosk_up() { grep -q 'REPORT gridbox=active kiosk=active' "$work/serial.log"; }
nodekey() { curl -fsS "http://127.0.0.1:$port/api/v1/node" | sed -n 's/.*"feed":"\([0-9a-f]*\)".*/\1/p'; }

boot
serve_s=$(wait_for 900 healthy) || { tail -50 "$work/serial.log"; echo "boot-test: gridbox did not serve" >&2; exit 1; }
kiosk_s=$(wait_for 600 kiosk_up) || { grep REPORT "$work/serial.log" | tail -3; echo "boot-test: the kiosk unit did not start" >&2; exit 1; }
key1=$(nodekey)
grep -q 'gridbox first boot' "$work/serial.log" || grep -q 'one-time password' "$work/serial.log" || echo "boot-test: note: the first-boot output was not on the serial console"
echo "first boot: gridbox serving after ${serve_s}s, kiosk unit active after $((serve_s + kiosk_s))s, node key $key1"
# A clean shutdown (ACPI), as the duty room's power button does.
{ exec 3<>"/dev/tcp/127.0.0.1/$((port + 1))" && echo system_powerdown >&3; } 2>/dev/null || kill "$qpid"
for _ in $(seq 120); do kill -0 "$qpid" 2>/dev/null || break; sleep 1; done
kill "$qpid" 2>/dev/null || true
wait "$qpid" || true
qpid=""
boot
serve2_s=$(wait_for 900 healthy) || { tail -50 "$work/serial.log"; echo "boot-test: gridbox did not serve after the reboot" >&2; exit 1; }
key2=$(nodekey)
[ -n "$key1" ] && [ "$key1" = "$key2" ] || { echo "boot-test: node key $key1 before the reboot, $key2 after" >&2; exit 1; }
echo "reboot: serving again after ${serve2_s}s, the same node ($key2)"
echo "disk image: $(du -m "$work/disk.img" | cut -f1) MB"
echo "boot-test: ok"
