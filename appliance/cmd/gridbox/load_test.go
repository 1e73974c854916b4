package main_test

import (
	"crypto/tls"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// The load benchmark (issue 12's figures): a demo village box with a real
// town node it syncs to, 100 kiosk clients and 10 staff on the LAN for 60
// s, on this machine's 2 cores. Opt-in, as it takes minutes:
//
//	GRIDBOX_LOAD=1 go test ./appliance/cmd/gridbox -run TestLoad -v -count=1 -timeout 20m
//
// GRIDBOX_LOAD_SECONDS, GRIDBOX_LOAD_KIOSKS and GRIDBOX_LOAD_THINK (ms
// between a kiosk client's requests, default 0: as fast as answered) change
// the run. The rate limits are raised for it, so that every request does
// its full work; TestFlood shows them at their defaults.

func loadEnv(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return v
	}
	return def
}

// latencies collects request times of one kind.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *latencies) pct(p float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	sort.Slice(l.d, func(i, j int) bool { return l.d[i] < l.d[j] })
	return l.d[min(len(l.d)-1, int(float64(len(l.d))*p))]
}

func (l *latencies) n() int { l.mu.Lock(); defer l.mu.Unlock(); return len(l.d) }

// rssSampler records a process's peak resident memory, and its peak
// anonymous part (without the bbolt file's pages mapped in memory, which
// the kernel can drop at will).
type rssSampler struct {
	peak, anon atomic.Int64
	stop       chan struct{}
	done       chan struct{}
}

func sampleRSS(pid int) *rssSampler {
	r := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
				for _, f := range []struct {
					re   *regexp.Regexp
					peak *atomic.Int64
				}{{vmRSSRE, &r.peak}, {rssAnon, &r.anon}} {
					if m := f.re.FindSubmatch(b); m != nil {
						kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
						if kb*1024 > f.peak.Load() {
							f.peak.Store(kb * 1024)
						}
					}
				}
			}
			select {
			case <-r.stop:
				return
			case <-t.C:
			}
		}
	}()
	return r
}

var (
	vmRSSRE = regexp.MustCompile(`VmRSS:\s+(\d+) kB`)
	rssAnon = regexp.MustCompile(`RssAnon:\s+(\d+) kB`)
)

// Stop ends the sampling and returns the peaks: all resident, anonymous.
func (r *rssSampler) Stop() (int64, int64) {
	close(r.stop)
	<-r.done
	return r.peak.Load(), r.anon.Load()
}

