package bolt_test

import (
	"bytes"
	"context"
	cryptorand "crypto/rand"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

const (
	villageCode = "410184104201"
	townCode    = "410184104000"
)

var (
	groupLevels   = []string{appliance.CaseLevelGroup}
	villageLevels = []string{appliance.CaseLevelGroup, appliance.CaseLevelVillage}
	townLevels    = []string{appliance.CaseLevelTown}
)

// simClock is the simulated wall clock shared by the nodes of a test.
type simClock struct{ t time.Time }

func (c *simClock) Now() time.Time { return c.t }

var shanghai, _ = time.LoadLocation("Asia/Shanghai")

// testNode is a node in a temp folder with its case service.
type testNode struct {
	Store *bolt.Store
	Cases *bolt.Cases
}

func mustNode(tb testing.TB, role, code, name string, clock *simClock, noSync bool) *testNode {
	tb.Helper()
	dir := tb.TempDir()
	ck := &appliance.Clock{Now: clock.Now}
	node := appliance.Node{Role: role, Code: code, Name: name}
	if _, err := bolt.InitDataDir(context.Background(), dir, node, bolt.InitOptions{AdminPassword: "admin-pass-1", Clock: ck}); err != nil {
		tb.Fatal(err)
	}
	s, cfg, err := bolt.OpenDataDir(dir, &bolt.Options{Clock: ck, NoSync: noSync})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	cs, err := bolt.NewCases(s, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	cs.Now = clock.Now
	if role == appliance.NodeTown {
		cs.Config.Node.Parent = "127.0.0.1:7946" // a city is configured: towns may escalate
	}
	if role == appliance.NodeVillage {
		for i := 1; i <= 3; i++ {
			g := appliance.Grid{Code: appliance.GroupCode(code, i), Level: appliance.LevelGroup, Name: fmt.Sprintf("第%d村民组", i), Parent: code, Kind: "村组"}
			if err := s.SetGrid(context.Background(), "u-admin", g); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return &testNode{Store: s, Cases: cs}
}

// sync copies every entry from's store holds into to (both ways is two calls).
func sync(tb testing.TB, from, to *testNode) {
	tb.Helper()
	heads, err := from.Store.Heads()
	if err != nil {
		tb.Fatal(err)
	}
	for _, h := range heads {
		es, err := from.Store.Entries(h.Feed, 1, 1<<30)
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := to.Store.Ingest(es); err != nil {
			tb.Fatal(err)
		}
	}
}

func act(tb testing.TB, n *testNode, levels []string, s appliance.CaseStep) *appliance.Case {
	tb.Helper()
	c, err := n.Cases.Act(context.Background(), "u-test", levels, s)
	if err != nil {
		tb.Fatalf("%s %s: %v", s.Action, s.Case, err)
	}
	return c
}

func report(tb testing.TB, n *testNode, cat, src, group string) string {
	tb.Helper()
	r, err := n.Cases.RegisterCase(context.Background(), "u-test", bolt.CaseIntake{Category: cat, Source: src, Group: group, Description: "问题描述：" + cat, Name: "王秀英", Phone: "13812345678"})
	if err != nil {
		tb.Fatal(err)
	}
	return r.Code
}

func day(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, shanghai) }

// scenario is a month of a village and its town: every channel, cases
// resolved at the group, escalated, to a joint meeting, to the city, one
// reopened by an unsatisfied follow-up, one merged, one invalid.
type scenario struct {
	clock                          *simClock
	village, town                  *testNode
	c1, c2, c3, c4, c5, c6, c7, c8 string
}

func runScenario(t *testing.T) *scenario {
	sc := &scenario{clock: &simClock{t: day(1, 8)}}
	clk := sc.clock
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	tw := mustNode(t, appliance.NodeTown, townCode, "龙湖镇", clk, true)
	sc.village, sc.town = v, tw
	g1, g2, g3 := villageCode+"-01", villageCode+"-02", villageCode+"-03"
	S := func(id, a string, f func(*appliance.CaseStep)) appliance.CaseStep {
		s := appliance.CaseStep{Case: id, Action: a}
		if f != nil {
			f(&s)
		}
		return s
	}
	text := func(x string) func(*appliance.CaseStep) { return func(s *appliance.CaseStep) { s.Text = x } }

	clk.t = day(2, 9) // Monday
	sc.c1 = report(t, v, "illegal_construction", appliance.SourcePatrol, g1)
	clk.t = day(2, 11)
	act(t, v, groupLevels, S(sc.c1, "resolve", text("已劝导拆除违建围墙")))
	act(t, v, groupLevels, S(sc.c1, "feedback", func(s *appliance.CaseStep) { s.How = "当面" }))
	act(t, v, groupLevels, S(sc.c1, "followup", func(s *appliance.CaseStep) { s.Rating = appliance.RatingSatisfied }))

	clk.t = day(3, 10)
	sc.c2 = report(t, v, "public_affairs", appliance.SourcePhone, g2)
	clk.t = day(4, 10)
	act(t, v, groupLevels, S(sc.c2, "resolve", text("水管已修好")))

	clk.t = day(4, 15)
	sc.c3 = report(t, v, "livelihood", appliance.SourceWalkIn, "")
	act(t, v, villageLevels, S(sc.c3, "assign", func(s *appliance.CaseStep) { s.Assignee = "李建国" }))
	clk.t = day(5, 15)
	act(t, v, villageLevels, S(sc.c3, "resolve", text("已协助申请临时救助")))
	act(t, v, villageLevels, S(sc.c3, "feedback", func(s *appliance.CaseStep) { s.How = "电话" }))
	clk.t = day(6, 10)
	act(t, v, villageLevels, S(sc.c3, "followup", func(s *appliance.CaseStep) { s.Rating = appliance.RatingUnsatisfied; s.Text = "救助金还没到" }))
	act(t, v, villageLevels, S(sc.c3, "assign", func(s *appliance.CaseStep) { s.Assignee = "李建国" }))
	clk.t = day(9, 15)
	act(t, v, villageLevels, S(sc.c3, "resolve", text("救助金已到账")))
	act(t, v, villageLevels, S(sc.c3, "followup", func(s *appliance.CaseStep) { s.Rating = appliance.RatingSatisfied }))

	clk.t = day(5, 9)
	sc.c4 = report(t, v, "work_safety", appliance.SourceKiosk, g1)
	act(t, v, groupLevels, S(sc.c4, "escalate", text("涉及企业，网格无法处理")))
	clk.t = day(5, 14)
	act(t, v, villageLevels, S(sc.c4, "escalate", text("需乡镇安监站处理")))

	clk.t = day(6, 9)
	sc.c5 = report(t, v, "illegal_production", appliance.SourceBox, g3)
	act(t, v, groupLevels, S(sc.c5, "escalate", text("黑作坊，需上级处理")))
	act(t, v, villageLevels, S(sc.c5, "escalate", text("跨村，需乡镇协调")))

	clk.t = day(9, 9)
	sc.c6 = report(t, v, "illegal_business", appliance.SourceWalkIn, g2)
	act(t, v, villageLevels, S(sc.c6, "merge", func(s *appliance.CaseStep) { s.DuplicateOf = sc.c2 }))
	sc.c7 = report(t, v, "petition", appliance.SourcePhone, "")
	act(t, v, villageLevels, S(sc.c7, "invalid", text("反映人撤回")))

	// The town takes over c4 and c5.
	clk.t = day(10, 9)
	sync(t, v, tw)
	act(t, tw, townLevels, S(sc.c4, "dispatch", func(s *appliance.CaseStep) {
		s.Departments = []string{"安监站", "派出所"}
		s.Due = "2026-12-31"
	}))
	act(t, tw, townLevels, S(sc.c5, "escalate", text("涉及跨县污染，报市平台")))
	clk.t = day(12, 9)
	act(t, tw, townLevels, S(sc.c4, "meeting", func(s *appliance.CaseStep) {
		s.Attendees = []string{"安监站", "派出所", "杏花村委会"}
		s.Text = "分三步整改：停产、搬离设备、复查"
	}))
	act(t, tw, townLevels, S(sc.c4, "milestone", text("第一步：已停产")))
	// A village note on a town case is fine; a village step is refused.
	act(t, v, villageLevels, S(sc.c4, "note", text("群众反映夜间仍有噪音")))
	if _, err := v.Cases.Act(context.Background(), "u-test", villageLevels, S(sc.c4, "resolve", text("x"))); err == nil {
		t.Fatal("village resolved a town case")
	}

	clk.t = day(16, 9)
	sc.c8 = report(t, v, "illegal_business", appliance.SourcePatrol, g3)
	sync(t, v, tw)
	sync(t, tw, v)
	clk.t = day(27, 16) // Friday
	return sc
}

func TestCaseScenario(t *testing.T) {
	sc := runScenario(t)
	for _, n := range []*testNode{sc.village, sc.town} {
		st, err := n.Cases.Stats(bolt.CaseStatsFilter{}, sc.clock.t)
		if err != nil {
			t.Fatal(err)
		}
		checks := []struct {
			name      string
			got, want any
		}{
			{"total", st.Total, int64(8)},
			{"resolved", st.Resolved, int64(3)},
			{"open", st.Open, int64(3)},
			{"rate", st.Rate, 0.5},
			{"escalated", st.Escalated, int64(2)},
			{"escalations", st.Escalations, int64(5)},
			{"to town", st.ToTown, int64(2)},
			{"to city", st.ToCity, int64(1)},
			{"multi", st.Multi, int64(1)},
			{"overdue", st.Overdue, int64(1)},
			{"near", st.Near, int64(0)},
			{"reopened", st.Reopened, int64(1)},
			{"meetings", st.Meetings, int64(1)},
			// c1 2 h, c2 24 h, c3 from 4th 15:00 to 9th 15:00 = 120 h
			{"avg hours", fmt.Sprintf("%.2f", st.AvgHours), "48.67"},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s: %s=%v, want %v", n.Cases.Config.Node.Role, c.name, c.got, c.want)
			}
		}
		want := map[string]int64{
			"cat/illegal_production": 1, "cat/illegal_business": 2, "cat/illegal_construction": 1, "cat/work_safety": 1,
			"cat/petition": 1, "cat/public_affairs": 1, "cat/livelihood": 1, "cat/grassroots": 0,
			"st/closed": 2, "st/resolved": 1, "st/in_steps": 1, "st/pending": 2, "st/merged": 1, "st/invalid": 1, "st/handling": 0,
			"res/group": 2, "res/village": 1, "res/town": 0,
			"open/group": 1, "open/town": 1, "open/city": 1,
			"src/patrol": 2, "src/phone": 2, "src/walk_in": 2, "src/kiosk": 1, "src/suggestion_box": 1,
			"rate/satisfied": 2, "rate/unsatisfied": 0,
		}
		got := map[string]int64{}
		for _, c := range st.ByCategory {
			got["cat/"+c.Key] = c.N
		}
		for _, c := range st.ByStatus {
			got["st/"+c.Key] = c.N
		}
		for _, c := range st.ByLevel {
			got["res/"+c.Key] = c.N
		}
		for _, c := range st.ByOpen {
			got["open/"+c.Key] = c.N
		}
		for _, c := range st.BySource {
			got["src/"+c.Key] = c.N
		}
		for _, c := range st.ByRating {
			got["rate/"+c.Key] = c.N
		}
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: %s=%d, want %d", n.Cases.Config.Node.Role, k, got[k], w)
			}
		}
		if got, want := st.Sentence(), "共收集问题8件：非法生产1件、非法经营2件、非法建设1件、安全生产1件、信访稳定1件、公共事务1件、民生服务1件；已办结3件；上报市平台1件；分步解决或多部门办理1件。"; got != want {
			t.Errorf("sentence=%s\nwant      %s", got, want)
		}
	}
	// Per town, group and period.
	if tst, err := sc.town.Cases.Stats(bolt.CaseStatsFilter{Scope: townCode}, sc.clock.t); err != nil || tst.Total != 8 || tst.Overdue != 1 || len(tst.ByTown) != 0 {
		t.Errorf("town scope: %+v, %v", tst, err)
	}
	if all, _ := sc.town.Cases.Stats(bolt.CaseStatsFilter{}, sc.clock.t); len(all.ByTown) != 1 || all.ByTown[0].N != 8 || all.ByTown[0].Done != 3 {
		t.Errorf("by town: %+v", all.ByTown)
	}
	g1, err := sc.village.Cases.Stats(bolt.CaseStatsFilter{Scope: villageCode + "-01", Period: "month", Date: "2026-11-15"}, sc.clock.t)
	if err != nil {
		t.Fatal(err)
	}
	if g1.Total != 2 || g1.Resolved != 1 || g1.Escalated != 1 {
		t.Errorf("group 1 = %d/%d/%d, want 2/1/1", g1.Total, g1.Resolved, g1.Escalated)
	}
	wk, err := sc.village.Cases.Stats(bolt.CaseStatsFilter{Period: "week", Date: "2026-11-04"}, sc.clock.t)
	if err != nil {
		t.Fatal(err)
	}
	if wk.Total != 5 { // c1..c5 in the week of 2 Nov
		t.Errorf("week total=%d, want 5", wk.Total)
	}
	// The register of 2 November: group 1 reported and resolved one.
	days, err := sc.village.Cases.RegisterRows(villageCode, "2026-11-02", "2026-11-05")
	if err != nil {
		t.Fatal(err)
	}
	if r := days[0].Rows[0]; r.Unit != villageCode+"-01" || r.Reported != 1 || r.Resolved != 1 || r.Escalated != 0 {
		t.Errorf("2 Nov group 1 = %+v", r)
	}
	if tot := days[3].Total; tot.Reported != 1 || tot.Escalated != 2 { // 5 Nov: c4 reported, up twice
		t.Errorf("5 Nov total = %+v", tot)
	}
	// Case states on both nodes agree.
	for _, id := range []string{sc.c1, sc.c3, sc.c4, sc.c5} {
		a, _ := sc.village.Cases.Case(id)
		b, _ := sc.town.Cases.Case(id)
		if a.Status != b.Status || a.Level != b.Level {
			t.Errorf("%s: village %s@%s, town %s@%s", id, a.Status, a.Level, b.Status, b.Level)
		}
	}
	if c, _ := sc.village.Cases.Case(sc.c3); c.Status != appliance.StatusClosed || c.Reopened != 1 {
		t.Errorf("c3 = %s reopened %d", c.Status, c.Reopened)
	}
	// The town has no PINs unless the sealed part travelled; here it did.
	if r, err := sc.village.Cases.Reporter(sc.c1); err != nil || r.Name != "王秀英" {
		t.Errorf("reporter = %+v, %v", r, err)
	}
}

