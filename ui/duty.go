package ui

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// The working week (docs/week.md): its hub page, the duty log, the month's
// roster and swaps. Meetings, services and work teams hang off the hub.
func init() {
	staffNav = append(staffNav, NavItem{Href: "/staff/week", Label: "工作周（值班·会议·服务）", Perm: appliance.PermViewDashboard, Section: "村务"})
	registerRoutes(func(s *Server) {
		a := s.app
		view, keep, manage := s.require(appliance.PermViewDashboard), s.require(appliance.PermKeepDuty), s.require(appliance.PermManageDuty)
		a.Get("/staff/week", view, s.showWeek)
		a.Get("/staff/duty/log", view, s.showDutyLog)
		a.Post("/staff/duty/log", keep, s.submitDutyLog)
		a.Get("/staff/duty/roster", manage, s.showRoster)
		a.Post("/staff/duty/roster", manage, s.submitRoster)
		a.Get("/staff/duty/swaps", keep, s.showSwaps)
		a.Post("/staff/duty/swaps", keep, s.submitSwap)
		a.Post("/staff/duty/swaps/:id", keep, s.answerSwap)
		a.Get("/staff/duty/gaps", manage, s.showDutyGaps)
		api := a.Group("/api/v1")
		api.Get("/duty/log", view, s.apiDutyLog)
		api.Post("/duty/log", keep, s.apiAddDutyLog)
	})
}

// gapDays is how far back the pages look for days nobody signed in.
const gapDays = 14

// pastDays returns the n days before today, oldest first (today not
// included: a day is missed only when it is over).
func (s *Server) pastDays(n int) []string {
	now := s.now()
	out := make([]string, 0, n)
	for i := n; i >= 1; i-- {
		out = append(out, now.AddDate(0, 0, -i).Format("2006-01-02"))
	}
	return out
}

// unsigned returns the days of grid among days on which nobody signed in.
func (s *Server) unsigned(grid string, days []string) ([]string, error) {
	log, err := s.Store.DutyDays(grid, days)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range log {
		if !d.SignedIn {
			out = append(out, d.Date)
		}
	}
	return out, nil
}

// myStaff is the staff record linked to the user's account, if any.
func (s *Server) myStaff(u *appliance.User) (appliance.StaffMember, bool) {
	staff, err := s.Store.FindStaff(appliance.StaffFilter{})
	if err != nil {
		return appliance.StaffMember{}, false
	}
	for _, m := range staff {
		if m.UserID == u.ID {
			return m, true
		}
	}
	return appliance.StaffMember{}, false
}

func (s *Server) showWeek(c *fiber.Ctx) error {
	u := currentUser(c)
	today := s.today()
	grid := s.Config.Node.Code
	duty, err := s.Store.FindDuty(grid, today, today)
	if err != nil {
		return err
	}
	days, err := s.Store.DutyDays(grid, []string{today})
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "工作周", "Duty": duty, "Day": days[0], "Town": s.Config.Node.Role == appliance.NodeTown,
		"CanKeep": u.Can(appliance.PermKeepDuty), "CanManage": u.Can(appliance.PermManageDuty), "Month": s.now().Format("2006-01")}
	if note, by, err := s.Store.PendingHandover(grid, today); err == nil {
		data["Handover"], data["HandoverReadBy"] = note, by
	}
	if u.Can(appliance.PermManageDuty) && s.Config.Node.Role == appliance.NodeVillage {
		if data["Unsigned"], err = s.unsigned(grid, s.pastDays(gapDays)); err != nil {
			return err
		}
	}
	if u.Can(appliance.PermKeepDuty) {
		swaps, err := s.Store.FindSwaps(grid, today)
		if err != nil {
			return err
		}
		var open []appliance.DutySwap
		for _, w := range swaps {
			if w.State == appliance.SwapAsked {
				open = append(open, w)
			}
		}
		data["OpenSwaps"] = open
	}
	var hubs []NavItem
	for _, h := range weekHubs {
		if h.Perm == "" || u.Can(h.Perm) {
			hubs = append(hubs, h)
		}
	}
	data["Hubs"] = hubs
	return s.render(c, "staff_week", data)
}

