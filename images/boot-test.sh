#!/usr/bin/env bash
# Boots a built root file system in QEMU (no KVM needed) and checks a box's
# first life: first boot provisions from a settings file, gridbox serves,
# the kiosk unit starts, and after a reboot the node is the same one (its
# data kept). Prints the figures docs/operations.md records. Needs root
# (the image's files belong to root and other users).
#   images/boot-test.sh dist/gridbox-rootfs-amd64.tar.gz [BINARY]
#   ARCH=arm64 images/boot-test.sh dist/gridbox-rootfs-arm64.tar.gz [BINARY]
# With BINARY (e.g. dist/gridbox-linux-amd64) the gridbox part is laid on
# again (install-gridbox.sh), so the image tests the tree's binary.
set -euo pipefail
tarball=${1:?usage: [ARCH=arm64] boot-test.sh ROOTFS.tar.gz [BINARY]}
bin=${2:-}
arch=${ARCH:-amd64}
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "boot-test: needs root" >&2; exit 1; }
# The machine QEMU emulates, its serial line, and a GPU: cage's DRM
# backend (wlroots) needs one that imports PRIME buffers, as the boxes'
# Intel and VC4 GPUs do; QEMU's standard VGA (bochs-drm) does not, and
# cage exits. -cpu max: the browser wants the instruction sets of a real
# CPU, which QEMU's default models lack.
case $arch in
  amd64) qemu=(qemu-system-x86_64 -cpu max -vga virtio) qpkg=qemu-system-x86 tty=ttyS0 ;;
  arm64) qemu=(qemu-system-aarch64 -M virt -cpu max -device virtio-gpu-pci) qpkg=qemu-system-arm tty=ttyAMA0 ;;
  *) echo "boot-test: unknown ARCH $arch (amd64 or arm64)" >&2; exit 2 ;;
