package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
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
	cookieDevice  = "gb_device" // a browser's device token: logins from it are known to the account
)

// deviceCookieAge is how long a browser stays known to an account.
const deviceCookieAge = 365 * 24 * time.Hour

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
		// Someone with a one-time password must choose a new one before
		// anything else, through the API too.
		if !mayUseBeforeChange(c) {
			if must, err := s.Store.MustChangePassword(u.ID); err != nil {
				return err
			} else if must {
				if isAPI(c) {
					return appliance.FieldError("password", "请先修改初始密码（POST /api/v1/password），之后才能使用其他功能")
				}
				return c.Redirect("/password?first=1", fiber.StatusSeeOther)
			}
		}
		return c.Next()
	}
}

// mayUseBeforeChange are the routes open to an account that still has its
// one-time password: changing it, and saying who one is.
func mayUseBeforeChange(c *fiber.Ctx) bool {
	switch c.Path() {
	case "/password", "/logout", "/api/v1/password", "/api/v1/me":
		return true
	}
	return false
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
	return s.isKioskScreen(c)
}

func (s *Server) setCookie(c *fiber.Ctx, name, value string, maxAge time.Duration, httpOnly bool) {
	c.Cookie(&fiber.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   int(maxAge.Seconds()),
		HTTPOnly: httpOnly,
		SameSite: fiber.CookieSameSiteStrictMode,
		Secure:   isTLS(c),
	})
}

func (s *Server) clearCookie(c *fiber.Ctx, name string) {
	c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(1, 0), HTTPOnly: true, SameSite: fiber.CookieSameSiteStrictMode})
}

// CSRF: every state-changing request carries, in the form field _csrf or
// the X-CSRF-Token header, the request's CSRF token. With a session it is
// the session's own token, kept on the server, so a cookie planted by
// someone else is worth nothing. Without one it is the gb_csrf cookie
// (SameSite=Strict, HttpOnly), which must carry the box's signature: a
// value an attacker makes up is refused. Requests with an API token carry
// no ambient credentials and are exempt.
func (s *Server) checkCSRF(c *fiber.Ctx) error {
	var token string
	if sess := currentSession(c); sess != nil && sess.CSRF != "" {
		token = sess.CSRF
	} else if t := c.Cookies(cookieCSRF); s.validAnonCSRF(t) {
		token = t
	} else {
		token = s.newAnonCSRF()
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
	if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
		if isAPI(c) {
			return appliance.Errorf(appliance.EFORBIDDEN, "缺少或错误的 CSRF 令牌：用 Cookie 登录的请求须在 X-CSRF-Token 请求头中带上它；脚本请改用 API 令牌（Authorization: Bearer …）")
		}
		return appliance.Errorf(appliance.EFORBIDDEN, "页面已过期，请返回后刷新页面再提交")
	}
	return c.Next()
}

// newAnonCSRF makes a signed token for a browser without a session:
// a random nonce and its HMAC under the node's secret.
func (s *Server) newAnonCSRF() string {
	b := make([]byte, 18)
	rand.Read(b)
	nonce := base64.RawURLEncoding.EncodeToString(b)
	return nonce + "." + s.csrfMAC(nonce)
}

func (s *Server) validAnonCSRF(t string) bool {
	nonce, mac, ok := strings.Cut(t, ".")
	return ok && len(nonce) == 24 && subtle.ConstantTimeCompare([]byte(mac), []byte(s.csrfMAC(nonce))) == 1
}

func (s *Server) csrfMAC(nonce string) string {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte("csrf|" + nonce))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18])
}

func csrfToken(c *fiber.Ctx) string {
	t, _ := c.Locals("csrf").(string)
	return t
}

// loginPolicy is the configured lockout.
func (s *Server) loginPolicy() bolt.LoginPolicy {
	return bolt.LoginPolicy{LockAfter: s.Config.HTTP.LockAfter, LockAfterAddr: s.Config.HTTP.LockAfterAddr, LockFor: s.Config.HTTP.LockFor.Duration, Delay: s.LoginDelay}
}

// loginAttempt describes a login from this request; device is the
// browser's device token (made now if it has none).
func (s *Server) loginAttempt(c *fiber.Ctx, username, password string) bolt.LoginAttempt {
	dev := c.Cookies(cookieDevice)
	if len(dev) < 40 {
		dev = bolt.NewDeviceToken()
	}
	return bolt.LoginAttempt{Username: username, Password: password, Addr: c.IP(), Device: dev, Screen: s.isKioskScreen(c)}
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
	attempt := s.loginAttempt(c, username, password)
	u, mustChange, err := s.Store.Authenticate(c.UserContext(), attempt, s.loginPolicy())
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
	s.setCookie(c, cookieCSRF, sess.CSRF, 0, true)
	s.setCookie(c, cookieDevice, attempt.Device, deviceCookieAge, true)
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
	s.setCookie(c, cookieCSRF, s.newAnonCSRF(), 0, true) // the session's token ends with it
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
		c.Status(statusOf[appliance.ErrorCode(err)])
		return s.render(c, "password", fiber.Map{"Title": "修改密码", "Error": appliance.ErrorMessage(err), "Field": appliance.ErrorField(err)})
	}
	if pw != pw2 {
		return fail(appliance.FieldError("password2", "两次输入的新密码不一致"))
	}
	if err := s.changePassword(c, u, old, pw); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return fail(err)
	}
	return c.Redirect("/staff?changed=1", fiber.StatusSeeOther)
}

// changePassword checks the old password like a login (counted, locked)
// and the new one against the policy, then sets it: every other session
// and every API token of the user ends.
func (s *Server) changePassword(c *fiber.Ctx, u *appliance.User, old, pw string) error {
	if _, _, err := s.Store.Authenticate(c.UserContext(), s.loginAttempt(c, u.Username, old), s.loginPolicy()); err != nil {
		if appliance.ErrorCode(err) != appliance.EUNAUTHORIZED {
			return err
		}
		return appliance.FieldError("old_password", "原密码不正确")
	}
	if pw == old {
		return appliance.FieldError("password", "新密码不能与原密码相同")
	}
	if err := appliance.CheckPasswordStrength(pw, u.Username, u.Name, s.Config.Node.Name); err != nil {
		return err
	}
	keep := ""
	if sess := currentSession(c); sess != nil {
		keep = sess.Token
	}
	if err := s.Store.SetPassword(u.ID, pw, false, keep); err != nil {
		return err
	}
	s.Log.Info("password changed", "user", u.ID)
	return nil
}
