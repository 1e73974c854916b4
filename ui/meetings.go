package ui

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// Meetings (docs/week.md, "Meetings"): the weekly 碰头会, the monthly
// council, the town's joint meetings; attendance, minutes, decisions and
// action items that belong to a case or become one.
func init() {
	weekHubs = append(weekHubs, NavItem{Href: "/staff/meetings", Label: "会议（碰头会、议事会、联席会议）", Perm: appliance.PermViewDashboard})
	dashboardCounters = append(dashboardCounters, meetingCounters)
	registerRoutes(func(s *Server) {
		a := s.app
		view, manage := s.require(appliance.PermViewDashboard), s.require(appliance.PermManageMeetings)
		a.Get("/staff/meetings", view, s.showMeetings)
		a.Post("/staff/meetings", manage, s.submitMeeting)
		a.Get("/staff/meetings/:id", view, s.showMeeting)
		a.Post("/staff/meetings/:id", manage, s.submitMeetingEdit)
		a.Post("/staff/meetings/:id/sign", view, s.submitMeetingSign)
		a.Post("/staff/meetings/:id/actions", manage, s.submitAction)
		a.Post("/staff/actions/:id", manage, s.submitActionUpdate)
		api := a.Group("/api/v1")
		api.Get("/meetings", view, s.apiMeetings)
		api.Get("/meetings/:id", view, s.apiMeeting)
	})
}

// A meeting or action item is named in URLs as grid.id (ids are chosen
// per node, so the grid makes them unique at the town).
func meetingRef(grid, id string) string { return grid + "." + id }

func parseRef(ref string) (grid, id string, err error) {
	grid, id, ok := strings.Cut(ref, ".")
	if !ok || grid == "" || !appliance.ValidID(id) {
		return "", "", appliance.Errorf(appliance.ENOTFOUND, "会议不存在")
	}
	return grid, id, nil
}

// meetingPrefixes are what this node's meeting lists cover: a town itself and
// all its villages; a village itself (and the town's meetings sent down).
func (s *Server) meetingPrefixes() []string {
	if s.Config.Node.Role == appliance.NodeVillage {
		return []string{s.Config.Node.Code + "/", appliance.TownOf(s.Config.Node.Code) + "/"}
	}
	return []string{s.Config.Node.Code[:9]}
}

