package main_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

var binPath string

// TestMain builds the real binary once for the tests that run it.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "gridbox-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "gridbox")
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build gridbox: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func gridbox(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), code
}

func TestCommandLine(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	t.Run("Help", func(t *testing.T) {
		for _, c := range []string{"init", "serve", "demo", "verify", "reindex", "backup", "restore"} {
			out, code := gridbox(t, c, "--help")
			if code != 0 || !strings.Contains(out, "usage: gridbox "+c) {
				t.Errorf("%s --help: exit %d: %s", c, code, out)
			}
		}
		if out, code := gridbox(t); code != 2 || !strings.Contains(out, "commands:") {
			t.Errorf("no command: exit %d: %s", code, out)
		}
	})
	t.Run("ErrBadArguments", func(t *testing.T) {
		cases := []struct {
			args []string
			want string
		}{
			{[]string{"frobnicate"}, `unknown command "frobnicate"`},
			{[]string{"init", "--data", dir}, "--role is required"},
			{[]string{"init", "--data", dir, "--role", "county", "--code", "410184104201", "--name", "x"}, "village、town 或 city"},
			{[]string{"init", "--data", dir, "--role", "village", "--code", "4101841042", "--name", "x"}, "12位数字"},
			{[]string{"init", "--data", dir, "--role", "town", "--code", "410184104201", "--name", "x"}, "乡镇代码"},
			{[]string{"init", "--data", dir, "--role", "village", "--code", "410184104201", "--name", ""}, "--name is required"},
			{[]string{"serve"}, "--data is required"},
			{[]string{"verify", "--data", dir, "extra"}, "unexpected argument"},
			{[]string{"serve", "--nope"}, "flag provided but not defined"},
		}
		for _, c := range cases {
			out, code := gridbox(t, c.args...)
			if code != 2 || !strings.Contains(out, c.want) {
				t.Errorf("%v: exit %d, want 2 and %q: %s", c.args, code, c.want, out)
			}
		}
		if _, err := os.Stat(dir); err == nil {
			t.Error("a refused init created the folder")
		}
	})
	t.Run("InitOnce", func(t *testing.T) {
		out, code := gridbox(t, "init", "--data", dir, "--role", "village", "--code", "410184104201", "--name", "杏花村")
		if code != 0 || !strings.Contains(out, "one-time password") {
			t.Fatalf("init: exit %d: %s", code, out)
		}
		out, code = gridbox(t, "init", "--data", dir, "--role", "village", "--code", "410184104201", "--name", "杏花村")
		if code == 0 || !strings.Contains(out, "--force") {
			t.Fatalf("second init: exit %d: %s", code, out)
		}
		if out, code := gridbox(t, "verify", "--data", dir); code != 0 || !strings.Contains(out, "ok:") {
			t.Fatalf("verify: exit %d: %s", code, out)
		}
		if out, code := gridbox(t, "verify", "--data", filepath.Join(dir, "missing")); code != 1 || !strings.Contains(out, "not a gridbox data folder") {
			t.Fatalf("verify of a missing folder: exit %d: %s", code, out)
		}
	})
}

