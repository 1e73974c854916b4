package replicate_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

const cityCode = "410100000000"

func TestRelayToCity(t *testing.T) {
	city := MustOpenNode(t, appliance.NodeCity, cityCode, "").Start()
	town := MustOpenNode(t, appliance.NodeTown, townCode, city.R.Addr()).Start()
	village := MustOpenNode(t, appliance.NodeVillage, villageCode, town.R.Addr())
	city.Enrol(town)
	town.Enrol(village)
	village.Write(50)
	village.Start()
	start := time.Now()
	waitCaughtUp(t, town, village, 10*time.Second)
	t.Logf("village → town: %s", time.Since(start))
	start = time.Now()
	// The town escalates to the city through its upward feed.
	_, err := town.Store.WriteUp(context.Background(), func(*bolt.Tx) ([]appliance.Draft, error) {
		return []appliance.Draft{
			{Author: "u-admin", Kind: "bench.escalate", Version: 1, Body: map[string]any{"case": "c000001", "summary": "跨村河道污染，需市级协调。"}},
			{Author: "", Kind: "bench.stats", Version: 1, Body: map[string]any{"village": villageCode, "cases_open": 3, "cases_resolved": 41}},
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	up, err := town.Store.UpFeed()
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the town's upward feed at the city", func() bool { return city.Head(up) == town.Head(up) })
	t.Logf("town → city: %s", time.Since(start))
	time.Sleep(500 * time.Millisecond) // more rounds: nothing else may follow
	if city.Head(village.Store.Feed()) != 0 {
		t.Fatal("the city received the village's feed (household archive)")
	}
	if city.Head(town.Store.Feed()) != 0 {
		t.Fatal("the city received the town's own feed")
	}
	if hs, _ := city.Store.Heads(); len(hs) != 2 {
		t.Fatalf("city holds %d feeds, want its own and the town's upward feed", len(hs))
	}
	t.Run("ErrTownOwnFeed", func(t *testing.T) {
		es, _ := town.Store.Entries(town.Store.Feed(), 1, 100)
		before := city.R.Rejected()["scope"]
		if err := town.R.SendRaw(city.R.Name(), town.R.EncodeBatch(es)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "the town's own feed refused", func() bool { return city.R.Rejected()["scope"] > before })
	})
	t.Run("CityToTown", func(t *testing.T) {
		down := writeDown(t, city, townCode, 5) // e.g. the city's decision on an escalated case
		waitFor(t, 10*time.Second, "the city's downward feed at the town", func() bool { return town.Head(down) == city.Head(down) })
		time.Sleep(300 * time.Millisecond)
		if village.Head(down) != 0 {
			t.Fatal("the village received the city's feed for the town")
		}
		sameFeed(t, city, town, down)
	})
	sameFeed(t, city, town, up)
	t.Run("ErrStatsOfAnotherTown", func(t *testing.T) {
		// Last: the town's upward feed stays stuck behind the forgery.
		before := city.R.Rejected()["scope"]
		_, err := town.Store.WriteUp(context.Background(), func(*bolt.Tx) ([]appliance.Draft, error) {
			return []appliance.Draft{{Kind: appliance.KindTownStats, Version: 1, Body: appliance.TownStats{Town: "410184105000", Name: "别的镇", Day: "2026-11-28"}}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 5*time.Second, "statistics under another town's code refused", func() bool { return city.R.Rejected()["scope"] > before })
		if city.Head(up) == town.Head(up) {
			t.Fatal("the city took statistics under another town's code")
		}
	})
	for _, n := range []*testNode{city, town, village} {
		n.MustVerify()
	}
}

// TestTownScoresReachCity: a town's quarterly and yearly scores reach its
// city over real nodes; scores under another town's code are refused.
func TestTownScoresReachCity(t *testing.T) {
	ctx := context.Background()
	city, town, v1, _ := caseCluster(t)
	v1.Start()
	now := time.Now()
	if _, err := town.Store.SendScoresUp(ctx, now); err != nil {
		t.Fatal(err)
	}
	q, _ := appliance.PeriodOf(appliance.PeriodQuarter, now.Format(time.DateOnly))
	want, err := town.Store.TownScoreReports(q.ID)
	if err != nil || len(want) != 1 || want[0].Town != townCode {
		t.Fatalf("at the town: %+v %v", want, err)
	}
	waitFor(t, 10*time.Second, "the town's scores at the city", func() bool {
		got, err := city.Store.TownScoreReports(q.ID)
		return err == nil && reflect.DeepEqual(got, want)
	})
	up, err := town.Store.UpFeed()
	if err != nil {
		t.Fatal(err)
	}
	before := city.R.Rejected()["scope"]
	forged := want[0]
	forged.Town, forged.Name, forged.Villages = "410184105000", "别的镇", []appliance.VillageScore{}
	if _, err := town.Store.WriteUp(ctx, func(*bolt.Tx) ([]appliance.Draft, error) {
		return []appliance.Draft{{Kind: appliance.KindTownScores, Version: 1, Body: forged}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "scores under another town's code refused", func() bool { return city.R.Rejected()["scope"] > before })
	if city.Head(up) == town.Head(up) {
		t.Fatal("the city took scores under another town's code")
	}
	for _, n := range []*testNode{city, town, v1} {
		n.MustVerify()
	}
}
