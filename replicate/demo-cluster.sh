#!/bin/sh
# One demo town and three demo village boxes on this machine, enrolled and
# syncing (make demo-cluster). The villages' escalated cases were handled by
# this town's key, so town and villages show the same cases; one case per
# village waits at the town for the user to dispatch. Ctrl-C stops all nodes.
# rm -rf the DIR to start afresh.
set -eu
BIN=${BIN:-bin/gridbox}
DIR=${DIR:-data/cluster}
HTTP=${HTTP:-8090}     # town at 8090, villages at 8091…
GOSSIP=${GOSSIP:-7946} # town at 7946, villages at 7947…
TLS=${TLS:-8490}       # staff pages over HTTPS: town at 8490, villages at 8491…
VILLAGES=${VILLAGES:-3} # 1 to 3
NAMES="杏花村 桃园村 柳树村"
TOWN="$DIR/town"

# The cluster is built whole in DIR.new and then moved into place, so an
# interrupted build leaves nothing half made behind.
if [ ! -e "$TOWN/gridbox.db" ]; then
	if [ -e "$DIR" ]; then
		echo "$DIR exists but holds no demo town: remove it first" >&2
		exit 1
	fi
	NEW="$DIR.new"
	rm -rf "$NEW"
	mkdir -p "$NEW"
	KEY=$($BIN replication --new-key)
	$BIN demo --role town --data "$NEW/town" >"$NEW/town.txt"
	$BIN replication --data "$NEW/town" --bind 127.0.0.1:$GOSSIP --keys "$KEY" --fast >/dev/null
	i=1
	for v in $NAMES; do
		[ $i -le "$VILLAGES" ] || break
		VD="$NEW/village$i"
		code=41018410420$i
		# The village's town steps are signed by this town; its data goes into the town.
		$BIN demo --data "$VD" --code "$code" --name "$v" --town-data "$NEW/town" >"$NEW/village$i.txt"
		$BIN replication --data "$VD" --bind 127.0.0.1:$((GOSSIP + i)) --parent 127.0.0.1:$GOSSIP --keys "$KEY" --fast >/dev/null
		$BIN enrol --data "$NEW/town" --key "$($BIN replication --data "$VD" --show-key)" --code "$code" --name "$v" >/dev/null
		i=$((i + 1))
	done
	mv "$NEW" "$DIR"
fi

pids=""
trap 'kill $pids 2>/dev/null; wait' INT TERM EXIT
$BIN serve --data "$TOWN" --listen 127.0.0.1:$HTTP --tls-listen 127.0.0.1:$TLS >"$DIR/town.log" 2>&1 & pids="$pids $!"
n=0
for VD in "$DIR"/village[1-9]; do
	n=$((n + 1))
	$BIN serve --data "$VD" --listen 127.0.0.1:$((HTTP + n)) --tls-listen 127.0.0.1:$((TLS + n)) >"$DIR/village$n.log" 2>&1 & pids="$pids $!"
done
sleep 1
for p in $pids; do
	kill -0 "$p" 2>/dev/null || { echo "a node did not start (port in use?): see $DIR/*.log" >&2; exit 1; }
done

# accounts FILE: the usernames of the demo accounts a demo printed.
accounts() { sed -n 's/^  \([a-z]*\) .* password .*/\1/p' "$1" | tr '\n' ' '; }

cat <<EOF

gridbox demo cluster: one town, $n villages (data in $DIR; logs in $DIR/*.log)
Every account's password is demo1234 (demo data only).

town 龙湖镇     http://127.0.0.1:$HTTP/login
  accounts: $(accounts "$DIR/town.txt")  (town = 乡镇平台操作员, dept = 职能部门)
EOF
n=0
for VD in "$DIR"/village[1-9]; do
	n=$((n + 1))
	name=$(sed -n 's/^demo village \([^ ]*\) .*/\1/p' "$DIR/village$n.txt")
	echo "village $name  http://127.0.0.1:$((HTTP + n))/  (kiosk)  http://127.0.0.1:$((HTTP + n))/login  (staff)"
	echo "  accounts: $(accounts "$DIR/village$n.txt")"
	sed -n "s|^  \([^ ]*\)  PIN \([0-9]*\)  \(/scan?token=.*\)|  waiting at the town: case \1 (PIN \2), progress http://127.0.0.1:$((HTTP + n))\3|p" "$DIR/village$n.txt"
done
cat <<EOF

Watch a case go up and its result come back:
  1. Log into the town (http://127.0.0.1:$HTTP/login) as town / demo1234. 问题办理 →
     http://127.0.0.1:$HTTP/staff/cases?level=town&status=pending lists the cases the
     villages escalated that wait at the town (乡镇, 待受理), e.g. the ones above.
  2. Open one and 交办部门 (dispatch) it to a department; then 办结 with a result
     (as town, or log in as dept for its department's work).
  3. Open that case's progress link above (or the village's /track page with its
     code and PIN): the village's kiosk (办理进度) shows the dispatch and the
     town's result within seconds. The village's staff pages
     (log in as lead) show it too, ready for 反馈 to the reporter.
Replication: http://127.0.0.1:$HTTP/staff/replication (admin); metrics at /metrics.
Ctrl-C stops the cluster.
EOF
wait
