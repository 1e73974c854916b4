package print

import (
	"fmt"
	"time"
)

func init() {
	register(Kind{Name: "register", Title: "网格化管理台账", New: func() Document { return &Register{} }})
}

// RegisterSpan is the period a register covers.
type RegisterSpan int

const (
	RegisterDay RegisterSpan = iota
	RegisterWeek
	RegisterMonth
)

// RegisterRow is one case in the register.
type RegisterRow struct {
	Date     time.Time `json:"date,omitempty"`
	Code     string    `json:"code,omitempty"`   // receipt code
	Source   string    `json:"source,omitempty"` // e.g. "走访巡查", "来电"
	Category string    `json:"category,omitempty"`
	Group    string    `json:"group,omitempty"`
	Summary  string    `json:"summary,omitempty"`
	Handler  string    `json:"handler,omitempty"`
	Status   string    `json:"status,omitempty"` // e.g. "已办结", "办理中", "已上报"
	Result   string    `json:"result,omitempty"`
}

// Register is the register (台账) of a day, week or month: an A4 landscape
// table that continues over as many pages as it needs.
type Register struct {
	Village string        `json:"village,omitempty"`
	Span    RegisterSpan  `json:"span,omitempty"`
	From    time.Time     `json:"from,omitempty"` // first day of the period
	To      time.Time     `json:"to,omitempty"`   // last day; for a month or week derived from From when zero
	Rows    []RegisterRow `json:"rows,omitempty"`
	Closed  time.Time     `json:"closed,omitempty"`  // when the register was closed (its last day's closing), if every day was
	Open    []time.Time   `json:"open,omitempty"`    // days of the period not closed yet
	Changed []time.Time   `json:"changed,omitempty"` // closed days whose data changed after closing
}

func (*Register) Kind() string { return "register" }

func (r *Register) label() (name, when string) {
	switch r.Span {
	case RegisterWeek:
		to := r.To
		if to.IsZero() && !r.From.IsZero() {
			to = r.From.AddDate(0, 0, 6)
		}
		return "周台账", period(r.From, to)
	case RegisterMonth:
		if r.From.IsZero() {
			return "月台账", ""
		}
		return "月台账", fmt.Sprintf("%d年%d月", r.From.Year(), int(r.From.Month()))
	default:
		return "日台账", dateCN(r.From)
	}
}

func (r *Register) draw(d *doc) error {
	name, when := r.label()
	title := r.Village + "网格化管理" + name
	d.setTitle(title)
	d.ml, d.mr, d.mt, d.mb = 12, 12, 12, 14
	d.header = func(d *doc) { d.pageNumber() }
	d.addPage(pageA4, true)
	d.heading(title, 16, center)
	if when != "" {
		d.lines("（"+when+"）", 10, center)
	}
	changed := ""
	if len(r.Changed) > 0 {
		// At the top, so no reader of a long register misses it.
		changed = "注意：" + daysCN(r.Changed, r.Span == RegisterDay) + "的台账关账后数据有变动，与关账时不一致，请核查。"
		d.gap(1)
		d.lines(changed, 11, center)
	}
	d.gap(3)
	cols := []column{
		{"序号", 0.8, center}, {"日期", 1.7, left}, {"编号", 2.9, left}, {"来源", 1.4, left},
		{"类别", 1.6, left}, {"网格", 1.6, left}, {"问题摘要", 4.6, left}, {"责任人", 1.3, left},
		{"状态", 1.2, left}, {"办理结果", 4, left},
	}
	rows := make([][]string, len(r.Rows))
	count := map[string]int{}
	var order []string
	for i, x := range r.Rows {
		date := ""
		if !x.Date.IsZero() {
			date = fmt.Sprintf("%d-%02d-%02d", x.Date.Year(), int(x.Date.Month()), x.Date.Day())
		}
		rows[i] = []string{fmt.Sprint(i + 1), date, x.Code, x.Source, x.Category, x.Group, x.Summary, x.Handler, x.Status, x.Result}
		if _, seen := count[x.Status]; !seen {
			order = append(order, x.Status)
		}
		count[x.Status]++
	}
	d.table("", cols, rows, 9)
	d.gap(4)
	sum := fmt.Sprintf("合计 %d 件", len(r.Rows))
	for _, s := range order {
		sum += fmt.Sprintf("，%s %d 件", or(s, "未填状态"), count[s])
	}
	d.para(sum+"。", 10, 0)
	switch {
	case !r.Closed.IsZero():
		d.para(fmt.Sprintf("本台账于%s %02d:%02d 关账。", dateCN(r.Closed), r.Closed.Hour(), r.Closed.Minute()), 10, 0)
	case r.Span == RegisterDay || len(r.Open) == 0:
		d.para("本台账尚未关账。", 10, 0)
	default:
		d.para("尚未关账："+daysCN(r.Open, false)+"。", 10, 0)
	}
	if changed != "" {
		d.para(changed, 10, 0)
	}
	d.gap(6)
	d.lines("填表人：______________　　　审核人：______________　　　日期：______________", 10, right)
	return nil
}

// daysCN lists days as 11月3日、11月5日; one day alone, with whole, as a
// full date.
func daysCN(days []time.Time, whole bool) string {
	if len(days) == 1 && whole {
		return dateCN(days[0])
	}
	out := ""
	for i, t := range days {
		if i > 0 {
			out += "、"
		}
		out += fmt.Sprintf("%d月%d日", int(t.Month()), t.Day())
	}
	return out
}