esac
command -v "${qemu[0]}" >/dev/null || { echo "boot-test: apt-get install $qpkg" >&2; exit 1; }
work=$(mktemp -d /var/tmp/gridbox-boot.XXXXXX)
root=$work/root
qpid=""
unbind() { for m in dev proc sys; do umount "$root/$m" 2>/dev/null || true; done; }
cleanup() {
  [ -n "$qpid" ] && kill "$qpid" 2>/dev/null
  # KEEP_LOG=FILE keeps the serial output of every boot.
  [ -n "${KEEP_LOG:-}" ] && cat "$work"/serial.log.* > "$KEEP_LOG" 2>/dev/null
  # Never into the host's /dev: a failed install-gridbox.sh leaves the
  # binds in place.
  unbind
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
mkdir -p "$root"
tar -C "$root" --numeric-owner -xf "$tarball" # .tar.gz or .tar
if [ -n "$bin" ]; then
  for m in dev proc sys; do mount --bind "/$m" "$root/$m"; done
  bash images/install-gridbox.sh "$root" "$bin"
  unbind
fi
cat > "$root/boot/gridbox.conf" <<'CONF'
GRIDBOX_ROLE=village
GRIDBOX_CODE=410184104201
GRIDBOX_NAME=杏花村
GRIDBOX_DUTY_PHONE=0371-62581234
CONF
# What the test reads on the serial line: the units' states, each 5 s, and
# the journal of the node and the kiosk as it is written, with all the
# kiosk user's processes (the browser's lines may be filed under its login
# session rather than the unit): a kiosk that does not come up says why.
cat > "$root/etc/systemd/system/boot-report.service" <<'UNIT'
[Unit]
Description=report the gridbox units on the serial line (boot test only)
After=gridbox.service
[Service]
ExecStart=/bin/sh -c 'while :; do echo "REPORT gridbox=$(systemctl is-active gridbox) kiosk=$(systemctl is-active gridbox-kiosk) firstboot=$(systemctl is-active gridbox-firstboot)" > /dev/SERIAL; sleep 5; done'
[Install]
WantedBy=multi-user.target
UNIT
cat > "$root/etc/systemd/system/boot-journal.service" <<'UNIT'
[Unit]
Description=the gridbox units' journal on the serial line (boot test only)
[Service]
ExecStart=/bin/sh -c 'while :; do journalctl -b --cursor-file=/run/boot-journal.cursor -o short-monotonic --no-pager -u gridbox -u gridbox-kiosk -u gridbox-firstboot | sed "s/^/JOURNAL /" > /dev/SERIAL; journalctl -b --cursor-file=/run/boot-journal-kiosk.cursor -o short-monotonic --no-pager _UID=$(id -u kiosk) | sed "s/^/JOURNAL /" > /dev/SERIAL; sleep 3; done'
[Install]
WantedBy=multi-user.target
UNIT
sed -i "s|/dev/SERIAL|/dev/$tty|g" "$root"/etc/systemd/system/boot-{report,journal}.service
# Under QEMU without KVM Chromium's first start takes minutes, more when
# the host is busy: the kiosk gets KIOSK_START minutes (default 20) to show
# its first page instead of the 5 a real box gets (gridbox kiosk --start),
# else it is ended as hung and started again from scratch.
kstart=${KIOSK_START:-20}
mkdir -p "$root/etc/systemd/system/gridbox-kiosk.service.d"
{
  printf '[Service]\nTimeoutStartSec=%dmin\nExecStart=\n' $((kstart + 5))
  sed -n "s/^\(ExecStart=.* kiosk \)/\1--start ${kstart}m /p" "$root/etc/systemd/system/gridbox-kiosk.service"
} > "$root/etc/systemd/system/gridbox-kiosk.service.d/boot-test.conf"
grep -q -- '--start' "$root/etc/systemd/system/gridbox-kiosk.service.d/boot-test.conf" || { echo "boot-test: no gridbox kiosk line in the kiosk unit" >&2; exit 1; }
for u in boot-report boot-journal; do
  ln -sf "/etc/systemd/system/$u.service" "$root/etc/systemd/system/multi-user.target.wants/$u.service"
done
kernel=$(ls "$root"/boot/vmlinuz-* | head -1)
initrd=$(ls "$root"/boot/initrd.img-* | head -1)
cp "$kernel" "$work/vmlinuz"; cp "$initrd" "$work/initrd"
du_root=$(du -sm "$root" | cut -f1)
mkfs.ext4 -q -L gridboxroot -d "$root" "$work/disk.img" $((du_root + 1024))M
rm -rf --one-file-system "$root"
# HTTP; +1 the QEMU monitor; +2 HTTPS: three ports nothing listens on.
listening() { { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1; exec 3>&-; }
for _ in $(seq 50); do
  port=$((20000 + RANDOM % 20000))
  listening $port || listening $((port + 1)) || listening $((port + 2)) || break
done
log=$work/serial.log
t0=$SECONDS

boot() { # boot N: the Nth boot, its serial output appended to the log
  "${qemu[@]}" -m 1024 -smp 2 -kernel "$work/vmlinuz" -initrd "$work/initrd" \
    -append "root=LABEL=gridboxroot rw console=$tty systemd.show_status=1" \
    -drive "file=$work/disk.img,if=virtio,format=raw" \
    -netdev "user,id=n0,hostfwd=tcp:127.0.0.1:$port-:8080,hostfwd=tcp:127.0.0.1:$((port + 2))-:8443" -device virtio-net-pci,netdev=n0 \
    -display none -chardev "file,id=s0,path=$log.$1" -serial chardev:s0 \
    -monitor "tcp:127.0.0.1:$((port + 1)),server,nowait" &
  qpid=$!
  boot_at=$SECONDS
  cur=$log.$1
}
monitor() { { exec 3<>"/dev/tcp/127.0.0.1/$((port + 1))" && echo "$1" >&3; } 2>/dev/null; }
stop_vm() { # stop_vm clean|cut
  if [ "$1" = clean ]; then
    # A clean shutdown (ACPI), as the duty room's power button does.
    monitor system_powerdown || kill "$qpid"
    for _ in $(seq 180); do kill -0 "$qpid" 2>/dev/null || break; sleep 1; done
  else
    # The power cable pulled: QEMU ends at once, the guest's page cache is
    # lost; what the guest flushed is in the disk file.
    monitor quit || kill -9 "$qpid"
  fi
  kill "$qpid" 2>/dev/null || true
  wait "$qpid" || true
  qpid=""
}
wait_for() { # wait_for SECONDS COMMAND...: seconds it took
  local limit=$1; shift; local t=$SECONDS
  until "$@" >/dev/null 2>&1; do
    if (( SECONDS - t > limit )); then return 1; fi
    kill -0 "$qpid" 2>/dev/null || { echo "QEMU ended" >&2; return 1; }
    sleep 2
  done
  echo $((SECONDS - t))
}
fail() { tail -60 "$cur" >&2; echo "boot-test: $*" >&2; exit 1; }
healthy() { curl -fsS "http://127.0.0.1:$port/healthz" | grep -q '^ok'; }
kiosk_up() { grep -q 'REPORT gridbox=active kiosk=active' "$cur"; }
nodekey() { curl -fsS "http://127.0.0.1:$port/api/v1/node" | sed -n 's/.*"feed":"\([0-9a-f]*\)".*/\1/p'; }
box=https://127.0.0.1:$((port + 2))
api() { curl -fsS -k -H "Authorization: Bearer $token" "$@"; }
# A group (grid cell) written through the API and read back after a reboot.
add_group() { # add_group NN NAME
  api -H 'Content-Type: application/json' \
    -d "{\"code\":\"410184104201-$1\",\"level\":3,\"name\":\"$2\",\"parent\":\"410184104201\",\"kind\":\"楼院\"}" "$box/api/v1/grids" >/dev/null
}
has_group() { api "$box/api/v1/grids?parent=410184104201&limit=100" | grep -q "\"name\":\"$1\""; }

boot 1
serve_s=$(wait_for 900 healthy) || fail "gridbox did not serve"
serve_s=$((SECONDS - boot_at))
key1=$(nodekey)
otp=$(sed -n 's/.*one-time password: \([^ ]*\).*/\1/p' "$cur" | head -1 | tr -d '\r')
[ -n "$otp" ] || fail "the admin's one-time password was not on the serial console"
echo "first boot: gridbox serving ${serve_s}s after QEMU started, node key $key1"
first_mono=$({ grep -a '^JOURNAL .*Finished gridbox-firstboot' "$cur" || true; } | head -1 | sed -n 's/^JOURNAL \[ *\([0-9]*\.[0-9]\).*/\1/p')
echo "first boot (kernel clock): provisioned at ${first_mono:-?} s"

# The script login of docs/api.md, over the box's HTTPS (a token over plain
# HTTP from the network is refused): replace the one-time password, make a
# token, write a group.
jar=$work/jar
csrf() { awk '$6 == "gb_csrf" { print $7 }' "$jar"; }
curl -fsS -k -c "$jar" -b "$jar" -o /dev/null "$box/login"
curl -fsS -k -c "$jar" -b "$jar" -o /dev/null --data-urlencode username=admin \
  --data-urlencode "password=$otp" --data-urlencode "_csrf=$(csrf)" "$box/login" || fail "the admin could not log in"
curl -fsS -k -c "$jar" -b "$jar" -o /dev/null -H "X-CSRF-Token: $(csrf)" -H 'Content-Type: application/json' \
  -d "{\"old_password\":\"$otp\",\"password\":\"boot-test-Pw-4721\"}" "$box/api/v1/password" || fail "the one-time password could not be replaced"
token=$(curl -fsS -k -c "$jar" -b "$jar" -H "X-CSRF-Token: $(csrf)" -H 'Content-Type: application/json' \
  -d '{"name":"boot-test","days":1}' "$box/api/v1/token" | sed 's/.*"token":"\([^"]*\)".*/\1/')
[ -n "$token" ] || fail "no API token"
add_group 91 开机测试一组 || fail "writing a group through the API failed"
has_group 开机测试一组 || fail "the group just written is not listed"
stop_vm clean
boot 2
serve2_s=$(wait_for 900 healthy) || fail "gridbox did not serve after the reboot"
serve2_s=$((SECONDS - boot_at))
key2=$(nodekey)
[ -n "$key1" ] && [ "$key1" = "$key2" ] || fail "node key $key1 before the reboot, $key2 after"
has_group 开机测试一组 || fail "the group written before the reboot is gone"
grep -q 'gridbox first boot' "$cur" && fail "first boot ran again on the second boot"
echo "reboot: serving again ${serve2_s}s after QEMU started; the same node, the group written before is there"

# An acknowledged write, then the power cut at once.
add_group 92 断电测试二组 || fail "writing the second group failed"
stop_vm cut
boot 3
serve3_s=$(wait_for 900 healthy) || fail "gridbox did not serve after the power cut"
serve3_s=$((SECONDS - boot_at))
has_group 断电测试二组 || fail "the group acknowledged just before the power cut is gone"
has_group 开机测试一组 || fail "the first group is gone after the power cut"
echo "power cut right after an acknowledged write: serving again ${serve3_s}s after QEMU started, both groups there"

# The kiosk, last because without KVM it is by far the slowest part: its
# unit is active once the browser on the box's screen has shown the node's
# page (gridbox kiosk says READY=1 on the page's first call to the node).
if ! wait_for "${KIOSK_WAIT:-1800}" kiosk_up >/dev/null; then
  # The kiosk's and its user's journal (cage's and Chromium's lines), and
  # with KEEP_LOG what the screen shows (KEEP_LOG.ppm).
  { grep -a '^JOURNAL' "$cur" | grep -av -e 'No entries' -e 'level=INFO' || true; } | tail -40
  if [ -n "${KEEP_LOG:-}" ]; then monitor "screendump $KEEP_LOG.ppm"; sleep 3; fi
  fail "the kiosk unit did not become active within ${KIOSK_WAIT:-1800}s"
fi
echo "kiosk: unit active $((SECONDS - boot_at))s after QEMU started (boot 3)"
{ grep -a 'kiosk screen ready' "$cur" || true; } | tail -1 | sed 's/^JOURNAL /  /'
# Seconds since the kernel started, from the journal on the serial line.
mono() { { grep -a "^JOURNAL .*$1" "$cur" || true; } | head -1 | sed -n 's/^JOURNAL \[ *\([0-9]*\.[0-9]\)[0-9]*\].*/\1/p'; }
echo "boot 3 (kernel clock): gridbox ready at $(mono 'Started gridbox.service') s, kiosk ready at $(mono 'Started gridbox-kiosk') s"
stop_vm clean
echo "disk image: $(du -m "$work/disk.img" | cut -f1) MB used of $(du -m --apparent-size "$work/disk.img" | cut -f1) MB; whole test ${SECONDS}s"
echo "boot-test: ok"
