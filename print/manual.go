package print

import (
	"fmt"
	"strings"
	"time"
)

func init() {
	register(Kind{Name: "manual", Title: "网格员工作手册", New: func() Document { return &Manual{} }})
}

// ManualHousehold is one household a grid worker looks after.
type ManualHousehold struct {
	Group   string `json:"group,omitempty"`
	Head    string `json:"head,omitempty"` // head of household
	Address string `json:"address,omitempty"`
	Members int    `json:"members,omitempty"`
	Phone   string `json:"phone,omitempty"`
	Notes   string `json:"notes,omitempty"` // e.g. "独居老人，每周走访"
}

// Checklist is a list of things to check, printed with boxes to tick.
type Checklist struct {
	Title string   `json:"title,omitempty"`
	Items []string `json:"items,omitempty"`
}

// Manual is a grid worker's work manual (工作手册).
type Manual struct {
	Worker     string            `json:"worker,omitempty"`
	Phone      string            `json:"phone,omitempty"`
	Village    string            `json:"village,omitempty"`
	Groups     []string          `json:"groups,omitempty"`
	Year       int               `json:"year,omitempty"`
	Duties     []string          `json:"duties,omitempty"`
	DutyDays   []time.Time       `json:"duty_days,omitempty"`
	Households []ManualHousehold `json:"households,omitempty"`
	Checklists []Checklist       `json:"checklists,omitempty"`
}

func (*Manual) Kind() string { return "manual" }

func (m *Manual) draw(d *doc) error {
	d.setTitle("网格员工作手册")
	d.ml, d.mr, d.mt, d.mb = 18, 18, 18, 18

	d.addPage(pageA4, false)
	d.y = 80
	d.heading("网格员工作手册", 30, center)
	if m.Year > 0 {
		d.lines(fmt.Sprintf("（%d年度）", m.Year), 14, center)
	}
	d.gap(30)
	for _, l := range [][2]string{
		{"网格员", m.Worker},
		{"联系电话", m.Phone},
		{"所在村", m.Village},
		{"负责网格", strings.Join(m.Groups, "、")},
	} {
		d.lines(l[0]+"："+or(l[1], blank), 14, center)
		d.gap(4)
	}

	d.header = func(d *doc) { d.pageNumber() }
	d.addPage(pageA4, false)
	d.heading("一、工作职责", 14, left)
	d.gap(1)
	for i, s := range m.Duties {
		d.para(fmt.Sprintf("%d. %s", i+1, s), 11, 0)
	}
	d.gap(5)

	d.heading("二、值班日期", 14, left)
	d.gap(1)
	days := make([]string, len(m.DutyDays))
	for i, t := range m.DutyDays {
		days[i] = fmt.Sprintf("%d月%d日（%s）", int(t.Month()), t.Day(), weekdayCN(t))
	}
	d.para(or(strings.Join(days, "、"), "未排班"), 11, 0)
	d.gap(5)

	d.heading("三、联系户花名册", 14, left)
	d.gap(1)
	rows := make([][]string, len(m.Households))
	for i, h := range m.Households {
		n := ""
		if h.Members > 0 {
			n = fmt.Sprint(h.Members)
		}
		rows[i] = []string{fmt.Sprint(i + 1), h.Group, h.Head, h.Address, n, h.Phone, h.Notes}
	}
	d.table("", []column{{"序号", 0.8, center}, {"组别", 1.6, left}, {"户主", 1.5, left}, {"住址", 3, left},
		{"人口", 0.9, center}, {"电话", 2.3, left}, {"备注", 3, left}}, rows, 9.5)
	d.gap(5)

	d.heading("四、工作清单", 14, left)
	for _, c := range m.Checklists {
		d.gap(2)
		d.heading(c.Title, 12, left)
		for _, it := range c.Items {
			d.checkItem(it, 11)
		}
	}
	return nil
}

// checkItem writes an item with an empty box to tick in front of it.
func (d *doc) checkItem(s string, pt float64) {
	d.setSize(pt)
	lh := d.lineH()
	indent := lh + 1.5
	d.ensure(lh)
	box := lh * 0.62
	d.checkbox(d.ml+0.5, d.y+(lh-box)/2, box)
	d.para(s, pt, indent)
}
