package appliance

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The 100-point assessment (docs/assessment.md): rules as data set by the
// town, evidence from the ledger, scores per period computed from both.
const (
	KindAssessRules     = "assess.rules"     // a version of the town's rule table, in force from a date
	KindAssessFinding   = "assess.finding"   // an inspection finding, and later the decision on its objection (last writer wins)
	KindAssessObjection = "assess.objection" // the inspected side's one objection to a finding (the first stands)
)

// Subjects of the assessment: who a rule scores.
const (
	SubjectGroup      = "group"      // level-3 grid (村组)
	SubjectVillage    = "village"    // level-2 grid (村)
	SubjectPerson     = "person"     // a staff member
	SubjectDepartment = "department" // a town department (by name)
)

// SubjectLabels are the Chinese names of subjects.
var SubjectLabels = map[string]string{SubjectGroup: "三级网格", SubjectVillage: "二级网格", SubjectPerson: "个人", SubjectDepartment: "职能部门"}

// Metrics: what a rule scores. Every one but MetricFinding is found in the
// ledger by AssessEvidence; a finding is an inspector's.
const (
	MetricCaseReported    = "case_reported"    // a case found on patrol and reported
	MetricCaseOnTime      = "case_on_time"     // resolved within its deadline
	MetricCaseOverdue     = "case_overdue"     // its deadline passed unresolved
	MetricCaseReopened    = "case_reopened"    // reopened after an unsatisfied follow-up
	MetricCaseReturned    = "case_returned"    // escalated, sent back by the level above (escalated without need)
	MetricRatingSatisfied = "rating_satisfied" // the villager's follow-up: satisfied
	MetricVisitCoverage   = "visit_coverage"   // households of the group visited in the period, against Target percent
	MetricVisits          = "visits"           // visits and patrols recorded
	MetricRegisterMissed  = "register_missed"  // a day whose register was not closed
	MetricDutyMissed      = "duty_missed"      // a duty day nobody (or the rostered person) signed in
	MetricHandoverMissed  = "handover_missed"  // a signed-in day without a handover note
	MetricMeetingHeld     = "meeting_held"     // a meeting held with minutes
	MetricServiceDone     = "service_done"     // a service request done
	MetricFinding         = "finding"          // an inspection finding under this rule
	// Two-way: a village's rating of a town department (per aspect rated:
	// timeliness, result) and the villagers' feedback on a service done.
	MetricVillageSatisfied   = "village_satisfied"
	MetricVillageUnsatisfied = "village_unsatisfied"
	MetricServiceUnsatisfied = "service_unsatisfied"
	MetricServiceSatisfied   = "service_satisfied"
	// The work team's days in the village against the days a month each
	// member owes; households whose required data is missing.
	MetricTeamDaysShort = "team_days_short"
	MetricDataMissing   = "data_missing"
)

// MetricLabels are the Chinese names of metrics.
var MetricLabels = map[string]string{
	MetricCaseReported: "排查上报问题", MetricCaseOnTime: "问题按期办结", MetricCaseOverdue: "问题超期未办结",
	MetricCaseReopened: "回访不满意重新办理", MetricCaseReturned: "上报后被退回（无需上报）", MetricRatingSatisfied: "回访满意",
	MetricVisitCoverage: "走访覆盖率", MetricVisits: "走访巡查记录", MetricRegisterMissed: "台账未日结",
	MetricDutyMissed: "值班无人签到", MetricHandoverMissed: "未写交班留言", MetricMeetingHeld: "按时召开会议并有记录",
	MetricServiceDone: "便民服务办结", MetricFinding: "督查发现",
	MetricVillageSatisfied: "村级评议满意（及时、结果各计）", MetricVillageUnsatisfied: "村级评议不满意（及时、结果各计）",
	MetricServiceUnsatisfied: "服务对象不满意", MetricServiceSatisfied: "服务对象满意",
	MetricTeamDaysShort: "工作队驻村天数不足", MetricDataMissing: "户籍资料不全",
}

