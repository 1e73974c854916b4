package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// assessPair is a town and one of its villages over HTTP, with helpers
// that replicate between them as the sync would.
type assessPair struct {
	town, village *uitest.Server
	up, down      func()
}

func mustAssessPair(t *testing.T) *assessPair {
	t.Helper()
	ctx := context.Background()
	p := &assessPair{
		town:    uitest.MustStart(t, uitest.Options{Role: appliance.NodeTown, Code: "410184104000", Name: "龙湖镇"}),
		village: uitest.MustStart(t, uitest.Options{}),
	}
	v := p.village.Config.Node.Code
	if err := p.town.Store.Enrol(ctx, "u-admin", appliance.Enrolment{Key: p.village.Store.Feed().String(), Code: v, Name: "杏花村", Role: appliance.NodeVillage}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []appliance.StaffMember{
		{ID: v + "-s01", Name: "张伟", Phone: "13800000001", Duty: appliance.DutyGridLeader, Grid: v + "-01", UserID: "u-gridleader"},
		{ID: v + "-s02", Name: "李娜", Phone: "13800000002", Duty: appliance.DutyGridLeader, Grid: v + "-02"},
	} {
		if err := p.village.Store.SetStaff(ctx, "u-admin", m); err != nil {
			t.Fatal(err)
		}
	}
	p.up = func() {
		t.Helper()
		es, err := p.village.Store.Entries(p.village.Store.Feed(), 1, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.town.Store.Ingest(es); err != nil {
			t.Fatal(err)
		}
	}
	p.down = func() {
		t.Helper()
		if _, err := p.town.Store.CopyDown(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		d, err := p.town.Store.DownFeed(v)
		if err != nil {
			t.Fatal(err)
		}
		es, err := p.town.Store.Entries(d, 1, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.village.Store.Ingest(es); err != nil {
			t.Fatal(err)
		}
	}
	p.up()
	return p
}

func scoreOf(ans map[string]any, subject, id string) (total float64, ok bool) {
	list, _ := ans["scores"].([]any)
	for _, x := range list {
		m := x.(map[string]any)
		if m["subject"] == subject && m["id"] == id {
			return m["total_x10"].(float64), true
		}
	}
	return 0, false
}

// The inspection group's flow over the API (rules from today, findings,
// one objection, the decision), the same scores at village and town, who
// sees whose score, and the public board without a person on it.
func TestAssessHTTP(t *testing.T) {
	p := mustAssessPair(t)
	v := p.village.Config.Node.Code
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(loc)
	today := now.Format(time.DateOnly)
	last, _ := appliance.PeriodOf(appliance.PeriodWeek, now.AddDate(0, 0, -7).Format(time.DateOnly))
	inWeek := last.Days()[2]

	ot, ov := loadOpenAPI(t, p.town.URL), loadOpenAPI(t, p.village.URL)
	insp := token(t, p.town, "u-inspector")
	townOp := token(t, p.town, "u-townoperator")
	lead := token(t, p.village, "u-villagelead")
	leader := token(t, p.village, "u-gridleader")

	// Rules: never from a past day; from today the group finding costs 4.
	tbl := appliance.DefaultRuleTable("")
	tbl.From = now.AddDate(0, 0, -1).Format(time.DateOnly)
	if code, ans := ot.do(p.town.URL, "POST", "/api/v1/assess/rules", insp, tbl); code != 400 || !strings.Contains(mustJSON(ans), `"field":"from"`) {
		t.Fatalf("rules from yesterday: %d %v", code, ans)
	}
	tbl.From = today
	tbl.Rule("g-f-false").Points = -4
	if code, ans := ot.do(p.town.URL, "POST", "/api/v1/assess/rules", townOp, tbl); code != 403 {
		t.Fatalf("rules by the town operator: %d %v", code, ans)
	}
	if code, ans := ot.do(p.town.URL, "POST", "/api/v1/assess/rules", insp, tbl); code != 201 || ans["version"] != 1.0 || ans["town"] != "410184104000" {
		t.Fatalf("rules: %d %v", code, ans)
	}
	// Findings of last week: group 1 (rules then: −3), and 李娜 (−5).
	code, f1 := ot.do(p.town.URL, "POST", "/api/v1/assess/findings", insp, map[string]any{"village": v, "way": "random", "date": inWeek,
		"subject": "group", "subject_id": v + "-01", "rule": "g-f-false", "units": 1, "text": "走访记录与实际不符", "inspector": "赵督查"})
	if code != 201 {
		t.Fatalf("finding: %d %v", code, f1)
	}
	code, f2 := ot.do(p.town.URL, "POST", "/api/v1/assess/findings", insp, map[string]any{"village": v, "way": "unannounced", "date": inWeek,
		"subject": "person", "subject_id": v + "-s02", "rule": "p-f-absent", "text": "暗访时不在岗", "inspector": "赵督查"})
	if code != 201 {
		t.Fatalf("finding on a person: %d %v", code, f2)
	}
	if code, ans := ot.do(p.town.URL, "POST", "/api/v1/assess/findings", insp, map[string]any{"village": v, "way": "random", "date": inWeek,
		"subject": "group", "subject_id": v + "-01", "rule": "v-f-absent", "text": "x", "inspector": "赵督查"}); code != 400 || !strings.Contains(mustJSON(ans), `"field":"rule"`) {
		t.Fatalf("finding under a rule for villages on a group: %d %v", code, ans)
	}
	// A random draw over HTTP: its seed given, redone by anyone.
	if code, ans := ot.do(p.town.URL, "POST", "/api/v1/assess/inspections", insp, map[string]any{"way": "random", "date": today, "subject": "group", "topic": "走访记录", "n": 2, "seed": "000000000000002a",
		"grids": []string{v + "-01", v + "-02", v + "-03"}}); code != 201 || mustJSON(ans["grids"]) != mustJSON(appliance.DrawInspection([]string{v + "-01", v + "-02", v + "-03"}, 2, 42)) {
		t.Fatalf("random inspection: %d %v", code, ans)
	}
	if code, ans := ot.do(p.town.URL, "GET", "/api/v1/assess/inspections", insp, nil); code != 200 || !strings.Contains(mustJSON(ans), `"seed":"000000000000002a"`) {
		t.Fatalf("inspections: %d %v", code, ans)
	}
	p.down()

	// The village objects once; the town decides.
	id := "410184104000." + f1["id"].(string)
	if code, ans := ov.do(p.village.URL, "POST", "/api/v1/assess/findings/"+id+"/objection", lead, map[string]any{"text": "当天走访记录有照片为证", "by": "村支书"}); code != 201 {
		t.Fatalf("objection: %d %v", code, ans)
	}
	if code, ans := ov.do(p.village.URL, "POST", "/api/v1/assess/findings/"+id+"/objection", lead, map[string]any{"text": "再提一次", "by": "村支书"}); code != 409 {
		t.Fatalf("second objection: %d %v", code, ans)
	}
	p.up()
	if code, ans := ot.do(p.town.URL, "POST", "/api/v1/assess/findings/"+id+"/decision", insp, map[string]any{"decision": "rejected", "text": "照片日期与记录不符，维持"}); code != 200 || ans["decision"] != "rejected" {
		t.Fatalf("decision: %d %v", code, ans)
	}
	p.down()
	// The lead sees the other finding on the page and objects there.
	lc := p.village.Client(t)
	lc.Login("villagelead")
	if code, body := lc.Get("/staff/assess"); code != 200 || !strings.Contains(body, "暗访时不在岗") || !strings.Contains(body, "提交异议") || !strings.Contains(body, "照片日期与记录不符") {
		t.Fatalf("lead's page: %d %s", code, uitest.Text(body))
	}
	if code, _, body := lc.Post("/staff/assess/objection", url.Values{"finding": {"410184104000/" + f2["id"].(string)}, "text": {""}, "by": {"村支书"}}); code != 400 || !strings.Contains(body, "请填写异议理由") {
		t.Fatalf("objection without a reason: %d %s", code, uitest.Text(body))
	}
	if code, loc, _ := lc.Post("/staff/assess/objection", url.Values{"finding": {"410184104000/" + f2["id"].(string)}, "text": {"当天在镇里开会"}, "by": {"村支书"}}); code != 303 || loc != "/staff/assess#findings" {
		t.Fatalf("objection on the page: %d %s", code, loc)
	}
	if _, body := lc.Get("/staff/assess"); strings.Count(body, "提交异议") != 0 || !strings.Contains(body, "异议待乡镇处理") {
		t.Fatalf("after objecting: %s", uitest.Text(body))
	}
	if code, ans := ov.do(p.village.URL, "GET", "/api/v1/assess/findings", lead, nil); code != 200 || !strings.Contains(mustJSON(ans), "照片日期与记录不符") || !strings.Contains(mustJSON(ans), "当天走访记录有照片为证") {
		t.Fatalf("village's findings: %d %v", code, ans)
	}
	if code, ans := ov.do(p.village.URL, "GET", "/api/v1/assess/rules", lead, nil); code != 200 || ans["in_force"].(map[string]any)["version"] != 1.0 {
		t.Fatalf("village's rules: %d %v", code, ans)
	}

	// Two-way: the village rates the department that handled its case.
	vb, tb := newBrowser(t, p.village.URL), newBrowser(t, p.town.URL)
	var rc struct{ Code string }
	if code := vb.api("POST", "/api/v1/cases", lead, map[string]any{"category": "public_affairs", "description": "村口桥面塌陷", "source": "walk_in"}, &rc); code != 201 {
		t.Fatalf("case: %d", code)
	}
	if code := vb.api("POST", "/api/v1/cases/"+rc.Code+"/escalate", lead, map[string]any{"text": "需镇交通所维修"}, nil); code != 200 {
		t.Fatalf("escalate: %d", code)
	}
	p.up()
	if code := tb.api("POST", "/api/v1/cases/"+rc.Code+"/dispatch", townOp, map[string]any{"departments": []string{"交通运输所"}, "text": "三天内修复"}, nil); code != 200 {
		t.Fatalf("dispatch: %d", code)
	}
	rating := map[string]any{"case": rc.Code, "department": "交通运输所", "timeliness": "satisfied", "result": "unsatisfied", "text": "修得不牢", "by": "村支书"}
	p.down()
	if code, ans := ov.do(p.village.URL, "POST", "/api/v1/assess/department-ratings", lead, rating); code != 400 || !strings.Contains(mustJSON(ans), `"field":"case"`) {
		t.Fatalf("rating before the town resolved it: %d %v", code, ans)
	}
	if code := tb.api("POST", "/api/v1/cases/"+rc.Code+"/resolve", townOp, map[string]any{"text": "桥面已修复"}, nil); code != 200 {
		t.Fatalf("resolve: %d", code)
	}
	p.down()
	if code, ans := ov.do(p.village.URL, "POST", "/api/v1/assess/department-ratings", lead, rating); code != 201 || ans["village"] != v {
		t.Fatalf("rating: %d %v", code, ans)
	}
	p.up()
	this, _ := appliance.PeriodOf(appliance.PeriodWeek, today)
	for _, n := range []struct {
		srv *uitest.Server
		o   *openAPI
		tok string
	}{{p.village, ov, lead}, {p.town, ot, insp}} {
		_, ans := n.o.do(n.srv.URL, "GET", "/api/v1/assess/scores?period="+this.ID, n.tok, nil)
		// +1 resolved within its deadline, +0.5 timely, −1 result.
		if got, ok := scoreOf(ans, "department", "交通运输所"); !ok || got != 1005 {
			t.Errorf("department at %s: %v %v", n.srv.Config.Node.Name, got, ok)
		}
	}

	// A seconded cadre's appraisal, its facts worked out by the node.
	if err := p.village.Store.SetTeam(context.Background(), "u-villagelead", appliance.WorkTeam{Village: v, Members: []appliance.TeamMember{{ID: "p1", Name: "王建军", Unit: "龙湖镇农业服务中心", Days: 4}}}); err != nil {
		t.Fatal(err)
	}
	if code, ans := ov.do(p.village.URL, "POST", "/api/v1/assess/appraisals", lead, map[string]any{"village": v, "year": now.Year(), "member": "p1", "grade": "称职", "text": "工作认真。", "signer": "村党支部书记",
		"facts": map[string]any{"days_in": 365}}); code != 201 || ans["facts"].(map[string]any)["days_in"] != 0.0 || ans["facts"].(map[string]any)["days_required"] != 48.0 {
		t.Fatalf("appraisal: %d %v", code, ans)
	}

	// Same scores at the village and the town.
	_, atV := ov.do(p.village.URL, "GET", "/api/v1/assess/scores?period="+last.ID, lead, nil)
	_, atT := ot.do(p.town.URL, "GET", "/api/v1/assess/scores?period="+last.ID, insp, nil)
	for _, k := range [][2]string{{"group", v + "-01"}, {"group", v + "-02"}, {"person", v + "-s02"}, {"village", v}} {
		a, okA := scoreOf(atV, k[0], k[1])
		b, okB := scoreOf(atT, k[0], k[1])
		if !okA || !okB || a != b {
			t.Errorf("%v: village %v (%v), town %v (%v)", k, a, okA, b, okB)
		}
	}
	for k, want := range map[[2]string]float64{{"group", v + "-01"}: 970, {"group", v + "-02"}: 1000, {"person", v + "-s02"}: 950, {"village", v}: 1000} {
		if got, _ := scoreOf(atV, k[0], k[1]); got != want {
			t.Errorf("%v = %v, want %v", k, got, want)
		}
	}
	// A grid leader sees the grids and their own score only.
	_, mine := ov.do(p.village.URL, "GET", "/api/v1/assess/scores?period="+last.ID, leader, nil)
	if _, ok := scoreOf(mine, "person", v+"-s02"); ok {
		t.Error("a grid leader sees another person's score")
	}
	if _, ok := scoreOf(mine, "person", v+"-s01"); !ok {
		t.Error("a grid leader does not see their own score")
	}
	gl := p.village.Client(t)
	gl.Login("gridleader")
	if code, body := gl.Get("/staff/assess?period=" + last.ID); code != 200 || !strings.Contains(uitest.Text(body), "我的积分： 100 分") || strings.Contains(body, "李娜") {
		t.Fatalf("grid leader's page: %d %s", code, uitest.Text(body))
	}
	if code, _ := gl.Get("/staff/assess/score?subject=person&id=" + v + "-s02&period=" + last.ID); code != 403 {
		t.Fatalf("grid leader opens another's breakdown: %d", code)
	}
	if code, body := gl.Get("/staff/assess/score?subject=group&id=" + v + "-01&period=" + last.ID); code != 200 || !strings.Contains(uitest.Text(body), "督查 "+f1["id"].(string)) {
		t.Fatalf("group breakdown: %d %s", code, uitest.Text(body))
	}

	// The public board: grids only; a week not over is not shown.
	anon := p.village.Client(t)
	code, body := anon.Get("/board")
	if code != 200 || !strings.Contains(uitest.Text(body), "1 第二村民组 100") || !strings.Contains(uitest.Text(body), "第一村民组 97") {
		t.Fatalf("board: %d %s", code, uitest.Text(body))
	}
	for _, never := range []string{"李娜", "张伟", "赵督查", "走访记录与实际不符"} {
		if strings.Contains(body, never) {
			t.Errorf("the public board shows %q", never)
		}
	}
	if code, _ := anon.Get("/board?period=" + this.ID); code != http.StatusBadRequest {
		t.Errorf("board of this week (not over): %d", code)
	}
	if code, body := p.town.Client(t).Get("/board"); code != 200 || !strings.Contains(uitest.Text(body), "杏花村 100") {
		t.Fatalf("town's board: %d %s", code, uitest.Text(body))
	}

	// As a villager finds it on the kiosk's screen: from the notices.
	ctx := kioskTab(t, uitest.Portrait, false)
	do(t, ctx, chromedp.Navigate(p.village.URL+"/notices"), chromedp.WaitReady(chromedp.CSS("a[href='/board']")))
	do(t, ctx, chromedp.Click("a[href='/board']"), chromedp.WaitReady(chromedp.CSS("table.board")))
	text := pageText(t, ctx)
	if !strings.Contains(text, "第一村民组 97 +0 -3") || !strings.Contains(text, "请到村值班室提出") {
		t.Errorf("board in Chromium: %s", text)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelectorAll("table.board tbody tr").length`))
	if err != nil || rows != 3 {
		t.Errorf("board rows in Chromium: %v %v", rows, err)
	}
}
