package replicate_test

import (
	"context"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// writeSealed appends entries with a sensitive part.
func writeSealed(t *testing.T, n *testNode, count int) {
	t.Helper()
	var ds []appliance.Draft
	for i := 0; i < count; i++ {
		ds = append(ds, appliance.Draft{Author: "u-admin", Kind: "bench.person", Version: 1,
			Body: map[string]any{"n": i, "household": "h-12"}, Sealed: map[string]any{"id_number": "410184198001011234", "dibao": "A类"}})
	}
	if _, err := n.Store.Append(context.Background(), ds...); err != nil {
		t.Fatal(err)
	}
}

// sealedCount counts the entries of feed at n that still carry their sealed part.
func sealedCount(t *testing.T, n *testNode, feed appliance.FeedID) (with, without int) {
	t.Helper()
	es, err := n.Store.Entries(feed, 1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		switch {
		case e.Sealed != nil:
			with++
		case !e.SealHash.IsZero():
			without++
		}
	}
	return with, without
}

func TestSealedParts(t *testing.T) {
	t.Run("VillageKeepsByDefault", func(t *testing.T) {
		town := MustOpenNode(t, appliance.NodeTown, townCode, "").Start()
		v := MustOpenNode(t, appliance.NodeVillage, villageCode, town.R.Addr())
		town.Enrol(v)
		writeSealed(t, v, 10)
		v.Start()
		waitCaughtUp(t, town, v, 10*time.Second)
		if with, without := sealedCount(t, town, v.Store.Feed()); with != 10 || without != 0 {
			t.Fatalf("town holds %d entries with and %d without their sealed part, want 10 and 0", with, without)
		}
		town.MustVerify()
	})
	t.Run("VillageStrips", func(t *testing.T) {
		town := MustOpenNode(t, appliance.NodeTown, townCode, "").Start()
		v := MustOpenNode(t, appliance.NodeVillage, villageCode, town.R.Addr())
		v.SealedUp = "strip"
		town.Enrol(v)
		writeSealed(t, v, 10)
		v.Start()
		waitCaughtUp(t, town, v, 10*time.Second)
		if with, without := sealedCount(t, town, v.Store.Feed()); with != 0 || without != 10 {
			t.Fatalf("town holds %d entries with and %d without their sealed part, want 0 and 10", with, without)
		}
		town.MustVerify()
		v.MustVerify()
	})
	t.Run("TownStripsForTheCity", func(t *testing.T) {
		city := MustOpenNode(t, appliance.NodeCity, cityCode, "").Start()
		town := MustOpenNode(t, appliance.NodeTown, townCode, city.R.Addr())
		city.Enrol(town)
		_, err := town.Store.WriteUp(context.Background(), func(*bolt.Tx) ([]appliance.Draft, error) {
			return []appliance.Draft{{Author: "u-admin", Kind: "bench.escalate", Version: 1,
				Body: map[string]any{"case": "c1"}, Sealed: map[string]any{"id_number": "410184198001011234"}}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		town.Start()
		up, _ := town.Store.UpFeed()
		waitFor(t, 10*time.Second, "upward feed at the city", func() bool { return city.Head(up) == town.Head(up) })
		if with, without := sealedCount(t, city, up); with != 0 || without != 1 {
			t.Fatalf("city holds %d entries with and %d without their sealed part, want 0 and 1", with, without)
		}
		city.MustVerify()
	})
}