// weekHubs are the working week's other parts, each linked from the hub
// page (meetings, services, work teams add theirs in their init).
var weekHubs []NavItem

// casesIntake is the case a call or visitor on the duty log becomes: the
// caller's name and phone go into the case (sealed), not the log.
func casesIntake(f dutyLogForm, source string) bolt.CaseIntake {
	return bolt.CaseIntake{Category: f.Category, Description: f.Text, Source: source, Name: f.Name, Phone: f.Phone}
}

// dutyLogForm is what the duty log page's forms send.
type dutyLogForm struct {
	Kind, Staff, Text, Category, Name, Phone, Ref string
	MakeCase                                      bool
}

func (s *Server) showDutyLog(c *fiber.Ctx) error {
	return s.renderDutyLog(c, nil, dutyLogForm{}, c.Query("date"))
}

func (s *Server) renderDutyLog(c *fiber.Ctx, formErr error, form dutyLogForm, date string) error {
	u := currentUser(c)
	today := s.today()
	if date == "" {
		date = today
	}
	if _, err := time.Parse("2006-01-02", date); err != nil {
		date = today
	}
	grid := s.Config.Node.Code
	days, err := s.Store.DutyDays(grid, []string{date})
	if err != nil {
		return err
	}
	shifts, err := s.Store.FindDuty(grid, date, date)
	if err != nil {
		return err
	}
	staff, err := s.nodeStaff()
	if err != nil {
		return err
	}
	// Who the forms are for: the form's choice, else the account's own
	// staff record, else the first person on today's roster.
	who := form.Staff
	if who == "" {
		who = c.Query("who")
	}
	if who == "" {
		if m, ok := s.myStaff(u); ok {
			who = m.ID
		} else if len(shifts) > 0 {
			who = shifts[0].StaffID
		}
	}
	d, _ := time.Parse("2006-01-02", date)
	data := fiber.Map{"Title": "值班记录", "Date": date, "Today": date == today, "Day": days[0], "Shifts": shifts, "Staff": staff,
		"Who": who, "Form": form, "Categories": s.Config.Cases.Categories, "CanKeep": u.Can(appliance.PermKeepDuty) && date == today,
		"CanCase": u.Can(appliance.PermRegisterCase), "OnDuty": days[0].OnDuty(who), "Case": c.Query("case"),
		"Prev": d.AddDate(0, 0, -1).Format("2006-01-02"), "Next": d.AddDate(0, 0, 1).Format("2006-01-02"),
		"Labels": appliance.DutyLogLabels, "CanPrint": u.Can(appliance.PermPrint)}
	if note, by, err := s.Store.PendingHandover(grid, date); err == nil {
		data["Handover"], data["HandoverReadBy"] = note, by
	}
	setFormError(c, data, formErr)
	return s.render(c, "staff_duty_log", data)
}

func (s *Server) submitDutyLog(c *fiber.Ctx) error {
	f := dutyLogForm{
		Kind: c.FormValue("kind"), Staff: c.FormValue("staff_id"), Text: strings.TrimSpace(c.FormValue("text")),
		Category: c.FormValue("category"), Name: strings.TrimSpace(c.FormValue("name")), Phone: strings.TrimSpace(c.FormValue("phone")),
		Ref: c.FormValue("ref"), MakeCase: c.FormValue("make_case") == "1",
	}
	l, err := s.addDutyLog(c, f)
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderDutyLog(c, err, f, "")
	}
	to := "/staff/duty/log?who=" + url.QueryEscape(l.StaffID)
	if l.Case != "" {
		to += "&case=" + url.QueryEscape(l.Case)
	}
	return c.Redirect(to, fiber.StatusSeeOther)
}

