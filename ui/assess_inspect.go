package ui

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// The inspection group's pages (docs/assessment.md, "Inspections"): plan
// scheduled inspections, draw random ones, record findings with photos;
// objections are decided on /staff/assess with the findings.
func init() {
	staffNav = append(staffNav, NavItem{Href: "/staff/assess/inspections", Label: "督查", Perm: appliance.PermAssess, Section: "村务",
		Primary: []appliance.Role{appliance.RoleInspector}})
	registerRoutes(func(s *Server) {
		a := s.app
		assess, view := s.require(appliance.PermAssess), s.require(appliance.PermViewDashboard)
		a.Get("/staff/assess/inspections", assess, s.showInspections)
		a.Post("/staff/assess/inspections", assess, s.submitInspection)
		a.Post("/staff/assess/findings", assess, s.submitFinding)
		a.Post("/staff/assess/findings/decision", assess, s.submitDecision)
		a.Get("/staff/assess/photos/:sum", view, s.serveFindingPhoto)
	})
}

// gridChoice is a village, group or person the forms offer.
type gridChoice struct{ Value, Label string }

// inspectForm is what the two forms sent, to fill them again after an
// error.
type inspectForm struct {
	Way, Date, Subject, Topic, Note, N, Seed string
	Grids                                    []string
	Plan, Village, Target, Rule, Units, Text string
	Inspector                                string
}

// planView is a plan with its grids named and its draw checked again.
type planView struct {
	appliance.Inspection
	Names     []string
	PoolNames []string
	Redone    bool // DrawInspection gives the recorded picks again
}

// inspectTargets lists the town's villages, groups and staff: what plans
// and findings name.
func (s *Server) inspectTargets() (villages, groups, people []gridChoice, names map[string]string, err error) {
	town := appliance.TownOf(s.Config.Node.Code)
	names = map[string]string{}
	vs, err := s.Store.EnrolledVillages()
	if err != nil {
		return
	}
	for _, v := range vs {
		if appliance.TownOf(v.Code) == town {
			names[v.Code] = v.Name
			villages = append(villages, gridChoice{v.Code, v.Name})
		}
	}
	level := appliance.LevelGroup
	gs, err := s.Store.FindGrids(appliance.GridFilter{Level: &level})
	if err != nil {
		return
	}
	for _, g := range gs {
		v := g.Code[:min(12, len(g.Code))]
		if appliance.TownOf(v) != town {
			continue
		}
		if names[v] == "" {
			names[v] = v
		}
		names[g.Code] = names[v] + g.Name
		groups = append(groups, gridChoice{g.Code, names[g.Code]})
	}
	prefix := town[:9]
	staff, err := s.Store.FindStaff(appliance.StaffFilter{Grid: &prefix})
	if err != nil {
		return
	}
	for _, m := range staff {
		if len(m.Grid) < 12 || m.Grid[:12] == town {
			continue
		}
		label := m.Name
		if n := names[m.Grid]; n != "" {
			label += "（" + n + "）"
		} else if n := names[m.Grid[:12]]; n != "" {
			label += "（" + n + "）"
		}
		people = append(people, gridChoice{m.ID, label})
	}
	return
}

func (s *Server) showInspections(c *fiber.Ctx) error {
	f := inspectForm{Date: s.today(), Way: appliance.WayScheduled, Subject: appliance.SubjectVillage, Units: "1", Inspector: currentUser(c).Name}
	if id := c.Query("plan"); id != "" {
		f.Plan = id
		if ps, err := s.Store.Inspections(appliance.TownOf(s.Config.Node.Code)); err == nil {
			for _, p := range ps {
				if p.ID == id {
					f.Way, f.Date = p.Way, min(p.Date, s.today())
					if p.Subject == appliance.SubjectVillage && len(p.Grids) > 0 {
						f.Target = appliance.SubjectVillage + ":" + p.Grids[0]
					}
				}
			}
		}
	}
	return s.renderInspections(c, f, nil, "")
}