// AssessRule is one line of the rule table.
type AssessRule struct {
	ID      string  `json:"id"`
	Name    string  `json:"name"`
	Metric  string  `json:"metric"`
	Subject string  `json:"subject"`
	Points  float64 `json:"points"`           // per unit; negative deducts (核减), positive adds (核加); steps of 0.1
	Per     string  `json:"per"`              // the unit, as written on the notice: 件, 天, 次…
	Target  int     `json:"target,omitempty"` // visit_coverage: percent; a unit is each 10 points (begun) below it
	Cap     float64 `json:"cap,omitempty"`    // most points this rule moves a subject's score in one period; 0: no cap
}

// tenths turns points into tenths of a point: scores add up in integers so
// every node gets the same number.
func tenths(p float64) int { return int(math.Round(p * 10)) }

func (r *AssessRule) Validate() error {
	if !idRE.MatchString(r.ID) {
		return FieldError("rules", "规则编号格式错误：%q", r.ID)
	}
	if err := requireText("rules", "规则名称", r.Name, 40); err != nil {
		return err
	}
	if _, ok := MetricLabels[r.Metric]; !ok {
		return FieldError("rules", "规则 %s 的考核内容未知：%q", r.ID, r.Metric)
	}
	if _, ok := SubjectLabels[r.Subject]; !ok {
		return FieldError("rules", "规则 %s 的考核对象未知：%q", r.ID, r.Subject)
	}
	if r.Points == 0 || math.Abs(r.Points) > 100 || math.Abs(r.Points*10-math.Round(r.Points*10)) > 1e-9 {
		return FieldError("rules", "规则 %s 的分值应在 -100 到 100 之间、不为0、最多一位小数", r.ID)
	}
	if r.Cap < 0 || r.Cap > 100 || math.Abs(r.Cap*10-math.Round(r.Cap*10)) > 1e-9 {
		return FieldError("rules", "规则 %s 的上限应在 0 到 100 之间、最多一位小数", r.ID)
	}
	if err := requireText("rules", "计分单位", r.Per, 10); err != nil {
		return err
	}
	if r.Metric == MetricVisitCoverage && (r.Target < 1 || r.Target > 100) {
		return FieldError("rules", "规则 %s 的目标覆盖率应在 1 到 100 之间", r.ID)
	}
	return nil
}

// RuleTable is one version of a town's rules. A new version takes effect
// from its date; evidence dated before it is scored by the version then in
// force, so a change never rewrites a past period.
type RuleTable struct {
	Town    string       `json:"town"`
	Version int          `json:"version"`
	From    string       `json:"from"` // YYYY-MM-DD
	Note    string       `json:"note,omitempty"`
	Rules   []AssessRule `json:"rules"`
}

func (t *RuleTable) Validate() error {
	if len(t.Town) != 12 {
		return FieldError("town", "乡镇代码应为12位")
	}
	if t.Version < 1 {
		return FieldError("version", "版本号应从1开始")
	}
	if _, err := time.Parse(time.DateOnly, t.From); err != nil {
		return FieldError("from", "生效日期格式应为 年-月-日")
	}
	if err := optionalText("note", "修订说明", t.Note, 500); err != nil {
		return err
	}
	if len(t.Rules) == 0 || len(t.Rules) > 200 {
		return FieldError("rules", "规则表应有1到200条规则")
	}
	seen := map[string]bool{}
	for i := range t.Rules {
		if err := t.Rules[i].Validate(); err != nil {
			return err
		}
		if seen[t.Rules[i].ID] {
			return FieldError("rules", "规则编号 %s 重复", t.Rules[i].ID)
		}
		seen[t.Rules[i].ID] = true
	}
	return nil
}

// Rule returns the rule with id, nil if the table has none.
func (t *RuleTable) Rule(id string) *AssessRule {
	for i := range t.Rules {
		if t.Rules[i].ID == id {
			return &t.Rules[i]
		}
	}
	return nil
}

