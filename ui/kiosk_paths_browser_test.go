package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/css"
	"github.com/chromedp/cdproto/dom"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// The phrase path and the callback path, each by touch alone, on the
// landscape screen; then the duty staff find the callback in their queue,
// call, and record the outcome; 其他 / 说不清 lands in their queue too.
func TestKioskPhrasesAndCallbackByTouch(t *testing.T) {
	t.Parallel()
	srv := uitest.MustStart(t, uitest.Options{})
	cs := mustCases(t, srv)
	ctx := kioskTab(t, uitest.Landscape, true)

	// Phrases: tap two, send.
	do(t, ctx, chromedp.Navigate(srv.URL+"/"))
	tap(t, ctx, `ul.bigbuttons a[href="/report"]`)
	tap(t, ctx, `a.catbutton[href="/report/public_affairs"]`)
	tap(t, ctx, `a.choice.skip`)
	tap(t, ctx, `main > ul.ways a.way-phrases`)
	tapText(t, ctx, "label.toggle", "路灯坏了")
	tapText(t, ctx, "label.toggle", "路坏了或积水")
	uitest.Screenshot(t, ctx, "paths-1-phrases")
	tap(t, ctx, `form.phrases button[type="submit"]`)
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#receipt-code`)))
	c, err := cs.Case(text(t, ctx, "#receipt-code"))
	if err != nil || c.Description != "点选：路灯坏了；路坏了或积水" || c.Level != appliance.CaseLevelVillage || c.Source != appliance.SourceKiosk {
		t.Fatalf("phrase report: %+v %v", c, err)
	}
	tap(t, ctx, `#receipt-done`)

	// Callback, 其他 / 说不清: the number on the pad, a wrong digit deleted.
	tap(t, ctx, `ul.bigbuttons a[href="/report"]`)
	tap(t, ctx, `a.catbutton[href="/report/other"]`)
	tap(t, ctx, `a.choice[href*="group=`+appliance.GroupCode(srv.Config.Node.Code, 3)+`"]`)
	tap(t, ctx, `main > ul.ways a.way-callback`)
	for _, k := range []string{"1", "3", "9", "back", "8", "1", "2", "3", "4", "5", "6", "7", "8"} {
		tap(t, ctx, `.keypad[data-keypad="phone"] button[data-key="`+k+`"]`)
	}
	if got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#phone").value`)); got != "13812345678" {
		t.Fatalf("the pad typed %q", got)
	}
	uitest.Screenshot(t, ctx, "paths-2-callback")
	tap(t, ctx, `form.callback button[type="submit"]`)
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#receipt-code`)))
	code := text(t, ctx, "#receipt-code")
	if got := pageText(t, ctx); !strings.Contains(got, "值班人员会尽快给您回电话") {
		t.Fatalf("callback receipt: %s", got)
	}
	c, err = cs.Case(code)
	if err != nil || c.Callback != appliance.CallbackWanted || c.Level != appliance.CaseLevelVillage || c.Category != appliance.CategoryOther {
		t.Fatalf("callback report: %+v %v", c, err)
	}

	// The duty staff: the queue, the call, the outcome; then sorting it out.
	duty := srv.Client(t)
	duty.Login("dutystaff")
	_, page := duty.Get("/staff/cases/callbacks")
	if !strings.Contains(page, code) || !strings.Contains(page, "138****5678") || strings.Contains(page, "13812345678") {
		t.Fatalf("callback queue: %s", uitest.Text(page))
	}
	if _, dash := duty.Get("/staff"); !strings.Contains(uitest.Text(dash), "1 待回电") {
		t.Fatalf("dashboard: %s", uitest.Text(dash))
	}
	if status, _, body := duty.Post("/staff/cases/"+code+"/callback", map[string][]string{"outcome": {"reached"}}); status != 400 || !strings.Contains(body, "说了什么") {
		t.Fatalf("reached without notes: %d %s", status, uitest.Text(body))
	}
	if status, _, body := duty.Post("/staff/cases/"+code+"/callback", map[string][]string{"outcome": {"no_answer"}}); status != 303 {
		t.Fatalf("no answer: %d %s", status, uitest.Text(body))
	}
	if _, page = duty.Get("/staff/cases/callbacks"); !strings.Contains(page, code) || !strings.Contains(page, "未接通") {
		t.Fatal("after no answer the case left the queue")
	}
	if status, _, body := duty.Post("/staff/cases/"+code+"/callback", map[string][]string{"outcome": {"reached"}, "text": {"三组王大爷家门口的水管冻裂了"}}); status != 303 {
		t.Fatalf("reached: %d %s", status, uitest.Text(body))
	}
	if _, page = duty.Get("/staff/cases/callbacks"); strings.Contains(page, "/staff/cases/"+code+"?act=callback") {
		t.Fatal("reached, still in the callback queue")
	}
	if !strings.Contains(page, "/staff/cases/"+code+"?act=classify") {
		t.Fatalf("其他 not in the triage queue: %s", uitest.Text(page))
	}
	if status, _, body := duty.Post("/staff/cases/"+code+"/classify", map[string][]string{"category": {"public_affairs"}, "group": {appliance.GroupCode(srv.Config.Node.Code, 3)}}); status != 303 {
		t.Fatalf("classify: %d %s", status, uitest.Text(body))
	}
	c, _ = cs.Case(code)
	if c.Category != "public_affairs" || c.Level != appliance.CaseLevelGroup || c.Callback != appliance.CallbackDone || c.CallbackTries != 2 {
		t.Fatalf("after the duty staff: %+v", c)
	}
	// The duty staff may not sort out a case the grid leader now has.
	if status, _, _ := duty.Post("/staff/cases/"+code+"/classify", map[string][]string{"category": {"livelihood"}}); status != 403 {
		t.Fatalf("duty staff classified a group's case: %d", status)
	}
}

