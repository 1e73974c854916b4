package ui

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// The 100-point assessment (docs/assessment.md): staff see their own
// breakdown and the rankings, the kiosk shows the grids' board, the town's
// inspection group keeps the rules and findings through the API.
func init() {
	staffNav = append(staffNav, NavItem{Href: "/staff/assess", Label: "考核积分", Perm: appliance.PermViewDashboard, Section: "村务",
		Primary: []appliance.Role{appliance.RoleInspector}})
	registerRoutes(func(s *Server) {
		a := s.app
		view, assess, object := s.require(appliance.PermViewDashboard), s.require(appliance.PermAssess), s.require(appliance.PermManageMeetings)
		a.Get("/board", s.showBoard)
		a.Get("/staff/assess", view, s.showAssess)
		a.Get("/staff/assess/score", view, s.showAssessScore)
		a.Post("/staff/assess/objection", object, s.submitObjection)
		a.Get("/api/v1/assess/rules", view, s.apiRuleTables)
		a.Post("/api/v1/assess/rules", assess, s.apiSetRuleTable)
		a.Get("/api/v1/assess/scores", view, s.apiScores)
		a.Get("/api/v1/assess/findings", view, s.apiFindings)
		a.Post("/api/v1/assess/findings", assess, s.apiAddFinding)
		a.Post("/api/v1/assess/findings/:id/objection", object, s.apiObjectFinding)
		a.Post("/api/v1/assess/findings/:id/decision", assess, s.apiDecideFinding)
		a.Post("/api/v1/assess/department-ratings", object, s.apiRateDepartment)
		a.Post("/api/v1/assess/appraisals", object, s.apiSetAppraisal)
		a.Get("/api/v1/assess/inspections", assess, s.apiInspections)
		a.Post("/api/v1/assess/inspections", assess, s.apiPlanInspection)
	})
}

// seesEveryone: the village lead, the town operator and the inspection
// group see every person's score; others their own.
func seesEveryone(u *appliance.User) bool {
	return u.Can(appliance.PermAssess) || u.Can(appliance.PermManageMeetings)
}

// assessScope is what this node scores: its village, or its town's
// villages; a city ranks what its towns send up (ui/assess_city.go).
func (s *Server) assessScope() (string, error) {
	switch s.Config.Node.Role {
	case appliance.NodeVillage, appliance.NodeTown:
		return s.Config.Node.Code, nil
	}
	return "", appliance.Errorf(appliance.ENOTFOUND, "市级节点不计算积分：各乡镇报送季度、年度积分，见“考核积分”页的排名")
}

// periodScores computes this node's scores for ?period= (2026-W46,
// 2026-11, 2026-Q4, 2026), dflt when absent.
func (s *Server) periodScores(c *fiber.Ctx, dflt appliance.Period) (string, appliance.Period, []appliance.Score, error) {
	scope, err := s.assessScope()
	if err != nil {
		return "", dflt, nil, err
	}
	p := dflt
	if q := c.Query("period"); q != "" {
		if p, err = appliance.ParsePeriod(q); err != nil {
			return scope, p, nil, err
		}
	}
	scores, err := s.Store.Scores(scope, p, s.today())
	return scope, p, scores, err
}

// thisWeek is the week holding today; lastWeek the latest that has ended.
func (s *Server) thisWeek() appliance.Period {
	p, _ := appliance.PeriodOf(appliance.PeriodWeek, s.today())
	return p
}

func (s *Server) lastWeek() appliance.Period {
	p, _ := appliance.PeriodOf(appliance.PeriodWeek, s.now().AddDate(0, 0, -7).Format(time.DateOnly))
	return p
}

// ownStaffID is the staff record of the account on this node, "" if none.
func (s *Server) ownStaffID(u *appliance.User) string {
	staff, err := s.nodeStaff()
	if err != nil {
		return ""
	}
	for _, m := range staff {
		if m.UserID == u.ID {
			return m.ID
		}
	}
	return ""
}

// visibleScores keeps what u may see: every grid and department, and the
// people only for those who see everyone (else their own).
func (s *Server) visibleScores(u *appliance.User, scores []appliance.Score) []appliance.Score {
	if seesEveryone(u) {
		return scores
	}
	own := s.ownStaffID(u)
	var out []appliance.Score
	for _, sc := range scores {
		if sc.Subject != appliance.SubjectPerson || own != "" && sc.ID == own {
			out = append(out, sc)
		}
	}
	return out
}

