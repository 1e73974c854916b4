package ui_test

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// Who may use each route: DESIGN.md's "People and what they may do" as a
// table. "public" is anyone, logins or not; "staff" is any logged-in
// account; otherwise the roles, by their letters:
//
//	D duty staff  G grid leader  L village lead  T town operator
//	P department  C city operator  I inspector  A admin
//
// A route without its row here fails TestRouteRoleTable: adding a route
// means deciding who may use it.
var routeRoles = map[string]string{
	// Kiosk and public answers.
	"GET /":                         "public",
	"GET /duty":                     "public",
	"GET /services":                 "public",
	"GET /notices":                  "public",
	"GET /notices/:id":              "public",
	"GET /report":                   "public",
	"GET /report/:category":         "public",
	"POST /report/:category":        "public",
	"GET /report/:category/:way":    "public",
	"GET /textsize":                 "public",
	"GET /api/v1/kiosk/phrases":     "public",
	"POST /report/receipt/print":    "public",
	"GET /track":                    "public",
	"POST /track":                   "public",
	"POST /track/rate":              "public",
	"GET /scan":                     "public",
	"GET /signin":                   "public", // staff cards scanned at the kiosk screen
	"POST /signin":                  "public", // the box's own screen only; elsewhere 400, for anyone
	"GET /static/:name":             "public",
	"GET /healthz":                  "public",
	"GET /screen/beat":              "public", // the box's own screen only; elsewhere 404
	"GET /healthz/screen":           "public", // the box's own screen (gridbox kiosk) only; elsewhere 404
	"GET /releases/:arch":           "public", // a release file a town hands down (signed; villages check it)
	"GET /api/v1/node":              "public",
	"GET /api/v1/duty":              "public",
	"GET /api/v1/notices":           "public",
	"POST /api/v1/kiosk/cases":      "public",
	"POST /api/v1/track":            "public",
	"POST /api/v1/track/rate":       "public",
	"GET /api/v1/track/scan":        "public",
	"GET /login":                    "public",
	"POST /login":                   "public",
	"POST /logout":                  "public",
	"GET /idle":                     "public",
	"GET /metrics":                  "staff", // and the box itself
	"GET /password":                 "staff",
	"POST /password":                "staff",
	"GET /staff/account":            "staff",
	"POST /staff/account/tokens":    "staff",
	"GET /api/v1/me":                "staff",
	"POST /api/v1/password":         "staff",
	"POST /api/v1/token":            "staff",
	"GET /api/v1/tokens":            "staff",
	"DELETE /api/v1/tokens/:id":     "staff",
	"GET /staff":                    "DGLTPCIA",
	"GET /staff/users":              "LA",
	"POST /staff/users":             "LA",
	"POST /staff/users/:id":         "LA",
	"POST /staff/users/cards/:id":   "LA",
	"GET /staff/grid":               "DGLTPCIA",
	"POST /staff/grid":              "LA",
	"POST /staff/grid/staff":        "LA",
	"GET /api/v1/grids":             "DGLTPCIA",
	"POST /api/v1/grids":            "LA",
	"GET /api/v1/staff":             "DGLTPCIA",
	"POST /api/v1/staff":            "LA",
	"GET /staff/duty":               "DGLTPCIA",
	"POST /staff/duty":              "LTA",
	"POST /api/v1/duty":             "LTA",
	"GET /staff/notices":            "LTA",
	"POST /staff/notices":           "LTA",
	"POST /api/v1/notices":          "LTA",
	"GET /api/v1/stats/ledger":      "DGLTPCIA",
	"GET /staff/replication":        "DGLTPCIA",
	"GET /api/v1/replication":       "DGLTPCIA",
	"POST /staff/replication/enrol": "A",
	"GET /staff/system":             "DGLTPCIA",
	"GET /api/v1/system":            "DGLTPCIA",
	"GET /staff/calendar":           "DGLTPCIA",
	"POST /staff/calendar":          "", // nobody on a village node; town and city operators and admins on a town or city node (TestCalendarEntered)
	"GET /api/v1/calendar":          "DGLTPCIA",

	// For integrators (issue 18).
	"GET /api/v1/openapi.json":       "public",
	"GET /api/v1/categories":         "public",
	"GET /api/v1/events":             "DGLTPCI",
	"GET /api/v1/users":              "LA",
	"POST /api/v1/users":             "LA",
	"POST /api/v1/users/:id/:action": "LA",

	// Cases: everyone reads (grid leaders their group's); the people who
	// work cases write; inspectors and admins write no case steps.
	"GET /staff/cases":                  "DGLTPCI",
	"GET /staff/cases/:id":              "DGLTPCI",
	"POST /staff/cases/:id/:action":     "DGLTPC",
	"GET /staff/cases/new":              "DGL",
	"POST /staff/cases/new":             "DGL",
	"GET /staff/cases/register":         "DGLTPCIA",
	"GET /staff/cases/register.xlsx":    "DGLTPCIA",
	"POST /staff/cases/register/close":  "LT",
	"GET /staff/cases/stats":            "DGLTPCIA",
	"GET /staff/cases/towns":            "DGLTPCIA",
	"GET /staff/cases/photos/:sum":      "DGLTPCI",
	"GET /staff/cases/:id/voice":        "DGLTPCI",
	"GET /api/v1/cases/:id/voice":       "DGLTPCI",
	"GET /staff/cases/callbacks":        "DGL",
	"GET /api/v1/cases/callbacks":       "DGL",
	"GET /staff/kiosk/phrases":          "LA",
	"POST /staff/kiosk/phrases":         "LA",
	"POST /api/v1/kiosk/phrases":        "LA",
	"GET /api/v1/cases":                 "DGLTPCI",
	"POST /api/v1/cases":                "DGL",
	"GET /api/v1/cases/:id":             "DGLTPCI",
	"POST /api/v1/cases/:id/:action":    "DGLTPC",
	"GET /api/v1/cases/due":             "DGLTPCI",
	"GET /api/v1/cases/stats":           "DGLTPCIA",
	"GET /api/v1/cases/town-reports":    "DGLTPCIA",
	"GET /api/v1/cases/register":        "DGLTPCIA",
	"POST /api/v1/cases/register/close": "LT",

	// The household archive: grid leaders and the lead; the town reads.
	"GET /staff/households":                            "GLT",
	"GET /staff/households/new":                        "GL",
	"POST /staff/households":                           "GL",
	"GET /staff/households/import":                     "GL",
	"POST /staff/households/import":                    "GL",
	"GET /staff/households/export.xlsx":                "GLT",
	"GET /staff/households/duplicates":                 "GLT",
	"POST /staff/households/duplicates":                "GL",
	"GET /staff/population":                            "GLT",
	"GET /staff/population/:group.svg":                 "GLT",
	"GET /staff/households/:id":                        "GLT",
	"GET /staff/households/:id/edit":                   "GL",
	"POST /staff/households/:id/edit":                  "GL",
	"GET /staff/households/:id/members/new":            "GL",
	"POST /staff/households/:id/members/new":           "GL",
	"GET /staff/households/:id/event":                  "GL",
	"POST /staff/households/:id/event":                 "GL",
	"GET /staff/members/:pid/edit":                     "GL",
	"POST /staff/members/:pid/edit":                    "GL",
	"POST /staff/members/:pid/reveal":                  "L",
	"POST /staff/households/:id/appointments":          "GL",
	"POST /staff/appointments/:id":                     "GL",
	"GET /api/v1/households":                           "GLT",
	"POST /api/v1/households":                          "GL",
	"GET /api/v1/households/:id":                       "GLT",
	"PUT /api/v1/households/:id":                       "GL",
	"GET /api/v1/households/:id/history":               "GLT",
	"POST /api/v1/households/:id/events":               "GL",
	"POST /api/v1/households/:id/members":              "GL",
	"PUT /api/v1/members/:pid":                         "GL",
	"POST /api/v1/members/:pid/reveal":                 "L",
	"GET /api/v1/households/:id/appointments":          "GLT",
	"POST /api/v1/appointments":                        "GL",
	"GET /api/v1/search":                               "GLT",
	"GET /api/v1/duplicates":                           "GLT",
	"POST /api/v1/import/dry-run":                      "GL",
	"POST /api/v1/import/commit":                       "GL",
	"GET /api/v1/import/mapping":                       "GL",
	"PUT /api/v1/import/mapping":                       "GL",
	"GET /api/v1/import/:token/refused.xlsx":           "GL",
	"GET /staff/households/import/:token/refused.xlsx": "GL",
	"POST /api/v1/duplicates":                          "GL",
	"GET /api/v1/export.xlsx":                          "GLT",
	"GET /api/v1/stats/groups":                         "GLT",
	"GET /staff/visits":                                "GL",
	"POST /staff/visits":                               "GL",
	"GET /staff/visits/new":                            "GL",
	"GET /staff/visits/diary":                          "GL",
	"GET /api/v1/visits":                               "GL",
	"POST /api/v1/visits":                              "GL",
	"GET /api/v1/visits/coverage":                      "GL",
	"GET /api/v1/visits/diary":                         "GL",

	// Printing.
	"GET /staff/print":                  "DGLTA",
	"GET /staff/print/pdf":              "DGLTA",
	"POST /staff/print":                 "DGLTA",
	"GET /staff/print/jobs/:id.pdf":     "DGLTA",
	"POST /staff/print/jobs/:id/retry":  "DGLTA",
	"GET /api/v1/print/documents":       "DGLTA",
	"GET /api/v1/print/pdf":             "DGLTA",
	"POST /api/v1/print/":               "DGLTA",
	"GET /api/v1/print/jobs":            "DGLTA",
	"POST /api/v1/print/jobs/:id/retry": "DGLTA",

	// The working week (docs/week.md): everyone reads the duty log; those
	// who keep duty write it and swap; who keeps the roster makes it and
	// sees the days nobody signed in.
	"GET /staff/week":            "DGLTPCIA",
	"GET /staff/duty/log":        "DGLTPCIA",
	"POST /staff/duty/log":       "DGLT",
	"GET /staff/duty/roster":     "LTA",
	"POST /staff/duty/roster":    "LTA",
	"GET /staff/duty/swaps":      "DGLT",
	"POST /staff/duty/swaps":     "DGLT",
	"POST /staff/duty/swaps/:id": "DGLT",
	"GET /staff/duty/gaps":       "LTA",
	"GET /api/v1/duty/log":       "DGLTPCIA",
	"POST /api/v1/duty/log":      "DGLT",
	// Meetings: everyone reads; the village lead and the town operator
	// keep them; anyone signs themselves in.
	"GET /staff/meetings":              "DGLTPCIA",
	"POST /staff/meetings":             "LT",
	"GET /staff/meetings/:id":          "DGLTPCIA",
	"POST /staff/meetings/:id":         "LT",
	"POST /staff/meetings/:id/sign":    "DGLTPCIA",
	"POST /staff/meetings/:id/actions": "LT",
	"POST /staff/actions/:id":          "LT",
	"GET /api/v1/meetings":             "DGLTPCIA",
	"GET /api/v1/meetings/:id":         "DGLTPCIA",
	// Services: villagers ask at the kiosk; the duty desk (duty staff,
	// grid leaders, the lead) handles; the lead keeps the catalogue.
	"GET /services/ask":              "public",
	"POST /services/ask":             "public",
	"GET /staff/services":            "DGLTPCIA",
	"POST /staff/services":           "DGL",
	"GET /staff/services/households": "GLT",
	"GET /staff/services/catalogue":  "LA",
	"POST /staff/services/catalogue": "LA",
	"GET /staff/services/:id":        "DGLTPCIA",
	"POST /staff/services/:id":       "DGL",
	// Work teams and the duty lists: everyone reads; those who keep duty
	// sign members in and write their journals; the lead and the town
	// keep the team and the lists.
	"GET /staff/teams":          "DGLTPCIA",
	"POST /staff/teams":         "LT",
	"POST /staff/teams/sign":    "DGLT",
	"POST /staff/teams/journal": "DGLT",
	"GET /staff/rules":          "DGLTPCIA",
	"POST /staff/rules":         "LT",
	// The assessment (docs/assessment.md): the board is public (grids
	// only); every account reads scores (people: their own, unless lead,
	// town or inspector); the inspection group keeps rules, findings and
	// decisions; the village lead (or town operator) objects.
	"GET /board":                                 "public",
	"GET /staff/assess":                          "DGLTPCIA",
	"GET /staff/assess/score":                    "DGLTPCIA",
	"POST /staff/assess/objection":               "LT",
	"GET /api/v1/assess/rules":                   "DGLTPCIA",
	"POST /api/v1/assess/rules":                  "I",
	"GET /api/v1/assess/scores":                  "DGLTPCIA",
	"GET /api/v1/assess/findings":                "DGLTPCIA",
	"POST /api/v1/assess/findings":               "I",
	"POST /api/v1/assess/findings/:id/objection": "LT",
	"POST /api/v1/assess/findings/:id/decision":  "I",
	"GET /api/v1/assess/inspections":             "I",
	"POST /api/v1/assess/department-ratings":     "LT",
	"POST /api/v1/assess/appraisals":             "LT",
	"POST /api/v1/assess/inspections":            "I",
	"GET /staff/assess/inspections":              "I",
	"POST /staff/assess/inspections":             "I",
	"POST /staff/assess/findings":                "I",
	"POST /staff/assess/findings/decision":       "I",
	"GET /staff/assess/photos/:sum":              "DGLTPCIA",
	"GET /staff/assess/departments":              "LT",
	"POST /staff/assess/departments":             "LT",
	"GET /staff/assess/appraisals":               "LT",
	"GET /api/v1/assess/towns":                   "DGLTPCIA",
	"POST /staff/assess/appraisals":              "LT",
}

