#!/bin/sh
# First-boot provisioning of a gridbox box. Reads the settings file that the
# county IT office writes onto the boot partition (see gridbox.conf.example),
# creates the node, and leaves the admin's one-time password in a root-only
# file for the installer to read off the screen or the card. Idempotent: a
# box that already has a node is left alone.
set -eu
conf=${1:-/boot/gridbox.conf}
data=/var/lib/gridbox
[ -e "$data/gridbox.db" ] && exit 0
[ -r "$conf" ] || { echo "firstboot: $conf missing" >&2; exit 1; }
# shellcheck disable=SC1090
. "$conf"
: "${GRIDBOX_ROLE:?set GRIDBOX_ROLE in $conf}" "${GRIDBOX_CODE:?}" "${GRIDBOX_NAME:?}"
id gridbox >/dev/null 2>&1 || useradd --system --home-dir "$data" --shell /usr/sbin/nologin gridbox
install -d -m 0750 -o gridbox -g gridbox "$data"
out=$(runuser -u gridbox -- /usr/local/bin/gridbox init --data "$data" \
  --role "$GRIDBOX_ROLE" --code "$GRIDBOX_CODE" --name "$GRIDBOX_NAME" ${GRIDBOX_PARENT:+--parent "$GRIDBOX_PARENT"})
umask 077
printf '%s\n' "$out" > /root/gridbox-init.txt
# Show it on the console once; the settings file is removed so the card
# carries no secret.
printf '%s\n' "$out" > /dev/console 2>/dev/null || true
[ -n "${GRIDBOX_DUTY_PHONE:-}" ] && sed -i "s/^duty_phone = .*/duty_phone = \"$GRIDBOX_DUTY_PHONE\"/" "$data/gridbox.toml"
rm -f "$conf"
