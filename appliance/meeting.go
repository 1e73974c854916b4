package appliance

import (
	"strings"
	"time"
)

// Entry kinds of meetings (docs/week.md, "Meetings").
const (
	KindMeetingSet  = "meeting.set"    // a meeting scheduled, its agenda, minutes and decisions (last writer wins)
	KindMeetingSign = "meeting.sign"   // one person's attendance (签到)
	KindActionSet   = "meeting.action" // an action item decided at a meeting (last writer wins)
)

// Kinds of meetings.
const (
	MeetingWeekly  = "weekly"  // 工作碰头会: the work team and the village committees
	MeetingCouncil = "council" // 村级议事平台: the monthly council on the 15th
	MeetingJoint   = "joint"   // 联席会议: the town's joint meeting on hard cases
)

// MeetingKindLabels are the Chinese names of meeting kinds.
var MeetingKindLabels = map[string]string{MeetingWeekly: "工作碰头会", MeetingCouncil: "村级议事会", MeetingJoint: "联席会议"}

// Meeting states.
const (
	MeetingScheduled = "scheduled"
	MeetingHeld      = "held"
	MeetingCancelled = "cancelled"
)

// MeetingStateLabels are the Chinese names of meeting states.
var MeetingStateLabels = map[string]string{MeetingScheduled: "待召开", MeetingHeld: "已召开", MeetingCancelled: "已取消"}

// AgendaItem is one topic of a meeting's agenda, maybe about a case.
type AgendaItem struct {
	Text string `json:"text"`
	Case string `json:"case,omitempty"` // receipt code
}

// MaxAgenda bounds a meeting's agenda and decisions.
const MaxAgenda = 60

// Meeting is one meeting of a village or a town.
type Meeting struct {
	ID        string       `json:"id"`
	Grid      string       `json:"grid"` // the village or town holding it
	Kind      string       `json:"kind"`
	Title     string       `json:"title"`
	Date      string       `json:"date"`           // YYYY-MM-DD
	Time      string       `json:"time,omitempty"` // HH:MM
	Place     string       `json:"place,omitempty"`
	Chair     string       `json:"chair,omitempty"`     // 主持人
	Attendees string       `json:"attendees,omitempty"` // who is to come, as written (参会范围)
	Agenda    []AgendaItem `json:"agenda,omitempty"`
	Minutes   string       `json:"minutes,omitempty"`
	Decisions []string     `json:"decisions,omitempty"`
	State     string       `json:"state"`
	// To names, on a town's joint meeting, the villages it concerns (their
	// codes): it goes down to them.
	To []string `json:"to,omitempty"`
	// From names the town on the copy a town sends down.
	From string `json:"from,omitempty"`
}

// Key of a meeting in views: ids are chosen per node.
func (m *Meeting) Key() string { return m.Grid + "/" + m.ID }

func (m *Meeting) Validate() error {
	if !idRE.MatchString(m.ID) {
		return FieldError("id", "会议编号格式错误")
	}
	if m.Grid == "" {
		return FieldError("grid", "请选择召开会议的村或镇")
	}
	if _, ok := MeetingKindLabels[m.Kind]; !ok {
		return FieldError("kind", "请选择会议类型")
	}
	if err := requireText("title", "会议名称", m.Title, 60); err != nil {
		return err
	}
	if _, err := time.Parse("2006-01-02", m.Date); err != nil {
		return FieldError("date", "会议日期格式应为 年-月-日，如 2026-12-15")
	}
	if m.Time != "" && !hhmmRE.MatchString(m.Time) {
		return FieldError("time", "会议时间格式应为 时:分，如 09:00")
	}
	for _, f := range []struct{ field, label, v string }{{"place", "地点", m.Place}, {"chair", "主持人", m.Chair}} {
		if err := optionalText(f.field, f.label, f.v, 40); err != nil {
			return err
		}
	}
	if err := optionalText("attendees", "参会人员", m.Attendees, 500); err != nil {
		return err
	}
	if len(m.Agenda) > MaxAgenda || len(m.Decisions) > MaxAgenda {
		return FieldError("agenda", "议题和决定事项各最多 %d 条", MaxAgenda)
	}
	for _, a := range m.Agenda {
		if err := requireText("agenda", "议题", a.Text, 300); err != nil {
			return err
		}
		if a.Case != "" && !idRE.MatchString(a.Case) {
			return FieldError("agenda", "议题所附问题编号格式错误")
		}
	}
	for _, d := range m.Decisions {
		if err := requireText("decisions", "决定事项", d, 500); err != nil {
			return err
		}
	}
	if err := optionalText("minutes", "会议记录", m.Minutes, 20000); err != nil {
		return err
	}
	if _, ok := MeetingStateLabels[m.State]; !ok {
		return FieldError("state", "会议状态错误")
	}
	if len(m.To) > MaxNoticeTo {
		return FieldError("to", "涉及的村最多 %d 个", MaxNoticeTo)
	}
	for _, v := range m.To {
		if ValidateDivisionCode(v, NodeVillage) != nil || TownOf(v) != m.Grid {
			return FieldError("to", "涉及的村只能是本镇的村")
		}
	}
	return optionalText("from", "召开单位", m.From, 40)
}

