package ui

import (
	"slices"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// What a person's case pages count and list (docs/staff-pages.md). Every
// open, near and overdue figure a page shows — the dashboard, the lists
// behind its counters, the statistics — comes from bolt's CountCases or
// OpenCases with one of these scopes, so they agree.

// caseArea is the place a person's case figures cover: a grid leader's
// group; everything the node holds for everyone else.
func caseArea(usr *appliance.User) string { return groupScope(usr) }

// waitingScope is the cases that wait for the person's step: at a level
// they act at on this node, in their place (a department: dispatched to
// it). ok is false for those who take no steps (duty staff, inspectors).
func (s *Server) waitingScope(usr *appliance.User) (sc bolt.CaseScope, ok bool) {
	node := appliance.LevelsOf(s.Config.Node.Role)
	for _, l := range userLevels(usr) {
		if slices.Contains(node, l) {
			sc.Levels = append(sc.Levels, l)
		}
	}
	if len(sc.Levels) == 0 || !usr.Can(appliance.PermHandleCase) {
		return sc, false
	}
	sc.Area = caseArea(usr)
	if usr.Role == appliance.RoleDepartment {
		sc.Department = usr.Department
	}
	return sc, true
}

// caseWork is the dashboard's case part: what waits for me, what I
// registered that is still open, and the counts of my place.
type caseWork struct {
	Waiting      []bolt.DueCase
	WaitingCount appliance.CaseCounts
	CanWait      bool
	Mine         []bolt.DueCase
	MineCount    appliance.CaseCounts
	CanRegister  bool
	Desk         bool // registers calls and visitors at the duty room's desk
}

// dashboardList is how many cases a dashboard list shows before "all".
const dashboardList = 8

func (s *Server) caseWorkOf(usr *appliance.User) (caseWork, error) {
	var w caseWork
	now := s.now()
	if sc, ok := s.waitingScope(usr); ok {
		list, n, err := s.cases.OpenCases(sc, now, dashboardList)
		if err != nil {
			return w, err
		}
		w.Waiting, w.WaitingCount, w.CanWait = list, n, true
	}
	if usr.Can(appliance.PermRegisterCase) {
		list, n, err := s.cases.OpenCases(bolt.CaseScope{RegisteredBy: usr.ID}, now, dashboardList)
		if err != nil {
			return w, err
		}
		w.Mine, w.MineCount, w.CanRegister = list, n, true
		w.Desk = usr.Role == appliance.RoleDutyStaff || usr.Role == appliance.RoleVillageLead
	}
	return w, nil
}

// caseDashboardCounters adds the open, near and overdue cases of the
// person's place, counted as the statistics count them.
func caseDashboardCounters(s *Server, usr *appliance.User) ([]Counter, error) {
	n, err := s.cases.CountCases(bolt.CaseScope{Area: caseArea(usr)}, s.now())
	if err != nil {
		return nil, err
	}
	out := []Counter{
		{Label: "待办问题", Value: n.Open, Href: "/staff/cases?open=1"},
		{Label: "即将到期", Value: n.Near, Href: "/staff/cases?due=1"},
		{Label: "已超期", Value: n.Overdue, Href: "/staff/cases?due=1"},
	}
	if !usr.Can(appliance.PermViewCases) {
		for i := range out {
			out[i].Href = "" // the admin sees how many, not the cases
		}
	}
	return out, nil
}

// caseListMode shows the open cases of a scope, most urgent first, with
// the counts of the same scope: ?open=1 (my place), ?due=1 (its near and
// overdue ones), ?mine=1 (waiting for my step), ?registered=1 (registered
// by me, still open).
func (u *caseUI) caseListMode(c *fiber.Ctx, data fiber.Map) (bool, error) {
	usr := currentUser(c)
	var sc bolt.CaseScope
	title, dueOnly := "", false
	switch {
	case c.Query("mine") == "1":
		title = "待我办理"
		var ok bool
		if sc, ok = u.s.waitingScope(usr); !ok {
			data["ModeTitle"], data["DueMode"] = title, true
			return true, nil
		}
	case c.Query("registered") == "1":
		title, sc = "我登记的未办结问题", bolt.CaseScope{RegisteredBy: usr.ID}
	case c.Query("due") == "1":
		title, sc, dueOnly = "即将到期与超期", bolt.CaseScope{Area: caseArea(usr)}, true
	case c.Query("open") == "1" && c.Query("status") == "" && c.Query("level") == "" && c.Query("category") == "" && c.Query("village") == "" && c.Query("q") == "":
		title, sc = "待办问题", bolt.CaseScope{Area: caseArea(usr)}
	default:
		return false, nil
	}
	var list []bolt.DueCase
	var n appliance.CaseCounts
	var err error
	if dueOnly {
		list, n, err = u.cases.OpenDueCases(sc, u.s.now())
	} else {
		list, n, err = u.cases.OpenCases(sc, u.s.now(), 0)
	}
	if err != nil {
		return true, err
	}
	data["ModeTitle"], data["DueMode"], data["Due"], data["Count"] = title, true, list, n
	return true, nil
}
