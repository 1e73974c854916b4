package main_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestFlood attacks a box from its LAN as the outside assessment did, with
// the default limits: twelve clients sending 60 MB bodies, four filing
// reports as fast as they can, twenty guessing the admin's password, all
// at once. The box stays within its memory, keeps answering the kiosk
// screen (whose villagers still file their reports), files no more reports
// than its allowance, and still lets the admin in from the duty room.
// GRIDBOX_LOAD=1 makes the flood last 60 s instead of 8 (the figure in
// docs/performance.md).
func TestFlood(t *testing.T) {
	seconds := 8
	if loadEnv("GRIDBOX_LOAD", 0) != 0 {
		seconds = loadEnv("GRIDBOX_LOAD_SECONDS", 60)
	}
	data := filepath.Join(t.TempDir(), "node")
	out, err := exec.Command(binPath, "init", "--data", data, "--role", "village", "--code", "410184104201", "--name", "杏花村").CombinedOutput()
	if err != nil {
		t.Fatalf("init: %v %s", err, out)
	}
	adminPW := regexp.MustCompile(`one-time password: (\S+)`).FindSubmatch(out)[1]
	n := startServe(t, data, freePort(t), nil, "--tls-listen", "off")
	rss := sampleRSS(n.cmd.Process.Pid)
	deadline := time.Now().Add(time.Duration(seconds) * time.Second)
	var wg sync.WaitGroup

	// Twelve clients with 60 MB bodies, each refused after its headers.
	var bodies, bodiesRefused atomic.Int64
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			host := strings.TrimPrefix(n.url, "http://")
			for time.Now().Before(deadline) {
				c := lanClient(fmt.Sprintf("127.0.3.%d", 1+i))
				req, _ := http.NewRequest("POST", n.url+"/report/public_affairs", io.LimitReader(zeroReader{}, 60<<20))
				req.ContentLength = 60 << 20
				req.Host = host
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, err := c.Do(req)
				bodies.Add(1)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusRequestEntityTooLarge {
						bodiesRefused.Add(1)
					}
				} else {
					bodiesRefused.Add(1) // the server closed the connection on the body
				}
			}
		}(i)
	}
	// Four clients filing reports as fast as they can.
	var filed, limited atomic.Int64
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := lanClient(fmt.Sprintf("127.0.4.%d", 1+i))
			csrf := csrfOf(t, c, n.url+"/report/public_affairs")
			for time.Now().Before(deadline) {
				resp, err := c.PostForm(n.url+"/report/public_affairs", url.Values{"_csrf": {csrf}, "description": {"洪水一样的假报告"}})
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case 200:
					filed.Add(1)
				case http.StatusTooManyRequests:
					limited.Add(1)
				}
			}
		}(i)
	}
	// Twenty clients guessing the admin's password.
	var guesses atomic.Int64
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := lanClient(fmt.Sprintf("127.0.5.%d", 1+i))
			csrf := csrfOf(t, c, n.url+"/login")
			for k := 0; time.Now().Before(deadline); k++ {
				resp, err := c.PostForm(n.url+"/login", url.Values{"_csrf": {csrf}, "username": {"admin"}, "password": {fmt.Sprintf("guess-%d-%d", i, k)}})
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					guesses.Add(1)
				}
			}
		}(i)
	}
	// Meanwhile villagers at the kiosk screen (127.0.0.1) look and report.
	screen := lanClient("127.0.0.1")
	screenCSRF := csrfOf(t, screen, n.url+"/report/livelihood")
	var screenOK, screenTries int
	for time.Now().Before(deadline) {
		screenTries++
		resp, err := screen.Get(n.url + "/")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if err == nil && resp.StatusCode == 200 {
			resp, err = screen.PostForm(n.url+"/report/livelihood", url.Values{"_csrf": {screenCSRF}, "description": {"村里的路灯坏了两盏"}})
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					screenOK++
				}
			}
		}
		time.Sleep(3 * time.Second) // a villager every few seconds
	}
	wg.Wait()
	peak, anon := rss.Stop()
	t.Logf("flood %d s: %d big bodies (%d refused), %d reports filed and %d refused from the LAN, %d password guesses; the screen filed %d of %d; peak RSS %.1f MiB (anonymous %.1f MiB)",
		seconds, bodies.Load(), bodiesRefused.Load(), filed.Load(), limited.Load(), guesses.Load(), screenOK, screenTries, float64(peak)/(1<<20), float64(anon)/(1<<20))

	if anon > 128<<20 {
		t.Errorf("anonymous memory peaked at %.1f MiB, over 128 MiB", float64(anon)/(1<<20))
	}
	if bodiesRefused.Load() != bodies.Load() {
		t.Errorf("%d of %d 60 MB bodies were taken", bodies.Load()-bodiesRefused.Load(), bodies.Load())
	}
	// The LAN's allowance: 5 a device at once, 60 in all at once, then 60 an hour.
	if max := int64(60 + seconds/60 + 1); filed.Load() > max {
		t.Errorf("%d flood reports filed, more than the allowance of %d", filed.Load(), max)
	}
	if screenOK != screenTries {
		t.Errorf("the kiosk screen filed %d of %d reports during the flood", screenOK, screenTries)
	}
	// The admin, locked out by the guessing, still gets in at the screen.
	c := lanClient("127.0.0.1")
	csrf := csrfOf(t, c, n.url+"/login")
	resp, err := c.PostForm(n.url+"/login", url.Values{"_csrf": {csrf}, "username": {"admin"}, "password": {string(adminPW)}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the admin at the kiosk screen after the flood: %d", resp.StatusCode)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// csrfOf loads a page with c and returns the CSRF token its forms carry
// (the gb_csrf cookie it set).
func csrfOf(t *testing.T, c *http.Client, page string) string {
	t.Helper()
	resp, err := c.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	u, _ := url.Parse(page)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "gb_csrf" {
			return ck.Value
		}
	}
	t.Fatalf("no CSRF token from %s (%d)", page, resp.StatusCode)
	return ""
}
