package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// Work teams (docs/week.md, "Work teams"): the team stationed in the
// village, its days there, its journals; and the duty lists for the wall.
func init() {
	weekHubs = append(weekHubs,
		NavItem{Href: "/staff/teams", Label: "群众工作队（驻村签到、工作心得）", Perm: appliance.PermViewDashboard},
		NavItem{Href: "/staff/rules", Label: "职责清单（制度上墙）", Perm: appliance.PermViewDashboard})
	registerRoutes(func(s *Server) {
		a := s.app
		view, keep, manage := s.require(appliance.PermViewDashboard), s.require(appliance.PermKeepDuty), s.require(appliance.PermManageMeetings)
		a.Get("/staff/teams", view, s.showTeam)
		a.Post("/staff/teams", manage, s.submitTeam)
		a.Post("/staff/teams/sign", keep, s.submitTeamSign)
		a.Post("/staff/teams/journal", keep, s.submitJournal)
		a.Get("/staff/rules", view, s.showRules)
		a.Post("/staff/rules", manage, s.submitRules)
	})
}

// teamVillage is the village the team page is about: this village, or on
// a town the one asked for.
func (s *Server) teamVillage(c *fiber.Ctx) string {
	if s.Config.Node.Role == appliance.NodeVillage {
		return s.Config.Node.Code
	}
	v := c.Query("village", c.FormValue("village"))
	if appliance.ValidateDivisionCode(v, appliance.NodeVillage) != nil || appliance.TownOf(v) != s.Config.Node.Code {
		return ""
	}
	return v
}

type memberRow struct {
	appliance.TeamMember
	Done   int           // days in the village this month
	Visits int           // visits recorded this month as theirs (their staff record's)
	Cases  bolt.CaseWork // cases registered or handled this month by their record's account
}

func (s *Server) showTeam(c *fiber.Ctx) error { return s.renderTeam(c, nil, "") }

func (s *Server) renderTeam(c *fiber.Ctx, formErr error, membersText string) error {
	u := currentUser(c)
	village := s.teamVillage(c)
	data := fiber.Map{"Title": "群众工作队", "Village": village, "Town": s.Config.Node.Role == appliance.NodeTown, "Villages": s.villageNames(),
		"CanKeep": u.Can(appliance.PermKeepDuty) && s.Config.Node.Role == appliance.NodeVillage, "CanManage": u.Can(appliance.PermManageMeetings),
		"Today": s.today(), "Month": s.now().Format("2006年1月"), "CanPrint": u.Can(appliance.PermPrint)}
	if village != "" {
		team, err := s.Store.Team(village)
		if err != nil && appliance.ErrorCode(err) != appliance.ENOTFOUND {
			return err
		}
		now := s.now()
		from := now.AddDate(0, 0, 1-now.Day()).Format("2006-01-02")
		days, err := s.Store.TeamDays(village, from, now.Format("2006-01-02"))
		if err != nil {
			return err
		}
		staff, err := s.villageStaff(village)
		if err != nil {
			return err
		}
		account := map[string]string{} // staff id → their account
		for _, m := range staff {
			account[m.ID] = m.UserID
		}
		var accounts []string
		for _, m := range team.Members {
			accounts = append(accounts, account[m.StaffID])
		}
		month, _ := time.ParseInLocation("2006-01-02", from, s.Config.Location())
		work, err := s.cases.WorkBy(accounts, month)
		if err != nil {
			return err
		}
		var rows []memberRow
		for _, m := range team.Members {
			row := memberRow{TeamMember: m, Done: days[m.ID]}
			if m.StaffID != "" {
				vs, err := s.Store.Visits(m.StaffID, from, now.Format("2006-01-02"))
				if err != nil {
					return err
				}
				row.Visits = len(vs)
				if a := account[m.StaffID]; a != "" {
					row.Cases = work[a]
				}
			}
			rows = append(rows, row)
		}
		journals, err := s.Store.Journals(village, "")
		if err != nil {
			return err
		}
		if len(journals) > 20 {
			journals = journals[len(journals)-20:]
		}
		if membersText == "" {
			membersText = teamLines(team, staff)
		}
		data["Team"], data["Members"], data["Journals"], data["MembersText"], data["Staff"] = team, rows, journals, membersText, staff
	}
	setFormError(c, data, formErr)
	return s.render(c, "staff_teams", data)
}

