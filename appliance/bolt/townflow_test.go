package bolt_test

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

const village2Code = "410184104202"

// copyFeed gives to the whole of one feed from holds (what replication
// does for one feed).
func copyFeed(tb testing.TB, from, to *testNode, feed appliance.FeedID) {
	tb.Helper()
	es, err := from.Store.Entries(feed, 1, 1<<30)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := to.Store.Ingest(es); err != nil {
		tb.Fatal(err)
	}
}

func downFeed(tb testing.TB, n *testNode, child string) appliance.FeedID {
	tb.Helper()
	f, err := n.Store.DownFeed(child)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func hasFeed(tb testing.TB, n *testNode, feed appliance.FeedID) bool {
	tb.Helper()
	heads, err := n.Store.Heads()
	if err != nil {
		tb.Fatal(err)
	}
	for _, h := range heads {
		if h.Feed == feed {
			return true
		}
	}
	return false
}

func caseKinds(tb testing.TB, n *testNode, feed appliance.FeedID) []string {
	tb.Helper()
	es, err := n.Store.Entries(feed, 1, 1<<30)
	if err != nil {
		if appliance.ErrorCode(err) == appliance.ENOTFOUND {
			return nil
		}
		tb.Fatal(err)
	}
	var out []string
	for _, e := range es {
		if appliance.CaseActionOf(e.Kind) != "" {
			out = append(out, e.Kind)
		}
	}
	return out
}

// A kiosk report goes up to the town, the town dispatches and resolves it
// on its downward feed for that village, and the village — which receives
// only that feed of the town's — shows the result on the progress page of
// the receipt; the sibling village never sees it.
func TestTownStepsGoDown(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: day(2, 9)}
	v1 := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	v2 := mustNode(t, appliance.NodeVillage, village2Code, "桃园村", clk, true)
	tw := mustNode(t, appliance.NodeTown, townCode, "龙湖镇", clk, true)

	r, err := v1.Cases.RegisterCase(ctx, "", bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourceKiosk, Description: "村口桥面塌陷", Name: "王秀英", Phone: "13812345678"})
	if err != nil {
		t.Fatal(err)
	}
	act(t, v1, villageLevels, appliance.CaseStep{Case: r.Code, Action: appliance.CaseEscalate, Text: "需乡镇交通办处理"})
	report(t, v2, "public_affairs", appliance.SourceKiosk, "")

	// Up: each village's own feed reaches the town.
	copyFeed(t, v1, tw, v1.Store.Feed())
	copyFeed(t, v2, tw, v2.Store.Feed())
	c, err := tw.Cases.Case(r.Code)
	if err != nil {
		t.Fatal(err)
	}
	if c.Level != appliance.CaseLevelTown || c.Village != villageCode {
		t.Fatalf("at the town: level %s village %s", c.Level, c.Village)
	}
	if got := tw.Cases.ChildFor(c); got != villageCode {
		t.Fatalf("ChildFor = %q", got)
	}

	// The town's steps.
	clk.t = day(3, 10)
	act(t, tw, townLevels, appliance.CaseStep{Case: r.Code, Action: appliance.CaseDispatch, Departments: []string{"交通办"}, Due: "2026-12-20"})
	act(t, tw, townLevels, appliance.CaseStep{Case: r.Code, Action: appliance.CaseNote, Text: "已现场查看"})
	clk.t = day(9, 15)
	if c = act(t, tw, townLevels, appliance.CaseStep{Case: r.Code, Action: appliance.CaseResolve, Text: "桥面已修复"}); c.Status != appliance.StatusResolved {
		t.Fatalf("at the town after resolve: %s", c.Status)
	}
	if k := caseKinds(t, tw, tw.Store.Feed()); len(k) != 0 {
		t.Fatalf("town's own feed holds case steps on a village's case: %v", k)
	}
	d1 := downFeed(t, tw, villageCode)
	if k := caseKinds(t, tw, d1); strings.Join(k, " ") != "case.dispatch case.note case.resolve" {
		t.Fatalf("town's downward feed for the village: %v", k)
	}

	// Down: each village receives its own downward feed only.
	copyFeed(t, tw, v1, d1)
	if d2 := downFeed(t, tw, village2Code); hasFeed(t, tw, d2) {
		copyFeed(t, tw, v2, d2)
	}
	got, err := v1.Cases.Track(r.Code, r.PIN)
	if err != nil {
		t.Fatal(err)
	}
	p := got.Progress("公共事务")
	if p.Status != appliance.StatusResolved || p.Result != "桥面已修复" || p.Level != appliance.CaseLevelVillage {
		t.Fatalf("village's progress page: %+v", p)
	}
	var labels []string
	for _, s := range p.Steps {
		labels = append(labels, s.Label)
	}
	if all := strings.Join(labels, "|"); !strings.Contains(all, "交办交通办") || !strings.Contains(all, "乡镇办结") {
		t.Fatalf("progress steps: %s", all)
	}
	// Resolved by the town, the case is back with the village for feedback,
	// which the village writes on its own feed.
	act(t, v1, villageLevels, appliance.CaseStep{Case: r.Code, Action: appliance.CaseFeedback, How: "电话", Text: "桥面已修复，欢迎监督"})
	copyFeed(t, v1, tw, v1.Store.Feed())
	if c, _ := tw.Cases.Case(r.Code); c.Status != appliance.StatusFedBack {
		t.Fatalf("town after the village's feedback: %s", c.Status)
	}

	if _, err := v2.Cases.Case(r.Code); appliance.ErrorCode(err) != appliance.ENOTFOUND {
		t.Fatalf("the other village has the case: %v", err)
	}
	if hasFeed(t, v2, d1) || hasFeed(t, v2, v1.Store.Feed()) {
		t.Fatal("the other village holds the first village's feeds")
	}
	for _, n := range []*testNode{v1, v2, tw} {
		if _, err := n.Store.Verify(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

const cityCode = "410100000000"

// A case escalated to the city: the town relays its public part and steps
// on its upward feed (all the city receives from it), the city decides on
// its downward feed for the town, and the town relays the city's steps to
// the village, whose kiosk then shows the city's result.
func TestCityEscalationRelayed(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: day(2, 9)}
	v1 := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	tw := mustNode(t, appliance.NodeTown, townCode, "龙湖镇", clk, true)
	city := mustNode(t, appliance.NodeCity, cityCode, "郑州市", clk, true)

	r, err := v1.Cases.RegisterCase(ctx, "", bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourceKiosk, Description: "河道被上游排污", Name: "王秀英", Phone: "13812345678", Household: "h-1"})
	if err != nil {
		t.Fatal(err)
	}
	act(t, v1, villageLevels, appliance.CaseStep{Case: r.Code, Action: appliance.CaseEscalate, Text: "需乡镇处理"})
	copyFeed(t, v1, tw, v1.Store.Feed())
	clk.t = day(3, 9)
	act(t, tw, townLevels, appliance.CaseStep{Case: r.Code, Action: appliance.CaseEscalate, Text: "跨县污染，报市平台"})

	up, err := tw.Store.UpFeed()
	if err != nil {
		t.Fatal(err)
	}
	es, err := tw.Store.Entries(up, 1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 4 { // node.up, register, village escalate, town escalate
		t.Fatalf("upward feed holds %d entries", len(es))
	}
	for _, e := range es {
		if e.Sealed != nil || strings.Contains(string(e.Body), "h-1") || strings.Contains(string(e.Body), "13812345678") {
			t.Fatalf("upward feed carries personal data: %s %s", e.Kind, e.Body)
		}
	}
	// Relaying again writes nothing new.
	if err := tw.Cases.RelayAll(ctx); err != nil {
		t.Fatal(err)
	}
	if es2, _ := tw.Store.Entries(up, 1, 1<<30); len(es2) != len(es) {
		t.Fatalf("second relay wrote %d more", len(es2)-len(es))
	}
	// A town cannot speak for the city: a relay claiming a city step on its
	// upward feed changes nothing anywhere.
	forged := appliance.CaseRelay{Step: appliance.CaseStep{Case: r.Code, Action: appliance.CaseResolve, By: appliance.CaseLevelCity, Day: "2026-11-03", Text: "伪造的市级办结"},
		Feed: city.Store.Feed().String(), Seq: 99, At: clk.t, Role: appliance.NodeCity}
	if _, err := tw.Store.WriteUp(ctx, func(*bolt.Tx) ([]appliance.Draft, error) {
		return []appliance.Draft{{Kind: appliance.KindCaseRelay, Version: 1, Body: forged}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if c, _ := tw.Cases.Case(r.Code); c.Status != appliance.StatusPending {
		t.Fatalf("forged city step took effect at the town: %s", c.Status)
	}
	// The city holds only the upward feed.
	copyFeed(t, tw, city, up)
	c, err := city.Cases.Case(r.Code)
	if err != nil {
		t.Fatal(err)
	}
	if c.Level != appliance.CaseLevelCity || c.Status != appliance.StatusPending || c.Description != "河道被上游排污" || c.Household != "" {
		t.Fatalf("at the city (a forged city step must not count): %+v", c)
	}
	if _, err := city.Cases.Reporter(r.Code); err == nil {
		t.Fatal("the city has the reporter")
	}
	if got, _, err := city.Cases.FindCases(bolt.CaseFilter{}); err != nil || len(got) != 1 {
		t.Fatalf("city case list: %d, %v", len(got), err)
	}

	st, err := city.Cases.Stats(bolt.CaseStatsFilter{}, clk.t)
	if err != nil || st.Total != 1 || st.ToCity != 1 || len(st.ByTown) != 1 || st.ByTown[0].N != 1 || len(st.ByVillage) != 1 {
		t.Fatalf("city statistics: %+v, %v", st, err)
	}
	clk.t = day(8, 9)
	cityLevels := []string{appliance.CaseLevelCity}
	act(t, city, cityLevels, appliance.CaseStep{Case: r.Code, Action: appliance.CaseDispatch, Departments: []string{"市生态环境局"}, Due: "2026-12-30"})
	act(t, city, cityLevels, appliance.CaseStep{Case: r.Code, Action: appliance.CaseResolve, Text: "上游企业已停产整改"})
	cityDown := downFeed(t, city, townCode)
	if k := caseKinds(t, city, cityDown); strings.Join(k, " ") != "case.dispatch case.resolve" {
		t.Fatalf("city's downward feed for the town: %v", k)
	}
	copyFeed(t, city, tw, cityDown)
	if c, _ := tw.Cases.Case(r.Code); c.Status != appliance.StatusResolved || c.ResolvedLevel != appliance.CaseLevelCity {
		t.Fatalf("at the town after the city's steps: %s %s", c.Status, c.ResolvedLevel)
	}
	if err := tw.Cases.RelayAll(ctx); err != nil {
		t.Fatal(err)
	}
	copyFeed(t, tw, v1, downFeed(t, tw, villageCode))
	got, err := v1.Cases.Track(r.Code, r.PIN)
	if err != nil {
		t.Fatal(err)
	}
	if p := got.Progress("公共事务"); p.Status != appliance.StatusResolved || p.Result != "上游企业已停产整改" {
		t.Fatalf("village's progress page: %+v", p)
	}
	// The village's feedback goes up; the town relays it to the city.
	act(t, v1, villageLevels, appliance.CaseStep{Case: r.Code, Action: appliance.CaseFeedback, How: "电话", Text: "已告知"})
	copyFeed(t, v1, tw, v1.Store.Feed())
	if err := tw.Cases.RelayAll(ctx); err != nil {
		t.Fatal(err)
	}
	copyFeed(t, tw, city, up)
	if c, _ := city.Cases.Case(r.Code); c.Status != appliance.StatusFedBack {
		t.Fatalf("city after the village's feedback: %s", c.Status)
	}
	// The town's statistics go up too, once until they change.
	if wrote, err := tw.Cases.SendStatsUp(ctx, clk.t); err != nil || !wrote {
		t.Fatalf("stats up: %v %v", wrote, err)
	}
	if wrote, err := tw.Cases.SendStatsUp(ctx, clk.t); err != nil || wrote {
		t.Fatalf("unchanged stats sent again: %v %v", wrote, err)
	}
	copyFeed(t, tw, city, up)
	reps, err := city.Cases.TownReports()
	if err != nil || len(reps) != 1 || reps[0].Town != townCode || reps[0].Stats.Total != 1 || len(reps[0].Stats.ByVillage) != 1 {
		t.Fatalf("town reports at the city: %+v, %v", reps, err)
	}
	for _, n := range []*testNode{v1, tw, city} {
		if _, err := n.Store.Verify(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Each node's case views equal a fold of the feeds it holds ingested in
	// shuffled interleavings (relays included).
	for _, n := range []*testNode{v1, tw, city} {
		foldShuffled(t, n, caseBuckets)
	}
	// Views agree on the shared case.
	a, _ := v1.Cases.Case(r.Code)
	b, _ := city.Cases.Case(r.Code)
	if a.Status != b.Status || a.Level != b.Level || a.Result != b.Result {
		t.Fatalf("village %s/%s/%s, city %s/%s/%s", a.Status, a.Level, a.Result, b.Status, b.Level, b.Result)
	}
}

// foldShuffled ingests every feed n holds into fresh stores in shuffled
// interleavings (each feed in its own order, as sync delivers them) and
// compares the views that views dumps (caseBuckets, coreBuckets) with n's.
func foldShuffled(t *testing.T, n *testNode, views func(testing.TB, *bolt.Store) string) {
	t.Helper()
	heads, err := n.Store.Heads()
	if err != nil {
		t.Fatal(err)
	}
	var feeds [][]*appliance.Entry
	for _, h := range heads {
		es, err := n.Store.Entries(h.Feed, 1, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		feeds = append(feeds, es)
	}
	want := views(t, n.Store)
	for round := 0; round < 5; round++ {
		r := rand.New(rand.NewPCG(uint64(round), 11))
		s, err := bolt.Open(filepath.Join(t.TempDir(), "x.db"), nil, &bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		ingestAll(t, s, interleave(r, feeds))
		got := views(t, s)
		s.Close()
		if got != want {
			t.Fatalf("round %d: views differ from the node's", round)
		}
	}
}