// DefaultRuleTable is the table a village scores by until its town sets
// one (version 0), as it stands today (BuiltinTableOn: as it stood on a
// day): drawn from the seed's 积分核减 and 积分核加.
func DefaultRuleTable(town string) RuleTable {
	r := func(id, name, metric, subject string, points float64, per string, cap float64) AssessRule {
		return AssessRule{ID: id, Name: name, Metric: metric, Subject: subject, Points: points, Per: per, Cap: cap}
	}
	cov := r("g-coverage", "走访覆盖率低于目标", MetricVisitCoverage, SubjectGroup, -1, "差10个百分点", 5)
	cov.Target = 80
	return RuleTable{Town: town, Version: 0, From: "2000-01-01", Note: "默认规则（乡镇尚未下发规则表）", Rules: []AssessRule{
		r("g-reported", "排查发现并上报问题", MetricCaseReported, SubjectGroup, 0.5, "件", 5),
		r("g-ontime", "问题按期办结", MetricCaseOnTime, SubjectGroup, 1, "件", 10),
		r("g-overdue", "问题超期未办结", MetricCaseOverdue, SubjectGroup, -2, "件", 20),
		r("g-reopened", "回访不满意重新办理", MetricCaseReopened, SubjectGroup, -2, "件", 10),
		r("g-satisfied", "回访群众满意", MetricRatingSatisfied, SubjectGroup, 0.5, "件", 5),
		cov,
		r("g-f-false", "走访记录不实（督查）", MetricFinding, SubjectGroup, -3, "次", 0),
		r("g-f-praise", "督查表扬", MetricFinding, SubjectGroup, 2, "次", 0),
		r("v-register", "台账未日结", MetricRegisterMissed, SubjectVillage, -1, "天", 10),
		r("v-duty", "值班无人签到", MetricDutyMissed, SubjectVillage, -2, "天", 10),
		r("v-handover", "未写交班留言", MetricHandoverMissed, SubjectVillage, -0.5, "天", 5),
		r("v-meeting", "召开会议并有记录", MetricMeetingHeld, SubjectVillage, 1, "次", 4),
		r("v-returned", "上报后被退回（无需上报）", MetricCaseReturned, SubjectVillage, -1, "件", 5),
		r("v-service", "便民服务办结", MetricServiceDone, SubjectVillage, 0.5, "件", 5),
		r("v-f-register", "台账记录不全（督查）", MetricFinding, SubjectVillage, -2, "处", 0),
		r("v-f-absent", "值班脱岗（督查）", MetricFinding, SubjectVillage, -5, "次", 0),
		r("p-visits", "走访巡查记录", MetricVisits, SubjectPerson, 0.1, "次", 3),
		r("p-ontime", "承办问题按期办结", MetricCaseOnTime, SubjectPerson, 1, "件", 10),
		r("p-overdue", "承办问题超期", MetricCaseOverdue, SubjectPerson, -2, "件", 20),
		r("p-reopened", "承办问题回访不满意", MetricCaseReopened, SubjectPerson, -2, "件", 10),
		r("p-duty", "排班值班未签到", MetricDutyMissed, SubjectPerson, -2, "天", 10),
		r("p-service", "承办便民服务办结", MetricServiceDone, SubjectPerson, 0.5, "件", 5),
		r("p-f-absent", "值班脱岗（督查）", MetricFinding, SubjectPerson, -5, "次", 0),
		r("d-ontime", "交办问题按期办结", MetricCaseOnTime, SubjectDepartment, 1, "件", 10),
		r("d-overdue", "交办问题超期", MetricCaseOverdue, SubjectDepartment, -2, "件", 20),
		r("d-reopened", "交办问题回访不满意", MetricCaseReopened, SubjectDepartment, -2, "件", 10),
		r("d-v-good", "村级评议满意", MetricVillageSatisfied, SubjectDepartment, 0.5, "项", 5),
		r("d-v-bad", "村级评议不满意", MetricVillageUnsatisfied, SubjectDepartment, -1, "项", 10),
		r("v-service-bad", "服务对象不满意", MetricServiceUnsatisfied, SubjectVillage, -1, "件", 5),
		r("p-service-bad", "承办服务对象不满意", MetricServiceUnsatisfied, SubjectPerson, -1, "件", 5),
		r("v-service-good", "服务对象满意", MetricServiceSatisfied, SubjectVillage, 0.5, "件", 5),
		r("p-service-good", "承办服务对象满意", MetricServiceSatisfied, SubjectPerson, 0.5, "件", 5),
		r("v-team", "工作队驻村天数不足", MetricTeamDaysShort, SubjectVillage, -0.5, "人·天", 10),
		r("p-team", "本人驻村天数不足", MetricTeamDaysShort, SubjectPerson, -0.5, "天", 10),
		r("g-data", "户籍资料不全", MetricDataMissing, SubjectGroup, -0.5, "户", 5),
	}}
}