type scoreTable struct {
	Title  string
	Scores []appliance.Score
}

func (s *Server) showAssess(c *fiber.Ctx) error { return s.renderAssess(c, nil) }

func (s *Server) renderAssess(c *fiber.Ctx, formErr error) error {
	u := currentUser(c)
	if s.Config.Node.Role == appliance.NodeCity {
		return s.renderCityAssess(c) // ui/assess_city.go
	}
	if _, err := s.assessScope(); err != nil {
		return s.render(c, "staff_assess", fiber.Map{"Title": "考核积分", "Unavailable": appliance.ErrorMessage(err)})
	}
	scope, p, scores, err := s.periodScores(c, s.thisWeek())
	if err != nil {
		return err
	}
	scores = s.visibleScores(u, scores)
	own := s.ownStaffID(u)
	var mine *appliance.Score
	by := map[string][]appliance.Score{}
	for i, sc := range scores {
		if sc.Subject == appliance.SubjectPerson && sc.ID == own {
			mine = &scores[i]
		}
		by[sc.Subject] = append(by[sc.Subject], sc)
	}
	var tables []scoreTable
	for _, t := range []struct{ subject, title string }{
		{appliance.SubjectVillage, "各村（二级网格）排名"},
		{appliance.SubjectGroup, "村民组（三级网格）排名"},
		{appliance.SubjectPerson, "个人积分"},
		{appliance.SubjectDepartment, "职能部门（双向评议）"},
	} {
		if len(by[t.subject]) > 0 && !(t.subject == appliance.SubjectVillage && s.Config.Node.Role == appliance.NodeVillage) {
			tables = append(tables, scoreTable{t.title, by[t.subject]})
		}
	}
	tables2, err := s.Store.RuleTables(appliance.TownOf(scope))
	if err != nil {
		return err
	}
	rules := appliance.TableOn(tables2, appliance.TownOf(scope), s.today())
	prefix := scope
	if scope == appliance.TownOf(scope) {
		prefix = scope[:9]
	}
	findings, err := s.Store.Findings(prefix)
	if err != nil {
		return err
	}
	if len(findings) > 20 {
		findings = findings[:20]
	}
	data := fiber.Map{"Title": "考核积分", "Period": p, "Periods": s.periodChoices(p), "Mine": mine,
		"Tables": tables, "Rules": rules, "SubjectLabels": appliance.SubjectLabels, "Village": s.Config.Node.Role == appliance.NodeVillage,
		"Findings": findings, "Ways": appliance.InspectionWayLabels, "Decisions": appliance.DecisionLabels,
		"CanObject": u.Can(appliance.PermManageMeetings) && s.Config.Node.Role == appliance.NodeVillage, "Me": u.Name,
		"CanDecide": u.Can(appliance.PermAssess) && s.Config.Node.Role == appliance.NodeTown, "CanRate": u.Can(appliance.PermManageMeetings)}
	setFormError(c, data, formErr)
	return s.render(c, "staff_assess", data)
}

// submitObjection is the village's one objection to a finding, from the
// page.
func (s *Server) submitObjection(c *fiber.Ctx) error {
	if s.Config.Node.Role != appliance.NodeVillage {
		return appliance.Errorf(appliance.EFORBIDDEN, "异议由被督查的村提出")
	}
	o := appliance.Objection{Finding: c.FormValue("finding"), Date: s.today(), Text: c.FormValue("text"), By: c.FormValue("by")}
	if err := s.Store.ObjectFinding(c.UserContext(), actor(c), o); err != nil {
		return s.renderAssess(c, err)
	}
	return c.Redirect("/staff/assess#findings", fiber.StatusSeeOther)
}

type periodChoice struct {
	ID, Label string
	Current   bool
}

