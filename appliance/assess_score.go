package appliance

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// AssessInput is what a score is computed from: the town's rule tables and
// the records folded from the ledger for one town or village. Two nodes
// holding the same entries build the same input, so they compute the same
// scores (AssessEvidence and ComputeScores are pure).
type AssessInput struct {
	Town       string
	AsOf       string // today: a day is due (register, duty) once it is over
	Tables     []RuleTable
	Villages   []Grid
	Groups     []Grid
	Staff      []StaffMember
	Households map[string]int // group code → open households
	Cases      []Case
	Visits     []Visit
	DutyLogs   []DutyLog
	Shifts     []DutyShift
	Meetings   []Meeting
	Registers  map[string][]string // village → days whose register was closed
	Services   []ServiceRequest
	Findings   []Finding
	Ratings    []DeptRating // villages' ratings of town departments
	Teams      []WorkTeam   // the villages' work teams
	TeamSigns  []TeamSign   // their days in the village, up to the period's end
	// Households whose required data is missing (HouseholdGaps), as the
	// archive stands: read only for a period that has ended.
	Gaps []HouseholdGap
}

// HouseholdGap is an open household and what of its required data is
// missing.
type HouseholdGap struct {
	Household string   `json:"household"`
	Group     string   `json:"group"`
	Missing   []string `json:"missing"`
}

// MissingHouseholdData lists what of a household's required data is
// missing: its head, where it lives (住址 or 门牌号), a phone to reach it
// (its own or a current member's), and each current member's birth date
// and relation to the head. Only the public part of the record counts, so
// a town (which may not hold the sealed part) finds the same.
func MissingHouseholdData(h *Household, members []Person) []string {
	var out []string
	if h.Head == "" {
		out = append(out, "户主")
	}
	if strings.TrimSpace(h.Address) == "" && strings.TrimSpace(h.HouseNo) == "" {
		out = append(out, "住址或门牌号")
	}
	phone := h.Phone != ""
	birth, relation := true, true
	for i := range members {
		m := &members[i]
		if !m.Active() {
			continue
		}
		phone = phone || m.Phone != ""
		birth = birth && m.Birth != ""
		relation = relation && strings.TrimSpace(m.Relation) != ""
	}
	if !phone {
		out = append(out, "联系电话")
	}
	if !birth {
		out = append(out, "成员出生日期")
	}
	if !relation {
		out = append(out, "与户主关系")
	}
	return out
}

// Evidence is one fact the rules score: a metric, whose it is, when, and
// the record behind it (a case code, a visit, a duty day, a finding).
type Evidence struct {
	Metric    string `json:"metric"`
	Subject   string `json:"subject"`
	SubjectID string `json:"subject_id"`
	Rule      string `json:"rule,omitempty"` // MetricFinding: the rule the inspector chose
	Date      string `json:"date"`
	Ref       string `json:"ref"`
	Units     int    `json:"units"`
	Value     int    `json:"value,omitempty"` // MetricVisitCoverage: percent of households visited
}

// ScoreLine is what one rule (one version of it) did to a score, with the
// records behind it.
type ScoreLine struct {
	Rule    string   `json:"rule"`
	Name    string   `json:"name"`
	Version int      `json:"version"`
	Per     string   `json:"per"`
	Units   int      `json:"units"`
	Points  int      `json:"points_x10"` // tenths of a point
	Capped  bool     `json:"capped,omitempty"`
	Refs    []string `json:"refs"`
}

// Score is one subject's score for a period: 100 and its lines.
type Score struct {
	Subject   string      `json:"subject"`
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Village   string      `json:"village,omitempty"`
	Total     int         `json:"total_x10"` // tenths of a point
	Rank      int         `json:"rank"`      // among subjects of its kind (and village, for groups and people)
	Lines     []ScoreLine `json:"lines"`
	Added     int         `json:"added_x10"`
	Deducted  int         `json:"deducted_x10"`
	Evidences int         `json:"evidences"`
}

