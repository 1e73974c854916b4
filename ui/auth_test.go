package ui_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

func TestLogin(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})

	t.Run("OK", func(t *testing.T) {
		c := srv.Client(t)
		c.Login("villagelead")
		status, body := c.Get("/staff")
		if status != http.StatusOK || !strings.Contains(body, "工作台") || !strings.Contains(body, "第一村民组") {
			t.Fatalf("dashboard: %d %s", status, uitest.Text(body))
		}
	})

	t.Run("ErrWrongPassword", func(t *testing.T) {
		c := srv.Client(t)
		status, _, body := c.Post("/login", url.Values{"username": {"dutystaff"}, "password": {"wrong-pass1"}})
		if status != http.StatusUnauthorized || !strings.Contains(body, "用户名或密码错误") {
			t.Fatalf("got %d %s", status, uitest.Text(body))
		}
		if status, _ := c.Get("/staff"); status != http.StatusSeeOther {
			t.Fatalf("staff page without session: %d, want redirect to login", status)
		}
	})

	t.Run("ErrEmptyFieldsNamed", func(t *testing.T) {
		c := srv.Client(t)
		_, _, body := c.Post("/login", url.Values{"username": {""}, "password": {"x"}})
		if !strings.Contains(body, "请填写用户名") {
			t.Fatalf("got %s", uitest.Text(body))
		}
	})

	t.Run("Lockout", func(t *testing.T) {
		// The inspector logged in once from their own computer (a LAN address).
		own := srv.ClientFrom(t, "127.0.0.8")
		own.Login("inspector")
		own.Post("/logout", nil)
		// Someone else on the LAN guesses until the account locks.
		c := srv.ClientFrom(t, "127.0.0.7")
		for i := 0; i < srv.Config.HTTP.LockAfter; i++ {
			c.Post("/login", url.Values{"username": {"inspector"}, "password": {"wrong-pass1"}})
		}
		// Now even the right password is refused from an unknown browser…
		status, _, body := c.Post("/login", url.Values{"username": {"inspector"}, "password": {uitest.Password}})
		if status != http.StatusTooManyRequests || !strings.Contains(body, "锁定") {
			t.Fatalf("got %d %s", status, uitest.Text(body))
		}
		if status, _, _ := srv.ClientFrom(t, "127.0.0.9").Post("/login", url.Values{"username": {"inspector"}, "password": {uitest.Password}}); status != http.StatusTooManyRequests {
			t.Fatalf("right password from another unknown browser while locked: %d", status)
		}
		// …but the owner's own browser and the kiosk screen still get in.
		own.Login("inspector")
		srv.Client(t).Login("inspector")
		// The admin can unlock at once.
		for i := 0; i < srv.Config.HTTP.LockAfter; i++ {
			c.Post("/login", url.Values{"username": {"inspector"}, "password": {"wrong-pass1"}})
		}
		if err := srv.Store.UnlockLogin("inspector"); err != nil {
			t.Fatal(err)
		}
		srv.ClientFrom(t, "127.0.0.9").Login("inspector")
	})

	t.Run("CookieFlags", func(t *testing.T) {
		c := srv.Client(t)
		form := url.Values{"username": {"gridleader"}, "password": {uitest.Password}, "_csrf": {c.CSRF()}}
		resp, err := c.HTTP.PostForm(srv.URL+"/login", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var found bool
		for _, h := range resp.Header.Values("Set-Cookie") {
			if strings.HasPrefix(h, "gb_session=") {
				found = true
				if !strings.Contains(h, "HttpOnly") || !strings.Contains(strings.ToLower(h), "samesite=strict") {
					t.Fatalf("session cookie flags: %s", h)
				}
			}
		}
		if !found {
			t.Fatal("no session cookie")
		}
	})

	t.Run("Logout", func(t *testing.T) {
		c := srv.Client(t)
		c.Login("dutystaff")
		if status, loc, _ := c.Post("/logout", nil); status != http.StatusSeeOther || loc != "/" {
			t.Fatalf("logout: %d %s", status, loc)
		}
		if status, _ := c.Get("/staff"); status != http.StatusSeeOther {
			t.Fatalf("after logout: %d", status)
		}
	})
}