// lanClient is a browser on the LAN at ip.
func lanClient(ip string) *http.Client {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 4,
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // the box's own certificate
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var (
	csrfRE    = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	codeRE    = regexp.MustCompile(`id="receipt-code">([^<]+)<`)
	pinRE     = regexp.MustCompile(`id="receipt-pin">([0-9]{4})<`)
	caseRefRE = regexp.MustCompile(`href="/staff/cases/([0-9A-Z]{4}-[0-9A-Z]{4})"`)
)

// setupCluster makes a demo town and a demo village enrolled with it, the
// village's rate limits raised; it returns their data folders.
func setupCluster(t *testing.T, raise bool) (town, village string, gossipTown, gossipVillage string) {
	t.Helper()
	dir := t.TempDir()
	town, village = filepath.Join(dir, "town"), filepath.Join(dir, "village")
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(binPath, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("gridbox %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	key := run("replication", "--new-key")
	gossipTown, gossipVillage = freePort(t), freePort(t)
	run("demo", "--role", "town", "--data", town)
	run("replication", "--data", town, "--bind", gossipTown, "--keys", key, "--fast")
	run("demo", "--data", village, "--town-data", town)
	run("replication", "--data", village, "--bind", gossipVillage, "--parent", gossipTown, "--keys", key, "--fast")
	run("enrol", "--data", town, "--key", run("replication", "--data", village, "--show-key"), "--code", "410184104201", "--name", "杏花村")
	if raise {
		path := filepath.Join(village, appliance.ConfigFile)
		cfg, err := appliance.LoadConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		lots := appliance.Rate{N: 1000000, Per: time.Minute}
		cfg.Limits.ReportsPerClient, cfg.Limits.ReportsAll, cfg.Limits.ReportsScreen, cfg.Limits.PostsPerClient = lots, lots, lots, lots
		os.Remove(path)
		if err := appliance.WriteConfig(path, cfg); err != nil {
			t.Fatal(err)
		}
	}
	return town, village, gossipTown, gossipVillage
}

func TestLoad(t *testing.T) {
	if os.Getenv("GRIDBOX_LOAD") == "" {
		t.Skip("GRIDBOX_LOAD=1 runs the load benchmark (minutes)")
	}
	seconds, kiosks, think := loadEnv("GRIDBOX_LOAD_SECONDS", 60), loadEnv("GRIDBOX_LOAD_KIOSKS", 100), loadEnv("GRIDBOX_LOAD_THINK", 0)
	townDir, villageDir, _, _ := setupCluster(t, true)
	tn := startNodeWith(t, townDir, freePort(t))
	tlsAddr := freePort(t)
	pprofAddr := ""
	if os.Getenv("GRIDBOX_LOAD_DEBUG") != "" {
		pprofAddr = freePort(t)
		os.Setenv("GRIDBOX_PPROF", pprofAddr)
	}
	vn := startServe(t, villageDir, freePort(t), nil, "--tls-listen", tlsAddr)
	os.Unsetenv("GRIDBOX_PPROF")
	if pprofAddr != "" {
		go func() {
			time.Sleep(time.Duration(seconds) * time.Second / 2)
			for _, p := range []string{"heap", "goroutine", "allocs"} {
				if resp, err := http.Get("http://" + pprofAddr + "/debug/pprof/" + p); err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					os.WriteFile(filepath.Join(os.TempDir(), "gridbox-load-"+p+".pprof"), b, 0o644)
				}
			}
		}()
	}
	staffURL := "https://" + tlsAddr // staff on the LAN work over HTTPS
	rss := sampleRSS(vn.cmd.Process.Pid)

	var report, track, home, staff latencies
	staffClients := map[*http.Client]bool{}
	staffClient := func(ip string) *http.Client {
		c := lanClient(ip)
		staffClients[c] = true
		return c
	}
	var errs atomic.Int64
	var firstErr atomic.Value
	fail := func(what string, status int, err error) {
		if errs.Add(1) == 1 {
			firstErr.Store(fmt.Sprintf("%s: %d %v", what, status, err))
		}
	}
	base := func(c *http.Client) string {
		if staffClients[c] {
			return staffURL
		}
		return vn.url
	}
	get := func(c *http.Client, path string, l *latencies) (string, bool) {
		t0 := time.Now()
		resp, err := c.Get(base(c) + path)
		if err != nil {
			fail("GET "+path, 0, err)
			return "", false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if l != nil {
			l.add(time.Since(t0))
		}
		if resp.StatusCode != 200 {
			fail("GET "+path, resp.StatusCode, nil)
			return "", false
		}
		return string(b), true
	}
	post := func(c *http.Client, path string, form url.Values, l *latencies) (string, int) {
		t0 := time.Now()
		resp, err := c.PostForm(base(c)+path, form)
		if err != nil {
			fail("POST "+path, 0, err)
			return "", 0
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if l != nil {
			l.add(time.Since(t0))
		}
		return string(b), resp.StatusCode
	}
	deadline := time.Now().Add(time.Duration(seconds) * time.Second)
	var wg sync.WaitGroup
	var reports atomic.Int64
	groups := []string{"410184104201-01", "410184104201-02", "410184104201-03", "410184104201-04"}
	for i := 0; i < kiosks; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := lanClient(fmt.Sprintf("127.0.1.%d", 1+i%250))
			r := rand.New(rand.NewPCG(uint64(i), 7))
			pause := func() {
				if think > 0 {
					time.Sleep(time.Duration(think/2+r.IntN(think+1)) * time.Millisecond)
				}
			}
			for time.Now().Before(deadline) {
				_, ok := get(c, "/", &home)
				if !ok {
					continue
				}
				pause()
				_, ok = get(c, "/report/public_affairs", nil)
				m := cookieToken(c, base(c))
				if !ok || m == nil {
					fail("report form", 0, nil)
					continue
				}
				pause()
				body, status := post(c, "/report/public_affairs", url.Values{"_csrf": {m[1]}, "description": {fmt.Sprintf("第%d号终端：村东头路灯坏了", i)}, "group": {groups[r.IntN(len(groups))]}}, &report)
				code, pin := codeRE.FindStringSubmatch(body), pinRE.FindStringSubmatch(body)
				if status != 200 || code == nil || pin == nil {
					fail("report", status, nil)
					continue
				}
				reports.Add(1)
				pause()
				body, status = post(c, "/track", url.Values{"_csrf": {m[1]}, "code": {code[1]}, "pin": {pin[1]}}, &track)
				if status != 200 || !strings.Contains(body, code[1]) {
					fail("track", status, nil)
				}
				pause()
			}
		}(i)
	}
	users := []string{"duty", "leader", "lead", "duty", "leader", "lead", "duty", "leader", "lead", "lead"}[:loadEnv("GRIDBOX_LOAD_STAFF", 10)]
	clients := make([]*http.Client, len(users))
	for i := range users {
		clients[i] = staffClient(fmt.Sprintf("127.0.2.%d", 1+i))
	}
	lead := staffClient("127.0.2.99")
	for i, user := range users {
		wg.Add(1)
		go func(i int, user string) {
			defer wg.Done()
			c := clients[i]
			page, _ := get(c, "/login", nil)
			m := csrfRE.FindStringSubmatch(page)
			if m == nil {
				fail("staff login page", 0, nil)
				return
			}
			if _, status := post(c, "/login", url.Values{"_csrf": {m[1]}, "username": {user}, "password": {"demo1234"}, "next": {"/staff"}}, nil); status != http.StatusSeeOther {
				fail("staff login", status, nil)
				return
			}
			for time.Now().Before(deadline) {
				get(c, "/staff", &staff)
				list, _ := get(c, "/staff/cases", &staff)
				if m := caseRefRE.FindStringSubmatch(list); m != nil {
					get(c, "/staff/cases/"+m[1], &staff)
				}
				if user != "duty" {
					get(c, "/staff/households?q=wang", &staff)
				}
				get(c, "/api/v1/cases?limit=20", &staff)
				time.Sleep(500 * time.Millisecond)
			}
		}(i, user)
	}
	wg.Wait()
	peak, anon := rss.Stop()
	// The town, syncing throughout, ends with every report: wait for the
	// village to see its parent caught up, then compare the files.
	page, _ := get(lead, "/login", nil)
	if m := csrfRE.FindStringSubmatch(page); m != nil {
		post(lead, "/login", url.Values{"_csrf": {m[1]}, "username": {"lead"}, "password": {"demo1234"}}, nil)
	}
	t0 := time.Now()
	behind := regexp.MustCompile(`"relation":"parent"[^}]*"behind":(\d+)`)
	for time.Since(t0) < 60*time.Second {
		body, _ := get(lead, "/api/v1/replication", nil)
		if m := behind.FindStringSubmatch(body); m != nil && m[1] == "0" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	caughtUp := time.Since(t0)
	for _, n := range []*node{vn, tn} {
		n.cmd.Process.Kill()
		n.cmd.Wait()
	}
	if os.Getenv("GRIDBOX_LOAD_DEBUG") != "" {
		t.Logf("village output:\n%s", tail(vn.out.String(), 6000))
	}
	vh, th := headOf(t, villageDir), headOf(t, townDir, villageDir)
	caught := fmt.Sprintf("village head %d, the town holds %d, %v after the load", vh, th, caughtUp.Round(100*time.Millisecond))
	if th != vh {
		t.Errorf("the town did not catch up: %s", caught)
	}
	t.Logf("load: %d s, %d kiosk clients (think %d ms), 10 staff, 1 town syncing", seconds, kiosks, think)
	t.Logf("kiosk report: n=%d p50 %v p99 %v", report.n(), report.pct(.5), report.pct(.99))
	t.Logf("progress lookup: n=%d p50 %v p99 %v", track.n(), track.pct(.5), track.pct(.99))
	t.Logf("kiosk home: n=%d p50 %v p99 %v", home.n(), home.pct(.5), home.pct(.99))
	t.Logf("staff pages: n=%d p50 %v p99 %v", staff.n(), staff.pct(.5), staff.pct(.99))
	t.Logf("errors: %d %v; peak RSS %.1f MiB (anonymous %.1f MiB, the rest the data file's mapped pages); sync: %s", errs.Load(), firstErr.Load(), float64(peak)/(1<<20), float64(anon)/(1<<20), caught)
	if errs.Load() > 0 {
		t.Errorf("%d errors, the first: %v", errs.Load(), firstErr.Load())
	}
}

// headOf returns the highest sequence number held in dir of the feed of
// the node in feedDir (dir's own feed when feedDir is not given).
func headOf(t *testing.T, dir string, feedDir ...string) uint64 {
	t.Helper()
	own := dir
	if len(feedDir) > 0 {
		own = feedDir[0]
	}
	key, err := appliance.ReadNodeKey(filepath.Join(own, bolt.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := bolt.OpenDataDir(dir, &bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	heads, err := s.Heads()
	if err != nil {
		t.Fatal(err)
	}
	feed := appliance.NewSigner(key).Feed
	for _, h := range heads {
		if h.Feed == feed {
			return h.Seq
		}
	}
	return 0
}

// cookieToken returns the CSRF token the kiosk's forms carry (the gb_csrf
// cookie the last page set), as a submatch pair like csrfRE's.
func cookieToken(c *http.Client, base string) []string {
	u, _ := url.Parse(base + "/")
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == "gb_csrf" {
			return []string{"", ck.Value}
		}
	}
	return nil
}
