package replicate_test

import (
	"crypto/rand"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/replicate"
)

// TestKeyRotation rotates the cluster key on running nodes, in the three
// steps of docs/replication.md; data keeps flowing after each, and at the
// end a node that holds only the old key gets nothing in.
func TestKeyRotation(t *testing.T) {
	town, village := syncedPair(t, 10)
	oldKey, newKey := testKey, make([]byte, 32)
	rand.Read(newKey)
	for _, ring := range [][][]byte{{oldKey, newKey}, {newKey, oldKey}, {newKey}} {
		// The village a step ahead of the town: they still share a key.
		for _, n := range []*testNode{village, town} {
			if err := n.R.SetKeys(ring); err != nil {
				t.Fatal(err)
			}
		}
		village.Write(20)
		waitCaughtUp(t, town, village, 10*time.Second)
		if got, want := town.R.Keys(), replicate.KeyFingerprints(ring); !slices.Equal(got, want) {
			t.Fatalf("town keyring %v, want %v", got, want)
		}
	}

	outsider := MustOpenNode(t, appliance.NodeVillage, villageCode2, town.R.Addr())
	outsider.keys = [][]byte{oldKey}
	town.Enrol(outsider)
	outsider.Write(5)
	outsider.Start()
	insider := MustOpenNode(t, appliance.NodeVillage, "410184104203", town.R.Addr())
	insider.keys = [][]byte{newKey}
	town.Enrol(insider)
	insider.Write(5)
	insider.Start()
	waitCaughtUp(t, town, insider, 10*time.Second)
	// The outsider has had as long as the insider.
	if got := town.Head(outsider.Store.Feed()); got != 0 {
		t.Fatalf("town holds %d entries of a node with the old key only", got)
	}
	town.MustVerify()
}

func TestSetKeysRefused(t *testing.T) {
	town := MustOpenNode(t, appliance.NodeTown, townCode, "").Start()
	before := town.R.Keys()
	for name, ring := range map[string][][]byte{"none": nil, "short": {testKey, make([]byte, 7)}} {
		if err := town.R.SetKeys(ring); err == nil {
			t.Fatalf("%s: SetKeys accepted", name)
		}
		if got := town.R.Keys(); !slices.Equal(got, before) {
			t.Fatalf("%s: keyring changed to %v after a refused SetKeys", name, got)
		}
	}
}

// TestKeyRotationCommand rotates the key of serving gridbox processes with
// `gridbox replication --keys`: the town is never restarted, so the village,
// restarted with the new key alone, reaches it only if the town took the
// keys at run time.
func TestKeyRotationCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs gridbox processes")
	}
	town, village := procCluster(t)
	cfg, err := appliance.LoadConfig(filepath.Join(town.Data, appliance.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	oldKey, newKey := cfg.Replicate.Keys[0], run(t, "replication", "--new-key")
	held := float64(town.entries() + village.entries())
	town.Serve()
	village.Serve()
	waitFor(t, 20*time.Second, "the village's feed at the town", func() bool { return town.Metric("gridbox_ledger_entries") == held })
	for _, ring := range []string{oldKey + "," + newKey, newKey + "," + oldKey, newKey} {
		for _, n := range []*procNode{village, town} {
			if out := run(t, "replication", "--data", n.Data, "--keys", ring); !strings.Contains(out, "in use by the running node") {
				t.Fatalf("replication --keys on %s: %s", n.Code, out)
			}
		}
	}
	// A bad key is refused before anything is saved or applied.
	if out, err := exec.Command(gridboxBin(t), "replication", "--data", town.Data, "--keys", "bm90IGEga2V5").CombinedOutput(); err == nil {
		t.Fatalf("replication --keys with a 9-byte key succeeded: %s", out)
	}
	if cfg, err := appliance.LoadConfig(filepath.Join(town.Data, appliance.ConfigFile)); err != nil || !slices.Equal(cfg.Replicate.Keys, []string{newKey}) {
		t.Fatalf("town keys in gridbox.toml: %v %v, want the new key only", cfg.Replicate.Keys, err)
	}
	village.Stop()
	village.appendEntries(50, simpleCase)
	village.Serve()
	waitFor(t, 20*time.Second, "the village's new entries at the town", func() bool { return town.Metric("gridbox_ledger_entries") == held+50 })
}
