package ui_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"gridbox/ui/internal/uitest"
)

// text reads the text of the first element matching a CSS selector.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// do runs browser steps and fails the test on the first error.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// A villager reports a problem at the kiosk, gets the receipt, and looks
// the case up by its code and PIN; then the kiosk's scanner reads the
// receipt's QR code (decoded from the screenshot with zbarimg).
func TestCaseKioskBrowser(t *testing.T) {
	zbarimg := uitest.RequireTool(t, "zbarimg")
	srv := mustCaseServer(t)
	ctx := uitest.Browser(t)
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/?kiosk=1"),
		chromedp.Click(chromedp.CSS(`a[href="/report"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/report/public_affairs"]`)),
	)
	uitest.Screenshot(t, ctx, "cases-1-categories")
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`a[href="/report/public_affairs"]`)),
		chromedp.Click(chromedp.CSS(`a.choice[href*="group=410184104201-02"]`)),
		chromedp.Click(chromedp.CSS(`main > ul.ways a.way-type`)),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name="description"]`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="description"]`), "村东头路灯坏了一个星期，晚上走路看不见"),
	)
	uitest.Screenshot(t, ctx, "cases-2-form")
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#receipt-code`)),
	)
	code, pin := text(t, ctx, "#receipt-code"), text(t, ctx, "#receipt-pin")
	receipt := uitest.Screenshot(t, ctx, "cases-3-receipt")
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/track"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="code"]`)),
		// Copied as a villager might: lower case, a space for the dash (the
		// fields take the keypads' input, so the value is set directly).
		chromedp.SetValue(chromedp.CSS(`input[name="code"]`), strings.ToLower(strings.ReplaceAll(code, "-", " "))),
		chromedp.SetValue(chromedp.CSS(`input[name="pin"]`), pin),
		chromedp.Click(chromedp.CSS(`form[action="/track"] button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#track-status`)),
	)
	status, progress := text(t, ctx, "#track-status"), text(t, ctx, "main")
	uitest.Screenshot(t, ctx, "cases-4-progress")
	if len(code) != 9 || len(pin) != 4 {
		t.Fatalf("receipt code %q PIN %q", code, pin)
	}
	if status != "待受理" || !strings.Contains(progress, code) || !strings.Contains(progress, "公共事务") {
		t.Fatalf("progress: status %q\n%s", status, progress)
	}
	if strings.Contains(progress, "路灯") {
		t.Fatal("the public progress page shows the description")
	}
	out, err := exec.Command(zbarimg, "-q", "--raw", receipt).Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	do(t, ctx,
		chromedp.Navigate(srv.URL+"/?kiosk=1"),
		chromedp.SendKeys(chromedp.CSS(`#scan`), strings.TrimSpace(string(out))+"\n"),
		chromedp.WaitVisible(chromedp.CSS(`#track-code`)),
	)
	if scanned := text(t, ctx, "#track-code"); scanned != code {
		t.Fatalf("scanned %q, want %q", scanned, code)
	}
}
