package ui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// TestPrivacyDefaults: unmasked numbers need a stated purpose; nothing a
// staff member sees is kept by a cache; /metrics tells a stranger nothing.
func TestPrivacyDefaults(t *testing.T) {
	s := startHHServer(t)
	p1 := somePerson(t, s.Store, s.Demo.Groups[0].Code)
	lead := s.login(t, "lead")

	t.Run("RevealNeedsPurpose", func(t *testing.T) {
		before, _ := s.Store.KindCounts()
		for _, purpose := range []string{"", " ", "看"} {
			r := lead.post("/staff/members/"+p1.Person.ID+"/reveal", url.Values{"purpose": {purpose}})
			if r.status != http.StatusBadRequest || strings.Contains(r.body, p1.Person.IDNumber()) || !strings.Contains(r.body, "用途") {
				t.Fatalf("reveal with purpose %q: %d %s", purpose, r.status, uitest.Text(r.body))
			}
		}
		if api := lead.api("POST", "/api/v1/members/"+p1.Person.ID+"/reveal", nil); api.status != http.StatusBadRequest || !strings.Contains(api.body, `"field":"purpose"`) {
			t.Fatalf("API reveal without purpose: %d %s", api.status, api.body)
		}
		if after, _ := s.Store.KindCounts(); after[appliance.KindArchiveReveal] != before[appliance.KindArchiveReveal] {
			t.Fatal("a refused reveal was logged as done")
		}
		// The page offers the usual purposes and requires one.
		page := lead.get("/staff/households/" + p1.Household.ID)
		if !strings.Contains(page.body, `name="purpose" list="reveal-purposes" required`) || !strings.Contains(page.body, "核对低保") {
			t.Fatal("reveal form lacks its purpose field")
		}
	})

	t.Run("NoStore", func(t *testing.T) {
		for _, path := range []string{"/staff/households/" + p1.Household.ID, "/api/v1/households/" + p1.Household.ID, "/api/v1/search?q=" + url.QueryEscape(p1.Person.Name), "/staff/households/export.xlsx"} {
			resp, err := lead.c.Get(s.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: %d Cache-Control %q", path, resp.StatusCode, resp.Header.Get("Cache-Control"))
			}
		}
		req, _ := http.NewRequest("POST", s.URL+"/api/v1/members/"+p1.Person.ID+"/reveal?purpose="+url.QueryEscape("核对低保"), nil)
		req.Header.Set("X-CSRF-Token", lead.csrf())
		resp, err := lead.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("reveal answer: %d Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	})

	t.Run("MetricsLocalOrStaff", func(t *testing.T) {
		srv := uitest.MustStart(t, uitest.Options{})
		if status, body := srv.Client(t).Get("/metrics"); status != http.StatusOK || !strings.Contains(body, "gridbox_ledger_entries") {
			t.Fatalf("/metrics from the box itself: %d", status)
		}
		if status, _ := srv.ClientFrom(t, "127.0.0.12").Get("/metrics"); status != http.StatusUnauthorized {
			t.Fatalf("/metrics from the LAN without login: %d, want 401", status)
		}
		staff := srv.ClientFrom(t, "127.0.0.12")
		staff.Login("dutystaff")
		if status, _ := staff.Get("/metrics"); status != http.StatusOK {
			t.Fatalf("/metrics for staff on the LAN: %d", status)
		}
	})
}
