// Package uitest starts real gridbox web servers and a real headless
// Chromium for the tests of ui and the features built on it.
package uitest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/ui"
)

// RequireTool returns the path of an external tool the test needs. When it is
// missing the test fails under CI=true and is skipped otherwise.
func RequireTool(tb testing.TB, name string, alternatives ...string) string {
	tb.Helper()
	for _, n := range append([]string{name}, alternatives...) {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		if filepath.IsAbs(n) {
			if st, err := os.Stat(n); err == nil && !st.IsDir() {
				return n
			}
		}
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is not installed (CI=true: run .ci/install-deps)", name)
	}
	tb.Skipf("%s is not installed; run `make test` as root or .ci/install-deps", name)
	return ""
}

// Password is the password of every account MustStart makes.
const Password = "test1234"

// Server is a real gridbox web server on a random loopback port.
type Server struct {
	URL    string // http://127.0.0.1:PORT
	Store  *bolt.Store
	Config appliance.Config
	UI     *ui.Server
	Dir    string
}

// Options tune MustStart.
type Options struct {
	Role     string // appliance.NodeVillage by default
	Code     string
	Name     string
	Tune     func(cfg *appliance.Config) // change the configuration before start
	NoGroups bool
}

// MustStart initialises a node in a temp folder, makes one account per role
// (username = role name with "_" removed, password Password), a few groups,
// and serves it until the test ends.
func MustStart(tb testing.TB, opts Options) *Server {
	tb.Helper()
	if opts.Role == "" {
		opts.Role, opts.Code, opts.Name = appliance.NodeVillage, "410184104201", "杏花村"
	}
	dir := tb.TempDir()
	ctx := context.Background()
	cfg := appliance.DefaultConfig()
	cfg.DutyPhone = "0371-62581234"
	if opts.Tune != nil {
		opts.Tune(&cfg)
	}
	node := appliance.Node{Role: opts.Role, Code: opts.Code, Name: opts.Name}
	if _, err := bolt.InitDataDir(ctx, dir, node, bolt.InitOptions{AdminPassword: Password, Config: &cfg}); err != nil {
		tb.Fatal(err)
	}
	store, cfg, err := bolt.OpenDataDir(dir, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	store.SetArgon2(bolt.Argon2Params{Time: 1, Memory: 8 * 1024, Threads: 1})
	if opts.Tune != nil {
		opts.Tune(&cfg)
	}
	if opts.Role == appliance.NodeVillage && !opts.NoGroups {
		for i := 1; i <= 3; i++ {
			g := appliance.Grid{Code: appliance.GroupCode(opts.Code, i), Level: appliance.LevelGroup, Name: []string{"", "第一村民组", "第二村民组", "第三村民组"}[i], Parent: opts.Code}
			if err := store.SetGrid(ctx, "", g); err != nil {
				tb.Fatal(err)
			}
		}
	}
	for _, r := range appliance.Roles {
		if r == appliance.RoleAdmin {
			continue
		}
		name := strings.ReplaceAll(string(r), "_", "")
		u := appliance.User{ID: "u-" + name, Username: name, Name: "测试" + r.Label(), Role: r, Grid: opts.Code}
		if r == appliance.RoleDepartment {
			u.Department = "镇自然资源所"
		}
		if r == appliance.RoleGridLeader && opts.Role == appliance.NodeVillage {
			u.Grid = appliance.GroupCode(opts.Code, 1)
		}
		if err := store.CreateUser(ctx, "", u, Password, false); err != nil {
			tb.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	srv, err := ui.NewServer(cfg, store, log)
	if err != nil {
		tb.Fatal(err)
	}
	srv.LoginDelay = time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx, ln) }()
	tb.Cleanup(func() { cancel(); <-done })
	return &Server{URL: "http://" + ln.Addr().String(), Store: store, Config: cfg, UI: srv, Dir: dir}
}

// Client is a browser-like HTTP client: it keeps cookies, does not follow
// redirects, and sends the CSRF token with posts.
type Client struct {
	tb   testing.TB
	base string
	HTTP *http.Client
}

// Client returns a new client without a session.
func (s *Server) Client(tb testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{tb: tb, base: s.URL, HTTP: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// ClientFrom returns a new client whose connections come from the loopback
// address ip (e.g. 127.0.0.2): another device on the village LAN, as far as
// the server can tell, since it trusts no forwarding header.
func (s *Server) ClientFrom(tb testing.TB, ip string) *Client {
	c := s.Client(tb)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	c.HTTP.Transport = &http.Transport{DialContext: d.DialContext}
	return c
}

// Get fetches path and returns the status and body.
func (c *Client) Get(path string) (int, string) {
	c.tb.Helper()
	resp, err := c.HTTP.Get(c.base + path)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// CSRF returns the client's CSRF token, fetching a page first if needed.
func (c *Client) CSRF() string {
	c.tb.Helper()
	u, _ := url.Parse(c.base)
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == "gb_csrf" {
			return ck.Value
		}
	}
	c.Get("/healthz")
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == "gb_csrf" {
			return ck.Value
		}
	}
	c.tb.Fatal("no CSRF cookie")
	return ""
}

// Post submits a form (with the CSRF token) and returns status, Location
// header and body.
func (c *Client) Post(path string, form url.Values) (int, string, string) {
	c.tb.Helper()
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" {
		form.Set("_csrf", c.CSRF())
	}
	resp, err := c.HTTP.PostForm(c.base+path, form)
	if err != nil {
		c.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// Login logs in and fails the test if it does not work.
func (c *Client) Login(username string) {
	c.tb.Helper()
	status, loc, body := c.Post("/login", url.Values{"username": {username}, "password": {Password}, "next": {"/staff"}})
	if status != http.StatusSeeOther || loc != "/staff" {
		c.tb.Fatalf("login %s: status %d location %q: %s", username, status, loc, Text(body))
	}
}

var tagRE = regexp.MustCompile(`(?s)<[^>]*>`)

// Text strips tags from HTML, for assertions and messages.
func Text(html string) string {
	return strings.Join(strings.Fields(tagRE.ReplaceAllString(html, " ")), " ")
}

// Browser starts headless Chromium and returns a tab's context, closed when
// the test ends. A missing Chromium fails under CI=true, skips otherwise.
func Browser(tb testing.TB) context.Context {
	tb.Helper()
	return BrowserWith(tb, BrowserOptions{})
}

// The kiosk's screens: a portrait and a landscape display.
var (
	Portrait  = Screen{Width: 1080, Height: 1920, Name: "portrait"}
	Landscape = Screen{Width: 1920, Height: 1080, Name: "landscape"}
)

// Screen is a window size in CSS pixels.
type Screen struct {
	Width, Height int
	Name          string
}

// BrowserOptions tune BrowserWith.
type BrowserOptions struct {
	Screen Screen // 1280 × 900 when zero
	// Microphone gives the browser a fake microphone (a beep) and grants
	// it without a prompt, as on the kiosk.
	Microphone bool
}

// BrowserWith starts headless Chromium with the options.
func BrowserWith(tb testing.TB, o BrowserOptions) context.Context {
	tb.Helper()
	path := RequireTool(tb, "/usr/lib/chromium/chromium", "chromium", "/usr/bin/chromium", "chromium-browser")
	if o.Screen.Width == 0 {
		o.Screen = Screen{Width: 1280, Height: 900}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(tb.TempDir()),
		chromedp.WindowSize(o.Screen.Width, o.Screen.Height),
	}
	if o.Microphone {
		opts = append(opts, chromedp.Flag("use-fake-device-for-media-stream", true), chromedp.Flag("use-fake-ui-for-media-stream", true),
			chromedp.Flag("autoplay-policy", "no-user-gesture-required"))
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	tb.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	return ctx
}

// AxeScript returns axe-core's script, which .ci/install-deps puts into the
// user's cache folder (never into the repository). A missing axe-core fails
// under CI=true and skips otherwise.
func AxeScript(tb testing.TB) string {
	tb.Helper()
	p := os.Getenv("GRIDBOX_AXE")
	if p == "" {
		dir, _ := os.UserCacheDir()
		p = filepath.Join(dir, "gridbox", "npm", "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(p)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("axe-core is not installed at %s (CI=true: run .ci/install-deps)", p)
		}
		tb.Skipf("axe-core is not installed at %s; run .ci/install-deps", p)
	}
	return string(b)
}

// Screenshot saves a full-page screenshot as NAME.png in
// $GRIDBOX_SCREENSHOTS (default ui/testdata/screenshots under the module).
func Screenshot(tb testing.TB, ctx context.Context, name string) string {
	tb.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.Fatalf("screenshot %s: %v", name, err)
	}
	dir := os.Getenv("GRIDBOX_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(moduleRoot(), "ui", "testdata", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

func moduleRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
	}
	return dir
}
