package ui

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// The working-day calendar page: every node shows which years' official
// holidays and make-up working days (调休) it has; on the city's and the
// towns' nodes the operators enter a new year's arrangement when the State
// Council publishes it, and it goes down to every village like a notice.

func init() {
	staffNav = append(staffNav, NavItem{Href: "/staff/calendar", Label: "节假日安排", Perm: appliance.PermViewDashboard})
	registerRoutes(func(s *Server) {
		s.app.Get("/staff/calendar", s.require(appliance.PermViewDashboard), s.showCalendar)
		s.app.Post("/staff/calendar", s.require(appliance.PermViewDashboard), s.submitCalendar)
		s.app.Get("/api/v1/calendar", s.require(appliance.PermViewDashboard), s.apiCalendar)
	})
}

// mayEnterCalendar: town and city operators (and admins) on a town or
// city node.
func (s *Server) mayEnterCalendar(u *appliance.User) bool {
	if s.Config.Node.Role != appliance.NodeTown && s.Config.Node.Role != appliance.NodeCity {
		return false
	}
	return u.Role == appliance.RoleTownOperator || u.Role == appliance.RoleCityOperator || u.Role == appliance.RoleAdmin
}

type calendarRow struct {
	Year     int
	Data     *appliance.CalendarYear // nil: the built-in table
	Holidays int
	Workdays int
}

func (s *Server) calendarRows() ([]calendarRow, error) {
	years, err := s.Store.CalendarYears()
	if err != nil {
		return nil, err
	}
	byYear := map[int]*appliance.CalendarYear{}
	for i := range years {
		byYear[years[i].Year] = &years[i]
	}
	now := s.cases.CountNow()
	cal := s.cases.Calendar()
	var rows []calendarRow
	for y := now.Year() - 1; y <= now.Year()+1; y++ {
		if !cal.Known(y) {
			continue
		}
		r := calendarRow{Year: y, Data: byYear[y]}
		if r.Data != nil {
			r.Holidays, r.Workdays = len(r.Data.Holidays), len(r.Data.Workdays)
		}
		rows = append(rows, r)
	}
	for y, d := range byYear {
		if y < now.Year()-1 || y > now.Year()+1 {
			rows = append(rows, calendarRow{Year: y, Data: d, Holidays: len(d.Holidays), Workdays: len(d.Workdays)})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Year > rows[j].Year })
	return rows, nil
}

func (s *Server) showCalendar(c *fiber.Ctx) error {
	return s.renderCalendar(c, nil, calendarForm{Year: strconv.Itoa(s.cases.CountNow().Year() + 1)})
}

type calendarForm struct{ Year, Holidays, Workdays, Source string }

func (s *Server) renderCalendar(c *fiber.Ctx, formErr error, form calendarForm) error {
	rows, err := s.calendarRows()
	if err != nil {
		return err
	}
	if formErr != nil {
		c.Status(fiber.StatusUnprocessableEntity)
	}
	return s.render(c, "staff_calendar", fiber.Map{"Title": "节假日安排", "Rows": rows, "May": s.mayEnterCalendar(currentUser(c)),
		"Form": form, "Error": appliance.ErrorMessage(formErr), "Field": appliance.ErrorField(formErr), "Saved": c.Query("saved")})
}

func (s *Server) submitCalendar(c *fiber.Ctx) error {
	u := currentUser(c)
	if !s.mayEnterCalendar(u) {
		return appliance.Errorf(appliance.EFORBIDDEN, "节假日安排由市或乡镇的工作人员录入，会自动下发到各村")
	}
	form := calendarForm{Year: strings.TrimSpace(c.FormValue("year")), Holidays: c.FormValue("holidays"), Workdays: c.FormValue("workdays"), Source: strings.TrimSpace(c.FormValue("source"))}
	y, err := parseCalendarForm(form)
	if err == nil {
		err = s.Store.SetCalendarYear(c.UserContext(), u.ID, y)
	}
	if err != nil {
		return s.renderCalendar(c, err, form)
	}
	s.copyDown(c.UserContext())
	return c.Redirect("/staff/calendar?saved="+strconv.Itoa(y.Year), fiber.StatusSeeOther)
}

func parseCalendarForm(f calendarForm) (appliance.CalendarYear, error) {
	var y appliance.CalendarYear
	year, err := strconv.Atoi(f.Year)
	if err != nil {
		return y, appliance.FieldError("year", "年份应是四位数字")
	}
	y.Year, y.Source = year, f.Source
	if y.Holidays, err = appliance.ParseDates(f.Holidays); err != nil {
		return y, appliance.FieldError("holidays", "放假日期：%s", err.Error())
	}
	if y.Workdays, err = appliance.ParseDates(f.Workdays); err != nil {
		return y, appliance.FieldError("workdays", "调休上班日期：%s", err.Error())
	}
	return y, y.Validate()
}

func (s *Server) apiCalendar(c *fiber.Ctx) error {
	years, err := s.Store.CalendarYears()
	if err != nil {
		return err
	}
	now := s.cases.CountNow()
	cal := s.cases.Calendar()
	known := []int{}
	for y := 2025; y <= now.Year()+1; y++ {
		if cal.Known(y) {
			known = append(known, y)
		}
	}
	next := now.Year() + 1
	if years == nil {
		years = []appliance.CalendarYear{}
	}
	return c.JSON(calendarDoc{Years: years, Known: known,
		NextYearMissing: !cal.Known(next) && !now.Before(appliance.CalendarWarnFrom(now.Year(), s.loc)),
		CheckedAt:       now.Format(time.RFC3339)})
}

// calendarDoc is the answer of GET /api/v1/calendar.
type calendarDoc struct {
	Years           []appliance.CalendarYear `json:"years"`
	Known           []int                    `json:"known"`
	NextYearMissing bool                     `json:"next_year_missing"`
	CheckedAt       string                   `json:"checked_at"`
}
