package ui

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

const (
	cookieSession = "gb_session"
	cookieCSRF    = "gb_csrf"
	cookieKiosk   = "gb_kiosk"
)

// loadSession puts the logged-in user (session cookie, or an API token for
// scripts) into the request's locals.
func (s *Server) loadSession(c *fiber.Ctx) error {
	if auth := c.Get(fiber.HeaderAuthorization); strings.HasPrefix(auth, "Bearer ") {
		u, err := s.Store.APITokenUser(strings.TrimPrefix(auth, "Bearer "))
		if err != nil {
			return err
		}
		c.Locals("user", &u)
		c.Locals("apitoken", true)
		return c.Next()
	}
	token := c.Cookies(cookieSession)
	if token == "" {
		return c.Next()
	}
	idle, kioskIdle := s.Config.HTTP.SessionIdle.Duration, s.Config.HTTP.KioskIdle.Duration
	sess, err := s.Store.Session(token, idle, kioskIdle)
	if errors.Is(err, bolt.ErrNoSession) {
		s.clearCookie(c, cookieSession)
		if sess.Kiosk && !isAPI(c) && c.Method() == fiber.MethodGet && c.Path() != "/" {
			// A kiosk session that ran out returns to the kiosk home.
			return c.Redirect("/?idle=1", fiber.StatusSeeOther)
		}
		return c.Next()
	} else if err != nil {
		return err
	}
	if s.endKioskSession(c, token) { // ui/kiosk_mode.go
		return c.Next()
	}
	u, err := s.Store.User(sess.UserID)
	if err != nil || u.Disabled {
		s.Store.DeleteSession(token)
		s.clearCookie(c, cookieSession)
		return c.Next()
	}
	c.Locals("user", &u)
	c.Locals("session", &sess)
	return c.Next()
}

func currentUser(c *fiber.Ctx) *appliance.User {
	u, _ := c.Locals("user").(*appliance.User)
	return u
}

func currentSession(c *fiber.Ctx) *appliance.Session {
	sess, _ := c.Locals("session").(*appliance.Session)
	return sess
}

// actor is the author id written into entries.
func actor(c *fiber.Ctx) string {
	if u := currentUser(c); u != nil {
		return u.ID
	}
	return ""
}

// require lets the request through only for a logged-in user with perm;
// pages send people to the login form, the API answers 401/403.
func (s *Server) require(perm appliance.Permission) fiber.Handler {
	return func(c *fiber.Ctx) error {
		u := currentUser(c)
		if u == nil {
			if isAPI(c) {
				return appliance.Errorf(appliance.EUNAUTHORIZED, "请先登录")
			}
			return c.Redirect("/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
		}
		if perm != "" && !u.Can(perm) {
			return appliance.Errorf(appliance.EFORBIDDEN, "您的账号（%s）没有此项权限", u.Role.Label())
		}
		// Someone with a one-time password must choose a new one first.
		if sess := currentSession(c); sess != nil && !isAPI(c) && c.Path() != "/password" {
			if must, _ := s.Store.MustChangePassword(u.ID); must {
				return c.Redirect("/password?first=1", fiber.StatusSeeOther)
			}
		}
		return c.Next()
	}
}

// isKiosk reports whether the request comes from the kiosk screen: the box's
// own browser (a configured address) or a device marked with ?kiosk=1, and
// not unmarked with ?kiosk=0.
func (s *Server) isKiosk(c *fiber.Ctx) bool {
	switch c.Cookies(cookieKiosk) {
	case "1":
		return true
	case "0":
		return false
	}
	ip := c.IP()
	for _, a := range s.Config.HTTP.KioskAddrs {
		if a == ip {
			return true
		}
	}
	return false
}

func (s *Server) setCookie(c *fiber.Ctx, name, value string, maxAge time.Duration, httpOnly bool) {
	c.Cookie(&fiber.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   int(maxAge.Seconds()),
		HTTPOnly: httpOnly,
		SameSite: fiber.CookieSameSiteStrictMode,
		Secure:   c.Protocol() == "https",
	})
}

func (s *Server) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(1, 0), HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode})
}

// CSRF: every state-changing request must carry, in the form field _csrf or
// the X-CSRF-Token header, the value of the gb_csrf cookie (SameSite=Strict,
// so other sites can neither read nor send it). Requests with an API token
// carry no ambient credentials and are exempt.
func (s *Server) checkCSRF(c *fiber.Ctx) error {
	token := c.Cookies(cookieCSRF)
	if token == "" || len(token) < 20 {
		b := make([]byte, 24)
		rand.Read(b)
		token = base64.RawURLEncoding.EncodeToString(b)
		s.setCookie(c, cookieCSRF, token, 0, true)
	}
	c.Locals("csrf", token)
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if c.Locals("apitoken") == true {
		return c.Next()
	}
	sent := c.Get("X-CSRF-Token")
	if sent == "" {
		sent = c.FormValue("_csrf")
	}
	if c.Cookies(cookieCSRF) == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(c.Cookies(cookieCSRF))) != 1 {
		return appliance.Errorf(appliance.EFORBIDDEN, "页面已过期，请返回后刷新页面再提交")
	}
	return c.Next()
}

