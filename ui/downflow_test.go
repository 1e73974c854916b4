package ui_test

import (
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
)

// The town's notice page offers its enrolled villages and lists where each
// notice goes; the village's staff pages show what the town sent down
// (notices read-only, the town's duty today on the dashboard and the duty
// page), and its kiosk marks the town's notices as the town's.
func TestTownNoticesOnVillagePagesHTTP(t *testing.T) {
	v := mustCaseServer(t)
	town := serveTown(t, nil)
	if err := town.Store.Enrol(t.Context(), "u-admin", appliance.Enrolment{Key: v.Store.Feed().String(), Code: "410184104201", Name: "杏花村", Role: appliance.NodeVillage}); err != nil {
		t.Fatal(err)
	}
	tb := newBrowser(t, town.URL)
	var n appliance.Notice
	if code := tb.api("POST", "/api/v1/notices", town.Token, map[string]any{"title": "冬季供暖安全提示", "body": "注意用火用电。", "to": []string{"410184104201"}}, &n); code != 201 {
		t.Fatalf("town notice: %d", code)
	}
	var e struct{ Error struct{ Field string } }
	if code := tb.api("POST", "/api/v1/notices", town.Token, map[string]any{"title": "外镇的村", "body": "…", "to": []string{"410184105201"}}, &e); code != 400 || e.Error.Field != "to" {
		t.Fatalf("a village of another town: %d %+v", code, e)
	}
	today := time.Now().In(town.Config.Location()).Format("2006-01-02")
	// The town operator keeps the town's duty roster.
	var shift appliance.DutyShift
	if code := tb.api("POST", "/api/v1/duty", town.Token, map[string]any{"grid": town.Config.Node.Code, "date": today, "shift": "全天", "staff_id": "410184104000-s02", "name": "钱守信", "phone": "13900003333"}, &shift); code != 201 && code != 200 {
		t.Fatalf("town operator sets the town's duty: %d", code)
	}
	if _, err := town.Store.CopyDown(t.Context(), time.Now().In(town.Config.Location())); err != nil {
		t.Fatal(err)
	}
	code, body := bearerGet(t, town.URL, town.Token, "/staff/notices")
	if code != 200 || !strings.Contains(body, `name="to" value="410184104201"`) || !strings.Contains(body, "<td>杏花村</td>") {
		t.Fatalf("town notice page: %d %s", code, body)
	}

	down, err := town.Store.DownFeed("410184104201")
	if err != nil {
		t.Fatal(err)
	}
	es, err := town.Store.Entries(down, 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Store.Ingest(es); err != nil {
		t.Fatal(err)
	}
	lead := v.Tokens[appliance.RoleVillageLead]
	if code, body := bearerGet(t, v.URL, lead, "/staff/notices"); code != 200 || !strings.Contains(body, `id="town-notices"`) || !strings.Contains(body, "冬季供暖安全提示") || !strings.Contains(body, "龙湖镇发布") {
		t.Fatalf("village notice page: %d", code)
	}
	for _, path := range []string{"/staff", "/staff/duty"} {
		if code, body := bearerGet(t, v.URL, lead, path); code != 200 || !strings.Contains(body, "镇值班") || !strings.Contains(body, "钱守信") {
			t.Fatalf("village %s: %d, the town's duty missing", path, code)
		}
	}
	vb := newBrowser(t, v.URL)
	if code, body := vb.get("/notices"); code != 200 || !strings.Contains(body, "龙湖镇发布") || !strings.Contains(body, "/notices/"+n.ID+"?grid=410184104000") {
		t.Fatalf("village kiosk notices: %d", code)
	}
	// A notice id of the town shown at the village cannot be changed there.
	var got appliance.Notice
	if code := vb.api("POST", "/api/v1/notices", lead, map[string]any{"id": n.ID, "title": "村里改的", "body": "…"}, &got); code != 201 || got.Grid != "410184104201" {
		t.Fatalf("village notice with the town's id: %d %+v", code, got)
	}
	if tn, err := v.Store.Notice("410184104000", n.ID); err != nil || tn.Title != "冬季供暖安全提示" {
		t.Fatalf("the town's notice at the village: %+v %v", tn, err)
	}
}
