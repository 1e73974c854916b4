package ui

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/skip2/go-qrcode"

	"gridbox/appliance"
)

// A box written without a settings file starts with the setup page on its
// own screen (gridbox serve --setup): the installer chooses the role,
// division code, name, parent address and the admin's password there, the
// node is provisioned as gridbox init would, and the screen then shows the
// enrolment card (the node key as a QR code) to print or photograph for the
// town. Only the box's own screen (http.kiosk_addrs) may set it up: anyone
// else on the network sees a page saying so.

// SetupForm is what the setup page asks.
type SetupForm struct {
	Role, Code, Name, Parent, DutyPhone string
	Password, Confirm                   string
}

// SetupResult is what the enrolment card shows.
type SetupResult struct {
	Node           appliance.Node
	Key            appliance.FeedID
	AdminUsername  string
	TLSFingerprint string
}

// Provision creates the node from the form; main gives one that runs what
// gridbox init runs. An error with a field is shown on the form.
type Provision func(ctx context.Context, node appliance.Node, form SetupForm) (SetupResult, error)

// SetupServer serves the setup page until the installer finishes.
type SetupServer struct {
	Config    appliance.Config // defaults: where to listen, which addresses are the screen
	Provision Provision
	Log       *slog.Logger

	app    *fiber.App
	pages  *pages
	token  string // the form's anti-forgery token
	screen atomic.Int64
	done   chan struct{}
	once   sync.Once

	mu     sync.Mutex
	result *SetupResult // set once provisioned
}

// NewSetupServer builds the setup pages.
func NewSetupServer(cfg appliance.Config, provision Provision, log *slog.Logger) (*SetupServer, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &SetupServer{Config: cfg, Provision: provision, Log: log, done: make(chan struct{})}
	var err error
	if s.pages, err = loadPages((&Server{loc: cfg.Location()}).funcs()); err != nil {
		return nil, err
	}
	b := make([]byte, 16)
	rand.Read(b)
	s.token = hex.EncodeToString(b)
	s.app = fiber.New(fiber.Config{Immutable: true, DisableStartupMessage: true, BodyLimit: 64 << 10,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second, AppName: "gridbox-setup"})
	s.app.Use(func(c *fiber.Ctx) error {
		c.Set("X-Frame-Options", "DENY")
		c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'")
		c.Set(fiber.HeaderCacheControl, "no-store")
		return c.Next()
	})
	s.app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("setup\n") })
	s.app.Get("/static/:name", func(c *fiber.Ctx) error {
		data, ok := s.pages.files[c.Params("name")]
		if !ok {
			return c.SendStatus(fiber.StatusNotFound)
		}
		c.Set(fiber.HeaderContentType, staticType(c.Params("name")))
		return c.Send(data)
	})
	s.app.Get("/screen/beat", func(c *fiber.Ctx) error { return screenBeat(c, s.isScreen(c), &s.screen) })
	s.app.Get("/healthz/screen", func(c *fiber.Ctx) error { return screenHealth(c, s.isScreen(c), &s.screen) })
	s.app.Get("/", s.showSetup)
	s.app.Post("/setup", s.submitSetup)
	s.app.Post("/setup/done", s.finishSetup)
	s.app.Use(func(c *fiber.Ctx) error { return c.Redirect("/", fiber.StatusSeeOther) })
	return s, nil
}

