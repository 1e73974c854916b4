package pgfeed_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/appliance/demo"
	"gridbox/replicate/pgfeed"
	"gridbox/replicate/pgfeed/pgtest"
)

// The demo town with two demo villages whose cases went up to it, built
// once per test run and only read.
var (
	townOnce sync.Once
	townCS   *bolt.Cases
	townErr  error
	townDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if townCS != nil {
		townCS.Store.Close()
	}
	if townDir != "" {
		os.RemoveAll(townDir)
	}
	os.Exit(code)
}

func demoTown(tb testing.TB) *bolt.Cases {
	tb.Helper()
	townOnce.Do(func() {
		ctx := context.Background()
		dir, err := os.MkdirTemp("", "gridbox-pgfeed-")
		if err != nil {
			townErr = err
			return
		}
		townDir = dir
		town := filepath.Join(dir, "town")
		if _, _, err := demo.GenerateTown(ctx, town, demo.Options{}); err != nil {
			townErr = err
			return
		}
		for i, name := range []string{"杏花村", "桃园村"} {
			code := fmt.Sprintf("410184104%03d", 201+i)
			if _, _, err := demo.Generate(ctx, filepath.Join(dir, code), demo.Options{Code: code, Name: name, Town: "龙湖镇", TownDir: town}); err != nil {
				townErr = err
				return
			}
		}
		s, cfg, err := bolt.OpenDataDir(town, nil)
		if err != nil {
			townErr = err
			return
		}
		if townCS, townErr = bolt.NewCases(s, cfg); townErr != nil {
			return
		}
		// What a serving town sends its city: statistics per period.
		_, townErr = townCS.SendStatsUp(ctx, time.Now())
	})
	if townErr != nil {
		tb.Fatal(townErr)
	}
	return townCS
}

func feed(tb testing.TB, cs *bolt.Cases, url string, batch int) pgfeed.Result {
	tb.Helper()
	res, err := pgfeed.Run(context.Background(), pgfeed.StoreSource{Cases: cs}, pgfeed.Options{URL: url, Source: cs.Store.Feed().String(), Batch: batch})
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

func connect(tb testing.TB, url string) *pgx.Conn {
	tb.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// counts reads a (key, n) view into a map.
func counts(tb testing.TB, conn *pgx.Conn, sql string) map[string]int64 {
	tb.Helper()
	rows, err := conn.Query(context.Background(), sql)
	if err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kv struct {
		K string
		N int64
	}, err error) {
		err = r.Scan(&kv.K, &kv.N)
		return
	})
	if err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
	m := map[string]int64{}
	for _, kv := range out {
		m[kv.K] = kv.N
	}
	return m
}

// nonZero keeps the lines of an API breakdown that count something (the
// API lists every configured key, the views only what occurs).
func nonZero(cs []appliance.CaseCount) map[string]int64 {
	m := map[string]int64{}
	for _, c := range cs {
		if c.N != 0 {
			m[c.Key] = c.N
		}
	}
	return m
}

func sameCounts(t *testing.T, what string, got, want map[string]int64) {
	t.Helper()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("%s: SQL %v, node %v", what, got, want)
	}
}

type totalsRow struct {
	Total, Resolved, Open                         int64
	Rate                                          float64
	Escalated, Escalations, ToTown, ToCity, Multi int64
	Overdue, ResolvedLate, Reopened, Meetings     int64
	AvgHours                                      float64
}

const totalsCols = "total, resolved, open, resolution_rate, escalated, escalations, to_town, to_city, multi, overdue, resolved_late, reopened, joint_meetings, avg_hours_to_resolve"

func scanTotals(tb testing.TB, row pgx.Row) totalsRow {
	tb.Helper()
	var r totalsRow
	if err := row.Scan(&r.Total, &r.Resolved, &r.Open, &r.Rate, &r.Escalated, &r.Escalations, &r.ToTown, &r.ToCity, &r.Multi,
		&r.Overdue, &r.ResolvedLate, &r.Reopened, &r.Meetings, &r.AvgHours); err != nil {
		tb.Fatal(err)
	}
	return r
}

func apiTotals(st appliance.CaseStats) totalsRow {
	return totalsRow{st.Total, st.Resolved, st.Open, st.Rate, st.Escalated, st.Escalations, st.ToTown, st.ToCity, st.Multi,
		st.Overdue, st.ResolvedLate, st.Reopened, st.Meetings, st.AvgHours}
}