// SentTo reports whether a town's meeting concerns village.
func (m *Meeting) SentTo(village string) bool { return contains(m.To, village) }

// MeetingSign is one person's attendance at a meeting.
type MeetingSign struct {
	Meeting string `json:"meeting"` // the meeting's Key (grid/id)
	StaffID string `json:"staff_id,omitempty"`
	Name    string `json:"name"`
	Unit    string `json:"unit,omitempty"` // 单位: a department at a joint meeting, a group for a representative
	At      string `json:"at"`             // HH:MM
}

func (s *MeetingSign) Validate() error {
	if g, id, ok := strings.Cut(s.Meeting, "/"); !ok || g == "" || !idRE.MatchString(id) {
		return FieldError("meeting", "会议不存在")
	}
	if s.StaffID != "" && !idRE.MatchString(s.StaffID) {
		return FieldError("staff_id", "人员编号格式错误")
	}
	if err := requireText("name", "签到人姓名", s.Name, 30); err != nil {
		return err
	}
	if err := optionalText("unit", "单位", s.Unit, 40); err != nil {
		return err
	}
	if !hhmmRE.MatchString(s.At) {
		return FieldError("at", "签到时间格式应为 时:分")
	}
	return nil
}

// ActionItem is a task a meeting decided: who does it by when, tied to a
// case or become one.
type ActionItem struct {
	ID      string `json:"id"`
	Grid    string `json:"grid"`    // the node's grid that holds it
	Meeting string `json:"meeting"` // the meeting's Key
	Text    string `json:"text"`
	Owner   string `json:"owner"`              // 责任人, as named
	OwnerID string `json:"owner_id,omitempty"` // staff id when one of the node's people
	Due     string `json:"due"`                // YYYY-MM-DD
	Case    string `json:"case,omitempty"`     // receipt code of the case it belongs to or became
	Done    bool   `json:"done,omitempty"`
	Outcome string `json:"outcome,omitempty"` // what was done
}

func (a *ActionItem) Validate() error {
	if !idRE.MatchString(a.ID) {
		return FieldError("id", "事项编号格式错误")
	}
	if a.Grid == "" {
		return FieldError("grid", "请选择网格")
	}
	if g, id, ok := strings.Cut(a.Meeting, "/"); !ok || g == "" || !idRE.MatchString(id) {
		return FieldError("meeting", "会议不存在")
	}
	if err := requireText("text", "事项内容", a.Text, 500); err != nil {
		return err
	}
	if err := requireText("owner", "责任人", a.Owner, 30); err != nil {
		return err
	}
	if a.OwnerID != "" && !idRE.MatchString(a.OwnerID) {
		return FieldError("owner", "责任人编号格式错误")
	}
	if _, err := time.Parse("2006-01-02", a.Due); err != nil {
		return FieldError("due", "完成期限格式应为 年-月-日，如 2026-12-20")
	}
	if a.Case != "" && !idRE.MatchString(a.Case) {
		return FieldError("case", "问题编号格式错误")
	}
	return optionalText("outcome", "办理结果", a.Outcome, 1000)
}

// Overdue reports whether the item is open past its due date (today: YYYY-MM-DD).
func (a *ActionItem) Overdue(today string) bool { return !a.Done && a.Due < today }
