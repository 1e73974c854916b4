package main_test

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestStaffOverHTTPS: the box serves staff pages over HTTPS with its own
// certificate (the one whose fingerprint init printed and the system page
// shows); a LAN browser asking for a staff page over plain HTTP is sent
// there before it can type a password, whatever headers it sends; the
// kiosk and the box's own screen stay on HTTP.
func TestStaffOverHTTPS(t *testing.T) {
	data := filepath.Join(t.TempDir(), "node")
	out, err := exec.Command(binPath, "init", "--data", data, "--role", "village", "--code", "410184104201", "--name", "杏花村").CombinedOutput()
	if err != nil {
		t.Fatalf("init: %v %s", err, out)
	}
	fp := regexp.MustCompile(`fingerprint \(SHA-256\): ([0-9A-F:]{95})`).FindSubmatch(out)
	pw := regexp.MustCompile(`one-time password: (\S+)`).FindSubmatch(out)
	if fp == nil || pw == nil {
		t.Fatalf("init printed no certificate fingerprint or password:\n%s", out)
	}
	httpAddr, tlsAddr := freePort(t), freePort(t)
	n := startServe(t, data, httpAddr, nil, "--tls-listen", tlsAddr)
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)

	lan := func(insecure bool) *http.Client {
		jar, _ := cookiejar.New(nil)
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
		return &http.Client{Jar: jar, Timeout: 10 * time.Second,
			Transport:     &http.Transport{DialContext: d.DialContext, TLSClientConfig: &tls.Config{InsecureSkipVerify: insecure}},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	do := func(c *http.Client, method, u string, hdr map[string]string, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, u, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}

	plain := lan(false)
	// Staff pages over HTTP from the LAN go to HTTPS, even with a forged
	// X-Forwarded-Proto.
	for _, hdr := range []map[string]string{nil, {"X-Forwarded-Proto": "https", "X-Forwarded-Ssl": "on"}} {
		resp, _ := do(plain, "GET", n.url+"/login", hdr, "")
		if want := "https://127.0.0.1:" + tlsPort + "/login"; resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
			t.Fatalf("GET /login over HTTP from the LAN (%v): %d %q, want a redirect to %s", hdr, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
	if resp, body := do(plain, "POST", n.url+"/login", nil, "username=admin&password=x"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "https://") {
		t.Fatalf("POST /login over HTTP from the LAN: %d", resp.StatusCode)
	}
	if resp, _ := do(plain, "GET", n.url+"/api/v1/me", map[string]string{"Authorization": "Bearer gbt_x"}, ""); resp.StatusCode != http.StatusFound {
		t.Fatalf("API with a token over HTTP from the LAN: %d", resp.StatusCode)
	}
	// The kiosk stays on HTTP; so does the box's own screen.
	if resp, body := do(plain, "GET", n.url+"/", nil, ""); resp.StatusCode != 200 || !strings.Contains(body, "我要反映问题") {
		t.Fatalf("kiosk over HTTP: %d", resp.StatusCode)
	}
	if resp, _ := do(&http.Client{CheckRedirect: plain.CheckRedirect}, "GET", n.url+"/login", nil, ""); resp.StatusCode != 200 {
		t.Fatalf("login page on the box's own screen: %d", resp.StatusCode)
	}

	// Over HTTPS: the certificate is the one init reported; login works and
	// the session cookie is Secure.
	conn, err := tls.Dial("tcp", tlsAddr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(conn.ConnectionState().PeerCertificates[0].Raw)
	conn.Close()
	got := strings.ToUpper(hex.EncodeToString(sum[:]))
	if want := strings.ReplaceAll(string(fp[1]), ":", ""); got != want {
		t.Fatalf("served certificate %s, init reported %s", got, want)
	}
	secure := lan(true)
	base := "https://127.0.0.1:" + tlsPort
	resp, page := do(secure, "GET", base+"/login", nil, "")
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("login page over HTTPS: %d", resp.StatusCode)
	}
	resp, _ = do(secure, "POST", base+"/login", nil, url.Values{"_csrf": {m[1]}, "username": {"admin"}, "password": {string(pw[1])}}.Encode())
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login over HTTPS: %d", resp.StatusCode)
	}
	var flags string
	for _, h := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(h, "gb_session=") {
			flags = h
		}
	}
	if !strings.Contains(strings.ToLower(flags), "; secure") || !strings.Contains(flags, "HttpOnly") {
		t.Fatalf("session cookie over HTTPS: %q", flags)
	}
	// The one-time password is changed first; then the system page shows
	// the same fingerprint.
	_, page = do(secure, "GET", base+"/password?first=1", nil, "")
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if resp, _ := do(secure, "POST", base+"/password", nil, url.Values{"_csrf": {csrf[1]}, "old_password": {string(pw[1])}, "password": {"xh-admin-8842"}, "password2": {"xh-admin-8842"}}.Encode()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change over HTTPS: %d", resp.StatusCode)
	}
	resp, page = do(secure, "GET", base+"/staff/system", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(page, string(fp[1])) {
		t.Fatalf("system page over HTTPS: %d, fingerprint shown: %v", resp.StatusCode, strings.Contains(page, string(fp[1])))
	}
	// The page says whether rare characters of names can print.
	if _, err := os.Stat("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf"); err == nil || os.Getenv("CI") == "true" {
		if !strings.Contains(page, "生僻字字体") || !strings.Contains(page, "HanaMinB") {
			t.Errorf("the system page does not name the fallback font for rare characters")
		}
	}
}
