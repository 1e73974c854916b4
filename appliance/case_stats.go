package appliance

import (
	"fmt"
	"strings"
	"time"
)

// Statistics of cases are sums kept up to date as entries fold. Each case
// contributes amounts derived from its state alone; when a case changes,
// the fold subtracts its old contribution and adds the new one, so the
// sums equal the sum over all cases whatever the order.
//
// A case's contribution (CaseStatParts) is a set of dims (DIM → n) that
// every cell of the case gets: a cell is a PERIOD and a SCOPE, PERIOD "*"
// (all time), "M2026-11" or "D2026-11-03" (by the day the case was
// reported) and SCOPE "*", "t" + town code, "v" + village code or "g" +
// group code, each also narrowed to the case's category ("v…:CAT",
// CategoryScope). Cells of scope "*" also get the place dims ("town/T/n",
// "vil/V/n", "grp/G/n", and ".../res" when resolved). CaseContributions
// spreads it into keys PERIOD "|" SCOPE "|" DIM: that is what statistics
// sum. Counters outside cells: "reg|DAY|UNIT|WHAT" counts the day's
// register events per group (UNIT is the village code for cases without a
// group); "due|SCOPE|DAY" counts open cases due that day.

// StatParts is what a case adds to the statistics before it is spread
// over periods and scopes.
type StatParts struct {
	Day, Village, Group, Category string
	Done                          bool             // resolved: the place dims count it as such
	Dims                          map[string]int64 // every cell of the case gets these
	Counters                      map[string]int64 // keys outside cells: due|, ddue|, reg|
}

// CaseStatParts returns c's contribution to the statistics; nil for nil.
func CaseStatParts(c *Case) *StatParts {
	if c == nil {
		return nil
	}
	dims := map[string]int64{"n": 1, "cat/" + c.Category: 1, "src/" + c.Source: 1, "st/" + c.Status: 1}
	done := CaseDone(c.Status)
	if CaseOpen(c.Status) {
		dims["open"] = 1
		dims["lvl/"+c.Level] = 1
		if c.Status == StatusInSteps || len(c.Departments) >= 2 {
			dims["multi"] = 1
		}
	}
	if done {
		dims["res"] = 1
		dims["reslvl/"+c.ResolvedLevel] = 1
		if m := int64(c.ResolvedAt.Sub(c.Reported) / time.Minute); m > 0 {
			dims["ttr_min"] = m
		}
		if c.ResolvedLate {
			dims["late"] = 1
		}
	}
	if c.Escalations > 0 {
		dims["esc"] = 1
		dims["escn"] = int64(c.Escalations)
	}
	dims["top/"+c.TopLevel] = 1
	if c.Rating != "" {
		dims["rate/"+c.Rating] = 1
	}
	if c.Reopened > 0 {
		dims["reopen"] = 1
	}
	if c.Meetings > 0 {
		dims["meet"] = 1
	}
	p := &StatParts{Day: c.ReportedDay, Village: c.Village, Group: c.Group, Category: c.Category, Done: done, Dims: dims, Counters: map[string]int64{}}
	// Open cases by deadline, so overdue and near counts sum a few days'
	// counters instead of reading every open case.
	if CaseOpen(c.Status) && c.Due != "" {
		for _, s := range p.Scopes() {
			p.Counters["due|"+s+"|"+c.Due]++
			p.Counters["due|"+CategoryScope(s, c.Category)+"|"+c.Due]++
		}
	}
	addBreakdownContributions(p, c) // case_stats_breakdown.go
	// The register: events of the day per group.
	unit := c.Group
	if unit == "" {
		unit = c.Village
	}
	for _, e := range c.Steps {
		if e.Void != "" {
			continue
		}
		switch {
		case e.Action == CaseRegister:
			p.Counters["reg|"+e.Day+"|"+unit+"|reported"]++
		case e.Action == CaseResolve && e.By == CaseLevelGroup:
			p.Counters["reg|"+e.Day+"|"+unit+"|resolved"]++
		case e.Action == CaseEscalate && (e.From == CaseLevelGroup || e.From == CaseLevelVillage):
			p.Counters["reg|"+e.Day+"|"+unit+"|escalated"]++
		}
	}
	return p
}

// CounterKeys are p.Counters; none for nil.
func (p *StatParts) CounterKeys() map[string]int64 {
	if p == nil {
		return nil
	}
	return p.Counters
}