func (s *Server) findMeetings(from, to string) ([]appliance.Meeting, error) {
	var out []appliance.Meeting
	for _, p := range s.meetingPrefixes() {
		ms, err := s.Store.FindMeetings(p, from, to)
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, nil
}

func (s *Server) openActions() ([]appliance.ActionItem, error) {
	return s.Store.FindActions(bolt.ActionFilter{Prefix: s.meetingPrefixes()[0], Open: true})
}

// meetingCounters are the dashboard's meeting figures.
func meetingCounters(s *Server, u *appliance.User) ([]Counter, error) {
	today := s.today()
	ms, err := s.findMeetings(today, s.now().AddDate(0, 0, 7).Format("2006-01-02"))
	if err != nil {
		return nil, err
	}
	due := 0
	for _, m := range ms {
		if m.State == appliance.MeetingScheduled {
			due++
		}
	}
	items, err := s.openActions()
	if err != nil {
		return nil, err
	}
	late := 0
	for _, a := range items {
		if a.Overdue(today) {
			late++
		}
	}
	return []Counter{
		{Label: "七天内待开会议", Value: int64(due), Href: "/staff/meetings"},
		{Label: "会议未完成事项", Value: int64(len(items)), Href: "/staff/meetings#actions"},
		{Label: "会议超期事项", Value: int64(late), Href: "/staff/meetings#actions"},
	}, nil
}

// meetingRow is a meeting as the pages show it.
type meetingRow struct {
	appliance.Meeting
	Ref    string
	Holder string // who holds it: 本村, the town's name, a village's name
	Own    bool   // held on this node: it may be changed here
}

func (s *Server) meetingRow(m appliance.Meeting, names map[string]string) meetingRow {
	r := meetingRow{Meeting: m, Ref: meetingRef(m.Grid, m.ID), Own: m.Grid == s.Config.Node.Code}
	switch {
	case r.Own:
		r.Holder = s.Config.Node.Name
	case m.From != "":
		r.Holder = m.From
	default:
		r.Holder = names[m.Grid]
		if r.Holder == "" {
			r.Holder = m.Grid
		}
	}
	return r
}

// villageNames names the villages enrolled at a town.
func (s *Server) villageNames() map[string]string {
	out := map[string]string{}
	if vs, err := s.Store.EnrolledVillages(); err == nil {
		for _, v := range vs {
			out[v.Code] = v.Name
		}
	}
	return out
}

type actionRow struct {
	appliance.ActionItem
	Ref     string
	Meeting string // the meeting's ref
	Late    bool
}

func actionRows(items []appliance.ActionItem, today string) []actionRow {
	out := make([]actionRow, len(items))
	for i, a := range items {
		g, id, _ := strings.Cut(a.Meeting, "/")
		out[i] = actionRow{ActionItem: a, Ref: meetingRef(a.Grid, a.ID), Meeting: meetingRef(g, id), Late: a.Overdue(today)}
	}
	return out
}

func (s *Server) showMeetings(c *fiber.Ctx) error {
	kind := c.Query("kind", appliance.MeetingWeekly)
	if s.Config.Node.Role == appliance.NodeTown {
		kind = c.Query("kind", appliance.MeetingJoint)
	}
	f, err := s.meetingDefaults(kind)
	if err != nil {
		return err
	}
	return s.renderMeetings(c, nil, f)
}

// meetingForm is the schedule form: a meeting with its agenda as lines.
type meetingForm struct {
	appliance.Meeting
	AgendaText string
}

// meetingDefaults proposes the next meeting of a kind: the coming Monday
// for the weekly meeting, the council day (duty.leader_day, the 15th) for
// the council, tomorrow for a joint meeting; its agenda from the open and
// overdue cases, the action items due and the week's visits.
func (s *Server) meetingDefaults(kind string) (meetingForm, error) {
	now := s.now()
	date := now.AddDate(0, 0, 1)
	title := appliance.MeetingKindLabels[kind]
	switch kind {
	case appliance.MeetingWeekly:
		date = now.AddDate(0, 0, (8-int(now.Weekday()))%7)
		_, week := date.ISOWeek()
		title = fmt.Sprintf("第%d周工作碰头会", week)
	case appliance.MeetingCouncil:
		day := s.Config.Duty.LeaderDay
		if day == 0 {
			day = 15
		}
		date = time.Date(now.Year(), now.Month(), day, 0, 0, 0, 0, now.Location())
		if date.Format("2006-01-02") < now.Format("2006-01-02") {
			date = date.AddDate(0, 1, 0)
		}
		title = fmt.Sprintf("%d月村级议事会", int(date.Month()))
	case appliance.MeetingJoint:
	default:
		kind = appliance.MeetingWeekly
	}
	f := meetingForm{Meeting: appliance.Meeting{Kind: kind, Title: title, Date: date.Format("2006-01-02"), Time: "09:00", Place: s.Config.DutyRoom}}
	lines, err := s.proposeAgenda(date)
	if err != nil {
		return f, err
	}
	f.AgendaText = strings.Join(lines, "\n")
	return f, nil
}

// proposeAgenda lists the topics a meeting on date should take up.
func (s *Server) proposeAgenda(date time.Time) ([]string, error) {
	levels := []string{appliance.CaseLevelGroup, appliance.CaseLevelVillage}
	if s.Config.Node.Role == appliance.NodeTown {
		levels = []string{appliance.CaseLevelTown}
	}
	var lines []string
	seen := map[string]bool{}
	due, err := s.cases.DueCases(levels, s.now())
	if err != nil {
		return nil, err
	}
	for _, d := range due {
		state := fmt.Sprintf("（%d个工作日后到期）", d.Days)
		if d.Overdue {
			state = fmt.Sprintf("（已超期%d个工作日）", d.Days)
		}
		lines = append(lines, "["+d.Case.ID+"] "+clip(d.Case.Description, 40)+state)
		seen[d.Case.ID] = true
	}
	open, _, err := s.cases.FindCases(bolt.CaseFilter{Open: ptr(true), Levels: levels, Limit: 20})
	if err != nil {
		return nil, err
	}
	for _, c := range open {
		if !seen[c.ID] {
			lines = append(lines, "["+c.ID+"] "+clip(c.Description, 40)+"（办理中）")
		}
	}
	items, err := s.openActions()
	if err != nil {
		return nil, err
	}
	limit := date.AddDate(0, 0, 7).Format("2006-01-02")
	for _, a := range items {
		if a.Due <= limit {
			line := "上次会议事项：" + clip(a.Text, 40) + "（" + a.Owner + "，" + a.Due + "前）"
			if a.Case != "" {
				line = "[" + a.Case + "] " + line
			}
			lines = append(lines, line)
		}
	}
	if s.Config.Node.Role == appliance.NodeVillage {
		visits, workers, err := s.weekVisits(date)
		if err != nil {
			return nil, err
		}
		lines = append(lines, fmt.Sprintf("本周走访情况：%d 名网格员走访 %d 户次", workers, visits))
	}
	return lines, nil
}

// weekVisits counts the visits of the seven days before date and the
// grid workers who made them.
func (s *Server) weekVisits(date time.Time) (visits, workers int, err error) {
	staff, err := s.Store.FindStaff(appliance.StaffFilter{})
	if err != nil {
		return 0, 0, err
	}
	from, to := date.AddDate(0, 0, -7).Format("2006-01-02"), date.AddDate(0, 0, -1).Format("2006-01-02")
	for _, m := range staff {
		if m.Duty != appliance.DutyGridLeader && m.Duty != appliance.DutyGridWorker && m.Duty != appliance.DutyMassWorkTeam {
			continue
		}
		vs, err := s.Store.Visits(m.ID, from, to)
		if err != nil {
			return 0, 0, err
		}
		if len(vs) > 0 {
			visits, workers = visits+len(vs), workers+1
		}
	}
	return visits, workers, nil
}

func clip(s string, n int) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n]) + "…"
}

