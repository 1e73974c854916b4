package ui

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/sync/semaphore"

	"gridbox/appliance"
)

// Limits before work. The server streams request bodies (fiber's
// StreamRequestBody) and limitBody reads each one only as far as its route
// allows, before CSRF, sessions or handlers touch it: a 60 MB anonymous
// POST is refused after its headers, not after 60 MB are in memory.

const (
	// anonBodyMax bounds what anyone without a login may send: kiosk forms,
	// logins, anonymous JSON.
	anonBodyMax = 16 << 10
	// staffBodyMax bounds staff forms and JSON without uploads.
	staffBodyMax = 1 << 20
	// queryBodyMax is what a GET, HEAD or DELETE may carry.
	queryBodyMax = 1 << 10
	// bodyBudget is the memory all large bodies being read may hold at once;
	// beyond it a request waits (briefly) or is refused, so that twelve
	// parallel uploads cannot push a 1 GB box into the OOM killer.
	bodyBudget = 128 << 20
	// largeBody is where a body starts to count against bodyBudget.
	largeBody = 64 << 10
)

// bodyRule raises the body limit of one route. Patterns are route paths
// with :param segments.
type bodyRule struct {
	method string
	parts  []string
	max    int64
	public bool // anonymous requests get it too (kiosk uploads)
}

// allowBody lets route (method, pattern) take bodies up to max bytes;
// public extends it to requests without a login. Features call it next to
// the route they register.
func (s *Server) allowBody(method, pattern string, max int64, public bool) {
	s.bodyRules = append(s.bodyRules, bodyRule{method: method, parts: strings.Split(strings.Trim(pattern, "/"), "/"), max: max, public: public})
}

func (r bodyRule) match(method, path string) bool {
	if r.method != method {
		return false
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) != len(r.parts) {
		return false
	}
	for i, p := range r.parts {
		if !strings.HasPrefix(p, ":") && p != parts[i] {
			return false
		}
	}
	return true
}

// bodyMax is the largest body the request may have.
func (s *Server) bodyMax(c *fiber.Ctx) int64 {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodDelete, fiber.MethodOptions:
		return queryBodyMax
	}
	staff := currentUser(c) != nil
	max := int64(anonBodyMax)
	if staff {
		max = staffBodyMax
	}
	for _, r := range s.bodyRules {
		if (staff || r.public) && r.match(c.Method(), c.Path()) && r.max > max {
			max = r.max
		}
	}
	return max
}

var errBodyTooLarge = appliance.Errorf(appliance.ETOOLARGE, "提交的内容太大")

// limitBody reads the request body up to the route's limit, or refuses it.
// It runs after loadSession (staff get larger limits) and before checkCSRF
// (which reads form fields).
func (s *Server) limitBody(c *fiber.Ctx) error {
	req := c.Request()
	max := s.bodyMax(c)
	n := int64(req.Header.ContentLength()) // -1: chunked, -2: none
	if n > max {
		c.Context().SetConnectionClose() // the rest of the body is never read
		return errBodyTooLarge
	}
	if !req.IsBodyStream() {
		return c.Next()
	}
	if n > largeBody || n == -1 && max > largeBody {
		want := n
		if want < 0 {
			want = max
		}
		if strings.HasPrefix(string(req.Header.ContentType()), fiber.MIMEMultipartForm) {
			want *= 2 // parsing copies the parts
		}
		want = min(want, bodyBudget)
		ctx, cancel := context.WithTimeout(c.UserContext(), 10*time.Second)
		err := s.bodies.Acquire(ctx, want)
		cancel()
		if err != nil {
			c.Context().SetConnectionClose()
			return appliance.Errorf(appliance.EBUSY, "系统正忙，请稍后再提交")
		}
		defer s.bodies.Release(want)
	}
	body, err := io.ReadAll(io.LimitReader(req.BodyStream(), max+1))
	if err != nil {
		c.Context().SetConnectionClose()
		return appliance.Errorf(appliance.EINVALID, "请求内容不完整")
	}
	if int64(len(body)) > max {
		c.Context().SetConnectionClose()
		return errBodyTooLarge
	}
	req.SetBody(body)
	return c.Next()
}

func newBodyBudget() *semaphore.Weighted { return semaphore.NewWeighted(bodyBudget) }

// allowUploads raises the limits of the routes that take files: case
// and inspection photos and household sheets for staff, voice messages for villagers.
// Every other route keeps its default.
func (s *Server) allowUploads() {
	photos := int64(appliance.MaxCasePhotos*appliance.MaxPhotoBytes + 64<<10)
	sheet := int64(maxImportBytes + 64<<10)
	s.allowBody(fiber.MethodPost, "/staff/cases/new", photos, false)
	s.allowBody(fiber.MethodPost, "/staff/assess/findings", photos, false)
	s.allowBody(fiber.MethodPost, "/staff/households/import", sheet, false)
	s.allowBody(fiber.MethodPost, "/api/v1/import/dry-run", sheet, false)
	s.allowBody(fiber.MethodPost, "/api/v1/import/commit", sheet, false)
	// A villager's voice message, the only upload without a login.
	voice := int64(appliance.MaxVoiceBytes + 64<<10)
	s.allowBody(fiber.MethodPost, "/report/:category", voice, true)
	s.allowBody(fiber.MethodPost, "/api/v1/kiosk/cases", voice, true)
}