// caseBuckets dumps the case view buckets.
func caseBuckets(tb testing.TB, s *bolt.Store) string {
	return dumpBuckets(tb, s, "v_cases", "v_case_stats", "v_case_cells", "v_case_days", "v_case_due", "v_case_order", "v_case_register", "v_case_reporters", "v_case_city")
}

// dumpBuckets returns the keys and values of the named buckets as text.
func dumpBuckets(tb testing.TB, s *bolt.Store, names ...string) string {
	tb.Helper()
	var b strings.Builder
	err := s.DB().View(func(tx *bbolt.Tx) error {
		for _, name := range names {
			fmt.Fprintf(&b, "[%s]\n", name)
			tx.Bucket([]byte(name)).ForEach(func(k, v []byte) error {
				fmt.Fprintf(&b, "%q=%q\n", k, v)
				return nil
			})
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

// The same entries of a village feed and a town feed, ingested into fresh
// stores in shuffled interleavings (each feed in its own order, as sync
// delivers them), give byte-identical case views.
func TestCaseFoldOrderIndependent(t *testing.T) {
	sc := runScenario(t)
	// A late village step concurrent with town steps makes the order matter.
	act(t, sc.village, villageLevels, appliance.CaseStep{Case: sc.c4, Action: "note", Text: "补充材料"})
	// An entry the command check would refuse (the town resolving a case
	// the group holds), appended straight to the town's feed: the fold
	// keeps it in the history as void and changes nothing, on every node.
	bad := appliance.CaseStep{Case: sc.c8, Action: appliance.CaseResolve, By: appliance.CaseLevelTown, Day: "2026-11-27", Text: "越级办结"}
	if _, err := sc.town.Store.Append(context.Background(), appliance.Draft{Kind: appliance.CaseKind(appliance.CaseResolve), Version: 1, Body: bad}); err != nil {
		t.Fatal(err)
	}
	if c, _ := sc.town.Cases.Case(sc.c8); c.Status != appliance.StatusPending || c.Steps[len(c.Steps)-1].Void == "" {
		t.Fatalf("illegal entry took effect: %s, last step %+v", c.Status, c.Steps[len(c.Steps)-1])
	}
	sync(t, sc.town, sc.village)
	sync(t, sc.village, sc.town)
	// Every feed the village holds: its own, the town's downward feed for
	// it (the town's steps on its cases) and, as sync copies everything
	// here, the town's own feed.
	var feeds [][]*appliance.Entry
	heads, err := sc.village.Store.Heads()
	if err != nil {
		t.Fatal(err)
	}
	if len(heads) < 3 {
		t.Fatalf("village holds %d feeds, want its own, the town's and the town's downward feed", len(heads))
	}
	for _, h := range heads {
		es, err := sc.village.Store.Entries(h.Feed, 1, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		feeds = append(feeds, es)
	}
	var want string
	for round := 0; round < 8; round++ {
		r := rand.New(rand.NewPCG(uint64(round), 7))
		s, err := bolt.Open(filepath.Join(t.TempDir(), "x.db"), nil, &bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		ingestAll(t, s, interleave(r, feeds))
		got := caseBuckets(t, s)
		s.Close()
		if round == 0 {
			want = got
			if !strings.Contains(got, sc.c4) {
				t.Fatal("no cases folded")
			}
		} else if got != want {
			t.Fatalf("round %d: case views differ", round)
		}
	}
	if got := caseBuckets(t, sc.village.Store); got != want {
		t.Fatalf("the village's own views differ from a refold")
	}
}

// Without the sealed part the fold still works; only the reporter is absent.
func TestCaseRedacted(t *testing.T) {
	sc := runScenario(t)
	es, err := sc.village.Store.Entries(sc.village.Store.Feed(), 1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range es {
		es[i] = e.Redacted()
	}
	s, err := bolt.Open(filepath.Join(t.TempDir(), "r.db"), nil, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Ingest(es); err != nil {
		t.Fatal(err)
	}
	cs, _ := bolt.NewCases(s, sc.village.Cases.Config)
	if c, err := cs.Case(sc.c1); err != nil || c.Status != appliance.StatusClosed {
		t.Fatalf("c1 = %v, %v", c, err)
	}
	if _, err := cs.Reporter(sc.c1); appliance.ErrorCode(err) != appliance.ENOTFOUND {
		t.Fatalf("reporter err=%v, want not found", err)
	}
	if _, err := cs.Track(sc.c1, "1234"); appliance.ErrorCode(err) != appliance.ENOTFOUND && appliance.ErrorCode(err) != appliance.EINVALID {
		t.Fatalf("track err=%v", err)
	}
}

func TestCaseTrackLock(t *testing.T) {
	clk := &simClock{t: day(2, 9)}
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	r, err := v.Cases.RegisterCase(context.Background(), "", bolt.CaseIntake{Category: "livelihood", Source: appliance.SourceKiosk, Description: "村口路灯不亮"})
	if err != nil {
		t.Fatal(err)
	}
	// A right PIN only reads: no transaction is committed.
	txid := func() int {
		var id int
		v.Store.DB().View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil })
		return id
	}
	before := txid()
	if c, err := v.Cases.Track(strings.ToLower(r.Code), r.PIN); err != nil || c.ID != r.Code {
		t.Fatalf("track = %v, %v", c, err)
	}
	if after := txid(); after != before {
		t.Fatalf("a lookup with the right PIN committed %d write(s)", after-before)
	}
	bad := "0000"
	if r.PIN == bad {
		bad = "1111"
	}
	for i := 0; i < 5; i++ {
		if _, err := v.Cases.Track(r.Code, bad); appliance.ErrorCode(err) != appliance.EINVALID {
			t.Fatalf("try %d: err=%v", i, err)
		}
	}
	if txid() != before+5 {
		t.Fatalf("5 wrong PINs committed %d writes, want 5 (each counted)", txid()-before)
	}
	if _, err := v.Cases.Track(r.Code, r.PIN); appliance.ErrorCode(err) != appliance.ELOCKED {
		t.Fatalf("after 5 wrong PINs err=%v, want locked", err)
	}
	clk.t = clk.t.Add(31 * time.Minute)
	if _, err := v.Cases.Track(r.Code, r.PIN); err != nil {
		t.Fatalf("after the lock: %v", err)
	}
}

func TestCaseRegisterClose(t *testing.T) {
	sc := runScenario(t)
	rd, err := sc.village.Cases.CloseRegister(context.Background(), "u-test", "2026-11-16")
	if err != nil {
		t.Fatal(err)
	}
	if rd.Closed == nil || rd.Mismatch || rd.Total.Reported != 1 {
		t.Fatalf("closed day = %+v", rd)
	}
	if _, err := sc.village.Cases.CloseRegister(context.Background(), "u-test", "2026-11-16"); appliance.ErrorCode(err) != appliance.ECONFLICT {
		t.Fatalf("second close err=%v", err)
	}
	if n, err := sc.village.Store.VerifyRegisters(); n != 1 || err != nil {
		t.Fatalf("verify registers = %d, %v", n, err)
	}
	// With the clock gone back into the closed day (a box without a
	// real-time clock), a new report goes to the next open day.
	sc.clock.t = day(16, 18)
	r, err := sc.village.Cases.RegisterCase(context.Background(), "u-test", bolt.CaseIntake{Category: "livelihood", Source: appliance.SourcePhone, Group: villageCode + "-02", Description: "来电反映"})
	if err != nil || r.Day != "2026-11-17" {
		t.Fatalf("report with the clock in a closed day: day %q, %v; want 2026-11-17", r.Day, err)
	}
	if n, err := sc.village.Store.VerifyRegisters(); n != 1 || err != nil {
		t.Fatalf("verify registers after normal use = %d, %v", n, err)
	}
	// A day not yet over cannot be closed.
	sc.clock.t = day(20, 20)
	if _, err := sc.village.Cases.CloseRegister(context.Background(), "u-test", "2026-11-20"); appliance.ErrorField(err) != "day" {
		t.Fatalf("closing today: %v, want refused", err)
	}
	if _, err := sc.village.Cases.CloseRegister(context.Background(), "u-test", "2026-11-19"); err != nil {
		t.Fatalf("closing yesterday: %v", err)
	}
	// A backdated step (written around the case service, as a forger with
	// the node key would) changes the closed day: verify names it.
	step := appliance.CaseStep{Case: appliance.NewReceiptCode(cryptorand.Reader), Action: appliance.CaseRegister, By: appliance.CaseLevelGroup, Day: "2026-11-16",
		Category: "livelihood", Source: appliance.SourcePhone, Village: villageCode, Group: villageCode + "-02", Text: "补录一条十六日的来电"}
	if _, err := sc.village.Store.Append(context.Background(), appliance.Draft{Author: "u-test", Kind: appliance.CaseKind(appliance.CaseRegister), Version: 1, Body: step}); err != nil {
		t.Fatal(err)
	}
	days, err := sc.village.Cases.RegisterRows(villageCode, "2026-11-16", "2026-11-16")
	if err != nil {
		t.Fatal(err)
	}
	if !days[0].Mismatch {
		t.Fatalf("a changed closed day shows no mismatch: %+v", days[0])
	}
	if _, err := sc.village.Store.VerifyRegisters(); err == nil || !strings.Contains(err.Error(), "2026-11-16") {
		t.Fatalf("verify registers err=%v, want the changed day named", err)
	}
}

func TestCaseAutoEscalate(t *testing.T) {
	sc := runScenario(t)
	// c8 (illegal business) is overdue but not set to escalate itself; a
	// work-safety case is.
	sc.clock.t = day(16, 9)
	id := report(t, sc.village, "work_safety", appliance.SourcePatrol, villageCode+"-01")
	sc.clock.t = day(27, 16)
	n, err := sc.village.Cases.EscalateOverdue(context.Background(), sc.clock.t)
	if err != nil || n != 1 {
		t.Fatalf("escalated %d, %v; want 1", n, err)
	}
	c, _ := sc.village.Cases.Case(id)
	if c.Level != appliance.CaseLevelVillage || c.Escalations != 1 {
		t.Fatalf("case at %s, escalations %d", c.Level, c.Escalations)
	}
	// Due again at the village (2 working days) — still overdue on the
	// 27th? No: the deadline starts when it arrives.
	if n, _ := sc.village.Cases.EscalateOverdue(context.Background(), sc.clock.t); n != 0 {
		t.Fatalf("escalated again: %d", n)
	}
}

func TestCasePhotos(t *testing.T) {
	clk := &simClock{t: day(2, 9)}
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	img := image.NewRGBA(image.Rect(0, 0, 3200, 1200))
	for x := 0; x < 3200; x += 7 {
		img.Set(x, x%1200, color.RGBA{200, 10, 10, 255})
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, nil)
	r, err := v.Cases.RegisterCase(context.Background(), "u-test", bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourcePatrol, Group: villageCode + "-01", Description: "树木倒伏挡路", Photos: [][]byte{buf.Bytes()}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := v.Cases.Case(r.Code)
	if len(c.Photos) != 1 {
		t.Fatalf("photos=%v", c.Photos)
	}
	data, err := v.Cases.Photo(c.Photos[0])
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width != 1600 || cfg.Height != 600 {
		t.Fatalf("stored %dx%d, %v", cfg.Width, cfg.Height, err)
	}
	if _, err := v.Cases.RegisterCase(context.Background(), "u-test", bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourcePatrol, Description: "树木倒伏挡路", Photos: [][]byte{[]byte("GIF89a not a photo")}}); appliance.ErrorField(err) != "photos" {
		t.Fatalf("bad photo err=%v", err)
	}
}

// A PIN typed full-width or with spaces is the PIN; one that is not 4
// digits is refused without counting as a wrong try ("1２" is 4 bytes).
func TestCaseTrackPINAsTyped(t *testing.T) {
	clk := &simClock{t: day(2, 9)}
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	r, err := v.Cases.RegisterCase(context.Background(), "", bolt.CaseIntake{Category: "livelihood", Source: appliance.SourceKiosk, Description: "村口路灯不亮"})
	if err != nil {
		t.Fatal(err)
	}
	wide := strings.Map(func(r rune) rune { return r - '0' + '０' }, r.PIN)
	for _, pin := range []string{wide, " " + r.PIN[:2] + "\u3000" + r.PIN[2:] + " "} {
		if c, err := v.Cases.Track(r.Code, pin); err != nil || c.ID != r.Code {
			t.Fatalf("Track(%q)=%v, %v", pin, c, err)
		}
	}
	for i := 0; i < 10; i++ {
		for _, bad := range []string{"1２", "12345", "12a4", "１２３", ""} {
			if _, err := v.Cases.Track(r.Code, bad); appliance.ErrorField(err) != "pin" || appliance.ErrorMessage(err) != "请输入回执上的4位查询密码" {
				t.Fatalf("Track(%q)=%v", bad, err)
			}
		}
	}
	if _, err := v.Cases.Track(r.Code, r.PIN); err != nil {
		t.Fatalf("after 50 malformed PINs: %v, want no lock", err)
	}
}
