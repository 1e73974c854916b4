package ui

import (
	"slices"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// treeNode is a grid with its people and children, for the dashboard.
type treeNode struct {
	Grid     appliance.Grid
	Staff    []appliance.StaffMember
	Children []*treeNode
}

func (s *Server) gridTree() (*treeNode, int, error) {
	grids, err := s.Store.FindGrids(appliance.GridFilter{})
	if err != nil {
		return nil, 0, err
	}
	staff, err := s.Store.FindStaff(appliance.StaffFilter{})
	if err != nil {
		return nil, 0, err
	}
	nodes := map[string]*treeNode{}
	for _, g := range grids {
		nodes[g.Code] = &treeNode{Grid: g}
	}
	for _, m := range staff {
		if n, ok := nodes[m.Grid]; ok {
			n.Staff = append(n.Staff, m)
		}
	}
	for _, g := range grids {
		if p, ok := nodes[g.Parent]; ok {
			p.Children = append(p.Children, nodes[g.Code])
		}
	}
	for _, n := range nodes {
		sort.SliceStable(n.Staff, func(i, j int) bool { return dutyRank[n.Staff[i].Duty] < dutyRank[n.Staff[j].Duty] })
	}
	root := nodes[s.Config.Node.Code]
	if root == nil {
		root = &treeNode{Grid: appliance.Grid{Code: s.Config.Node.Code, Name: s.Config.Node.Name}}
		for _, g := range grids {
			if nodes[g.Parent] == nil {
				root.Children = append(root.Children, nodes[g.Code])
			}
		}
	}
	return root, len(staff), nil
}

var dutyRank = map[string]int{
	appliance.DutyFirstResponsible: 0, appliance.DutyCommittee: 1, appliance.DutyMassWorkTeam: 2,
	appliance.DutyGridLeader: 3, appliance.DutyGridWorker: 4, appliance.DutyDutyStaff: 5,
}

// Counter is one figure on the dashboard.
type Counter struct {
	Label string
	Value int64
	Href  string
}

// dashboardCounters lets features add their figures to the dashboard.
var dashboardCounters []func(s *Server, u *appliance.User) ([]Counter, error)

// showDashboard says what to do next (docs/staff-pages.md): the cases
// waiting for my step (overdue first), what I registered that is still
// open, the figures of my place and today's duty. The ledger's figures are
// on the system page; the staff tree on 网格与人员.
func (s *Server) showDashboard(c *fiber.Ctx) error {
	today := s.today()
	duty, err := s.Store.FindDuty(s.Config.Node.Code, today, today)
	if err != nil {
		return err
	}
	townDuty, err := s.townDuty(today, today)
	if err != nil {
		return err
	}
	u := currentUser(c)
	var counters []Counter
	for _, f := range dashboardCounters {
		more, err := f(s, u)
		if err != nil {
			return err
		}
		counters = append(counters, more...)
	}
	work, err := s.caseWorkOf(u)
	if err != nil {
		return err
	}
	return s.render(c, "staff_dashboard", fiber.Map{
		"Title": "工作台", "Counters": counters, "Duty": duty, "TownDuty": townDuty, "Work": work,
		"L": (&caseUI{s: s}).caseLabels(), "Changed": c.Query("changed") == "1",
	})
}

// userRow is an account on the accounts page with what may be done to it.
type userRow struct {
	appliance.User
	GridName             string
	Locked, Manage, Self bool
}

func (s *Server) showUsers(c *fiber.Ctx) error {
	return s.renderUsers(c, nil, appliance.User{})
}

func (s *Server) renderUsers(c *fiber.Ctx, formErr error, form appliance.User) error {
	users, err := s.Store.Users()
	if err != nil {
		return err
	}
	grids, err := s.Store.FindGrids(appliance.GridFilter{})
	if err != nil {
		return err
	}
	slices.SortStableFunc(grids, func(a, b appliance.Grid) int { return strings.Compare(a.Code, b.Code) })
	names := map[string]string{}
	for _, g := range grids {
		names[g.Code] = g.Name
	}
	locked, err := s.Store.LockedLogins(s.now())
	if err != nil {
		return err
	}
	// Actions only where they apply: 解除锁定 on a locked account, nothing
	// on an administrator's account but for an administrator, no 停用 on
	// one's own.
	me := currentUser(c)
	rows := make([]userRow, len(users))
	for i, u := range users {
		rows[i] = userRow{User: u, GridName: names[u.Grid], Locked: locked[strings.ToLower(u.Username)],
			Manage: u.Role != appliance.RoleAdmin || me.Role == appliance.RoleAdmin, Self: u.ID == me.ID}
	}
	data := fiber.Map{"Title": "账号管理", "Users": rows, "Roles": appliance.Roles, "Form": form, "Grids": grids}
	if err := s.addStaffCards(c, data); err != nil { // ui/staff_card.go
		return err
	}
	setFormError(c, data, formErr)
	if p, ok := c.Locals("newPassword").(string); ok {
		data["NewPassword"] = p
		data["NewUsername"] = form.Username
	}
	return s.render(c, "staff_users", data)
}

// setFormError puts a refused form's message and field into the page data
// and sets the status of the error's code; a nil error changes nothing.
func setFormError(c *fiber.Ctx, data fiber.Map, err error) {
	if err == nil {
		return
	}
	c.Status(statusOf[appliance.ErrorCode(err)])
	data["Error"] = appliance.ErrorMessage(err)
	data["Field"] = appliance.ErrorField(err)
}

// submitUser creates an account with a one-time password shown once.
func (s *Server) submitUser(c *fiber.Ctx) error {
	u, pw, err := s.newAccount(c, appliance.User{Username: c.FormValue("username"), Name: c.FormValue("name"),
		Role: appliance.Role(c.FormValue("role")), Grid: c.FormValue("grid"), Department: c.FormValue("department")})
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderUsers(c, err, u)
	}
	c.Locals("newPassword", pw)
	return s.renderUsers(c, nil, u)
}