// renderInspections shows the plans and the two forms; formErr belongs to
// the form named which ("plan" or "finding").
func (s *Server) renderInspections(c *fiber.Ctx, f inspectForm, formErr error, which string) error {
	data := fiber.Map{"Title": "督查"}
	if s.Config.Node.Role != appliance.NodeTown {
		data["Unavailable"] = "督查由乡镇督查指导组在乡镇节点上安排和记录；本节点的督查发现和异议在“考核积分”页查看"
		setFormError(c, data, formErr)
		return s.render(c, "staff_inspections", data)
	}
	town := s.Config.Node.Code
	villages, groups, people, names, err := s.inspectTargets()
	if err != nil {
		return err
	}
	plans, err := s.Store.Inspections(town)
	if err != nil {
		return err
	}
	var views []planView
	for i := len(plans) - 1; i >= 0; i-- { // the latest first
		p := plans[i]
		v := planView{Inspection: p}
		for _, g := range p.Grids {
			v.Names = append(v.Names, nameOr(names, g))
		}
		if d := p.Draw; d != nil {
			for _, g := range d.Pool {
				v.PoolNames = append(v.PoolNames, nameOr(names, g))
			}
			seed, _ := strconv.ParseUint(d.Seed, 16, 64)
			v.Redone = slices.Equal(appliance.DrawInspection(d.Pool, d.N, seed), d.Picked)
		}
		views = append(views, v)
	}
	tables, err := s.Store.RuleTables(town)
	if err != nil {
		return err
	}
	day := f.Date
	if day == "" {
		day = s.today()
	}
	var rules []appliance.AssessRule
	for _, r := range appliance.TableOn(tables, town, day).Rules {
		if r.Metric == appliance.MetricFinding {
			rules = append(rules, r)
		}
	}
	data["Plans"], data["Form"], data["Villages"], data["Groups"], data["People"] = views, f, villages, groups, people
	data["Rules"], data["Ways"], data["WayOrder"], data["SubjectLabels"] = rules, appliance.InspectionWayLabels, appliance.InspectionWays, appliance.SubjectLabels
	chosen := map[string]bool{}
	for _, g := range f.Grids {
		chosen[g] = true
	}
	data["States"], data["MaxPhotos"], data["Chosen"] = appliance.InspectionStateLabels, appliance.MaxCasePhotos, chosen
	setFormError(c, data, formErr)
	if formErr != nil { // the error and its field belong to one of the forms
		data[which+"Error"], data[which+"Field"] = data["Error"], data["Field"]
		delete(data, "Error")
	}
	return s.render(c, "staff_inspections", data)
}

func nameOr(names map[string]string, code string) string {
	if n := names[code]; n != "" {
		return n
	}
	return code
}

// formInspect reads the forms' fields.
func formInspect(c *fiber.Ctx) inspectForm {
	f := inspectForm{Way: c.FormValue("way"), Date: strings.TrimSpace(c.FormValue("date")), Subject: c.FormValue("subject"),
		Topic: c.FormValue("topic"), Note: c.FormValue("note"), N: strings.TrimSpace(c.FormValue("n")), Seed: strings.TrimSpace(c.FormValue("seed")),
		Plan: c.FormValue("plan"), Target: c.FormValue("target"), Rule: c.FormValue("rule"),
		Units: strings.TrimSpace(c.FormValue("units")), Text: c.FormValue("text"), Inspector: c.FormValue("inspector")}
	if form, err := c.MultipartForm(); err == nil {
		f.Grids = form.Value["grids"]
	} else {
		for _, v := range c.Context().PostArgs().PeekMulti("grids") {
			f.Grids = append(f.Grids, string(v))
		}
	}
	return f
}