// teamLines writes the members one a line, as the edit form takes them:
// 姓名，派出单位，电话，每月天数，队长, then the name of the village's staff
// record the member is (its id where two records share the name).
func teamLines(w appliance.WorkTeam, staff []appliance.StaffMember) string {
	var b strings.Builder
	for _, m := range w.Members {
		fmt.Fprintf(&b, "%s，%s，%s，%d", m.Name, m.Unit, m.Phone, m.Days)
		if m.Leader {
			b.WriteString("，队长")
		}
		if m.StaffID != "" {
			b.WriteString("，本村人员" + staffLabel(staff, m.StaffID))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// staffLabel names a staff record as people know it: the name, or the id
// where the name is not the village's only one.
func staffLabel(staff []appliance.StaffMember, id string) string {
	name, same := "", 0
	for _, m := range staff {
		if m.ID == id {
			name = m.Name
		}
	}
	for _, m := range staff {
		if m.Name == name {
			same++
		}
	}
	if name == "" || same > 1 {
		return id
	}
	return name
}

// pickStaff finds the staff record a form names among staff: its id or
// its name. ok is false when q names none (it may be another field); a
// name two records share is an error naming the field.
func pickStaff(staff []appliance.StaffMember, field, q string) (id string, ok bool, err error) {
	var found []appliance.StaffMember
	for _, m := range staff {
		if m.ID == q {
			return m.ID, true, nil
		}
		if m.Name == q {
			found = append(found, m)
		}
	}
	switch len(found) {
	case 0:
		return "", false, nil
	case 1:
		return found[0].ID, true, nil
	}
	return "", false, appliance.FieldError(field, "本村有%d位叫“%s”的人员，请改写为人员编号（%s 或 %s）", len(found), q, found[0].ID, found[1].ID)
}

// parseTeamLines reads the members' lines; a member whose name was there
// before keeps their id. A field 本村人员X, X a staff record of the village
// by name or id, links the member to that record: the visits they record
// and the cases they register or handle count as theirs.
func parseTeamLines(text string, old appliance.WorkTeam, staff []appliance.StaffMember) ([]appliance.TeamMember, error) {
	var out []appliance.TeamMember
	for n, line := range lines(text) {
		f := strings.FieldsFunc(line, func(r rune) bool { return r == '，' || r == ',' || r == '|' || r == '、' })
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if len(f) < 2 {
			return nil, appliance.FieldError("members", "第 %d 行：请按“姓名，派出单位，电话，每月天数，队长”填写", n+1)
		}
		m := appliance.TeamMember{Name: f[0], Unit: f[1], Days: 0}
		for _, x := range f[2:] {
			who, named := strings.CutPrefix(x, "本村人员")
			who = strings.TrimLeft(who, "：: ")
			id, ok, err := pickStaff(staff, "members", who)
			switch {
			case err != nil:
				return nil, appliance.FieldError("members", "第 %d 行：%s", n+1, err.Error())
			case x == "队长":
				m.Leader = true
			case x == "":
			case ok:
				m.StaffID = id
			case named:
				return nil, appliance.FieldError("members", "第 %d 行：本村人员中没有“%s”（在“网格与人员”中登记后再关联）", n+1, who)
			case len(x) <= 2:
				d, err := strconv.Atoi(x)
				if err != nil {
					return nil, appliance.FieldError("members", "第 %d 行：“%s”不是天数", n+1, x)
				}
				m.Days = d
			default:
				m.Phone = x
			}
		}
		for _, o := range old.Members {
			if o.Name == m.Name {
				m.ID = o.ID
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// villageStaff are the staff records of a village and its groups.
func (s *Server) villageStaff(village string) ([]appliance.StaffMember, error) {
	all, err := s.Store.FindStaff(appliance.StaffFilter{})
	if err != nil {
		return nil, err
	}
	var out []appliance.StaffMember
	for _, m := range all {
		if strings.HasPrefix(m.Grid, village) {
			out = append(out, m)
		}
	}
	return out, nil
}

func (s *Server) submitTeam(c *fiber.Ctx) error {
	village := s.teamVillage(c)
	if village == "" {
		return s.renderTeam(c, appliance.FieldError("village", "请选择工作队所驻的村"), "")
	}
	old, _ := s.Store.Team(village)
	text := c.FormValue("members")
	staff, err := s.villageStaff(village)
	if err != nil {
		return err
	}
	members, err := parseTeamLines(text, old, staff)
	if err == nil {
		err = s.Store.SetTeam(c.UserContext(), actor(c), appliance.WorkTeam{Village: village, Name: strings.TrimSpace(c.FormValue("name")), Members: members})
	}
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderTeam(c, err, text)
	}
	s.copyDown(c.UserContext())
	return c.Redirect("/staff/teams?village="+village, fiber.StatusSeeOther)
}

func (s *Server) submitTeamSign(c *fiber.Ctx) error {
	now := s.now()
	err := s.Store.SignTeam(c.UserContext(), actor(c), appliance.TeamSign{Village: s.Config.Node.Code, Member: c.FormValue("member"), Date: now.Format("2006-01-02"), At: now.Format("15:04")})
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderTeam(c, err, "")
	}
	return c.Redirect("/staff/teams", fiber.StatusSeeOther)
}

func (s *Server) submitJournal(c *fiber.Ctx) error {
	date := strings.TrimSpace(c.FormValue("date"))
	if date == "" {
		date = s.today()
	}
	_, err := s.Store.AddJournal(c.UserContext(), actor(c), appliance.Journal{Village: s.Config.Node.Code, Member: c.FormValue("member"), Date: date, Text: c.FormValue("text")})
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderTeam(c, err, "")
	}
	return c.Redirect("/staff/teams#journal", fiber.StatusSeeOther)
}

func (s *Server) showRules(c *fiber.Ctx) error { return s.renderRules(c, nil) }

func (s *Server) renderRules(c *fiber.Ctx, formErr error) error {
	lists, err := s.Store.Rules(s.Config.Node.Code)
	if err != nil {
		return err
	}
	u := currentUser(c)
	data := fiber.Map{"Title": "职责清单", "Lists": lists, "CanManage": u.Can(appliance.PermManageMeetings), "CanPrint": u.Can(appliance.PermPrint)}
	setFormError(c, data, formErr)
	return s.render(c, "staff_rules", data)
}

func (s *Server) submitRules(c *fiber.Ctx) error {
	r := appliance.RuleList{ID: c.FormValue("id"), Grid: s.Config.Node.Code, Title: strings.TrimSpace(c.FormValue("title")), Items: lines(c.FormValue("items"))}
	if err := s.Store.SetRules(c.UserContext(), actor(c), r); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderRules(c, err)
	}
	return c.Redirect("/staff/rules", fiber.StatusSeeOther)
}
