package ui

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

type httpMetrics struct {
	duration *prometheus.HistogramVec
	limited  *prometheus.CounterVec // requests refused by a rate limit, by limit
}

func newHTTPMetrics(reg *prometheus.Registry, store *bolt.Store) *httpMetrics {
	m := &httpMetrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gridbox_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route", "status"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gridbox_http_rate_limited_total",
			Help: "Requests without a login refused by a rate limit, by limit.",
		}, []string{"limit"}),
	}
	stat := func(f func(bolt.Stats) float64) func() float64 {
		return func() float64 {
			st, err := store.Stats()
			if err != nil {
				return 0
			}
			return f(st)
		}
	}
	reg.MustRegister(
		m.duration,
		m.limited,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gridbox_ledger_entries", Help: "Entries held in the ledger, all feeds."}, stat(func(s bolt.Stats) float64 { return float64(s.Entries) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gridbox_ledger_feeds", Help: "Feeds held in the ledger."}, stat(func(s bolt.Stats) float64 { return float64(s.Feeds) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gridbox_ledger_appends_total", Help: "Entries appended by this process."}, stat(func(s bolt.Stats) float64 { return float64(s.Appends) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "gridbox_ledger_ingested_total", Help: "Entries received from other nodes by this process."}, stat(func(s bolt.Stats) float64 { return float64(s.Ingested) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gridbox_db_file_bytes", Help: "Size of the bbolt file."}, stat(func(s bolt.Stats) float64 { return float64(s.FileSize) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gridbox_storage_full", Help: "1 while writes fail because the disk is full."}, func() float64 {
			if store.StorageFull() {
				return 1
			}
			return 0
		}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gridbox_disk_free_bytes", Help: "Bytes free on the data folder's file system."}, func() float64 {
			free, _ := store.DiskFree()
			return float64(free)
		}),
	)
	return m
}

func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	m.duration.WithLabelValues(method, route, strconv.Itoa(status)).Observe(d.Seconds())
}

func (s *Server) metricsHandler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
}

// localOrStaff lets through requests from the box itself (a local
// Prometheus, the admin's shell) and logged-in staff (an API token serves a
// scraper elsewhere); /metrics tells a stranger nothing.
func (s *Server) localOrStaff(c *fiber.Ctx) error {
	if currentUser(c) != nil {
		return c.Next()
	}
	if isLocal(c) {
		return c.Next()
	}
	return appliance.Errorf(appliance.EUNAUTHORIZED, "请先登录")
}

// isLocal reports a request from the box itself: 127.0.0.1 or ::1 (other
// loopback addresses stand for LAN devices in tests).
func isLocal(c *fiber.Ctx) bool {
	ip := c.IP()
	return ip == "127.0.0.1" || ip == "::1"
}

// lowDisk is the free space under which the box says it is unwell: a
// day's work of a village is far less, but the file grows in steps.
const lowDisk = 16 << 20

// healthz answers "ok", or 503 with what is wrong: the store unreadable,
// or the disk full (writes are failing) or nearly so.
func (s *Server) healthz(c *fiber.Ctx) error {
	if _, err := s.Store.Stats(); err != nil {
		c.Status(fiber.StatusServiceUnavailable)
		return c.SendString("store: unavailable\n")
	}
	if s.Store.StorageFull() {
		c.Status(fiber.StatusServiceUnavailable)
		return c.SendString("degraded: storage full, writes are failing\n")
	}
	if free, err := s.Store.DiskFree(); err == nil && free < lowDisk {
		c.Status(fiber.StatusServiceUnavailable)
		return c.SendString(fmt.Sprintf("degraded: storage nearly full, %d bytes free\n", free))
	}
	return c.SendString("ok\n")
}
