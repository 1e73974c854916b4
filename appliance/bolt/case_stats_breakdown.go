package bolt

import (
	"encoding/json"
	"strings"
	"time"

	"gridbox/appliance"
)

// categoryScope narrows a counters' scope key to a category ("" none): a
// configured one, or one that has cases.
func (cs *Cases) categoryScope(scope, category string) (string, error) {
	if category == "" {
		return scope, nil
	}
	if _, ok := cs.Config.Category(category); !ok {
		var held int64
		cs.Store.Read(func(tx *Tx) error {
			held = cellDims(tx, "*|*")["cat/"+category]
			return nil
		})
		if held == 0 {
			return "", appliance.FieldError("category", "没有这个问题类别：%s", category)
		}
	}
	return appliance.CategoryScope(scope, category), nil
}

// addBreakdowns adds the integrators' tables to st (appliance.BuildBreakdowns):
// overdue counts per category and department from the deadline counters,
// the category filter's own open, near and overdue counts, and every
// village and group of the scope in by_village and by_group, with zeros
// where no case was reported.
func (cs *Cases) addBreakdowns(st *appliance.CaseStats, sum map[string]int64, f CaseStatsFilter, base string, now time.Time) error {
	clock := cs.DueClock(now.In(cs.Loc))
	overdue := func(tx *Tx, prefix string) appliance.CaseCounts {
		var n appliance.CaseCounts
		for day, m := range tx.Counters(bucketCaseStats, prefix) {
			n.AddDue(clock, day, m)
		}
		return n
	}
	byCat, byDep := map[string]int64{}, map[string]int64{}
	scope := base
	if f.Category != "" {
		scope = appliance.CategoryScope(base, f.Category)
	}
	var villages, groups []appliance.Grid
	err := cs.Store.Read(func(tx *Tx) error {
		for _, c := range cs.Config.Cases.Categories {
			byCat[c.Key] = overdue(tx, "due|"+appliance.CategoryScope(base, c.Key)+"|").Overdue
		}
		for k := range sum {
			if key, ok := strings.CutPrefix(k, "cat/"); ok {
				if _, done := byCat[key]; !done {
					byCat[key] = overdue(tx, "due|"+appliance.CategoryScope(base, key)+"|").Overdue
				}
			}
		}
		for k, m := range tx.Counters(bucketCaseStats, "ddue|"+scope+"|") {
			dep, day, _ := strings.Cut(k, "|")
			if clock.Of(day) == appliance.DueOverdue {
				byDep[dep] += m
			}
		}
		if f.Category != "" {
			n := overdue(tx, "due|"+scope+"|")
			st.Overdue, st.Near = n.Overdue, n.Near
		}
		var err error
		villages, groups, err = placesOf(tx, f.Scope)
		return err
	})
	if err != nil {
		return err
	}
	st.Category = f.Category
	appliance.BuildBreakdowns(st, sum, cs.Config.Cases.Categories, cs.Config.Cases.Departments, byCat, byDep)
	st.ByVillage = withZeros(st.ByVillage, villages)
	st.ByGroup = withZeros(st.ByGroup, groups)
	return nil
}

// placesOf are the villages and groups held within a scope (a town,
// village or group code; "" everything).
func placesOf(tx *Tx, scope string) (villages, groups []appliance.Grid, err error) {
	prefix := scope
	if len(scope) == 12 && strings.HasSuffix(scope, "000") {
		prefix = scope[:9]
	}
	err = tx.EachLWW(bucketGrids, prefix, func(_ string, v []byte) error {
		var g appliance.Grid
		if err := json.Unmarshal(v, &g); err != nil {
			return err
		}
		switch g.Level {
		case appliance.LevelVillage:
			villages = append(villages, g)
		case appliance.LevelGroup:
			groups = append(groups, g)
		}
		return nil
	})
	return villages, groups, err
}

// withZeros adds a line with zero cases for each place not counted.
func withZeros(counts []appliance.CaseCount, places []appliance.Grid) []appliance.CaseCount {
	have := map[string]bool{}
	for _, c := range counts {
		have[c.Key] = true
	}
	for _, g := range places {
		if !have[g.Code] {
			counts = append(counts, appliance.CaseCount{Key: g.Code, Label: g.Name})
		}
	}
	appliance.SortCounts(counts)
	return counts
}
