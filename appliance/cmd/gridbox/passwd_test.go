package main_test

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// lanBrowser is a browser on another machine of the village LAN (a
// loopback address other than the kiosk screen's 127.0.0.1).
type lanBrowser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newLANBrowser(t *testing.T, base, ip string) *lanBrowser {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	return &lanBrowser{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport:     &http.Transport{DialContext: d.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfFieldRE = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// login posts the login form and returns the status and where it leads.
func (b *lanBrowser) login(user, password string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + "/login")
	if err != nil {
		b.t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfFieldRE.FindSubmatch(page)
	if m == nil {
		b.t.Fatalf("no CSRF field on the login page")
	}
	resp, err = b.c.PostForm(b.base+"/login", url.Values{"_csrf": {string(m[1])}, "username": {user}, "password": {password}})
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

var oneTimeRE = regexp.MustCompile(`one-time password (\S+)`)

// TestPasswdAndUnlock: with the admin locked out by someone on the LAN,
// whoever holds the box gets back in with `gridbox unlock` or `gridbox
// passwd`, while the node serves and while it does not.
func TestPasswdAndUnlock(t *testing.T) {
	data := filepath.Join(t.TempDir(), "node")
	mustToken(t, data)                                                // admin password admin1234
	n := startServe(t, data, freePort(t), nil, "--tls-listen", "off") // the LAN logins here go over HTTP
	attacker := newLANBrowser(t, n.url, "127.0.0.2")
	lockAdmin := func() {
		t.Helper()
		for i := 0; i < 5; i++ {
			attacker.login("admin", "guess-pass-1")
		}
		if status, _ := attacker.login("admin", "admin1234"); status != http.StatusTooManyRequests {
			t.Fatalf("admin not locked after five wrong passwords: %d", status)
		}
	}
	lockAdmin()
	if out, code := gridbox(t, "unlock", "--data", data, "--user", "admin"); code != 0 || !strings.Contains(out, "unlocked") {
		t.Fatalf("unlock while serving: exit %d: %s", code, out)
	}
	if status, _ := newLANBrowser(t, n.url, "127.0.0.3").login("admin", "admin1234"); status != http.StatusSeeOther {
		t.Fatalf("admin after unlock: %d", status)
	}
	lockAdmin()
	out, code := gridbox(t, "passwd", "--data", data, "--user", "admin")
	m := oneTimeRE.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("passwd while serving: exit %d: %s", code, out)
	}
	if status, loc := newLANBrowser(t, n.url, "127.0.0.3").login("admin", m[1]); status != http.StatusSeeOther || loc != "/password?first=1" {
		t.Fatalf("login with the new one-time password: %d %s", status, loc)
	}
	if status, _ := newLANBrowser(t, n.url, "127.0.0.4").login("admin", "admin1234"); status != http.StatusUnauthorized {
		t.Fatalf("old password after passwd: %d", status)
	}
	// Refusals name what is wrong.
	if out, code := gridbox(t, "passwd", "--data", data, "--user", "nobody"); code != 1 || !strings.Contains(out, "nobody") {
		t.Fatalf("passwd of an unknown user: exit %d: %s", code, out)
	}
	if out, code := gridbox(t, "passwd", "--data", data); code != 2 || !strings.Contains(out, "--user is required") {
		t.Fatalf("passwd without --user: exit %d: %s", code, out)
	}
	// With the node stopped, the file is opened directly.
	n.cmd.Process.Kill()
	n.cmd.Wait()
	if out, code := gridbox(t, "unlock", "--data", data); code != 0 || !strings.Contains(out, "every login lock lifted") {
		t.Fatalf("unlock of a stopped node: exit %d: %s", code, out)
	}
	if out, code := gridbox(t, "passwd", "--data", data, "--user", "lead"); code != 0 || !oneTimeRE.MatchString(out) {
		t.Fatalf("passwd of a stopped node: exit %d: %s", code, out)
	}
}
