package ui

import (
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
	if c.Query("kiosk") == "1" {
		s.setCookie(c, cookieKiosk, "1", 10*365*24*time.Hour, true)
	}
	today := s.today()
	duty, err := s.Store.FindDuty(s.Config.Node.Code, today, today)
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
		"Title":   s.Config.Node.Name + "便民服务",
		"Entries": kioskEntries,
		"Duty":    duty,
		"Notices": notices,
		"Idle":    c.Query("idle") == "1",
	})
}

// noticeGrids are the grids whose notices this node shows: its own and the
// town above a village.
func (s *Server) noticeGrids() []string {
	code := s.Config.Node.Code
	grids := []string{code}
	if s.Config.Node.Role == appliance.NodeVillage {
		grids = append(grids, code[:9]+"000")
	}
	return grids
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

func (s *Server) showDuty(c *fiber.Ctx) error {
	now := s.now()
	days := weekDays(now)
	shifts, err := s.Store.FindDuty(s.Config.Node.Code, days[0], days[6])
	if err != nil {
		return err
	}
	var week []dayDuty
	for _, d := range days {
		dd := dayDuty{Date: d, Today: d == now.Format("2006-01-02")}
		for _, sh := range shifts {
			if sh.Date == d {
				dd.Shifts = append(dd.Shifts, sh)
			}
		}
		week = append(week, dd)
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
	return s.render(c, "kiosk_duty", fiber.Map{"Title": "值班信息", "Week": week, "Grids": rows, "Leads": leads, "DutyRoom": s.Config.DutyRoom})
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
	return s.render(c, "kiosk_notices", fiber.Map{"Title": "通知公告", "Notices": notices})
}

func (s *Server) showNotice(c *fiber.Ctx) error {
	// The kiosk shows this node's notices and its town's: the first grid
	// holding the id wins (ids are per issuing grid).
	for _, g := range s.noticeGrids() {
		n, err := s.Store.Notice(g, c.Params("id"))
		if appliance.ErrorCode(err) == appliance.ENOTFOUND {
			continue
		} else if err != nil {
			return err
		}
		return s.render(c, "kiosk_notice", fiber.Map{"Title": n.Title, "Notice": n})
	}
	return appliance.Errorf(appliance.ENOTFOUND, "公告不存在或已撤回")
}
