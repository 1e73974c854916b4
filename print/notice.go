package print

import (
	"fmt"
	"strings"
	"time"
)

func init() {
	register(Kind{Name: "notice", Title: "便民服务公开栏", New: func() Document { return &Notice{} }})
}

// DutyStaff is one person on duty.
type DutyStaff struct {
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// DutyDay is who is on duty on one day.
type DutyDay struct {
	Date  time.Time   `json:"date,omitempty"`
	Staff []DutyStaff `json:"staff,omitempty"`
}

// Roster is the duty roster of a week or a month.
type Roster struct {
	Title string    `json:"title,omitempty"` // e.g. "2026年12月值班表"
	Days  []DutyDay `json:"days,omitempty"`
}

// GridRow is one line of the grid table: a group and its grid leader.
type GridRow struct {
	Group      string `json:"group,omitempty"`
	GridLeader string `json:"grid_leader,omitempty"`
	Phone      string `json:"phone,omitempty"`
}

// Notice is the sheet for the village notice board (公开栏).
type Notice struct {
	Village     string    `json:"village,omitempty"`
	Title       string    `json:"title,omitempty"` // default: Village + "便民服务公开栏"
	Services    []Service `json:"services,omitempty"`
	Roster      Roster    `json:"roster,omitempty"`
	TownDuty    []DutyDay `json:"town_duty,omitempty"` // the town's duty on the roster's days, as sent down to the village
	Grid        []GridRow `json:"grid,omitempty"`
	DutyPhone   string    `json:"duty_phone,omitempty"`
	ReportSteps []string  `json:"report_steps,omitempty"` // how to report a problem; a default is printed when empty
	Token       string    `json:"token,omitempty"`        // optional QR code, e.g. for the kiosk's report page
	Updated     time.Time `json:"updated,omitempty"`
	A3          bool      `json:"a3,omitempty"` // A3 instead of A4: same layout, larger type
}

func (*Notice) Kind() string { return "notice" }

var defaultReportSteps = []string{
	"拨打村值班电话，或到村值班室当面反映；",
	"向本组网格长反映，网格长上门了解情况；",
	"在村自助终端上填写，或投入村意见箱；",
	"受理后领取回执，凭回执编号查询办理进度和结果。",
}

func (n *Notice) draw(d *doc) error {
	title := or(n.Title, n.Village+"便民服务公开栏")
	d.setTitle(title)
	p := pageA4
	if n.A3 {
		p = pageA3
		d.scale = 1.41
		d.ml, d.mr, d.mt, d.mb = 20, 20, 20, 20
	}
	d.header = func(d *doc) { d.pageNumber() }
	d.addPage(p, false)
	d.heading(title, 20, center)
	if !n.Updated.IsZero() {
		d.lines("更新日期："+dateCN(n.Updated), 9, right)
	}
	d.gap(3)

	d.heading("一、服务事项及办理流程", 13, left)
	d.gap(1)
	rows := make([][]string, 0, len(n.Services))
	for _, s := range n.Services {
		steps := make([]string, len(s.Steps))
		for i, st := range s.Steps {
			steps[i] = fmt.Sprintf("%d. %s", i+1, st)
		}
		rows = append(rows, []string{s.Name, strings.Join(steps, "\n"), s.Where})
	}
	d.table("", []column{{"服务事项", 2, left}, {"办理流程", 6, left}, {"办理地点", 2, left}}, rows, 10)
	d.gap(5)

	d.heading("二、"+or(n.Roster.Title, "值班表"), 13, left)
	d.gap(1)
	rosterTable(d, n.Roster.Days)
	if hasStaff(n.TownDuty) {
		d.gap(2)
		d.heading("乡镇值班", 11, left)
		d.gap(1)
		rosterTable(d, n.TownDuty)
	}
	d.gap(5)

	d.heading("三、网格划分及网格长", 13, left)
	d.gap(1)
	rows = rows[:0]
	for _, g := range n.Grid {
		rows = append(rows, []string{g.Group, g.GridLeader, g.Phone})
	}
	d.table("", []column{{"村民小组（网格）", 5, left}, {"网格长", 3, left}, {"联系电话", 4, left}}, rows, 10)
	d.gap(5)

	d.heading("四、如何反映问题", 13, left)
	d.gap(1)
	steps := n.ReportSteps
	if len(steps) == 0 {
		steps = defaultReportSteps
	}
	qr := 0.0
	if n.Token != "" {
		qr = 32 * d.scale
	}
	for i, s := range steps {
		d.para(fmt.Sprintf("%d. %s", i+1, s), 11, 0)
	}
	d.gap(2)
	d.lines("值班电话："+or(n.DutyPhone, blank), 16, left)
	if qr > 0 {
		d.ensure(qr + 6)
		y := d.y + 2
		if err := d.qr(n.Token, d.ml, y, qr); err != nil {
			return err
		}
		d.setSize(9)
		d.textAt(d.ml+qr+3, y+qr/2-d.lineH()/2, d.contentW()-qr-3, "扫码反映问题、查询办理进度", left)
		d.y = y + qr
	}
	return nil
}

// hasStaff reports whether anyone is on duty on any of the days.
func hasStaff(days []DutyDay) bool {
	for _, d := range days {
		if len(d.Staff) > 0 {
			return true
		}
	}
	return false
}

// rosterTable prints a roster; more than ten days go in two halves side by
// side, so a month takes half the height.
func rosterTable(d *doc, days []DutyDay) {
	sameMonth := len(days) > 0
	for _, day := range days {
		sameMonth = sameMonth && day.Date.Year() == days[0].Date.Year() && day.Date.Month() == days[0].Date.Month()
	}
	row := func(day DutyDay) []string {
		var who []string
		for _, s := range day.Staff {
			who = append(who, strings.TrimSpace(s.Name+" "+s.Phone))
		}
		date := dateCN(day.Date)
		if sameMonth {
			date = fmt.Sprintf("%d月%d日", int(day.Date.Month()), day.Date.Day())
		}
		return []string{date, weekdayCN(day.Date), strings.Join(who, "\n")}
	}
	cols := []column{{"日期", 2.4, left}, {"星期", 1.6, center}, {"值班人员及电话", 5.5, left}}
	if len(days) <= 10 {
		rows := make([][]string, len(days))
		for i, day := range days {
			rows[i] = row(day)
		}
		d.table("", cols, rows, 10)
		return
	}
	half := (len(days) + 1) / 2
	rows := make([][]string, half)
	for i := range rows {
		r := row(days[i])
		if i+half < len(days) {
			r = append(r, row(days[i+half])...)
		}
		rows[i] = r
	}
	d.table("", append(cols, cols...), rows, 9.5)
}