func csrfToken(c *fiber.Ctx) string {
	t, _ := c.Locals("csrf").(string)
	return t
}

func (s *Server) showLogin(c *fiber.Ctx) error {
	s.setKioskMode(c)
	return s.render(c, "login", fiber.Map{"Title": "工作人员登录", "Next": safeNext(c.Query("next"))})
}

func (s *Server) submitLogin(c *fiber.Ctx) error {
	username, password := c.FormValue("username"), c.FormValue("password")
	next := safeNext(c.FormValue("next"))
	fail := func(err error) error {
		c.Status(statusOf[appliance.ErrorCode(err)])
		return s.render(c, "login", fiber.Map{"Title": "工作人员登录", "Error": appliance.ErrorMessage(err), "Username": username, "Next": next})
	}
	if strings.TrimSpace(username) == "" {
		return fail(appliance.FieldError("username", "请填写用户名"))
	} else if password == "" {
		return fail(appliance.FieldError("password", "请填写密码"))
	}
	policy := bolt.LoginPolicy{LockAfter: s.Config.HTTP.LockAfter, LockFor: s.Config.HTTP.LockFor.Duration, Delay: s.LoginDelay}
	u, mustChange, err := s.Store.Authenticate(c.UserContext(), username, password, policy)
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		s.Log.Info("login failed", "code", appliance.ErrorCode(err))
		return fail(err)
	}
	if old := c.Cookies(cookieSession); old != "" {
		s.Store.DeleteSession(old)
	}
	sess, err := s.Store.CreateSession(u.ID, s.isKiosk(c))
	if err != nil {
		return err
	}
	s.setCookie(c, cookieSession, sess.Token, 0, true)
	s.Log.Info("login", "user", u.ID, "kiosk", sess.Kiosk)
	if mustChange {
		return c.Redirect("/password?first=1", fiber.StatusSeeOther)
	}
	return c.Redirect(next, fiber.StatusSeeOther)
}

// safeNext keeps redirects on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, "\\") {
		return "/staff"
	}
	return next
}

func (s *Server) submitLogout(c *fiber.Ctx) error {
	if token := c.Cookies(cookieSession); token != "" {
		s.Store.DeleteSession(token)
	}
	s.clearCookie(c, cookieSession)
	return c.Redirect("/", fiber.StatusSeeOther)
}

// idleLogout is where a kiosk page goes when its staff session runs idle.
func (s *Server) idleLogout(c *fiber.Ctx) error {
	if sess := currentSession(c); sess != nil && sess.Kiosk {
		s.Store.DeleteSession(c.Cookies(cookieSession))
		s.clearCookie(c, cookieSession)
	}
	return c.Redirect("/?idle=1", fiber.StatusSeeOther)
}

func (s *Server) showPassword(c *fiber.Ctx) error {
	return s.render(c, "password", fiber.Map{"Title": "修改密码", "First": c.Query("first") == "1"})
}

func (s *Server) submitPassword(c *fiber.Ctx) error {
	u := currentUser(c)
	old, pw, pw2 := c.FormValue("old_password"), c.FormValue("password"), c.FormValue("password2")
	fail := func(err error) error {
		c.Status(fiber.StatusBadRequest)
		return s.render(c, "password", fiber.Map{"Title": "修改密码", "Error": appliance.ErrorMessage(err), "Field": appliance.ErrorField(err)})
	}
	policy := bolt.LoginPolicy{LockAfter: s.Config.HTTP.LockAfter, LockFor: s.Config.HTTP.LockFor.Duration, Delay: s.LoginDelay}
	if _, _, err := s.Store.Authenticate(c.UserContext(), u.Username, old, policy); err != nil {
		return fail(appliance.FieldError("old_password", "原密码不正确"))
	}
	if pw != pw2 {
		return fail(appliance.FieldError("password2", "两次输入的新密码不一致"))
	}
	if pw == old {
		return fail(appliance.FieldError("password", "新密码不能与原密码相同"))
	}
	if err := s.Store.SetPassword(u.ID, pw, false); err != nil {
		return fail(err)
	}
	return c.Redirect("/staff?changed=1", fiber.StatusSeeOther)
}