func (s *Server) showDutyEdit(c *fiber.Ctx) error {
	return s.renderDutyEdit(c, nil, appliance.DutyShift{Date: s.today(), Shift: "全天"})
}

func (s *Server) renderDutyEdit(c *fiber.Ctx, formErr error, form appliance.DutyShift) error {
	now := s.now()
	from := now.AddDate(0, 0, -7).Format("2006-01-02")
	to := now.AddDate(0, 0, 31).Format("2006-01-02")
	shifts, err := s.Store.FindDuty(s.Config.Node.Code, from, to)
	if err != nil {
		return err
	}
	staff, err := s.nodeStaff()
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "值班安排", "Shifts": shifts, "Staff": staff, "ShiftKinds": appliance.Shifts, "Form": form,
		"CanEdit": currentUser(c).Can(appliance.PermManageDuty), "Town": s.Config.Node.Role == appliance.NodeTown}
	if data["TownShifts"], err = s.townDuty(from, to); err != nil {
		return err
	}
	setFormError(c, data, formErr)
	return s.render(c, "staff_duty", data)
}

func (s *Server) submitDuty(c *fiber.Ctx) error {
	d := appliance.DutyShift{
		Grid:    s.Config.Node.Code,
		Date:    strings.TrimSpace(c.FormValue("date")),
		Shift:   c.FormValue("shift"),
		StaffID: c.FormValue("staff_id"),
		Lead:    strings.TrimSpace(c.FormValue("lead")),
		Removed: c.FormValue("remove") == "1",
	}
	if d.Date != "" && d.Date < s.today() {
		// The roster of past days is a record of who was on duty.
		return s.renderDutyEdit(c, appliance.FieldError("date", "不能修改已经过去的值班安排"), d)
	}
	if d.StaffID != "" {
		m, err := s.Store.Staff(d.StaffID)
		if err != nil {
			return s.renderDutyEdit(c, appliance.FieldError("staff_id", "请选择值班人员"), d)
		}
		d.Name, d.Phone = m.Name, m.Phone
	}
	if err := s.Store.SetDuty(c.UserContext(), actor(c), d); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderDutyEdit(c, err, d)
	}
	s.copyDown(c.UserContext())
	return c.Redirect("/staff/duty", fiber.StatusSeeOther)
}

// submitUserAction resets a password (a new one-time password, shown once),
// disables or enables an account, or unlocks a username after failed logins.
func (s *Server) submitUserAction(c *fiber.Ctx) error {
	u, pw, err := s.accountAction(c, c.Params("id"), c.FormValue("action"))
	switch {
	case appliance.ErrorCode(err) == appliance.EINVALID && appliance.ErrorField(err) == "":
		return s.renderUsers(c, err, appliance.User{}) // 不能停用自己的账号
	case err != nil:
		return err
	case pw != "":
		c.Locals("newPassword", pw)
		return s.renderUsers(c, nil, u)
	}
	return c.Redirect("/staff/users", fiber.StatusSeeOther)
}
