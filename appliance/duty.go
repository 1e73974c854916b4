package appliance

import "time"

// DutyShift is one day's duty in the village duty room (值班).
type DutyShift struct {
	Grid    string `json:"grid"`  // village (or town) whose duty room this is
	Date    string `json:"date"`  // YYYY-MM-DD in the node's time zone
	Shift   string `json:"shift"` // 全天 / 白班 / 夜班
	StaffID string `json:"staff_id"`
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Lead    string `json:"lead,omitempty"` // 带班领导
	Removed bool   `json:"removed,omitempty"`
}

// Shifts are the kinds of duty shift.
var Shifts = []string{"全天", "白班", "夜班"}

func (d *DutyShift) Validate() error {
	if d.Grid == "" {
		return FieldError("grid", "请选择值班所属网格")
	}
	if _, err := time.Parse("2006-01-02", d.Date); err != nil {
		return FieldError("date", "值班日期格式应为 年-月-日，如 2026-11-28")
	}
	if !contains(Shifts, d.Shift) {
		return FieldError("shift", "班次应为 全天、白班 或 夜班")
	}
	if !idRE.MatchString(d.StaffID) {
		return FieldError("staff_id", "请选择值班人员")
	}
	if err := requireText("name", "值班人员姓名", d.Name, 30); err != nil {
		return err
	}
	if err := ValidatePhone("phone", d.Phone, true); err != nil {
		return err
	}
	return optionalText("lead", "带班领导", d.Lead, 30)
}

// Key of a shift in the roster: one person per date and shift.
func (d *DutyShift) Key() string { return d.Grid + "/" + d.Date + "/" + d.Shift + "/" + d.StaffID }

// Notice is a public notice (通知公告) shown on the kiosk and notice board.
type Notice struct {
	Grid      string `json:"grid"` // issuing grid: a village, or the town for all its villages
	ID        string `json:"id"`
	Title     string `json:"title"`
	Body      string `json:"body"`
	Published string `json:"published"` // YYYY-MM-DD
	Pinned    bool   `json:"pinned,omitempty"`
	Withdrawn bool   `json:"withdrawn,omitempty"`
	// To limits a town's notice to some of its villages (their codes);
	// empty: all the villages enrolled at the town. A village's own
	// notices leave it empty.
	To []string `json:"to,omitempty"`
	// From names the issuing node on the copy a town sends down to a
	// village (e.g. 龙湖镇), so the kiosk can say who published it.
	From string `json:"from,omitempty"`
}

// MaxNoticeTo bounds a notice's list of villages (a town has a few dozen).
const MaxNoticeTo = 200

// SentTo reports whether a town's notice is meant for village.
func (n *Notice) SentTo(village string) bool { return len(n.To) == 0 || contains(n.To, village) }

func (n *Notice) Validate() error {
	if !idRE.MatchString(n.ID) {
		return FieldError("id", "公告编号格式错误")
	}
	if err := requireText("title", "标题", n.Title, 60); err != nil {
		return err
	}
	if err := requireText("body", "正文", n.Body, 5000); err != nil {
		return err
	}
	if _, err := time.Parse("2006-01-02", n.Published); err != nil {
		return FieldError("published", "发布日期格式应为 年-月-日")
	}
	if len(n.To) > MaxNoticeTo {
		return FieldError("to", "发送范围最多 %d 个村", MaxNoticeTo)
	}
	for _, v := range n.To {
		if ValidateDivisionCode(v, NodeVillage) != nil || TownOf(v) != n.Grid {
			return FieldError("to", "发送范围只能是本镇的村")
		}
	}
	return optionalText("from", "发布单位", n.From, 40)
}
