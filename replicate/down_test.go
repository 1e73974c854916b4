package replicate_test

import (
	"context"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/replicate"
)

// writeDown has the town write n notices for one village only.
func writeDown(t testing.TB, town *testNode, child string, n int) appliance.FeedID {
	t.Helper()
	_, err := town.Store.WriteDown(context.Background(), child, func(*bolt.Tx) ([]appliance.Draft, error) {
		var ds []appliance.Draft
		for i := 0; i < n; i++ {
			ds = append(ds, appliance.Draft{Author: "u-admin", Kind: "bench.feedback", Version: 1,
				Body: map[string]any{"n": i, "text": "乡镇已交办道路维修，限期十个工作日。"}})
		}
		return ds, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	f, err := town.Store.DownFeed(child)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestSyncDown(t *testing.T) {
	town := MustOpenNode(t, appliance.NodeTown, townCode, "").Start()
	v1 := MustOpenNode(t, appliance.NodeVillage, villageCode, town.R.Addr())
	v2 := MustOpenNode(t, appliance.NodeVillage, villageCode2, town.R.Addr())
	intruder := MustOpenNode(t, appliance.NodeVillage, "410184104209", town.R.Addr())
	town.Enrol(v1)
	town.Enrol(v2)
	d1 := writeDown(t, town, villageCode, 20)
	d2 := writeDown(t, town, villageCode2, 30)
	d9 := writeDown(t, town, "410184104209", 5) // written, but the intruder is not enrolled
	v1.Start()
	v2.Start()
	intruder.Start()
	waitFor(t, 10*time.Second, "downward feeds at the villages", func() bool {
		return v1.Head(d1) == town.Head(d1) && v2.Head(d2) == town.Head(d2)
	})
	t.Run("NewEntriesFollow", func(t *testing.T) {
		start := time.Now()
		writeDown(t, town, villageCode, 100)
		waitFor(t, 2*time.Second, "100 new entries at the village", func() bool { return v1.Head(d1) == town.Head(d1) })
		t.Logf("100 new downward entries reached the village in %s", time.Since(start))
	})
	t.Run("OnlyOwnPart", func(t *testing.T) {
		time.Sleep(500 * time.Millisecond) // a few more sync rounds
		if v1.Head(d2) != 0 || v2.Head(d1) != 0 {
			t.Fatal("a village received another village's downward feed")
		}
		if hs, _ := intruder.Store.Heads(); len(hs) != 1 {
			t.Fatalf("unenrolled node holds %d feeds, want only its own", len(hs))
		}
		if intruder.Head(d9) != 0 {
			t.Fatal("unenrolled node received its downward feed")
		}
	})
	t.Run("ErrSiblingFeed", func(t *testing.T) {
		// The town (or whoever holds its keyring and name) pushes village 2's
		// feed to village 1: its node.down proof names village 2.
		es, err := town.Store.Entries(d2, 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		before := v1.R.Rejected()["scope"]
		if err := town.R.SendRaw(v1.R.Name(), town.R.EncodeBatch(es)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "sibling feed refused", func() bool { return v1.R.Rejected()["scope"] > before })
		if v1.Head(d2) != 0 {
			t.Fatal("village 1 stored village 2's downward feed")
		}
	})
	for _, n := range []*testNode{town, v1, v2, intruder} {
		n.MustVerify()
	}
	sameFeed(t, town, v1, d1)
	sameFeed(t, town, v2, d2)
	// Both directions at once: the villages' own feeds went up meanwhile.
	waitCaughtUp(t, town, v1, 5*time.Second)
	waitCaughtUp(t, town, v2, 5*time.Second)
}

func TestImpostor(t *testing.T) {
	town := MustOpenNode(t, appliance.NodeTown, townCode, "").Start()
	v1 := MustOpenNode(t, appliance.NodeVillage, villageCode, town.R.Addr())
	town.Enrol(v1)
	d1 := writeDown(t, town, villageCode, 20)

	// A node that knows the keyring announces the enrolled village's code
	// and public key while the village is offline.
	imp := MustOpenNode(t, appliance.NodeVillage, villageCode, town.R.Addr())
	r, err := replicate.New(replicate.Config{Store: imp.Store, Node: imp.Node, Bind: "127.0.0.1:0", Keys: imp.keys, Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	r.ClaimKey(v1.Store.Feed())
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	waitFor(t, 5*time.Second, "the impostor's proof refused", func() bool { return town.R.Rejected()["unknown_peer"] > 0 })
	time.Sleep(time.Second)
	if imp.Head(d1) != 0 {
		t.Fatal("the impostor received the village's downward feed")
	}
	// The real village still gets its part.
	v1.Start()
	waitFor(t, 10*time.Second, "downward feed at the real village", func() bool { return v1.Head(d1) == town.Head(d1) })
	town.MustVerify()
	v1.MustVerify()
}
