package ui_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/ui/internal/uitest"
)

// kioskFixture is a village box with what every kiosk page shows: duty,
// notices, a household whose service card can be scanned, a resolved case
// that can be rated.
type kioskFixture struct {
	*uitest.Server
	Cases     *bolt.Cases
	Household string // a service card's token
	Resolved  bolt.Receipt
}

func mustKioskFixture(t *testing.T) *kioskFixture {
	t.Helper()
	srv := uitest.MustStart(t, uitest.Options{})
	ctx := context.Background()
	code := srv.Config.Node.Code
	today := time.Now().In(srv.Config.Location()).Format("2006-01-02")
	g1 := appliance.GroupCode(code, 1)
	leader := appliance.StaffMember{ID: code + "-s1", Name: "𠇔秀兰", Phone: "13812345678", Duty: appliance.DutyGridLeader, Grid: g1}
	if err := srv.Store.SetStaff(ctx, "", leader); err != nil {
		t.Fatal(err)
	}
	if err := srv.Store.SetDuty(ctx, "", appliance.DutyShift{Grid: code, Date: today, Shift: "全天", StaffID: leader.ID, Name: leader.Name, Phone: leader.Phone, Lead: "王村长"}); err != nil {
		t.Fatal(err)
	}
	for i, title := range []string{"停水通知", "秋季征兵开始报名"} {
		n := appliance.Notice{Grid: code, ID: "n" + string(rune('1'+i)), Title: title, Body: "明天上午八点到十二点停水，请提前储水。", Published: today}
		if err := srv.Store.SetNotice(ctx, "", n); err != nil {
			t.Fatal(err)
		}
	}
	head := appliance.Person{Name: "张𠮷", Relation: "户主", Residence: appliance.ResidenceHere,
		Sensitive: &appliance.Sensitive{IDNumber: appliance.MakeCitizenID("410184", time.Date(1948, 3, 7, 0, 0, 0, 0, time.UTC), 12, true)}}
	hid, err := srv.Store.CreateHousehold(ctx, "u-gridleader", appliance.Household{Group: g1, Address: "杏花村一组12号"}, []appliance.Person{head})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := appliance.NewTokenSigner(srv.Store.Secret())
	if err != nil {
		t.Fatal(err)
	}
	cs, err := bolt.NewCases(srv.Store, srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cs.RegisterCase(ctx, "", bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourceKiosk, Group: g1, Description: "村东头路灯坏了"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Act(ctx, "u-gridleader", []string{appliance.CaseLevelGroup}, appliance.CaseStep{Case: r.Code, Action: appliance.CaseResolve, Text: "已换新灯泡"}); err != nil {
		t.Fatal(err)
	}
	return &kioskFixture{Server: srv, Cases: cs, Household: tokens.Sign(bolt.TokenHousehold, hid), Resolved: r}
}

// submitForm fills a page's form fields by script and submits it (the
// page check is about what the next page shows, not how it was reached).
func submitForm(t *testing.T, ctx context.Context, form string, fields map[string]string) {
	t.Helper()
	script := `(() => { const f = document.querySelector(` + jsString(form) + `);`
	for k, v := range fields {
		script += `f.elements[` + jsString(k) + `].value = ` + jsString(v) + `;`
	}
	script += `window.leaving = true; f.submit(); return true; })()`
	js(t, ctx, script)
	waitJS(t, ctx, "the next page", `!window.leaving && document.readyState === "complete"`, 10*time.Second)
}

func jsString(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// Every kiosk page at both of the kiosk's screen sizes: axe-core finds no
// serious or critical violation; no visible text is under 20 px, no touch
// target under 48 × 48 px or within 8 px of another; each page's primary
// action is on the first screen; a portrait screen's height is used.
func TestKioskPagesAtBothSizes(t *testing.T) {
	t.Parallel()
	axe := uitest.AxeScript(t)
	f := mustKioskFixture(t)
	base := f.URL
	for _, screen := range []uitest.Screen{uitest.Landscape, uitest.Portrait} {
		t.Run(screen.Name, func(t *testing.T) {
			t.Parallel()
			ctx := kioskTab(t, screen, true)
			visit := func(name, path, primary string) {
				t.Helper()
				do(t, ctx, chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.CSS("footer.bottom")))
				checkKioskPage(t, ctx, axe, screen.Name+"-"+name, primary)
			}
			visit("home", "/", "ul.bigbuttons a[href='/report']")
			if screen == uitest.Portrait {
				// The five entry buttons share the screen's height.
				bottom, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector("ul.bigbuttons li:last-child a").getBoundingClientRect().bottom`))
				if err != nil || bottom < 0.6*float64(screen.Height) {
					t.Errorf("portrait home: the entry buttons end at %.0f px of %d (%v)", bottom, screen.Height, err)
				}
			}
			visit("categories", "/report", "a.catbutton[href='/report/other']")
			visit("group", "/report/public_affairs", "a.choice.skip")
			visit("how", "/report/public_affairs/how?group="+appliance.GroupCode(f.Config.Node.Code, 2), "a.way-voice")
			visit("voice", "/report/public_affairs/voice", "[data-rec-start]")
			visit("phrases", "/report/public_affairs/phrases", "form.phrases button[type=submit]")
			visit("callback", "/report/public_affairs/callback", "form.callback button[type=submit]")
			visit("type", "/report/public_affairs/type", "form.report button[type=submit]")
			// Errors are shown on the page they concern.
			do(t, ctx, chromedp.Navigate(base+"/report/public_affairs/callback"), chromedp.WaitReady(chromedp.CSS("form.callback")))
			submitForm(t, ctx, "form.callback", map[string]string{"phone": "12345"})
			checkKioskPage(t, ctx, axe, screen.Name+"-callback-error", "form.callback button[type=submit]")
			do(t, ctx, chromedp.Navigate(base+"/report/livelihood/phrases"), chromedp.WaitReady(chromedp.CSS("form.phrases")))
			js(t, ctx, `document.querySelector("form.phrases input[type=checkbox]").checked = true`)
			submitForm(t, ctx, "form.phrases", nil)
			checkKioskPage(t, ctx, axe, screen.Name+"-receipt", "#receipt-done")
			visit("track", "/track", "form.track button[type=submit]")
			submitForm(t, ctx, "form.track", map[string]string{"code": f.Resolved.Code, "pin": wrongPIN(f.Resolved.PIN)})
			if got := pageText(t, ctx); !strings.Contains(got, "还可以再试") {
				t.Errorf("wrong PIN: no tries left shown: %s", got)
			}
			checkKioskPage(t, ctx, axe, screen.Name+"-track-wrong", "form.track button[type=submit]")
			submitForm(t, ctx, "form.track", map[string]string{"code": f.Resolved.Code, "pin": f.Resolved.PIN})
			checkKioskPage(t, ctx, axe, screen.Name+"-track-rate", "form.rate button[value=unsatisfied]")
			visit("scan-card", "/scan?token="+url.QueryEscape(f.Household), "")
			visit("scan-bad", "/scan?token=nonsense", "")
			visit("duty", "/duty", "")
			visit("signin", "/signin", "form.scan button[type=submit]")
			visit("staff-login", "/login", "form button[type=submit]")
			visit("services", "/services", "")
			visit("notices", "/notices", "ul.notices a")
			visit("notice", "/notices/n1", "")
			visit("login", "/login", "form button[type=submit]")
			visit("not-found", "/no/such/page", "")
			// The answer of the receipt's print button (no printer here).
			do(t, ctx, chromedp.Navigate(base+"/track"), chromedp.WaitReady(chromedp.CSS("form.track")))
			js(t, ctx, `document.body.insertAdjacentHTML("beforeend", '<form id="p" method="post" action="/report/receipt/print"><input name="_csrf" value="' + document.querySelector("input[name=_csrf]").value + '"><input name="token" value="x"></form>'); true`)
			submitForm(t, ctx, "#p", nil)
			checkKioskPage(t, ctx, axe, screen.Name+"-receipt-print", "")
		})
	}
}

func wrongPIN(pin string) string {
	if pin == "0000" {
		return "1111"
	}
	return "0000"
}