var agendaCaseRE = regexp.MustCompile(`^\[([A-Za-z0-9_-]{1,32})\]\s*(.*)$`)

// parseAgenda reads the agenda's lines; "[code] text" ties a line to a case.
func parseAgenda(text string) []appliance.AgendaItem {
	var out []appliance.AgendaItem
	for _, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		it := appliance.AgendaItem{Text: line}
		if m := agendaCaseRE.FindStringSubmatch(line); m != nil && m[2] != "" {
			it = appliance.AgendaItem{Case: m[1], Text: m[2]}
		}
		out = append(out, it)
	}
	return out
}

func agendaText(items []appliance.AgendaItem) string {
	lines := make([]string, len(items))
	for i, a := range items {
		lines[i] = a.Text
		if a.Case != "" {
			lines[i] = "[" + a.Case + "] " + a.Text
		}
	}
	return strings.Join(lines, "\n")
}

func lines(text string) []string {
	var out []string
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func (s *Server) renderMeetings(c *fiber.Ctx, formErr error, f meetingForm) error {
	today := s.today()
	ms, err := s.findMeetings(s.now().AddDate(0, 0, -60).Format("2006-01-02"), "")
	if err != nil {
		return err
	}
	names := s.villageNames()
	var upcoming, past []meetingRow
	for _, m := range ms {
		r := s.meetingRow(m, names)
		if m.Date >= today && m.State == appliance.MeetingScheduled {
			upcoming = append(upcoming, r)
		} else {
			past = append([]meetingRow{r}, past...)
		}
	}
	items, err := s.openActions()
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "会议", "Upcoming": upcoming, "Past": past, "Actions": actionRows(items, today), "Form": f,
		"Kinds": appliance.MeetingKindLabels, "States": appliance.MeetingStateLabels, "Town": s.Config.Node.Role == appliance.NodeTown,
		"CanManage": currentUser(c).Can(appliance.PermManageMeetings), "Villages": names}
	setFormError(c, data, formErr)
	return s.render(c, "staff_meetings", data)
}

