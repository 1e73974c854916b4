package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbox/appliance/bolt"
	"gridbox/appliance/demo"
	"gridbox/ui/internal/uitest"
)

// The village lead logs in on the demo village and sees the case list,
// a case escalated to the town, the register and the statistics.
func TestCaseStaffBrowser(t *testing.T) {
	ctx := uitest.Browser(t)
	base := serveDemo(t)

	do(t, ctx,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "lead"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), demo.Password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`ul.counters`)),
	)
	uitest.Screenshot(t, ctx, "cases-5-dashboard")
	do(t, ctx, chromedp.Navigate(base+"/staff/cases/stats"), chromedp.WaitVisible(chromedp.CSS(`#stats-sentence`)))
	sentence := text(t, ctx, "#stats-sentence")
	uitest.Screenshot(t, ctx, "cases-6-stats")
	do(t, ctx, chromedp.Navigate(base+"/staff/cases?level=town"), chromedp.WaitVisible(chromedp.CSS(`table.cases`)))
	list := text(t, ctx, "table.cases")
	uitest.Screenshot(t, ctx, "cases-7-list")
	do(t, ctx, chromedp.Click(chromedp.CSS(`table.cases a`)), chromedp.WaitVisible(chromedp.CSS(`ol.timeline`)))
	detail := text(t, ctx, "main")
	uitest.Screenshot(t, ctx, "cases-8-detail")
	// Last week: every day of it has ended, and the lead closed each the
	// next morning (this week's may still be open).
	lastWeek := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, -7).Format("2006-01-02")
	do(t, ctx, chromedp.Navigate(base+"/staff/cases/register?period=week&date="+lastWeek), chromedp.WaitVisible(chromedp.CSS(`section.regday`)))
	register := text(t, ctx, "main")
	uitest.Screenshot(t, ctx, "cases-9-register")

	if !strings.HasPrefix(sentence, "共收集问题") || !strings.Contains(sentence, "上报市平台1件") {
		t.Errorf("sentence: %s", sentence)
	}
	if !strings.Contains(register, "已关账") || strings.Contains(register, "关账后数据有变动") {
		t.Errorf("register: closed days missing or changed:\n%s", register)
	}
	if !strings.Contains(list, "乡镇") || !strings.Contains(detail, "上报") {
		t.Errorf("town cases not shown:\n%s\n%s", list, detail)
	}
}

// serveDemo serves the demo village on a random port.
func serveDemo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, _, err := demo.Generate(context.Background(), dir, demo.Options{}); err != nil {
		t.Fatal(err)
	}
	s, cfg, err := bolt.OpenDataDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	base, _ := serve(t, cfg, s)
	return base
}