// Scopes are the places the case counts in, widest first.
func (p *StatParts) Scopes() []string {
	out := []string{"*", "t" + TownOf(p.Village), "v" + p.Village}
	if p.Group != "" {
		out = append(out, "g"+p.Group)
	}
	return out
}

// CellScopes are Scopes and each narrowed to the case's category.
func (p *StatParts) CellScopes() []string {
	s := p.Scopes()
	for _, sc := range s[:len(s):len(s)] {
		s = append(s, CategoryScope(sc, p.Category))
	}
	return s
}

// PlaceScope reports whether cells of scope (a CellScopes one) get the
// place dims.
func (p *StatParts) PlaceScope(scope string) bool {
	return scope == "*" || scope == CategoryScope("*", p.Category)
}

// PlaceDims are the breakdown by place, added to cells of the widest scope.
func (p *StatParts) PlaceDims() map[string]int64 {
	town := TownOf(p.Village)
	out := map[string]int64{"town/" + town + "/n": 1, "vil/" + p.Village + "/n": 1}
	if p.Group != "" {
		out["grp/"+p.Group+"/n"] = 1
	}
	if p.Done {
		out["town/"+town+"/res"] = 1
		out["vil/"+p.Village+"/res"] = 1
		if p.Group != "" {
			out["grp/"+p.Group+"/res"] = 1
		}
	}
	return out
}

// StatPeriods are the periods a case reported on day counts in.
func StatPeriods(day string) []string {
	return []string{"*", StatMonth(day), "D" + day}
}

// StatMonth is the month period of a day ("M2026-11").
func StatMonth(day string) string { return "M" + monthOf(day) }

// CaseContributions spreads c's contribution into every key it adds to,
// with the amounts: the definition the stored sums follow.
func CaseContributions(c *Case) map[string]int64 {
	out := map[string]int64{}
	p := CaseStatParts(c)
	if p == nil {
		return out
	}
	place := p.PlaceDims()
	for _, per := range StatPeriods(p.Day) {
		for _, s := range p.CellScopes() {
			for d, n := range p.Dims {
				out[per+"|"+s+"|"+d] += n
			}
			if p.PlaceScope(s) {
				for d, n := range place {
					out[per+"|"+s+"|"+d] += n
				}
			}
		}
	}
	for k, n := range p.Counters {
		out[k] += n
	}
	return out
}

// TownOf is the town of a village code (its first 9 digits and 000).
func TownOf(village string) string {
	if len(village) == 12 {
		return village[:9] + "000"
	}
	return village
}

func monthOf(day string) string {
	if len(day) >= 7 {
		return day[:7]
	}
	return day
}

// CaseCount is one line of a breakdown.
type CaseCount struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	N     int64  `json:"n"`
	Done  int64  `json:"resolved,omitempty"`
}

// CaseStats are the statistics of cases in a scope and period.
type CaseStats struct {
	Scope  string `json:"scope"`  // "" all, or a town, village or group code
	From   string `json:"from"`   // first day, "" for all time
	To     string `json:"to"`     // last day
	Period string `json:"period"` // how it was asked: all, day, week, month, year, range

	Total        int64   `json:"total"`
	Resolved     int64   `json:"resolved"`
	Open         int64   `json:"open"`
	Rate         float64 `json:"resolution_rate"` // resolved / (total - merged - invalid)
	Escalated    int64   `json:"escalated"`       // cases escalated at least once
	Escalations  int64   `json:"escalations"`     // escalation steps
	ToTown       int64   `json:"to_town"`         // reached the town (or higher)
	ToCity       int64   `json:"to_city"`
	Multi        int64   `json:"multi"` // open and in steps or with several departments
	Overdue      int64   `json:"overdue"`
	Near         int64   `json:"near"`
	ResolvedLate int64   `json:"resolved_late"`
	Reopened     int64   `json:"reopened"`
	Meetings     int64   `json:"joint_meetings"`
	AvgHours     float64 `json:"avg_hours_to_resolve"`

	ByCategory []CaseCount `json:"by_category"`
	ByStatus   []CaseCount `json:"by_status"`
	ByLevel    []CaseCount `json:"by_resolving_level"`
	ByOpen     []CaseCount `json:"open_by_level"`
	BySource   []CaseCount `json:"by_source"`
	ByTown     []CaseCount `json:"by_town,omitempty"`
	ByVillage  []CaseCount `json:"by_village,omitempty"`
	ByGroup    []CaseCount `json:"by_group,omitempty"`
	ByRating   []CaseCount `json:"by_rating"`

	// For integrators (case_stats_breakdown.go); Category is the filter.
	Category      string             `json:"category,omitempty"`
	ByOutcome     []CategoryOutcome  `json:"by_category_outcome,omitempty"`
	BySubcategory []SubcategoryCount `json:"by_subcategory,omitempty"`
	ByDepartment  []DepartmentCount  `json:"by_department,omitempty"`
}

