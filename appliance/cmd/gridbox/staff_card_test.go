package main_test

import (
	"context"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// kioskBrowser starts headless Chromium as the box's own screen would run
// it (from 127.0.0.1, a kiosk address); fails under CI=true when missing.
func kioskBrowser(t *testing.T) context.Context {
	t.Helper()
	path := ""
	for _, p := range []string{"/usr/lib/chromium/chromium", "chromium", "chromium-browser"} {
		if lp, err := exec.LookPath(p); err == nil {
			path = lp
			break
		}
	}
	if path == "" {
		requireTool(t, "chromium")
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-dev-shm-usage", true), chromedp.NoFirstRun, chromedp.UserDataDir(t.TempDir()))
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}

var staffCardRowRE = regexp.MustCompile(`<td>([^<]+)</td><td>[^<]*</td>\s*<td>未发证</td>\s*<td><form method="post" action="/staff/users/cards/([^"]+)"`)

// A staff card from issue to scan: the village lead issues a card on 账号管理
// and prints it; the card's QR code (read back with zbarimg) is scanned
// into the kiosk screen's home scan field as a keyboard-wedge scanner types
// it, one tap signs the holder in to today's duty, and the duty log shows
// it; the 离岗 screen takes the next scan. A reissued card makes the old one
// void, a stopped card is refused, each with a Chinese message, and
// neither writes a line.
func TestStaffCardSignInAtKiosk(t *testing.T) {
	for _, tool := range []string{"pdftotext", "pdftoppm", "zbarimg"} {
		requireTool(t, tool)
	}
	data := t.TempDir() + "/demo"
	if out, code := gridbox(t, "demo", "--data", data); code != 0 {
		t.Fatal(out)
	}
	n := startNode(t, data, freePort(t))
	lead := login(t, n.url, "lead", "demo1234")
	_, users := lead.get("/staff/users")
	row := staffCardRowRE.FindStringSubmatch(users)
	if row == nil {
		t.Fatalf("no staff member without a card on 账号管理:\n%.3000s", users)
	}
	name, staff := row[1], row[2]
	issue := func(action string) {
		t.Helper()
		if resp := lead.post("/staff/users/cards/"+staff, url.Values{"action": {action}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s card: %d", action, resp.StatusCode)
		}
	}
	card := func(label string) (text, token string) {
		t.Helper()
		resp, pdf := lead.get("/staff/print/pdf?kind=staff_card&staff=" + url.QueryEscape(staff))
		if resp.StatusCode != 200 || !strings.HasPrefix(pdf, "%PDF-") {
			t.Fatalf("card PDF: %d %.300s", resp.StatusCode, pdf)
		}
		text, file := pdfText(t, label, pdf)
		codes := pdfQR(t, file)
		if len(codes) != 1 {
			t.Fatalf("card QR codes: %v", codes)
		}
		return text, codes[0]
	}
	if resp, body := lead.get("/staff/print/pdf?kind=staff_card&staff=" + url.QueryEscape(staff)); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "还没有在用的工作证") {
		t.Errorf("a card before it is issued: %d %.300s", resp.StatusCode, body)
	}
	issue("issue")
	text, token := card("staff-card")
	for _, w := range []string{name, "工作证", "杏花村", "扫码签到"} {
		if !strings.Contains(text, w) {
			t.Errorf("the card lacks %q:\n%s", w, text)
		}
	}
	if strings.Contains(token, "demo1234") || strings.Contains(token, "/") {
		t.Errorf("the card's code %q is not a bare token", token)
	}

	ctx := kioskBrowser(t)
	scan := func(path, code, answer string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(n.url+path), chromedp.WaitVisible(chromedp.CSS(`#scan`)),
			chromedp.SendKeys(chromedp.CSS(`#scan`), code+"\n"), chromedp.WaitVisible(chromedp.CSS(answer))); err != nil {
			t.Fatalf("scan at %s, waiting for %s: %v", path, answer, err)
		}
		got, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// At the home screen: the card is known, one tap signs in.
	if got := scan("/", token, `button[type="submit"].big`); !strings.Contains(got, name) {
		t.Fatalf("after scanning the card at home: %s", got)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.Search(`//button[contains(., "值班到岗签到")]`)), chromedp.WaitVisible(chromedp.CSS(`#signin-done`))); err != nil {
		t.Fatal(err)
	}
	done, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#signin-done`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(done, name) || !strings.Contains(done, "到岗签到") {
		t.Errorf("sign-in answer: %q", done)
	}
	lines := func() (in, out int) {
		t.Helper()
		_, page := lead.get("/staff/duty/log")
		_, log, _ := strings.Cut(page, `id="log-lines"`)
		log, _, _ = strings.Cut(log, "</ul>")
		return strings.Count(log, `到岗签到</span><b>`+name+`</b> <span class="tag">终端扫码</span>`),
			strings.Count(log, `离岗签退</span><b>`+name+`</b> <span class="tag">终端扫码</span>`)
	}
	if in, _ := lines(); in != 1 {
		t.Errorf("the duty log shows %d sign-ins of %s at the kiosk, want 1", in, name)
	}
	// A second sign-in before signing out is refused; 离岗 takes the scan.
	if got := scan("/signin?for=duty_in", token, `#signin-error`); !strings.Contains(got, "已经签到") {
		t.Errorf("a second sign-in: %s", got)
	}
	if got := scan("/signin?for=duty_out", token, `#signin-done`); !strings.Contains(got, "离岗签退") {
		t.Errorf("sign-out: %s", got)
	}

	// 补办: the old card is void, the new one works; 停用: refused.
	issue("issue")
	_, newToken := card("staff-card-2")
	if newToken == token {
		t.Fatal("the reissued card has the old code")
	}
	if got := scan("/signin?for=duty_in", token, `#signin-error`); !strings.Contains(got, "已作废") {
		t.Errorf("the old card after 补办: %s", got)
	}
	if got := scan("/", token, `#signin-error`); !strings.Contains(got, "已作废") {
		t.Errorf("the old card at home after 补办: %s", got)
	}
	if got := scan("/signin?for=duty_in", newToken, `#signin-done`); !strings.Contains(got, "到岗签到") {
		t.Errorf("the new card: %s", got)
	}
	issue("revoke")
	if got := scan("/signin?for=duty_out", newToken, `#signin-error`); !strings.Contains(got, "停用") {
		t.Errorf("a stopped card: %s", got)
	}
	if in, out := lines(); in != 2 || out != 1 {
		t.Errorf("after the refused scans the log has %d sign-ins and %d sign-outs of %s, want 2 and 1", in, out, name)
	}
}
