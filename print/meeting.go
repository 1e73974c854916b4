package print

import (
	"fmt"
	"strings"
	"time"
)

func init() {
	register(Kind{Name: "meeting_agenda", Title: "会议议程和签到表", New: func() Document { return &MeetingAgenda{} }})
	register(Kind{Name: "meeting_minutes", Title: "会议纪要", New: func() Document { return &MeetingMinutes{} }})
}

// MeetingSigned is one person on a sign-in sheet.
type MeetingSigned struct {
	Name string `json:"name,omitempty"`
	Unit string `json:"unit,omitempty"`
	At   string `json:"at,omitempty"`
}

// MeetingHead is what an agenda and minutes both begin with.
type MeetingHead struct {
	Holder    string    `json:"holder,omitempty"` // the village or town holding it
	Title     string    `json:"title,omitempty"`
	Kind      string    `json:"kind,omitempty"` // e.g. 工作碰头会
	Date      time.Time `json:"date,omitempty"`
	Time      string    `json:"time,omitempty"`
	Place     string    `json:"place,omitempty"`
	Chair     string    `json:"chair,omitempty"`
	Attendees string    `json:"attendees,omitempty"`
}

func (h *MeetingHead) draw(d *doc, what string) {
	title := h.Holder + h.Title
	d.setTitle(title + what)
	d.heading(title, 18, center)
	d.lines(what, 13, center)
	d.gap(3)
	when := ""
	if !h.Date.IsZero() {
		when = dateCN(h.Date) + " " + weekdayCN(h.Date) + " " + h.Time
	}
	rows := [][]string{{"会议类型", h.Kind, "时间", when}, {"地点", h.Place, "主持人", or(h.Chair, "")}}
	if h.Attendees != "" {
		rows = append(rows, []string{"参会人员", h.Attendees, "", ""})
	}
	d.table("", []column{{"", 1.3, left}, {"", 3.5, left}, {"", 1.1, left}, {"", 3.5, left}}, rows, 10)
	d.gap(3)
}

// MeetingAgenda is a meeting's agenda with its sign-in sheet: those who
// signed already, then blank rows to sign by hand.
type MeetingAgenda struct {
	MeetingHead
	Agenda []string        `json:"agenda,omitempty"`
	Signed []MeetingSigned `json:"signed,omitempty"`
	Blank  int             `json:"blank,omitempty"` // blank rows; 12 when zero
}

func (*MeetingAgenda) Kind() string { return "meeting_agenda" }

func (a *MeetingAgenda) draw(d *doc) error {
	d.header = func(d *doc) { d.pageNumber() }
	d.addPage(pageA4, false)
	a.MeetingHead.draw(d, "会议议程")
	d.heading("议题", 13, left)
	d.gap(1)
	if len(a.Agenda) == 0 {
		d.para("（议题待定）", 11, 0)
	}
	for i, it := range a.Agenda {
		d.para(fmt.Sprintf("%d. %s", i+1, it), 11, 0)
	}
	d.samePage()
	d.heading(a.Holder+a.Title+" 签到表", 16, center)
	d.gap(3)
	var rows [][]string
	for i, s := range a.Signed {
		rows = append(rows, []string{fmt.Sprint(i + 1), s.Name, s.Unit, s.At, ""})
	}
	blank := a.Blank
	if blank <= 0 {
		blank = 12
	}
	for i := 0; i < blank; i++ {
		rows = append(rows, []string{fmt.Sprint(len(a.Signed) + i + 1), "", "", "", "\n"})
	}
	d.table("签到表", []column{{"序号", 0.8, center}, {"姓名", 2, left}, {"单位或职务", 3.4, left}, {"签到时间", 1.5, center}, {"本人签名", 2.3, left}}, rows, 11)
	return nil
}

// MeetingAction is an action item in the minutes.
type MeetingAction struct {
	Text  string `json:"text,omitempty"`
	Owner string `json:"owner,omitempty"`
	Due   string `json:"due,omitempty"`
	Case  string `json:"case,omitempty"`
	State string `json:"state,omitempty"`
}

// MeetingMinutes is a meeting's minutes (会议纪要): who came, what was
// said, decided and given to whom by when.
type MeetingMinutes struct {
	MeetingHead
	Present   []string        `json:"present,omitempty"`
	Agenda    []string        `json:"agenda,omitempty"`
	Minutes   string          `json:"minutes,omitempty"`
	Decisions []string        `json:"decisions,omitempty"`
	Actions   []MeetingAction `json:"actions,omitempty"`
}

func (*MeetingMinutes) Kind() string { return "meeting_minutes" }

func (m *MeetingMinutes) draw(d *doc) error {
	d.header = func(d *doc) { d.pageNumber() }
	d.addPage(pageA4, false)
	m.MeetingHead.draw(d, "会议纪要")
	present := "（无签到记录）"
	if len(m.Present) > 0 {
		present = fmt.Sprintf("%s（共 %d 人）", joinCN(m.Present), len(m.Present))
	}
	d.para("到会人员："+present, 11, 0)
	d.gap(2)
	section := func(title string, items []string) {
		d.heading(title, 13, left)
		d.gap(1)
		if len(items) == 0 {
			d.para("（无）", 11, 0)
		}
		for i, it := range items {
			d.para(fmt.Sprintf("%d. %s", i+1, it), 11, 0)
		}
		d.gap(2)
	}
	section("一、议题", m.Agenda)
	d.heading("二、会议记录", 13, left)
	d.gap(1)
	for _, p := range strings.Split(strings.ReplaceAll(or(m.Minutes, "（无）"), "\r\n", "\n"), "\n") {
		d.para(p, 11, 0)
	}
	d.gap(2)
	section("三、决定事项", m.Decisions)
	d.heading("四、议定事项及责任人", 13, left)
	d.gap(1)
	rows := make([][]string, len(m.Actions))
	for i, a := range m.Actions {
		rows[i] = []string{fmt.Sprint(i + 1), a.Text, a.Owner, a.Due, a.Case, a.State}
	}
	if len(rows) == 0 {
		rows = [][]string{{"", "（无）", "", "", "", ""}}
	}
	d.table("", []column{{"序号", 0.8, center}, {"事项", 4.6, left}, {"责任人", 1.5, left}, {"期限", 1.8, left}, {"问题编号", 2, left}, {"状态", 1.2, left}}, rows, 10)
	d.gap(6)
	d.lines("记录人：______________　　　审核人：______________", 11, right)
	return nil
}
