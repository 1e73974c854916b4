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

// The notice board is one sheet on the wall: its type shrinks, down to
// tables at 8 pt on A4 and at A4's full size on A3, until it fits one
// sheet of its paper. Only what cannot fit so goes on further sheets, under
// the title marked （续）: whole sections where that takes no more sheets,
// else a table continues with its header row repeated, never leaving one
// row alone.
const (
	noticeMinA4 = 0.8  // type scale: 10 pt table text at 8 pt
	noticeA3    = 1.41 // A3 is A4 enlarged
)

func (n *Notice) draw(d *doc) error {
	title := or(n.Title, n.Village+"便民服务公开栏")
	d.setTitle(title)
	p, top, low := pageA4, 1.0, noticeMinA4
	if n.A3 {
		p, top, low = pageA3, noticeA3, 1.0
		d.ml, d.mr, d.mt, d.mb = 20, 20, 20, 20
	}
	// The fewest sheets; for those the largest type (sheets never grow as
	// the type shrinks: search the steps of 2.5 %); then whole sections.
	step := func(k int) float64 { return top * (1 - 0.025*float64(k)) }
	last := int((1-low/top)/0.025 + 0.001)
	sheets := func(k int) (int, bool, error) {
		best, whole := 0, false
		for _, keep := range []bool{true, false} {
			s := d.scratch()
			if err := n.flow(s, title, p, step(k), keep, 0); err != nil {
				return 0, false, err
			}
			if n := s.pages(); best == 0 || n < best {
				best, whole = n, keep
			}
		}
		return best, whole, nil
	}
	fewest, whole, err := sheets(0)
	if err != nil {
		return err
	}
	if fewest == 1 {
		return n.flow(d, title, p, step(0), whole, 1)
	}
	if fewest, whole, err = sheets(last); err != nil {
		return err
	}
	lo, hi := 0, last // sheets(lo) > fewest, sheets(hi) == fewest
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		m, keep, err := sheets(mid)
		if err != nil {
			return err
		}
		if m == fewest {
			hi, whole = mid, keep
		} else {
			lo = mid
		}
	}
	return n.flow(d, title, p, step(hi), whole, fewest)
}

// flow draws the notice at the given type scale, keeping sections whole
// on a sheet when keep is set; sheets is the number of sheets it takes,
// for the page numbers (0 when not yet known).
func (n *Notice) flow(d *doc, title string, p paper, scale float64, keep bool, sheets int) error {
	d.scale = scale
	d.header = func(d *doc) {
		if d.pageNo() > 1 {
			d.setSize(13)
			d.textAt(d.ml, d.y, d.contentW(), title+"（续）", center)
			d.y += d.lineH() + 2*d.scale
		}
		if sheets > 1 {
			saved := d.size
			d.setSize(8)
			d.textAt(d.ml, d.ph-d.mb+3, d.contentW(), fmt.Sprintf("第 %d 页，共 %d 页", d.pageNo(), sheets), center)
			d.setSize(saved)
		}
	}
	d.addPage(p, false)
	d.heading(title, 20, center)
	if !n.Updated.IsZero() {
		d.lines("更新日期："+dateCN(n.Updated), 9, right)
	}
	d.gap(3)
	for i, section := range []func(d *doc) error{n.services, n.roster, n.grid, n.report} {
		if i > 0 {
			d.gap(5)
		}
		if keep {
			// A section that fits on a sheet goes whole to the next sheet
			// when this one is full.
			h, err := d.measureDraw(section)
			if err != nil {
				return err
			}
			if d.y+h > d.bottom()+0.01 && d.y > d.mt+20*d.scale {
				d.samePage()
			}
		}
		if err := section(d); err != nil {
			return err
		}
	}
	return nil
}

func (n *Notice) services(d *doc) error {
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
	return nil
}

func (n *Notice) roster(d *doc) error {
	d.heading("二、"+or(n.Roster.Title, "值班表"), 13, left)
	d.gap(1)
	town := hasStaff(n.TownDuty) && len(n.TownDuty) == len(n.Roster.Days)
	if town && len(n.Roster.Days) <= 10 {
		// A week: the town's duty in a column of its own.
		rosterTable(d, n.Roster.Days, n.TownDuty)
		return nil
	}
	rosterTable(d, n.Roster.Days, nil)
	if hasStaff(n.TownDuty) {
		d.gap(2)
		d.heading("乡镇值班", 11, left)
		d.gap(1)
		rosterTable(d, n.TownDuty, nil)
	}
	return nil
}

