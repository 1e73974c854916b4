package ui_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// Staff book a service for a household; its card scanned at the kiosk shows
// the booking (service and time), never the staff's note.
func TestAppointments(t *testing.T) {
	s := startHHServer(t)
	p := somePerson(t, s.Store, s.Demo.Groups[0].Code)
	hid := p.Household.ID
	duty := s.login(t, "leader") // the grid leader of the household's group
	tomorrow := time.Now().In(s.Demo.Loc).AddDate(0, 0, 1).Format("2006-01-02")
	// Appointments are part of the archive: duty staff have no archive rights.
	if r := s.login(t, "duty").post("/staff/households/"+hid+"/appointments", url.Values{"service": {"残疾人证办理"}, "kind": {"上门服务"}, "date": {tomorrow}}); r.status != http.StatusForbidden {
		t.Fatalf("duty staff booking: %d, want 403", r.status)
	}
	if r := s.login(t, "duty").api("GET", "/api/v1/households/"+hid+"/appointments", nil); r.status != http.StatusForbidden {
		t.Fatalf("duty staff reading appointments: %d, want 403", r.status)
	}

	before, _ := s.Store.Stats()
	r := duty.post("/staff/households/"+hid+"/appointments", url.Values{"service": {"残疾人证办理"}, "kind": {"上门服务"}, "date": {"2026-02-30"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "预约日期格式") || !strings.Contains(r.body, `name="date" value="2026-02-30" required aria-invalid="true"`) {
		t.Fatalf("bad date: %d", r.status)
	}
	if after, _ := s.Store.Stats(); after.Entries != before.Entries {
		t.Fatal("a refused booking wrote entries")
	}
	r = duty.post("/staff/households/"+hid+"/appointments", url.Values{"service": {"残疾人证办理"}, "kind": {"上门服务"},
		"date": {tomorrow}, "time": {"09:30"}, "note": {p.Person.Name + "腿脚不便"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("book: %d %s", r.status, r.body)
	}
	page := s.login(t, "lead").get("/staff/households/" + hid)
	if !strings.Contains(page.body, "残疾人证办理") || !strings.Contains(page.body, "已预约") {
		t.Fatal("the household page lacks the booking")
	}
	appts, err := s.Store.HouseholdAppointments(hid, "", true)
	if err != nil || len(appts) != 1 {
		t.Fatalf("appointments: %v %v", appts, err)
	}

	// The kiosk: scanning the household's card.
	tokens, err := appliance.NewTokenSigner(s.Store.Secret())
	if err != nil {
		t.Fatal(err)
	}
	kiosk := &http.Client{Timeout: 10 * time.Second}
	resp, err := kiosk.Get(s.URL + "/scan?token=" + url.QueryEscape(tokens.Sign(bolt.TokenHousehold, hid)))
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(body, "残疾人证办理") || !strings.Contains(body, tomorrow+" 09:30") {
		t.Fatalf("kiosk household view: %d", resp.StatusCode)
	}
	if strings.Contains(body, p.Person.Name) || strings.Contains(body, "腿脚不便") {
		t.Fatal("the kiosk shows personal data")
	}

	// Done: no longer upcoming on the kiosk.
	if r := duty.post("/staff/appointments/"+appts[0].ID, url.Values{"status": {"done"}}); r.status != http.StatusSeeOther {
		t.Fatalf("done: %d", r.status)
	}
	resp, _ = kiosk.Get(s.URL + "/scan?token=" + url.QueryEscape(tokens.Sign(bolt.TokenHousehold, hid)))
	if body := readAll(t, resp); strings.Contains(body, "残疾人证办理") {
		t.Fatal("a done appointment is still shown as upcoming")
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