// Serve serves on ln until the installer finishes (after provisioning) or
// ctx ends; it returns the result, nil when the node was not set up.
func (s *SetupServer) Serve(ctx context.Context, ln net.Listener) (*SetupResult, error) {
	errc := make(chan error, 1)
	go func() { errc <- s.app.Listener(ln) }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	case <-s.done:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.app.ShutdownWithContext(sctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.result, err
}

func (s *SetupServer) isScreen(c *fiber.Ctx) bool {
	for _, a := range s.Config.HTTP.KioskAddrs {
		if a == c.IP() {
			return true
		}
	}
	return false
}

func (s *SetupServer) render(c *fiber.Ctx, data fiber.Map) error {
	data["V"] = view{Screen: s.isScreen(c), NodeName: "新设备设置", Path: c.Path(), Setup: true}
	data["Token"] = s.token
	var buf bytes.Buffer
	if err := s.pages.byName["setup"].ExecuteTemplate(&buf, "layout.html", data); err != nil {
		return fmt.Errorf("render setup: %w", err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(buf.Bytes())
}

func (s *SetupServer) showSetup(c *fiber.Ctx) error {
	s.mu.Lock()
	res := s.result
	s.mu.Unlock()
	switch {
	case !s.isScreen(c):
		return s.render(c, fiber.Map{"Title": "新设备设置", "Remote": true})
	case res != nil:
		return s.render(c, fiber.Map{"Title": "入网登记卡", "Card": res, "QR": keyQR(res.Key.String())})
	}
	return s.render(c, fiber.Map{"Title": "新设备设置", "Form": SetupForm{Role: appliance.NodeVillage}})
}

func (s *SetupServer) submitSetup(c *fiber.Ctx) error {
	if !s.isScreen(c) || subtle.ConstantTimeCompare([]byte(c.FormValue("_token")), []byte(s.token)) != 1 {
		return c.Status(fiber.StatusForbidden).SendString("只能在本机屏幕上设置\n")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.result != nil {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	f := SetupForm{Role: c.FormValue("role"), Code: strings.TrimSpace(c.FormValue("code")), Name: strings.TrimSpace(c.FormValue("name")),
		Parent: strings.TrimSpace(c.FormValue("parent")), DutyPhone: strings.TrimSpace(c.FormValue("duty_phone")),
		Password: c.FormValue("password"), Confirm: c.FormValue("confirm")}
	node := appliance.Node{Role: f.Role, Code: f.Code, Name: f.Name, Parent: f.Parent}
	err := node.Validate()
	if err == nil && f.Password != f.Confirm {
		err = appliance.FieldError("confirm", "两次输入的密码不一致")
	}
	if err == nil {
		err = appliance.CheckPasswordStrength(f.Password, "admin", f.Name)
	}
	if err == nil {
		var res SetupResult
		if res, err = s.Provision(c.UserContext(), node, f); err == nil {
			s.result = &res
			s.Log.Info("node set up on the screen", "role", node.Role, "code", node.Code)
			return c.Redirect("/", fiber.StatusSeeOther)
		}
	}
	if appliance.ErrorCode(err) == appliance.EINTERNAL {
		s.Log.Error("setup", "err", err)
	}
	f.Password, f.Confirm = "", ""
	msg := appliance.ErrorMessage(err)
	if l := setupLabels[appliance.ErrorField(err)]; l != "" && !strings.Contains(msg, l) {
		msg = l + "：" + msg
	}
	c.Status(fiber.StatusUnprocessableEntity)
	return s.render(c, fiber.Map{"Title": "新设备设置", "Form": f, "Error": msg, "Field": appliance.ErrorField(err)})
}

func (s *SetupServer) finishSetup(c *fiber.Ctx) error {
	if !s.isScreen(c) || subtle.ConstantTimeCompare([]byte(c.FormValue("_token")), []byte(s.token)) != 1 {
		return c.Status(fiber.StatusForbidden).SendString("只能在本机屏幕上设置\n")
	}
	s.mu.Lock()
	ok := s.result != nil
	s.mu.Unlock()
	if !ok {
		return c.Redirect("/", fiber.StatusSeeOther)
	}
	// The node starts in place of this server; the screen's page reloads
	// until it answers.
	err := s.render(c, fiber.Map{"Title": "正在启动", "Starting": true})
	s.once.Do(func() { time.AfterFunc(200*time.Millisecond, func() { close(s.done) }) })
	return err
}

// setupLabels name the form's fields in its errors.
var setupLabels = map[string]string{"role": "设备类型", "code": "行政区划代码", "name": "名称", "parent": "上级节点地址",
	"duty_phone": "值班电话", "password": "管理员密码", "confirm": "再输一次管理员密码"}

// keyQR is a node key as a QR code image for a page.
func keyQR(key string) template.URL {
	png, err := qrcode.Encode(key, qrcode.Medium, 256)
	if err != nil {
		return ""
	}
	// A data: URL built here from our own PNG; html/template would
	// otherwise replace it.
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
}
