package print

import (
	"context"
	"strings"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// Documents made from the case register: a case's receipt (问题受理回执) and
// the register (台账) of a day, week or month; and a grid worker's visit
// diary (民情日记).

func init() {
	addSource(source{
		doc: appliance.PrintDoc{Kind: "receipt", Title: "问题受理回执", Fields: []string{"case", "paper"}, Papers: []string{"roll", "a5"}, Perm: appliance.PermRegisterCase},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			return s.receipt(req.Case, req.Paper)
		},
	})
	addSource(source{
		doc: appliance.PrintDoc{Kind: "register", Title: "网格化管理台账", Fields: []string{"span", "from"}, Perm: appliance.PermHandleCase},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			span := req.Span
			if span == "" {
				span = "day"
			}
			kinds := map[string]RegisterSpan{"day": RegisterDay, "week": RegisterWeek, "month": RegisterMonth}
			rs, ok := kinds[span]
			if !ok {
				return nil, appliance.FieldError("span", "请选择当天、本周或本月")
			}
			from, err := s.date("from", req.From)
			if err != nil {
				return nil, err
			}
			cs, err := s.cases()
			if err != nil {
				return nil, err
			}
			village := s.cfg.Node.Code
			days, err := cs.RegisterPeriod(village, span, from.Format("2006-01-02"))
			if err != nil {
				return nil, err
			}
			if len(days) == 0 {
				return nil, appliance.FieldError("from", "台账日期有误")
			}
			first, last := days[0].Day, days[len(days)-1].Day
			reg := &Register{Village: s.cfg.Node.Name, Span: rs}
			reg.From, _ = time.ParseInLocation("2006-01-02", first, s.loc)
			reg.To, _ = time.ParseInLocation("2006-01-02", last, s.loc)
			reg.Closed, reg.Open, reg.Changed = closing(days, s.loc)
			groups := map[string]string{}
			for _, r := range days[0].Rows {
				groups[r.Unit] = r.Name
			}
			// One row per case reported in the period, oldest first.
			f := bolt.CaseFilter{Village: &village, Limit: 1000}
			var rows []RegisterRow
		pages:
			for {
				page, next, err := cs.FindCases(f)
				if err != nil {
					return nil, err
				}
				for _, c := range page {
					if c.ReportedDay > last {
						continue
					}
					if c.ReportedDay < first {
						break pages
					}
					rows = append(rows, RegisterRow{Date: c.Reported.In(s.loc), Code: c.ID, Source: appliance.CaseSourceLabels[c.Source],
						Category: s.categoryName(c.Category), Group: or(groups[c.Group], groups[village]), Summary: c.Description,
						Handler: handler(c), Status: appliance.CaseStatusLabels[c.Status], Result: c.Result})
				}
				if next == "" || len(page) == 0 {
					break
				}
				f.Before = next
			}
			for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
				rows[i], rows[j] = rows[j], rows[i]
			}
			reg.Rows = rows
			return reg, nil
		},
	})
	addSource(source{
		doc: appliance.PrintDoc{Kind: "diary", Title: "民情日记", Fields: []string{"staff", "from", "to", "paper"}, Papers: []string{"a5", "booklet"}, Perm: appliance.PermRecordVisit},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			if req.Staff == "" {
				return nil, appliance.FieldError("staff", "请选择网格员")
			}
			to, err := s.date("to", req.To)
			if err != nil {
				return nil, err
			}
			from := time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, s.loc)
			if req.From != "" {
				if from, err = s.date("from", req.From); err != nil {
					return nil, err
				}
			}
			if to.Before(from) {
				return nil, appliance.FieldError("to", "截止日期不能早于开始日期")
			}
			if req.Paper != "" && req.Paper != "a5" && req.Paper != "booklet" {
				return nil, appliance.FieldError("paper", "民情日记只能用 A5 或 A4 对折小册")
			}
			if m, err := s.store.Staff(req.Staff); err == nil {
				if err := inScope(req, m.Grid); err != nil {
					return nil, err
				}
			}
			d, err := s.store.VisitDiary(req.Staff, from.Format("2006-01-02"), to.Format("2006-01-02"), s.loc)
			if err != nil {
				if appliance.ErrorCode(err) == appliance.ENOTFOUND {
					return nil, appliance.FieldError("staff", "没有这个网格员")
				}
				return nil, err
			}
			out := &Diary{Worker: d.Worker, Village: or(d.Village, s.cfg.Node.Name), Group: d.Group, From: d.From, To: d.To, Booklet: req.Paper == "booklet"}
			for _, e := range d.Entries {
				out.Entries = append(out.Entries, DiaryEntry(e))
			}
			return out, nil
		},
	})
}

// closing says how a period's days were closed: when, if every day was
// (the last closing); the days not closed; the closed days whose data
// changed afterwards. All are printed on the register.
func closing(days []bolt.RegisterDay, loc *time.Location) (closed time.Time, open, changed []time.Time) {
	for _, d := range days {
		day, _ := time.ParseInLocation("2006-01-02", d.Day, loc)
		switch {
		case d.Closed == nil:
			open = append(open, day)
		case d.Mismatch:
			changed = append(changed, day)
		}
		if d.Closed != nil && d.ClosedAt.After(closed) {
			closed = d.ClosedAt
		}
	}
	if len(open) > 0 || closed.IsZero() {
		return time.Time{}, open, changed
	}
	return closed.In(loc), open, changed
}

// handler is who is responsible for a case: the person it was given to
// (Assignee holds a name as typed when it was accepted), else the
// departments it was dispatched to.
func handler(c *appliance.Case) string {
	if c.Assignee != "" {
		return c.Assignee
	}
	return strings.Join(c.Departments, "、")
}

// cases returns the node's case service (stateless but for the configuration).
func (s *PrintService) cases() (*bolt.Cases, error) {
	return bolt.NewCases(s.store, s.cfg)
}

func (s *PrintService) categoryName(key string) string {
	if c, ok := s.cfg.Category(key); ok {
		return c.Name
	}
	return key
}

// receipt is the receipt of a case by its receipt code.
func (s *PrintService) receipt(code, paper string) (*Receipt, error) {
	if code == "" {
		return nil, appliance.FieldError("case", "请填写回执编号")
	}
	r := &Receipt{Village: s.cfg.Node.Name, DutyPhone: s.cfg.DutyPhone}
	switch paper {
	case "", "roll":
	case "a5":
		r.Paper = ReceiptA5
	default:
		return nil, appliance.FieldError("paper", "回执只能用80毫米热敏纸或 A5 纸")
	}
	cs, err := s.cases()
	if err != nil {
		return nil, err
	}
	c, err := cs.Case(code)
	if err != nil {
		if appliance.ErrorCode(err) == appliance.ENOTFOUND {
			return nil, appliance.FieldError("case", "没有这个回执编号")
		}
		return nil, err
	}
	r.Code, r.Category, r.Date = c.ID, s.categoryName(c.Category), c.Reported.In(s.loc)
	qr, kioskOnly, err := s.qrCodes()
	if err != nil {
		return nil, err
	}
	r.Token, r.KioskOnly = qr(bolt.TokenCase, c.ID), kioskOnly
	// The PIN is in the reporter's sealed part; a node without it prints
	// where to ask.
	if rep, err := cs.Reporter(c.ID); err == nil {
		r.PIN = rep.PIN
	}
	if c.Due != "" && appliance.CaseOpen(c.Status) {
		r.Next = "将在" + c.Due + "前办理；办好后可凭回执编号和查询密码查看结果。"
	}
	return r, nil
}