// BuildCaseStats turns summed counters (DIM → n) into statistics. cats
// gives the categories in display order; names names villages and groups.
func BuildCaseStats(sum map[string]int64, cats []Category, names func(code string) string) CaseStats {
	st := CaseStats{
		Total: sum["n"], Resolved: sum["res"], Open: sum["open"], Escalated: sum["esc"], Escalations: sum["escn"],
		ToTown: sum["top/town"] + sum["top/city"], ToCity: sum["top/city"], Multi: sum["multi"], ResolvedLate: sum["late"],
		Reopened: sum["reopen"], Meetings: sum["meet"],
	}
	if base := st.Total - sum["st/"+StatusMerged] - sum["st/"+StatusInvalid]; base > 0 {
		st.Rate = float64(st.Resolved) / float64(base)
	}
	if st.Resolved > 0 {
		st.AvgHours = float64(sum["ttr_min"]) / 60 / float64(st.Resolved)
	}
	seen := map[string]bool{}
	for _, c := range cats {
		seen[c.Key] = true
		st.ByCategory = append(st.ByCategory, CaseCount{Key: c.Key, Label: c.Name, N: sum["cat/"+c.Key]})
	}
	for k, n := range sum { // categories no longer configured still count
		if key, ok := strings.CutPrefix(k, "cat/"); ok && !seen[key] {
			st.ByCategory = append(st.ByCategory, CaseCount{Key: key, Label: key, N: n})
		}
	}
	for _, s := range CaseStatuses {
		st.ByStatus = append(st.ByStatus, CaseCount{Key: s, Label: CaseStatusLabels[s], N: sum["st/"+s]})
	}
	for _, l := range CaseLevels {
		st.ByLevel = append(st.ByLevel, CaseCount{Key: l, Label: CaseLevelLabels[l], N: sum["reslvl/"+l]})
		st.ByOpen = append(st.ByOpen, CaseCount{Key: l, Label: CaseLevelLabels[l], N: sum["lvl/"+l]})
	}
	for _, s := range CaseSources {
		st.BySource = append(st.BySource, CaseCount{Key: s, Label: CaseSourceLabels[s], N: sum["src/"+s]})
	}
	for _, r := range []string{RatingSatisfied, RatingBasic, RatingUnsatisfied} {
		st.ByRating = append(st.ByRating, CaseCount{Key: r, Label: RatingLabels[r], N: sum["rate/"+r]})
	}
	places := func(prefix string) []CaseCount {
		var out []CaseCount
		idx := map[string]int{}
		for k, n := range sum {
			rest, ok := strings.CutPrefix(k, prefix)
			if !ok {
				continue
			}
			code, what, _ := strings.Cut(rest, "/")
			i, ok := idx[code]
			if !ok {
				i = len(out)
				idx[code] = i
				out = append(out, CaseCount{Key: code, Label: names(code)})
			}
			if what == "n" {
				out[i].N = n
			} else {
				out[i].Done = n
			}
		}
		sortCounts(out)
		return out
	}
	st.ByTown, st.ByVillage, st.ByGroup = places("town/"), places("vil/"), places("grp/")
	return st
}

func sortCounts(cs []CaseCount) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].Key < cs[j-1].Key; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// Counted is the base of the rates: cases minus merged and invalid ones.
func (st *CaseStats) Counted() int64 {
	n := st.Total
	for _, c := range st.ByStatus {
		if c.Key == StatusMerged || c.Key == StatusInvalid {
			n -= c.N
		}
	}
	return n
}

