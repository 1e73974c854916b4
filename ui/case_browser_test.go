package ui_test

import (
	"context"
	"os"
	"os/exec"
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

// newChrome starts headless Chromium with the flags of FINDINGS.md.
func newChrome(t *testing.T, bin string, timeout time.Duration) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true), chromedp.WindowSize(1280, 1000))
	actx, cancel1 := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel2 := chromedp.NewContext(actx)
	ctx, cancel3 := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() { cancel3(); cancel2(); cancel1() })
	return ctx
}

// screenshot returns an action saving a full-page PNG into dir.
func screenshot(dir string) func(name string) chromedp.Action {
	return func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var buf []byte
			if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name), buf, 0o644)
		})
	}
}

// A villager reports a problem at the kiosk, gets the receipt, and looks
// the case up by its code and PIN.
func TestCaseKioskBrowser(t *testing.T) {
	bin := chromium(t)
	srv := mustCaseServer(t)
	ctx := newChrome(t, bin, 60*time.Second)
	dir := screenshotDir(t)
	shot := screenshot(dir)
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
	// Scan the receipt's QR code as the kiosk's scanner would (decoded from
	// the screenshot by zbarimg, when installed) and look the case up.
	if _, err := exec.LookPath("zbarimg"); err != nil {
		t.Logf("screenshots in %s (zbarimg missing: QR not decoded)", dir)
		return
	}
	out, err := exec.Command("zbarimg", "-q", "--raw", filepath.Join(dir, "cases-3-receipt.png")).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	var scanned string
	err = chromedp.Run(ctx,
		chromedp.Navigate(srv.URL+"/?kiosk=1"),
		chromedp.SendKeys(`#scan`, strings.TrimSpace(string(out))+"\n", chromedp.ByID),
		chromedp.WaitVisible(`#track-code`, chromedp.ByID),
		chromedp.Text(`#track-code`, &scanned, chromedp.ByID),
	)
	if err != nil || scanned != code {
		t.Fatalf("scanned %q (%v), want %q", scanned, err, code)
	}
	t.Logf("screenshots in %s", dir)
}
