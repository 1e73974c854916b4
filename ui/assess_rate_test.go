package ui_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// The village rates the town departments that handled its case on the
// page: refusals name the field and write nothing, one rating per case and
// department, the town sees it, both nodes score it the same; in
// Chromium on a phone, the lead finds the page from 考核积分 and rates.
func TestDeptRatingPage(t *testing.T) {
	p := mustAssessPair(t)
	lead, townOp := token(t, p.village, "u-villagelead"), token(t, p.town, "u-townoperator")
	vb, tb := newBrowser(t, p.village.URL), newBrowser(t, p.town.URL)
	var rc struct{ Code string }
	if code := vb.api("POST", "/api/v1/cases", lead, map[string]any{"category": "public_affairs", "description": "村口桥面塌陷", "source": "walk_in"}, &rc); code != 201 {
		t.Fatalf("case: %d", code)
	}
	if code := vb.api("POST", "/api/v1/cases/"+rc.Code+"/escalate", lead, map[string]any{"text": "需镇里维修"}, nil); code != 200 {
		t.Fatalf("escalate: %d", code)
	}
	p.up()
	if code := tb.api("POST", "/api/v1/cases/"+rc.Code+"/dispatch", townOp, map[string]any{"departments": []string{"交通运输所", "水利站"}, "text": "三天内修复"}, nil); code != 200 {
		t.Fatalf("dispatch: %d", code)
	}
	p.down()
	lc := p.village.Client(t)
	lc.Login("villagelead")
	if code, body := lc.Get("/staff/assess/departments"); code != 200 || !strings.Contains(body, "没有待评议的问题") {
		t.Fatalf("before the town resolved it: %d %s", code, uitest.Text(body))
	}
	if code := tb.api("POST", "/api/v1/cases/"+rc.Code+"/resolve", townOp, map[string]any{"text": "桥面已修复"}, nil); code != 200 {
		t.Fatalf("resolve: %d", code)
	}
	p.down()
	code, body := lc.Get("/staff/assess/departments")
	if code != 200 || !strings.Contains(body, "评议交通运输所") || !strings.Contains(body, "评议水利站") || !strings.Contains(body, "村口桥面塌陷") {
		t.Fatalf("the page: %d %s", code, uitest.Text(body))
	}
	ratings := func() int {
		rs, err := p.village.Store.DeptRatings(p.village.Config.Node.Code)
		if err != nil {
			t.Fatal(err)
		}
		return len(rs)
	}
	good := url.Values{"case": {rc.Code}, "department": {"交通运输所"}, "timeliness": {"satisfied"}, "result": {"unsatisfied"}, "text": {"修得不牢"}, "by": {"村支书"}}
	with := func(k, v string) url.Values { return withValue(good, k, v) }
	for _, bad := range []struct {
		form       url.Values
		code       int
		says, mark string
	}{
		{with("timeliness", ""), 400, "请评价办理是否及时", `person invalid"><legend>办理是否及时`},
		{with("result", "很好"), 400, "请评价办理结果", `person invalid"><legend>办理结果`},
		{with("by", " "), 400, "请填写评价人", `aria-invalid="true"`},
		{with("department", "派出所"), 400, "这个问题没有交办给派出所", ""},
		{with("case", "ZZZZ-ZZZZ"), 400, "", ""},
		{with("text", strings.Repeat("长", 501)), 400, "评价意见", `aria-invalid="true"`},
	} {
		code, _, body := lc.Post("/staff/assess/departments", bad.form)
		if code != bad.code || !strings.Contains(body, bad.says) || !strings.Contains(body, bad.mark) || !strings.Contains(body, `class="error"`) {
			t.Errorf("rating %v: %d %s", bad.form, code, uitest.Text(body))
		}
	}
	if n := ratings(); n != 0 {
		t.Fatalf("refused ratings wrote %d", n)
	}
	if code, loc, _ := lc.Post("/staff/assess/departments", good); code != 303 || loc != "/staff/assess/departments#rated" {
		t.Fatalf("rating: %d %s", code, loc)
	}
	if code, _, body := lc.Post("/staff/assess/departments", good); code != 409 || !strings.Contains(body, "已经评议过交通运输所") {
		t.Fatalf("second rating: %d %s", code, uitest.Text(body))
	}
	if _, body := lc.Get("/staff/assess/departments"); !strings.Contains(uitest.Text(body), "交通运输所 ：及时性满意，办理结果不满意。修得不牢（村支书") || !strings.Contains(body, "评议水利站") {
		t.Fatalf("after rating: %s", uitest.Text(body))
	}
	// A town has nothing to rate: it sees its villages' ratings.
	if code, _, _ := p.town.Client(t).Post("/staff/assess/departments", with("_csrf", "")); code != 403 && code != 401 && code != 303 {
		t.Fatalf("rating without a login at the town: %d", code)
	}
	p.up()
	tc := p.town.Client(t)
	tc.Login("townoperator")
	if code, _, body := tc.Post("/staff/assess/departments", with("_csrf", "")); code != 403 || !strings.Contains(body, "职能部门由村里评议") {
		t.Fatalf("rating at the town: %d %s", code, uitest.Text(body))
	}
	if code, body := tc.Get("/staff/assess/departments"); code != 200 || !strings.Contains(uitest.Text(body), "杏花村 评议 交通运输所") {
		t.Fatalf("the town's page: %d %s", code, uitest.Text(body))
	}
	// The same department score at both: +1 on time, +0.5 timely, −1 result.
	week, _ := appliance.PeriodOf(appliance.PeriodWeek, time.Now().In(p.town.Config.Location()).Format(time.DateOnly))
	ov, ot := loadOpenAPI(t, p.village.URL), loadOpenAPI(t, p.town.URL)
	for _, n := range []struct {
		o   *openAPI
		url string
		tok string
	}{{ov, p.village.URL, lead}, {ot, p.town.URL, townOp}} {
		_, ans := n.o.do(n.url, "GET", "/api/v1/assess/scores?period="+week.ID, n.tok, nil)
		if got, ok := scoreOf(ans, "department", "交通运输所"); !ok || got != 1005 {
			t.Errorf("交通运输所 at %s: %v %v", n.url, got, ok)
		}
		if got, ok := scoreOf(ans, "department", "水利站"); !ok || got != 1010 {
			t.Errorf("水利站 at %s: %v %v", n.url, got, ok)
		}
	}

	// In Chromium on a phone: from 考核积分 to the page, the second rating.
	ctx := uitest.Browser(t)
	do(t, ctx, chromedp.EmulateViewport(390, 844))
	browserLogin(t, ctx, p.village.URL, "villagelead")
	do(t, ctx,
		chromedp.Navigate(p.village.URL+"/staff/assess"),
		clickTo(`a[href="/staff/assess/departments"]`, `#rated`),
		chromedp.Click(chromedp.CSS(`#rated details summary`)),
		chromedp.Click(chromedp.CSS(`#rated details input[name="timeliness"][value="basic"]`)),
		chromedp.Click(chromedp.CSS(`#rated details input[name="result"][value="satisfied"]`)),
		clickTo(`#rated details button[type="submit"]`, `#rated`),
	)
	if got := pageText(t, ctx); !strings.Contains(got, "已评议水利站：及时性基本满意，办理结果满意") {
		t.Fatalf("after rating in Chromium: %s", got)
	}
	if forms, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelectorAll("#rated form").length`)); err != nil || forms != 0 {
		t.Fatalf("forms left after rating both: %v %v", forms, err)
	}
}
