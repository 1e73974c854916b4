#!/bin/sh
# One town node and three village boxes on this machine, enrolled and
# syncing (make demo-cluster). Ctrl-C stops all four.
set -eu
BIN=${BIN:-bin/gridbox}
DIR=${DIR:-data/cluster}
HTTP=${HTTP:-8090}   # town at 8090, villages at 8091…8093
GOSSIP=${GOSSIP:-7946}

mkdir -p "$DIR"
KEY=$($BIN replication --new-key)
TOWN="$DIR/town"
if [ ! -e "$TOWN/gridbox.db" ]; then
	$BIN init --data "$TOWN" --role town --code 410184104000 --name 龙湖镇 | tee "$DIR/town-admin.txt"
	$BIN replication --data "$TOWN" --bind 127.0.0.1:$GOSSIP --keys "$KEY" --fast >/dev/null
fi
KEY=$(sed -n 's/^ *keys = \["\([^"]*\)".*/\1/p' "$TOWN/gridbox.toml")
i=1
for v in 杏花村 桃园村 柳树村; do
	VD="$DIR/village$i"
	code=41018410420$i
	if [ ! -e "$VD/gridbox.db" ]; then
		$BIN demo --data "$VD" --code "$code" --name "$v" >/dev/null
		$BIN replication --data "$VD" --bind 127.0.0.1:$((GOSSIP + i)) --parent 127.0.0.1:$GOSSIP --keys "$KEY" --fast >/dev/null
		$BIN enrol --data "$TOWN" --key "$($BIN replication --data "$VD" --show-key)" --code "$code" --name "$v"
	fi
	i=$((i + 1))
done

pids=""
trap 'kill $pids 2>/dev/null; wait' INT TERM EXIT
$BIN serve --data "$TOWN" --listen 127.0.0.1:$HTTP & pids="$pids $!"
for i in 1 2 3; do
	$BIN serve --data "$DIR/village$i" --listen 127.0.0.1:$((HTTP + i)) >/dev/null & pids="$pids $!"
done
sleep 1
echo
echo "town:     http://127.0.0.1:$HTTP/staff/replication  (admin; password in $DIR/town-admin.txt)"
echo "villages: http://127.0.0.1:$((HTTP + 1))/ … :$((HTTP + 3))/  (demo accounts as printed by make run; password of admin: see gridbox demo)"
echo "metrics:  http://127.0.0.1:$HTTP/metrics  (gridbox_replicate_*)"
echo "Ctrl-C stops the cluster."
wait