var roleLetters = map[byte]appliance.Role{
	'D': appliance.RoleDutyStaff, 'G': appliance.RoleGridLeader, 'L': appliance.RoleVillageLead, 'T': appliance.RoleTownOperator,
	'P': appliance.RoleDepartment, 'C': appliance.RoleCityOperator, 'I': appliance.RoleInspector, 'A': appliance.RoleAdmin,
}

// samplePath fills a route's parameters with values that exist nowhere
// (a handler answering 404 has let the person past its role check).
func samplePath(route string) string {
	r := strings.NewReplacer(":category", "public_affairs", ":group.svg", "410184104201-09.svg", ":id.pdf", "nojob.pdf",
		":sum", strings.Repeat("0", 64), ":token", "notoken", ":name", "none.css", ":action", "note", ":way", "voice", ":pid", "nobody", ":id", "nothing")
	return r.Replace(route)
}

// TestRouteRoleTable walks the live route table (fiber's GetRoutes) and
// sends every route's request as nobody and as each role, from a LAN
// address: each is let through or refused as routeRoles says.
func TestRouteRoleTable(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{Tune: func(cfg *appliance.Config) {
		lots := appliance.Rate{N: 100000, Per: time.Minute}
		cfg.Limits = appliance.LimitsConfig{ReportsPerClient: lots, ReportsAll: lots, ReportsScreen: lots, PostsPerClient: lots}
	}})
	var routes []string
	seen := map[string]bool{}
	for _, r := range srv.UI.App().GetRoutes(true) {
		if r.Method == http.MethodHead || r.Method == "USE" {
			continue
		}
		key := r.Method + " " + r.Path
		if seen[key] {
			continue
		}
		seen[key] = true
		if _, ok := routeRoles[key]; !ok {
			t.Errorf("route %s has no row in routeRoles: decide who may use it", key)
			continue
		}
		routes = append(routes, key)
	}
	for key := range routeRoles {
		if !seen[key] {
			t.Errorf("routeRoles has %s, which the server does not serve", key)
		}
	}
	sort.Strings(routes)

	type identity struct {
		name string
		role appliance.Role
		c    *uitest.Client
	}
	ids := []identity{{name: "anonymous", c: srv.ClientFrom(t, "127.0.0.20")}}
	for i, r := range appliance.Roles {
		c := srv.ClientFrom(t, "127.0.0.2"+string(rune('1'+i)))
		name := strings.ReplaceAll(string(r), "_", "")
		c.Login(name)
		ids = append(ids, identity{name: name, role: r, c: c})
	}
	for _, key := range routes {
		method, route, _ := strings.Cut(key, " ")
		if key == "POST /logout" {
			continue // ends the session the other checks use; TestLogin covers it
		}
		spec := routeRoles[key]
		for _, id := range ids {
			allowed := spec == "public" || spec == "staff" && id.role != "" || id.role != "" && strings.ContainsFunc(spec, func(r rune) bool { return r < 128 && roleLetters[byte(r)] == id.role })
			status, loc := sendAs(t, srv.URL, id.c, method, samplePath(route))
			refused := status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusSeeOther && strings.HasPrefix(loc, "/login")
			if allowed == refused {
				t.Errorf("%s as %s: status %d %s; want allowed=%v", key, id.name, status, loc, allowed)
			}
		}
	}
}

// sendAs makes the request a browser or script would, with the client's
// session and CSRF token and an empty body of the route's kind.
func sendAs(t *testing.T, base string, c *uitest.Client, method, path string) (int, string) {
	t.Helper()
	var req *http.Request
	switch {
	case method == http.MethodGet || method == http.MethodDelete:
		req, _ = http.NewRequest(method, base+path, nil)
	case strings.HasPrefix(path, "/api/"):
		req, _ = http.NewRequest(method, base+path, strings.NewReader("{}"))
		req.Header.Set("Content-Type", "application/json")
	default:
		req, _ = http.NewRequest(method, base+path, strings.NewReader(url.Values{"_csrf": {c.CSRF()}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-CSRF-Token", c.CSRF())
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}