func (s *Server) submitMeeting(c *fiber.Ctx) error {
	f := meetingForm{Meeting: appliance.Meeting{Grid: s.Config.Node.Code, Kind: c.FormValue("kind"), Title: strings.TrimSpace(c.FormValue("title")),
		Date: strings.TrimSpace(c.FormValue("date")), Time: strings.TrimSpace(c.FormValue("time")), Place: strings.TrimSpace(c.FormValue("place")),
		Chair: strings.TrimSpace(c.FormValue("chair")), Attendees: strings.TrimSpace(c.FormValue("attendees"))},
		AgendaText: c.FormValue("agenda")}
	f.Agenda = parseAgenda(f.AgendaText)
	if s.Config.Node.Role == appliance.NodeTown {
		args := c.Context().PostArgs()
		for _, v := range args.PeekMulti("to") {
			f.To = append(f.To, string(v))
		}
	}
	m, err := s.Store.SetMeeting(c.UserContext(), actor(c), f.Meeting)
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderMeetings(c, err, f)
	}
	s.copyDown(c.UserContext())
	return c.Redirect("/staff/meetings/"+meetingRef(m.Grid, m.ID), fiber.StatusSeeOther)
}

// meetingOf reads the meeting named in the URL.
func (s *Server) meetingOf(ref string) (appliance.Meeting, []appliance.MeetingSign, error) {
	grid, id, err := parseRef(ref)
	if err != nil {
		return appliance.Meeting{}, nil, err
	}
	if !strings.HasPrefix(grid, s.Config.Node.Code[:9]) {
		return appliance.Meeting{}, nil, appliance.Errorf(appliance.ENOTFOUND, "会议不存在")
	}
	return s.Store.Meeting(grid + "/" + id)
}

func (s *Server) showMeeting(c *fiber.Ctx) error { return s.renderMeeting(c, c.Params("id"), nil, nil) }

func (s *Server) renderMeeting(c *fiber.Ctx, ref string, formErr error, form fiber.Map) error {
	m, signs, err := s.meetingOf(ref)
	if err != nil {
		return err
	}
	items, err := s.Store.FindActions(bolt.ActionFilter{Prefix: m.Grid + "/", Meeting: m.Key()})
	if err != nil {
		return err
	}
	staff, err := s.nodeStaff()
	if err != nil {
		return err
	}
	u := currentUser(c)
	row := s.meetingRow(m, s.villageNames())
	signed := false
	me, linked := s.myStaff(u)
	for _, sg := range signs {
		signed = signed || linked && sg.StaffID == me.ID || !linked && sg.Name == u.Name
	}
	if form == nil {
		form = fiber.Map{}
	}
	data := fiber.Map{"Title": m.Title, "M": row, "Signs": signs, "Actions": actionRows(items, s.today()), "Staff": staff,
		"AgendaText": agendaText(m.Agenda), "DecisionsText": strings.Join(m.Decisions, "\n"), "Kinds": appliance.MeetingKindLabels,
		"States": appliance.MeetingStateLabels, "CanManage": row.Own && u.Can(appliance.PermManageMeetings), "CanSign": row.Own && !signed && m.State != appliance.MeetingCancelled,
		"CanCase": u.Can(appliance.PermRegisterCase), "Categories": s.Config.Cases.Categories, "CanPrint": u.Can(appliance.PermPrint),
		"Due": s.now().AddDate(0, 0, 7).Format("2006-01-02"), "F": form}
	setFormError(c, data, formErr)
	return s.render(c, "staff_meeting", data)
}

