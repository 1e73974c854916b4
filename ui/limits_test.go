package ui_test

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/ui/internal/uitest"
)

// rawRequest sends head (and then body, unless the server has answered
// already) on a new connection and returns the status line and how many
// body bytes the server let through before it answered.
func rawRequest(t *testing.T, base, head string, body io.Reader) (string, int64) {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	answered := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(conn).ReadString('\n')
		answered <- strings.TrimSpace(line)
	}()
	var sent int64
	buf := make([]byte, 32<<10)
	for body != nil {
		select {
		case line := <-answered:
			return line, sent
		default:
		}
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := conn.Write(buf[:n]); werr != nil {
				break // the server closed: it refused the rest
			}
			sent += int64(n)
		}
		if err == io.EOF {
			break
		}
	}
	return <-answered, sent
}

// zeros is an endless body.
type zeros struct{ left int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), z.left)
	clear(p[:n])
	z.left -= n
	return int(n), nil
}

func TestBodyLimits(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	host := strings.TrimPrefix(srv.URL, "http://")

	t.Run("AnonymousLargeRefusedBeforeRead", func(t *testing.T) {
		// 60 MB announced: refused after the headers, long before 60 MB.
		head := "POST /report/public_affairs HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 62914560\r\n\r\n"
		line, sent := rawRequest(t, srv.URL, head, &zeros{60 << 20})
		if !strings.Contains(line, " 413 ") {
			t.Fatalf("status line %q, want 413", line)
		}
		if sent > 8<<20 {
			t.Fatalf("server took %d bytes before refusing", sent)
		}
	})
	t.Run("AnonymousChunkedOverLimit", func(t *testing.T) {
		var b bytes.Buffer
		for i := 0; i < 40; i++ { // 40 KB in 1 KB chunks, no length announced
			fmt.Fprintf(&b, "400\r\n%s\r\n", strings.Repeat("a", 1024))
		}
		b.WriteString("0\r\n\r\n")
		head := "POST /api/v1/track HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
		line, _ := rawRequest(t, srv.URL, head, &b)
		if !strings.Contains(line, " 413 ") {
			t.Fatalf("status line %q, want 413", line)
		}
	})
	t.Run("AnonymousSmallAccepted", func(t *testing.T) {
		c := srv.Client(t)
		status, _, body := c.Post("/track", url.Values{"code": {"ABCD-EFGH"}, "pin": {"1234"}})
		if status == http.StatusRequestEntityTooLarge || status >= 500 {
			t.Fatalf("small kiosk form: %d %s", status, uitest.Text(body))
		}
	})
	t.Run("StaffJSONOverLimit", func(t *testing.T) {
		c := srv.Client(t)
		c.Login("villagelead")
		u, _ := url.Parse(srv.URL)
		var cookies []string
		for _, ck := range c.HTTP.Jar.Cookies(u) {
			cookies = append(cookies, ck.Name+"="+ck.Value)
		}
		big := `{"name":"` + strings.Repeat("x", 2<<20) + `"}`
		head := fmt.Sprintf("POST /api/v1/notices HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nCookie: %s\r\nX-CSRF-Token: %s\r\nContent-Length: %d\r\n\r\n",
			host, strings.Join(cookies, "; "), c.CSRF(), len(big))
		if line, _ := rawRequest(t, srv.URL, head, strings.NewReader(big)); !strings.Contains(line, " 413 ") {
			t.Fatalf("2 MB staff JSON: %q, want 413", line)
		}
		// 100 KB is over the anonymous limit and within the staff one.
		mid := `{"title":"` + strings.Repeat("x", 100<<10) + `"}`
		head = strings.Replace(head, fmt.Sprint(len(big)), fmt.Sprint(len(mid)), 1)
		if line, _ := rawRequest(t, srv.URL, head, strings.NewReader(mid)); strings.Contains(line, " 413 ") || !strings.Contains(line, " 400 ") {
			t.Fatalf("100 KB staff JSON: %q, want the handler's 400", line)
		}
	})
	t.Run("StaffPhotoUploadAccepted", func(t *testing.T) {
		// A 3 MB photo on the patrol form is over the plain staff limit and
		// within the upload route's.
		c := srv.Client(t)
		c.Login("gridleader")
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		mw.WriteField("_csrf", c.CSRF())
		mw.WriteField("source", appliance.SourcePatrol)
		mw.WriteField("category", "public_affairs")
		mw.WriteField("description", "路边发现死猪")
		mw.WriteField("group", appliance.GroupCode("410184104201", 1))
		fw, _ := mw.CreateFormFile("photos", "big.png")
		fw.Write(noisyPNG(t, 1000, 1000))
		mw.Close()
		if b.Len() < 1<<20 {
			t.Fatalf("test photo too small: %d bytes", b.Len())
		}
		req, _ := http.NewRequest("POST", srv.URL+"/staff/cases/new", &b)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := c.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("patrol report with a %d-byte body: %d %s", b.Len(), resp.StatusCode, uitest.Text(string(body)))
		}
	})
}

