package bolt_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// benchVisits is the number of visits of the town's year in
// BenchmarkAssessTown: 50,000 by default; GRIDBOX_BENCH_VISITS=900000
// (with GRIDBOX_BENCH_CASES=100000) for the ≈1 M entries of the figure in
// docs/performance.md.
func benchVisits(tb testing.TB) int {
	if v := os.Getenv("GRIDBOX_BENCH_VISITS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			tb.Fatal(err)
		}
		return n
	}
	return 50000
}

// BenchmarkAssessTown: the scores of a town of 24 villages and 163 groups
// over a year of evidence (cases from buildTown; visits, duty logs with
// handovers and closed registers written on the town's store), for the
// year and one week; and a village's public board for one week (the
// kiosk's /board).
//
//	GRIDBOX_BENCH_CASES=100000 GRIDBOX_BENCH_VISITS=900000 go test -run '^$' -bench AssessTown -benchtime 5x -timeout 60m ./appliance/bolt/
func BenchmarkAssessTown(b *testing.B) {
	ctx := context.Background()
	town := buildTown(b, benchCases(b))
	start := time.Now()
	var drafts []appliance.Draft
	flush := func(force bool) {
		if len(drafts) < 10000 && !(force && len(drafts) > 0) {
			return
		}
		if _, err := town.Store.Write(ctx, func(*bolt.Tx) ([]appliance.Draft, error) { return drafts, nil }); err != nil {
			b.Fatal(err)
		}
		drafts = nil
	}
	add := func(kind string, body any) {
		drafts = append(drafts, appliance.Draft{Author: "u-bench", Kind: kind, Version: 1, Body: body})
		flush(false)
	}
	var groups []string
	var staff []appliance.StaffMember
	for vi := 0; vi < 24; vi++ {
		v := fmt.Sprintf("410184104%03d", 201+vi)
		n := 7
		if vi >= 19 {
			n = 6
		}
		for g := 1; g <= n; g++ {
			code := appliance.GroupCode(v, g)
			groups = append(groups, code)
			if g > 3 { // mustNode made the first three
				add(appliance.KindGridSet, appliance.Grid{Code: code, Level: appliance.LevelGroup, Name: fmt.Sprintf("第%d村民组", g), Parent: v})
			}
			for k := 1; k <= 10; k++ {
				m := appliance.StaffMember{ID: fmt.Sprintf("%s-s%02d%02d", v, g, k), Name: fmt.Sprintf("网格员%d-%d", g, k), Phone: "13800000000", Duty: appliance.DutyGridWorker, Grid: code}
				staff = append(staff, m)
				add(appliance.KindStaffSet, m)
			}
		}
	}
	day0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	visits := benchVisits(b)
	for i := 0; i < visits; i++ {
		m := staff[i%len(staff)]
		d := day0.AddDate(0, 0, (i/len(staff))%365).Format(time.DateOnly)
		add(appliance.KindVisitAdd, appliance.Visit{ID: fmt.Sprintf("bv%d", i), Worker: m.ID, Name: m.Name, Group: m.Grid, Kind: appliance.VisitPatrol, Place: "村道", Date: d, Time: "09:00", Seen: "正常"})
	}
	for vi := 0; vi < 24; vi++ {
		v := fmt.Sprintf("410184104%03d", 201+vi)
		for di := 0; di < 365; di++ {
			d := day0.AddDate(0, 0, di).Format(time.DateOnly)
			if di%30 != 7 {
				add(appliance.KindDutyLog, appliance.DutyLog{ID: fmt.Sprintf("ds%d", di), Grid: v, Date: d, At: "08:00", Kind: appliance.LogSignIn, StaffID: v + "-s0101", Name: "值班员"})
				add(appliance.KindDutyLog, appliance.DutyLog{ID: fmt.Sprintf("dh%d", di), Grid: v, Date: d, At: "17:30", Kind: appliance.LogHandover, StaffID: v + "-s0101", Name: "值班员", Text: "无"})
			}
			if di%20 != 3 {
				add(appliance.KindRegisterClose, appliance.RegisterClose{Village: v, Day: d, Hash: appliance.RegisterHash(v, d, nil)})
			}
		}
	}
	flush(true)
	st, err := town.Store.Stats()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("town of %d groups, %d staff, %d entries; evidence written in %s", len(groups), len(staff), st.Entries, time.Since(start).Round(time.Second))
	year, _ := appliance.ParsePeriod("2026")
	week, _ := appliance.ParsePeriod("2026-W23")
	scores, err := town.Store.Scores(townCode, year, "2027-01-01")
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d scores", len(scores))
	for _, c := range []struct {
		name, scope string
		p           appliance.Period
		board       bool
	}{{"town-year", townCode, year, false}, {"town-week", townCode, week, false}, {"village-board-week", villageCode, week, true}} {
		b.Run(c.name, func(b *testing.B) {
			var times []time.Duration
			for b.Loop() {
				t0 := time.Now()
				sc, err := town.Store.Scores(c.scope, c.p, "2027-01-01")
				if err != nil {
					b.Fatal(err)
				}
				if c.board {
					if _, err := appliance.PublicBoard(sc, appliance.NodeVillage, c.p, "2027-01-01"); err != nil {
						b.Fatal(err)
					}
				}
				times = append(times, time.Since(t0))
			}
			reportP99(b, times)
		})
	}
}
