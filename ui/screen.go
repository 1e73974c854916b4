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
		s.app.Get("/screen/beat", s.screenBeat)
		s.app.Get("/healthz/screen", s.screenHealth)
	})
}

func (s *Server) screenBeat(c *fiber.Ctx) error {
	if !s.isKioskScreen(c) {
		return fiber.ErrNotFound
	}
	s.screenClock().Store(time.Now().UnixMilli())
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) screenHealth(c *fiber.Ctx) error {
	if !s.isKioskScreen(c) {
		return fiber.ErrNotFound
	}
	return c.JSON(fiber.Map{"seen_ms": s.screenClock().Load()})
}
