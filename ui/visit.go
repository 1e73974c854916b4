package ui

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

func init() {
	registerRoutes(func(s *Server) {
		a := s.app
		rec := s.require(appliance.PermRecordVisit)
		a.Get("/staff/visits", rec, s.showVisits)
		a.Get("/staff/visits/new", rec, s.showVisitNew)
		a.Post("/staff/visits", rec, s.submitVisit)
		a.Get("/staff/visits/diary", rec, s.showVisitDiary)
	})
}

// visitWorkers are the grid leaders and workers the user may record for;
// the user's own staff record first.
func (s *Server) visitWorkers(u *appliance.User) ([]appliance.StaffMember, error) {
	staff, err := s.Store.FindStaff(appliance.StaffFilter{})
	if err != nil {
		return nil, err
	}
	scope := scopeOf(u)
	var out []appliance.StaffMember
	for _, m := range staff {
		if m.UserID == u.ID {
			out = append([]appliance.StaffMember{m}, out...)
		} else if (m.Duty == appliance.DutyGridLeader || m.Duty == appliance.DutyGridWorker) && appliance.InScope(scope, m.Grid) {
			out = append(out, m)
		}
	}
	return out, nil
}

// workerInScope returns the grid leader or worker with id if the user may
// record visits for them.
func (s *Server) workerInScope(u *appliance.User, id string) (appliance.StaffMember, error) {
	workers, err := s.visitWorkers(u)
	if err != nil {
		return appliance.StaffMember{}, err
	}
	for _, m := range workers {
		if m.ID == id {
			return m, nil
		}
	}
	return appliance.StaffMember{}, appliance.FieldError("worker", "请选择自己负责范围内的走访人")
}

// headsOf names each household by its head.
func (s *Server) headsOf(hhs []appliance.Household) (map[string]string, error) {
	ids := make([]string, len(hhs))
	for i, h := range hhs {
		ids[i] = h.ID
	}
	return s.Store.HeadNames(ids)
}

func (s *Server) workdayFunc() func(time.Time) bool {
	cal, err := appliance.NewCalendar(s.Config.Calendar)
	if err != nil {
		return nil
	}
	return cal.IsWorkday
}

func (s *Server) showVisits(c *fiber.Ctx) error {
	u := currentUser(c)
	target, days := s.Config.Archive.VisitRule()
	now := s.now()
	from := now.AddDate(0, 0, -6).Format("2006-01-02")
	if f := c.Query("from"); f != "" {
		from = f
	}
	prog, err := s.Store.WorkerProgress(scopeOf(u), from, s.today(), target, s.workdayFunc())
	if err != nil {
		return err
	}
	cov, err := s.Store.VisitCoverage(scopeOf(u), s.today(), days)
	if err != nil {
		return err
	}
	var ids []string
	for _, g := range cov {
		ids = append(ids, g.Unvisited...)
	}
	heads, err := s.Store.HeadNames(ids)
	if err != nil {
		return err
	}
	groups, err := s.groupsInScope(u)
	if err != nil {
		return err
	}
	workers, err := s.visitWorkers(u)
	if err != nil {
		return err
	}
	var mine []appliance.Visit
	if len(workers) > 0 && workers[0].UserID == u.ID {
		mine, err = s.Store.Visits(workers[0].ID, now.AddDate(0, 0, -7).Format("2006-01-02"), s.today())
		if err != nil {
			return err
		}
		sort.SliceStable(mine, func(i, j int) bool { return mine[i].Date+mine[i].Time > mine[j].Date+mine[j].Time })
	}
	return s.render(c, "visit_list", fiber.Map{"Title": "走访巡查", "Progress": prog, "Coverage": cov, "Heads": heads,
		"GroupNames": groupNames(groups), "Target": target, "Days": days, "From": from, "Mine": mine, "Workers": workers,
		"MonthAgo": now.AddDate(0, -1, 0).Format("2006-01-02"), "Saved": c.Query("saved") == "1"})
}

func (s *Server) showVisitNew(c *fiber.Ctx) error {
	now := s.now()
	v := appliance.Visit{Kind: appliance.VisitHome, Household: c.Query("household"), Date: now.Format("2006-01-02"), Time: now.Format("15:04")}
	if c.Query("kind") == appliance.VisitPatrol {
		v.Kind = appliance.VisitPatrol
	}
	return s.renderVisitForm(c, v, nil)
}