// Points formats tenths of a point as a number: 98.5, 100, -2.
func Points(x10 int) string {
	s := fmt.Sprintf("%d.%d", abs(x10)/10, abs(x10)%10)
	s = strings.TrimSuffix(s, ".0")
	if x10 < 0 {
		return "-" + s
	}
	return s
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func nextDay(day string) string {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return d.AddDate(0, 0, 1).Format(time.DateOnly)
}

// caseWindow is a stretch of a case at one level under one deadline.
type caseWindow struct {
	level, due, start, end, resolved string
	group, assignee, resolver        string
	departments                      []string
}

// AssessEvidence finds the evidence of period p in the input.
func AssessEvidence(in *AssessInput, p Period) []Evidence {
	var out []Evidence
	add := func(metric, subject, id, date, ref string, units int) {
		if id == "" || date < p.From || date > p.To {
			return
		}
		out = append(out, Evidence{Metric: metric, Subject: subject, SubjectID: id, Date: date, Ref: ref, Units: units})
	}
	byUser, byName := map[string]string{}, map[string]string{}
	for _, m := range in.Staff {
		v := villageOfGrid(m.Grid)
		if m.UserID != "" {
			byUser[v+"/"+m.UserID] = m.ID
		}
		if _, dup := byName[v+"/"+m.Name]; !dup {
			byName[v+"/"+m.Name] = m.ID
		}
	}
	person := func(village, author, name string) string {
		if id := byUser[village+"/"+author]; id != "" {
			return id
		}
		return byName[village+"/"+name]
	}
	// Cases: each stretch at a level under a deadline is on time or overdue.
	for i := range in.Cases {
		c := &in.Cases[i]
		var ws []*caseWindow
		var cur *caseWindow
		group := c.Group
		open := func(level, due, day string, deps []string) {
			if cur != nil && cur.end == "" {
				cur.end = day
			}
			cur = &caseWindow{level: level, due: due, start: day, group: group, departments: deps}
			ws = append(ws, cur)
		}
		credit := func(w *caseWindow, metric, date string) {
			ref := c.ID
			if w.level == CaseLevelGroup || w.level == CaseLevelVillage {
				add(metric, SubjectGroup, w.group, date, ref, 1)
				add(metric, SubjectVillage, c.Village, date, ref, 1)
				who := w.resolver
				if who == "" {
					who = person(c.Village, "", w.assignee)
				}
				add(metric, SubjectPerson, who, date, ref, 1)
			} else {
				for _, d := range w.departments {
					add(metric, SubjectDepartment, d, date, ref, 1)
				}
			}
		}
		var last *caseWindow // the stretch that resolved it last
		for _, s := range c.Steps {
			if s.Void != "" {
				continue
			}
			switch s.Action {
			case CaseRegister:
				open(s.By, s.Due, s.Day, nil)
				if s.Source == SourcePatrol && (s.By == CaseLevelGroup || s.By == CaseLevelVillage) {
					add(MetricCaseReported, SubjectGroup, group, s.Day, c.ID, 1)
					add(MetricCaseReported, SubjectPerson, person(c.Village, s.Author, ""), s.Day, c.ID, 1)
				}
			case CaseClassify:
				if s.Group != "" {
					group = s.Group
					if cur != nil {
						cur.group = group
					}
				}
			case CaseAssign:
				if cur != nil {
					cur.assignee = s.Assignee
				}
			case CaseEscalate:
				if cur != nil {
					open(CaseLevels[min(levelRank(cur.level)+1, len(CaseLevels)-1)], s.Due, s.Day, nil)
				}
			case CaseReturn:
				if cur != nil && levelRank(cur.level) >= levelRank(CaseLevelTown) && levelRank(s.To) <= levelRank(CaseLevelVillage) {
					add(MetricCaseReturned, SubjectVillage, c.Village, s.Day, c.ID, 1)
				}
				open(s.To, s.Due, s.Day, nil)
			case CaseDispatch:
				if cur != nil {
					deps := mergeNames(append([]string(nil), cur.departments...), s.Departments)
					if s.Due != cur.due {
						open(cur.level, s.Due, s.Day, deps)
					} else {
						cur.departments = deps
					}
				}
			case CaseResolve:
				if cur != nil && cur.resolved == "" {
					cur.resolved, cur.end = s.Day, s.Day
					if cur.level == CaseLevelGroup || cur.level == CaseLevelVillage {
						cur.resolver = person(c.Village, s.Author, cur.assignee)
					}
					last = cur
				}
			case CaseFollowUp:
				if last == nil {
					continue
				}
				switch s.Rating {
				case RatingUnsatisfied:
					credit(last, MetricCaseReopened, s.Day)
					open(last.level, s.Due, s.Day, nil)
				case RatingSatisfied:
					credit(last, MetricRatingSatisfied, s.Day)
				}
			case CaseMerge, CaseInvalid:
				if cur != nil && cur.end == "" {
					cur.end, cur.due = s.Day, "" // no deadline for a duplicate or invalid case
				}
			}
		}
		for _, w := range ws {
			switch {
			case w.resolved != "" && (w.due == "" || w.resolved <= w.due):
				credit(w, MetricCaseOnTime, w.resolved)
			case w.due != "" && (w.end == "" || w.end > w.due) && nextDay(w.due) <= in.AsOf:
				credit(w, MetricCaseOverdue, nextDay(w.due))
			}
		}
	}
	// Visits: the worker's count; each group's households reached once the
	// period is over.
	seen := map[string]map[string]bool{}
	for _, v := range in.Visits {
		add(MetricVisits, SubjectPerson, v.Worker, v.Date, "走访 "+v.ID, 1)
		if v.Household != "" && v.Date >= p.From && v.Date <= p.To {
			if seen[v.Group] == nil {
				seen[v.Group] = map[string]bool{}
			}
			seen[v.Group][v.Household] = true
		}
	}
	if p.To < in.AsOf {
		for _, g := range in.Groups {
			if n := in.Households[g.Code]; n > 0 {
				pct := len(seen[g.Code]) * 100 / n
				out = append(out, Evidence{Metric: MetricVisitCoverage, Subject: SubjectGroup, SubjectID: g.Code, Date: p.To,
					Ref: fmt.Sprintf("走访覆盖 %d/%d户", len(seen[g.Code]), n), Units: 1, Value: pct})
			}
		}
	}
	// The duty room and the register: each day over, from the first day
	// the village used the box.
	first := map[string]string{}
	use := func(v, day string) {
		if day != "" && (first[v] == "" || day < first[v]) {
			first[v] = day
		}
	}
	signed, handed, signedBy := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, l := range in.DutyLogs {
		use(l.Grid, l.Date)
		switch l.Kind {
		case LogSignIn:
			signed[l.Grid+"/"+l.Date] = true
			signedBy[l.Grid+"/"+l.Date+"/"+l.StaffID] = true
		case LogHandover:
			handed[l.Grid+"/"+l.Date] = true
		}
	}
	closed := map[string]bool{}
	for v, days := range in.Registers {
		for _, d := range days {
			use(v, d)
			closed[v+"/"+d] = true
		}
	}
	for _, c := range in.Cases {
		use(c.Village, c.ReportedDay)
	}
	for _, v := range in.Visits {
		use(villageOfGrid(v.Group), v.Date)
	}
	for _, vg := range in.Villages {
		v := vg.Code
		if first[v] == "" {
			continue
		}
		for _, d := range p.Days() {
			if d < first[v] || d >= in.AsOf {
				continue
			}
			if !closed[v+"/"+d] {
				add(MetricRegisterMissed, SubjectVillage, v, d, "台账 "+d, 1)
			}
			if !signed[v+"/"+d] {
				add(MetricDutyMissed, SubjectVillage, v, d, "值班 "+d, 1)
			} else if !handed[v+"/"+d] {
				add(MetricHandoverMissed, SubjectVillage, v, d, "交班 "+d, 1)
			}
		}
	}
	for _, s := range in.Shifts {
		if s.Removed || s.StaffID == "" || s.Date >= in.AsOf || s.Date < first[s.Grid] {
			continue
		}
		if !signedBy[s.Grid+"/"+s.Date+"/"+s.StaffID] {
			add(MetricDutyMissed, SubjectPerson, s.StaffID, s.Date, "值班 "+s.Date, 1)
		}
	}
	for _, m := range in.Meetings {
		if m.State == MeetingHeld && strings.TrimSpace(m.Minutes) != "" && m.From == "" {
			add(MetricMeetingHeld, SubjectVillage, m.Grid, m.Date, "会议 "+m.ID, 1)
		}
	}
	for _, r := range in.Services {
		if r.State != RequestDone {
			continue
		}
		d := r.Date
		if d == "" {
			d = r.Asked
		}
		add(MetricServiceDone, SubjectVillage, r.Grid, d, "服务 "+r.ID, 1)
		add(MetricServiceDone, SubjectPerson, r.Staff, d, "服务 "+r.ID, 1)
		switch r.Feedback {
		case "poor":
			add(MetricServiceUnsatisfied, SubjectVillage, r.Grid, d, "服务 "+r.ID, 1)
			add(MetricServiceUnsatisfied, SubjectPerson, r.Staff, d, "服务 "+r.ID, 1)
		case "good":
			add(MetricServiceSatisfied, SubjectVillage, r.Grid, d, "服务 "+r.ID, 1)
			add(MetricServiceSatisfied, SubjectPerson, r.Staff, d, "服务 "+r.ID, 1)
		}
	}
	teamEvidence(in, p, add)
	// Data quality, once the period is over: each household missing
	// required data, dated the period's last day.
	if p.To < in.AsOf {
		for _, g := range in.Gaps {
			add(MetricDataMissing, SubjectGroup, g.Group, p.To, "户 "+g.Household+"（缺"+strings.Join(g.Missing, "、")+"）", 1)
		}
	}
	for _, r := range in.Ratings {
		for _, aspect := range []string{r.Timeliness, r.Result} {
			switch aspect {
			case RatingSatisfied:
				add(MetricVillageSatisfied, SubjectDepartment, r.Department, r.Date, "评议 "+r.Case, 1)
			case RatingUnsatisfied:
				add(MetricVillageUnsatisfied, SubjectDepartment, r.Department, r.Date, "评议 "+r.Case, 1)
			}
		}
	}
	for _, f := range in.Findings {
		if f.Decision == DecisionUpheld {
			continue // the objection stood: the finding is void
		}
		if f.Date >= p.From && f.Date <= p.To {
			out = append(out, Evidence{Metric: MetricFinding, Subject: f.Subject, SubjectID: f.SubjectID, Rule: f.Rule, Date: f.Date, Ref: "督查 " + f.ID, Units: f.Units})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Date != b.Date {
			return a.Date < b.Date
		}
		if a.Ref != b.Ref {
			return a.Ref < b.Ref
		}
		if a.Metric != b.Metric {
			return a.Metric < b.Metric
		}
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		return a.SubjectID < b.SubjectID
	})
	return out
}

func villageOfGrid(code string) string {
	if len(code) > 12 {
		return code[:12]
	}
	return code
}

// ComputeScores scores every subject of the input for period p: 100, plus
// and minus what each piece of evidence is worth under the rule table in
// force on its date, each rule capped per subject and period (evidence in
// date order fills the cap). People and groups rank within their village.
func ComputeScores(in *AssessInput, p Period) []Score {
	scores := map[string]*Score{}
	key := func(subject, id string) string { return subject + "|" + id }
	addSubject := func(subject, id, name, village string) *Score {
		k := key(subject, id)
		if s := scores[k]; s != nil {
			return s
		}
		s := &Score{Subject: subject, ID: id, Name: name, Village: village, Total: 1000}
		scores[k] = s
		return s
	}
	for _, v := range in.Villages {
		addSubject(SubjectVillage, v.Code, v.Name, v.Code)
	}
	for _, g := range in.Groups {
		addSubject(SubjectGroup, g.Code, g.Name, villageOfGrid(g.Code))
	}
	for _, m := range in.Staff {
		if !m.Retired && len(m.Grid) >= 12 && m.Grid != in.Town {
			addSubject(SubjectPerson, m.ID, m.Name, villageOfGrid(m.Grid))
		}
	}
	used := map[string]int{} // subject key "|" rule → tenths so far
	lines := map[string]map[string]*ScoreLine{}
	// The table of each day and its rules by metric and subject, worked
	// out once: a town's year is a million pieces of evidence.
	dflt, dfltOld := BuiltinTableOn(in.Town, builtinSince), BuiltinTableOn(in.Town, "")
	type dayRules struct {
		t     *RuleTable
		rules map[string][]AssessRule
	}
	byTable := map[*RuleTable]*dayRules{}
	byDay := map[string]*dayRules{}
	rulesOn := func(day string) *dayRules {
		if d := byDay[day]; d != nil {
			return d
		}
		t := tableOn(in.Tables, day)
		switch {
		case t != nil:
		case day >= builtinSince:
			t = &dflt
		default:
			t = &dfltOld
		}
		d := byTable[t]
		if d == nil {
			d = &dayRules{t: t, rules: map[string][]AssessRule{}}
			for _, r := range t.Rules {
				d.rules[r.Metric+"|"+r.Subject] = append(d.rules[r.Metric+"|"+r.Subject], r)
			}
			byTable[t] = d
		}
		byDay[day] = d
		return d
	}
	for _, ev := range AssessEvidence(in, p) {
		s := scores[key(ev.Subject, ev.SubjectID)]
		if s == nil {
			if ev.Subject != SubjectDepartment {
				continue // not one of the input's (another village's staff)
			}
			s = addSubject(SubjectDepartment, ev.SubjectID, ev.SubjectID, "")
		}
		s.Evidences++
		dr := rulesOn(ev.Date)
		t := dr.t
		for _, r := range dr.rules[ev.Metric+"|"+ev.Subject] {
			if ev.Metric == MetricFinding && r.ID != ev.Rule {
				continue
			}
			units := ev.Units
			if ev.Metric == MetricVisitCoverage {
				if ev.Value >= r.Target {
					continue
				}
				units = (r.Target - ev.Value + 9) / 10
			}
			pts := tenths(r.Points) * units
			uk := key(ev.Subject, ev.SubjectID) + "|" + r.ID
			capped := false
			if cp := tenths(r.Cap); cp > 0 {
				room := cp - abs(used[uk])
				if abs(pts) > room {
					capped = true
					if pts < 0 {
						pts = -room
					} else {
						pts = room
					}
				}
			}
			used[uk] += pts
			lk := fmt.Sprintf("%s|%d", r.ID, t.Version)
			if lines[key(ev.Subject, ev.SubjectID)] == nil {
				lines[key(ev.Subject, ev.SubjectID)] = map[string]*ScoreLine{}
			}
			ln := lines[key(ev.Subject, ev.SubjectID)][lk]
			if ln == nil {
				ln = &ScoreLine{Rule: r.ID, Name: r.Name, Version: t.Version, Per: r.Per}
				lines[key(ev.Subject, ev.SubjectID)][lk] = ln
			}
			ln.Units += units
			ln.Points += pts
			ln.Capped = ln.Capped || capped
			ref := ev.Ref
			if ev.Metric == MetricVisitCoverage {
				ref = fmt.Sprintf("%s（%d%%，目标%d%%）", ev.Ref, ev.Value, r.Target)
			}
			ln.Refs = append(ln.Refs, ref)
			s.Total += pts
			if pts > 0 {
				s.Added += pts
			} else {
				s.Deducted -= pts
			}
		}
	}
	out := make([]Score, 0, len(scores))
	for k, s := range scores {
		for _, ln := range lines[k] {
			s.Lines = append(s.Lines, *ln)
		}
		sort.Slice(s.Lines, func(i, j int) bool {
			if s.Lines[i].Rule != s.Lines[j].Rule {
				return s.Lines[i].Rule < s.Lines[j].Rule
			}
			return s.Lines[i].Version < s.Lines[j].Version
		})
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		if a.rankGroup() != b.rankGroup() {
			return a.rankGroup() < b.rankGroup()
		}
		if a.Total != b.Total {
			return a.Total > b.Total
		}
		return a.ID < b.ID
	})
	// Ranks: groups and people within their village, villages and
	// departments among themselves; equal totals share a rank.
	start := 0
	for i := range out {
		if i == 0 || out[i].Subject != out[i-1].Subject || out[i].rankGroup() != out[i-1].rankGroup() {
			start = i
		}
		if i > start && out[i].Total == out[i-1].Total {
			out[i].Rank = out[i-1].Rank
		} else {
			out[i].Rank = i - start + 1
		}
	}
	return out
}

