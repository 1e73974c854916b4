package replicate_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// syncedPair is a town and an enrolled village that have synced n entries.
func syncedPair(t *testing.T, n int) (town, village *testNode) {
	t.Helper()
	town = MustOpenNode(t, appliance.NodeTown, townCode, "").Start()
	village = MustOpenNode(t, appliance.NodeVillage, villageCode, town.R.Addr())
	town.Enrol(village)
	village.Write(n)
	village.Start()
	waitCaughtUp(t, town, village, 10*time.Second)
	return town, village
}

func waitCaughtUp(t *testing.T, town, village *testNode, d time.Duration) {
	t.Helper()
	feed := village.Store.Feed()
	want := village.Head(feed)
	waitFor(t, d, "village feed at the town", func() bool { return town.Head(feed) == want })
}

func TestLinkDown(t *testing.T) {
	town, village := syncedPair(t, 100)
	t.Run("VillageOffline", func(t *testing.T) {
		village.Stop()
		village.Write(3000) // more than a busy day's worth
		village.Start()
		start := time.Now()
		waitCaughtUp(t, town, village, 10*time.Second)
		t.Logf("3000 entries after the link returned: %s", time.Since(start))
	})
	t.Run("TownOffline", func(t *testing.T) {
		town.Stop()
		village.Write(100)
		town.Start() // same port: the village rejoins on its own
		start := time.Now()
		waitCaughtUp(t, town, village, 10*time.Second)
		t.Logf("100 entries after the town returned: %s", time.Since(start))
	})
	t.Run("TownRestartedFromItsFile", func(t *testing.T) {
		town.Close()
		town.open()
		village.Write(10)
		town.Start()
		waitCaughtUp(t, town, village, 10*time.Second)
	})
	sameFeed(t, town, village, village.Store.Feed())
	town.MustVerify()
	village.MustVerify()
}

func TestClockSkew(t *testing.T) {
	for _, tc := range []struct {
		name string
		now  time.Time
	}{
		{"1970", time.Date(1970, 1, 1, 0, 5, 0, 0, time.UTC)},
		{"2040", time.Date(2040, 6, 1, 8, 0, 0, 0, time.UTC)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			town := MustOpenNode(t, appliance.NodeTown, townCode, "").Start()
			now := tc.now
			village := MustOpenNodeClock(t, appliance.NodeVillage, villageCode, town.R.Addr(), func() time.Time { return now })
			town.Enrol(village)
			village.Write(200)
			village.Start()
			waitCaughtUp(t, town, village, 10*time.Second)
			// The town writes on after seeing the skewed times; its own
			// clock never goes back behind what it has seen.
			town.Write(10)
			sameFeed(t, town, village, village.Store.Feed())
			town.MustVerify()
			village.MustVerify()
		})
	}
}

