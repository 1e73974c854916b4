package main_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// supervise runs the node the way the image's unit does under systemd:
// before each start the previous release's guard (ExecStartPre, its
// failure ignored), then the current release; restarted whenever it
// exits (Restart=always).
func supervise(t *testing.T, releases, data, addr string) (stop func()) {
	return superviseTo(t, releases, data, addr, nil)
}

// superviseTo is supervise with the node's output into out.
func superviseTo(t *testing.T, releases, data, addr string, out io.Writer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			exec.Command(filepath.Join(releases, "previous"), "upgrade", "--guard", "--releases", releases).Run()
			cmd := exec.CommandContext(ctx, filepath.Join(releases, "current"), "serve", "--data", data, "--listen", addr, "--tls-listen", "off", "--releases", releases)
			cmd.Stdout, cmd.Stderr = out, out
			cmd.Run()
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond): // RestartSec
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}

// firstRelease makes the releases folder in dir as the image installs
// it: the test's binary as the first release, and current naming it.
func firstRelease(t *testing.T, dir string) (releases, first string) {
	t.Helper()
	releases = filepath.Join(dir, "releases")
	os.Mkdir(releases, 0o755)
	b, err := os.ReadFile(binPath)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	first = "gridbox-dev-" + hex.EncodeToString(sum[:])[:12]
	if err := os.WriteFile(filepath.Join(releases, first), b, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(first, filepath.Join(releases, "current")); err != nil {
		t.Fatal(err)
	}
	return releases, first
}

func waitHealthy(t *testing.T, url string, within time.Duration) {
	t.Helper()
	for end := time.Now().Add(within); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if resp, err := httpGet(url + "/healthz"); err == nil && resp == "ok" {
			return
		}
	}
	t.Fatalf("%s not healthy within %s", url, within)
}