// addDutyLog writes a line of today's log for the person chosen; a call or
// visitor with MakeCase becomes a case first (the log line names it). The
// line is checked before the case is made, so a refused line makes no case.
func (s *Server) addDutyLog(c *fiber.Ctx, f dutyLogForm) (appliance.DutyLog, error) {
	m, err := s.Store.Staff(f.Staff)
	if err != nil || m.Grid != s.Config.Node.Code && !strings.HasPrefix(m.Grid, s.Config.Node.Code) {
		return appliance.DutyLog{}, appliance.FieldError("staff_id", "请选择值班人员")
	}
	now := s.now()
	l := appliance.DutyLog{Grid: s.Config.Node.Code, Date: now.Format("2006-01-02"), At: now.Format("15:04"), Kind: f.Kind,
		StaffID: m.ID, Name: m.Name, Text: f.Text, Ref: f.Ref}
	if f.MakeCase {
		if f.Kind != appliance.LogCall && f.Kind != appliance.LogVisitor {
			return l, appliance.FieldError("make_case", "只有来电、来访可以转为问题")
		}
		if !currentUser(c).Can(appliance.PermRegisterCase) {
			return l, appliance.Errorf(appliance.EFORBIDDEN, "您的账号不能登记问题")
		}
		l.Case = "pending" // checked as a case code below, filled in once made
		if err := s.Store.CheckDutyLog(l); err != nil {
			return l, err
		}
		src := appliance.SourcePhone
		if f.Kind == appliance.LogVisitor {
			src = appliance.SourceWalkIn
		}
		r, err := s.cases.RegisterCase(c.UserContext(), actor(c), casesIntake(f, src))
		if err != nil {
			return l, err
		}
		l.Case = r.Code
	}
	return s.Store.LogDuty(c.UserContext(), actor(c), l)
}

func (s *Server) apiDutyLog(c *fiber.Ctx) error {
	date := c.Query("date", s.today())
	if _, err := time.Parse("2006-01-02", date); err != nil {
		return appliance.FieldError("date", "日期格式应为 年-月-日")
	}
	grid := c.Query("grid", s.Config.Node.Code)
	days, err := s.Store.DutyDays(grid, []string{date})
	if err != nil {
		return err
	}
	return c.JSON(days[0])
}

// dutyLogIn is the body of POST /api/v1/duty/log.
type dutyLogIn struct {
	Kind     string `json:"kind"`
	StaffID  string `json:"staff_id"`
	Text     string `json:"text"`
	Ref      string `json:"ref"`
	MakeCase bool   `json:"make_case"`
	Category string `json:"category"`
	Name     string `json:"name"`
	Phone    string `json:"phone"`
}

func (s *Server) apiAddDutyLog(c *fiber.Ctx) error {
	var in dutyLogIn
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	l, err := s.addDutyLog(c, dutyLogForm{Kind: in.Kind, Staff: in.StaffID, Text: strings.TrimSpace(in.Text), Ref: in.Ref,
		MakeCase: in.MakeCase, Category: in.Category, Name: strings.TrimSpace(in.Name), Phone: strings.TrimSpace(in.Phone)})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(l)
}

// rota returns the people who take the duty room in turn ([duty] rota, in
// its order, then by id) and the work-team leader, if there is one.
func (s *Server) rota() ([]appliance.StaffMember, *appliance.StaffMember, error) {
	staff, err := s.nodeStaff()
	if err != nil {
		return nil, nil, err
	}
	var people []appliance.StaffMember
	for _, d := range s.Config.Duty.Rota {
		for _, m := range staff {
			if m.Duty == d {
				people = append(people, m)
			}
		}
	}
	var leader *appliance.StaffMember
	for _, m := range staff {
		if s.Config.Duty.TeamLeader != "" && m.ID == s.Config.Duty.TeamLeader ||
			s.Config.Duty.TeamLeader == "" && m.Duty == appliance.DutyMassWorkTeam && strings.Contains(m.Title, "队长") && leader == nil {
			leader = &m
		}
	}
	return people, leader, nil
}

type rosterForm struct {
	Month string
	Start string
	Leave map[string]string
	Fixed map[string]string
	Lead  string
}

