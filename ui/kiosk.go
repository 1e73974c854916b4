package ui

import (
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// kioskEntries are the five entry points of the kiosk home.
var kioskEntries = []struct{ Href, Label, Hint, Icon string }{
	{"/report", "我要反映问题", "有困难、有问题，在这里说", "report"},
	{"/track", "查询办理进度", "凭回执编号查看办到哪一步", "track"},
	{"/duty", "值班信息", "今天谁值班、网格长电话", "duty"},
	{"/services", "服务事项", "办事要带什么、到哪里办", "services"},
	{"/notices", "通知公告", "村里的通知和公开信息", "notices"},
}

func (s *Server) showKioskHome(c *fiber.Ctx) error {
	s.setKioskMode(c) // ui/kiosk_mode.go
	if c.Query("reset") == "1" {
		// The idle reset: the next villager starts with normal text.
		s.clearCookie(c, cookieLarge)
		c.Request().Header.DelCookie(cookieLarge)
	}
	today := s.today()
	duty, err := s.Store.FindDuty(s.Config.Node.Code, today, today)
	if err != nil {
		return err
	}
	townDuty, err := s.townDuty(today, today)
	if err != nil {
		return err
	}
	notices, err := s.Store.FindNotices(s.noticeGrids()...)
	if err != nil {
		return err
	}
	if len(notices) > 3 {
		notices = notices[:3]
	}
	return s.render(c, "kiosk_home", fiber.Map{
		"Title":    s.Config.Node.Name + "便民服务",
		"Entries":  kioskEntries,
		"Duty":     duty,
		"TownDuty": townDuty,
		"Notices":  notices,
		"Own":      s.Config.Node.Code,
		"Idle":     c.Query("idle") == "1",
	})
}

// townCode is the code of the town above a village node, "" on other nodes.
func (s *Server) townCode() string {
	if s.Config.Node.Role != appliance.NodeVillage {
		return ""
	}
	return appliance.TownOf(s.Config.Node.Code)
}

// noticeGrids are the grids whose notices this node shows: its own and the
// town above a village (whose notices for the village arrive as copies on
// the town's downward feed).
func (s *Server) noticeGrids() []string {
	grids := []string{s.Config.Node.Code}
	if t := s.townCode(); t != "" {
		grids = append(grids, t)
	}
	return grids
}

// townDuty returns, on a village node, its town's duty shifts from one day
// to another (they arrive on the town's downward feed); nil elsewhere.
func (s *Server) townDuty(from, to string) ([]appliance.DutyShift, error) {
	t := s.townCode()
	if t == "" {
		return nil, nil
	}
	return s.Store.FindDuty(t, from, to)
}

// weekDays returns the dates Monday..Sunday of the week holding t.
func weekDays(t time.Time) []string {
	off := (int(t.Weekday()) + 6) % 7
	mon := t.AddDate(0, 0, -off)
	out := make([]string, 7)
	for i := range out {
		out[i] = mon.AddDate(0, 0, i).Format("2006-01-02")
	}
	return out
}

type dayDuty struct {
	Date   string
	Today  bool
	Shifts []appliance.DutyShift
}

// gridRow is a line of the grid table: group → grid leader → phone.
type gridRow struct {
	Grid    appliance.Grid
	Leaders []appliance.StaffMember
}

func (s *Server) gridTable() ([]gridRow, error) {
	code := s.Config.Node.Code
	groups, err := s.Store.FindGrids(appliance.GridFilter{Parent: &code})
	if err != nil {
		return nil, err
	}
	staff, err := s.nodeStaff()
	if err != nil {
		return nil, err
	}
	var rows []gridRow
	for _, g := range groups {
		row := gridRow{Grid: g}
		for _, m := range staff {
			if m.Grid == g.Code && m.Duty == appliance.DutyGridLeader {
				row.Leaders = append(row.Leaders, m)
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// rosterWeek puts shifts on the days of a week (only days with shifts
// when sparse is set).
func rosterWeek(days []string, today string, shifts []appliance.DutyShift, sparse bool) []dayDuty {
	var week []dayDuty
	for _, d := range days {
		dd := dayDuty{Date: d, Today: d == today}
		for _, sh := range shifts {
			if sh.Date == d {
				dd.Shifts = append(dd.Shifts, sh)
			}
		}
		if !sparse || len(dd.Shifts) > 0 {
			week = append(week, dd)
		}
	}
	return week
}

func (s *Server) showDuty(c *fiber.Ctx) error {
	now := s.now()
	days := weekDays(now)
	shifts, err := s.Store.FindDuty(s.Config.Node.Code, days[0], days[6])
	if err != nil {
		return err
	}
	week := rosterWeek(days, now.Format("2006-01-02"), shifts, false)
	townShifts, err := s.townDuty(days[0], days[6])
	if err != nil {
		return err
	}
	rows, err := s.gridTable()
	if err != nil {
		return err
	}
	code := s.Config.Node.Code
	first, err := s.Store.FindStaff(appliance.StaffFilter{Grid: &code, Duty: ptr(appliance.DutyFirstResponsible)})
	if err != nil {
		return err
	}
	var leads []appliance.StaffMember
	for _, m := range first {
		if m.Grid == code {
			leads = append(leads, m)
		}
	}
	return s.render(c, "kiosk_duty", fiber.Map{"Title": "值班信息", "Week": week, "Grids": rows, "Leads": leads, "DutyRoom": s.Config.DutyRoom,
		"TownWeek": rosterWeek(days, now.Format("2006-01-02"), townShifts, true)})
}

func ptr[T any](v T) *T { return &v }

// nodeStaff returns the people of this node's grid and the grids below it.
func (s *Server) nodeStaff() ([]appliance.StaffMember, error) {
	return s.Store.FindStaff(appliance.StaffFilter{Grid: ptr(s.Config.Node.Code)})
}

func (s *Server) showServices(c *fiber.Ctx) error {
	return s.render(c, "kiosk_services", fiber.Map{"Title": "服务事项", "Services": s.Config.Services, "DutyRoom": s.Config.DutyRoom})
}

func (s *Server) showNotices(c *fiber.Ctx) error {
	notices, err := s.Store.FindNotices(s.noticeGrids()...)
	if err != nil {
		return err
	}
	return s.render(c, "kiosk_notices", fiber.Map{"Title": "通知公告", "Notices": notices, "Own": s.Config.Node.Code})
}

func (s *Server) showNotice(c *fiber.Ctx) error {
	// The kiosk shows this node's notices and its town's. Ids are per
	// issuing grid: links to the town's carry ?grid=; without it the
	// first grid holding the id wins.
	grids := s.noticeGrids()
	if g := c.Query("grid"); g != "" && slices.Contains(grids, g) {
		grids = []string{g}
	}
	for _, g := range grids {
		n, err := s.Store.Notice(g, c.Params("id"))
		if appliance.ErrorCode(err) == appliance.ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		return s.render(c, "kiosk_notice", fiber.Map{"Title": n.Title, "Notice": n, "Own": s.Config.Node.Code})
	}
	return appliance.Errorf(appliance.ENOTFOUND, "公告不存在或已撤回")
}
