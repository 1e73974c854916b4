// Package ui serves gridbox over HTTP: the public kiosk pages, the staff's
// work pages and the JSON API under /api/v1. Pages work without JavaScript.
package ui

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// Server is the HTTP side of a node.
type Server struct {
	Store  *bolt.Store
	Config appliance.Config
	Log    *slog.Logger

	// Printing makes and prints documents; nil when the node has none.
	Printing appliance.Printing

	// Clock is the time the pages count deadlines against; time.Now when
	// nil. Tests set it to see a day before, on and after a deadline.
	Clock func() time.Time

	// LoginDelay is the first delay after a failed login; it doubles with
	// each failure in a row. Tests shorten it.
	LoginDelay time.Duration

	// EventHeartbeat is how often /api/v1/events sends a comment to an
	// idle stream; 0: 15 s. Tests shorten it.
	EventHeartbeat time.Duration

	cases    *bolt.Cases // the case service, built once from the configuration
	app      *fiber.App
	pages    *pages
	registry *prometheus.Registry
	metrics  *httpMetrics
	routes   []func(*Server)
	loc      *time.Location

	bodyRules []bodyRule             // routes that take larger bodies (limits.go)
	bodies    *semaphore.Weighted    // memory for large bodies being read
	limits    *rateLimits            // anonymous submissions (ratelimit.go)
	secret    []byte                 // the node's local secret: signs anonymous CSRF tokens
	cards     *appliance.TokenSigner // staff cards' QR codes (ui/staff_card.go)

	tlsPort, tlsFingerprint string // HTTPS for staff (tls.go); "" when off
}

// Route adds a set of routes; features call it before Handler is used.
type Route func(s *Server)

// NewServer builds the fiber app with every page and API route.
func NewServer(cfg appliance.Config, store *bolt.Store, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{Store: store, Config: cfg, Log: log, LoginDelay: 500 * time.Millisecond, loc: cfg.Location(),
		bodies: newBodyBudget(), limits: newRateLimits(cfg.Limits), secret: store.Secret()}
	var err error
	if s.cases, err = bolt.NewCases(store, cfg); err != nil {
		return nil, err
	}
	if s.pages, err = loadPages(s.funcs()); err != nil {
		return nil, err
	}
	s.registry = prometheus.NewRegistry()
	s.metrics = newHTTPMetrics(s.registry, store)
	s.app = fiber.New(fiber.Config{
		Immutable:             true, // strings from requests outlive handlers
		DisableStartupMessage: true,
		// Bodies are streamed and read by limitBody as far as their route
		// allows; BodyLimit only bounds what fasthttp reads ahead.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		BodyLimit:                    bodyBudget,
		ReadTimeout:                  30 * time.Second,
		WriteTimeout:                 60 * time.Second,
		IdleTimeout:                  120 * time.Second,
		ErrorHandler:                 s.handleFiberError,
		AppName:                      "gridbox",
	})
	s.app.Use(s.observe, s.securityHeaders, s.requireTLS, s.loadSession, s.limitBody, s.limitAnonymous, s.checkCSRF, s.idempotent)
	s.allowUploads()
	s.routesCore()
	for _, r := range extraRoutes {
		r(s)
	}
	s.app.Use(func(c *fiber.Ctx) error { return appliance.Errorf(appliance.ENOTFOUND, "页面不存在") })
	return s, nil
}

// extraRoutes are feature route sets registered from their files' init.
var extraRoutes []Route

func registerRoutes(r Route) { extraRoutes = append(extraRoutes, r) }

// App returns the fiber app (for tests using app.Test).
func (s *Server) App() *fiber.App { return s.app }

// Registry returns the Prometheus registry of /metrics, so other parts of
// the node (replication) can add their collectors.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Serve serves on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.app.Listener(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return s.app.ShutdownWithContext(sctx)
	}
}

func (s *Server) securityHeaders(c *fiber.Ctx) error {
	c.Set("X-Content-Type-Options", "nosniff")
	c.Set("X-Frame-Options", "DENY")
	c.Set("Referrer-Policy", "same-origin")
	// media-src blob: lets the kiosk play back a recording before it is sent.
	c.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; media-src 'self' blob:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'")
	// Pages and answers may hold personal data: no cache keeps them.
	// Static files set their own long lifetime.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Next()
}

// observe logs each request (method, route, status, duration — never the
// query string, which may carry personal data) and feeds /metrics.
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			c.Status(fiber.StatusInternalServerError)
		}
	}
	route := c.Route().Path
	if route == "/" && c.Path() != "/" {
		route = "unmatched"
	}
	d := time.Since(start)
	s.metrics.observe(c.Method(), route, c.Response().StatusCode(), d)
	if c.Response().StatusCode() >= 500 {
		s.Log.Error("http", "method", c.Method(), "route", route, "status", c.Response().StatusCode(), "ms", d.Milliseconds())
	} else {
		s.Log.Debug("http", "method", c.Method(), "route", route, "status", c.Response().StatusCode(), "ms", d.Milliseconds())
	}
	return nil
}

// statusOf maps error codes to HTTP statuses: the one table.
var statusOf = map[string]int{
	appliance.ECONFLICT:     fiber.StatusConflict,
	appliance.EFORBIDDEN:    fiber.StatusForbidden,
	appliance.EINTERNAL:     fiber.StatusInternalServerError,
	appliance.EINVALID:      fiber.StatusBadRequest,
	appliance.ENOTFOUND:     fiber.StatusNotFound,
	appliance.EUNAUTHORIZED: fiber.StatusUnauthorized,
	appliance.ELOCKED:       fiber.StatusTooManyRequests,
	appliance.ETOOMANY:      fiber.StatusTooManyRequests,
	appliance.ETOOLARGE:     fiber.StatusRequestEntityTooLarge,
	appliance.EBUSY:         fiber.StatusServiceUnavailable,
	appliance.ESTORAGE:      fiber.StatusInsufficientStorage,
	appliance.EUNSUPPORTED:  fiber.StatusUnsupportedMediaType,
}

func (s *Server) handleFiberError(c *fiber.Ctx, err error) error {
	var ferr *fiber.Error
	if errors.As(err, &ferr) {
		switch ferr.Code {
		case fiber.StatusNotFound:
			err = appliance.Errorf(appliance.ENOTFOUND, "页面不存在")
		case fiber.StatusRequestEntityTooLarge:
			err = appliance.Errorf(appliance.EINVALID, "上传的内容太大")
		case fiber.StatusMethodNotAllowed:
			err = appliance.Errorf(appliance.EINVALID, "不支持的请求方式")
		default:
			err = appliance.Errorf(appliance.EINVALID, "请求有误")
		}
	}
	code := appliance.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = fiber.StatusInternalServerError
	}
	if code == appliance.EINTERNAL {
		s.Log.Error("internal error", "route", c.Route().Path, "err", err)
	}
	c.Status(status)
	if isAPI(c) {
		return c.JSON(fiber.Map{"error": fiber.Map{"code": code, "message": appliance.ErrorMessage(err), "field": appliance.ErrorField(err)}})
	}
	return s.render(c, "error", fiber.Map{"Title": "出错了", "Status": status, "Message": appliance.ErrorMessage(err)})
}

func isAPI(c *fiber.Ctx) bool { return strings.HasPrefix(c.Path(), "/api/") }

// now is the time in the display zone.
func (s *Server) now() time.Time {
	if s.Clock != nil {
		return s.Clock().In(s.loc)
	}
	return time.Now().In(s.loc)
}

// today is the date in the display zone, YYYY-MM-DD.
func (s *Server) today() string { return s.now().Format("2006-01-02") }