func (n *Notice) grid(d *doc) error {
	d.heading("三、网格划分及网格长", 13, left)
	d.gap(1)
	rows := make([][]string, 0, len(n.Grid))
	for _, g := range n.Grid {
		rows = append(rows, []string{g.Group, g.GridLeader, g.Phone})
	}
	cols := []column{{"村民小组（网格）", 5, left}, {"网格长", 3, left}, {"联系电话", 4, left}}
	if len(rows) > 6 {
		cols, rows = halves(cols, rows)
	}
	d.table("", cols, rows, 10)
	return nil
}

// report is how to report a problem, with the QR code beside the steps.
func (n *Notice) report(d *doc) error {
	d.heading("四、如何反映问题", 13, left)
	d.gap(1)
	steps := n.ReportSteps
	if len(steps) == 0 {
		steps = defaultReportSteps
	}
	qr, caption := 0.0, 0.0
	if n.Token != "" {
		qr = 32 * d.scale
		d.setSize(9)
		caption = 2 * d.lineH()
		d.ensure(qr + caption)
	}
	top, mr := d.y, d.mr
	if qr > 0 {
		x := d.pw - d.mr - qr
		if err := d.qr(n.Token, x, top, qr); err != nil {
			return err
		}
		d.box(x-6, top+qr, qr+6, caption, "扫码反映问题、查询办理进度", 9, 6, center)
		d.mr += qr + 6
	}
	for i, s := range steps {
		d.para(fmt.Sprintf("%d. %s", i+1, s), 11, 0)
	}
	d.gap(2)
	d.lines("值班电话："+or(n.DutyPhone, blank), 16, left)
	d.mr = mr
	d.y = maxf(d.y, top+qr+caption)
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

// halves puts the rows of a long narrow table in two halves side by side,
// the first half on the left, so it takes half the height.
func halves(cols []column, rows [][]string) ([]column, [][]string) {
	half := (len(rows) + 1) / 2
	out := make([][]string, half)
	for i := range out {
		r := append([]string(nil), rows[i]...)
		if i+half < len(rows) {
			r = append(r, rows[i+half]...)
		}
		out[i] = r
	}
	return append(append([]column(nil), cols...), cols...), out
}

// rosterTable prints a roster, with the town's duty on the same days in a
// column of its own when town is given; more than ten days go in two halves
// side by side, so a month takes half the height.
func rosterTable(d *doc, days, town []DutyDay) {
	sameMonth := len(days) > 0
	for _, day := range days {
		sameMonth = sameMonth && day.Date.Year() == days[0].Date.Year() && day.Date.Month() == days[0].Date.Month()
	}
	cols := []column{{"日期", 2.4, left}, {"星期", 1.6, center}, {"值班人员及电话", 5.5, left}}
	if town != nil {
		cols = []column{{"日期", 2.2, left}, {"星期", 1.6, center}, {"村值班人员及电话", 5.5, left}, {"乡镇值班", 3.5, left}}
	}
	total := 0.0
	for _, c := range cols {
		total += c.weight
	}
	pt, split := 10.0, len(days) > 10
	if split {
		pt, total = 9.5, 2*total
	}
	// The people of a day share a line where it is wide enough, each name
	// with its phone; else one a line.
	who := func(staff []DutyStaff, weight float64) string {
		var names []string
		for _, s := range staff {
			names = append(names, strings.TrimSpace(s.Name+" "+s.Phone))
		}
		saved := d.size
		defer d.setSize(saved)
		d.setSize(pt)
		if d.width(Printable(strings.Join(names, "　"))) <= d.contentW()*weight/total-2*1.2 {
			return strings.Join(names, "　")
		}
		return strings.Join(names, "\n")
	}
	rows := make([][]string, len(days))
	for i, day := range days {
		date := dateCN(day.Date)
		if sameMonth {
			date = fmt.Sprintf("%d月%d日", int(day.Date.Month()), day.Date.Day())
		}
		rows[i] = []string{date, weekdayCN(day.Date), who(day.Staff, 5.5)}
		if town != nil {
			rows[i] = append(rows[i], who(town[i].Staff, 3.5))
		}
	}
	if split {
		cols, rows = halves(cols, rows)
	}
	d.table("", cols, rows, pt)
}
