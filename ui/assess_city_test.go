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

// The city's quarterly and yearly ranking: a town's report over its
// upward feed, the same figure the town computes, on the city's 考核积分
// page (in Chromium too) and its API; a week is refused with the field.
func TestCityRankingHTTP(t *testing.T) {
	p := mustAssessPair(t)
	city := uitest.MustStart(t, uitest.Options{Role: appliance.NodeCity, Code: "410100000000", Name: "郑州市"})
	ctx := context.Background()
	now := time.Now().In(p.town.Config.Location())
	if wrote, err := p.town.Store.SendScoresUp(ctx, now); err != nil || !wrote {
		t.Fatalf("send up: %v %v", wrote, err)
	}
	up, err := p.town.Store.UpFeed()
	if err != nil {
		t.Fatal(err)
	}
	es, err := p.town.Store.Entries(up, 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := city.Store.Ingest(es); err != nil {
		t.Fatal(err)
	}
	q, _ := appliance.PeriodOf(appliance.PeriodQuarter, now.Format(time.DateOnly))
	scores, err := p.town.Store.Scores(p.town.Config.Node.Code, q, now.Format(time.DateOnly))
	if err != nil {
		t.Fatal(err)
	}
	var total string
	for _, s := range scores {
		if s.Subject == appliance.SubjectVillage {
			total = s.TotalText()
		}
	}
	if total == "" {
		t.Fatal("no village score at the town")
	}
	co := city.Client(t)
	co.Login("cityoperator")
	code, body := co.Get("/staff/assess")
	if text := uitest.Text(body); code != 200 || !strings.Contains(text, "1 龙湖镇 "+total+" 1") || !strings.Contains(text, "1 杏花村 龙湖镇 "+total) || !strings.Contains(text, q.Label()) {
		t.Fatalf("the city's page: %d %s", code, text)
	}
	o := loadOpenAPI(t, city.URL)
	tok := token(t, city, "u-cityoperator")
	if code, ans := o.do(city.URL, "GET", "/api/v1/assess/towns?period="+q.ID[:4], tok, nil); code != 200 || !strings.Contains(mustJSON(ans), `"name":"龙湖镇"`) {
		t.Fatalf("the year's ranking: %d %v", code, ans)
	}
	if code, ans := o.do(city.URL, "GET", "/api/v1/assess/towns?period=2026-W46", tok, nil); code != 400 || !strings.Contains(mustJSON(ans), `"field":"period"`) {
		t.Fatalf("a week at the city: %d %v", code, ans)
	}
	if code, body := co.Get("/staff/assess?period=2026-W46"); code != 400 || !strings.Contains(body, "市里按季度和年度排名") {
		t.Fatalf("a week on the city's page: %d %s", code, uitest.Text(body))
	}

	bctx := uitest.Browser(t)
	do(t, bctx, chromedp.EmulateViewport(390, 844))
	browserLogin(t, bctx, city.URL, "cityoperator")
	do(t, bctx, chromedp.Navigate(city.URL+"/staff/assess"), chromedp.WaitVisible(chromedp.CSS(`#towns table`)))
	if got := text(t, bctx, "#towns tbody"); !strings.Contains(got, "龙湖镇") || !strings.Contains(got, total) {
		t.Fatalf("the ranking in Chromium: %s", got)
	}
}