// sealAfter signs n new entries of the village's feed without storing them,
// as a hostile holder of the keyring and of a copy of them might.
func sealAfter(t *testing.T, village *testNode, n int) []*appliance.Entry {
	t.Helper()
	key, err := appliance.ReadNodeKey(filepath.Join(village.Dir, bolt.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	sg := appliance.NewSigner(key)
	feed := village.Store.Feed()
	prevs, err := village.Store.Entries(feed, village.Head(feed), 1)
	if err != nil {
		t.Fatal(err)
	}
	prev := prevs[0]
	var out []*appliance.Entry
	for i := 0; i < n; i++ {
		e, err := sg.Seal(appliance.Draft{Kind: "bench.case", Version: 1, Body: map[string]int{"n": i}}, prev, prev.Time+1)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
		prev = e
	}
	return out
}

func TestRejected(t *testing.T) {
	town, village := syncedPair(t, 50)
	village2 := MustOpenNode(t, appliance.NodeVillage, villageCode2, town.R.Addr())
	town.Enrol(village2)
	village2.Start()
	waitCaughtUp(t, town, village2, 10*time.Second)
	feed := village.Store.Feed()
	held := town.Head(feed)
	townName := town.R.Name()

	expect := func(t *testing.T, reason string, send func() error) {
		t.Helper()
		before := town.R.Rejected()[reason]
		if err := send(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "rejection for "+reason, func() bool { return town.R.Rejected()[reason] > before })
		if got := town.Head(feed); got != held {
			t.Fatalf("town holds %d entries of the village, want %d", got, held)
		}
		town.MustVerify()
	}
	t.Run("ErrBadSignature", func(t *testing.T) {
		es := sealAfter(t, village, 3)
		es[2].Sig[5] ^= 1
		expect(t, "signature", func() error { return village.R.SendRaw(townName, village.R.EncodeBatch(es)) })
	})
	t.Run("ErrAltered", func(t *testing.T) {
		// Changed after signing: the next entry's hash link carries the
		// change up to the one signature the batch is checked by.
		es := sealAfter(t, village, 3)
		es[0].Body = []byte(`{"n":99}`)
		expect(t, "signature", func() error { return village.R.SendRaw(townName, village.R.EncodeBatch(es)) })
	})
	t.Run("ErrBrokenChain", func(t *testing.T) {
		// A run that does not continue what the town holds.
		es := sealAfter(t, village, 3)
		es[0].Prev[0] ^= 1
		expect(t, "chain", func() error { return village.R.SendRaw(townName, village.R.EncodeBatch(es)) })
	})
	t.Run("ErrSequenceGap", func(t *testing.T) {
		es := sealAfter(t, village, 3)
		expect(t, "sequence", func() error { return village.R.SendRaw(townName, village.R.EncodeBatch(es[1:])) })
	})
	t.Run("ErrReplayedFeed", func(t *testing.T) {
		// Another village relays the first one's (genuine) feed.
		es, err := village.Store.Entries(feed, 1, 10)
		if err != nil {
			t.Fatal(err)
		}
		expect(t, "scope", func() error { return village2.R.SendRaw(townName, village2.R.EncodeBatch(es)) })
	})
	t.Run("ErrMalformed", func(t *testing.T) {
		expect(t, "malformed", func() error { return village.R.SendRaw(townName, []byte("B\x05{bad}garbage")) })
		expect(t, "malformed", func() error { return village.R.SendRaw(townName, []byte("O{not json")) })
		good := village.R.EncodeBatch(sealAfter(t, village, 2))
		expect(t, "malformed", func() error { return village.R.SendRaw(townName, good[:len(good)-7]) })
	})
	t.Run("ErrOversized", func(t *testing.T) {
		big := make([]byte, 17<<20)
		big[0] = 'B'
		expect(t, "oversized", func() error { return village.R.SendRaw(townName, big) })
		hdr := []byte(`{"f":"x","k":"y","n":1000000,"raw":10}`)
		msg := append([]byte{'B', byte(len(hdr))}, hdr...)
		expect(t, "oversized", func() error { return village.R.SendRaw(townName, msg) })
	})
	t.Run("DuplicateDelivery", func(t *testing.T) {
		es, err := village.Store.Entries(feed, 1, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			if err := village.R.SendRaw(townName, village.R.EncodeBatch(es)); err != nil {
				t.Fatal(err)
			}
		}
		// Out of order: a later run, then an earlier one; both already held.
		if err := village.R.SendRaw(townName, village.R.EncodeBatch(es[20:])); err != nil {
			t.Fatal(err)
		}
		if err := village.R.SendRaw(townName, village.R.EncodeBatch(es[:20])); err != nil {
			t.Fatal(err)
		}
		village.Write(5)
		waitCaughtUp(t, town, village, 5*time.Second)
		held = town.Head(feed)
		sameFeed(t, town, village, feed)
	})
	t.Run("ErrUnenrolled", func(t *testing.T) {
		intruder := MustOpenNode(t, appliance.NodeVillage, "410184104209", town.R.Addr())
		intruder.Write(20)
		intruder.Start()
		before := town.R.Rejected()["unenrolled"]
		waitFor(t, 5*time.Second, "the intruder's offer refused", func() bool { return town.R.Rejected()["unenrolled"] > before })
		if got := town.Head(intruder.Store.Feed()); got != 0 {
			t.Fatalf("town holds %d entries of an unenrolled node", got)
		}
		// Nothing comes out either: the intruder holds only its own feed.
		if hs, _ := intruder.Store.Heads(); len(hs) != 1 {
			t.Fatalf("unenrolled node holds %d feeds, want 1", len(hs))
		}
		// A batch sent anyway is refused too.
		es, _ := intruder.Store.Entries(intruder.Store.Feed(), 1, 100)
		before = town.R.Rejected()["unenrolled"]
		intruder.R.SendRaw(townName, intruder.R.EncodeBatch(es))
		waitFor(t, 5*time.Second, "the intruder's batch refused", func() bool { return town.R.Rejected()["unenrolled"] > before })
		if got := town.Head(intruder.Store.Feed()); got != 0 {
			t.Fatalf("town holds %d entries of an unenrolled node", got)
		}
	})
	town.MustVerify()
	village.MustVerify()
	village2.MustVerify()
}

var _ = context.Background

func TestRestoredFromOldBackup(t *testing.T) {
	town, village := syncedPair(t, 50)
	feed := village.Store.Feed()
	village.Stop()
	village.Store.Close()
	db := filepath.Join(village.Dir, bolt.DBFile)
	old, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	village.open()
	village.Start()
	village.Write(50)
	waitCaughtUp(t, town, village, 10*time.Second)
	held := town.Head(feed)

	// The box dies; the village restores last week's backup.
	village.Close()
	if err := os.WriteFile(db, old, 0o600); err != nil {
		t.Fatal(err)
	}
	village.open()
	if village.Head(feed) >= held {
		t.Fatal("the backup is not older")
	}
	village.Start()
	waitFor(t, 10*time.Second, "the village's own entries back from the town", func() bool { return village.Head(feed) == held })
	village.Write(10)
	waitCaughtUp(t, town, village, 10*time.Second)
	sameFeed(t, town, village, feed)
	town.MustVerify()
	village.MustVerify()
}

// TestRelaySparseSignatures: a town holds a village's feed with signatures
// only where the village's batches ended; relaying it back to the village
// (restored from a backup made before any of it) in smaller batches than
// it came in still ends every batch at a signed entry.
func TestRelaySparseSignatures(t *testing.T) {
	town := MustOpenNode(t, appliance.NodeTown, townCode, "").Start()
	village := MustOpenNode(t, appliance.NodeVillage, villageCode, town.R.Addr())
	town.Enrol(village)
	feed := village.Store.Feed()
	db := filepath.Join(village.Dir, bolt.DBFile)
	village.Store.Close()
	old, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	village.open()
	village.Start()
	for range 3 {
		village.Write(400)
		waitCaughtUp(t, town, village, 10*time.Second)
	}
	es, err := town.Store.Entries(feed, 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	signed := 0
	for _, e := range es {
		if e.Signed() {
			signed++
		}
	}
	if signed < 2 || signed > len(es)/10 || !es[len(es)-1].Signed() {
		t.Fatalf("town holds %d signatures for %d entries (last signed: %v): want a few, at batch ends", signed, len(es), es[len(es)-1].Signed())
	}
	t.Logf("town holds %d signatures for %d entries of the village", signed, len(es))

	village.Close()
	if err := os.WriteFile(db, old, 0o600); err != nil {
		t.Fatal(err)
	}
	village.open()
	town.Stop()
	town.MaxBatchBytes = 8 << 10 // a few dozen entries' worth
	town.Start()
	village.Start()
	waitFor(t, 20*time.Second, "the village's own entries back from the town", func() bool { return village.Head(feed) == uint64(len(es)) })
	sameFeed(t, town, village, feed)
	town.MustVerify()
	village.MustVerify()
}
