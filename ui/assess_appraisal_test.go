package ui_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// A seconded cadre's appraisal on the page: the facts worked out by the
// node and a draft from them, refusals that name the field and save
// nothing, the signed text saved and shown, the town reading and signing
// it again; in Chromium on a phone the lead writes one from 考核积分.
func TestAppraisalPage(t *testing.T) {
	p := mustAssessPair(t)
	v := p.village.Config.Node.Code
	ctx := context.Background()
	now := time.Now().In(p.village.Config.Location())
	const year = 2025 // a year over, whenever the test runs
	if err := p.village.Store.SetTeam(ctx, "u-villagelead", appliance.WorkTeam{Village: v, Members: []appliance.TeamMember{
		{ID: "p1", Name: "王建军", Unit: "龙湖镇农业服务中心", Days: 4, StaffID: v + "-s01"},
		{ID: "p2", Name: "刘芳", Unit: "市自然资源局", Days: 6}}}); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"01-05", "01-06", "02-10"} {
		if err := p.village.Store.SignTeam(ctx, "u-villagelead", appliance.TeamSign{Village: v, Member: "p1", Date: fmt.Sprintf("%d-%s", year, d), At: "08:30"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := p.village.Store.AddJournal(ctx, "u-villagelead", appliance.Journal{Village: v, Member: "p1", Date: fmt.Sprintf("%d-01-06", year), Text: "走访了三组的五户困难户"}); err != nil {
		t.Fatal(err)
	}
	lc := p.village.Client(t)
	lc.Login("villagelead")
	code, body := lc.Get(fmt.Sprintf("/staff/assess/appraisals?year=%d", year))
	if text := uitest.Text(body); code != 200 || !strings.Contains(text, "王建军 （龙湖镇农业服务中心） 未出具") || !strings.Contains(text, "刘芳") {
		t.Fatalf("the page: %d %s", code, text)
	}
	code, body = lc.Get(fmt.Sprintf("/staff/assess/appraisals?year=%d&member=p1", year))
	text := uitest.Text(body)
	// His score: 100 (the built-in rules of 2025 had none on the days in
	// the village; TestAssessScenario counts them).
	draft := appliance.DraftAppraisal("王建军", year, appliance.AppraisalFacts{DaysIn: 3, DaysRequired: 48, Journals: 1, Score: "100"})
	if code != 200 || !strings.Contains(text, "驻村签到 3 天（应 48 天）") || !strings.Contains(text, "工作心得 1 篇") || !strings.Contains(text, "年度积分 100 分") ||
		!strings.Contains(text, "年度鉴定（草稿）") || !strings.Contains(body, ">"+draft+"</textarea>") {
		t.Fatalf("the draft: %d %s", code, text)
	}
	saved := func() (appliance.Appraisal, bool) {
		a, err := p.village.Store.Appraisal(v, year, "p1")
		return a, err == nil
	}
	good := func() url.Values {
		return url.Values{"year": {fmt.Sprint(year)}, "member": {"p1"}, "text": {draft + "\n工作扎实，群众认可。"}, "grade": {"称职"},
			"signer": {"村党支部书记 王立新"}, "date": {now.Format(time.DateOnly)}}
	}
	with := func(k, val string) url.Values { return withValue(good(), k, val) }
	for _, bad := range []struct {
		form       url.Values
		says, mark string
	}{
		{with("grade", ""), "请选择鉴定等次", `person invalid"><legend>鉴定等次`},
		{with("grade", "良好"), "请选择鉴定等次", `person invalid"><legend>鉴定等次`},
		{with("signer", " "), "请填写签署人", `placeholder="如：村党支部书记 王立新" required aria-invalid="true"`},
		{with("text", ""), "请填写鉴定意见", `aria-invalid="true">`},
		{with("date", now.AddDate(0, 0, 1).Format(time.DateOnly)), "签署日期不能晚于今天", `name="date"`},
		{with("date", "明天"), "日期格式", `name="date"`},
		{with("member", "p9"), "工作队里没有这名队员", ""},
		{with("year", "去年"), "年度错误", ""},
	} {
		code, _, body := lc.Post("/staff/assess/appraisals", bad.form)
		if code != 400 || !strings.Contains(body, bad.says) || !strings.Contains(body, bad.mark) {
			t.Errorf("appraisal %v: %d %s", bad.form, code, uitest.Text(body))
		}
		if bad.form.Get("member") == "p1" && bad.form.Get("text") != "" && !strings.Contains(body, "工作扎实，群众认可。") {
			t.Errorf("appraisal %v: what was typed is lost", bad.form)
		}
	}
	if _, ok := saved(); ok {
		t.Fatal("a refused appraisal was saved")
	}
	code, loc, _ := lc.Post("/staff/assess/appraisals", good())
	if code != 303 || loc != fmt.Sprintf("/staff/assess/appraisals?village=%s&year=%d&member=p1&saved=1#form", v, year) {
		t.Fatalf("appraisal: %d %s", code, loc)
	}
	a, ok := saved()
	if !ok || a.Grade != "称职" || a.Writer != v || a.Facts.DaysIn != 3 || !strings.HasSuffix(a.Text, "群众认可。") {
		t.Fatalf("saved: %v %+v", ok, a)
	}
	_, body = lc.Get(loc)
	if text := uitest.Text(body); !strings.Contains(text, "已出具 称职，村党支部书记 王立新签署") || strings.Contains(text, "年度鉴定（草稿）") || !strings.Contains(body, "工作扎实，群众认可。</textarea>") {
		t.Fatalf("after saving: %s", text)
	}

	// The town reads it and signs it again (the last version stands).
	p.up()
	tc := p.town.Client(t)
	tc.Login("townoperator")
	if code, body := tc.Get(fmt.Sprintf("/staff/assess/appraisals?year=%d", year)); code != 200 || !strings.Contains(body, `<option value="`+v+`" selected>杏花村`) || !strings.Contains(uitest.Text(body), "已出具 称职") {
		t.Fatalf("the town's page: %d %s", code, uitest.Text(body))
	}
	f := with("grade", "优秀")
	f.Set("village", v)
	f.Set("signer", "龙湖镇党委书记 陈明")
	if code, _, body := tc.Post("/staff/assess/appraisals", f); code != 303 {
		t.Fatalf("the town signs: %d %s", code, uitest.Text(body))
	}
	if a, err := p.town.Store.Appraisal(v, year, "p1"); err != nil || a.Writer != p.town.Config.Node.Code || a.Grade != "优秀" {
		t.Fatalf("the town's appraisal: %v %+v", err, a)
	}

	// In Chromium on a phone: from 考核积分, 刘芳's appraisal.
	bctx := uitest.Browser(t)
	do(t, bctx, chromedp.EmulateViewport(390, 844))
	browserLogin(t, bctx, p.village.URL, "villagelead")
	do(t, bctx,
		chromedp.Navigate(p.village.URL+"/staff/assess"),
		clickTo(`a[href="/staff/assess/appraisals"]`, `#members`),
		clickTo(`#members a[href$="member=p2#form"]`, `#appraisal-form`),
		chromedp.Click(chromedp.CSS(`#appraisal-form input[name="grade"][value="基本称职"]`)),
		chromedp.SendKeys(chromedp.CSS(`#appraisal-form input[name="signer"]`), "村委会主任 李强"),
		clickTo(`#appraisal-form button[type="submit"]`, `#appraisal-form`),
	)
	if got := pageText(t, bctx); !strings.Contains(got, "已出具基本称职，村委会主任 李强签署") {
		t.Fatalf("after signing in Chromium: %s", got)
	}
}
