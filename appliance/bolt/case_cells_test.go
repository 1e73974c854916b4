package bolt_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// TestStatsSumTheContributions checks the kept sums (month and all-time
// cells, day records) against their definition: every case's
// appliance.CaseContributions, summed over the period's days (or the "*"
// period) in the scope, for each node of the scenario, periods that are
// whole months, parts of months and all time, every scope and a category.
func TestStatsSumTheContributions(t *testing.T) {
	sc := runScenario(t)
	for _, n := range []*testNode{sc.village, sc.town} {
		var cases []*appliance.Case
		n.Store.Read(func(tx *bolt.Tx) error {
			return tx.Bolt().Bucket([]byte("v_cases")).ForEach(func(_, v []byte) error {
				c := new(appliance.Case)
				if err := json.Unmarshal(v, c); err != nil {
					t.Fatal(err)
				}
				cases = append(cases, c)
				return nil
			})
		})
		if len(cases) != 8 {
			t.Fatalf("%d cases, want 8", len(cases))
		}
		for _, f := range []bolt.CaseStatsFilter{
			{Period: "all"},
			{Period: "month", Date: "2026-11-20"},
			{Period: "week", Date: "2026-11-05"},
			{Period: "day", Date: "2026-11-09"},
			{Period: "range", From: "2026-10-25", To: "2026-11-05"},
			{Period: "year", Date: "2026-03-01"},
		} {
			for _, scope := range []string{"", townCode, villageCode, villageCode + "-01", villageCode + "-03"} {
				for _, cat := range []string{"", "illegal_business", "work_safety"} {
					f := f
					f.Scope, f.Category = scope, cat
					got, err := n.Cases.Stats(f, sc.clock.t)
					if err != nil {
						t.Fatal(err)
					}
					want := wantStats(t, n, cases, f)
					if g, w := sumFields(got), sumFields(want); !reflect.DeepEqual(g, w) {
						t.Errorf("%+v:\n got %v\nwant %v", f, g, w)
					}
				}
			}
		}
	}
}

// wantStats sums the cases' contributions for f by their keys.
func wantStats(t *testing.T, n *testNode, cases []*appliance.Case, f bolt.CaseStatsFilter) appliance.CaseStats {
	scope := "*"
	switch len(f.Scope) {
	case 15:
		scope = "g" + f.Scope
	case 12:
		scope = "v" + f.Scope
		if strings.HasSuffix(f.Scope, "000") {
			scope = "t" + f.Scope
		}
	}
	if f.Category != "" {
		scope = appliance.CategoryScope(scope, f.Category)
	}
	var periods []string
	if f.Period == "all" {
		periods = []string{"*"}
	} else {
		from, to := f.From, f.To
		if f.Period != "range" {
			var err error
			if from, to, err = appliance.RegisterSpan(f.Period, f.Date); err != nil {
				t.Fatal(err)
			}
		}
		a, _ := time.Parse("2006-01-02", from)
		b, _ := time.Parse("2006-01-02", to)
		for d := a; !d.After(b); d = d.AddDate(0, 0, 1) {
			periods = append(periods, "D"+d.Format("2006-01-02"))
		}
	}
	sum := map[string]int64{}
	for _, c := range cases {
		for k, v := range appliance.CaseContributions(c) {
			for _, p := range periods {
				if dim, ok := strings.CutPrefix(k, p+"|"+scope+"|"); ok {
					sum[dim] += v
				}
			}
		}
	}
	st := appliance.BuildCaseStats(sum, n.Cases.Config.Cases.Categories, func(string) string { return "" })
	appliance.BuildBreakdowns(&st, sum, n.Cases.Config.Cases.Categories, n.Cases.Config.Cases.Departments, nil, nil)
	return st
}

// sumFields are the statistics that come from the sums alone (not from
// deadlines about now, names or places without cases).
func sumFields(st appliance.CaseStats) string {
	places := func(cs []appliance.CaseCount) string {
		var b strings.Builder
		for _, c := range cs {
			if c.N != 0 || c.Done != 0 {
				fmt.Fprintf(&b, "%s:%d/%d ", c.Key, c.N, c.Done)
			}
		}
		return b.String()
	}
	counts := func(cs []appliance.CaseCount) string {
		var b strings.Builder
		for _, c := range cs {
			fmt.Fprintf(&b, "%s:%d ", c.Key, c.N)
		}
		return b.String()
	}
	var deps []string
	for _, d := range st.ByDepartment {
		deps = append(deps, fmt.Sprintf("%s:%d/%d/%d/%d", d.Department, d.Dispatched, d.Open, d.OnTime, d.Late))
	}
	var outs []string
	for _, o := range st.ByOutcome {
		o.Label, o.Overdue = "", 0
		outs = append(outs, fmt.Sprintf("%+v", o))
	}
	return fmt.Sprintf("n=%d res=%d open=%d rate=%.3f esc=%d/%d top=%d/%d multi=%d late=%d reopen=%d meet=%d hours=%.2f\ncat %s\nst %s\nlvl %s\nopen %s\nsrc %s\nrate %s\ntown %s\nvil %s\ngrp %s\ndep %v\nout %v\nsub %v",
		st.Total, st.Resolved, st.Open, st.Rate, st.Escalated, st.Escalations, st.ToTown, st.ToCity, st.Multi, st.ResolvedLate, st.Reopened, st.Meetings, st.AvgHours,
		counts(st.ByCategory), counts(st.ByStatus), counts(st.ByLevel), counts(st.ByOpen), counts(st.BySource), counts(st.ByRating),
		places(st.ByTown), places(st.ByVillage), places(st.ByGroup), deps, outs, st.BySubcategory)
}
