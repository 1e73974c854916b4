package ui_test

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

var (
	counterRE   = regexp.MustCompile(`<span class="value">(\d+)</span><span class="label">([^<]+)</span>`)
	listCountRE = regexp.MustCompile(`共(\d+)件未办结，其中<b class="overdue-tag">已超期(\d+)件</b>，即将到期(\d+)件`)
	rowRE       = regexp.MustCompile(`<tr class="(overdue|near|)"><td><a href="/staff/cases/`)
)

// The open, near and overdue figures agree on every page that shows them
// — the dashboard's counters, the lists behind them (their count line and
// their rows) and the statistics — for the village lead (the whole
// village), a grid leader (one group) and the town operator, the day
// before the latest open deadline, on the day and the day after.
func TestCaseCountsAgreeOnPages(t *testing.T) {
	site := mustStaffSite(t)
	for _, n := range []*staffNode{site.Village, site.Town} {
		var at atomic.Int64
		n.UI.Clock = func() time.Time { return time.Unix(at.Load(), 0) }
		list, _, err := n.Cases.OpenCases(bolt.CaseScope{}, time.Now(), 0)
		if err != nil {
			t.Fatal(err)
		}
		due := ""
		for _, d := range list {
			if d.Case.Due > due {
				due = d.Case.Due
			}
		}
		day, err := time.ParseInLocation("2006-01-02", due, n.Config.Location())
		if err != nil {
			t.Fatalf("%s: no open case with a deadline (%q)", n.Config.Node.Name, due)
		}
		for role, username := range n.Users {
			if role == appliance.RoleAdmin || role == appliance.RoleInspector || role == appliance.RoleDepartment {
				continue
			}
			user, err := n.Store.UserByUsername(username)
			if err != nil {
				t.Fatal(err)
			}
			area := ""
			if strings.Contains(user.Grid, "-") {
				area = user.Grid
			}
			b := newBrowser(t, n.URL)
			if status, body := b.post("/login", url.Values{"username": {username}, "password": {n.Password}}); status != 200 || !strings.Contains(body, "工作台") {
				t.Fatalf("login %s: %d", username, status)
			}
			for _, when := range []time.Time{day.AddDate(0, 0, -1).Add(10 * time.Hour), day.Add(10 * time.Hour), day.AddDate(0, 0, 1).Add(10 * time.Hour)} {
				at.Store(when.Unix())
				want, err := n.Cases.CountCases(bolt.CaseScope{Area: area}, when)
				if err != nil {
					t.Fatal(err)
				}
				name := n.Config.Node.Name + " " + username + " " + when.Format("2006-01-02")
				got := map[string]int64{}
				_, dash := b.get("/staff")
				for _, m := range counterRE.FindAllStringSubmatch(dash, -1) {
					v, _ := strconv.ParseInt(m[1], 10, 64)
					got["dashboard "+m[2]] = v
				}
				q := ""
				if area != "" {
					q = "?scope=" + area
				}
				_, stats := b.get("/staff/cases/stats" + q)
				for _, m := range counterRE.FindAllStringSubmatch(stats, -1) {
					v, _ := strconv.ParseInt(m[1], 10, 64)
					got["statistics "+m[2]] = v
				}
				for _, l := range []string{"open", "due"} {
					_, page := b.get("/staff/cases?" + l + "=1")
					m := listCountRE.FindStringSubmatch(page)
					if m == nil {
						t.Fatalf("%s: list %s has no count line", name, l)
					}
					for i, k := range []string{"open", "overdue", "near"} {
						v, _ := strconv.ParseInt(m[i+1], 10, 64)
						got[l+" list says "+k] = v
					}
					for _, r := range rowRE.FindAllStringSubmatch(page, -1) {
						got[l+" list rows "+r[1]]++
						got[l+" list rows"]++
					}
				}
				for k, v := range map[string]int64{
					"dashboard 待办问题": want.Open, "dashboard 即将到期": want.Near, "dashboard 已超期": want.Overdue,
					"statistics 办理中": want.Open, "statistics 即将到期": want.Near, "statistics 当前超期": want.Overdue,
					"open list says open": want.Open, "open list says overdue": want.Overdue, "open list says near": want.Near,
					"open list rows": want.Open, "open list rows overdue": want.Overdue, "open list rows near": want.Near,
					"due list says overdue": want.Overdue, "due list says near": want.Near,
					"due list rows": want.Overdue + want.Near, "due list rows overdue": want.Overdue, "due list rows near": want.Near,
				} {
					if got[k] != v {
						t.Errorf("%s: %s is %d, want %d", name, k, got[k], v)
					}
				}
				if want.Open == 0 {
					t.Errorf("%s: nothing open to compare", name)
				}
			}
		}
		n.UI.Clock = nil
	}
}
