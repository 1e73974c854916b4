package appliance

import (
	"sort"
	"strings"
)

// Breakdowns for integrators (a town's or city's dashboard): by category ×
// outcome, by subcategory and by department, and every counter again
// under a scope narrowed to the case's category ("v410184104201:public_affairs"),
// so statistics can be filtered by category as by place and period.
//
// Added dims: "sub/CAT/SUB" (cases of a subcategory), "co/CAT/OUTCOME"
// (OUTCOME one of CaseOutcomes), "dep/DEPT/n" (cases ever dispatched to
// the department), "dep/DEPT/ontime", "dep/DEPT/late" (resolved in time
// or late after a dispatch to it), "dep/DEPT/open". Open cases now
// dispatched to a department, by deadline: "ddue|SCOPE|DEPT|DAY".

// Outcomes of a case for the category × outcome table.
const (
	OutcomeOpen         = "open"
	OutcomeResolved     = "resolved"      // resolved within its deadline
	OutcomeResolvedLate = "resolved_late" // resolved after it
	OutcomeMerged       = "merged"
	OutcomeInvalid      = "invalid"
)

// CaseOutcomes lists outcomes in display order; overdue (about now) is
// counted beside them.
var CaseOutcomes = []string{OutcomeOpen, OutcomeResolved, OutcomeResolvedLate, OutcomeMerged, OutcomeInvalid}

// CaseOutcome is the outcome of c.
func CaseOutcome(c *Case) string {
	switch {
	case CaseOpen(c.Status):
		return OutcomeOpen
	case CaseDone(c.Status) && c.ResolvedLate:
		return OutcomeResolvedLate
	case CaseDone(c.Status):
		return OutcomeResolved
	case c.Status == StatusMerged:
		return OutcomeMerged
	}
	return OutcomeInvalid
}

// CategoryScope is the counters' scope narrowed to a category.
func CategoryScope(scope, category string) string { return scope + ":" + category }

// counterSafe keeps free-text names (departments) from breaking the key's
// separators.
var counterSafe = strings.NewReplacer("|", "｜", "/", "／", ":", "：")

// DispatchedTo lists the departments c was ever dispatched to (steps that
// took effect), in order.
func DispatchedTo(c *Case) []string {
	var out []string
	for _, e := range c.Steps {
		if e.Action == CaseDispatch && e.Void == "" {
			out = mergeNames(out, e.Departments)
		}
	}
	return out
}

// addBreakdownContributions adds the dims and counters above to p, which
// holds CaseStatParts' own.
func addBreakdownContributions(p *StatParts, c *Case) {
	p.Dims["co/"+c.Category+"/"+CaseOutcome(c)] = 1
	if c.Subcategory != "" {
		p.Dims["sub/"+c.Category+"/"+c.Subcategory] = 1
	}
	for _, d := range DispatchedTo(c) {
		d = counterSafe.Replace(d)
		p.Dims["dep/"+d+"/n"] = 1
		switch {
		case CaseOpen(c.Status):
			p.Dims["dep/"+d+"/open"] = 1
		case CaseDone(c.Status) && c.ResolvedLate:
			p.Dims["dep/"+d+"/late"] = 1
		case CaseDone(c.Status):
			p.Dims["dep/"+d+"/ontime"] = 1
		}
	}
	if CaseOpen(c.Status) && c.Due != "" {
		for _, s := range p.Scopes() {
			for _, d := range c.Departments {
				d = counterSafe.Replace(d)
				p.Counters["ddue|"+s+"|"+d+"|"+c.Due]++
				p.Counters["ddue|"+CategoryScope(s, c.Category)+"|"+d+"|"+c.Due]++
			}
		}
	}
}

// DepartmentCount is one department's line: cases dispatched to it, and
// how they stand.
type DepartmentCount struct {
	Department string  `json:"department"`
	Dispatched int64   `json:"dispatched"`
	Open       int64   `json:"open"`
	OnTime     int64   `json:"resolved_on_time"`
	Late       int64   `json:"resolved_late"`
	Overdue    int64   `json:"overdue"` // open, dispatched to it now, past the deadline
	OnTimeRate float64 `json:"on_time_rate"`
}

