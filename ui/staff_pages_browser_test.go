package ui_test

import (
	"context"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/appliance/demo"
	"gridbox/ui"
	"gridbox/ui/internal/uitest"
)

// staffNode is a served node of the staff site with its demo accounts.
type staffNode struct {
	URL      string
	Store    *bolt.Store
	Config   appliance.Config
	UI       *ui.Server
	Cases    *bolt.Cases
	Users    map[appliance.Role]string // username of each role's account
	Password string
}

// staffSite is what the staff pages' browser tests work on: the demo
// village, the demo town holding it, and a city node, all served.
type staffSite struct {
	Village, Town, City *staffNode
	Demo                *demo.Village
}

func mustStaffSite(t *testing.T) *staffSite {
	t.Helper()
	ctx := context.Background()
	root := t.TempDir()
	townDir, villageDir := filepath.Join(root, "town"), filepath.Join(root, "village")
	if _, _, err := demo.GenerateTown(ctx, townDir, demo.Options{}); err != nil {
		t.Fatal(err)
	}
	v, _, err := demo.Generate(ctx, villageDir, demo.Options{TownDir: townDir})
	if err != nil {
		t.Fatal(err)
	}
	open := func(dir string, users map[appliance.Role]string) *staffNode {
		s, cfg, err := bolt.OpenDataDir(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		base, srv := serve(t, cfg, s)
		cs, err := bolt.NewCases(s, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return &staffNode{URL: base, Store: s, Config: cfg, UI: srv, Cases: cs, Users: users, Password: demo.Password}
	}
	site := &staffSite{Demo: v}
	site.Village = open(villageDir, map[appliance.Role]string{appliance.RoleDutyStaff: "duty", appliance.RoleGridLeader: "leader",
		appliance.RoleVillageLead: "lead", appliance.RoleInspector: "inspector", appliance.RoleAdmin: "admin"})
	site.Town = open(townDir, map[appliance.Role]string{appliance.RoleTownOperator: "town", appliance.RoleDepartment: "dept"})
	city := uitest.MustStart(t, uitest.Options{Role: appliance.NodeCity, Code: "410100000000", Name: "郑州市"})
	cs, err := bolt.NewCases(city.Store, city.Config)
	if err != nil {
		t.Fatal(err)
	}
	site.City = &staffNode{URL: city.URL, Store: city.Store, Config: city.Config, UI: city.UI, Cases: cs,
		Users: map[appliance.Role]string{appliance.RoleCityOperator: "cityoperator"}, Password: uitest.Password}
	return site
}

// staffTab opens a tab of the shared browser with cookies of its own.
func staffTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	return ctx
}

// staffLogin logs in as a member of staff on another device (not the
// box's own screen, which is the kiosk).
func staffLogin(t *testing.T, ctx context.Context, n *staffNode, username string) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(n.URL+"/?kiosk=0"), chromedp.Navigate(n.URL+"/login"), chromedp.WaitReady(chromedp.CSS(`input[name="password"]`)))
	submitForm(t, ctx, `form[action="/login"]`, map[string]string{"username": username, "password": n.Password})
	if p := currentPath(t, ctx); !strings.HasPrefix(p, "/staff") {
		t.Fatalf("login %s: at %s: %s", username, p, pageText(t, ctx))
	}
}