// submitInspection plans an inspection; a random one is drawn here.
func (s *Server) submitInspection(c *fiber.Ctx) error {
	f := formInspect(c)
	fail := func(err error) error {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderInspections(c, f, err, "plan")
	}
	var n int
	var seed *uint64
	if f.Way == appliance.WayRandom {
		var err error
		if n, err = strconv.Atoi(f.N); err != nil {
			return fail(appliance.FieldError("n", "请填写抽取数量（整数）"))
		}
		if f.Seed != "" {
			sd, err := strconv.ParseUint(f.Seed, 16, 64)
			if err != nil || len(f.Seed) > 16 {
				return fail(appliance.FieldError("seed", "抽签种子应为不超过16位的十六进制数，或不填由系统随机生成"))
			}
			seed = &sd
		}
	}
	p, err := s.Store.PlanInspection(c.UserContext(), actor(c), appliance.Inspection{Way: f.Way, Date: f.Date, Subject: f.Subject, Topic: f.Topic, Note: f.Note, Grids: f.Grids}, n, seed, s.today())
	if err != nil {
		return fail(err)
	}
	return c.Redirect("/staff/assess/inspections#plan-"+p.ID, fiber.StatusSeeOther)
}

// submitFinding records a finding with its photos (a multipart form).
func (s *Server) submitFinding(c *fiber.Ctx) error {
	f := formInspect(c)
	fail := func(err error) error {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderInspections(c, f, err, "finding")
	}
	subject, id, _ := strings.Cut(f.Target, ":")
	var village string
	switch subject {
	case appliance.SubjectVillage:
		village = id
	case appliance.SubjectGroup:
		village = id[:min(12, len(id))]
	case appliance.SubjectPerson:
		if m, err := s.Store.Staff(id); err == nil && len(m.Grid) >= 12 {
			village = m.Grid[:12]
		} else {
			return fail(appliance.FieldError("target", "请选择被督查的村、村民组或人员"))
		}
	default:
		return fail(appliance.FieldError("target", "请选择被督查的村、村民组或人员"))
	}
	units, err := strconv.Atoi(f.Units)
	if err != nil {
		return fail(appliance.FieldError("units", "次数应为1到100的整数"))
	}
	photos, err := readPhotos(c)
	if err != nil {
		return fail(err)
	}
	fd := appliance.Finding{Village: village, Inspection: f.Plan, Way: f.Way, Date: f.Date, Subject: subject, SubjectID: id,
		Rule: f.Rule, Units: units, Text: f.Text, Inspector: f.Inspector}
	if _, err := s.Store.AddFindingPhotos(c.UserContext(), actor(c), fd, photos, s.today()); err != nil {
		if appliance.ErrorField(err) == "village" || appliance.ErrorField(err) == "subject_id" || appliance.ErrorField(err) == "subject" {
			err = appliance.FieldError("target", "%s", appliance.ErrorMessage(err))
		}
		return fail(err)
	}
	s.copyDown(c.UserContext())
	return c.Redirect("/staff/assess#findings", fiber.StatusSeeOther)
}

// submitDecision is the town's decision on an objection, from the
// findings on /staff/assess.
func (s *Server) submitDecision(c *fiber.Ctx) error {
	if _, err := s.Store.DecideObjection(c.UserContext(), actor(c), c.FormValue("finding"), c.FormValue("decision"), c.FormValue("decision_text"), s.today()); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderAssess(c, err)
	}
	s.copyDown(c.UserContext())
	return c.Redirect("/staff/assess#findings", fiber.StatusSeeOther)
}

// serveFindingPhoto shows a finding's photo to whoever sees the finding:
// the staff of the village it concerns and of its town.
func (s *Server) serveFindingPhoto(c *fiber.Ctx) error {
	scope, err := s.assessScope()
	if err != nil {
		return err
	}
	if scope == appliance.TownOf(scope) {
		scope = scope[:9]
	}
	data, err := s.Store.FindingPhoto(scope, c.Params("sum"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/jpeg")
	c.Set(fiber.HeaderCacheControl, "private, max-age=31536000, immutable")
	return c.Send(data)
}
