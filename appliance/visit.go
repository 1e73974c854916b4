package appliance

import (
	"strings"
	"time"
)

// KindVisitAdd records one household visit or patrol (日走访日巡查).
const KindVisitAdd = "visit.add"

// Visit kinds.
const (
	VisitHome   = "visit"  // 走访
	VisitPatrol = "patrol" // 巡查
)

// VisitKindLabels are the Chinese names of visit kinds.
var VisitKindLabels = map[string]string{VisitHome: "走访", VisitPatrol: "巡查"}

// Visit is a grid worker's visit to a household or patrol of a place.
// Date and Time are the worker's local wall clock, so every node files the
// visit under the same day.
type Visit struct {
	ID        string `json:"id"`
	Worker    string `json:"worker"` // staff id
	Name      string `json:"name"`   // worker's name at the time
	Group     string `json:"group"`
	Kind      string `json:"kind"`
	Household string `json:"household,omitempty"` // household id, for visits
	Place     string `json:"place,omitempty"`     // for patrols, or a visit without a household record
	Date      string `json:"date"`                // YYYY-MM-DD
	Time      string `json:"time"`                // HH:MM
	Seen      string `json:"seen"`                // what was seen and heard (民情)
	Problems  string `json:"problems,omitempty"`
	FollowUp  string `json:"follow_up,omitempty"` // what was done or will be
	// Category, when set, registers the finding (Problems) as a case of
	// that category in the same step; Case is then its receipt code.
	Category string `json:"category,omitempty"`
	Case     string `json:"case,omitempty"`
}

func (v *Visit) Validate() error {
	if !idRE.MatchString(v.ID) {
		return FieldError("id", "走访记录编号格式错误")
	}
	if !idRE.MatchString(v.Worker) {
		return FieldError("worker", "请选择走访人")
	}
	if err := requireText("name", "走访人姓名", v.Name, 30); err != nil {
		return err
	}
	if GroupNumber(v.Group) < 1 {
		return FieldError("group", "请选择村民组")
	}
	if _, ok := VisitKindLabels[v.Kind]; !ok {
		return FieldError("kind", "请选择走访或巡查")
	}
	if v.Household == "" && strings.TrimSpace(v.Place) == "" {
		if v.Kind == VisitHome {
			return FieldError("household", "请选择走访的户")
		}
		return FieldError("place", "请填写巡查地点")
	}
	if v.Household != "" && !idRE.MatchString(v.Household) {
		return FieldError("household", "户编号格式错误")
	}
	if err := optionalText("place", "地点", v.Place, 60); err != nil {
		return err
	}
	if err := validDate("date", "日期", v.Date, true); err != nil {
		return err
	}
	if _, err := time.Parse("15:04", v.Time); err != nil {
		return FieldError("time", "时间格式应为 时:分，如 09:30")
	}
	if err := requireText("seen", "走访情况", v.Seen, 1000); err != nil {
		return err
	}
	if v.Category != "" && strings.TrimSpace(v.Problems) == "" {
		return FieldError("problems", "要登记为问题，请填写发现的问题")
	}
	if err := optionalText("problems", "发现问题", v.Problems, 1000); err != nil {
		return err
	}
	return optionalText("follow_up", "处理情况", v.FollowUp, 1000)
}

// DiaryEntry is one visit or patrol in a visit diary, ready for printing.
type DiaryEntry struct {
	Date      time.Time // local date and time of the visit
	Kind      string    // 走访 / 巡查
	Household string    // whom or where: "张建国户" or "西岭水渠"
	Content   string    // what was seen and heard
	Problems  string
	Handling  string
}

// Diary is a grid worker's visit diary (民情日记) for a period.
type Diary struct {
	Worker  string
	Village string
	Group   string
	From    time.Time
	To      time.Time
	Entries []DiaryEntry // in time order
}

// Coverage is how one group's households stand against the visit rule.
type Coverage struct {
	Group      string
	Households int
	Covered    int      // visited within the rule's days
	Unvisited  []string // household ids not visited within the rule's days
}

// WorkerProgress is one worker's visits against the daily target.
type WorkerProgress struct {
	Staff  StaffMember
	Today  int
	Days   int // working days in the period
	Visits int // visits in the period
	Target int // Days × daily target
	Behind bool
}

// VisitRule returns the daily target and coverage days, defaults filled in.
func (a ArchiveConfig) VisitRule() (dailyTarget, coverageDays int) {
	dailyTarget, coverageDays = a.VisitDailyTarget, a.VisitCoverageDays
	if dailyTarget <= 0 {
		dailyTarget = 3
	}
	if coverageDays <= 0 {
		coverageDays = 30
	}
	return
}