// staffPaths are the staff pages a role may open on a node: every GET
// route of the live route table that shows a page (not a download), with
// its parameters filled from the node's data, and the pages' variants.
func staffPaths(t *testing.T, n *staffNode, role appliance.Role, user *appliance.User) []string {
	t.Helper()
	sample := map[string]string{}
	f := bolt.CaseFilter{Limit: 1}
	if g := user.Grid; strings.Contains(g, "-") {
		f.Group = &g
	}
	if role == appliance.RoleDepartment {
		f.Status = ptr(appliance.StatusDispatched)
	}
	if cases, _, _ := n.Cases.FindCases(f); len(cases) > 0 {
		sample["/staff/cases/:id"] = cases[0].ID
	}
	if hhs, _ := n.Store.Households(appliance.ScopePrefix(user.Grid), 1, ""); len(hhs) > 0 {
		sample["/staff/households/:id"] = hhs[0].ID
		if _, ms, err := n.Store.Household(hhs[0].ID); err == nil && len(ms) > 0 {
			sample["/staff/members/:pid"] = ms[0].ID
		}
	}
	var paths []string
	for _, r := range n.UI.App().GetRoutes(true) {
		key := r.Method + " " + r.Path
		if r.Method != http.MethodGet || !strings.HasPrefix(r.Path, "/staff") && r.Path != "/password" ||
			strings.HasSuffix(r.Path, ".xlsx") || strings.HasSuffix(r.Path, ".svg") || strings.HasSuffix(r.Path, ".pdf") ||
			strings.HasSuffix(r.Path, "/voice") || strings.Contains(r.Path, "/photos/") || r.Path == "/staff/print/pdf" ||
			strings.HasPrefix(r.Path, "/staff/print") && n.UI.Printing == nil {
			continue
		}
		spec, ok := routeRoles[key]
		if !ok {
			t.Errorf("%s has no row in routeRoles", key)
			continue
		}
		if spec != "staff" && !strings.ContainsFunc(spec, func(c rune) bool { return c < 128 && roleLetters[byte(c)] == role }) {
			continue
		}
		p, missing := r.Path, false
		for prefix, v := range sample {
			if strings.HasPrefix(p, prefix) {
				i := strings.LastIndexByte(prefix, ':')
				p = prefix[:i] + v + p[len(prefix):]
			}
		}
		if strings.Contains(p, ":") {
			missing = true
		}
		if !missing && !slices.Contains(paths, p) {
			paths = append(paths, p)
		}
	}
	for _, v := range []string{"/staff/cases?mine=1", "/staff/cases?due=1", "/staff/cases?open=1", "/staff/cases/new?source=phone",
		"/staff/cases/new?source=patrol", "/staff/visits/new?kind=patrol", "/staff/households?q=zh"} {
		base, _, _ := strings.Cut(v, "?")
		if slices.Contains(paths, base) {
			paths = append(paths, v)
		}
	}
	sort.Strings(paths)
	return paths
}

func ptr[T any](v T) *T { return &v }

// primaryActions are the forms' primary actions that must be on the first
// screen, on the phone and the laptop (a clerk with the phone ringing, a
// grid leader with one thumb free).
var primaryActions = map[string]string{
	"/staff/cases/new?source=phone":  `form[action="/staff/cases/new"] button[type="submit"]`,
	"/staff/cases/new?source=patrol": `form[action="/staff/cases/new"] button[type="submit"]`,
	"/staff/cases/new":               `form[action="/staff/cases/new"] button[type="submit"]`,
	"/staff/visits/new":              `form.search-household button[type="submit"]`,
	"/staff/visits/new?kind=patrol":  `form[action="/staff/visits"] button[type="submit"]`,
	"/staff/duty/log":                `#sign-in`,
	"/staff/households":              `form.search button[type="submit"]`,
}

// Every staff page each role may open, on the phone and on the laptop: no
// page scrolls sideways, no touch target on the phone is under 44 × 44 px,
// and axe-core finds no serious or critical violation.
func TestStaffPagesBrowser(t *testing.T) {
	axe := uitest.AxeScript(t)
	site := mustStaffSite(t)
	browser := uitest.BrowserWith(t, uitest.BrowserOptions{Screen: Laptop, Timeout: 10 * time.Minute})
	do(t, browser, chromedp.Navigate("about:blank"))
	type login struct {
		node *staffNode
		role appliance.Role
	}
	var logins []login
	for _, n := range []*staffNode{site.Village, site.Town, site.City} {
		for _, r := range appliance.Roles {
			if _, ok := n.Users[r]; ok {
				logins = append(logins, login{n, r})
			}
		}
	}
	for _, l := range logins {
		t.Run(string(l.role), func(t *testing.T) {
			username := l.node.Users[l.role]
			user, err := l.node.Store.UserByUsername(username)
			if err != nil {
				t.Fatal(err)
			}
			ctx := staffTab(t, browser)
			// axe-core once per tab, not once per page.
			do(t, ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
				_, err := cdp.Call(ctx, tg, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: axe})
				return chromedp.Void{}, err
			})
			staffLogin(t, ctx, l.node, username)
			start := time.Now()
			paths := staffPaths(t, l.node, l.role, &user)
			var problems []string
			for _, p := range paths {
				resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(l.node.URL+p))
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				if resp.Status != http.StatusOK {
					t.Errorf("%s: status %d: %s", p, resp.Status, pageText(t, ctx))
					continue
				}
				primary := primaryActions[p]
				if p == "/staff/duty/log" && !user.Can(appliance.PermKeepDuty) {
					primary = "" // read only: no sign-in
				}
				for _, screen := range []uitest.Screen{Phone, Laptop} {
					staffScreen(t, ctx, screen)
					problems = append(problems, checkStaffPage(t, ctx, screen, axe, string(l.role)+strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(p), primary)...)
				}
			}
			for _, p := range problems {
				t.Error(p)
			}
			t.Logf("%d pages in %s", len(paths), time.Since(start).Round(time.Millisecond))
		})
	}
}
