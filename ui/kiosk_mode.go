package ui

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// The kiosk screen (docs/cases.md, "Kiosk"): a browser is the kiosk when it
// is the box's own (http.kiosk_addrs) or was marked with /?kiosk=1;
// /?kiosk=0 undoes it, also for the box's own browser. On the kiosk a staff
// session lives only in the staff pages: opening a public page ends it, so
// no villager ever sees a name or a way into the staff pages.

const (
	cookieLarge = "gb_large" // 大字: the kiosk's text at 125 %; JavaScript sets it too
	localIdle   = "idle"     // a page's own idle time (the receipt's is longer)
)

// kioskPages are the public pages (and their prefixes) of the kiosk.
var kioskPages = []string{"/duty", "/services", "/notices", "/report", "/track", "/scan", "/signin", "/textsize"}

// isKioskPage reports whether path is a public kiosk page.
func isKioskPage(path string) bool {
	if path == "/" {
		return true
	}
	for _, p := range kioskPages {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// setKioskMode marks or unmarks this browser as the kiosk from ?kiosk=1
// or ?kiosk=0.
func (s *Server) setKioskMode(c *fiber.Ctx) {
	switch c.Query("kiosk") {
	case "1":
		s.setCookie(c, cookieKiosk, "1", 10*365*24*time.Hour, true)
	case "0":
		s.setCookie(c, cookieKiosk, "0", 10*365*24*time.Hour, true)
	}
}

// endKioskSession ends a staff session started on the kiosk screen when a
// public page is opened with it (leaving the staff pages logs out).
func (s *Server) endKioskSession(c *fiber.Ctx, token string) bool {
	if !isKioskPage(c.Path()) || !s.isKiosk(c) {
		return false
	}
	s.Store.DeleteSession(token)
	s.clearCookie(c, cookieSession)
	s.Log.Info("kiosk session ended on a public page")
	return true
}

// largeText reports whether the kiosk shows text at 125 %.
func largeText(c *fiber.Ctx) bool { return c.Cookies(cookieLarge) == "1" }

// setTextSize is the 大字 button without JavaScript: it sets the text size
// and returns to the page (with JavaScript the button works in place, so
// nothing typed is lost).
func (s *Server) setTextSize(c *fiber.Ctx) error {
	if c.Query("big") == "1" {
		s.setTextCookie(c, "1")
	} else {
		s.clearCookie(c, cookieLarge)
	}
	back := c.Query("back")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.Contains(back, "\\") {
		back = "/"
	}
	return c.Redirect(back, fiber.StatusSeeOther)
}

func (s *Server) setTextCookie(c *fiber.Ctx, v string) {
	// Not HttpOnly: the page's script switches it without a reload.
	s.setCookie(c, cookieLarge, v, 0, false)
}

func init() {
	registerRoutes(func(s *Server) {
		s.app.Get("/textsize", s.setTextSize) // public
	})
}

// pageIdle is how long a kiosk page waits without activity before it
// returns home: the page's own time if it set one, else http.kiosk_idle.
func (s *Server) pageIdle(c *fiber.Ctx) time.Duration {
	if d, ok := c.Locals(localIdle).(time.Duration); ok && d > 0 {
		return d
	}
	return s.Config.HTTP.KioskIdle.Duration
}