// CategoryOutcome is one category's line of the category × outcome table.
type CategoryOutcome struct {
	Key          string `json:"key"`
	Label        string `json:"label"`
	N            int64  `json:"n"`
	Open         int64  `json:"open"`
	Overdue      int64  `json:"overdue"`
	Resolved     int64  `json:"resolved"`
	ResolvedLate int64  `json:"resolved_late"`
	Merged       int64  `json:"merged"`
	Invalid      int64  `json:"invalid"`
}

// SubcategoryCount counts the cases of one subcategory.
type SubcategoryCount struct {
	Category string `json:"category"`
	Key      string `json:"key"`
	Label    string `json:"label"`
	N        int64  `json:"n"`
}

// BuildBreakdowns fills the integrators' tables of st from the summed
// counters: every configured category, subcategory and department is
// listed, with zeros where nothing happened. overdueOf gives the overdue
// count of a category, depOverdue of a department.
func BuildBreakdowns(st *CaseStats, sum map[string]int64, cats []Category, departments []string, overdueOf, depOverdue map[string]int64) {
	seen := map[string]bool{}
	for _, c := range cats {
		seen[c.Key] = true
	}
	keys := categoryKeys(cats, sum)
	st.ByOutcome = []CategoryOutcome{}
	st.BySubcategory = []SubcategoryCount{}
	for _, k := range keys {
		label := k
		var subs []Subcategory
		for _, c := range cats {
			if c.Key == k {
				label, subs = c.Name, c.Subcategories
			}
		}
		co := func(o string) int64 { return sum["co/"+k+"/"+o] }
		st.ByOutcome = append(st.ByOutcome, CategoryOutcome{Key: k, Label: label, N: sum["cat/"+k], Open: co(OutcomeOpen), Overdue: overdueOf[k],
			Resolved: co(OutcomeResolved), ResolvedLate: co(OutcomeResolvedLate), Merged: co(OutcomeMerged), Invalid: co(OutcomeInvalid)})
		listed := map[string]bool{}
		for _, s := range subs {
			listed[s.Key] = true
			st.BySubcategory = append(st.BySubcategory, SubcategoryCount{Category: k, Key: s.Key, Label: s.Name, N: sum["sub/"+k+"/"+s.Key]})
		}
		var gone []string // subcategories no longer configured still count
		for key := range sum {
			if s, ok := strings.CutPrefix(key, "sub/"+k+"/"); ok && !listed[s] {
				gone = append(gone, s)
			}
		}
		sort.Strings(gone)
		for _, s := range gone {
			st.BySubcategory = append(st.BySubcategory, SubcategoryCount{Category: k, Key: s, Label: s, N: sum["sub/"+k+"/"+s]})
		}
	}
	st.ByDepartment = []DepartmentCount{}
	deps := append([]string(nil), departments...)
	known := map[string]bool{}
	for i, d := range deps {
		deps[i] = counterSafe.Replace(d)
		known[deps[i]] = true
	}
	var more []string
	for key := range sum {
		if rest, ok := strings.CutPrefix(key, "dep/"); ok {
			if d, what, _ := strings.Cut(rest, "/"); what == "n" && !known[d] {
				more = append(more, d)
			}
		}
	}
	sort.Strings(more)
	for _, d := range append(deps, more...) {
		dc := DepartmentCount{Department: d, Dispatched: sum["dep/"+d+"/n"], Open: sum["dep/"+d+"/open"],
			OnTime: sum["dep/"+d+"/ontime"], Late: sum["dep/"+d+"/late"], Overdue: depOverdue[d]}
		if dc.Dispatched > 0 {
			dc.OnTimeRate = float64(dc.OnTime) / float64(dc.Dispatched)
		}
		st.ByDepartment = append(st.ByDepartment, dc)
	}
}

// categoryKeys are the configured categories in order, then those no
// longer configured that still have cases.
func categoryKeys(cats []Category, sum map[string]int64) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range cats {
		out = append(out, c.Key)
		seen[c.Key] = true
	}
	var gone []string
	for k := range sum {
		if key, ok := strings.CutPrefix(k, "cat/"); ok && !seen[key] {
			gone = append(gone, key)
		}
	}
	sort.Strings(gone)
	return append(out, gone...)
}

// SortCounts sorts lines by key (codes: places in their order).
func SortCounts(cs []CaseCount) { sortCounts(cs) }
