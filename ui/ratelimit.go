package ui

import (
	"fmt"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/time/rate"

	"gridbox/appliance"
)

// Anonymous submissions are rate limited per device (its IP address; the
// server trusts no forwarding header) and, for case reports, in all: before
// this, one client filed 370 signed, undeletable, replicated cases a second.
// Staff are not limited here; their logins are (bolt.Authenticate).

// maxTracked bounds the devices remembered; past it the idle ones go first.
const maxTracked = 4096

type limiter struct {
	mu      sync.Mutex
	r       appliance.Rate
	clients map[string]*rate.Limiter
}

func newLimiter(r appliance.Rate) *limiter {
	return &limiter{r: r, clients: map[string]*rate.Limiter{}}
}

func newRate(r appliance.Rate) *rate.Limiter {
	if r.N <= 0 {
		return rate.NewLimiter(0, 0)
	}
	return rate.NewLimiter(rate.Every(r.Per/time.Duration(r.N)), r.N)
}

// reserve takes one token for key; it returns how long to wait when none is left.
func (l *limiter) reserve(key string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim, ok := l.clients[key]
	if !ok {
		if len(l.clients) >= maxTracked {
			l.forgetIdle(now)
		}
		lim = newRate(l.r)
		l.clients[key] = lim
	}
	return take(lim, now)
}

// forgetIdle drops devices whose allowance has refilled (they are as if
// new); if all are busy, it drops an arbitrary half.
func (l *limiter) forgetIdle(now time.Time) {
	for k, lim := range l.clients {
		if lim.TokensAt(now) >= float64(lim.Burst()) {
			delete(l.clients, k)
		}
	}
	for k := range l.clients {
		if len(l.clients) < maxTracked/2 {
			break
		}
		delete(l.clients, k)
	}
}

// take takes a token from lim, or says how long until one is there.
func take(lim *rate.Limiter, now time.Time) time.Duration {
	if lim.Burst() == 0 {
		return time.Hour
	}
	r := lim.ReserveN(now, 1)
	if !r.OK() {
		return time.Hour
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return d
	}
	return 0
}

// rateLimits are the server's limiters (appliance.LimitsConfig).
type rateLimits struct {
	posts         *limiter // any submission without a login, per device
	reports       *limiter // case reports, per LAN device
	reportsAll    *rate.Limiter
	reportsScreen *rate.Limiter
}

func newRateLimits(cfg appliance.LimitsConfig) *rateLimits {
	return &rateLimits{
		posts:         newLimiter(cfg.PostsPerClient),
		reports:       newLimiter(cfg.ReportsPerClient),
		reportsAll:    newRate(cfg.ReportsAll),
		reportsScreen: newRate(cfg.ReportsScreen),
	}
}

// limitAnonymous rate limits every submission without a login per device.
func (s *Server) limitAnonymous(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if currentUser(c) != nil {
		return c.Next()
	}
	if wait := s.limits.posts.reserve(c.IP(), time.Now()); wait > 0 {
		s.metrics.limited.WithLabelValues("posts").Inc()
		return s.tooMany(c, wait)
	}
	return c.Next()
}

// limitReports is the route middleware of every route that files a case
// without a login: per device, then the kiosk screen's or the LAN's
// allowance in all.
func (s *Server) limitReports(c *fiber.Ctx) error {
	if currentUser(c) != nil {
		return c.Next()
	}
	now := time.Now()
	if s.isKioskScreen(c) {
		return s.takeOrRefuse(c, s.limits.reportsScreen, "reports_screen", now)
	}
	if wait := s.limits.reports.reserve(c.IP(), now); wait > 0 {
		s.metrics.limited.WithLabelValues("reports_client").Inc()
		return s.tooMany(c, wait)
	}
	return s.takeOrRefuse(c, s.limits.reportsAll, "reports_all", now)
}

// takeOrRefuse lets the request on with a token of lim, or refuses it.
func (s *Server) takeOrRefuse(c *fiber.Ctx, lim *rate.Limiter, label string, now time.Time) error {
	if wait := take(lim, now); wait > 0 {
		s.metrics.limited.WithLabelValues(label).Inc()
		return s.tooMany(c, wait)
	}
	return c.Next()
}

// tooMany refuses with 429, when to come back, and the duty phone.
func (s *Server) tooMany(c *fiber.Ctx, wait time.Duration) error {
	secs := int(math.Ceil(wait.Seconds()))
	c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
	when := fmt.Sprintf("%d秒", secs)
	if secs > 90 {
		when = fmt.Sprintf("%d分钟", (secs+59)/60)
	}
	msg := "提交太频繁，请" + when + "后再试。"
	if p := s.Config.DutyPhone; p != "" {
		msg += "有急事请拨打值班电话 " + p + "，或到" + s.Config.DutyRoom + "当面反映。"
	} else {
		msg += "有急事请到" + s.Config.DutyRoom + "当面反映。"
	}
	return appliance.Errorf(appliance.ETOOMANY, "%s", msg)
}

// isKioskScreen reports whether the request comes from the box's own screen
// (http.kiosk_addrs), as opposed to a device marked as a kiosk by cookie.
func (s *Server) isKioskScreen(c *fiber.Ctx) bool {
	ip := c.IP()
	for _, a := range s.Config.HTTP.KioskAddrs {
		if a == ip {
			return true
		}
	}
	return false
}