func TestVerifyNamesTamperedEntry(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	if out, code := gridbox(t, "demo", "--data", dir); code != 0 {
		t.Fatalf("demo: %s", out)
	}
	if out, code := gridbox(t, "verify", "--data", dir); code != 0 {
		t.Fatalf("verify: %s", out)
	}
	// Flip one byte inside the body of the first entry with a name field
	// (in the first feed that has one: the town's downward feed has none).
	db, err := bbolt.Open(filepath.Join(dir, bolt.DBFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	var feed string
	var seq uint64
	err = db.Update(func(tx *bbolt.Tx) error {
		feeds := tx.Bucket([]byte("feeds"))
		fc := feeds.Cursor()
		for fk, _ := fc.First(); fk != nil; fk, _ = fc.Next() {
			b := feeds.Bucket(fk)
			if b == nil {
				continue
			}
			feed = fmt.Sprintf("%x", fk)
			c := b.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				if i := bytes.Index(v, []byte(`"name":"`)); i >= 0 {
					v = append([]byte(nil), v...)
					v[i+9] ^= 0x01
					seq = binary.BigEndian.Uint64(k)
					return b.Put(append([]byte(nil), k...), v)
				}
			}
		}
		return fmt.Errorf("no entry with a name")
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, code := gridbox(t, "verify", "--data", dir)
	if code == 0 || !strings.Contains(out, fmt.Sprintf("entry %s seq %d", feed, seq)) || !strings.Contains(out, "signature") {
		t.Fatalf("verify after tampering: exit %d: %s", code, out)
	}
	// reindex works from the feeds; verify still refuses the altered entry.
	if _, code := gridbox(t, "reindex", "--data", dir); code != 0 {
		t.Fatal("reindex failed")
	}
	if _, code := gridbox(t, "verify", "--data", dir); code == 0 {
		t.Fatal("verify passed after reindex of a tampered ledger")
	}
}

// node is a running `gridbox serve` process.
type node struct {
	cmd  *exec.Cmd
	url  string
	out  *syncBuffer
	data string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func freePort(t *testing.T) string {
	ln, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startNode(t *testing.T, data, addr string) *node {
	t.Helper()
	return startNodeWith(t, data, addr)
}

// startNodeWith serves the node with the binary run through a wrapper
// command (e.g. prlimit --fsize=N --), if given.
func startNodeWith(t *testing.T, data, addr string, wrapper ...string) *node {
	t.Helper()
	return startServe(t, data, addr, wrapper, "--tls-listen", "127.0.0.1:0")
}

// startServe runs gridbox serve with extra flags, through wrapper if given.
func startServe(t *testing.T, data, addr string, wrapper []string, extra ...string) *node {
	t.Helper()
	n := &node{url: "http://" + addr, out: &syncBuffer{}, data: data}
	args := append(append(append([]string(nil), wrapper...), binPath, "serve", "--data", data, "--listen", addr), extra...)
	n.cmd = exec.Command(args[0], args[1:]...)
	n.cmd.Stdout, n.cmd.Stderr = n.out, n.out
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { n.cmd.Process.Kill(); n.cmd.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(n.url + "/healthz"); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 || strings.HasPrefix(string(b), "degraded") {
				return n // serving (a test may have filled its disk on purpose)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("node did not start: %s", n.out.String())
	return nil
}

// mustToken initialises a village node and returns an API token of its lead.
func mustToken(t *testing.T, data string) string {
	t.Helper()
	ctx := context.Background()
	node := appliance.Node{Role: appliance.NodeVillage, Code: "410184104201", Name: "杏花村"}
	if _, err := bolt.InitDataDir(ctx, data, node, bolt.InitOptions{AdminPassword: "admin1234"}); err != nil {
		t.Fatal(err)
	}
	s, _, err := bolt.OpenDataDir(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetArgon2(bolt.Argon2Params{Time: 1, Memory: 8 * 1024, Threads: 1})
	u := appliance.User{ID: "u-lead", Username: "lead", Name: "村负责人", Role: appliance.RoleVillageLead, Grid: node.Code}
	if err := s.CreateUser(ctx, "", u, "lead12345", false); err != nil {
		t.Fatal(err)
	}
	token, err := s.CreateAPIToken(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

func postNotice(url, token, id string) error {
	body := fmt.Sprintf(`{"id":%q,"title":"通知 %s","body":"内容 %s","published":"2026-11-28"}`, id, id, id)
	req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/notices", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// TestCrashSafety kills the real binary with SIGKILL at random moments while
// writes are under way, and checks after each restart that every
// acknowledged write is there and the ledger verifies.
func TestCrashSafety(t *testing.T) {
	data := filepath.Join(t.TempDir(), "node")
	token := mustToken(t, data)
	addr := freePort(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var acked []string
	const rounds = 20
	for round := 0; round < rounds; round++ {
		n := startNode(t, data, addr)
		// Everything acknowledged before must be there.
		var list struct {
			Items []appliance.Notice `json:"items"`
		}
		resp, err := http.Get(n.url + "/api/v1/notices")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		have := map[string]bool{}
		for _, x := range list.Items {
			have[x.ID] = true
		}
		for _, id := range acked {
			if !have[id] {
				t.Fatalf("round %d: acknowledged write %s lost", round, id)
			}
		}
		// Four writers until the kill.
		var mu sync.Mutex
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; i < 500; i++ {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("r%dw%di%d", round, w, i)
					if postNotice(n.url, token, id) == nil {
						mu.Lock()
						acked = append(acked, id)
						mu.Unlock()
					}
				}
			}(w)
		}
		time.Sleep(time.Duration(50+rng.IntN(250)) * time.Millisecond)
		n.cmd.Process.Signal(syscall.SIGKILL)
		n.cmd.Wait()
		close(stop)
		wg.Wait()
	}
	// A few writes a round keep the test from passing empty; a busy
	// machine acknowledges far fewer than an idle one.
	if len(acked) < rounds*4 {
		t.Fatalf("only %d writes acknowledged over %d rounds", len(acked), rounds)
	}
	if out, code := gridbox(t, "verify", "--data", data); code != 0 {
		t.Fatalf("verify after %d kills: %s", rounds, out)
	}
	s, _, err := bolt.OpenDataDir(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range acked {
		if _, err := s.Notice("410184104201", id); err != nil {
			t.Fatalf("acknowledged write %s lost: %v", id, err)
		}
	}
	t.Logf("%d acknowledged writes survived %d SIGKILLs", len(acked), rounds)
}

// TestBackupWhileServing takes a backup from a serving node while it is
// written to, then restores it into a new folder.
func TestBackupWhileServing(t *testing.T) {
	data := filepath.Join(t.TempDir(), "node")
	token := mustToken(t, data)
	n := startNode(t, data, freePort(t))
	for i := 0; i < 20; i++ {
		if err := postNotice(n.url, token, fmt.Sprintf("before%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100; i++ {
			postNotice(n.url, token, fmt.Sprintf("during%d", i))
		}
	}()
	backup := filepath.Join(t.TempDir(), "node.backup")
	if out, code := gridbox(t, "backup", "--data", data, "--out", backup); code != 0 {
		t.Fatalf("backup: %s", out)
	}
	<-done
	if out, code := gridbox(t, "backup", "--data", data, "--out", backup); code == 0 || !strings.Contains(out, "exists") {
		t.Fatalf("backup over an existing file: %s", out)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	out, code := gridbox(t, "restore", "--data", restored, "--from", backup)
	if code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("restore: %s", out)
	}
	if out, code := gridbox(t, "restore", "--data", restored, "--from", backup); code == 0 || !strings.Contains(out, "--force") {
		t.Fatalf("restore over a node: %s", out)
	}
	s, _, err := bolt.OpenDataDir(restored, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 20; i++ {
		if _, err := s.Notice("410184104201", fmt.Sprintf("before%d", i)); err != nil {
			t.Fatalf("restored node lacks before%d", i)
		}
	}
	if _, err := s.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A damaged backup is refused and leaves nothing behind.
	bad := filepath.Join(t.TempDir(), "bad.backup")
	os.WriteFile(bad, []byte("not a backup"), 0o600)
	target := filepath.Join(t.TempDir(), "target")
	if out, code := gridbox(t, "restore", "--data", target, "--from", bad); code == 0 {
		t.Fatalf("restore of garbage: %s", out)
	}
	if _, err := os.Stat(filepath.Join(target, bolt.DBFile)); err == nil {
		t.Fatal("a refused restore left a database")
	}
}
