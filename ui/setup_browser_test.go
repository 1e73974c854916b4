package ui_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/ui"
	"gridbox/ui/internal/uitest"
)

// startSetup serves the setup page of a new box whose node goes into dir;
// provisioning is bolt.InitDataDir, as gridbox init runs it.
func startSetup(t *testing.T, dir string, tune func(*appliance.Config)) (string, chan *ui.SetupResult) {
	t.Helper()
	cfg := appliance.DefaultConfig()
	if tune != nil {
		tune(&cfg)
	}
	provision := func(ctx context.Context, node appliance.Node, f ui.SetupForm) (ui.SetupResult, error) {
		res, err := bolt.InitDataDir(ctx, dir, node, bolt.InitOptions{AdminPassword: f.Password})
		if err != nil {
			return ui.SetupResult{}, err
		}
		return ui.SetupResult{Node: node, Key: res.Feed, AdminUsername: res.AdminUsername, TLSFingerprint: res.TLSFingerprint}, nil
	}
	ss, err := ui.NewSetupServer(cfg, provision, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *ui.SetupResult, 1)
	go func() {
		res, err := ss.Serve(ctx, ln)
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	t.Cleanup(cancel)
	return "http://" + ln.Addr().String(), done
}

// A new box without a settings file: the installer sets it up on the
// box's screen (mistakes first: a wrong division code, a weak password),
// then gets the enrolment card whose QR code is the node key, and starts
// the node; the admin account has the password chosen there.
func TestSetupPageBrowser(t *testing.T) {
	zbarimg := uitest.RequireTool(t, "zbarimg")
	dir := filepath.Join(t.TempDir(), "node")
	base, done := startSetup(t, dir, nil)
	ctx := uitest.Browser(t)
	fill := func(code, password string) {
		t.Helper()
		do(t, ctx,
			chromedp.WaitVisible(chromedp.CSS(`input[name="code"]`)),
			chromedp.SetValue(chromedp.CSS(`input[name="code"]`), code),
			chromedp.SetValue(chromedp.CSS(`input[name="name"]`), "杏花村"),
			chromedp.SetValue(chromedp.CSS(`input[name="parent"]`), "town.example:7946"),
			chromedp.SetValue(chromedp.CSS(`input[name="password"]`), password),
			chromedp.SetValue(chromedp.CSS(`input[name="confirm"]`), password),
		)
	}
	do(t, ctx, chromedp.Navigate(base+"/"))
	fill("4101841042", "Xinghua-duty-2026")
	uitest.Screenshot(t, ctx, "setup-1-form")
	do(t, ctx, clickTo(`form[action="/setup"] button[type="submit"]`, `.error`))
	if msg := text(t, ctx, ".error"); !strings.Contains(msg, "行政区划代码") {
		t.Fatalf("a short division code: %q", msg)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a refused setup wrote the data folder: %v", err)
	}
	fill("410184104201", "12345678")
	// The refused page's .error is still there until the answer loads:
	// clickTo waits for the new page's error, not the old one.
	do(t, ctx, clickTo(`form[action="/setup"] button[type="submit"]`, `.error`))
	if msg := text(t, ctx, ".error"); !strings.Contains(msg, "管理员密码") {
		t.Fatalf("a weak password: %q", msg)
	}
	fill("410184104201", "Xinghua-duty-2026")
	do(t, ctx, clickTo(`form[action="/setup"] button[type="submit"]`, `#card-qr`))
	card := uitest.Screenshot(t, ctx, "setup-2-card")
	key := text(t, ctx, "#card-key")
	out, err := exec.Command(zbarimg, "-q", "--raw", card).Output()
	if err != nil {
		t.Fatalf("zbarimg on the enrolment card: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != key || len(key) != 64 {
		t.Fatalf("the card's QR code says %q, its key %q", got, key)
	}
	if visible, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.querySelector("[data-print]").hidden`)); err != nil || !visible {
		t.Errorf("the print button is not shown: %v", err)
	}
	do(t, ctx, clickTo(`form[action="/setup/done"] button[type="submit"]`, `h1`))
	var res *ui.SetupResult
	select {
	case res = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the setup server did not end after 开始使用")
	}
	if res == nil || res.Key.String() != key || res.Node.Parent != "town.example:7946" {
		t.Fatalf("setup result %+v", res)
	}
	s, cfg, err := bolt.OpenDataDir(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if cfg.Node.Code != "410184104201" || cfg.Node.Name != "杏花村" {
		t.Fatalf("node %+v", cfg.Node)
	}
	if ok, err := s.CheckPassword("u-admin", "Xinghua-duty-2026"); err != nil || !ok {
		t.Fatalf("admin password chosen on the screen: %v %v", ok, err)
	}
}

// Only the box's own screen may set it up: from the network the page says
// so and a forged form is refused without writing anything.
func TestSetupPageRemote(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	base, _ := startSetup(t, dir, func(cfg *appliance.Config) { cfg.HTTP.KioskAddrs = []string{"192.0.2.1"} })
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1<<16)
	n, _ := resp.Body.Read(b)
	resp.Body.Close()
	if page := string(b[:n]); !strings.Contains(page, "还没有设置") || strings.Contains(page, `name="password"`) {
		t.Fatalf("setup page from the network:\n%s", page)
	}
	form := url.Values{"role": {"village"}, "code": {"410184104201"}, "name": {"杏花村"}, "password": {"Xinghua-duty-2026"}, "confirm": {"Xinghua-duty-2026"}}
	resp, err = http.PostForm(base+"/setup", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("setup from the network: %d", resp.StatusCode)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("a refused setup wrote the data folder: %v", err)
	}
	resp, err = http.Get(base + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz during setup: %v %v", resp, err)
	}
	resp.Body.Close()
}