func sameTotals(t *testing.T, what string, got, want totalsRow) {
	t.Helper()
	round := func(r totalsRow) totalsRow {
		r.Rate = math.Round(r.Rate*1e9) / 1e9
		r.AvgHours = math.Round(r.AvgHours*1e9) / 1e9
		return r
	}
	if round(got) != round(want) {
		t.Errorf("%s:\n SQL  %+v\n node %+v", what, got, want)
	}
}

// TestFeedStatistics feeds the demo town and compares every figure of the
// SQL views with the town's own statistics (what /api/v1/statistics
// answers): all time, per village, per month, and every breakdown.
func TestFeedStatistics(t *testing.T) {
	cs := demoTown(t)
	pg := pgtest.Start(t)
	res := feed(t, cs, pg.URL(), 300)
	st, _ := cs.Store.Stats()
	if res.Entries != int(st.Entries) || res.Batches < 2 {
		t.Fatalf("fed %d entries in %d batches, the town holds %d", res.Entries, res.Batches, st.Entries)
	}
	conn := connect(t, pg.URL())
	ctx := context.Background()
	now := time.Now()
	all, err := cs.Stats(bolt.CaseStatsFilter{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if all.Total < 100 || all.ToTown == 0 || all.Resolved == 0 {
		t.Fatalf("the demo town is too thin to compare: %s", all.Sentence())
	}
	t.Log(all.Sentence())
	sameTotals(t, "stats_all", scanTotals(t, conn.QueryRow(ctx, "SELECT "+totalsCols+" FROM gridbox.stats_all")), apiTotals(all))

	sameCounts(t, "by_category", counts(t, conn, "SELECT category, n FROM gridbox.stats_by_category"), nonZero(all.ByCategory))
	sameCounts(t, "by_status", counts(t, conn, "SELECT status, n FROM gridbox.stats_by_status"), nonZero(all.ByStatus))
	sameCounts(t, "by_source", counts(t, conn, "SELECT source, n FROM gridbox.stats_by_source"), nonZero(all.BySource))
	sameCounts(t, "by_resolving_level", counts(t, conn, "SELECT level, n FROM gridbox.stats_by_resolving_level"), nonZero(all.ByLevel))
	sameCounts(t, "open_by_level", counts(t, conn, "SELECT level, n FROM gridbox.stats_open_by_level"), nonZero(all.ByOpen))
	sameCounts(t, "by_rating", counts(t, conn, "SELECT rating, n FROM gridbox.stats_by_rating"), nonZero(all.ByRating))
	sub := map[string]int64{}
	for _, s := range all.BySubcategory {
		if s.N > 0 {
			sub[s.Category+"/"+s.Key] = s.N
		}
	}
	sameCounts(t, "by_subcategory", counts(t, conn, "SELECT category || '/' || subcategory, n FROM gridbox.stats_by_subcategory"), sub)
	outcome := map[string]int64{}
	for _, o := range all.ByOutcome {
		for k, n := range map[string]int64{"n": o.N, "open": o.Open, "overdue": o.Overdue, "resolved": o.Resolved, "resolved_late": o.ResolvedLate, "merged": o.Merged, "invalid": o.Invalid} {
			if o.N > 0 {
				outcome[o.Key+"/"+k] = n
			}
		}
	}
	sqlOutcome := map[string]int64{}
	for _, k := range []string{"n", "open", "overdue", "resolved", "resolved_late", "merged", "invalid"} {
		for cat, n := range counts(t, conn, "SELECT category, "+k+" FROM gridbox.stats_by_category_outcome") {
			sqlOutcome[cat+"/"+k] = n
		}
	}
	sameCounts(t, "by_category_outcome", sqlOutcome, outcome)
	deps, sqlDeps := map[string]int64{}, map[string]int64{}
	for _, d := range all.ByDepartment {
		if d.Dispatched > 0 || d.Overdue > 0 {
			for k, n := range map[string]int64{"dispatched": d.Dispatched, "open": d.Open, "resolved_on_time": d.OnTime, "resolved_late": d.Late, "overdue": d.Overdue} {
				deps[d.Department+"/"+k] = n
			}
		}
	}
	for _, k := range []string{"dispatched", "open", "resolved_on_time", "resolved_late", "overdue"} {
		for dep, n := range counts(t, conn, "SELECT department, "+k+" FROM gridbox.stats_by_department") {
			sqlDeps[dep+"/"+k] = n
		}
	}
	if len(deps) == 0 {
		t.Error("the demo town dispatched nothing: by_department compares nothing")
	}
	sameCounts(t, "by_department", sqlDeps, deps)

	// Places, with the zero lines the API keeps.
	for _, p := range []struct {
		view, col string
		api       []appliance.CaseCount
	}{{"stats_by_village", "village", all.ByVillage}, {"stats_by_group", "grp", all.ByGroup}, {"stats_by_town", "town", all.ByTown}} {
		want, wantDone := map[string]int64{}, map[string]int64{}
		for _, c := range p.api {
			want[c.Key], wantDone[c.Key] = c.N, c.Done
		}
		sameCounts(t, p.view, counts(t, conn, "SELECT "+p.col+", total FROM gridbox."+p.view), want)
		sameCounts(t, p.view+" resolved", counts(t, conn, "SELECT "+p.col+", resolved FROM gridbox."+p.view), wantDone)
	}
	if len(all.ByVillage) != 2 || len(all.ByGroup) < 10 {
		t.Errorf("by_village %d lines, by_group %d: want the two villages and their groups", len(all.ByVillage), len(all.ByGroup))
	}
	// One village's totals, all time and month by month (sums of stats_by_month).
	months := map[string]bool{}
	rows, _ := conn.Query(ctx, "SELECT DISTINCT month FROM gridbox.stats_by_month ORDER BY month")
	ms, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ms) < 2 {
		t.Fatalf("months %v, %v: want at least two", ms, err)
	}
	for _, m := range ms {
		months[m] = true
	}
	for _, v := range []string{"410184104201", "410184104202"} {
		vst, err := cs.Stats(bolt.CaseStatsFilter{Scope: v}, now)
		if err != nil {
			t.Fatal(err)
		}
		sameTotals(t, "stats_by_village "+v, scanTotals(t, conn.QueryRow(ctx, "SELECT "+totalsCols+" FROM gridbox.stats_by_village WHERE village = $1", v)), apiTotals(vst))
		for m := range months {
			mst, err := cs.Stats(bolt.CaseStatsFilter{Scope: v, Period: "month", Date: m + "-01"}, now)
			if err != nil {
				t.Fatal(err)
			}
			got := scanTotals(t, conn.QueryRow(ctx, "SELECT "+totalsCols+" FROM gridbox.stats_by_month WHERE village = $1 AND month = $2 UNION ALL SELECT "+strings.Repeat("0, ", 13)+"0 LIMIT 1", v, m))
			// Overdue is about now: the API counts the scope's open cases
			// past their deadline whatever the period, the view those
			// reported in the month (stats_all and stats_by_village agree).
			want := apiTotals(mst)
			want.Overdue = got.Overdue
			sameTotals(t, "stats_by_month "+v+" "+m, got, want)
		}
	}

	// Rows: one per case and per step the town holds, positions at the heads.
	var cases, steps int64
	conn.QueryRow(ctx, "SELECT (SELECT count(*) FROM gridbox.cases), (SELECT count(*) FROM gridbox.case_steps)").Scan(&cases, &steps)
	wantCases, wantSteps := townCaseRows(t, cs)
	if cases != int64(len(wantCases)) || steps != int64(wantSteps) {
		t.Errorf("%d cases and %d steps in SQL, the town holds %d and %d", cases, steps, len(wantCases), wantSteps)
	}
	checkPositions(t, conn, cs)

	// Household counts per group as the archive counts them.
	archive, err := cs.Store.ArchiveStats("", now)
	if err != nil {
		t.Fatal(err)
	}
	wantHH, wantPeople := map[string]int64{}, map[string]int64{}
	for _, g := range archive {
		wantHH[g.Group], wantPeople[g.Group] = g.Households, g.People
	}
	if len(wantHH) < 10 {
		t.Fatalf("archive of %d groups: the town should hold its villages' archives", len(wantHH))
	}
	sameCounts(t, "household_counts households", counts(t, conn, "SELECT grp, households FROM gridbox.household_counts"), wantHH)
	// The statistics per period the town sent up, as it sent them.
	wantPeriods := map[string]int64{}
	reps, err := cs.TownReports()
	if err != nil || len(reps) != 1 {
		t.Fatalf("town reports %v, %v", reps, err)
	}
	wantPeriods["all/"] = reps[0].Stats.Total
	for _, p := range appliance.ReportPeriods {
		starts, _ := cs.TownReportStarts(p)
		for _, from := range starts {
			ps, _ := cs.TownPeriodReports(p, from)
			for _, r := range ps {
				wantPeriods[p+"/"+r.Stats.From] = r.Stats.Total
			}
		}
	}
	if len(wantPeriods) < 5 {
		t.Errorf("the town reported %d periods, want all, a week, a month, a quarter and a year", len(wantPeriods))
	}
	sameCounts(t, "period_stats", counts(t, conn, "SELECT period || '/' || period_from, total FROM gridbox.period_stats WHERE town = '410184104000'"), wantPeriods)
	var jsonTotal int64
	conn.QueryRow(ctx, "SELECT (stats->>'total')::bigint FROM gridbox.period_stats WHERE period = 'all'").Scan(&jsonTotal)
	if jsonTotal != all.Total {
		t.Errorf("period_stats.stats total %d, want %d", jsonTotal, all.Total)
	}
	sameCounts(t, "household_counts people", counts(t, conn, "SELECT grp, people FROM gridbox.household_counts"), wantPeople)
}

// townCaseRows are the cases the town holds and the number of their steps.
func townCaseRows(tb testing.TB, cs *bolt.Cases) (map[string]*appliance.Case, int) {
	tb.Helper()
	out := map[string]*appliance.Case{}
	steps := 0
	f := bolt.CaseFilter{Limit: 1000}
	for {
		page, next, err := cs.FindCases(f)
		if err != nil {
			tb.Fatal(err)
		}
		for _, c := range page {
			out[c.ID] = c
			steps += len(c.Steps)
		}
		if next == "" {
			return out, steps
		}
		f.Before = next
	}
}

// checkPositions: the target's positions are the town's heads.
func checkPositions(t *testing.T, conn *pgx.Conn, cs *bolt.Cases) {
	t.Helper()
	heads, err := cs.Store.Heads()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{}
	for _, h := range heads {
		want[h.Feed.String()] = int64(h.Seq)
	}
	sameCounts(t, "feed_positions", counts(t, conn, "SELECT feed, seq FROM gridbox.feed_positions WHERE source = '"+cs.Store.Feed().String()+"'"), want)
}

// snapshot is every data row with its row version (xmin): a row that is
// written again, even with the same values, gets a new one.
func snapshot(tb testing.TB, conn *pgx.Conn) []string {
	tb.Helper()
	var out []string
	for _, q := range []string{
		"SELECT 'case ' || id || ' ' || xmin::text FROM gridbox.cases",
		"SELECT 'step ' || case_id || feed || seq || ' ' || xmin::text FROM gridbox.case_steps",
		"SELECT 'place ' || code || ' ' || xmin::text FROM gridbox.places",
		"SELECT 'hh ' || grp || ' ' || xmin::text FROM gridbox.household_counts",
		"SELECT 'period ' || town || period || period_from || ' ' || xmin::text FROM gridbox.period_stats",
		"SELECT 'source ' || source || ' ' || xmin::text FROM gridbox.feed_sources",
	} {
		rows, _ := conn.Query(context.Background(), q)
		s, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, s...)
	}
	sort.Strings(out)
	return out
}