// builtinSince is the day the built-in table gained the rules in
// builtinAdded: before it a town without a table of its own scores by the
// table without them, so a new release never rescores a past day.
const builtinSince = "2026-12-08"

var builtinAdded = map[string]bool{"v-service-good": true, "p-service-good": true, "v-team": true, "p-team": true, "g-data": true}

// BuiltinTableOn is the built-in table (version 0) in force on day.
func BuiltinTableOn(town, day string) RuleTable {
	t := DefaultRuleTable(town)
	if day >= builtinSince {
		t.From = builtinSince
		t.Note = "默认规则（乡镇尚未下发规则表；" + builtinSince + "起增加工作队驻村天数、户籍资料、服务对象满意）"
		return t
	}
	var rules []AssessRule
	for _, r := range t.Rules {
		if !builtinAdded[r.ID] {
			rules = append(rules, r)
		}
	}
	t.Rules = rules
	return t
}

// TableOn returns the table in force on day among tables (one town's):
// the latest From on or before day, the higher version on the same day;
// the built-in table then in force when none is.
func TableOn(tables []RuleTable, town, day string) *RuleTable {
	if t := tableOn(tables, day); t != nil {
		return t
	}
	d := BuiltinTableOn(town, day)
	return &d
}

func tableOn(tables []RuleTable, day string) *RuleTable {
	var best *RuleTable
	for i := range tables {
		t := &tables[i]
		if t.From > day {
			continue
		}
		if best == nil || t.From > best.From || t.From == best.From && t.Version > best.Version {
			best = t
		}
	}
	return best
}

// Period kinds.
const (
	PeriodWeek    = "week"
	PeriodMonth   = "month"
	PeriodQuarter = "quarter"
	PeriodYear    = "year"
)

// PeriodLabels are the Chinese names of period kinds (周评比、季考核、年考评).
var PeriodLabels = map[string]string{PeriodWeek: "周评比", PeriodMonth: "月", PeriodQuarter: "季考核", PeriodYear: "年考评"}

// Period is a span of days scored together.
type Period struct {
	Kind string `json:"kind"`
	ID   string `json:"id"` // 2026-W45, 2026-11, 2026-Q4, 2026
	From string `json:"from"`
	To   string `json:"to"` // inclusive
}

// Label is the period in Chinese, for pages and notices.
func (p Period) Label() string {
	f, _ := time.Parse(time.DateOnly, p.From)
	switch p.Kind {
	case PeriodWeek:
		y, w := f.ISOWeek()
		return fmt.Sprintf("%d年第%d周（%s至%s）", y, w, p.From, p.To)
	case PeriodMonth:
		return fmt.Sprintf("%d年%d月", f.Year(), f.Month())
	case PeriodQuarter:
		return fmt.Sprintf("%d年第%d季度", f.Year(), (int(f.Month())+2)/3)
	}
	return fmt.Sprintf("%d年", f.Year())
}

// Days lists the period's days.
func (p Period) Days() []string {
	var out []string
	f, _ := time.Parse(time.DateOnly, p.From)
	for d := f; d.Format(time.DateOnly) <= p.To; d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format(time.DateOnly))
	}
	return out
}

// PeriodOf returns the period of kind holding day.
func PeriodOf(kind, day string) (Period, error) {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return Period{}, FieldError("period", "日期格式应为 年-月-日")
	}
	var f, t time.Time
	var id string
	switch kind {
	case PeriodWeek:
		f = d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
		t = f.AddDate(0, 0, 6)
		y, w := f.ISOWeek()
		id = fmt.Sprintf("%d-W%02d", y, w)
	case PeriodMonth:
		f = time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
		t = f.AddDate(0, 1, -1)
		id = f.Format("2006-01")
	case PeriodQuarter:
		q := (int(d.Month()) - 1) / 3
		f = time.Date(d.Year(), time.Month(q*3+1), 1, 0, 0, 0, 0, time.UTC)
		t = f.AddDate(0, 3, -1)
		id = fmt.Sprintf("%d-Q%d", d.Year(), q+1)
	case PeriodYear:
		f = time.Date(d.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
		t = f.AddDate(1, 0, -1)
		id = strconv.Itoa(d.Year())
	default:
		return Period{}, FieldError("period", "考核周期应为周、月、季度或年")
	}
	return Period{Kind: kind, ID: id, From: f.Format(time.DateOnly), To: t.Format(time.DateOnly)}, nil
}