// TestUpgrade: a release signed by the box's release key is installed,
// the node restarts into it and it commits once healthy; a release that
// cannot serve is rolled back on its own after [upgrade] healthy_within;
// unsigned, foreign-signed and tampered releases are refused and change
// nothing; each upgrade and rollback is in the ledger.
func TestUpgrade(t *testing.T) {
	dir := t.TempDir()
	releases, first := firstRelease(t, dir)

	out, code := gridbox(t, "release-key", "--out", filepath.Join(dir, "county.key"))
	pub := regexp.MustCompile(`(?m)^[0-9a-f]{64}$`).FindString(out)
	if code != 0 || pub == "" {
		t.Fatalf("release-key: %d %s", code, out)
	}
	gridbox(t, "release-key", "--out", filepath.Join(dir, "other.key"))
	data := filepath.Join(dir, "node")
	cfg := appliance.DefaultConfig()
	cfg.Upgrade.ReleaseKey, cfg.Upgrade.HealthyWithin.Duration = pub, 12*time.Second
	if _, err := bolt.InitDataDir(context.Background(), data, appliance.Node{Role: "village", Code: "410184104201", Name: "杏花村"}, bolt.InitOptions{AdminPassword: "xh-admin-8842", Config: &cfg}); err != nil {
		t.Fatal(err)
	}

	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	if out, err := exec.Command("go", "build", "-ldflags", "-X main.version=v2-test", "-o", good, ".").CombinedOutput(); err != nil {
		t.Fatalf("build v2: %v %s", err, out)
	}
	if out, err := exec.Command("go", "build", "-o", bad, "./testdata/badrelease").CombinedOutput(); err != nil {
		t.Fatalf("build bad release: %v %s", err, out)
	}
	release := func(name, key, bin string) string {
		f := filepath.Join(dir, name)
		if out, code := gridbox(t, "release", "--key", filepath.Join(dir, key), "--bin", bin, "--out", f); code != 0 {
			t.Fatalf("release %s: %s", name, out)
		}
		return f
	}
	goodRel, badRel, foreign := release("v2.gbr", "county.key", good), release("v3.gbr", "county.key", bad), release("foreign.gbr", "other.key", good)
	// Tampered: the signed release with its binary changed (its signed
	// SHA-256 no longer matches).
	tb, _ := os.ReadFile(goodRel)
	i := strings.LastIndex(string(tb), "Go build")
	tb[i] ^= 1
	tampered := filepath.Join(dir, "tampered.gbr")
	os.WriteFile(tampered, tb, 0o644)

	addr := freePort(t)
	stop := supervise(t, releases, data, addr)
	defer stop()
	url := "http://" + addr
	waitHealthy(t, url, 15*time.Second)

	link := func(name string) string { l, _ := os.Readlink(filepath.Join(releases, name)); return l }
	files := func() int { e, _ := os.ReadDir(releases); return len(e) }
	before := files()
	for name, f := range map[string]string{"ErrForeignKey": foreign, "ErrTampered": tampered, "ErrNotARelease": binPath} {
		t.Run(name, func(t *testing.T) {
			out, code := gridbox(t, "upgrade", "--data", data, "--releases", releases, f)
			if code == 0 || !strings.Contains(out, "refused") && !strings.Contains(out, "not a release file") {
				t.Fatalf("upgrade: exit %d: %s", code, out)
			}
			if link("current") != first || files() != before {
				t.Fatalf("a refused release changed the releases folder: current %s, %d files", link("current"), files())
			}
		})
	}

	t.Run("Good", func(t *testing.T) {
		start := time.Now()
		out, code := gridbox(t, "upgrade", "--data", data, "--releases", releases, goodRel)
		if code != 0 || !strings.Contains(out, "upgraded to v2-test") {
			t.Fatalf("upgrade: exit %d: %s", code, out)
		}
		t.Logf("upgrade to healthy: %s (%s)", time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))
		if !strings.HasPrefix(link("current"), "gridbox-v2-test-") || link("previous") != first {
			t.Fatalf("after the upgrade: current %s, previous %s", link("current"), link("previous"))
		}
		waitHealthy(t, url, 5*time.Second)
	})
	t.Run("BadRolledBack", func(t *testing.T) {
		v2 := link("current")
		start := time.Now()
		out, code := gridbox(t, "upgrade", "--data", data, "--releases", releases, badRel)
		if code == 0 || !strings.Contains(out, "rolled back to v2-test") {
			t.Fatalf("upgrade to a broken release: exit %d: %s", code, out)
		}
		t.Logf("broken release rolled back: %s (%s)", time.Since(start).Round(time.Millisecond), strings.TrimSpace(out))
		if link("current") != v2 {
			t.Fatalf("after the rollback current is %s, want %s", link("current"), v2)
		}
		waitHealthy(t, url, 10*time.Second)
	})
	// The outcome is recorded by the release that serves afterwards.
	var last struct{ Recorded bool }
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end) && !last.Recorded; time.Sleep(50 * time.Millisecond) { // a loaded machine is slow to restart
		b, _ := os.ReadFile(filepath.Join(releases, "last.json"))
		json.Unmarshal(b, &last)
	}
	stop()
	if got, want := releaseEntries(t, data), "dev→v2-test upgraded|v2-test→v3-bad rolled back"; got != want {
		t.Fatalf("ledger records %q, want %q", got, want)
	}
}

// releaseEntries reads the node.release entries of the stopped node at
// data as "FROM→TO result[ from SOURCE]|…".
func releaseEntries(t *testing.T, data string) string {
	t.Helper()
	s, _, err := bolt.OpenDataDir(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []string
	es, _ := s.Entries(s.Feed(), 1, 1000)
	for _, e := range es {
		if e.Kind == "node.release" {
			var body struct{ From, To, Result, Source string }
			e.DecodeBody(&body)
			line := body.From + "→" + body.To + " " + body.Result
			if body.Source != "" {
				line += " from " + body.Source
			}
			got = append(got, line)
		}
	}
	return strings.Join(got, "|")
}

func httpGet(url string) (string, error) {
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b)), err
}