// periodChoices are the periods the page offers: this week and the four
// before, this month, this quarter and year.
func (s *Server) periodChoices(cur appliance.Period) []periodChoice {
	var out []periodChoice
	now := s.now()
	add := func(kind string, d time.Time) {
		if p, err := appliance.PeriodOf(kind, d.Format(time.DateOnly)); err == nil {
			out = append(out, periodChoice{p.ID, p.Label(), p.ID == cur.ID})
		}
	}
	for i := 0; i < 5; i++ {
		add(appliance.PeriodWeek, now.AddDate(0, 0, -7*i))
	}
	add(appliance.PeriodMonth, now)
	add(appliance.PeriodMonth, now.AddDate(0, -1, 1-now.Day()))
	add(appliance.PeriodQuarter, now)
	add(appliance.PeriodYear, now)
	return out
}

// showAssessScore is one subject's breakdown: each rule, its points and
// the records behind them.
func (s *Server) showAssessScore(c *fiber.Ctx) error {
	u := currentUser(c)
	subject, id := c.Query("subject"), c.Query("id")
	if subject == "" || id == "" {
		return s.renderAssess(c, nil) // no subject chosen: the overview to choose from
	}
	if subject == appliance.SubjectPerson && !seesEveryone(u) && id != s.ownStaffID(u) {
		return appliance.Errorf(appliance.EFORBIDDEN, "只能查看本人的考核明细")
	}
	_, p, scores, err := s.periodScores(c, s.thisWeek())
	if err != nil {
		return err
	}
	for _, sc := range scores {
		if sc.Subject == subject && sc.ID == id {
			return s.render(c, "staff_assess_score", fiber.Map{"Title": sc.Name + "的考核明细", "Period": p, "Score": sc})
		}
	}
	return appliance.Errorf(appliance.ENOTFOUND, "没有这个考核对象")
}

func (s *Server) showBoard(c *fiber.Ctx) error {
	_, p, scores, err := s.periodScores(c, s.lastWeek())
	if err != nil {
		return err
	}
	rows, err := appliance.PublicBoard(scores, s.Config.Node.Role, p, s.today())
	if err != nil {
		return err
	}
	return s.render(c, "kiosk_board", fiber.Map{"Title": "考核评比公示", "Period": p, "Rows": rows, "Town": s.Config.Node.Role == appliance.NodeTown})
}

// API.

type ruleTablesDoc struct {
	InForce  appliance.RuleTable   `json:"in_force"`
	Versions []appliance.RuleTable `json:"versions"`
}

func (s *Server) apiRuleTables(c *fiber.Ctx) error {
	scope, err := s.assessScope()
	if err != nil {
		return err
	}
	town := appliance.TownOf(scope)
	ts, err := s.Store.RuleTables(town)
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []appliance.RuleTable{}
	}
	day := c.Query("day", s.today())
	return c.JSON(ruleTablesDoc{InForce: *appliance.TableOn(ts, town, day), Versions: ts})
}

func (s *Server) apiSetRuleTable(c *fiber.Ctx) error {
	var t appliance.RuleTable
	if err := bindJSON(c, &t); err != nil {
		return err
	}
	t, err := s.Store.SetRuleTable(c.UserContext(), actor(c), t, s.today())
	if err != nil {
		return err
	}
	s.copyDown(c.UserContext())
	return c.Status(fiber.StatusCreated).JSON(t)
}

type scoresDoc struct {
	Period appliance.Period  `json:"period"`
	Scores []appliance.Score `json:"scores"`
}

func (s *Server) apiScores(c *fiber.Ctx) error {
	_, p, scores, err := s.periodScores(c, s.thisWeek())
	if err != nil {
		return err
	}
	scores = s.visibleScores(currentUser(c), scores)
	if scores == nil {
		scores = []appliance.Score{}
	}
	return c.JSON(scoresDoc{Period: p, Scores: scores})
}

func (s *Server) apiFindings(c *fiber.Ctx) error {
	scope, err := s.assessScope()
	if err != nil {
		return err
	}
	if scope == appliance.TownOf(scope) {
		scope = scope[:9]
	}
	fs, err := s.Store.Findings(scope)
	if err != nil {
		return err
	}
	if fs == nil {
		fs = []bolt.FindingView{}
	}
	return c.JSON(findingsDoc{Findings: fs})
}

type findingsDoc struct {
	Findings []bolt.FindingView `json:"findings"`
}