func (s *Server) showRoster(c *fiber.Ctx) error {
	month := c.Query("month")
	if _, err := time.Parse("2006-01", month); err != nil {
		month = s.now().AddDate(0, 1, 1-s.now().Day()).Format("2006-01")
	}
	return s.renderRoster(c, nil, rosterForm{Month: month})
}

func (s *Server) renderRoster(c *fiber.Ctx, formErr error, f rosterForm) error {
	people, leader, err := s.rota()
	if err != nil {
		return err
	}
	days, _ := appliance.MonthDays(f.Month)
	var shifts []appliance.DutyShift
	if len(days) > 0 {
		if shifts, err = s.Store.FindDuty(s.Config.Node.Code, days[0], days[len(days)-1]); err != nil {
			return err
		}
	}
	first, _ := time.Parse("2006-01", f.Month)
	data := fiber.Map{"Title": "排班", "Form": f, "People": people, "Leader": leader, "LeaderDay": s.Config.Duty.LeaderDay,
		"Shifts": shifts, "Prev": first.AddDate(0, -1, 0).Format("2006-01"), "Next": first.AddDate(0, 1, 0).Format("2006-01"),
		"CanPrint": currentUser(c).Can(appliance.PermPrint)}
	setFormError(c, data, formErr)
	return s.render(c, "staff_duty_roster", data)
}

func (s *Server) submitRoster(c *fiber.Ctx) error {
	people, leader, err := s.rota()
	if err != nil {
		return err
	}
	f := rosterForm{Month: strings.TrimSpace(c.FormValue("month")), Start: c.FormValue("start"), Lead: strings.TrimSpace(c.FormValue("lead")),
		Leave: map[string]string{}, Fixed: map[string]string{}}
	plan := appliance.RosterPlan{Grid: s.Config.Node.Code, Month: f.Month, Shift: s.Config.Duty.Shift, People: people,
		Leave: map[string][]string{}, Fixed: map[string]string{}, LeaderDay: s.Config.Duty.LeaderDay, Leader: leader, Lead: f.Lead}
	everyone := people
	if leader != nil && !slices.ContainsFunc(people, func(m appliance.StaffMember) bool { return m.ID == leader.ID }) {
		everyone = append(append([]appliance.StaffMember(nil), people...), *leader)
	}
	fail := func(err error) error { return s.renderRoster(c, err, f) }
	if _, err := appliance.MonthDays(f.Month); err != nil {
		f.Month = s.now().Format("2006-01")
		return fail(err)
	}
	for i, m := range everyone {
		f.Leave[m.ID] = strings.TrimSpace(c.FormValue("leave_" + m.ID))
		f.Fixed[m.ID] = strings.TrimSpace(c.FormValue("fixed_" + m.ID))
		if m.ID == f.Start {
			plan.Start = i
		}
		leave, err := appliance.ParseDays("leave", f.Month, f.Leave[m.ID])
		if err != nil {
			return fail(appliance.FieldError("leave", "%s的请假日期：%s", m.Name, appliance.ErrorMessage(err)))
		}
		plan.Leave[m.ID] = leave
		fixed, err := appliance.ParseDays("fixed", f.Month, f.Fixed[m.ID])
		if err != nil {
			return fail(appliance.FieldError("fixed", "%s的固定值班日：%s", m.Name, appliance.ErrorMessage(err)))
		}
		for _, d := range fixed {
			if other, dup := plan.Fixed[d]; dup && other != m.ID {
				return fail(appliance.FieldError("fixed", "%s 被填为两个人的固定值班日", d))
			}
			plan.Fixed[d] = m.ID
		}
	}
	shift := plan.Shift
	if shift == "" {
		shift = "全天"
	}
	roster, err := appliance.GenerateRoster(plan)
	if err == nil {
		err = s.Store.SetRoster(c.UserContext(), actor(c), plan.Grid, f.Month, shift, roster)
	}
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return fail(err)
	}
	s.copyDown(c.UserContext())
	return c.Redirect("/staff/duty/roster?month="+f.Month+"&done=1", fiber.StatusSeeOther)
}

