package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// The small things of the staff pages (docs/staff-pages.md): account
// actions only where they apply, the diary newest first with a proper
// empty state, the roster marking today and keeping the past, the
// replication page in plain words for staff.
func TestStaffPagesSmallThings(t *testing.T) {
	site := mustStaffSite(t)
	v := site.Village
	as := func(role appliance.Role) *browser {
		b := newBrowser(t, v.URL)
		if status, _ := b.post("/login", url.Values{"username": {v.Users[role]}, "password": {v.Password}}); status != http.StatusOK {
			t.Fatalf("login %s: %d", role, status)
		}
		return b
	}
	lead, leader, admin := as(appliance.RoleVillageLead), as(appliance.RoleGridLeader), as(appliance.RoleAdmin)

	t.Run("accounts", func(t *testing.T) {
		// A wrong password locks the duty clerk's login.
		for range 6 {
			newBrowser(t, v.URL).post("/login", url.Values{"username": {"duty"}, "password": {"wrong-password"}})
		}
		_, page := lead.get("/staff/users")
		row := func(username string) string {
			m := regexp.MustCompile(`(?s)<tr><td>` + username + `</td>.*?</tr>`).FindString(page)
			if m == "" {
				t.Fatalf("no row for %s", username)
			}
			return m
		}
		if r := row("admin"); strings.Contains(r, "<button") {
			t.Errorf("the village lead is offered actions on admin: %s", r)
		}
		if r := row("leader"); strings.Contains(r, "解除锁定") || !strings.Contains(r, "重置密码") {
			t.Errorf("an unlocked account: %s", r)
		}
		if r := row("duty"); !strings.Contains(r, "解除锁定") || !strings.Contains(r, "已锁定") {
			t.Errorf("a locked account: %s", r)
		}
		if r := row("lead"); strings.Contains(r, "停用") {
			t.Errorf("the lead may disable themself: %s", r)
		}
		// Grids by name, in the table and the form.
		user, _ := v.Store.UserByUsername("leader")
		g, _ := v.Store.Grid(user.Grid)
		if r := row("leader"); !strings.Contains(r, "<td>"+g.Name+"</td>") {
			t.Errorf("the leader's grid is not named %s: %s", g.Name, r)
		}
		if !strings.Contains(page, `<option value="`+g.Code+`">　　`+g.Name+`</option>`) || strings.Contains(page, `name="grid" value=`) {
			t.Error("the new account's grid is not picked by name")
		}
	})

	t.Run("diary", func(t *testing.T) {
		_, page := leader.get("/staff/visits/diary?from=2000-01-01")
		dates := regexp.MustCompile(`<li><b>(\d{4}-\d\d-\d\d \d\d:\d\d)`).FindAllStringSubmatch(page, -1)
		if len(dates) < 2 {
			t.Fatalf("the demo leader's diary has %d entries", len(dates))
		}
		for i := 1; i < len(dates); i++ {
			if dates[i][1] > dates[i-1][1] {
				t.Fatalf("the diary is not newest first: %s before %s", dates[i-1][1], dates[i][1])
			}
		}
		_, page = leader.get("/staff/visits/diary?from=2001-01-01&to=2001-01-31")
		if strings.Contains(page, `<ol class="diary"`) || !strings.Contains(page, "没有走访记录") {
			t.Error("an empty diary is not a plain sentence")
		}
	})

	t.Run("roster", func(t *testing.T) {
		today := time.Now().In(v.Config.Location())
		staffID := ""
		if staff, _ := v.Store.FindStaff(appliance.StaffFilter{}); len(staff) > 0 {
			staffID = staff[0].ID
		}
		for _, d := range []time.Time{today.AddDate(0, 0, -2), today} {
			_ = v.Store.SetDuty(t.Context(), "u-lead", appliance.DutyShift{Grid: v.Config.Node.Code, Date: d.Format("2006-01-02"), Shift: "全天", StaffID: staffID, Name: "测试值班"})
		}
		_, page := lead.get("/staff/duty")
		rows := regexp.MustCompile(`<tr[^>]*><td>(\d{4}-\d\d-\d\d)[^<]*(?:<b>今天</b>)?</td>.*?</tr>`).FindAllStringSubmatch(page, -1)
		sawToday, sawPast := false, false
		for _, r := range rows {
			switch {
			case r[1] == today.Format("2006-01-02"):
				sawToday = true
				if !strings.Contains(r[0], `class="today"`) || !strings.Contains(r[0], "取消") {
					t.Errorf("today's row: %s", r[0])
				}
			case r[1] < today.Format("2006-01-02"):
				sawPast = true
				if strings.Contains(r[0], "取消") {
					t.Errorf("a past day offers 取消: %s", r[0])
				}
			}
		}
		if !sawToday || !sawPast {
			t.Fatalf("roster without today (%v) or a past day (%v)", sawToday, sawPast)
		}
		past := today.AddDate(0, 0, -2).Format("2006-01-02")
		if status, page := lead.post("/staff/duty", url.Values{"date": {past}, "shift": {"全天"}, "staff_id": {staffID}, "remove": {"1"}}); status != http.StatusBadRequest || !strings.Contains(page, "不能修改已经过去的值班安排") {
			t.Errorf("removing a past shift: %d", status)
		}
	})

	t.Run("replication", func(t *testing.T) {
		_, page := lead.get("/staff/replication")
		if strings.Contains(page, "指纹") || strings.Contains(page, "[replicate]") || strings.Contains(page, "<code>") {
			t.Error("the village lead sees the replication page's technical detail")
		}
		if !strings.Contains(page, "同步") {
			t.Error("the replication page says nothing")
		}
		if _, page := admin.get("/staff/replication"); !strings.Contains(page, "指纹") {
			t.Error("the administrator does not see the key's fingerprint")
		}
	})

	t.Run("town", func(t *testing.T) {
		town := newBrowser(t, site.Town.URL)
		if status, _ := town.post("/login", url.Values{"username": {site.Town.Users[appliance.RoleTownOperator]}, "password": {site.Town.Password}}); status != http.StatusOK {
			t.Fatalf("login town: %d", status)
		}
		village := v.Config.Node.Name
		_, page := town.get("/staff/cases/stats")
		m := regexp.MustCompile(`<figure><figcaption>按村组[^<]*</figcaption><svg[^>]*aria-label="([^"]*)"`).FindStringSubmatch(page)
		if m == nil || !strings.HasPrefix(m[1], village) {
			t.Errorf("the town's group chart does not name the villages: %v", m)
		}
		cases, _, err := site.Town.Cases.FindCases(bolt.CaseFilter{Limit: 1})
		if err != nil || len(cases) == 0 {
			t.Fatalf("the town holds no case: %v", err)
		}
		if _, page := town.get("/staff/cases/" + cases[0].ID); !strings.Contains(page, "<dt>所在</dt><dd>"+village) {
			t.Errorf("the town's case page does not name its village %s", village)
		}
	})

	t.Run("household picker", func(t *testing.T) {
		hhs, err := v.Store.Households("", 1, "")
		if err != nil || len(hhs) == 0 {
			t.Fatal("no household")
		}
		heads, _ := v.Store.HeadNames([]string{hhs[0].ID})
		_, form := lead.get("/staff/cases/new")
		if strings.Contains(form, `name="household"`) || strings.Contains(form, `name="person"`) || !strings.Contains(form, heads[hhs[0].ID]+"户") {
			t.Error("the case form asks for codes or offers no households by name")
		}
		cat := v.Config.Cases.Categories[0].Key
		status, page := lead.post("/staff/cases/new", url.Values{"source": {"walk_in"}, "category": {cat}, "description": {"来访反映"}, "household_q": {heads[hhs[0].ID]}})
		code := regexp.MustCompile(`id="receipt-code">([^<]+)<`).FindStringSubmatch(page)
		if status != http.StatusOK || code == nil {
			t.Fatalf("case with household %s: %d", heads[hhs[0].ID], status)
		}
		if cc, err := v.Cases.Case(code[1]); err != nil || cc.Household != hhs[0].ID {
			t.Errorf("the case's household: %+v %v", cc, err)
		}
		status, page = lead.post("/staff/cases/new", url.Values{"source": {"walk_in"}, "category": {cat}, "description": {"来访反映"}, "household_q": {"没有这个人"}})
		if status != http.StatusBadRequest || !strings.Contains(page, "没有找到") || !strings.Contains(page, `name="household_q" value="没有这个人" list="household-list" autocomplete="off" aria-invalid="true"`) {
			t.Errorf("an unknown household: %d", status)
		}
	})
}