// renderVisitForm shows the visit form of its kind only (docs/staff-pages.md):
// a home visit first finds its household by a member's name, pinyin
// initials or the door number (?q=), then asks what was seen; a patrol
// asks for the place. On a grid leader's phone 保存 is on the first screen.
func (s *Server) renderVisitForm(c *fiber.Ctx, v appliance.Visit, formErr error) error {
	u := currentUser(c)
	workers, err := s.visitWorkers(u)
	if err != nil {
		return err
	}
	scope := scopeOf(u)
	if len(workers) > 0 && workers[0].UserID == u.ID && strings.Contains(workers[0].Grid, "-") {
		scope = workers[0].Grid
	}
	groups, err := s.groupsInScope(u)
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "记录走访巡查", "Form": v, "Workers": workers, "Groups": groups,
		"Categories": s.Config.Cases.Categories, "Q": c.Query("q"), "Back": c.FormValue("back"),
		"More": v.Problems != "" || v.Category != "" || v.FollowUp != ""}
	if v.Kind != appliance.VisitPatrol {
		if v.Household != "" {
			found, err := s.findHouseholds(u, scope, v.Household)
			if err != nil {
				return err
			}
			if len(found) == 1 {
				data["Household"] = found[0]
			} else {
				v.Household, data["Form"] = "", v
			}
		}
		if q := strings.TrimSpace(c.Query("q")); q != "" && data["Household"] == nil {
			found, err := s.findHouseholds(u, scope, q)
			if err != nil {
				return err
			}
			data["Found"], data["Searched"] = found, true
		}
	}
	setFormError(c, data, formErr)
	return s.render(c, "visit_new", data)
}

func (s *Server) submitVisit(c *fiber.Ctx) error {
	u := currentUser(c)
	v := appliance.Visit{Worker: c.FormValue("worker"), Kind: c.FormValue("kind"), Household: c.FormValue("household"),
		Place: strings.TrimSpace(c.FormValue("place")), Date: c.FormValue("date"), Time: c.FormValue("time"), Group: c.FormValue("group"),
		Seen: strings.TrimSpace(c.FormValue("seen")), Problems: strings.TrimSpace(c.FormValue("problems")), FollowUp: strings.TrimSpace(c.FormValue("follow_up")),
		Category: c.FormValue("category")}
	err := s.checkVisit(c, u, &v)
	if err == nil {
		v, err = s.cases.RecordVisit(c.UserContext(), actor(c), v)
	}
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderVisitForm(c, v, err)
	}
	if v.Household != "" && c.FormValue("back") == "household" {
		return c.Redirect("/staff/households/"+v.Household, fiber.StatusSeeOther)
	}
	if v.Case != "" {
		return c.Redirect("/staff/cases/"+v.Case, fiber.StatusSeeOther)
	}
	return c.Redirect("/staff/visits?saved=1", fiber.StatusSeeOther)
}

// checkVisit fills in the worker's name and group and checks that worker,
// household and group lie in the user's grids.
func (s *Server) checkVisit(c *fiber.Ctx, u *appliance.User, v *appliance.Visit) error {
	m, err := s.workerInScope(u, v.Worker)
	if err != nil {
		return err
	}
	v.Name = m.Name
	if v.Group == "" && strings.Contains(m.Grid, "-") {
		v.Group = m.Grid
	}
	if v.Household != "" {
		if _, _, err := s.householdInScope(c, v.Household); err != nil {
			return appliance.FieldError("household", "请选择走访的户")
		}
	} else if v.Group != "" && !appliance.InScope(scopeOf(u), v.Group) {
		return appliance.FieldError("group", "请选择村民组")
	}
	return nil
}

// showVisitDiary shows a worker's visit diary for a period (the print
// engine renders the same data, from Store.VisitDiary, as A5 pages).
func (s *Server) showVisitDiary(c *fiber.Ctx) error {
	u := currentUser(c)
	workers, err := s.visitWorkers(u)
	if err != nil {
		return err
	}
	now := s.now()
	worker, from, to := c.Query("worker"), c.Query("from", now.AddDate(0, -1, 0).Format("2006-01-02")), c.Query("to", s.today())
	if worker == "" && len(workers) > 0 {
		worker = workers[0].ID
	}
	data := fiber.Map{"Title": "民情日记", "Workers": workers, "Worker": worker, "From": from, "To": to}
	if _, err := s.workerInScope(u, worker); err == nil {
		d, err := s.Store.VisitDiary(worker, from, to, s.loc)
		if err != nil {
			return err
		}
		newest := slices.Clone(d.Entries)
		slices.Reverse(newest)
		data["Diary"], data["Newest"] = d, newest
	}
	data["CanPrint"] = s.Printing != nil && u.Can(appliance.PermPrint)
	return s.render(c, "visit_diary", data)
}
