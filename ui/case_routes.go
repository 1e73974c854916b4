package ui

import (
	"context"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// caseUI holds the case service and the QR token signer for the case pages;
// its handlers are registered with the server's routes.
type caseUI struct {
	s       *Server
	cases   *bolt.Cases
	tokens  *appliance.TokenSigner
	phrases *phraseBook // the kiosk's tap phrases (ui/kiosk_phrases.go)
}

func init() {
	const (
		D, G, L, T = appliance.RoleDutyStaff, appliance.RoleGridLeader, appliance.RoleVillageLead, appliance.RoleTownOperator
		P, C, I    = appliance.RoleDepartment, appliance.RoleCityOperator, appliance.RoleInspector
	)
	type roles = []appliance.Role
	staffNav = append(staffNav,
		NavItem{Href: "/staff/cases/new?source=phone", Label: "来电登记", Perm: appliance.PermRegisterCase, Section: "问题办理", Primary: roles{D}},
		NavItem{Href: "/staff/cases/new", Label: "来访登记", Perm: appliance.PermRegisterCase, Section: "问题办理", Primary: roles{D}},
		NavItem{Href: "/staff/cases/callbacks", Label: "回电与待分类", Perm: appliance.PermRegisterCase, Section: "问题办理", Node: appliance.NodeVillage, Primary: roles{D}},
		NavItem{Href: "/staff/cases?mine=1", Label: "待我办理", Perm: appliance.PermHandleCase, Section: "问题办理", Primary: roles{G, L, T, P, C}, Rank: -1},
		NavItem{Href: "/staff/cases/new?source=patrol", Label: "巡查上报", Perm: appliance.PermRecordVisit, Section: "问题办理", Primary: roles{G}},
		NavItem{Href: "/staff/cases", Label: "问题办理", Perm: appliance.PermViewCases, Section: "问题办理", Primary: roles{D, L, T, P, I}},
		NavItem{Href: "/staff/cases/register", Label: "台账", Perm: appliance.PermViewDashboard, Section: "问题办理", Node: appliance.NodeVillage, Primary: roles{L}},
		NavItem{Href: "/staff/cases/stats", Label: "问题统计", Perm: appliance.PermViewDashboard, Section: "问题办理", Primary: roles{L, T, C, I}},
		NavItem{Href: "/staff/cases/towns", Label: "乡镇排名", Perm: appliance.PermViewDashboard, Section: "问题办理", Node: appliance.NodeCity, Primary: roles{C}},
	)
	registerRoutes(func(s *Server) {
		cs := s.cases
		tokens, err := appliance.NewTokenSigner(s.Store.Secret())
		if err != nil {
			panic("cases: " + err.Error())
		}
		tokens.AcceptAlso(s.qrSecrets()) // codes printed for the town: ui/print_scan.go
		u := &caseUI{s: s, cases: cs, tokens: tokens, phrases: newPhraseBook(s.Config)}
		u.routes(s.app)
		u.startAutoEscalation()
	})
	dashboardCounters = append(dashboardCounters, caseDashboardCounters)
}

func (u *caseUI) routes(a *fiber.App) {
	s := u.s
	// Kiosk: public.
	a.Get("/report", u.showReportStart)
	a.Get("/report/:category", u.showReportForm)
	a.Get("/report/:category/:way", u.showReportWay)
	a.Post("/report/:category", s.limitReports, u.submitReport)
	a.Get("/track", u.showTrack)
	a.Post("/track", u.submitTrack)
	a.Post("/track/rate", u.submitRate)
	a.Get("/scan", u.submitScan)

	// Staff.
	a.Get("/staff/cases", s.require(appliance.PermViewCases), u.showCaseList)
	a.Get("/staff/cases/new", s.require(appliance.PermRegisterCase), u.showCaseNew)
	a.Post("/staff/cases/new", s.require(appliance.PermRegisterCase), u.submitCaseNew)
	a.Get("/staff/cases/register", s.require(appliance.PermViewDashboard), u.showRegister)
	a.Post("/staff/cases/register/close", s.require(appliance.PermEscalateCase), u.submitRegisterClose)
	a.Get("/staff/cases/register.xlsx", s.require(appliance.PermViewDashboard), u.exportRegister)
	a.Get("/staff/cases/stats", s.require(appliance.PermViewDashboard), u.showCaseStats)
	a.Get("/staff/cases/towns", s.require(appliance.PermViewDashboard), u.showTownRanking)
	a.Get("/staff/cases/photos/:sum", s.require(appliance.PermViewCases), u.servePhoto)
	a.Get("/staff/cases/callbacks", s.require(appliance.PermRegisterCase), u.showCallbacks)
	a.Get("/staff/cases/:id/voice", s.require(appliance.PermViewCases), u.serveVoice)
	a.Get("/staff/kiosk/phrases", s.require(appliance.PermManageKiosk), u.showPhrases)
	a.Post("/staff/kiosk/phrases", s.require(appliance.PermManageKiosk), u.submitPhrases)
	a.Get("/staff/cases/:id", s.require(appliance.PermViewCases), u.showCase)
	a.Post("/staff/cases/:id/:action", s.require(appliance.PermNoteCase), u.submitCaseAction)

	// API.
	api := a.Group("/api/v1")
	api.Post("/kiosk/cases", s.limitReports, u.apiKioskReport)
	api.Get("/kiosk/phrases", u.apiPhrases)
	api.Post("/kiosk/phrases", s.require(appliance.PermManageKiosk), u.apiSetPhrases)
	api.Post("/track", u.apiTrack)
	api.Get("/track/scan", u.apiScan)
	api.Post("/track/rate", u.apiRate)
	api.Get("/cases", s.require(appliance.PermViewCases), u.apiCases)
	api.Post("/cases", s.require(appliance.PermRegisterCase), u.apiRegisterCase)
	api.Get("/cases/due", s.require(appliance.PermViewCases), u.apiDue)
	api.Get("/cases/callbacks", s.require(appliance.PermRegisterCase), u.apiCallbacks)
	api.Get("/cases/:id/voice", s.require(appliance.PermViewCases), u.serveVoice)
	api.Get("/cases/stats", s.require(appliance.PermViewDashboard), u.apiStats)
	api.Get("/cases/town-reports", s.require(appliance.PermViewDashboard), u.apiTownReports)
	api.Get("/cases/register", s.require(appliance.PermViewDashboard), u.apiRegister)
	api.Post("/cases/register/close", s.require(appliance.PermEscalateCase), u.apiRegisterClose)
	api.Get("/cases/:id", s.require(appliance.PermViewCases), u.apiCase)
	api.Post("/cases/:id/:action", s.require(appliance.PermNoteCase), u.apiCaseAction)
}

// groupScope is the group a person's case work is limited to: a grid
// leader's own level-3 grid; "" for everyone whose scope is the whole node.
func groupScope(usr *appliance.User) string {
	if usr != nil && strings.Contains(usr.Grid, "-") {
		return usr.Grid
	}
	return ""
}

// caseFor loads a case the person may see: a grid leader never lists,
// reads or acts on another group's case; to them it does not exist.
func (u *caseUI) caseFor(c *fiber.Ctx, id string) (*appliance.Case, error) {
	cc, err := u.cases.Case(id)
	if err != nil {
		return nil, err
	}
	if g := groupScope(currentUser(c)); g != "" && cc.Group != g {
		return nil, appliance.Errorf(appliance.ENOTFOUND, "问题不存在")
	}
	return cc, nil
}

// scopeCases limits a case filter to the person's group, if they have one.
func scopeCases(c *fiber.Ctx, f *bolt.CaseFilter) {
	if g := groupScope(currentUser(c)); g != "" {
		f.Group = &g
	}
}

// scopeDue keeps the due cases of the person's group, if they have one.
func scopeDue(c *fiber.Ctx, due []bolt.DueCase) []bolt.DueCase {
	g := groupScope(currentUser(c))
	if g == "" {
		return due
	}
	var out []bolt.DueCase
	for _, d := range due {
		if d.Case.Group == g {
			out = append(out, d)
		}
	}
	return out
}

// userLevels are the case levels a person may change cases at (before
// intersecting with the node's own levels).
func userLevels(usr *appliance.User) []string {
	if usr == nil {
		return nil
	}
	switch usr.Role {
	case appliance.RoleGridLeader:
		return []string{appliance.CaseLevelGroup}
	case appliance.RoleVillageLead:
		return []string{appliance.CaseLevelGroup, appliance.CaseLevelVillage}
	case appliance.RoleTownOperator, appliance.RoleDepartment:
		return []string{appliance.CaseLevelTown}
	case appliance.RoleCityOperator:
		return []string{appliance.CaseLevelCity}
	}
	return nil
}

// actionPerm is the permission each action needs on top of a level.
func actionPerm(action, from string) appliance.Permission {
	switch action {
	case appliance.CaseDispatch, appliance.CaseMeeting:
		return appliance.PermDispatchCase
	case appliance.CaseEscalate, appliance.CaseReturn, appliance.CaseMerge, appliance.CaseInvalid:
		switch {
		case from == appliance.CaseLevelGroup && action == appliance.CaseEscalate:
			return appliance.PermHandleCase // the grid leader passes it up to the village
		case (from == appliance.CaseLevelTown || from == appliance.CaseLevelCity) && action == appliance.CaseReturn:
			return appliance.PermDispatchCase // platforms send cases back down
		}
		return appliance.PermEscalateCase
	case appliance.CaseNote:
		return appliance.PermNoteCase
	case appliance.CaseCallback, appliance.CaseClassify:
		return appliance.PermRegisterCase // the duty staff call back and sort out
	}
	return appliance.PermHandleCase
}

// startAutoEscalation runs EscalateOverdue once a minute after the server
// starts listening and then every hour, until it shuts down. Only
// categories with auto_escalate take part.
func (u *caseUI) startAutoEscalation() {
	ctx, cancel := context.WithCancel(context.Background())
	u.s.app.Hooks().OnListen(func(fiber.ListenData) error {
		go u.cases.RunRelay(ctx) // a town: cases at the city up, the city's steps down
		go func() {
			t := time.NewTimer(time.Minute)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				n, err := u.cases.EscalateOverdue(ctx, time.Now())
				if err != nil {
					u.s.Log.Error("auto escalation", "err", err)
				} else if n > 0 {
					u.s.Log.Info("auto escalation", "cases", n)
				}
				t.Reset(time.Hour)
			}
		}()
		return nil
	})
	u.s.app.Hooks().OnShutdown(func() error { cancel(); return nil })
}

// caseLabels are the Chinese labels the case templates look up with index.
func (u *caseUI) caseLabels() fiber.Map {
	cats := map[string]string{}
	for _, c := range u.s.Config.Cases.Categories {
		cats[c.Key] = c.Name
	}
	return fiber.Map{
		"Status": appliance.CaseStatusLabels, "Level": appliance.CaseLevelLabels, "Source": appliance.CaseSourceLabels,
		"Action": appliance.CaseActionLabels, "Rating": appliance.RatingLabels, "Category": cats, "Callback": appliance.CallbackOutcomeLabels,
	}
}

func (u *caseUI) categoryName(key string) string {
	if c, ok := u.s.Config.Category(key); ok {
		return c.Name
	}
	return key
}
