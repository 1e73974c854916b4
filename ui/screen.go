package ui

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
)

// The box's own screen calls /screen/beat when a page loads and every 30
// seconds after (gridbox.js); gridbox kiosk, which runs the screen's
// browser, asks /healthz/screen when the screen last called and restarts a
// browser that stopped (hung). Both answer only the screen's addresses.

var screenSeen sync.Map // *Server → *atomic.Int64 (unix ms of the last beat)

func (s *Server) screenClock() *atomic.Int64 {
	v, _ := screenSeen.LoadOrStore(s, new(atomic.Int64))
	return v.(*atomic.Int64)
}

// ScreenSeen is when the kiosk screen last called; zero if never.
func (s *Server) ScreenSeen() time.Time {
	if ms := s.screenClock().Load(); ms > 0 {
		return time.UnixMilli(ms)
	}
	return time.Time{}
}

func init() {
	registerRoutes(func(s *Server) {
		s.app.Get("/screen/beat", func(c *fiber.Ctx) error { return screenBeat(c, s.isKioskScreen(c), s.screenClock()) })
		s.app.Get("/healthz/screen", func(c *fiber.Ctx) error { return screenHealth(c, s.isKioskScreen(c), s.screenClock()) })
	})
}

// screenBeat and screenHealth serve the node and the setup server alike.
func screenBeat(c *fiber.Ctx, screen bool, seen *atomic.Int64) error {
	if !screen {
		return fiber.ErrNotFound
	}
	seen.Store(time.Now().UnixMilli())
	return c.SendStatus(fiber.StatusNoContent)
}

func screenHealth(c *fiber.Ctx, screen bool, seen *atomic.Int64) error {
	if !screen {
		return fiber.ErrNotFound
	}
	return c.JSON(fiber.Map{"seen_ms": seen.Load()})
}