func TestRateLimitReports(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{Tune: func(cfg *appliance.Config) {
		cfg.Limits.ReportsPerClient = appliance.Rate{N: 3, Per: 10 * time.Minute}
		cfg.Limits.ReportsAll = appliance.Rate{N: 5, Per: time.Hour}
		cfg.Limits.ReportsScreen = appliance.Rate{N: 4, Per: 10 * time.Minute}
	}})
	report := func(c *uitest.Client) (int, string) {
		status, _, body := c.Post("/report/public_affairs", url.Values{"description": {"村东头路灯坏了"}, "group": {appliance.GroupCode("410184104201", 2)}})
		return status, body
	}
	// One LAN device: three, then refused with when to come back and the duty phone.
	lan := srv.ClientFrom(t, "127.0.0.2")
	for i := 0; i < 3; i++ {
		if status, body := report(lan); status != http.StatusOK {
			t.Fatalf("report %d: %d %s", i+1, status, uitest.Text(body))
		}
	}
	status, body := report(lan)
	if status != http.StatusTooManyRequests {
		t.Fatalf("4th report from one device: %d, want 429", status)
	}
	for _, want := range []string{"提交太频繁", "0371-62581234", "分钟后再试"} {
		if !strings.Contains(uitest.Text(body), want) {
			t.Errorf("refusal page lacks %q: %s", want, uitest.Text(body))
		}
	}
	// Other LAN devices share the LAN's allowance: two more, then none.
	other := srv.ClientFrom(t, "127.0.0.3")
	for i := 0; i < 2; i++ {
		if status, body := report(other); status != http.StatusOK {
			t.Fatalf("device 2 report %d: %d %s", i+1, status, uitest.Text(body))
		}
	}
	if status, _ := report(srv.ClientFrom(t, "127.0.0.4")); status != http.StatusTooManyRequests {
		t.Fatalf("report past the LAN's allowance: %d, want 429", status)
	}
	// The kiosk screen keeps its own allowance during the flood.
	screen := srv.Client(t)
	for i := 0; i < 4; i++ {
		if status, body := report(screen); status != http.StatusOK {
			t.Fatalf("kiosk screen report %d during a LAN flood: %d %s", i+1, status, uitest.Text(body))
		}
	}
	if status, _ := report(screen); status != http.StatusTooManyRequests {
		t.Fatalf("5th report from the screen: %d, want 429", status)
	}
	// The API says the same in JSON, with Retry-After.
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/kiosk/cases", strings.NewReader(`{"category":"public_affairs","description":"路灯坏了"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", lan.CSRF())
	resp, err := lan.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), `"code":"too_many_requests"`) {
		t.Fatalf("API report past the limit: %d Retry-After=%q %s", resp.StatusCode, resp.Header.Get("Retry-After"), b)
	}
	// Nothing refused was stored: 3 + 2 + 4 cases.
	cs, err := bolt.NewCases(srv.Store, srv.Config)
	if err != nil {
		t.Fatal(err)
	}
	st, err := cs.Stats(bolt.CaseStatsFilter{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if st.Total != 9 {
		t.Fatalf("%d cases stored, want 9", st.Total)
	}
	// Staff on a limited device are not limited by the kiosk's allowance.
	duty := srv.ClientFrom(t, "127.0.0.2")
	duty.Login("dutystaff")
	status, _, body = duty.Post("/staff/cases/new", url.Values{"source": {appliance.SourcePhone}, "category": {"public_affairs"}, "description": {"来电反映路灯坏了"}, "group": {appliance.GroupCode("410184104201", 2)}})
	if status != http.StatusOK {
		t.Fatalf("duty staff registering from a limited device: %d %s", status, uitest.Text(body))
	}
}

// noisyPNG is a PNG of random pixels: it does not compress.
func noisyPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = byte(r.Uint32())
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRateLimitAnonymousPosts(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{Tune: func(cfg *appliance.Config) {
		cfg.Limits.PostsPerClient = appliance.Rate{N: 10, Per: time.Minute}
	}})
	c := srv.ClientFrom(t, "127.0.0.5")
	var codes []int
	for i := 0; i < 12; i++ {
		// A different code each time: wrong PINs lock a code on their own.
		code := fmt.Sprintf("ABCD-EF%02d", 10+i)
		code = strings.NewReplacer("0", "A", "1", "B").Replace(code)
		status, _, _ := c.Post("/track", url.Values{"code": {code}, "pin": {"1234"}})
		codes = append(codes, status)
	}
	for i, s := range codes {
		if want := i >= 10; (s == http.StatusTooManyRequests) != want {
			t.Fatalf("lookup %d: status %d (all: %v)", i+1, s, codes)
		}
	}
	// Another device is not affected.
	if status, _, _ := srv.ClientFrom(t, "127.0.0.6").Post("/track", url.Values{"code": {"ABCD-EFGH"}, "pin": {"1234"}}); status == http.StatusTooManyRequests {
		t.Fatal("another device was limited too")
	}
}
