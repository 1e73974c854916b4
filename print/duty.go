package print

import (
	"fmt"
	"strings"
	"time"
)

func init() {
	register(Kind{Name: "duty_roster", Title: "值班表", New: func() Document { return &DutyRoster{} }})
	register(Kind{Name: "duty_log", Title: "值班记录", New: func() Document { return &DutyLogSheet{} }})
}

// DutyRoster is a month's duty roster for the notice board: one A4 sheet.
type DutyRoster struct {
	Village   string    `json:"village,omitempty"`
	Month     time.Time `json:"month,omitempty"` // any day of the month
	Days      []DutyDay `json:"days,omitempty"`
	DutyPhone string    `json:"duty_phone,omitempty"`
	DutyRoom  string    `json:"duty_room,omitempty"`
	Notes     []string  `json:"notes,omitempty"` // e.g. 每月15日为群众工作队队长值班日
	Made      time.Time `json:"made,omitempty"`
}

func (*DutyRoster) Kind() string { return "duty_roster" }

func (r *DutyRoster) draw(d *doc) error {
	title := r.Village + "值班表"
	if !r.Month.IsZero() {
		title = fmt.Sprintf("%s%d年%d月值班表", r.Village, r.Month.Year(), int(r.Month.Month()))
	}
	d.setTitle(title)
	d.header = nil
	d.addPage(pageA4, false)
	d.heading(title, 20, center)
	d.gap(4)
	rosterTable(d, r.Days, nil)
	d.gap(4)
	if r.DutyRoom != "" {
		d.para("值班地点："+r.DutyRoom, 12, 0)
	}
	d.para("值班电话："+or(r.DutyPhone, blank), 14, 0)
	for _, n := range r.Notes {
		d.para(n, 11, 0)
	}
	d.para("值班人员须按时到岗签到，做好来电来访、广播和交接班记录；不能值班的须提前申请换班。", 11, 0)
	if !r.Made.IsZero() {
		d.gap(4)
		d.lines("制表日期："+dateCN(r.Made), 10, right)
	}
	return nil
}

// DutyLogLine is one line of a printed duty log.
type DutyLogLine struct {
	At   string `json:"at,omitempty"` // HH:MM
	Kind string `json:"kind,omitempty"`
	Name string `json:"name,omitempty"`
	Text string `json:"text,omitempty"`
	Case string `json:"case,omitempty"` // receipt code of the case it became
}

// DutyLogSheet is the duty log of one day (值班记录), or a blank page to
// fill in by hand when Date is zero.
type DutyLogSheet struct {
	Village  string        `json:"village,omitempty"`
	Date     time.Time     `json:"date,omitempty"` // zero: a blank sheet
	OnDuty   []string      `json:"on_duty,omitempty"`
	Lines    []DutyLogLine `json:"lines,omitempty"`
	Handover string        `json:"handover,omitempty"`
	ReadBy   string        `json:"read_by,omitempty"`
	Rows     int           `json:"rows,omitempty"` // blank rows on a blank sheet; 14 when zero
}

func (*DutyLogSheet) Kind() string { return "duty_log" }

func (l *DutyLogSheet) draw(d *doc) error {
	title := l.Village + "值班记录"
	d.setTitle(title)
	d.header = nil
	d.addPage(pageA4, false)
	d.heading(title, 18, center)
	d.gap(2)
	blankSheet := l.Date.IsZero()
	when := "日期：______年____月____日　星期____"
	if !blankSheet {
		when = "日期：" + dateCN(l.Date) + "　" + weekdayCN(l.Date)
	}
	d.lines(when+"　　值班人员："+or(strings.Join(l.OnDuty, "、"), "______________"), 11, left)
	d.gap(3)
	cols := []column{{"时间", 1.2, center}, {"类别", 1.4, center}, {"记录人", 1.5, left}, {"内容（来电来访反映的事情、广播内容、到岗离岗）", 6.4, left}, {"转为问题编号", 2.3, left}}
	var rows [][]string
	if blankSheet {
		n := l.Rows
		if n <= 0 {
			n = 14
		}
		for i := 0; i < n; i++ {
			rows = append(rows, []string{"\n", "", "", "", ""})
		}
	} else {
		for _, x := range l.Lines {
			rows = append(rows, []string{x.At, x.Kind, x.Name, x.Text, x.Case})
		}
		if len(rows) == 0 {
			rows = append(rows, []string{"", "", "", "这天没有记录。", ""})
		}
	}
	d.table("", cols, rows, 10)
	d.gap(4)
	d.heading("交班留言", 12, left)
	d.gap(1)
	note := l.Handover
	if note == "" && blankSheet {
		note = "\n\n\n"
	}
	d.table("", []column{{"交班人留给下一班的事项", 1, left}}, [][]string{{or(note, "（无）")}}, 10)
	d.gap(3)
	read := "接班人确认：______________　　时间：________"
	if l.ReadBy != "" {
		read = "接班人确认：" + l.ReadBy
	}
	d.lines(read, 11, left)
	return nil
}
