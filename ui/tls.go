package ui

import (
	"net"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// Staff pages go over HTTPS (the box's own certificate, see
// appliance.EnsureTLSCert); plain HTTP stays for the kiosk and for the
// box's own screen (127.0.0.1). A browser on the LAN that asks for a staff
// page over HTTP is sent to HTTPS before it can type a password; a script
// with a token over HTTP from the LAN is refused. The scheme is the
// connection's, never a header's (fiber's Protocol would believe
// X-Forwarded-Proto from anyone).

// SetTLS tells the server its HTTPS port and certificate fingerprint.
func (s *Server) SetTLS(port, fingerprint string) {
	s.tlsPort, s.tlsFingerprint = port, fingerprint
}

// ServeListener serves on another listener (the HTTPS one) until the
// server shuts down.
func (s *Server) ServeListener(ln net.Listener) error { return s.app.Listener(ln) }

func isTLS(c *fiber.Ctx) bool { return c.Context().IsTLS() }

// staffRequest reports a request that carries or asks for staff access.
func staffRequest(c *fiber.Ctx) bool {
	p := c.Path()
	return p == "/login" || p == "/logout" || p == "/password" || p == "/idle" || strings.HasPrefix(p, "/staff") ||
		c.Cookies(cookieSession) != "" || c.Get(fiber.HeaderAuthorization) != ""
}

// requireTLS sends staff requests from the LAN over plain HTTP to HTTPS.
func (s *Server) requireTLS(c *fiber.Ctx) error {
	if s.tlsPort == "" || isTLS(c) || isLocal(c) || !staffRequest(c) {
		return c.Next()
	}
	target := "https://" + net.JoinHostPort(hostOnly(c.Hostname()), s.tlsPort) + c.OriginalURL()
	if c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		return c.Redirect(target, fiber.StatusFound)
	}
	return appliance.Errorf(appliance.EFORBIDDEN, "工作人员请用加密地址 %s 登录和提交（本机证书指纹见“系统”页）", "https://"+net.JoinHostPort(hostOnly(c.Hostname()), s.tlsPort)+"/")
}

// hostOnly strips a port from a Host header value.
func hostOnly(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		return host
	}
	if u, err := url.Parse("//" + h); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return h
}
