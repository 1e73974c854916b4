package print

import (
	"context"
	"fmt"
	"time"

	"gridbox/appliance"
)

// The printed notice of an assessment period (考核结果公示): the grids'
// ranking, never a person's, with the period, where and by when to object.
func init() {
	register(Kind{Name: "assess_notice", Title: "考核结果公示", New: func() Document { return &AssessNotice{} }})
	addSource(source{
		doc: appliance.PrintDoc{Kind: "assess_notice", Title: "考核结果公示", Fields: []string{"record"}, Perm: appliance.PermPrint},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			return s.assessNotice(req.Record)
		},
	})
}

// objectDays is how long the notice stays up for objections.
const objectDays = 5

// AssessNotice is the notice for the wall.
type AssessNotice struct {
	Holder    string               `json:"holder,omitempty"` // the village or town publishing it
	Period    string               `json:"period,omitempty"` // e.g. 2026年第49周（…）
	Of        string               `json:"of,omitempty"`     // 村民组 or 村
	Rows      []appliance.BoardRow `json:"rows,omitempty"`
	Published time.Time            `json:"published,omitempty"`
	Deadline  time.Time            `json:"deadline,omitempty"` // objections until this day
	Place     string               `json:"place,omitempty"`    // where to object
	Phone     string               `json:"phone,omitempty"`
}

func (*AssessNotice) Kind() string { return "assess_notice" }

func (n *AssessNotice) draw(d *doc) error {
	d.header = func(d *doc) { d.pageNumber() }
	d.addPage(pageA4, false)
	title := n.Holder + "考核结果公示"
	d.setTitle(title)
	d.heading(title, 20, center)
	d.lines(n.Period, 12, center)
	d.gap(4)
	d.para(fmt.Sprintf("根据百分制考核规则，现将%s各%s考核结果公示如下（每个%s从100分起，按规则核加、核减）：", n.Period, n.Of, n.Of), 11, 0)
	d.gap(2)
	var rows [][]string
	for _, r := range n.Rows {
		rows = append(rows, []string{fmt.Sprint(r.Rank), r.Name, r.Total, "+" + r.Added, "-" + r.Deducted})
	}
	if len(rows) == 0 {
		rows = append(rows, []string{"", "（本期无考核对象）", "", "", ""})
	}
	d.table("", []column{{"名次", 1, center}, {n.Of, 4, left}, {"得分", 1.5, center}, {"核加", 1.5, center}, {"核减", 1.5, center}}, rows, 12)
	d.gap(4)
	d.para(fmt.Sprintf("公示期：%s至%s。对结果有异议的，请在公示期内到%s提出（电话 %s），每项结果可提出一次，处理结果另行告知。",
		dateCN(n.Published), dateCN(n.Deadline), or(n.Place, blank), or(n.Phone, blank)), 11, 0)
	d.gap(8)
	d.lines(n.Holder, 12, right)
	d.lines(dateCN(n.Published), 12, right)
	return nil
}

// assessNotice builds the notice of a period that has ended (record: its
// id such as 2026-W49; empty: last week).
func (s *PrintService) assessNotice(period string) (Document, error) {
	now := time.Now().In(s.loc)
	today := now.Format(time.DateOnly)
	var p appliance.Period
	var err error
	if period == "" {
		p, err = appliance.PeriodOf(appliance.PeriodWeek, now.AddDate(0, 0, -7).Format(time.DateOnly))
	} else if p, err = appliance.ParsePeriod(period); err != nil {
		return nil, appliance.FieldError("record", "考核周期格式应为 2026-W45、2026-11、2026-Q4 或 2026")
	}
	if err != nil {
		return nil, err
	}
	role := s.cfg.Node.Role
	if role != appliance.NodeVillage && role != appliance.NodeTown {
		return nil, appliance.Errorf(appliance.EFORBIDDEN, "考核结果由村或乡镇公示")
	}
	scores, err := s.store.Scores(s.cfg.Node.Code, p, today)
	if err != nil {
		return nil, err
	}
	rows, err := appliance.PublicBoard(scores, role, p, today)
	if err != nil {
		return nil, appliance.FieldError("record", "%s", appliance.ErrorMessage(err))
	}
	of := "村民组"
	if role == appliance.NodeTown {
		of = "村"
	}
	return &AssessNotice{Holder: s.cfg.Node.Name, Period: p.Label(), Of: of, Rows: rows, Published: now, Deadline: now.AddDate(0, 0, objectDays),
		Place: s.cfg.DutyRoom, Phone: s.cfg.DutyPhone}, nil
}
