#!/bin/sh
# First-boot provisioning of a gridbox box from the settings file the county
# IT office writes onto the boot partition (see gridbox.conf.example):
# creates the node, shows the admin's one-time password and the node key on
# the console (and keeps them in a root-only file), then deletes the
# settings file. A box without the file shows the setup page on its screen
# instead (gridbox serve --setup). Idempotent: a box that already has a
# node is left alone.
set -eu
conf=${1:-/boot/gridbox.conf}
data=/var/lib/gridbox
[ -e "$data/gridbox.db" ] && exit 0
[ -r "$conf" ] || { echo "firstboot: $conf missing" >&2; exit 1; }
# shellcheck disable=SC1090
. "$conf"
: "${GRIDBOX_ROLE:?set GRIDBOX_ROLE in $conf}" "${GRIDBOX_CODE:?}" "${GRIDBOX_NAME:?}"
key=${GRIDBOX_RELEASE_KEY:-}
[ -z "$key" ] && [ -r /etc/gridbox-release.key ] && key=$(cat /etc/gridbox-release.key)
install -d -m 0750 -o gridbox -g gridbox "$data"
out=$(runuser -u gridbox -- /usr/local/bin/gridbox init --data "$data" \
  --role "$GRIDBOX_ROLE" --code "$GRIDBOX_CODE" --name "$GRIDBOX_NAME" \
  ${GRIDBOX_PARENT:+--parent "$GRIDBOX_PARENT"} ${key:+--release-key "$key"} \
  ${GRIDBOX_DUTY_PHONE:+--duty-phone "$GRIDBOX_DUTY_PHONE"} \
  --backup-dir "${GRIDBOX_BACKUP_DIR:-/media/gridbox-backup}")
umask 077
printf '%s\n' "$out" > /root/gridbox-init.txt
# Shown once on the console; the settings file is removed so the card
# carries no secret.
printf 'gridbox first boot:\n%s\n' "$out" > /dev/console 2>/dev/null || true
printf '%s\n' "$out"
rm -f "$conf"
