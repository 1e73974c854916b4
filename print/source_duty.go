package print

import (
	"context"
	"fmt"
	"time"

	"gridbox/appliance"
)

func init() {
	addSource(source{
		doc: appliance.PrintDoc{Kind: "duty_roster", Title: "月值班表", Fields: []string{"from"}, Perm: appliance.PermPrint},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			from, err := s.date("from", req.From)
			if err != nil {
				return nil, err
			}
			first := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, s.loc)
			last := first.AddDate(0, 1, -1)
			shifts, err := s.store.FindDuty(s.cfg.Node.Code, first.Format("2006-01-02"), last.Format("2006-01-02"))
			if err != nil {
				return nil, err
			}
			r := &DutyRoster{Village: s.cfg.Node.Name, Month: first, DutyPhone: s.cfg.DutyPhone, DutyRoom: s.cfg.DutyRoom, Made: time.Now().In(s.loc)}
			for day := first; !day.After(last); day = day.AddDate(0, 0, 1) {
				dd := DutyDay{Date: day}
				for _, sh := range shifts {
					if sh.Date == day.Format("2006-01-02") {
						dd.Staff = append(dd.Staff, DutyStaff{Name: sh.Name, Phone: sh.Phone})
					}
				}
				r.Days = append(r.Days, dd)
			}
			if n := s.cfg.Duty.LeaderDay; n > 0 {
				r.Notes = append(r.Notes, fmt.Sprintf("每月%d日为群众工作队队长值班日。", n))
			}
			return r, nil
		},
	})
	addSource(source{
		doc: appliance.PrintDoc{Kind: "duty_log", Title: "值班记录（当日）", Fields: []string{"from"}, Perm: appliance.PermPrint},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			day, err := s.date("from", req.From)
			if err != nil {
				return nil, err
			}
			date := day.Format("2006-01-02")
			days, err := s.store.DutyDays(s.cfg.Node.Code, []string{date})
			if err != nil {
				return nil, err
			}
			shifts, err := s.store.FindDuty(s.cfg.Node.Code, date, date)
			if err != nil {
				return nil, err
			}
			sheet := &DutyLogSheet{Village: s.cfg.Node.Name, Date: day}
			for _, sh := range shifts {
				sheet.OnDuty = append(sheet.OnDuty, sh.Name)
			}
			for _, l := range days[0].Lines {
				if l.Kind == appliance.LogHandover || l.Kind == appliance.LogRead {
					continue // printed below the table
				}
				sheet.Lines = append(sheet.Lines, DutyLogLine{At: l.At, Kind: appliance.DutyLogLabels[l.Kind], Name: l.Name, Text: l.Text, Case: l.Case})
			}
			if note, _, ok := days[0].Handover(); ok {
				sheet.Handover = note.Text
				// The next person may confirm it on a later day.
				if last, by, err := s.store.PendingHandover(s.cfg.Node.Code, date); err == nil && last.ID == note.ID {
					sheet.ReadBy = by
				}
			}
			return sheet, nil
		},
	})
	addSource(source{
		doc: appliance.PrintDoc{Kind: "duty_log_blank", Title: "值班记录（空白）", Perm: appliance.PermPrint},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			return &DutyLogSheet{Village: s.cfg.Node.Name}, nil
		},
	})
}