// Without a microphone, or with the microphone refused, the kiosk says so
// plainly and offers the other ways, which still work.
func TestKioskNoMicrophone(t *testing.T) {
	t.Parallel()
	srv := uitest.MustStart(t, uitest.Options{})
	for _, tt := range []struct {
		name string
		mic  bool
	}{
		{"NoDevice", false}, // headless Chromium without the fake device has no microphone
		{"Refused", true},   // a microphone, but the answer is no
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := uitest.BrowserWith(t, uitest.BrowserOptions{Screen: uitest.Landscape, Microphone: tt.mic})
			if tt.mic {
				if _, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
					Permission: &cdpbrowser.PermissionDescriptor{Name: "microphone"}, Setting: cdpbrowser.PermissionSettingDenied, Origin: srv.URL}); err != nil {
					t.Fatal(err)
				}
			}
			setScreen(t, ctx, uitest.Landscape)
			do(t, ctx, chromedp.Navigate(srv.URL+"/report/livelihood/how"))
			waitJS(t, ctx, "the voice button marked", `document.querySelector("a.way-voice").classList.contains("off")`, 30*time.Second)
			if got := text(t, ctx, "a.way-voice .nomic"); got != "这台机器现在不能录音" {
				t.Fatalf("how page: %q", got)
			}
			tap(t, ctx, `main > ul.ways a.way-voice`)
			waitJS(t, ctx, "the message", `!document.querySelector("[data-rec-nomic]").hidden`, 30*time.Second)
			if visible(t, ctx, "[data-rec-start]") {
				t.Fatal("the record button is offered without a microphone")
			}
			uitest.Screenshot(t, ctx, "nomic-"+tt.name)
			msg := text(t, ctx, "[data-rec-nomic]")
			if !strings.Contains(msg, "不能录音") {
				t.Fatalf("voice page says %q", msg)
			}
			for _, w := range []string{"phrases", "callback", "type"} {
				if !visible(t, ctx, "h2.other + ul.ways a.way-"+w) {
					t.Fatalf("the %s way is not offered", w)
				}
			}
			tap(t, ctx, `h2.other + ul.ways a.way-phrases`)
			tapText(t, ctx, "label.toggle", "老人没人照顾")
			tap(t, ctx, `form.phrases button[type="submit"]`)
			do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#receipt-code`)))
		})
	}
}