// rankGroup is what a score is ranked among: its village for groups and
// people, all of its kind for villages and departments.
func (s *Score) rankGroup() string {
	if s.Subject == SubjectGroup || s.Subject == SubjectPerson {
		return s.Village
	}
	return ""
}

// TotalText, AddedText, DeductedText and PointsText are the figures as
// pages show them.
func (s Score) TotalText() string      { return Points(s.Total) }
func (s Score) AddedText() string      { return Points(s.Added) }
func (s Score) DeductedText() string   { return Points(s.Deducted) }
func (l ScoreLine) PointsText() string { return Points(l.Points) }

// Label is the subject's kind in Chinese.
func (s Score) Label() string { return SubjectLabels[s.Subject] }

// BoardRow is a line of the public board and the printed notice (公示): a
// grid, never a person.
type BoardRow struct {
	Rank                   int
	Name                   string
	Total, Added, Deducted string
}

// PublicBoard is what a node of role publishes of scores of period p as
// of today: the groups of a village, or the villages of a town, for a
// period that has ended.
func PublicBoard(scores []Score, role string, p Period, today string) ([]BoardRow, error) {
	if p.To >= today {
		return nil, FieldError("period", "只公示已经结束的考核周期")
	}
	subject := SubjectGroup
	if role == NodeTown {
		subject = SubjectVillage
	}
	var rows []BoardRow
	for _, s := range scores {
		if s.Subject == subject {
			rows = append(rows, BoardRow{Rank: s.Rank, Name: s.Name, Total: Points(s.Total), Added: Points(s.Added), Deducted: Points(s.Deducted)})
		}
	}
	return rows, nil
}

