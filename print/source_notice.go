package print

import (
	"context"
	"fmt"
	"time"

	"gridbox/appliance"
)

func init() {
	addSource(source{
		doc: appliance.PrintDoc{Kind: "notice", Title: "便民服务公开栏", Fields: []string{"span", "from", "paper"}, Papers: []string{"a4", "a3"}, Perm: appliance.PermPrint},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			from, err := s.date("from", req.From)
			if err != nil {
				return nil, err
			}
			var days []time.Time
			title := ""
			switch req.Span {
			case "", "week":
				mon := from.AddDate(0, 0, -((int(from.Weekday()) + 6) % 7))
				for i := 0; i < 7; i++ {
					days = append(days, mon.AddDate(0, 0, i))
				}
				title = fmt.Sprintf("%s至%s值班表", mon.Format("1月2日"), mon.AddDate(0, 0, 6).Format("1月2日"))
			case "month":
				first := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, s.loc)
				for d := first; d.Month() == first.Month(); d = d.AddDate(0, 0, 1) {
					days = append(days, d)
				}
				title = first.Format("2006年1月值班表")
			default:
				return nil, appliance.FieldError("span", "请选择按周或按月")
			}
			dutyDays := func(grid string) ([]DutyDay, error) {
				shifts, err := s.store.FindDuty(grid, days[0].Format("2006-01-02"), days[len(days)-1].Format("2006-01-02"))
				if err != nil {
					return nil, err
				}
				var out []DutyDay
				for _, d := range days {
					day := DutyDay{Date: d}
					for _, sh := range shifts {
						if sh.Date == d.Format("2006-01-02") {
							day.Staff = append(day.Staff, DutyStaff{Name: sh.Name, Phone: sh.Phone})
						}
					}
					out = append(out, day)
				}
				return out, nil
			}
			roster := Roster{Title: title}
			if roster.Days, err = dutyDays(s.cfg.Node.Code); err != nil {
				return nil, err
			}
			var townDuty []DutyDay
			if s.cfg.Node.Role == appliance.NodeVillage {
				// The town's roster, as its downward feed brought it.
				if townDuty, err = dutyDays(appliance.TownOf(s.cfg.Node.Code)); err != nil {
					return nil, err
				}
			}
			grid, err := s.gridRows()
			if err != nil {
				return nil, err
			}
			if req.Paper != "" && req.Paper != "a4" && req.Paper != "a3" {
				return nil, appliance.FieldError("paper", "公开栏只能用 A4 或 A3 纸")
			}
			return &Notice{
				Village:   s.cfg.Node.Name,
				Services:  s.services(),
				Roster:    roster,
				TownDuty:  townDuty,
				Grid:      grid,
				DutyPhone: s.cfg.DutyPhone,
				Updated:   time.Now().In(s.loc),
				A3:        req.Paper == "a3",
				Token:     s.reportURL(),
			}, nil
		},
	})
	addSource(source{
		doc: appliance.PrintDoc{Kind: "letter_blank", Title: "致村民的一封信（空白户名）", Fields: []string{"grid"}, Perm: appliance.PermPrint},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			l := &Letter{Village: s.cfg.Node.Name, DutyPhone: s.cfg.DutyPhone, Date: time.Now().In(s.loc),
				Signature: s.cfg.Node.Name + "党支部　" + s.cfg.Node.Name + "村民委员会"}
			if req.Grid != "" {
				g, err := s.store.Grid(req.Grid)
				if err != nil {
					return nil, appliance.FieldError("grid", "没有这个网格")
				}
				leader, err := s.leaderOf(g.Code)
				if err != nil {
					return nil, err
				}
				l.Households = []LetterHousehold{{Group: g.Name, GridLeader: leader.Name, LeaderPhone: leader.Phone}}
			}
			return l, nil
		},
	})
}

// reportURL is the QR code of the notice board: the box's report page,
// where phones reach the box; none otherwise (the kiosk stands by the
// board, and a town's address reports to the town).
func (s *PrintService) reportURL() string {
	if s.cfg.Print.PublicURL == "" {
		return ""
	}
	return s.cfg.Print.PublicURL + "/report"
}
