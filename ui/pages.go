package ui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds every template, parsed at start: a missing or broken template
// stops the node instead of failing at first view.
type pages struct {
	byName map[string]*template.Template
	static map[string]string // logical name → hashed URL
	files  map[string][]byte // hashed file name → content
}

func loadPages(funcs template.FuncMap) (*pages, error) {
	p := &pages{byName: map[string]*template.Template{}, static: map[string]string{}, files: map[string][]byte{}}
	err := fs.WalkDir(staticFS, "static", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := staticFS.ReadFile(name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		base := path.Base(name)
		ext := path.Ext(base)
		hashed := strings.TrimSuffix(base, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		p.static[base] = "/static/" + hashed
		p.files[hashed] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load static files: %w", err)
	}
	funcs["static"] = func(name string) (string, error) {
		if u, ok := p.static[name]; ok {
			return u, nil
		}
		return "", fmt.Errorf("no static file %q", name)
	}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		base := strings.TrimSuffix(path.Base(n), ".html")
		if base == "layout" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", n, err)
		}
		p.byName[base] = t
	}
	return p, nil
}

// render executes a page into a buffer, then sends it, so a template error
// never leaves half a page.
func (s *Server) render(c *fiber.Ctx, name string, data fiber.Map) error {
	t, ok := s.pages.byName[name]
	if !ok {
		return fmt.Errorf("no template %q", name)
	}
	if data == nil {
		data = fiber.Map{}
	}
	v := s.viewOf(c)
	data["V"] = v
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(buf.Bytes())
}

// view is what every page's layout needs.
type view struct {
	User      *appliance.User
	RoleLabel string
	CSRF      string
	Kiosk     bool // the kiosk screen
	Screen    bool // the box's own screen (not a LAN tablet marked kiosk)
	Setup     bool // the first-boot setup page (no node yet: no menus, no links)
	KioskIdle int  // seconds; this page returns home (a staff session on the kiosk ends) after this without activity
	IdleWarn  int  // seconds before that the page asks 还在吗
	NoScript  int  // seconds after which a page without JavaScript returns home
	Large     bool // 大字: kiosk text at 125 %
	NodeName  string
	NodeRole  string
	DutyPhone string
	Path      string
	Here      string // path and query, to come back to
	Staff     bool   // a staff page (not public)
	Today     string
	Menu      staffMenu // the staff menu of the user (ui/staff_menu.go)
	Warnings  []string  // what is wrong with the box, on every staff page
}

func (s *Server) viewOf(c *fiber.Ctx) view {
	v := view{
		CSRF:      csrfToken(c),
		Kiosk:     s.isKiosk(c),
		Screen:    s.isKioskScreen(c),
		KioskIdle: int(s.pageIdle(c).Seconds()), // ui/kiosk_mode.go
		IdleWarn:  int(min(s.Config.Kiosk.IdleWarning.Duration, s.pageIdle(c)/2).Seconds()),
		NoScript:  int(s.Config.Kiosk.NoScriptIdle.Seconds()),
		Large:     largeText(c),
		NodeName:  s.Config.Node.Name,
		NodeRole:  s.Config.Node.Role,
		DutyPhone: s.Config.DutyPhone,
		Path:      c.Path(),
		Here:      c.OriginalURL(),
		Today:     s.today(),
	}
	if u := currentUser(c); u != nil {
		v.User = u
		v.RoleLabel = u.Role.Label()
		v.Menu = s.menuFor(u, v.Here)
	}
	v.Staff = strings.HasPrefix(c.Path(), "/staff") || c.Path() == "/password"
	if v.Staff && v.User != nil {
		v.Warnings = s.boxWarnings()
	}
	return v
}

func (s *Server) funcs() template.FuncMap {
	return template.FuncMap{
		"datetime": func(t time.Time) string { return t.In(s.loc).Format("2006-01-02 15:04") },
		"date":     func(t time.Time) string { return t.In(s.loc).Format("2006-01-02") },
		"hlctime":  func(h appliance.HLC) string { return h.Time().In(s.loc).Format("2006-01-02 15:04") },
		"duty":     func(d string) string { return appliance.DutyLabels[d] },
		"role":     func(r appliance.Role) string { return r.Label() },
		"mask":     appliance.MaskPhone,
		"weekday": func(date string) string {
			t, err := time.Parse("2006-01-02", date)
			if err != nil {
				return ""
			}
			return [...]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}[t.Weekday()]
		},
		"add": func(a, b int) int { return a + b },
		// dict passes several values to a template: dict "Key" v "Key2" v2.
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				k, _ := kv[i].(string)
				m[k] = kv[i+1]
			}
			return m
		},
		"mb": func(n any) string {
			var f float64
			switch v := n.(type) {
			case int64:
				f = float64(v)
			case uint64:
				f = float64(v)
			case int:
				f = float64(v)
			}
			if f >= 1<<30 {
				return fmt.Sprintf("%.1f GB", f/(1<<30))
			}
			return fmt.Sprintf("%.1f MB", f/(1<<20))
		},
		"groupnum": appliance.GroupNumber,
		// duenote says, after a deadline in a year whose holidays the node
		// has not received, that it was counted by plain weekdays.
		"duenote": func(due string) string {
			if y, err := strconv.Atoi(strings.SplitN(due, "-", 2)[0]); err == nil && len(due) == 10 && s.cases != nil && !s.cases.Calendar().Known(y) {
				return "（" + strconv.Itoa(y) + "年节假日安排未收到，暂按周一至周五计算）"
			}
			return ""
		},
		"lines": func(s string) []string { return strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") },
	}
}

func (s *Server) serveStatic(c *fiber.Ctx) error {
	data, ok := s.pages.files[c.Params("name")]
	if !ok {
		return appliance.Errorf(appliance.ENOTFOUND, "文件不存在")
	}
	if t := staticType(c.Params("name")); t != "" {
		c.Set(fiber.HeaderContentType, t)
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	return c.Send(data)
}

func staticType(name string) string {
	switch path.Ext(name) {
	case ".css":
		return "text/css; charset=utf-8"
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".png":
		return "image/png"
	}
	return ""
}
