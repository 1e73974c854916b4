package ui_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium returns the browser binary, or skips (fails on CI) without one.
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed")
	}
	t.Skip("chromium is not installed")
	return ""
}

// screenshotDir is where browser tests save what a person sees:
// $GRIDBOX_SCREENSHOTS when set, else a temporary folder.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("GRIDBOX_SCREENSHOTS"); d != "" {
		os.MkdirAll(d, 0o755)
		return d
	}
	return t.TempDir()
}

// A villager reports a problem at the kiosk, gets the receipt, and looks
// the case up by its code and PIN.
func TestCaseKioskBrowser(t *testing.T) {
	bin := chromium(t)
	srv := mustCaseServer(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true), chromedp.WindowSize(1280, 1000))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	dir := screenshotDir(t)
	shot := func(name string) chromedp.Action {
		var buf []byte
		return chromedp.Tasks{
			chromedp.FullScreenshot(&buf, 100),
			chromedp.ActionFunc(func(context.Context) error { return os.WriteFile(filepath.Join(dir, name), buf, 0o644) }),
		}
	}
	var code, pin, status, progress string
	err := chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/?kiosk=1"),
		chromedp.Click(`a[href="/report"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`a[href="/report/public_affairs"]`, chromedp.ByQuery),
		shot("cases-1-categories.png"),
		chromedp.Click(`a[href="/report/public_affairs"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`textarea[name="description"]`, chromedp.ByQuery),
		chromedp.SendKeys(`textarea[name="description"]`, "村东头路灯坏了一个星期，晚上走路看不见", chromedp.ByQuery),
		chromedp.SetValue(`select[name="group"]`, "410184104201-02", chromedp.ByQuery),
		shot("cases-2-form.png"),
		chromedp.Click(`button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#receipt-code`, chromedp.ByID),
		chromedp.Text(`#receipt-code`, &code, chromedp.ByID),
		chromedp.Text(`#receipt-pin`, &pin, chromedp.ByID),
		shot("cases-3-receipt.png"),
		chromedp.Navigate(srv.URL+"/track"),
		chromedp.WaitVisible(`input[name="code"]`, chromedp.ByQuery),
		chromedp.ActionFunc(func(ctx context.Context) error {
			// Typed as a villager might: lower case, a space for the dash.
			return chromedp.Run(ctx,
				chromedp.SendKeys(`input[name="code"]`, strings.ToLower(strings.ReplaceAll(code, "-", " ")), chromedp.ByQuery),
				chromedp.SendKeys(`input[name="pin"]`, pin, chromedp.ByQuery))
		}),
		chromedp.Click(`form[action="/track"] button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#track-status`, chromedp.ByID),
		chromedp.Text(`#track-status`, &status, chromedp.ByID),
		chromedp.Text(`main`, &progress, chromedp.ByQuery),
		shot("cases-4-progress.png"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(code) != 9 || len(pin) != 4 {
		t.Fatalf("receipt code %q PIN %q", code, pin)
	}
	if status != "待受理" || !strings.Contains(progress, code) || !strings.Contains(progress, "公共事务") {
		t.Fatalf("progress: status %q\n%s", status, progress)
	}
	if strings.Contains(progress, "路灯") {
		t.Fatal("the public progress page shows the description")
	}
	t.Logf("screenshots in %s", dir)
}
