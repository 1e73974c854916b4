package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

const village3Code = "410184104203"

func enrol(tb testing.TB, parent, child *testNode, code string) {
	tb.Helper()
	err := parent.Store.Enrol(context.Background(), "u-admin", appliance.Enrolment{Key: child.Store.Feed().String(), Code: code, Role: appliance.NodeVillage})
	if err != nil {
		tb.Fatal(err)
	}
}

func setNotice(tb testing.TB, n *testNode, no appliance.Notice) {
	tb.Helper()
	if err := n.Store.SetNotice(context.Background(), "u-town", no); err != nil {
		tb.Fatal(err)
	}
}

func copyDown(tb testing.TB, tw *testNode, clk *simClock) int {
	tb.Helper()
	n, err := tw.Store.CopyDown(context.Background(), clk.t)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// receive gives each village its town's downward feed for it, if any.
func receive(tb testing.TB, tw *testNode, villages map[string]*testNode) {
	tb.Helper()
	for code, v := range villages {
		if d := downFeed(tb, tw, code); hasFeed(tb, tw, d) {
			copyFeed(tb, tw, v, d)
		}
	}
}

// titles lists the titles of the town's notices a node shows.
func titles(tb testing.TB, n *testNode) []string {
	tb.Helper()
	ns, err := n.Store.FindNotices(townCode)
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for _, no := range ns {
		out = append(out, no.Title)
	}
	slices.Sort(out)
	return out
}

// coreBuckets dumps the views a copy touches.
func coreBuckets(tb testing.TB, s *bolt.Store) string {
	return dumpBuckets(tb, s, "v_notices", "v_duty", "v_down_copies")
}

// A town's notices go down to the villages they are meant for, as copies
// on each village's downward feed: an edit, a change of villages and a
// withdrawal follow; a village enrolled later gets what is current; a
// fan-out cut short is completed by the next run; the town's own views
// are exactly those of its own feed, and every node folds the same in any
// order of arrival.
func TestTownNoticesCopiedDown(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: day(2, 9)}
	v1 := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	v2 := mustNode(t, appliance.NodeVillage, village2Code, "桃园村", clk, true)
	v3 := mustNode(t, appliance.NodeVillage, village3Code, "李庄村", clk, true)
	tw := mustNode(t, appliance.NodeTown, townCode, "龙湖镇", clk, true)
	villages := map[string]*testNode{villageCode: v1, village2Code: v2}
	enrol(t, tw, v1, villageCode)
	enrol(t, tw, v2, village2Code)

	setNotice(t, tw, appliance.Notice{Grid: townCode, ID: "n-fire", Title: "秋季防火通知", Body: "禁止野外用火。", Published: "2026-11-02"})
	setNotice(t, tw, appliance.Notice{Grid: townCode, ID: "n-road", Title: "杏花村道路施工", Body: "绕行。", Published: "2026-11-02", To: []string{villageCode}})
	// A village's own notice with the same id is another notice.
	setNotice(t, v1, appliance.Notice{Grid: villageCode, ID: "n-fire", Title: "村委会换届公告", Body: "…", Published: "2026-11-01"})

	// A fan-out cut short after the first village: the next run completes it.
	cctx, cancel := context.WithCancel(ctx)
	tw.Store.OnCommit(func(es []*appliance.Entry) {
		if es[len(es)-1].Kind == appliance.KindDownCopy {
			cancel()
		}
	})
	if _, err := tw.Store.CopyDown(cctx, clk.t); !errors.Is(err, context.Canceled) {
		t.Fatalf("cut short: %v", err)
	}
	if hasFeed(t, tw, downFeed(t, tw, village2Code)) {
		t.Fatal("the second village's copies were written despite the cut")
	}
	if n := copyDown(t, tw, clk); n != 1 {
		t.Fatalf("completing the fan-out wrote %d copies, want 1 (the second village's)", n)
	}
	if n := copyDown(t, tw, clk); n != 0 {
		t.Fatalf("second run wrote %d copies", n)
	}
	receive(t, tw, villages)
	if got := titles(t, v1); strings.Join(got, "|") != "杏花村道路施工|秋季防火通知" {
		t.Fatalf("village 1 shows %v", got)
	}
	if got := titles(t, v2); strings.Join(got, "|") != "秋季防火通知" {
		t.Fatalf("village 2 shows %v", got)
	}
	n, err := v1.Store.Notice(townCode, "n-fire")
	if err != nil || n.From != "龙湖镇" || len(n.To) != 0 {
		t.Fatalf("village's copy: %+v %v", n, err)
	}
	if own, err := v1.Store.Notice(villageCode, "n-fire"); err != nil || own.Title != "村委会换届公告" {
		t.Fatalf("village's own notice with the same id: %+v %v", own, err)
	}

	// Edit, move to another village, and a village enrolled later.
	clk.t = day(3, 9)
	setNotice(t, tw, appliance.Notice{Grid: townCode, ID: "n-fire", Title: "秋季防火通知（修订）", Body: "禁止野外用火，违者罚款。", Published: "2026-11-03"})
	setNotice(t, tw, appliance.Notice{Grid: townCode, ID: "n-road", Title: "桃园村道路施工", Body: "绕行。", Published: "2026-11-03", To: []string{village2Code}})
	enrol(t, tw, v3, village3Code)
	villages[village3Code] = v3
	if n := copyDown(t, tw, clk); n != 5 { // fire ×3, road withdrawn at 1, road at 2
		t.Fatalf("after the edit: %d copies", n)
	}
	receive(t, tw, villages)
	for v, want := range map[*testNode]string{v1: "秋季防火通知（修订）", v2: "桃园村道路施工|秋季防火通知（修订）", v3: "秋季防火通知（修订）"} {
		if got := strings.Join(titles(t, v), "|"); got != want {
			t.Fatalf("after the edit a village shows %q, want %q", got, want)
		}
	}

	// Withdrawal.
	setNotice(t, tw, appliance.Notice{Grid: townCode, ID: "n-fire", Title: "秋季防火通知（修订）", Body: "禁止野外用火，违者罚款。", Published: "2026-11-03", Withdrawn: true})
	if n := copyDown(t, tw, clk); n != 3 {
		t.Fatalf("withdrawal: %d copies", n)
	}
	receive(t, tw, villages)
	for _, v := range []*testNode{v1, v3} {
		if got := titles(t, v); len(got) != 0 {
			t.Fatalf("withdrawn notice still shown: %v", got)
		}
	}
	if got := strings.Join(titles(t, v2), "|"); got != "桃园村道路施工" {
		t.Fatalf("village 2 after the withdrawal: %q", got)
	}

	// The town's views: its own notices once each, as its own feed has them.
	ns, err := tw.Store.FindNotices(townCode)
	if err != nil || len(ns) != 1 || ns[0].ID != "n-road" || !slices.Equal(ns[0].To, []string{village2Code}) || ns[0].From != "" {
		t.Fatalf("town's notices: %+v %v", ns, err)
	}
	own, err := bolt.Open(filepath.Join(t.TempDir(), "own.db"), nil, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	copyTo(t, tw, own, tw.Store.Feed())
	if a, b := bucketDump(t, tw.Store, "v_notices"), bucketDump(t, own, "v_notices"); a != b {
		t.Fatalf("the town's notices differ from its own feed's:\n%s\n%s", a, b)
	}

	// The village never received another village's feed.
	if hasFeed(t, v1, downFeed(t, tw, village2Code)) || hasFeed(t, v2, downFeed(t, tw, villageCode)) {
		t.Fatal("a village holds its sibling's downward feed")
	}
	for _, n := range []*testNode{tw, v1, v2, v3} {
		if _, err := n.Store.Verify(ctx); err != nil {
			t.Fatal(err)
		}
		foldShuffled(t, n, coreBuckets)
	}
}

// A town's duty shifts of this week go down to every enrolled village, a
// removal follows, old shifts stay behind; a copy that would speak for the
// village's own roster or notices, or for another feed's record, or that
// is not on a downward feed, changes nothing.
func TestTownDutyCopiedDown(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: day(20, 9)}
	v1 := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	tw := mustNode(t, appliance.NodeTown, townCode, "龙湖镇", clk, true)
	enrol(t, tw, v1, villageCode)
	shift := func(date, shift, name string, removed bool) appliance.DutyShift {
		return appliance.DutyShift{Grid: townCode, Date: date, Shift: shift, StaffID: "410184104000-s01", Name: name, Phone: "13900001111", Lead: "李镇长", Removed: removed}
	}
	for _, d := range []appliance.DutyShift{shift("2026-11-20", "白班", "赵平", false), shift("2026-11-21", "全天", "赵平", false), shift("2026-10-01", "全天", "赵平", false)} {
		if err := tw.Store.SetDuty(ctx, "u-admin", d); err != nil {
			t.Fatal(err)
		}
	}
	if n := copyDown(t, tw, clk); n != 2 {
		t.Fatalf("%d duty copies, want 2 (not the October shift)", n)
	}
	villages := map[string]*testNode{villageCode: v1}
	receive(t, tw, villages)
	got, err := v1.Store.FindDuty(townCode, "2026-10-01", "2026-11-30")
	if err != nil || len(got) != 2 || got[0].Name != "赵平" || got[0].Phone != "13900001111" {
		t.Fatalf("village's town roster: %+v %v", got, err)
	}
	if err := tw.Store.SetDuty(ctx, "u-admin", shift("2026-11-21", "全天", "赵平", true)); err != nil {
		t.Fatal(err)
	}
	if n := copyDown(t, tw, clk); n != 1 {
		t.Fatalf("removal: %d copies", n)
	}
	receive(t, tw, villages)
	if got, _ := v1.Store.FindDuty(townCode, "2026-11-01", "2026-11-30"); len(got) != 1 || got[0].Date != "2026-11-20" {
		t.Fatalf("after removal: %+v", got)
	}

	// Forged copies on the downward feed: the village's own roster and
	// notices, and a record of a feed other than the town's.
	vduty := appliance.DutyShift{Grid: villageCode, Date: "2026-11-20", Shift: "白班", StaffID: "410184104201-s01", Name: "王村", Phone: "13900002222"}
	if err := v1.Store.SetDuty(ctx, "u-admin", vduty); err != nil {
		t.Fatal(err)
	}
	setNotice(t, v1, appliance.Notice{Grid: villageCode, ID: "n1", Title: "村通知", Body: "…", Published: "2026-11-20"})
	before := coreBuckets(t, v1.Store)
	mk := func(kind, feed string, body any) appliance.Draft {
		b := mustJSON(t, body)
		return appliance.Draft{Kind: appliance.KindDownCopy, Version: 1, Body: appliance.DownCopy{Kind: kind, Feed: feed, Seq: 2, Time: appliance.HLCFromTime(day(21, 9)), Body: []byte(b)}}
	}
	takeover := vduty
	takeover.Name = "冒名"
	forged := []appliance.Draft{
		mk(appliance.KindDutySet, tw.Store.Feed().String(), takeover),
		mk(appliance.KindNoticeSet, tw.Store.Feed().String(), appliance.Notice{Grid: villageCode, ID: "n1", Title: "被改写", Body: "…", Published: "2026-11-21"}),
		mk(appliance.KindNoticeSet, v1.Store.Feed().String(), appliance.Notice{Grid: townCode, ID: "n9", Title: "别的节点的记录", Body: "…", Published: "2026-11-21"}),
	}
	if _, err := tw.Store.WriteDown(ctx, villageCode, func(*bolt.Tx) ([]appliance.Draft, error) { return forged, nil }); err != nil {
		t.Fatal(err)
	}
	// On the town's own feed (not a downward feed) a copy counts for nothing.
	if _, err := tw.Store.Append(ctx, mk(appliance.KindNoticeSet, tw.Store.Feed().String(), appliance.Notice{Grid: townCode, ID: "n8", Title: "自己的副本", Body: "…", Published: "2026-11-21"})); err != nil {
		t.Fatal(err)
	}
	receive(t, tw, villages)
	if after := coreBuckets(t, v1.Store); after != before {
		t.Fatalf("forged copies changed the village's views:\n%s\n%s", before, after)
	}
	if _, err := tw.Store.Notice(townCode, "n8"); err == nil {
		t.Fatal("a copy on the town's own feed took effect")
	}
	for _, n := range []*testNode{tw, v1} {
		if _, err := n.Store.Verify(ctx); err != nil {
			t.Fatal(err)
		}
		foldShuffled(t, n, coreBuckets)
	}
}