// ownMeeting reads the meeting in the URL and refuses one held elsewhere:
// only the node that holds a meeting changes it.
func (s *Server) ownMeeting(c *fiber.Ctx) (appliance.Meeting, error) {
	m, _, err := s.meetingOf(c.Params("id"))
	if err == nil && m.Grid != s.Config.Node.Code {
		err = appliance.Errorf(appliance.EFORBIDDEN, "这个会议由%s召开，只能在那里修改", m.From)
	}
	return m, err
}

func (s *Server) submitMeetingEdit(c *fiber.Ctx) error {
	m, err := s.ownMeeting(c)
	if err != nil {
		return err
	}
	m.Agenda = parseAgenda(c.FormValue("agenda"))
	m.Minutes = c.FormValue("minutes")
	m.Decisions = lines(c.FormValue("decisions"))
	if st := c.FormValue("state"); st != "" {
		m.State = st
	}
	if _, err := s.Store.SetMeeting(c.UserContext(), actor(c), m); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderMeeting(c, c.Params("id"), err, nil)
	}
	s.copyDown(c.UserContext())
	return c.Redirect("/staff/meetings/"+c.Params("id"), fiber.StatusSeeOther)
}

// submitMeetingSign signs the user in, or, for whoever keeps the meeting,
// someone without an account (a group leader, a representative, a
// department's man at a joint meeting) by name and unit.
func (s *Server) submitMeetingSign(c *fiber.Ctx) error {
	m, err := s.ownMeeting(c)
	if err != nil {
		return err
	}
	u := currentUser(c)
	sg := appliance.MeetingSign{Meeting: m.Key(), At: s.now().Format("15:04")}
	if name := strings.TrimSpace(c.FormValue("name")); name != "" {
		if !u.Can(appliance.PermManageMeetings) {
			return appliance.Errorf(appliance.EFORBIDDEN, "只能为自己签到")
		}
		sg.Name, sg.Unit = name, c.FormValue("unit")
		if id := c.FormValue("staff_id"); id != "" {
			p, err := s.Store.Staff(id)
			if err != nil {
				return s.renderMeeting(c, c.Params("id"), appliance.FieldError("staff_id", "没有这个人员"), nil)
			}
			sg.StaffID, sg.Name = p.ID, p.Name
		}
	} else if id := c.FormValue("staff_id"); id != "" && u.Can(appliance.PermManageMeetings) {
		p, err := s.Store.Staff(id)
		if err != nil {
			return s.renderMeeting(c, c.Params("id"), appliance.FieldError("staff_id", "没有这个人员"), nil)
		}
		sg.StaffID, sg.Name, sg.Unit = p.ID, p.Name, p.Title
	} else {
		sg.Name = u.Name
		if me, ok := s.myStaff(u); ok {
			sg.StaffID, sg.Name, sg.Unit = me.ID, me.Name, me.Title
		} else if u.Department != "" {
			sg.Unit = u.Department
		}
	}
	if err := s.Store.SignMeeting(c.UserContext(), actor(c), sg); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderMeeting(c, c.Params("id"), err, nil)
	}
	return c.Redirect("/staff/meetings/"+c.Params("id")+"#signs", fiber.StatusSeeOther)
}

