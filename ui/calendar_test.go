package ui_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// TestCalendarEntered: a town operator enters next year's holidays on the
// calendar page (a make-up day on a weekday first: refused, naming the
// field); the year is listed and served as JSON, and the warning that
// next year's table is missing (from 1 December) is gone.
func TestCalendarEntered(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{Role: appliance.NodeTown, Code: "410184104000", Name: "龙湖镇"})
	c := srv.Client(t)
	c.Login("townoperator")
	now := time.Now()
	next := now.Year() + 1
	_, page := c.Get("/staff/calendar")
	missing := fmt.Sprintf("尚未收到 %d 年的法定节假日", next)
	if warn := !now.Before(time.Date(now.Year(), 12, 1, 0, 0, 0, 0, now.Location())); warn != strings.Contains(page, missing) {
		t.Errorf("warning %q shown %v on %s", missing, !warn, now.Format("01-02"))
	}
	if !strings.Contains(page, `action="/staff/calendar"`) {
		t.Fatal("a town operator sees no form")
	}
	sat := time.Date(next, 2, 20, 0, 0, 0, 0, time.UTC)
	for sat.Weekday() != time.Saturday {
		sat = sat.AddDate(0, 0, 1)
	}
	form := url.Values{"year": {fmt.Sprint(next)}, "holidays": {fmt.Sprintf("%d-01-01\n%d-02-06 至 %d-02-12", next, next, next)},
		"workdays": {fmt.Sprintf("%d-03-03", next)}, "source": {"国务院办公厅关于部分节假日安排的通知"}}
	if w := time.Date(next, 3, 3, 0, 0, 0, 0, time.UTC).Weekday(); w == time.Saturday || w == time.Sunday {
		form.Set("workdays", fmt.Sprintf("%d-03-05", next)) // a weekday either way
	}
	status, _, body := c.Post("/staff/calendar", form)
	if status != 422 || !strings.Contains(uitest.Text(body), "调休上班日应是周六或周日") {
		t.Fatalf("a make-up day on a weekday: %d %s", status, uitest.Text(body))
	}
	form.Set("workdays", sat.Format("2006-01-02"))
	if status, loc, body := c.Post("/staff/calendar", form); status != 303 || !strings.Contains(loc, "saved=") {
		t.Fatalf("entering %d: %d %s %s", next, status, loc, uitest.Text(body))
	}
	_, page = c.Get("/staff/calendar")
	if strings.Contains(page, missing) || !strings.Contains(uitest.Text(page), fmt.Sprintf("%d 国务院办公厅关于部分节假日安排的通知（410184104000 录入） 8 1", next)) {
		t.Fatalf("after entering %d:\n%s", next, uitest.Text(page))
	}
	if _, js := c.Get("/api/v1/calendar"); !strings.Contains(js, `"year":`+fmt.Sprint(next)) || !strings.Contains(js, `"next_year_missing":false`) {
		t.Fatalf("calendar JSON: %s", js)
	}
	// A village lead sees the page but no form (routes_test: nobody posts
	// on a village node).
	v := uitest.MustStart(t, uitest.Options{})
	vc := v.Client(t)
	vc.Login("villagelead")
	if _, page := vc.Get("/staff/calendar"); strings.Contains(page, `action="/staff/calendar"`) {
		t.Fatal("a village offers the calendar form")
	}
}

// TestDeadlineCountedByWeekdays: a deadline falling in a year whose
// holidays the node has not received says that it counts plain weekdays.
func TestDeadlineCountedByWeekdays(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{Tune: func(cfg *appliance.Config) {
		cfg.Cases.Deadlines = map[string]int{appliance.CaseLevelGroup: 600, appliance.CaseLevelVillage: 600}
	}})
	c := srv.Client(t)
	c.Login("villagelead")
	status, _, body := c.Post("/staff/cases/new", url.Values{"category": {"public_affairs"}, "source": {appliance.SourceWalkIn},
		"description": {"村东头路灯坏了一个星期"}, "group": {appliance.GroupCode("410184104201", 1)}})
	if status != 200 || !strings.Contains(uitest.Text(body), "节假日安排未收到，暂按周一至周五计算") {
		t.Fatalf("a deadline two years ahead without the note (%d):\n%s", status, uitest.Text(body))
	}
}