func copyTo(tb testing.TB, from *testNode, to *bolt.Store, feed appliance.FeedID) {
	tb.Helper()
	es, err := from.Store.Entries(feed, 1, 1<<30)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := to.Ingest(es); err != nil {
		tb.Fatal(err)
	}
}

func bucketDump(tb testing.TB, s *bolt.Store, name string) string {
	tb.Helper()
	var b strings.Builder
	s.DB().View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(name)).ForEach(func(k, v []byte) error {
			fmt.Fprintf(&b, "%q=%q\n", k, v)
			return nil
		})
	})
	return b.String()
}

// A town reports per period: cases in two weeks give each week its own
// figures at the city, the month, quarter and year both; a week that has
// ended gets its final figures during the next one and then stays as
// sent; a body whose period does not match its days is ignored.
func TestTownPeriodStats(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: day(3, 9)} // Tuesday of the week of 2 November
	v1 := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	tw := mustNode(t, appliance.NodeTown, townCode, "龙湖镇", clk, true)
	city := mustNode(t, appliance.NodeCity, cityCode, "郑州市", clk, true)
	up, err := tw.Store.UpFeed()
	if err != nil {
		t.Fatal(err)
	}
	w1a := report(t, v1, "public_affairs", appliance.SourceKiosk, "")
	w1b := report(t, v1, "public_affairs", appliance.SourcePhone, "")
	act(t, v1, villageLevels, appliance.CaseStep{Case: w1a, Action: appliance.CaseResolve, Text: "已修好"})
	clk.t = day(11, 9) // the week of 9 November
	w2a := report(t, v1, "public_affairs", appliance.SourceKiosk, "")
	report(t, v1, "work_safety", appliance.SourceKiosk, "")
	report(t, v1, "work_safety", appliance.SourceKiosk, "")
	copyFeed(t, v1, tw, v1.Store.Feed())
	send := func() bool {
		t.Helper()
		wrote, err := tw.Cases.SendStatsUp(ctx, clk.t)
		if err != nil {
			t.Fatal(err)
		}
		copyFeed(t, tw, city, up)
		return wrote
	}
	if !send() {
		t.Fatal("nothing sent")
	}
	if send() {
		t.Fatal("unchanged statistics sent again")
	}
	total := func(period, date string) (int64, int64) {
		t.Helper()
		reps, err := city.Cases.TownPeriodReports(period, date)
		if err != nil {
			t.Fatal(err)
		}
		if len(reps) != 1 || reps[0].Town != townCode || reps[0].Name != "龙湖镇" {
			t.Fatalf("%s %s: %+v", period, date, reps)
		}
		return reps[0].Stats.Total, reps[0].Stats.Resolved
	}
	for _, tt := range []struct {
		period, date    string
		total, resolved int64
	}{
		{"week", "2026-11-05", 2, 1}, // the week before, sent as it ended
		{"week", "2026-11-09", 3, 0},
		{"month", "2026-11-30", 5, 1},
		{"quarter", "2026-10-01", 5, 1},
		{"year", "2026-01-01", 5, 1},
		{"all", "", 5, 1},
	} {
		if n, r := total(tt.period, tt.date); n != tt.total || r != tt.resolved {
			t.Errorf("%s of %s: %d cases, %d resolved; want %d, %d", tt.period, tt.date, n, r, tt.total, tt.resolved)
		}
	}
	if starts, err := city.Cases.TownReportStarts("week"); err != nil || strings.Join(starts, " ") != "2026-11-09 2026-11-02" {
		t.Fatalf("weeks held: %v %v", starts, err)
	}

	// The next week: a case of the week of 9 November resolved now is in
	// that week's final figures; the week of 2 November is no longer sent
	// (the town's own figures for it change, the city's stay as sent).
	clk.t = day(17, 9)
	act(t, v1, villageLevels, appliance.CaseStep{Case: w2a, Action: appliance.CaseResolve, Text: "已处理"})
	act(t, v1, villageLevels, appliance.CaseStep{Case: w1b, Action: appliance.CaseResolve, Text: "已答复"})
	copyFeed(t, v1, tw, v1.Store.Feed())
	if !send() {
		t.Fatal("nothing sent after the rollover")
	}
	if n, r := total("week", "2026-11-10"); n != 3 || r != 1 {
		t.Errorf("final figures of the week of 9 November: %d, %d", n, r)
	}
	if n, _ := total("week", "2026-11-17"); n != 0 {
		t.Errorf("the new week: %d cases", n)
	}
	if n, r := total("week", "2026-11-02"); n != 2 || r != 1 {
		t.Errorf("the week of 2 November changed: %d, %d", n, r)
	}
	if n, r := total("month", "2026-11-02"); n != 5 || r != 3 {
		t.Errorf("the month: %d, %d", n, r)
	}
	if _, err := city.Cases.TownPeriodReports("fortnight", "2026-11-17"); appliance.ErrorField(err) != "period" {
		t.Errorf("unknown period: %v", err)
	}

	// A body whose days are not a period is ignored by the fold.
	st, err := tw.Cases.Stats(bolt.CaseStatsFilter{Period: "week", Date: "2026-11-17"}, clk.t)
	if err != nil {
		t.Fatal(err)
	}
	st.From, st.Total = "2026-11-18", 99
	if _, err := tw.Store.WriteUp(ctx, func(*bolt.Tx) ([]appliance.Draft, error) {
		return []appliance.Draft{{Kind: appliance.KindTownPeriodStats, Version: 1, Body: appliance.TownStats{Town: townCode, Name: "龙湖镇", Day: "2026-11-17", Stats: st}}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	copyFeed(t, tw, city, up)
	if starts, _ := city.Cases.TownReportStarts("week"); slices.Contains(starts, "2026-11-18") {
		t.Fatal("a week starting on a Wednesday was kept")
	}
	for _, n := range []*testNode{v1, tw, city} {
		if _, err := n.Store.Verify(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