// ParsePeriod reads a period id: 2026-W45, 2026-11, 2026-Q4 or 2026.
func ParsePeriod(s string) (Period, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	bad := FieldError("period", "考核周期格式应为 2026-W45、2026-11、2026-Q4 或 2026")
	y, rest, _ := strings.Cut(s, "-")
	year, err := strconv.Atoi(y)
	if err != nil || year < 2000 || year > 2200 {
		return Period{}, bad
	}
	switch {
	case rest == "":
		return PeriodOf(PeriodYear, fmt.Sprintf("%d-01-01", year))
	case strings.HasPrefix(rest, "W"):
		w, err := strconv.Atoi(rest[1:])
		if err != nil || w < 1 || w > 53 {
			return Period{}, bad
		}
		// ISO week 1 holds January 4th.
		jan4 := time.Date(year, 1, 4, 0, 0, 0, 0, time.UTC)
		p, err := PeriodOf(PeriodWeek, jan4.AddDate(0, 0, 7*(w-1)).Format(time.DateOnly))
		if err == nil && p.ID != fmt.Sprintf("%d-W%02d", year, w) {
			return Period{}, bad // week 53 of a year that has 52
		}
		return p, err
	case strings.HasPrefix(rest, "Q"):
		q, err := strconv.Atoi(rest[1:])
		if err != nil || q < 1 || q > 4 {
			return Period{}, bad
		}
		return PeriodOf(PeriodQuarter, fmt.Sprintf("%d-%02d-01", year, 3*q-2))
	}
	m, err := strconv.Atoi(rest)
	if err != nil || m < 1 || m > 12 {
		return Period{}, bad
	}
	return PeriodOf(PeriodMonth, fmt.Sprintf("%d-%02d-01", year, m))
}

// Finding is what an inspector found: the rule it falls under, how many
// units, and the subject. The decision on an objection is a later version
// of the same finding (same town and id).
type Finding struct {
	ID         string   `json:"id"`
	Town       string   `json:"town"`    // the town whose inspection group found it
	Village    string   `json:"village"` // the village it concerns (it goes down there)
	Inspection string   `json:"inspection,omitempty"`
	Way        string   `json:"way"` // one of InspectionWays
	Date       string   `json:"date"`
	Subject    string   `json:"subject"`
	SubjectID  string   `json:"subject_id"` // group or village code, staff id
	Rule       string   `json:"rule"`
	Units      int      `json:"units"`
	Text       string   `json:"text"`
	Photos     []string `json:"photos,omitempty"`
	Inspector  string   `json:"inspector"` // name
	// The decision on the objection: upheld voids the finding.
	Decision     string `json:"decision,omitempty"` // "", DecisionUpheld, DecisionRejected
	DecisionText string `json:"decision_text,omitempty"`
	DecisionDate string `json:"decision_date,omitempty"`
}

// Ways of inspecting (督查: 定期检查、随机抽查、暗访).
const (
	WayScheduled   = "scheduled"
	WayRandom      = "random"
	WayUnannounced = "unannounced"
)

// InspectionWays lists the ways in display order.
var InspectionWays = []string{WayScheduled, WayRandom, WayUnannounced}

// InspectionWayLabels are their Chinese names.
var InspectionWayLabels = map[string]string{WayScheduled: "定期检查", WayRandom: "随机抽查", WayUnannounced: "暗访"}

// Decisions on an objection.
const (
	DecisionUpheld   = "upheld"   // the objection stands: the finding is void
	DecisionRejected = "rejected" // the finding stands
)

// DecisionLabels are their Chinese names.
var DecisionLabels = map[string]string{DecisionUpheld: "异议成立，撤销扣分", DecisionRejected: "异议不成立，维持原结论"}