// submitAction adds an action item: tied to a case by its code, or made a
// case in the same step (the item is checked first, so a refused item
// makes no case).
func (s *Server) submitAction(c *fiber.Ctx) error {
	m, err := s.ownMeeting(c)
	if err != nil {
		return err
	}
	a := appliance.ActionItem{Grid: s.Config.Node.Code, Meeting: m.Key(), Text: strings.TrimSpace(c.FormValue("text")),
		Owner: strings.TrimSpace(c.FormValue("owner")), Due: strings.TrimSpace(c.FormValue("due")), Case: strings.ToUpper(strings.TrimSpace(c.FormValue("case")))}
	if id := c.FormValue("owner_id"); id != "" {
		p, err := s.Store.Staff(id)
		if err != nil {
			return s.renderMeeting(c, c.Params("id"), appliance.FieldError("owner", "没有这个人员"), nil)
		}
		a.OwnerID, a.Owner = p.ID, p.Name
	}
	form := fiber.Map{"Text": a.Text, "Owner": a.Owner, "OwnerID": a.OwnerID, "Due": a.Due, "Case": a.Case, "Category": c.FormValue("category"), "MakeCase": c.FormValue("make_case") == "1"}
	fail := func(err error) error {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderMeeting(c, c.Params("id"), err, form)
	}
	check := a
	check.ID = "check"
	if check.Case == "" {
		check.Case = "check"
	}
	if err := check.Validate(); err != nil {
		return fail(err)
	}
	switch {
	case c.FormValue("make_case") == "1":
		if a.Case != "" {
			return fail(appliance.FieldError("case", "已填写问题编号时不能再新建问题"))
		}
		if !currentUser(c).Can(appliance.PermRegisterCase) {
			return fail(appliance.Errorf(appliance.EFORBIDDEN, "您的账号不能登记问题"))
		}
		r, err := s.cases.RegisterCase(c.UserContext(), actor(c), bolt.CaseIntake{Category: c.FormValue("category"), Source: appliance.SourceMeeting,
			Description: m.Title + "议定：" + a.Text})
		if err != nil {
			return fail(err)
		}
		a.Case = r.Code
	case a.Case != "":
		if _, err := s.cases.Case(a.Case); err != nil {
			return fail(appliance.FieldError("case", "没有编号为 %s 的问题", a.Case))
		}
	}
	if _, err := s.Store.SetAction(c.UserContext(), actor(c), a); err != nil {
		return fail(err)
	}
	return c.Redirect("/staff/meetings/"+c.Params("id")+"#actions", fiber.StatusSeeOther)
}

// submitActionUpdate marks an item done with its outcome, or open again.
func (s *Server) submitActionUpdate(c *fiber.Ctx) error {
	grid, id, err := parseRef(c.Params("id"))
	if err != nil {
		return err
	}
	if grid != s.Config.Node.Code {
		return appliance.Errorf(appliance.EFORBIDDEN, "这个事项由别处的会议议定，只能在那里办结")
	}
	a, err := s.Store.Action(grid, id)
	if err != nil {
		return err
	}
	a.Done, a.Outcome = c.FormValue("done") == "1", strings.TrimSpace(c.FormValue("outcome"))
	g, mid, _ := strings.Cut(a.Meeting, "/")
	back := "/staff/meetings/" + meetingRef(g, mid) + "#actions"
	if _, err := s.Store.SetAction(c.UserContext(), actor(c), a); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderMeeting(c, meetingRef(g, mid), err, nil)
	}
	return c.Redirect(back, fiber.StatusSeeOther)
}

// The answers of the meetings API.
type (
	meetingsDoc struct {
		Meetings    []appliance.Meeting    `json:"meetings"`
		OpenActions []appliance.ActionItem `json:"open_actions"`
	}
	meetingDoc struct {
		Meeting appliance.Meeting       `json:"meeting"`
		Signs   []appliance.MeetingSign `json:"signs"`
		Actions []appliance.ActionItem  `json:"actions"`
	}
)

func (s *Server) apiMeetings(c *fiber.Ctx) error {
	ms, err := s.findMeetings(c.Query("from"), c.Query("to"))
	if err != nil {
		return err
	}
	items, err := s.openActions()
	if err != nil {
		return err
	}
	if ms == nil {
		ms = []appliance.Meeting{}
	}
	if items == nil {
		items = []appliance.ActionItem{}
	}
	return c.JSON(meetingsDoc{Meetings: ms, OpenActions: items})
}

func (s *Server) apiMeeting(c *fiber.Ctx) error {
	m, signs, err := s.meetingOf(c.Params("id"))
	if err != nil {
		return err
	}
	items, err := s.Store.FindActions(bolt.ActionFilter{Prefix: m.Grid + "/", Meeting: m.Key()})
	if err != nil {
		return err
	}
	if signs == nil {
		signs = []appliance.MeetingSign{}
	}
	if items == nil {
		items = []appliance.ActionItem{}
	}
	return c.JSON(meetingDoc{Meeting: m, Signs: signs, Actions: items})
}