// TestFeedAgain: a second feed finds nothing to do; forgetting the
// positions and feeding every entry again writes no row.
func TestFeedAgain(t *testing.T) {
	cs := demoTown(t)
	pg := pgtest.Start(t)
	first := feed(t, cs, pg.URL(), 1000)
	conn := connect(t, pg.URL())
	before := snapshot(t, conn)
	if len(before) < 500 {
		t.Fatalf("only %d rows after the first feed", len(before))
	}
	if res := feed(t, cs, pg.URL(), 1000); res.Entries != 0 || res.Batches != 0 {
		t.Errorf("second feed: %+v, want nothing to do", res)
	}
	if _, err := conn.Exec(context.Background(), "DELETE FROM gridbox.feed_positions"); err != nil {
		t.Fatal(err)
	}
	if res := feed(t, cs, pg.URL(), 700); res.Entries != first.Entries {
		t.Errorf("feed from the start again: %d entries, want %d", res.Entries, first.Entries)
	}
	after := snapshot(t, conn)
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		changed := 0
		for i := range min(len(before), len(after)) {
			if before[i] != after[i] {
				changed++
			}
		}
		t.Errorf("feeding the same entries again rewrote rows: %d rows before, %d after, %d differ", len(before), len(after), changed)
	}
	checkPositions(t, conn, cs)
}