func TestCSRF(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	c := srv.Client(t)
	c.Login("villagelead")
	before, _ := srv.Store.Stats()

	// A form posted without the token (as from another site) is refused and writes nothing.
	resp, err := c.HTTP.PostForm(srv.URL+"/staff/notices", url.Values{"title": {"伪造"}, "body": {"x"}, "published": {"2026-11-28"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("post without CSRF token: %d, want 403", resp.StatusCode)
	}
	// A wrong token is refused too.
	if status, _, _ := c.Post("/staff/notices", url.Values{"_csrf": {"not-the-token-at-all-xx"}, "title": {"伪造"}, "body": {"x"}, "published": {"2026-11-28"}}); status != http.StatusForbidden {
		t.Fatalf("post with wrong token: %d", status)
	}
	after, _ := srv.Store.Stats()
	if after.Entries != before.Entries {
		t.Fatalf("refused posts wrote %d entries", after.Entries-before.Entries)
	}
	// With the token it works.
	if status, loc, body := c.Post("/staff/notices", url.Values{"title": {"停水通知"}, "body": {"明天上午停水。"}, "published": {"2026-11-28"}}); status != http.StatusSeeOther {
		t.Fatalf("post with token: %d %s %s", status, loc, uitest.Text(body))
	}
}

func TestFirstLoginMustChangePassword(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	u := appliance.User{ID: "u-newbie", Username: "newbie", Name: "新同志", Role: appliance.RoleDutyStaff, Grid: srv.Config.Node.Code}
	if err := srv.Store.CreateUser(t.Context(), "", u, "onetime123", true); err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)
	status, loc, _ := c.Post("/login", url.Values{"username": {"newbie"}, "password": {"onetime123"}})
	if status != http.StatusSeeOther || loc != "/password?first=1" {
		t.Fatalf("login with one-time password: %d %s", status, loc)
	}
	// Every staff page sends them back to the password form.
	if status, _ := c.Get("/staff"); status != http.StatusSeeOther {
		t.Fatalf("dashboard before change: %d", status)
	}
	// Bad new passwords are refused naming the field.
	_, _, body := c.Post("/password", url.Values{"old_password": {"onetime123"}, "password": {"short"}, "password2": {"short"}})
	if !strings.Contains(body, "密码至少8位") || !strings.Contains(body, `name="password" type="password" autocomplete="new-password" required minlength="8" aria-invalid="true"`) {
		t.Fatalf("short password: %s", uitest.Text(body))
	}
	_, _, body = c.Post("/password", url.Values{"old_password": {"onetime123"}, "password": {"newpass123"}, "password2": {"newpass124"}})
	if !strings.Contains(body, "两次输入的新密码不一致") {
		t.Fatalf("mismatch: %s", uitest.Text(body))
	}
	for _, weak := range []string{"password1", "woaini1314", "newbie2026", "12345678a"} {
		_, _, body = c.Post("/password", url.Values{"old_password": {"onetime123"}, "password": {weak}, "password2": {weak}})
		if !strings.Contains(body, "容易被猜到") && !strings.Contains(body, "太常见") {
			t.Fatalf("weak password %q: %s", weak, uitest.Text(body))
		}
	}
	if status, loc, body := c.Post("/password", url.Values{"old_password": {"onetime123"}, "password": {"xh-duty-7731"}, "password2": {"xh-duty-7731"}}); status != http.StatusSeeOther || loc != "/staff?changed=1" {
		t.Fatalf("change: %d %s %s", status, loc, uitest.Text(body))
	}
	if status, _ := c.Get("/staff"); status != http.StatusOK {
		t.Fatalf("dashboard after change: %d", status)
	}
}

func TestKioskSessionIdle(t *testing.T) {
	// The test client is on 127.0.0.1, which the default configuration
	// treats as the kiosk screen.
	srv := uitest.MustStart(t, uitest.Options{Tune: func(cfg *appliance.Config) {
		cfg.HTTP.KioskIdle = appliance.Duration{Duration: 1 * time.Second}
	}})
	c := srv.Client(t)
	c.Login("dutystaff")
	status, body := c.Get("/staff")
	if status != http.StatusOK {
		t.Fatalf("dashboard: %d", status)
	}
	// Without JavaScript the page itself returns to the kiosk home.
	if !strings.Contains(body, `<noscript><meta http-equiv="refresh" content="1;url=/idle"></noscript>`) {
		t.Fatal("kiosk staff page lacks the idle refresh")
	}
	time.Sleep(2100 * time.Millisecond)
	status, _ = c.Get("/staff")
	if status != http.StatusSeeOther {
		t.Fatalf("after idle: %d, want redirect", status)
	}
	resp, err := c.HTTP.Get(srv.URL + "/staff")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/login") && !strings.HasPrefix(loc, "/?idle") {
		t.Fatalf("after idle: location %q", loc)
	}

	// A non-kiosk session (another address) does not end so soon.
	srv2 := uitest.MustStart(t, uitest.Options{Tune: func(cfg *appliance.Config) {
		cfg.HTTP.KioskIdle = appliance.Duration{Duration: 1 * time.Second}
		cfg.HTTP.KioskAddrs = nil
	}})
	c2 := srv2.Client(t)
	c2.Login("dutystaff")
	time.Sleep(1100 * time.Millisecond)
	if status, body := c2.Get("/staff"); status != http.StatusOK || strings.Contains(body, "url=/idle") {
		t.Fatalf("office session: %d", status)
	}
}

