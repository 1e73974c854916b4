package replicate_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"gridbox/appliance"
)

// The slow-link benchmark (docs/performance.md), as root:
//
//	GRIDBOX_SLOWLINK=1 go test ./replicate -run TestSlowLink -v -timeout 10m
//
// The village runs in a network namespace joined to the town by a veth
// pair shaped to 256 kbit/s each way (tbf) with 5% of packets dropped each
// way (nftables). This kernel has no netem, and no delay is added: with
// loopback round trips TCP recovers from loss faster than over a real
// 300 ms link.

func sh(t *testing.T, cmd string) {
	t.Helper()
	if out, err := exec.Command("sh", "-c", cmd).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
}

func TestSlowLink(t *testing.T) {
	if os.Getenv("GRIDBOX_SLOWLINK") == "" || os.Getuid() != 0 {
		t.Skip("set GRIDBOX_SLOWLINK=1 and run as root for the slow-link benchmark")
	}
	n := 2000
	if s := os.Getenv("GRIDBOX_SLOWLINK_N"); s != "" {
		fmt.Sscan(s, &n)
	}
	const ns = "gbslow"
	exec.Command("ip", "netns", "del", ns).Run()
	exec.Command("ip", "link", "del", "gbr0").Run()
	exec.Command("nft", "delete", "table", "inet", "gbslow").Run()
	sh(t, "ip netns add "+ns)
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", ns).Run()
		exec.Command("ip", "link", "del", "gbr0").Run()
		exec.Command("nft", "delete", "table", "inet", "gbslow").Run()
	})
	for _, c := range []string{
		"ip link add gbr0 type veth peer name gbv0",
		"ip link set gbv0 netns " + ns,
		"ip addr add 10.77.0.1/24 dev gbr0", "ip link set gbr0 up",
		"ip -n " + ns + " addr add 10.77.0.2/24 dev gbv0", "ip -n " + ns + " link set gbv0 up", "ip -n " + ns + " link set lo up",
		"tc qdisc add dev gbr0 root tbf rate 256kbit burst 1600 latency 400ms",
		"tc -n " + ns + " qdisc add dev gbv0 root tbf rate 256kbit burst 1600 latency 400ms",
		`nft add table inet gbslow`,
		`nft add chain inet gbslow out '{ type filter hook output priority 0; }'`,
		`nft add rule inet gbslow out oifname "gbr0" numgen random mod 100 '<' 5 drop`,
		`ip netns exec ` + ns + ` nft add table inet gbslow`,
		`ip netns exec ` + ns + ` nft add chain inet gbslow out '{ type filter hook output priority 0; }'`,
		`ip netns exec ` + ns + ` nft add rule inet gbslow out oifname "gbv0" numgen random mod 100 '<' 5 drop`,
	} {
		sh(t, c)
	}

	root := t.TempDir()
	key := run(t, "replication", "--new-key")
	town := &procNode{t: t, Data: filepath.Join(root, "town"), Code: townCode, Gossip: fmt.Sprintf("10.77.0.1:%d", freePort(t))}
	village := &procNode{t: t, Data: filepath.Join(root, "village"), Code: villageCode, Gossip: "10.77.0.2:7946", Wrap: []string{"ip", "netns", "exec", ns}}
	run(t, "init", "--data", town.Data, "--role", "town", "--code", townCode, "--name", "龙湖镇")
	run(t, "init", "--data", village.Data, "--role", "village", "--code", villageCode, "--name", "杏花村")
	run(t, "replication", "--data", town.Data, "--bind", town.Gossip, "--keys", key)
	run(t, "replication", "--data", village.Data, "--bind", village.Gossip, "--parent", town.Gossip, "--keys", key)
	run(t, "enrol", "--data", town.Data, "--key", run(t, "replication", "--data", village.Data, "--show-key"), "--code", villageCode)
	r := rand.New(rand.NewPCG(1, 2))
	_, head := village.appendEntries(n, func(i int) appliance.Draft {
		return appliance.Draft{Author: "u-admin", Kind: "bench.case", Version: 1, Body: benchCase(r, i)}
	})
	want := float64(town.entries() + head)
	town.Serve()
	start := time.Now()
	village.Serve()
	waitFor(t, 8*time.Minute, "all entries at the town", func() bool { return town.Metric("gridbox_ledger_entries") == want })
	elapsed := time.Since(start)
	wire := town.Metric("gridbox_replicate_peer_sent_bytes_total") + town.Metric("gridbox_replicate_peer_received_bytes_total")
	ideal := time.Duration(wire * 8 / 256000 * float64(time.Second))
	t.Logf("%d entries over 256 kbit/s with 5%% loss each way: %s; %.0f bytes of replication messages, bytes÷bandwidth %s, ratio %.2f",
		int(head), elapsed.Round(100*time.Millisecond), wire, ideal.Round(100*time.Millisecond), elapsed.Seconds()/ideal.Seconds())
}
