package ui_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbox/appliance/bolt"
	"gridbox/appliance/demo"
)

// The village lead logs in on the demo village and sees the case list,
// a case escalated to the town, the register and the statistics.
func TestCaseStaffBrowser(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	ctx := context.Background()
	if _, _, err := demo.Generate(ctx, dir, demo.Options{}); err != nil {
		t.Fatal(err)
	}
	s, cfg, err := bolt.OpenDataDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	base, _ := serve(t, cfg, s)

	bctx := newChrome(t, bin, 90*time.Second)
	shot := screenshot(screenshotDir(t))
	var sentence, list, detail, register string
	err = chromedp.Run(bctx,
		chromedp.Navigate(base+"/login"),
		chromedp.SendKeys(`input[name="username"]`, "lead", chromedp.ByQuery),
		chromedp.SendKeys(`input[name="password"]`, demo.Password, chromedp.ByQuery),
		chromedp.Click(`form[action="/login"] button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`ul.counters`, chromedp.ByQuery),
		shot("cases-5-dashboard.png"),
		chromedp.Navigate(base+"/staff/cases/stats"),
		chromedp.WaitVisible(`#stats-sentence`, chromedp.ByID),
		chromedp.Text(`#stats-sentence`, &sentence, chromedp.ByID),
		shot("cases-6-stats.png"),
		chromedp.Navigate(base+"/staff/cases?level=town"),
		chromedp.WaitVisible(`table.cases`, chromedp.ByQuery),
		chromedp.Text(`table.cases`, &list, chromedp.ByQuery),
		shot("cases-7-list.png"),
		chromedp.Click(`table.cases a`, chromedp.ByQuery),
		chromedp.WaitVisible(`ol.timeline`, chromedp.ByQuery),
		chromedp.Text(`main`, &detail, chromedp.ByQuery),
		shot("cases-8-detail.png"),
		chromedp.Navigate(base+"/staff/cases/register?period=week"),
		chromedp.WaitVisible(`section.regday`, chromedp.ByQuery),
		chromedp.Text(`main`, &register, chromedp.ByQuery),
		shot("cases-9-register.png"),
	)
	if err != nil {
		t.Fatal(err)
	}
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
