package ui_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

func TestKioskPages(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	ctx := t.Context()
	today := time.Now().In(srv.Config.Location()).Format("2006-01-02")
	leader := appliance.StaffMember{ID: srv.Config.Node.Code + "-s1", Name: "王建国", Phone: "13812345678", Duty: appliance.DutyGridLeader, Grid: appliance.GroupCode(srv.Config.Node.Code, 1)}
	if err := srv.Store.SetStaff(ctx, "", leader); err != nil {
		t.Fatal(err)
	}
	if err := srv.Store.SetDuty(ctx, "", appliance.DutyShift{Grid: srv.Config.Node.Code, Date: today, Shift: "全天", StaffID: srv.Config.Node.Code + "-s1", Name: "王建国", Phone: "13812345678"}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Store.SetNotice(ctx, "", appliance.Notice{Grid: srv.Config.Node.Code, ID: "n1", Title: "停水通知", Body: "明天上午八点到十二点停水。", Published: today}); err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)

	status, home := c.Get("/")
	if status != http.StatusOK {
		t.Fatalf("home: %d", status)
	}
	for _, want := range []string{"我要反映问题", "查询办理进度", "值班信息", "服务事项", "通知公告", "王建国", "停水通知", `lang="zh-CN"`} {
		if !strings.Contains(home, want) {
			t.Errorf("home lacks %q", want)
		}
	}
	// Every entry point of the home page leads to a working page.
	for _, m := range regexp.MustCompile(`<a href="(/[a-z]+)" class="big`).FindAllStringSubmatch(home, -1) {
		if status, body := c.Get(m[1]); status != http.StatusOK || !strings.Contains(body, "<h1>") {
			t.Errorf("%s: %d", m[1], status)
		}
	}
	_, duty := c.Get("/duty")
	for _, want := range []string{"本周值班表", "王建国", "13812345678", "第一村民组", "网格长联系表", "0371-62581234"} {
		if !strings.Contains(duty, want) {
			t.Errorf("duty page lacks %q", want)
		}
	}
	if _, body := c.Get("/notices/n1"); !strings.Contains(body, "明天上午八点到十二点停水。") {
		t.Error("notice page lacks its body")
	}
	if status, _ := c.Get("/notices/nope"); status != http.StatusNotFound {
		t.Errorf("unknown notice: %d", status)
	}
	if status, body := c.Get("/no/such/page"); status != http.StatusNotFound || !strings.Contains(body, "页面不存在") {
		t.Errorf("unknown page: %d", status)
	}
	_, services := c.Get("/services")
	for _, s := range srv.Config.Services {
		if !strings.Contains(services, s.Name) {
			t.Errorf("services page lacks %s", s.Name)
		}
	}
	if status, body := c.Get("/healthz"); status != http.StatusOK || body != "ok\n" {
		t.Errorf("healthz: %d %q", status, body)
	}
	_, metrics := c.Get("/metrics")
	for _, want := range []string{"gridbox_ledger_entries", "gridbox_ledger_appends_total", "gridbox_http_request_duration_seconds_bucket"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Static files are served under content-hashed names with a long cache life.
	css := regexp.MustCompile(`/static/gridbox\.[0-9a-f]+\.css`).FindString(home)
	resp, err := http.Get(srv.URL + css)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("css %s: %d %s", css, resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}

// TestBrowserKioskAndDashboard opens the kiosk home in headless Chromium,
// logs in as staff and sees the dashboard, saving screenshots.
func TestBrowserKioskAndDashboard(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	ctx := uitest.Browser(t)

	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS("ul.bigbuttons")),
	)
	if err != nil {
		t.Fatal(err)
	}
	label, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("a.big .label")))
	if err != nil {
		t.Fatal(err)
	}
	if label != "我要反映问题" {
		t.Fatalf("first kiosk button %q", label)
	}
	uitest.Screenshot(t, ctx, "kiosk-home")

	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("a.stafflogin")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "villagelead"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), uitest.Password),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("ul.counters")),
	)
	if err != nil {
		t.Fatal(err)
	}
	h1, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main h1")))
	if err != nil {
		t.Fatal(err)
	}
	if h1 != "工作台" {
		t.Fatalf("after login: h1 %q", h1)
	}
	// The staff tree is on 网格与人员 (the dashboard says what to do next).
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/staff/grid"), chromedp.WaitVisible(chromedp.CSS("div.tree"))); err != nil {
		t.Fatal(err)
	}
	tree, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("div.tree")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(tree, "第三村民组") {
		t.Fatalf("dashboard tree: %q", tree)
	}
	uitest.Screenshot(t, ctx, "staff-dashboard")
}

func TestGridAndStaffForms(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{NoGroups: true})
	c := srv.Client(t)
	c.Login("villagelead")
	before, _ := srv.Store.Stats()
	status, _, body := c.Post("/staff/grid", url.Values{"number": {"0"}, "name": {"第零组"}, "kind": {"村组"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "组号应为1到99") {
		t.Fatalf("bad group number: %d %s", status, uitest.Text(body))
	}
	status, _, body = c.Post("/staff/grid/staff", url.Values{"name": {"李四"}, "phone": {"12345"}, "duty": {"grid_leader"}, "grid": {srv.Config.Node.Code}})
	if status != http.StatusBadRequest || !strings.Contains(body, "电话号码格式错误") {
		t.Fatalf("bad phone: %d %s", status, uitest.Text(body))
	}
	if after, _ := srv.Store.Stats(); after.Entries != before.Entries {
		t.Fatal("refused forms wrote entries")
	}
	if status, _, body := c.Post("/staff/grid", url.Values{"number": {"5"}, "name": {"幸福楼院"}, "kind": {"楼院"}}); status != http.StatusSeeOther {
		t.Fatalf("add group: %d %s", status, uitest.Text(body))
	}
	group := appliance.GroupCode(srv.Config.Node.Code, 5)
	if status, _, body := c.Post("/staff/grid/staff", url.Values{"name": {"𠇔秀兰"}, "phone": {"138 1234 5678"}, "duty": {"grid_leader"}, "grid": {group}}); status != http.StatusSeeOther {
		t.Fatalf("add person: %d %s", status, uitest.Text(body))
	}
	_, page := c.Get("/staff/grid")
	for _, want := range []string{"幸福楼院", "楼院", "𠇔秀兰", "13812345678"} {
		if !strings.Contains(page, want) {
			t.Errorf("grid page lacks %q", want)
		}
	}
	// The kiosk's grid table shows the new leader of the new group.
	if _, duty := srv.Client(t).Get("/duty"); !strings.Contains(duty, "𠇔秀兰") {
		t.Error("kiosk grid table lacks the new leader")
	}
	// Grid leaders may look but not change.
	g := srv.Client(t)
	g.Login("gridleader")
	if status, _, _ := g.Post("/staff/grid", url.Values{"number": {"6"}, "name": {"第六组"}}); status != http.StatusForbidden {
		t.Fatalf("grid leader changed the grid: %d", status)
	}
}