// OnTimeRate is the share of counted cases resolved within their
// deadline (resolved − resolved late) ÷ counted; 0 without cases.
func (st *CaseStats) OnTimeRate() float64 {
	if n := st.Counted(); n > 0 {
		return float64(st.Resolved-st.ResolvedLate) / float64(n)
	}
	return 0
}

// SatisfiedRate is the share of rated cases rated satisfied or basically
// satisfied; 0 without ratings.
func (st *CaseStats) SatisfiedRate() float64 {
	var ok, all int64
	for _, r := range st.ByRating {
		all += r.N
		if r.Key != RatingUnsatisfied {
			ok += r.N
		}
	}
	if all == 0 {
		return 0
	}
	return float64(ok) / float64(all)
}

// Sentence is the summary villages report in, e.g. "共收集问题354件：非法生产
// 14件、…；已办结280件；上报市平台3件；分步解决或多部门办理74件。"
func (st *CaseStats) Sentence() string {
	var b strings.Builder
	fmt.Fprintf(&b, "共收集问题%d件", st.Total)
	var parts []string
	for _, c := range st.ByCategory {
		if c.N > 0 {
			parts = append(parts, fmt.Sprintf("%s%d件", c.Label, c.N))
		}
	}
	if len(parts) > 0 {
		b.WriteString("：" + strings.Join(parts, "、"))
	}
	fmt.Fprintf(&b, "；已办结%d件；上报市平台%d件；分步解决或多部门办理%d件。", st.Resolved, st.ToCity, st.Multi)
	return b.String()
}

// RegisterRow is one group's line of the daily register (台账).
type RegisterRow struct {
	Day       string `json:"day"`
	Unit      string `json:"unit"` // group code, or the village code for cases without a group
	Name      string `json:"name"`
	Reported  int64  `json:"reported"`
	Resolved  int64  `json:"resolved_at_group"`
	Escalated int64  `json:"escalated"`
}

// RegisterClose is the body of a register.close entry: the day's rows as
// they were when the village closed the day, and their hash.
type RegisterClose struct {
	Village string        `json:"village"`
	Day     string        `json:"day"`
	Rows    []RegisterRow `json:"rows"`
	Hash    string        `json:"hash"`
}

// KindRegisterClose closes a day of the register.
const KindRegisterClose = "register.close"

// RegisterHash is the hash of a day's rows (counts only, not names).
func RegisterHash(village, day string, rows []RegisterRow) string {
	h := newSHA()
	fmt.Fprintf(h, "gridbox register v1\n%s\n%s\n", village, day)
	for _, r := range rows {
		fmt.Fprintf(h, "%s\t%d\t%d\t%d\n", r.Unit, r.Reported, r.Resolved, r.Escalated)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func (r *RegisterClose) Validate() error {
	if _, err := time.Parse("2006-01-02", r.Day); err != nil {
		return FieldError("day", "日期格式应为 年-月-日")
	}
	if ValidateDivisionCode(r.Village, NodeVillage) != nil {
		return FieldError("village", "村代码错误")
	}
	if r.Hash != RegisterHash(r.Village, r.Day, r.Rows) {
		return FieldError("hash", "台账哈希与内容不符")
	}
	return nil
}

// RegisterSpan returns the first and last day of the day, week (Monday to
// Sunday), month, quarter or year holding date.
func RegisterSpan(kind, date string) (string, string, error) {
	t, err := time.Parse("2006-01-02", date)
	if err != nil {
		return "", "", FieldError("date", "日期格式应为 年-月-日")
	}
	switch kind {
	case "", "day":
		return date, date, nil
	case "week":
		mon := t.AddDate(0, 0, -((int(t.Weekday()) + 6) % 7))
		return mon.Format("2006-01-02"), mon.AddDate(0, 0, 6).Format("2006-01-02"), nil
	case "month":
		first := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return first.Format("2006-01-02"), first.AddDate(0, 1, -1).Format("2006-01-02"), nil
	case "quarter":
		first := time.Date(t.Year(), (t.Month()-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC)
		return first.Format("2006-01-02"), first.AddDate(0, 3, -1).Format("2006-01-02"), nil
	case "year":
		return fmt.Sprintf("%d-01-01", t.Year()), fmt.Sprintf("%d-12-31", t.Year()), nil
	}
	return "", "", FieldError("period", "统计周期应为 day、week、month、quarter 或 year")
}