// Idle at the scale, on the page's own clock (DevTools virtual
// time runs the page's timers without waiting): a touch or a key every
// five seconds keeps a half-filled form for five minutes; then without
// activity the warning appears ten seconds before the kiosk's idle time
// and the page returns home. The receipt page waits longer.
func TestKioskIdle(t *testing.T) {
	t.Parallel()
	srv := uitest.MustStart(t, uitest.Options{})
	idle := srv.Config.HTTP.KioskIdle.Duration
	warn := srv.Config.Kiosk.IdleWarning.Duration
	ctx := kioskTab(t, uitest.Landscape, true)
	do(t, ctx, chromedp.Navigate(srv.URL+"/report/livelihood/type"), chromedp.WaitVisible(chromedp.CSS(`textarea[name="description"]`)))
	// A meta refresh would fire whatever the activity: with scripts on there is none.
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('head meta[http-equiv="refresh"]').length`)); n != 0 {
		t.Fatal("an active meta refresh on a kiosk page")
	}
	do(t, ctx, chromedp.Click(chromedp.CSS(`textarea[name="description"]`)))
	for i := 0; i < 60; i++ { // five minutes
		virtualTime(t, ctx, 5000)
		if i%2 == 0 {
			do(t, ctx, chromedp.KeyEvent("a")) // typing
		} else {
			// A touch elsewhere; then back to the field (a script's focus
			// is no activity; two taps on the field within the real
			// milliseconds of virtual time would be a double tap).
			tap(t, ctx, `h1.cathead`)
			js(t, ctx, `document.querySelector("textarea").focus()`)
		}
		if i == 30 && visible(t, ctx, "#idle-warning") {
			t.Fatal("warning shown while the villager is active")
		}
	}
	if p := currentPath(t, ctx); p != "/report/livelihood/type" {
		t.Fatalf("after five active minutes the page is %s", p)
	}
	typed, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("textarea").value`))
	if utf8.RuneCountInString(typed) != 30 {
		t.Fatalf("the form lost what was typed: %q", typed)
	}
	// Now nothing: no warning until ten seconds before the reset.
	virtualTime(t, ctx, float64((idle - warn - time.Second).Milliseconds()))
	if visible(t, ctx, "#idle-warning") {
		t.Fatal("warning too early")
	}
	virtualTime(t, ctx, 2000)
	if !visible(t, ctx, "#idle-warning") || !strings.Contains(text(t, ctx, "#idle-warning"), "还在吗？点一下屏幕继续") {
		t.Fatal("no warning ten seconds before the reset")
	}
	uitest.Screenshot(t, ctx, "idle-1-warning")
	// A touch on the warning keeps the page.
	tap(t, ctx, "#idle-warning .box")
	if visible(t, ctx, "#idle-warning") || currentPath(t, ctx) != "/report/livelihood/type" {
		t.Fatal("a touch on the warning did not keep the page")
	}
	virtualTime(t, ctx, float64((idle + time.Second).Milliseconds()))
	waitVirtual(t, ctx, "the kiosk home", `location.pathname === "/" && !!document.querySelector("ul.bigbuttons")`)

	// The receipt page stays for kiosk.receipt_idle (a fresh tab: a page
	// loads only while virtual time runs).
	ctx = kioskTab(t, uitest.Landscape, true)
	do(t, ctx, chromedp.Navigate(srv.URL+"/report/livelihood/phrases"), chromedp.WaitVisible(chromedp.CSS(`label.toggle`)))
	tap(t, ctx, `label.toggle`)
	tap(t, ctx, `form.phrases button[type="submit"]`)
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(`#receipt-code`)))
	virtualTime(t, ctx, float64((srv.Config.Kiosk.ReceiptIdle.Duration - warn - time.Second).Milliseconds()))
	if !visible(t, ctx, "#receipt-code") || visible(t, ctx, "#idle-warning") {
		t.Fatal("the receipt did not stay")
	}
	virtualTime(t, ctx, float64((warn + 2*time.Second).Milliseconds()))
	waitVirtual(t, ctx, "the kiosk home after the receipt", `location.pathname === "/" && !!document.querySelector("ul.bigbuttons")`)
}

// waitVirtual lets virtual time run on in small steps (a page loads only
// while it runs) until cond holds.
func waitVirtual(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return
		}
		virtualTime(t, ctx, 100)
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

// With JavaScript off, the typed forms still work, and a page returns home
// after kiosk.noscript_idle by itself.
func TestKioskWithoutJavaScript(t *testing.T) {
	t.Parallel()
	srv := uitest.MustStart(t, uitest.Options{})
	ctx := kioskTab(t, uitest.Landscape, false)
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/report/livelihood/type"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="description"]`), "村里的五保老人没人照顾"),
		chromedp.Click(chromedp.CSS(`form.report button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#receipt-code`)),
	)
	code, pin := text(t, ctx, "#receipt-code"), text(t, ctx, "#receipt-pin")
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/track"),
		chromedp.SendKeys(chromedp.CSS(`#code`), strings.ToLower(code)),
		chromedp.SendKeys(chromedp.CSS(`#pin`), pin),
		chromedp.Click(chromedp.CSS(`form.track button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#track-status`)),
	)
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/report/livelihood/callback"),
		chromedp.SendKeys(chromedp.CSS(`#phone`), "0371-62581234"),
		chromedp.Click(chromedp.CSS(`form.callback button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#receipt-code`)),
	)
	_, body := srv.Client(t).Get("/report")
	if want := `<noscript><meta http-equiv="refresh" content="600;url=/?reset=1"></noscript>`; !strings.Contains(body, want) {
		t.Fatalf("no-script refresh missing: want %s", want)
	}
}

