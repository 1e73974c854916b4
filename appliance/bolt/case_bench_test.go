package bolt_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// benchCases is the number of cases of the town in BenchmarkCaseStatsTown:
// 10,000 by default, GRIDBOX_BENCH_CASES=100000 for the figure in
// docs/performance.md (building it takes a few minutes).
func benchCases(tb testing.TB) int {
	if v := os.Getenv("GRIDBOX_BENCH_CASES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			tb.Fatal(err)
		}
		return n
	}
	return 10000
}

// buildTown makes villages (NoSync stores, batched writes) that report
// cases over a year, resolve most, escalate some to the town, and gives
// all their feeds to a town node.
func buildTown(tb testing.TB, total int) *testNode {
	tb.Helper()
	ctx := context.Background()
	clk := &simClock{t: time.Date(2026, 1, 5, 9, 0, 0, 0, shanghai)}
	town := mustNode(tb, appliance.NodeTown, townCode, "龙湖镇", clk, true)
	const villages = 24
	cats := []string{"illegal_production", "illegal_business", "illegal_construction", "work_safety", "public_opinion", "public_affairs", "livelihood"}
	per := total / villages
	start := time.Now()
	for vi := 0; vi < villages; vi++ {
		clk.t = time.Date(2026, 1, 5, 9, 0, 0, 0, shanghai)
		code := fmt.Sprintf("410184104%03d", 201+vi)
		v := mustNode(tb, appliance.NodeVillage, code, fmt.Sprintf("第%d村", vi+1), clk, true)
		for i := 0; i < per; {
			n := min(500, per-i)
			ins := make([]bolt.CaseIntake, n)
			for k := range ins {
				ins[k] = bolt.CaseIntake{Category: cats[(i+k)%len(cats)], Source: appliance.CaseSources[(i+k)%5], Group: appliance.GroupCode(code, 1+(i+k)%3), Description: "基准测试问题描述"}
			}
			rs, err := v.Cases.RegisterMany(ctx, "u-admin", ins)
			if err != nil {
				tb.Fatal(err)
			}
			var resolve, escalate []appliance.CaseStep
			for k, r := range rs {
				if k%10 < 7 {
					resolve = append(resolve, appliance.CaseStep{Case: r.Code, Action: appliance.CaseResolve, Text: "已办结"})
				} else if k%10 == 7 {
					escalate = append(escalate, appliance.CaseStep{Case: r.Code, Action: appliance.CaseEscalate, Text: "上报"})
				}
			}
			clk.t = clk.t.Add(2 * time.Hour)
			if err := v.Cases.ActMany(ctx, "u-admin", groupLevels, resolve); err != nil {
				tb.Fatal(err)
			}
			if err := v.Cases.ActMany(ctx, "u-admin", groupLevels, escalate); err != nil {
				tb.Fatal(err)
			}
			i += n
			clk.t = clk.t.Add(22 * time.Hour)
		}
		es, err := v.Store.Entries(v.Store.Feed(), 1, 1<<30)
		if err != nil {
			tb.Fatal(err)
		}
		for j := 0; j < len(es); j += 2000 {
			if _, err := town.Store.Ingest(es[j:min(j+2000, len(es))]); err != nil {
				tb.Fatal(err)
			}
		}
		v.Store.Close()
	}
	tb.Logf("town with %d cases built in %s", per*villages, time.Since(start).Round(time.Second))
	return town
}

// BenchmarkCaseStatsTown: statistics of a whole town, all time, and of one
// village for one month, from counters.
func BenchmarkCaseStatsTown(b *testing.B) {
	town := buildTown(b, benchCases(b))
	now := time.Date(2026, 12, 31, 12, 0, 0, 0, shanghai)
	st, err := town.Cases.Stats(bolt.CaseStatsFilter{}, now)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%s", st.Sentence())
	for _, f := range []bolt.CaseStatsFilter{
		{}, {Scope: "410184104201", Period: "month", Date: "2026-03-10"}, {Period: "year", Date: "2026-03-10"},
		{Period: "week", Date: "2026-03-10"}, {Period: "range", From: "2026-02-20", To: "2026-04-10"},
	} {
		name := "all"
		if f.Period != "" {
			name = f.Period
		}
		b.Run(name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := town.Cases.Stats(f, now); err != nil {
					b.Fatal(err)
				}
				times = append(times, time.Since(t0))
			}
			reportP99(b, times)
		})
	}
}

func reportP99(b *testing.B, times []time.Duration) {
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	if len(times) == 0 {
		return
	}
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(times[len(times)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkCaseRegisterFsync: one kiosk report stored with fsync.
func BenchmarkCaseRegisterFsync(b *testing.B) {
	clk := &simClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, shanghai)}
	v := mustNode(b, appliance.NodeVillage, villageCode, "杏花村", clk, false)
	var times []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := v.Cases.RegisterCase(context.Background(), "", bolt.CaseIntake{Category: "livelihood", Source: appliance.SourceKiosk, Description: "村口路灯不亮已经三天", Name: "王秀英", Phone: "13812345678"}); err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(t0))
	}
	reportP99(b, times)
}

// BenchmarkOpenCasesDashboard: a dashboard's case part on a village with
// 10,000 open cases (what the load test files in a minute): the eight that
// wait for the village lead with the counts of all, the duty clerk's own
// registered ones, and the place's counts from counters as the floor.
func BenchmarkOpenCasesDashboard(b *testing.B) {
	ctx := context.Background()
	clk := &simClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, shanghai)}
	v := mustNode(b, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	cats := []string{"illegal_construction", "public_affairs", "livelihood"}
	for i := 0; i < 10000; i += 500 {
		ins := make([]bolt.CaseIntake, 500)
		for k := range ins {
			ins[k] = bolt.CaseIntake{Category: cats[(i+k)%len(cats)], Source: appliance.CaseSources[(i+k)%5], Group: appliance.GroupCode(villageCode, 1+(i+k)%3), Description: "基准测试问题描述"}
		}
		if _, err := v.Cases.RegisterMany(ctx, "u-duty", ins); err != nil {
			b.Fatal(err)
		}
		clk.t = clk.t.Add(24 * time.Hour)
	}
	now := clk.t
	scopes := map[string]bolt.CaseScope{
		"waiting":    {Levels: []string{appliance.CaseLevelGroup, appliance.CaseLevelVillage}},
		"registered": {RegisteredBy: "u-duty"},
	}
	for name, sc := range scopes {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				list, n, err := v.Cases.OpenCases(sc, now, 8)
				if err != nil || len(list) != 8 || n.Open != 10000 {
					b.Fatalf("%d listed, %+v, %v", len(list), n, err)
				}
			}
		})
	}
	b.Run("counters", func(b *testing.B) {
		for b.Loop() {
			n, err := v.Cases.CountCases(bolt.CaseScope{Area: villageCode}, now)
			if err != nil || n.Open != 10000 {
				b.Fatalf("%+v, %v", n, err)
			}
		}
	})
}
