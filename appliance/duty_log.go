package appliance

import "time"

// KindDutyLog is one line of the duty log (值班记录): an arrival or a
// departure, a call or visitor received, a broadcast, a handover note or
// its confirmation by the next person.
const KindDutyLog = "duty.log"

// Kinds of duty log lines.
const (
	LogSignIn    = "sign_in"   // 到岗
	LogSignOut   = "sign_out"  // 离岗
	LogCall      = "call"      // 来电
	LogVisitor   = "visitor"   // 来访
	LogBroadcast = "broadcast" // 广播
	LogHandover  = "handover"  // 交班留言
	LogRead      = "read"      // 接班确认 (of a handover: Ref)
)

// DutyLogLabels are the Chinese names of log lines.
var DutyLogLabels = map[string]string{
	LogSignIn: "到岗签到", LogSignOut: "离岗签退", LogCall: "来电", LogVisitor: "来访",
	LogBroadcast: "广播", LogHandover: "交班留言", LogRead: "接班确认",
}

// DutyLog is one line of a day's duty log. Its text says what was asked
// or broadcast, not who asked: a caller's name and phone go into the case
// it becomes (sealed there), never into the log.
type DutyLog struct {
	ID      string `json:"id"`
	Grid    string `json:"grid"`
	Date    string `json:"date"` // the duty day, YYYY-MM-DD
	At      string `json:"at"`   // HH:MM, local time
	Kind    string `json:"kind"`
	StaffID string `json:"staff_id"`
	Name    string `json:"name"`
	Text    string `json:"text,omitempty"`
	Case    string `json:"case,omitempty"` // receipt code of the case it became
	Ref     string `json:"ref,omitempty"`  // LogRead: the handover's id
	Via     string `json:"via,omitempty"`  // "kiosk" when signed at the kiosk screen
}

func (l *DutyLog) Validate() error {
	if !idRE.MatchString(l.ID) {
		return FieldError("id", "值班记录编号格式错误")
	}
	if l.Grid == "" {
		return FieldError("grid", "请选择值班所属网格")
	}
	if _, err := time.Parse("2006-01-02", l.Date); err != nil {
		return FieldError("date", "值班日期格式应为 年-月-日")
	}
	if !hhmmRE.MatchString(l.At) {
		return FieldError("at", "时间格式应为 时:分，如 08:30")
	}
	if _, ok := DutyLogLabels[l.Kind]; !ok {
		return FieldError("kind", "值班记录类型错误")
	}
	if !idRE.MatchString(l.StaffID) {
		return FieldError("staff_id", "请选择值班人员")
	}
	if err := requireText("name", "值班人员姓名", l.Name, 30); err != nil {
		return err
	}
	switch l.Kind {
	case LogCall, LogVisitor:
		if err := requireText("text", "来电来访内容", l.Text, 1000); err != nil {
			return err
		}
	case LogBroadcast:
		if err := requireText("text", "广播内容", l.Text, 1000); err != nil {
			return err
		}
	case LogHandover:
		if err := requireText("text", "交班留言", l.Text, 1000); err != nil {
			return err
		}
	case LogRead:
		if !idRE.MatchString(l.Ref) {
			return FieldError("ref", "请选择要确认的交班留言")
		}
	default:
		if err := optionalText("text", "备注", l.Text, 200); err != nil {
			return err
		}
	}
	if l.Case != "" && !idRE.MatchString(l.Case) {
		return FieldError("case", "问题编号格式错误")
	}
	if l.Via != "" && l.Via != "kiosk" {
		return FieldError("via", "签到方式错误")
	}
	return nil
}

// DutyDay is a duty day as the log tells it.
type DutyDay struct {
	Grid     string    `json:"grid"`
	Date     string    `json:"date"`
	Lines    []DutyLog `json:"lines"`
	SignedIn bool      `json:"signed_in"` // someone signed in
}

// Handover returns the day's last handover note and whether it was
// confirmed (and by whom).
func (d *DutyDay) Handover() (note DutyLog, readBy string, ok bool) {
	for _, l := range d.Lines {
		if l.Kind == LogHandover {
			note, ok, readBy = l, true, ""
		}
	}
	for _, l := range d.Lines {
		if ok && l.Kind == LogRead && l.Ref == note.ID {
			readBy = l.Name
		}
	}
	return note, readBy, ok
}

// OnDuty reports whether staff signed in that day and has not signed out since.
func (d *DutyDay) OnDuty(staff string) bool {
	in := false
	for _, l := range d.Lines {
		if l.StaffID == staff && l.Kind == LogSignIn {
			in = true
		} else if l.StaffID == staff && l.Kind == LogSignOut {
			in = false
		}
	}
	return in
}
