package print

import (
	"time"
)

func init() {
	register(Kind{Name: "diary", Title: "民情日记", New: func() Document { return &Diary{} }})
}

// DiaryEntry is one visit or patrol in a grid worker's diary.
type DiaryEntry struct {
	Date      time.Time `json:"date,omitempty"`
	Kind      string    `json:"kind,omitempty"`      // e.g. "走访", "巡查"
	Household string    `json:"household,omitempty"` // whom or where, e.g. "刘建国户" or "西岭水渠"
	Content   string    `json:"content,omitempty"`   // what was seen and heard (民情)
	Problems  string    `json:"problems,omitempty"`  // problems found
	Handling  string    `json:"handling,omitempty"`  // what was done about them
}

// Diary is a grid worker's visit diary (民情日记) for a period, as A5 pages.
type Diary struct {
	Worker  string       `json:"worker,omitempty"`
	Village string       `json:"village,omitempty"`
	Group   string       `json:"group,omitempty"`
	From    time.Time    `json:"from,omitempty"`
	To      time.Time    `json:"to,omitempty"`
	Entries []DiaryEntry `json:"entries,omitempty"`
	// Booklet imposes the A5 pages two per A4 landscape sheet in folding
	// order: print on both sides flipping on the short edge, fold, staple.
	Booklet bool `json:"booklet,omitempty"`
}

func (*Diary) Kind() string { return "diary" }

func period(from, to time.Time) string {
	switch {
	case from.IsZero() && to.IsZero():
		return ""
	case to.IsZero() || from.Equal(to):
		return dateCN(from)
	default:
		return dateCN(from) + "至" + dateCN(to)
	}
}

func (di *Diary) draw(d *doc) error {
	d.setTitle("民情日记")
	if di.Booklet {
		return d.imposeBooklet(di.pages)
	}
	return di.pages(d)
}

func (di *Diary) pages(d *doc) error {
	d.ml, d.mr, d.mt, d.mb = 14, 14, 14, 14
	d.header = nil

	// Cover.
	d.addPage(pageA5, false)
	d.y = 50
	d.heading("民情日记", 28, center)
	d.gap(20)
	for _, l := range [][2]string{
		{"网格员", di.Worker},
		{"所在村", di.Village},
		{"负责网格", di.Group},
		{"记录期间", period(di.From, di.To)},
	} {
		d.lines(l[0]+"："+or(l[1], blank), 12, center)
		d.gap(3)
	}

	d.header = func(d *doc) {
		d.setSize(8)
		d.pdf.SetTextColor(100, 100, 100)
		d.textAt(d.ml, d.mt-8, d.contentW(), "民情日记　"+di.Worker, left)
		d.pdf.SetTextColor(0, 0, 0)
		d.hline(d.ml, d.pw-d.mr, d.mt-2.5, 0.2)
		d.pageNumber()
	}
	d.addPage(pageA5, false)
	if len(di.Entries) == 0 {
		d.para("本期无记录。", 10.5, 0)
	}
	for i, e := range di.Entries {
		if i > 0 {
			d.gap(2)
			if !d.ensure(12) { // no separator at the top of a page
				d.pdf.SetDashPattern([]float64{1, 1}, 0)
				d.hline(d.ml, d.pw-d.mr, d.y, 0.2)
				d.pdf.SetDashPattern(nil, 0)
				d.gap(2)
			}
		}
		head := dateCN(e.Date)
		if !e.Date.IsZero() {
			head += "　" + weekdayCN(e.Date)
		}
		d.heading(head+"　"+e.Kind+"　"+e.Household, 11, left)
		d.gap(1)
		for _, f := range [][2]string{{"民情", e.Content}, {"问题", e.Problems}, {"处理", e.Handling}} {
			if f[1] != "" {
				d.para(f[0]+"："+f[1], 10.5, 0)
			}
		}
	}
	return nil
}