// Names with characters of CJK Extension B show as themselves on kiosk
// and staff pages: the font Chromium actually uses for them (DevTools
// CSS.getPlatformFontsForNode) has their glyphs.
func TestRareCharactersRender(t *testing.T) {
	t.Parallel()
	srv := uitest.MustStart(t, uitest.Options{})
	code := srv.Config.Node.Code
	name := "𠇔𠮷𡒄"
	if err := srv.Store.SetStaff(context.Background(), "", appliance.StaffMember{ID: code + "-s9", Name: name, Phone: "13812345678", Duty: appliance.DutyGridLeader, Grid: appliance.GroupCode(code, 1)}); err != nil {
		t.Fatal(err)
	}
	ctx := kioskTab(t, uitest.Landscape, false)
	check := func(page, sel string) {
		t.Helper()
		do(t, ctx, chromedp.WaitVisible(chromedp.CSS(sel)))
		if _, err := chromedp.Call(ctx, dom.Enable, dom.EnableParams{}); err != nil {
			t.Fatal(err)
		}
		if _, err := chromedp.Call(ctx, css.Enable, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
		doc, err := chromedp.Call(ctx, dom.GetDocument, dom.GetDocumentParams{})
		if err != nil {
			t.Fatal(err)
		}
		n, err := chromedp.Call(ctx, dom.QuerySelector, dom.QuerySelectorParams{NodeID: doc.Root.NodeID, Selector: sel})
		if err != nil || n.NodeID == 0 {
			t.Fatalf("%s: no %s (%v)", page, sel, err)
		}
		fonts, err := chromedp.Call(ctx, css.GetPlatformFontsForNode, css.GetPlatformFontsForNodeParams{NodeID: n.NodeID})
		if err != nil {
			t.Fatal(err)
		}
		var used []string
		rare := 0.0
		for _, f := range fonts.Fonts {
			used = append(used, f.FamilyName)
			if strings.HasPrefix(f.FamilyName, "HanaMin") || strings.Contains(f.FamilyName, "BabelStone") {
				rare += f.GlyphCount
			}
		}
		if rare != 3 {
			t.Fatalf("%s: %s drawn with %v, want its 3 Extension B characters in a font that has them", page, name, fonts.Fonts)
		}
		t.Logf("%s: fonts %v", page, used)
	}
	do(t, ctx, chromedp.Navigate(srv.URL+"/duty"))
	markText(t, ctx, name)
	check("kiosk /duty", "#rare")
	uitest.Screenshot(t, ctx, "rare-kiosk")
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/login?kiosk=0"),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "villagelead"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), uitest.Password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`ul.counters`)),
		chromedp.Navigate(srv.URL+"/staff/grid"), // the staff tree (网格与人员)
		chromedp.WaitVisible(chromedp.CSS(`div.tree`)),
	)
	markText(t, ctx, name)
	check("staff grid page", "#rare")
}

// markText wraps the first occurrence of s on the page in <span id=rare>,
// so its fonts can be asked for alone.
func markText(t *testing.T, ctx context.Context, s string) {
	t.Helper()
	js(t, ctx, `(() => {
		const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
		for (let n; (n = w.nextNode());) {
			const i = n.textContent.indexOf(`+jsString(s)+`);
			if (i < 0) continue;
			const r = document.createRange();
			r.setStart(n, i);
			r.setEnd(n, i + `+jsString(s)+`.length);
			const span = document.createElement("span");
			span.id = "rare";
			r.surroundContents(span);
			return true;
		}
		throw new Error("text not on the page");
	})()`)
}

// The duty staff log in on the kiosk screen, which has no keyboard, with
// the on-screen one: a wrong key taken back, 大写 for a capital; they land
// on their work pages.
func TestKioskStaffLoginByTouch(t *testing.T) {
	t.Parallel()
	srv := uitest.MustStart(t, uitest.Options{})
	ctx := kioskTab(t, uitest.Portrait, false)
	do(t, ctx, chromedp.Navigate(srv.URL+"/login"))
	key := func(k string) { tap(t, ctx, `.keyboard button[data-key="`+k+`"]`) }
	tap(t, ctx, "#username")
	for _, k := range strings.Split("dutystafx", "") {
		key(k)
	}
	key("back")
	key("f")
	tap(t, ctx, "#password")
	for _, k := range strings.Split(uitest.Password, "") {
		key(k)
	}
	key("shift")
	key("Q") // the letters are capitals now
	key("back")
	key("shift")
	if got, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.querySelector("#username").value, document.querySelector("#password").value, document.querySelector('.keyboard button[data-key="q"]') ? "lower" : "upper"]`)); strings.Join(got, " ") != "dutystaff "+uitest.Password+" lower" {
		t.Fatalf("the keyboard typed %q", got)
	}
	tap(t, ctx, `form button[type="submit"]`)
	// The path changes when the new page commits, before all of it is
	// parsed: wait for the staff page's logout button itself.
	waitJS(t, ctx, "the staff pages", `location.pathname.startsWith("/staff") && document.readyState === "complete" && !!document.querySelector("button.logout")`, 10*time.Second)
	if got := pageText(t, ctx); !strings.Contains(got, "退出登录") {
		t.Fatalf("after logging in by touch: %s", got)
	}
}
