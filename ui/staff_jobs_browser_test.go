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

// taps drives a page by clicks and counts them; typing is not counted.
type taps struct {
	t   *testing.T
	ctx context.Context
	n   int
}

// tap clicks sel and waits until next is shown (the page it leads to, or
// what it changes).
func (tp *taps) tap(sel, next string) {
	tp.t.Helper()
	tp.n++
	if err := chromedp.Do(tp.ctx, chromedp.Click(chromedp.CSS(sel)), chromedp.WaitVisible(chromedp.CSS(next))); err != nil {
		tp.t.Fatalf("tap %d on %s, waiting for %s: %v; at %s: %.400s", tp.n, sel, next, err, currentPath(tp.t, tp.ctx), pageText(tp.t, tp.ctx))
	}
}

func (tp *taps) typeIn(sel, text string) {
	tp.t.Helper()
	do(tp.t, tp.ctx, chromedp.SendKeys(chromedp.CSS(sel), text))
}

// The clerk's daily jobs, driven by clicks in Chromium with their counts:
// a phone-call case in at most 5 clicks plus the typing, from the
// dashboard; a home visit on a grid leader's phone in at most 4 taps, the
// household found by its head's pinyin initials, 保存 on the first screen.
// (The receipt's one-click print with its PIN needs a printer: see
// TestStaffReceiptPrintOneClick in appliance/cmd/gridbox.)
func TestStaffJobsBrowser(t *testing.T) {
	site := mustStaffSite(t)
	browser := uitest.BrowserWith(t, uitest.BrowserOptions{Screen: Laptop})
	do(t, browser, chromedp.Navigate("about:blank"))
	v := site.Village

	t.Run("phone call", func(t *testing.T) {
		ctx := staffTab(t, browser)
		staffScreen(t, ctx, Laptop)
		staffLogin(t, ctx, v, v.Users[appliance.RoleDutyStaff])
		tp := &taps{t: t, ctx: ctx}
		tp.tap(`nav.staffnav a[href="/staff/cases/new?source=phone"]`, `input[name="phone"]`)
		// The caller's number is the first field and has the cursor.
		first, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(() => { const f = document.querySelector('form[action="/staff/cases/new"]');
			const el = [...f.elements].find(e => e.type !== "hidden"); return el.name + (document.activeElement === el ? " focused" : ""); })()`))
		if err != nil || first != "phone focused" {
			t.Errorf("first field of 来电登记: %q (%v)", first, err)
		}
		for _, p := range checkStaffPage(t, ctx, Laptop, "", "phone-call-form", `form[action="/staff/cases/new"] button[type="submit"]`) {
			t.Error(p)
		}
		tp.typeIn(`input[name="phone"]`, "13907550123")
		tp.typeIn(`input[name="name"]`, "赵来电")
		tp.tap(`fieldset.cats label.cat:nth-of-type(2)`, `fieldset.cats label.cat:nth-of-type(2) input:checked`)
		tp.typeIn(`textarea[name="description"]`, "村西头水管漏水两天了")
		tp.tap(`form[action="/staff/cases/new"] button[type="submit"]`, `#receipt-code`)
		if tp.n > 5 {
			t.Errorf("a phone-call case took %d clicks", tp.n)
		}
		code, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#receipt-code`)))
		if err != nil {
			t.Fatal(err)
		}
		if text := pageText(t, ctx); !strings.Contains(text, "念给来电人") {
			t.Errorf("the receipt does not tell the clerk to read it to the caller: %s", text)
		}
		cc, err := v.Cases.Case(strings.TrimSpace(code))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := v.Cases.Reporter(cc.ID)
		if err != nil {
			t.Fatal(err)
		}
		if cc.Source != appliance.SourcePhone || rep.Phone != "13907550123" || cc.Description != "村西头水管漏水两天了" || cc.Category != site.Village.Config.Cases.Categories[1].Key {
			t.Errorf("registered %+v, reporter %+v", cc, rep)
		}
		t.Logf("phone-call case in %d clicks", tp.n)
	})

	t.Run("phone visit", func(t *testing.T) {
		ctx := staffTab(t, browser)
		staffScreen(t, ctx, Phone)
		username := v.Users[appliance.RoleGridLeader]
		user, err := v.Store.UserByUsername(username)
		if err != nil {
			t.Fatal(err)
		}
		hhs, err := v.Store.Households(user.Grid, 1000, "")
		if err != nil || len(hhs) == 0 {
			t.Fatalf("no household in %s: %v", user.Grid, err)
		}
		// A household whose head's initials name it alone in the group.
		var target appliance.Household
		var initials string
		count := map[string]int{}
		names := map[string]string{}
		ids := make([]string, len(hhs))
		for i, h := range hhs {
			ids[i] = h.ID
		}
		headNames, err := v.Store.HeadNames(ids)
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hhs {
			keys := appliance.PinyinKeys(headNames[h.ID])
			if len(keys) > 1 {
				names[h.ID] = keys[1]
				count[keys[1]]++
			}
		}
		for _, h := range hhs {
			if k := names[h.ID]; k != "" && count[k] == 1 && len(k) == 3 {
				target, initials = h, k
				break
			}
		}
		if initials == "" {
			t.Fatal("no household with initials of its own")
		}
		staffLogin(t, ctx, v, username)
		tp := &taps{t: t, ctx: ctx}
		tp.tap(`nav.staffnav a[href="/staff/visits/new"]`, `input[name="q"]`)
		tp.typeIn(`input[name="q"]`, initials)
		tp.tap(`form.search-household button[type="submit"]`, `ul.cards.pick a`)
		tp.tap(`ul.cards.pick a[href="/staff/visits/new?household=`+target.ID+`"]`, `textarea[name="seen"]`)
		// Only a home visit's fields, and 保存 on the first screen.
		for _, p := range checkStaffPage(t, ctx, Phone, "", "visit-form", `form[action="/staff/visits"] button[type="submit"]`) {
			t.Error(p)
		}
		if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('input[name="place"]').length`)); n != 0 {
			t.Error("the home visit form asks for a patrol's place")
		}
		tp.typeIn(`textarea[name="seen"]`, "老人身体还好，院子打扫干净")
		tp.tap(`form[action="/staff/visits"] button[type="submit"]`, `main`)
		waitJS(t, ctx, "the visit list", `location.pathname === "/staff/visits"`, 10*time.Second)
		if tp.n > 4 {
			t.Errorf("a phone visit took %d taps", tp.n)
		}
		today := time.Now().In(v.Config.Location()).Format("2006-01-02")
		staff, err := v.Store.FindStaff(appliance.StaffFilter{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, m := range staff {
			if m.UserID != user.ID {
				continue
			}
			visits, err := v.Store.Visits(m.ID, today, today)
			if err != nil {
				t.Fatal(err)
			}
			for _, vi := range visits {
				found = found || vi.Household == target.ID && vi.Seen == "老人身体还好，院子打扫干净"
			}
		}
		if !found {
			t.Errorf("the visit to %s was not recorded", target.ID)
		}
		t.Logf("phone visit in %d taps", tp.n)
	})
}
