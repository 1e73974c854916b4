package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// TestCaseScopeOfGridLeader: a group-1 grid leader neither lists, reads nor
// acts on a group-2 case (to them it does not exist); inspectors and
// admins read cases but write no step, not even a note.
func TestCaseScopeOfGridLeader(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	duty := srv.Client(t)
	duty.Login("dutystaff")
	register := func(group, text string) string {
		t.Helper()
		status, out := apiCall(t, duty, srv.URL, "POST", "/api/v1/cases", "", `{"source":"phone","category":"public_affairs","description":"`+text+`","group":"`+group+`"}`)
		code, _ := out["code"].(string)
		if status != http.StatusCreated || code == "" {
			t.Fatalf("register: %d %v", status, out)
		}
		return code
	}
	mine := register(appliance.GroupCode("410184104201", 1), "一组路灯坏了")
	theirs := register(appliance.GroupCode("410184104201", 2), "二组水渠堵了")

	leader := srv.Client(t)
	leader.Login("gridleader") // group 1
	_, list := leader.Get("/staff/cases")
	if !strings.Contains(list, mine) || strings.Contains(list, theirs) || strings.Contains(list, "二组水渠堵了") {
		t.Fatalf("case list of the group-1 leader: %s", uitest.Text(list))
	}
	// Asking for group 2 by filter gives group 1 all the same.
	if _, list := leader.Get("/staff/cases?group=" + appliance.GroupCode("410184104201", 2)); strings.Contains(list, theirs) {
		t.Fatal("a filter opens another group's cases")
	}
	if status, out := apiCall(t, leader, srv.URL, "GET", "/api/v1/cases?limit=100", "", ""); status != http.StatusOK || strings.Contains(mustJSON(out), theirs) || !strings.Contains(mustJSON(out), mine) {
		t.Fatalf("API list: %d %v", status, out)
	}
	if status, _ := leader.Get("/staff/cases/" + theirs); status != http.StatusNotFound {
		t.Fatalf("reading another group's case: %d, want 404", status)
	}
	if status, _ := apiCall(t, leader, srv.URL, "GET", "/api/v1/cases/"+theirs, "", ""); status != http.StatusNotFound {
		t.Fatalf("API read of another group's case: %d, want 404", status)
	}
	for _, action := range []string{"assign", "note", "resolve"} {
		if status, _, _ := leader.Post("/staff/cases/"+theirs+"/"+action, url.Values{"text": {"办好了"}}); status != http.StatusNotFound {
			t.Fatalf("%s on another group's case: %d, want 404", action, status)
		}
		if status, _ := apiCall(t, leader, srv.URL, "POST", "/api/v1/cases/"+theirs+"/"+action, "", `{"text":"办好了"}`); status != http.StatusNotFound {
			t.Fatalf("API %s on another group's case: %d, want 404", action, status)
		}
	}
	if status, _, body := leader.Post("/staff/cases/"+mine+"/assign", url.Values{"assignee": {"王五"}}); status != http.StatusSeeOther {
		t.Fatalf("accepting their own group's case: %d %s", status, uitest.Text(body))
	}
	// Inspectors read, and write nothing; the admin does neither.
	admin := srv.Client(t)
	admin.Login("admin")
	if status, _ := admin.Get("/staff/cases/" + theirs); status != http.StatusForbidden {
		t.Fatalf("the admin reading a case: %d, want 403", status)
	}
	for _, name := range []string{"inspector", "admin"} {
		c := srv.Client(t)
		c.Login(name)
		if status, _ := c.Get("/staff/cases/" + theirs); name == "inspector" && status != http.StatusOK {
			t.Fatalf("%s reading a case: %d", name, status)
		}
		if status, _, _ := c.Post("/staff/cases/"+theirs+"/note", url.Values{"text": {"督查意见"}}); status != http.StatusForbidden {
			t.Fatalf("%s writing a note: %d, want 403", name, status)
		}
		if _, page := c.Get("/staff/cases/" + theirs); strings.Contains(page, `action="/staff/cases/`+theirs+`/note"`) {
			t.Fatalf("%s is offered a note form", name)
		}
	}
}