func TestPermissions(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	c := srv.Client(t)
	c.Login("dutystaff")
	if status, body := c.Get("/staff/users"); status != http.StatusForbidden || !strings.Contains(body, "没有此项权限") {
		t.Fatalf("duty staff on users page: %d %s", status, uitest.Text(body))
	}
	// API answers with JSON errors.
	resp, err := c.HTTP.Get(srv.URL + "/api/v1/grids")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("grids: %d", resp.StatusCode)
	}
	anon := srv.Client(t)
	resp2, err := anon.HTTP.Get(srv.URL + "/api/v1/grids")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var e struct {
		Error struct{ Code, Message, Field string }
	}
	if err := json.NewDecoder(resp2.Body).Decode(&e); err != nil {
		t.Fatal(err)
	}
	if resp2.StatusCode != http.StatusUnauthorized || e.Error.Code != "unauthorized" || e.Error.Message == "" {
		t.Fatalf("anonymous API: %d %+v", resp2.StatusCode, e)
	}
}

func TestAPIToken(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	c := srv.Client(t)
	c.Login("villagelead")
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/token", nil)
	req.Header.Set("X-CSRF-Token", c.CSRF())
	resp, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || !strings.HasPrefix(tok.Token, "gbt_") {
		t.Fatalf("token: %d %+v", resp.StatusCode, tok)
	}
	// A script posts with the token and no cookies or CSRF.
	body := `{"title":"通知","body":"今晚开会。","published":"2026-11-28"}`
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/api/v1/notices", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("post with token: %d", resp.StatusCode)
	}
	// Bad input gets a field error and writes nothing.
	before, _ := srv.Store.Stats()
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/api/v1/notices", strings.NewReader(`{"title":"","body":"x"}`))
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		Error struct{ Code, Message, Field string }
	}
	json.NewDecoder(resp.Body).Decode(&e)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || e.Error.Field != "title" || !strings.Contains(e.Error.Message, "标题") {
		t.Fatalf("bad notice: %d %+v", resp.StatusCode, e)
	}
	if after, _ := srv.Store.Stats(); after.Entries != before.Entries {
		t.Fatal("refused request wrote entries")
	}
	// A wrong token is refused.
	req, _ = http.NewRequest(http.MethodGet, srv.URL+"/api/v1/me", nil)
	req.Header.Set("Authorization", "Bearer gbt_wrong")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", resp.StatusCode)
	}
}

func TestUserManagement(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	lead := srv.Client(t)
	lead.Login("villagelead")
	// Bad input names the field and writes nothing.
	before, _ := srv.Store.Stats()
	status, _, body := lead.Post("/staff/users", url.Values{"username": {"9bad"}, "name": {"张三"}, "role": {"duty_staff"}})
	if status != http.StatusBadRequest || !strings.Contains(body, "用户名须以小写字母开头") || !strings.Contains(body, `name="username" value="9bad" required aria-invalid="true"`) {
		t.Fatalf("bad username: %d %s", status, uitest.Text(body))
	}
	if after, _ := srv.Store.Stats(); after.Entries != before.Entries {
		t.Fatal("refused form wrote entries")
	}
	status, _, body = lead.Post("/staff/users", url.Values{"username": {"zhangsan"}, "name": {"张三"}, "role": {"duty_staff"}})
	m := regexp.MustCompile(`<b class="password">([a-z0-9]+)</b>`).FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		t.Fatalf("create: %d %s", status, uitest.Text(body))
	}
	// The new user must change the one-time password at first login.
	c := srv.Client(t)
	if status, loc, _ := c.Post("/login", url.Values{"username": {"zhangsan"}, "password": {m[1]}}); status != http.StatusSeeOther || loc != "/password?first=1" {
		t.Fatalf("first login: %d %s", status, loc)
	}
	// Disabling ends the user's sessions.
	if status, _, _ := lead.Post("/staff/users/u-zhangsan", url.Values{"action": {"disable"}}); status != http.StatusSeeOther {
		t.Fatalf("disable: %d", status)
	}
	if status, _ := c.Get("/password"); status != http.StatusSeeOther {
		t.Fatalf("disabled user's session still works: %d", status)
	}
	if status, _, _ := c.Post("/login", url.Values{"username": {"zhangsan"}, "password": {m[1]}}); status != http.StatusUnauthorized {
		t.Fatalf("disabled user logs in: %d", status)
	}
	// A village lead may not create an admin.
	_, _, body = lead.Post("/staff/users", url.Values{"username": {"boss"}, "name": {"老板"}, "role": {"admin"}})
	if !strings.Contains(body, "只有系统管理员") {
		t.Fatalf("lead created admin: %s", uitest.Text(body))
	}
}
