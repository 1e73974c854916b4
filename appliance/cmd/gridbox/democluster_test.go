package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// TestDemoCluster runs make demo-cluster's script (a town and two villages,
// on free ports, in a temporary folder), follows its walkthrough — the town
// operator dispatches and resolves a case that waits at the town, the
// village's kiosk shows the result — and then checks that every village case
// the town holds is the same case at the town and at its village, and that
// every node verifies.
func TestDemoCluster(t *testing.T) {
	dir, httpBase, out, stop := startDemoCluster(t)
	text := out.String()
	town := fmt.Sprintf("http://127.0.0.1:%d", httpBase)
	if !regexp.MustCompile(`accounts: admin town dept inspector`).MatchString(text) || !strings.Contains(text, "demo1234") {
		t.Errorf("the town's accounts and password are not printed:\n%s", text)
	}
	// What waits at the town, as printed for each village.
	type receipt struct{ code, pin, url string }
	waiting := map[int][]receipt{}
	re := regexp.MustCompile(`waiting at the town: case (\S+) \(PIN (\d{4})\), progress (http://127\.0\.0\.1:(\d+)/scan\?token=\S+)`)
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		var port int
		fmt.Sscan(m[4], &port)
		waiting[port-httpBase] = append(waiting[port-httpBase], receipt{m[1], m[2], m[3]})
	}
	if len(waiting[1]) == 0 || len(waiting[2]) == 0 || len(waiting) != 2 {
		t.Fatalf("want cases waiting at the town for villages 1 and 2, got %v:\n%s", waiting, text)
	}

	// 1. The town operator logs in and finds them waiting.
	s := login(t, town, "town", "demo1234")
	_, page := s.get("/staff/cases?level=town&status=pending")
	for _, rs := range waiting {
		for _, r := range rs {
			if !strings.Contains(page, r.code) {
				t.Errorf("the town's list of waiting cases lacks %s", r.code)
			}
		}
	}
	// The printed PIN opens the receipt at the kiosk of the village.
	other := waiting[2][0]
	jar, _ := cookiejar.New(nil)
	kiosk := &session{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", httpBase+2), c: &http.Client{Jar: jar, Timeout: 10 * time.Second}}
	kiosk.get("/track")
	code, body := postJSON(t, kiosk.c, kiosk.base+"/api/v1/track", kiosk.csrf(), map[string]string{"code": other.code, "pin": other.pin})
	if code != http.StatusOK || !strings.Contains(body, `"level":"town"`) || !strings.Contains(body, `"status":"pending"`) {
		t.Errorf("track %s with its PIN at village 2: %d %s", other.code, code, body)
	}

	// 2. It dispatches one and records the department's result.
	c := waiting[1][0]
	const result = "演示：已责令停止并整改完毕"
	for _, step := range []struct{ action, body string }{
		{"dispatch", `{"departments":["镇自然资源所"],"text":"请核查处理"}`},
		{"resolve", `{"text":"` + result + `"}`},
	} {
		code, body := postJSON(t, s.c, town+"/api/v1/cases/"+c.code+"/"+step.action, s.csrf(), json.RawMessage(step.body))
		if code != http.StatusOK {
			t.Fatalf("%s %s at the town: %d %s", step.action, c.code, code, body)
		}
	}

	// 3. The village's kiosk shows the result for the receipt.
	var progress string
	for i := 0; i < 200 && !strings.Contains(progress, result); i++ {
		time.Sleep(50 * time.Millisecond)
		if resp, err := http.Get(c.url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			progress = string(b)
		}
	}
	if !strings.Contains(progress, result) || !strings.Contains(progress, "乡镇办结") {
		t.Fatalf("the village's progress page of %s shows no town result after 10 s:\n%s", c.code, pageText(progress))
	}

	stop()
	// Every case of a village is the same at the town and at the village.
	tStore, tCfg, err := bolt.OpenDataDir(filepath.Join(dir, "town"), &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	tcs, _ := bolt.NewCases(tStore, tCfg)
	total, waitingAtTown := 0, 0
	for i := 1; i <= 2; i++ {
		vs, vCfg, err := bolt.OpenDataDir(filepath.Join(dir, fmt.Sprintf("village%d", i)), &bolt.Options{NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		vcs, _ := bolt.NewCases(vs, vCfg)
		vc, _, err := vcs.FindCases(bolt.CaseFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		village := vCfg.Node.Code
		tc, _, err := tcs.FindCases(bolt.CaseFilter{Village: &village, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(vc) < 100 || len(vc) != len(tc) {
			t.Errorf("village %s: %d cases, the town holds %d of them", village, len(vc), len(tc))
		}
		for k := 0; k < len(vc) && k < len(tc); k++ {
			a, _ := json.Marshal(vc[k])
			b, _ := json.Marshal(tc[k])
			if !bytes.Equal(a, b) {
				t.Errorf("case %s differs:\nvillage %s\ntown    %s", vc[k].ID, a, b)
				break
			}
			if tc[k].Level == appliance.CaseLevelTown && tc[k].Status == appliance.StatusPending {
				waitingAtTown++
			}
			if vc[k].ID == c.code && (vc[k].Status != appliance.StatusResolved || vc[k].Result != result) {
				t.Errorf("dispatched case at the village: %s %q", vc[k].Status, vc[k].Result)
			}
		}
		total += len(tc)
		// The feeds the two share have the same heads: nothing in flight.
		down, _ := tStore.DownFeed(village)
		for _, f := range []appliance.FeedID{vs.Feed(), down} {
			if a, b := head(t, vs, f), head(t, tStore, f); a != b || a == 0 {
				t.Errorf("village %s, feed %s: seq %d at the village, %d at the town", village, f, a, b)
			}
		}
		vs.Close()
	}
	all, _, err := tcs.FindCases(bolt.CaseFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != total {
		t.Errorf("the town holds %d cases, its villages %d", len(all), total)
	}
	if waitingAtTown == 0 {
		t.Error("no case is left waiting at the town")
	}
	tStore.Close()
	for _, node := range []string{"town", "village1", "village2"} {
		if out, code := gridbox(t, "verify", "--data", filepath.Join(dir, node)); code != 0 {
			t.Errorf("verify %s: exit %d: %s", node, code, out)
		}
	}
}

// pageText is a page without its markup, for messages.
func pageText(html string) string {
	return strings.Join(strings.Fields(regexp.MustCompile(`(?s)<head>.*</head>|<[^>]*>`).ReplaceAllString(html, " ")), " ")
}

// startDemoCluster runs the script with two villages on free ports until it
// is ready; stop ends it. A port taken between the choice and the start
// costs a new cluster (its ports are in its configuration), at most twice.
func startDemoCluster(t *testing.T) (dir string, httpBase int, out *syncBuffer, stop func()) {
attempts:
	for attempt := 1; ; attempt++ {
		dir = filepath.Join(t.TempDir(), "cluster")
		httpBase = freePortRun(t, 3, false)
		gossipBase := freePortRun(t, 3, true)
		for gossipBase > httpBase-3 && gossipBase < httpBase+3 {
			gossipBase = freePortRun(t, 3, true)
		}
		tlsBase := freePortRun(t, 3, false)
		for tlsBase > httpBase-3 && tlsBase < httpBase+3 {
			tlsBase = freePortRun(t, 3, false)
		}
		cmd := exec.Command("sh", filepath.Join("..", "..", "..", "replicate", "demo-cluster.sh"))
		cmd.Env = append(cmd.Environ(), "BIN="+binPath, "DIR="+dir, "VILLAGES=2",
			fmt.Sprintf("HTTP=%d", httpBase), fmt.Sprintf("GOSSIP=%d", gossipBase), fmt.Sprintf("TLS=%d", tlsBase))
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the script and its nodes, to end together
		out = &syncBuffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		var once sync.Once
		stop = func() {
			once.Do(func() {
				syscall.Kill(cmd.Process.Pid, syscall.SIGTERM) // its trap stops the nodes
				select {
				case <-done:
				case <-time.After(15 * time.Second):
					t.Error("the demo cluster did not stop on SIGTERM")
					syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the script's group, nodes included
					<-done
				}
			})
		}
		t.Cleanup(stop)
		deadline := time.After(120 * time.Second)
		for !strings.Contains(out.String(), "Ctrl-C stops the cluster.") {
			select {
			case <-done:
				logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
				for _, l := range logs {
					b, _ := os.ReadFile(l)
					t.Logf("%s:\n%s", filepath.Base(l), b)
				}
				if strings.Contains(out.String(), "did not start") && attempt < 3 {
					t.Logf("attempt %d: a port was taken; again on others", attempt)
					continue attempts
				}
				t.Fatalf("demo-cluster.sh exited:\n%s", out)
			case <-deadline:
				t.Fatalf("demo-cluster.sh not ready:\n%s", out)
			case <-time.After(50 * time.Millisecond):
			}
		}
		return dir, httpBase, out, stop
	}
}

func head(t *testing.T, s *bolt.Store, f appliance.FeedID) uint64 {
	t.Helper()
	heads, err := s.Heads()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range heads {
		if h.Feed == f {
			return h.Seq
		}
	}
	return 0
}

// postJSON posts body as JSON with the CSRF token (if any) and returns the
// status and the answer.
func postJSON(t *testing.T, c *http.Client, url, csrf string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// freePortRun returns the first of n consecutive ports on 127.0.0.1 that
// were free a moment ago (TCP, and UDP too for memberlist).
func freePortRun(t *testing.T, n int, udp bool) int {
	t.Helper()
	for attempt := 0; attempt < 100; attempt++ {
		base := 10000 + rand.IntN(22000) // below Linux's ephemeral ports (32768-)
		var closers []io.Closer
		free := true
		for p := base; p < base+n && free; p++ {
			addr := fmt.Sprintf("127.0.0.1:%d", p)
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				free = false
				break
			}
			closers = append(closers, ln)
			if udp {
				pc, err := net.ListenPacket("udp", addr)
				if err != nil {
					free = false
					break
				}
				closers = append(closers, pc)
			}
		}
		for _, c := range closers {
			c.Close()
		}
		if free {
			return base
		}
	}
	t.Fatal("no run of free ports")
	return 0
}