// Key of a finding in views.
func (f *Finding) Key() string { return f.Town + "/" + f.ID }

func (f *Finding) Validate() error {
	if !idRE.MatchString(f.ID) {
		return FieldError("id", "督查记录编号格式错误")
	}
	if len(f.Town) != 12 || len(f.Village) != 12 || TownOf(f.Village) != f.Town {
		return FieldError("village", "请选择本乡镇的村")
	}
	if !contains(InspectionWays, f.Way) {
		return FieldError("way", "请选择督查方式")
	}
	if _, err := time.Parse(time.DateOnly, f.Date); err != nil {
		return FieldError("date", "督查日期格式应为 年-月-日")
	}
	if _, ok := SubjectLabels[f.Subject]; !ok {
		return FieldError("subject", "请选择考核对象")
	}
	switch f.Subject {
	case SubjectVillage:
		if f.SubjectID != f.Village {
			return FieldError("subject_id", "考核对象应为本村")
		}
	case SubjectGroup:
		if !strings.HasPrefix(f.SubjectID, f.Village+"-") || GroupNumber(f.SubjectID) < 1 {
			return FieldError("subject_id", "请选择本村的村民组")
		}
	default:
		if err := requireText("subject_id", "考核对象", f.SubjectID, 40); err != nil {
			return err
		}
	}
	if !idRE.MatchString(f.Rule) {
		return FieldError("rule", "请选择适用的考核规则")
	}
	if f.Units < 1 || f.Units > 100 {
		return FieldError("units", "次数应在1到100之间")
	}
	if err := requireText("text", "督查发现的问题", f.Text, 2000); err != nil {
		return err
	}
	if len(f.Photos) > MaxCasePhotos {
		return FieldError("photos", "照片最多%d张", MaxCasePhotos)
	}
	for _, p := range f.Photos {
		if !IsPhotoSum(p) {
			return FieldError("photos", "照片编号格式错误")
		}
	}
	if err := requireText("inspector", "督查人员", f.Inspector, 30); err != nil {
		return err
	}
	if f.Decision != "" {
		if _, ok := DecisionLabels[f.Decision]; !ok {
			return FieldError("decision", "请选择异议处理结果")
		}
		if err := requireText("decision_text", "处理意见", f.DecisionText, 1000); err != nil {
			return err
		}
	}
	return nil
}

// Objection is the inspected side's objection to a finding; one per finding.
type Objection struct {
	Finding string `json:"finding"` // its key: town "/" id
	Date    string `json:"date"`
	Text    string `json:"text"`
	By      string `json:"by"` // name
}

func (o *Objection) Validate() error {
	if t, id, ok := strings.Cut(o.Finding, "/"); !ok || len(t) != 12 || !idRE.MatchString(id) {
		return FieldError("finding", "督查记录编号格式错误")
	}
	if _, err := time.Parse(time.DateOnly, o.Date); err != nil {
		return FieldError("date", "日期格式应为 年-月-日")
	}
	if err := requireText("text", "异议理由", o.Text, 1000); err != nil {
		return err
	}
	return requireText("by", "提出人", o.By, 30)
}

// sortTables orders tables by From then version, as they take effect.
func sortTables(ts []RuleTable) {
	sort.Slice(ts, func(i, j int) bool {
		if ts[i].From != ts[j].From {
			return ts[i].From < ts[j].From
		}
		return ts[i].Version < ts[j].Version
	})
}

// findingPhotoRefs are the photos of a finding, or of the finding a copy
// down carries: they follow it to the village it concerns.
func findingPhotoRefs(e *Entry) []string {
	body := e.Body
	if e.Kind == KindDownCopy {
		var c DownCopy
		if json.Unmarshal(e.Body, &c) != nil || c.Kind != KindAssessFinding {
			return nil
		}
		body = c.Body
	}
	var f Finding
	if json.Unmarshal(body, &f) != nil {
		return nil
	}
	var out []string
	for _, s := range f.Photos {
		if IsPhotoSum(s) && len(out) < MaxCasePhotos {
			out = append(out, s)
		}
	}
	return out
}