func (s *Server) showSwaps(c *fiber.Ctx) error { return s.renderSwaps(c, nil, appliance.DutySwap{}) }

func (s *Server) renderSwaps(c *fiber.Ctx, formErr error, form appliance.DutySwap) error {
	u := currentUser(c)
	now := s.now()
	from, to := now.Format("2006-01-02"), now.AddDate(0, 0, 45).Format("2006-01-02")
	shifts, err := s.Store.FindDuty(s.Config.Node.Code, from, to)
	if err != nil {
		return err
	}
	swaps, err := s.Store.FindSwaps(s.Config.Node.Code, now.AddDate(0, 0, -30).Format("2006-01-02"))
	if err != nil {
		return err
	}
	mine := ""
	if m, ok := s.myStaff(u); ok {
		mine = m.ID
	}
	data := fiber.Map{"Title": "换班", "Shifts": shifts, "Swaps": swaps, "Form": form, "Mine": mine, "Me": u.ID,
		"Manager": u.Can(appliance.PermManageDuty), "States": appliance.SwapStateLabels}
	setFormError(c, data, formErr)
	return s.render(c, "staff_duty_swaps", data)
}

// shiftRef reads "date|staff id" as the swap form's choices send it.
func shiftRef(v string) (string, string) {
	date, staff, _ := strings.Cut(v, "|")
	return date, staff
}

func (s *Server) submitSwap(c *fiber.Ctx) error {
	w := appliance.DutySwap{Grid: s.Config.Node.Code, Shift: s.Config.Duty.Shift, Reason: strings.TrimSpace(c.FormValue("reason"))}
	if w.Shift == "" {
		w.Shift = "全天"
	}
	w.Date, w.StaffID = shiftRef(c.FormValue("mine"))
	w.WithDate, w.WithStaffID = shiftRef(c.FormValue("with"))
	if w.Date == "" {
		return s.renderSwaps(c, appliance.FieldError("date", "请选择自己要换出的那天"), w)
	}
	if w.WithDate == "" {
		return s.renderSwaps(c, appliance.FieldError("with", "请选择和谁换、换哪一天"), w)
	}
	if _, err := s.Store.AskSwap(c.UserContext(), actor(c), w); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderSwaps(c, err, w)
	}
	return c.Redirect("/staff/duty/swaps", fiber.StatusSeeOther)
}

func (s *Server) answerSwap(c *fiber.Ctx) error {
	u := currentUser(c)
	_, err := s.Store.AnswerSwap(c.UserContext(), actor(c), u.Can(appliance.PermManageDuty), s.Config.Node.Code, c.Params("id"), c.FormValue("state"))
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderSwaps(c, err, appliance.DutySwap{})
	}
	s.copyDown(c.UserContext())
	return c.Redirect("/staff/duty/swaps", fiber.StatusSeeOther)
}

// villageGaps is a village and the recent days on which nobody signed in
// to its duty log.
type villageGaps struct {
	Code, Name string
	Days       []string
	Heard      bool // the village's log has reached this node at all
}

// showDutyGaps shows the days nobody signed in: the town sees each of its
// enrolled villages (their logs come up with their feeds), a village its own.
func (s *Server) showDutyGaps(c *fiber.Ctx) error {
	days := s.pastDays(gapDays)
	var out []villageGaps
	add := func(code, name string) error {
		gaps, err := s.unsigned(code, days)
		if err != nil {
			return err
		}
		out = append(out, villageGaps{Code: code, Name: name, Days: gaps, Heard: len(gaps) < len(days)})
		return nil
	}
	if s.Config.Node.Role == appliance.NodeTown {
		vs, err := s.Store.EnrolledVillages()
		if err != nil {
			return err
		}
		for _, v := range vs {
			if err := add(v.Code, v.Name); err != nil {
				return err
			}
		}
	} else if err := add(s.Config.Node.Code, s.Config.Node.Name); err != nil {
		return err
	}
	return s.render(c, "staff_duty_gaps", fiber.Map{"Title": "无人签到的日子", "Villages": out, "From": days[0], "To": days[len(days)-1]})
}
