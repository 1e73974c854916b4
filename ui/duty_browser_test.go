package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// dutyPeople puts two duty staff on the village and today's duty on the
// first.
func dutyPeople(t *testing.T, srv *uitest.Server) (a, b appliance.StaffMember) {
	t.Helper()
	ctx := context.Background()
	a = appliance.StaffMember{ID: "410184104201-s1", Name: "张守田", Phone: "13800000001", Duty: appliance.DutyDutyStaff, Grid: "410184104201"}
	b = appliance.StaffMember{ID: "410184104201-s2", Name: "李秀兰", Phone: "13800000002", Duty: appliance.DutyDutyStaff, Grid: "410184104201"}
	for _, m := range []appliance.StaffMember{a, b} {
		if err := srv.Store.SetStaff(ctx, "u-admin", m); err != nil {
			t.Fatal(err)
		}
	}
	today := time.Now().In(srv.Config.Location()).Format("2006-01-02")
	if err := srv.Store.SetDuty(ctx, "u-villagelead", appliance.DutyShift{Grid: "410184104201", Date: today, Shift: "全天", StaffID: a.ID, Name: a.Name, Phone: a.Phone}); err != nil {
		t.Fatal(err)
	}
	return a, b
}

func browserLogin(t *testing.T, ctx context.Context, base, user string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), user),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), uitest.Password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.staffnav`)),
	)
}

// clickLoad clicks a submit button and waits for the page the answer
// brings (not the old one still on screen).
func clickLoad(sel string) chromedp.Action[chromedp.Void] { return clickTo(sel, "main h1") }

// clickTo clicks sel and waits until the next page shows next. The page on
// screen is marked first, so an element of the same kind still there
// before the answer loads (an old .error, the login page's h1) does not
// count.
func clickTo(sel, next string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		var v chromedp.Void
		if _, err := chromedp.Evaluate[bool](markOld)(ctx, tg); err != nil {
			return v, err
		}
		if _, err := chromedp.Click(chromedp.CSS(sel))(ctx, tg); err != nil {
			return v, err
		}
		return chromedp.WaitVisible(chromedp.CSS(`body:not([data-old]) `+next))(ctx, tg)
	}
}

// markOld marks the page on screen; `body:not([data-old]) …` then matches
// only on the next one.
const markOld = `document.body.dataset.old = "1"; true`

// A duty day on a phone 390 px wide: the duty staff finds the duty log
// from the 工作周 menu entry (under 更多), signs in, takes a call that becomes a case in
// one step (a first try without a category is refused and makes nothing),
// records a broadcast, leaves a handover note and signs out; the next
// person signs in and confirms the note.
func TestDutyDayBrowser(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	a, b := dutyPeople(t, srv)
	ctx := uitest.Browser(t)
	do(t, ctx, chromedp.EmulateViewport(390, 844))
	browserLogin(t, ctx, srv.URL, "dutystaff")

	do(t, ctx,
		chromedp.Click(chromedp.CSS(`nav.staffnav details.more summary`)), // the phone's menu: 工作周 is under 更多
		chromedp.WaitVisible(chromedp.CSS(`nav.staffnav a[href="/staff/week"]`)),
		chromedp.Click(chromedp.CSS(`nav.staffnav a[href="/staff/week"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/staff/duty/log"]`)),
		chromedp.Click(chromedp.CSS(`a[href="/staff/duty/log"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#sign-in`)),
	)
	if got := text(t, ctx, "#log-lines"); !strings.Contains(got, "没有记录") {
		t.Fatalf("a fresh day's log: %s", got)
	}
	do(t, ctx, clickLoad(`#sign-in`))
	if got := text(t, ctx, "#log-lines"); !strings.Contains(got, "到岗签到") || !strings.Contains(got, a.Name) {
		t.Fatalf("after signing in: %s", got)
	}

	// A call to become a case, first without its category.
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`#open-call`)),
		chromedp.WaitVisible(chromedp.CSS(`#call-text`)),
		chromedp.SendKeys(chromedp.CSS(`#call-text`), "二组王家门前的水渠堵了，下雨就漫到路上"),
		chromedp.Click(chromedp.CSS(`#make-case`)),
		chromedp.SendKeys(chromedp.CSS(`#call-form input[name="phone"]`), "13912345678"),
		clickLoad(`#call-save`),
	)
	if got := text(t, ctx, "p.error"); !strings.Contains(got, "类别") {
		t.Errorf("error without a category: %q", got)
	}
	if got := text(t, ctx, "#log-lines"); strings.Contains(got, "来电") {
		t.Fatalf("a refused call was logged: %s", got)
	}
	do(t, ctx,
		chromedp.SetValue(chromedp.CSS(`#call-category`), "public_affairs"),
		clickLoad(`#call-save`),
	)
	code := text(t, ctx, "p.notice a")
	if got := text(t, ctx, "#log-lines"); !strings.Contains(got, "来电") || !strings.Contains(got, code) || strings.Contains(got, "13912345678") {
		t.Fatalf("the call's line: %s (case %s; no phone in the log)", got, code)
	}

	do(t, ctx,
		chromedp.Click(chromedp.CSS(`#open-broadcast`)),
		chromedp.SendKeys(chromedp.CSS(`#broadcast-text`), "今晚大风降温，请关好门窗"),
		clickLoad(`#broadcast-save`),
		chromedp.Click(chromedp.CSS(`#open-handover`)),
		chromedp.SendKeys(chromedp.CSS(`#handover-text`), "水渠的事明早回访王家"),
		clickLoad(`#handover-save`),
		clickLoad(`#sign-out`),
	)
	log := text(t, ctx, "#log-lines")
	for _, want := range []string{"广播", "今晚大风降温", "交班留言", "离岗签退"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth")); err != nil || w > 390 {
		t.Errorf("duty log %d px wide on a 390 px phone (err %v)", w, err)
	}
	uitest.Screenshot(t, ctx, "duty-1-log")

	// The case is there, from the phone.
	staff := srv.Client(t)
	staff.Login("villagelead")
	if st, body := staff.Get("/staff/cases/" + code); st != 200 || !strings.Contains(body, "水渠") || !strings.Contains(body, "来电") {
		t.Errorf("case %s: status %d", code, st)
	}

	// The next person: the lead's account on the duty room box, signing in
	// as 李秀兰 and confirming the note.
	do(t, ctx, chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)), chromedp.WaitNotPresent(chromedp.CSS(`nav.staffnav`)))
	browserLogin(t, ctx, srv.URL, "villagelead")
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/staff/duty/log"),
		chromedp.WaitVisible(chromedp.CSS(`#staff_id`)),
		chromedp.SetValue(chromedp.CSS(`#staff_id`), b.ID),
		clickLoad(`#sign-in`),
		clickLoad(`#confirm-handover`),
	)
	if got := text(t, ctx, "section.handover"); !strings.Contains(got, b.Name+" 已确认") || !strings.Contains(got, "明早回访") {
		t.Errorf("handover: %s", got)
	}
	uitest.Screenshot(t, ctx, "duty-2-handover")
	do(t, ctx, chromedp.Navigate(srv.URL+"/staff/week"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	if got := text(t, ctx, "main"); !strings.Contains(got, "今日已有人签到") || !strings.Contains(got, b.Name+" 已确认") {
		t.Errorf("hub: %s", got)
	}
}

// Every page of the working week fits a phone 390 px wide, for the lead
// (who sees every form) and at the kiosk for the service request.
func TestWeekPagesOnAPhone(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	dutyPeople(t, srv)
	ctx := context.Background()
	m, err := srv.Store.SetMeeting(ctx, "u-villagelead", appliance.Meeting{Grid: "410184104201", Kind: appliance.MeetingWeekly, Title: "第50周工作碰头会", Date: "2026-12-14",
		Agenda: []appliance.AgendaItem{{Text: "二组水渠堵塞，下雨就漫到路上，需要组织村民清理并回访王家"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Store.SetTeam(ctx, "u-villagelead", appliance.WorkTeam{Village: "410184104201", Members: []appliance.TeamMember{{Name: "王建军", Unit: "市自然资源局", Leader: true, Days: 20}}}); err != nil {
		t.Fatal(err)
	}
	r, err := srv.Store.AskService(ctx, "", appliance.ServiceRequest{Grid: "410184104201", Item: "低保申请", Kind: "代办服务", Source: "kiosk", Asked: "2026-12-07"}, appliance.ServiceContact{Phone: "13912345678"})
	if err != nil {
		t.Fatal(err)
	}
	b := uitest.Browser(t)
	do(t, b, chromedp.EmulateViewport(390, 844))
	do(t, b, chromedp.Navigate(srv.URL+"/services/ask?item=低保申请"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	pages := []string{"/staff/week", "/staff/duty/log", "/staff/duty/roster", "/staff/duty/swaps", "/staff/duty/gaps", "/staff/meetings",
		"/staff/meetings/410184104201." + m.ID, "/staff/services", "/staff/services/410184104201." + r.ID, "/staff/services/catalogue",
		"/staff/services/households", "/staff/teams", "/staff/rules"}
	check := func(path string) {
		t.Helper()
		w, err := chromedp.Run(b, chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
		if err != nil || w > 390 {
			t.Errorf("%s: %d px wide on a 390 px phone (err %v)", path, w, err)
		}
		// Every button and form field is at least 44 px high.
		small, err := chromedp.Run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll('main button, main input:not([type=hidden]):not([type=checkbox]):not([type=radio]), main select, main summary')].filter(e => e.offsetParent && e.getBoundingClientRect().height < 44).map(e => e.outerHTML.slice(0, 80))`))
		if err != nil || len(small) > 0 {
			t.Errorf("%s: targets under 44 px: %v (err %v)", path, small, err)
		}
	}
	check("/services/ask")
	browserLogin(t, b, srv.URL, "villagelead")
	for _, p := range pages {
		do(t, b, chromedp.Navigate(srv.URL+p), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
		check(p)
	}
}
