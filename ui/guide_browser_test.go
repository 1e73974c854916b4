package ui_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"gridbox/appliance/demo"
	"gridbox/ui/internal/uitest"
)

// TestDutyGuideScreens walks a duty day on the demo village as the duty
// staff do (docs/guide-duty.md shows these screens; `make guide-screens`
// writes them into docs/img): log in, the dashboard, register a walk-in's
// problem and hand over the receipt, the callbacks, a case, the register,
// the system page.
func TestDutyGuideScreens(t *testing.T) {
	ctx := uitest.Browser(t)
	base := serveDemo(t)
	do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "duty"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), demo.Password),
	)
	uitest.Screenshot(t, ctx, "guide-duty-1-login")
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.staffnav`)),
	)
	uitest.Screenshot(t, ctx, "guide-duty-2-dashboard")
	do(t, ctx,
		chromedp.Navigate(base+"/staff/cases/new"),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name="description"]`)),
		chromedp.SetValue(chromedp.CSS(`select[name="source"]`), "walk_in"),
		chromedp.Click(chromedp.CSS(`input[name="category"][value="public_affairs"]`)), // categories are icons
		chromedp.SendKeys(chromedp.CSS(`textarea[name="description"]`), "村东头路灯坏了一个星期，晚上走路看不见"),
	)
	uitest.Screenshot(t, ctx, "guide-duty-3-register")
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`form[action="/staff/cases/new"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#receipt-code`)),
	)
	code := text(t, ctx, "#receipt-code")
	uitest.Screenshot(t, ctx, "guide-duty-4-receipt")
	do(t, ctx, chromedp.Navigate(base+"/staff/cases/callbacks"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	uitest.Screenshot(t, ctx, "guide-duty-5-callbacks")
	do(t, ctx, chromedp.Navigate(base+"/staff/cases/"+strings.ReplaceAll(code, "-", "")), chromedp.WaitVisible(chromedp.CSS(`ol.timeline`)))
	detail := text(t, ctx, "main")
	uitest.Screenshot(t, ctx, "guide-duty-6-case")
	do(t, ctx, chromedp.Navigate(base+"/staff/cases/register"), chromedp.WaitVisible(chromedp.CSS(`main h1`)))
	uitest.Screenshot(t, ctx, "guide-duty-7-register-day")
	do(t, ctx, chromedp.Navigate(base+"/staff/system"), chromedp.WaitVisible(chromedp.CSS(`#backup`)))
	uitest.Screenshot(t, ctx, "guide-duty-8-system")
	if !strings.Contains(detail, "路灯") {
		t.Fatalf("the new case %s:\n%s", code, detail)
	}
}
