package ui

import "gridbox/appliance"

// routesCore registers the foundation's pages and API; feature files add
// theirs with registerRoutes in their init.
func (s *Server) routesCore() {
	a := s.app
	a.Get("/healthz", s.healthz)
	a.Get("/metrics", s.localOrStaff, s.metricsHandler())
	a.Get("/static/:name", s.serveStatic)

	// Kiosk: public, no login.
	a.Get("/", s.showKioskHome)
	a.Get("/duty", s.showDuty)
	a.Get("/services", s.showServices)
	a.Get("/notices", s.showNotices)
	a.Get("/notices/:id", s.showNotice)
	// /report, /track and /scan: ui/case_routes.go.

	// Accounts.
	a.Get("/login", s.showLogin)
	a.Post("/login", s.submitLogin)
	a.Post("/logout", s.submitLogout)
	a.Get("/idle", s.idleLogout)
	a.Get("/password", s.require(""), s.showPassword)
	a.Post("/password", s.require(""), s.submitPassword)

	// Staff.
	a.Get("/staff", s.require(appliance.PermViewDashboard), s.showDashboard)
	a.Get("/staff/users", s.require(appliance.PermManageUsers), s.showUsers)
	a.Post("/staff/users", s.require(appliance.PermManageUsers), s.submitUser)
	a.Post("/staff/users/:id", s.require(appliance.PermManageUsers), s.submitUserAction)
	a.Get("/staff/grid", s.require(appliance.PermViewDashboard), s.showGridEdit)
	a.Post("/staff/grid", s.require(appliance.PermManageGrid), s.submitGrid)
	a.Post("/staff/grid/staff", s.require(appliance.PermManageGrid), s.submitStaff)
	a.Get("/staff/duty", s.require(appliance.PermViewDashboard), s.showDutyEdit)
	a.Post("/staff/duty", s.require(appliance.PermManageDuty), s.submitDuty)
	a.Get("/staff/notices", s.require(appliance.PermManageNotices), s.showNoticeEdit)
	a.Post("/staff/notices", s.require(appliance.PermManageNotices), s.submitNotice)

	// JSON API.
	api := a.Group("/api/v1")
	api.Get("/node", s.apiNode)
	api.Get("/duty", s.apiDuty)
	api.Get("/notices", s.apiNotices)
	api.Get("/me", s.require(""), s.apiMe)
	api.Get("/grids", s.require(appliance.PermViewDashboard), s.apiGrids)
	api.Get("/staff", s.require(appliance.PermViewDashboard), s.apiStaff)
	api.Get("/stats/ledger", s.require(appliance.PermViewDashboard), s.apiLedgerStats)
	api.Post("/grids", s.require(appliance.PermManageGrid), s.apiSetGrid)
	api.Post("/staff", s.require(appliance.PermManageGrid), s.apiSetStaff)
	api.Post("/duty", s.require(appliance.PermManageDuty), s.apiSetDuty)
	api.Post("/notices", s.require(appliance.PermManageNotices), s.apiSetNotice)
	api.Post("/token", s.require(""), s.apiCreateToken)
	api.Get("/tokens", s.require(""), s.apiTokens)
	api.Delete("/tokens/:id", s.require(""), s.apiRevokeToken)
	api.Post("/password", s.require(""), s.apiChangePassword)
	a.Get("/staff/account", s.require(""), s.showAccount)
	a.Post("/staff/account/tokens", s.require(""), s.submitAccountToken)
}