// teamEvidence is each work-team member's days short of the days a month
// they owe, for each month that has ended, from the month of the team's
// first day in the village; dated the month's last day, for the village
// and for the member's staff record if linked.
func teamEvidence(in *AssessInput, p Period, add func(metric, subject, id, date, ref string, units int)) {
	first := map[string]string{}
	days := map[string]int{} // village "/" member "/" month → days
	for _, sg := range in.TeamSigns {
		if first[sg.Village] == "" || sg.Date < first[sg.Village] {
			first[sg.Village] = sg.Date
		}
		if len(sg.Date) == 10 {
			days[sg.Village+"/"+sg.Member+"/"+sg.Date[:7]]++
		}
	}
	for _, w := range in.Teams {
		if first[w.Village] == "" {
			continue
		}
		for _, mon := range monthsEnding(p, in.AsOf) {
			if mon.To < first[w.Village] {
				continue
			}
			for _, m := range w.Members {
				n := days[w.Village+"/"+m.ID+"/"+mon.ID]
				if short := m.Days - n; short > 0 {
					ref := fmt.Sprintf("驻村 %s %s %d/%d天", mon.ID, m.Name, n, m.Days)
					add(MetricTeamDaysShort, SubjectVillage, w.Village, mon.To, ref, short)
					add(MetricTeamDaysShort, SubjectPerson, m.StaffID, mon.To, ref, short)
				}
			}
		}
	}
}

// monthsEnding lists the months whose last day falls in p and is over by
// asOf.
func monthsEnding(p Period, asOf string) []Period {
	var out []Period
	for m, err := PeriodOf(PeriodMonth, p.From); err == nil && m.To <= p.To; m, err = PeriodOf(PeriodMonth, nextDay(m.To)) {
		if m.To >= p.From && m.To < asOf {
			out = append(out, m)
		}
	}
	return out
}
