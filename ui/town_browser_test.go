package ui_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"gridbox/appliance/bolt"
	"gridbox/appliance/demo"
	"gridbox/ui/internal/uitest"
)

// The town operator, in a browser on the demo town that holds a demo
// village: the case list names the village, a case waiting at the town is
// dispatched from its page; once the town's downward feed reaches the
// village, the villager's receipt shows the dispatch on the village kiosk.
func TestTownOperatorBrowser(t *testing.T) {
	ctx := uitest.Browser(t)
	bg := context.Background()
	root := t.TempDir()
	townDir, villageDir := filepath.Join(root, "town"), filepath.Join(root, "village")
	if _, _, err := demo.GenerateTown(bg, townDir, demo.Options{}); err != nil {
		t.Fatal(err)
	}
	v, _, err := demo.Generate(bg, villageDir, demo.Options{TownDir: townDir})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Waiting) == 0 {
		t.Fatal("no case waits at the town")
	}
	waiting := v.Waiting[0]
	ts, tcfg, err := bolt.OpenDataDir(townDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ts.Close() })
	vs, vcfg, err := bolt.OpenDataDir(villageDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { vs.Close() })
	townURL, _ := serve(t, tcfg, ts)
	villageURL, _ := serve(t, vcfg, vs)

	do(t, ctx,
		chromedp.Navigate(townURL+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "town"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), demo.Password),
		chromedp.Click(chromedp.CSS(`form[action="/login"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`ul.counters`)),
		chromedp.Navigate(townURL+"/staff/cases?level=town&status=pending"),
		chromedp.WaitVisible(chromedp.CSS(`table.cases`)),
	)
	list := text(t, ctx, "table.cases")
	uitest.Screenshot(t, ctx, "town-1-waiting")
	if !strings.Contains(list, waiting.Code) || !strings.Contains(list, "杏花村") {
		t.Fatalf("the town's list lacks the waiting case %s or its village:\n%s", waiting.Code, list)
	}
	do(t, ctx,
		chromedp.Navigate(townURL+"/staff/cases/"+waiting.Code),
		chromedp.WaitVisible(chromedp.CSS(`ol.timeline`)),
		chromedp.Click(chromedp.CSS(`details:has(form[action$="/dispatch"]) > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/dispatch"] input[name="more_departments"]`)),
		chromedp.SendKeys(chromedp.CSS(`form[action$="/dispatch"] input[name="more_departments"]`), "镇自然资源所"),
		chromedp.SendKeys(chromedp.CSS(`form[action$="/dispatch"] textarea[name="text"]`), "请三日内到现场核查"),
		// The page after the post: its timeline names the department.
		clickTo(`form[action$="/dispatch"] button[type="submit"]`, `ol.timeline`),
		chromedp.WaitVisible(chromedp.Search(`//ol[contains(@class,"timeline")]//li[contains(.,"镇自然资源所")]`)),
	)
	detail := text(t, ctx, "main")
	uitest.Screenshot(t, ctx, "town-2-dispatched")
	if !strings.Contains(detail, "镇自然资源所") {
		t.Fatalf("the dispatch is not on the case page:\n%s", detail)
	}

	// Replication carries the town's downward feed for the village.
	down, err := ts.DownFeed(vcfg.Node.Code)
	if err != nil {
		t.Fatal(err)
	}
	es, err := ts.Entries(down, 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vs.IngestBatch(es); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate(villageURL+"/scan?token="+waiting.Token), chromedp.WaitVisible(chromedp.CSS(`main`)))
	progress := text(t, ctx, "main")
	uitest.Screenshot(t, ctx, "town-3-village-kiosk")
	if !strings.Contains(progress, "已交办部门") || !strings.Contains(progress, "交办镇自然资源所") {
		t.Fatalf("the village kiosk does not show the town's dispatch:\n%s", progress)
	}
}