func (s *Server) apiAddFinding(c *fiber.Ctx) error {
	var f appliance.Finding
	if err := bindJSON(c, &f); err != nil {
		return err
	}
	f, err := s.Store.AddFinding(c.UserContext(), actor(c), f, s.today())
	if err != nil {
		return err
	}
	s.copyDown(c.UserContext())
	return c.Status(fiber.StatusCreated).JSON(f)
}

// findingKey turns the path's town.id into the finding's key.
func findingKey(c *fiber.Ctx) string { return strings.Replace(c.Params("id"), ".", "/", 1) }

type objectionDoc struct {
	Text string `json:"text"`
	By   string `json:"by"`
}

func (s *Server) apiObjectFinding(c *fiber.Ctx) error {
	if s.Config.Node.Role != appliance.NodeVillage {
		return appliance.Errorf(appliance.EFORBIDDEN, "异议由被督查的村提出")
	}
	var d objectionDoc
	if err := bindJSON(c, &d); err != nil {
		return err
	}
	o := appliance.Objection{Finding: findingKey(c), Date: s.today(), Text: d.Text, By: d.By}
	if err := s.Store.ObjectFinding(c.UserContext(), actor(c), o); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(o)
}

type decisionDoc struct {
	Decision string `json:"decision"`
	Text     string `json:"text"`
}

func (s *Server) apiDecideFinding(c *fiber.Ctx) error {
	var d decisionDoc
	if err := bindJSON(c, &d); err != nil {
		return err
	}
	f, err := s.Store.DecideObjection(c.UserContext(), actor(c), findingKey(c), d.Decision, d.Text, s.today())
	if err != nil {
		return err
	}
	s.copyDown(c.UserContext())
	return c.JSON(f)
}

type inspectionsDoc struct {
	Inspections []appliance.Inspection `json:"inspections"`
}

func (s *Server) apiInspections(c *fiber.Ctx) error {
	ps, err := s.Store.Inspections(appliance.TownOf(s.Config.Node.Code))
	if err != nil {
		return err
	}
	if ps == nil {
		ps = []appliance.Inspection{}
	}
	return c.JSON(inspectionsDoc{Inspections: ps})
}

// planDoc is the body of a planned inspection: a random one draws n of
// grids (empty: of all), with seed (16 hex digits) when given.
type planDoc struct {
	Way     string   `json:"way"`
	Date    string   `json:"date"`
	Subject string   `json:"subject"`
	Topic   string   `json:"topic"`
	Note    string   `json:"note,omitempty"`
	Grids   []string `json:"grids,omitempty"`
	N       int      `json:"n,omitempty"`
	Seed    string   `json:"seed,omitempty"`
}

func (s *Server) apiPlanInspection(c *fiber.Ctx) error {
	var d planDoc
	if err := bindJSON(c, &d); err != nil {
		return err
	}
	var seed *uint64
	if d.Seed != "" {
		n, err := strconv.ParseUint(d.Seed, 16, 64)
		if err != nil {
			return appliance.FieldError("seed", "抽签种子应为16位十六进制数")
		}
		seed = &n
	}
	p, err := s.Store.PlanInspection(c.UserContext(), actor(c), appliance.Inspection{Way: d.Way, Date: d.Date, Subject: d.Subject, Topic: d.Topic, Note: d.Note, Grids: d.Grids}, d.N, seed, s.today())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(p)
}

func (s *Server) apiRateDepartment(c *fiber.Ctx) error {
	var r appliance.DeptRating
	if err := bindJSON(c, &r); err != nil {
		return err
	}
	r.Date = s.today()
	if err := s.Store.RateDepartment(c.UserContext(), actor(c), r); err != nil {
		return err
	}
	r.Village = s.Config.Node.Code
	return c.Status(fiber.StatusCreated).JSON(r)
}

// apiSetAppraisal saves a seconded cadre's yearly appraisal (鉴定); it is
// printed as kind appraisal (print/assess_appraisal.go).
func (s *Server) apiSetAppraisal(c *fiber.Ctx) error {
	var a appliance.Appraisal
	if err := bindJSON(c, &a); err != nil {
		return err
	}
	a, err := s.Store.SetAppraisal(c.UserContext(), actor(c), a, s.today())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(a)
}
