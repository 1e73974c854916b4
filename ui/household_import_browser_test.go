package ui_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"gridbox/ui/internal/uitest"
)

// TestBrowserImportLedger: the village clerk's own sheet (60 households,
// 180 people, merged 户号 cells, a title row, a 合计 row, a notes sheet)
// goes in from the page as a clerk would: choose the file, preview, read
// the totals and the rows that need work, confirm.
func TestBrowserImportLedger(t *testing.T) {
	ctx := uitest.Browser(t)
	s := uitest.MustStart(t, uitest.Options{})
	file, err := filepath.Abs("testdata/import/01_村民户籍台账.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), "villagelead"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), uitest.Password),
		// The login page has an h1 too: wait for the staff menu.
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("nav.staffnav")),
		chromedp.Navigate(s.URL+"/staff/households/import"),
		chromedp.WaitVisible(chromedp.CSS(`input[type="file"]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`input[type="file"]`), []string{file}),
		// The commit button follows the totals and the problems: they
		// are whole once it is there (a loaded machine streams the page
		// slowly).
		clickTo(`form[enctype] button[type="submit"]`, `button[value="commit"]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	totals, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#import-totals")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"将在档的户\t59", "将在档的人\t168", "未导入的行\t10", "2（1 户）"} {
		if !strings.Contains(totals, want) {
			t.Errorf("totals %q lack %q", totals, want)
		}
	}
	problems, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#import-problems")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"身份证号被存成了数字", "暂缓（待户主行修正）", "旧的15位身份证号", "应为 4101841", "健康状况“一般”"} {
		if !strings.Contains(problems, want) {
			t.Errorf("problems lack %q", want)
		}
	}
	uitest.Screenshot(t, ctx, "import-preview")
	err = chromedp.Do(ctx,
		clickTo(`button[value="commit"]`, `p.notice[role="status"]`),
	)
	if err != nil {
		t.Fatal(err)
	}
	done, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`p.notice[role="status"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(done, "共 59 户 168 人在档") {
		t.Fatalf("after commit: %q", done)
	}
	uitest.Screenshot(t, ctx, "import-done")
	if rows, _ := s.Store.ExportRows(""); len(rows) != 168 {
		t.Fatalf("archive holds %d people", len(rows))
	}
}
