package main_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
)

// TestUpgradeFromParent: a town holds a signed release and its village,
// with [upgrade] from_parent, fetches it when it reaches the town, checks
// it with its own release key and upgrades as gridbox upgrade does; the
// ledger says where the release came from. The town refuses to hold a
// release signed by another key, and the village refuses one the town
// serves anyway (a town is not trusted beyond passing releases on). Two
// real nodes on 127.0.0.1, replicating over memberlist.
func TestUpgradeFromParent(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		out, code := gridbox(t, args...)
		if code != 0 {
			t.Fatalf("gridbox %s: exit %d\n%s", strings.Join(args, " "), code, out)
		}
		return strings.TrimSpace(out)
	}
	pub := regexp.MustCompile(`(?m)^[0-9a-f]{64}$`).FindString(run("release-key", "--out", filepath.Join(dir, "county.key")))
	run("release-key", "--out", filepath.Join(dir, "other.key"))
	town, village := filepath.Join(dir, "town"), filepath.Join(dir, "village")
	run("init", "--data", town, "--role", "town", "--code", "410184104000", "--name", "龙湖镇", "--release-key", pub)
	run("init", "--data", village, "--role", "village", "--code", "410184104201", "--name", "杏花村", "--release-key", pub)
	cluster := run("replication", "--new-key")
	gossipTown := freePort(t)
	run("replication", "--data", town, "--bind", gossipTown, "--keys", cluster, "--fast")
	run("replication", "--data", village, "--bind", freePort(t), "--parent", gossipTown, "--keys", cluster, "--fast")
	run("enrol", "--data", town, "--key", run("replication", "--data", village, "--show-key"), "--code", "410184104201", "--name", "杏花村")
	cfgPath := filepath.Join(village, appliance.ConfigFile)
	cfg, err := appliance.LoadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Upgrade.FromParent, cfg.Upgrade.HealthyWithin.Duration = true, 20*time.Second
	if err := appliance.ReplaceConfig(cfgPath, cfg); err != nil {
		t.Fatal(err)
	}

	// The village box as the image installs it.
	releases, first := firstRelease(t, dir)

	v2 := filepath.Join(dir, "v2")
	if out, err := exec.Command("go", "build", "-ldflags", "-X main.version=v2-parent", "-o", v2, ".").CombinedOutput(); err != nil {
		t.Fatalf("build v2: %v %s", err, out)
	}
	good, foreign := filepath.Join(dir, "v2.gbr"), filepath.Join(dir, "foreign.gbr")
	run("release", "--key", filepath.Join(dir, "county.key"), "--bin", v2, "--out", good)
	run("release", "--key", filepath.Join(dir, "other.key"), "--bin", v2, "--out", foreign)

	held := filepath.Join(town, "releases-down", runtime.GOARCH+".release")
	if out, code := gridbox(t, "upgrade", "--data", town, "--hand-down", foreign); code == 0 || !strings.Contains(out, "not signed by this box's release key") {
		t.Fatalf("hand-down of a foreign release: exit %d %s", code, out)
	}
	if _, err := os.Stat(held); !os.IsNotExist(err) {
		t.Fatalf("a refused release is held: %v", err)
	}
	// A town that serves a foreign release anyway (its folder written by
	// hand): the village must refuse it on its own.
	os.MkdirAll(filepath.Dir(held), 0o755)
	fb, _ := os.ReadFile(foreign)
	os.WriteFile(held, fb, 0o644)

	tn := startNode(t, town, freePort(t))
	addr := freePort(t)
	out := &syncBuffer{}
	stop := superviseTo(t, releases, village, addr, out)
	defer stop()
	waitHealthy(t, "http://"+addr, 15*time.Second)
	link := func(name string) string { l, _ := os.Readlink(filepath.Join(releases, name)); return l }
	waitFor := func(what string, within time.Duration, ok func() bool) {
		t.Helper()
		for end := time.Now().Add(within); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if ok() {
				return
			}
		}
		t.Fatalf("%s not within %s\nvillage:\n%s\ntown:\n%s", what, within, out, tn.out)
	}
	waitFor("the village refusing the foreign release", 60*time.Second, func() bool {
		return strings.Contains(out.String(), "not signed by this box") && strings.Contains(out.String(), "release from the parent not installed")
	})
	if link("current") != first {
		t.Fatalf("a foreign release from the parent was installed: current %s", link("current"))
	}

	start := time.Now()
	if got := run("upgrade", "--data", town, "--hand-down", good); !strings.Contains(got, "holding v2-parent for "+runtime.GOARCH) {
		t.Fatalf("hand-down: %s", got)
	}
	waitFor("the village upgrading to the town's release", 90*time.Second, func() bool {
		var last struct {
			Result    string `json:"result"`
			ToVersion string `json:"to_version"`
			Source    string `json:"source"`
		}
		b, _ := os.ReadFile(filepath.Join(releases, "last.json"))
		return json.Unmarshal(b, &last) == nil && last.Result == "upgraded" && last.ToVersion == "v2-parent" && last.Source == "parent"
	})
	t.Logf("held at the town to healthy at the village: %s", time.Since(start).Round(time.Millisecond))
	if !strings.HasPrefix(link("current"), "gridbox-v2-parent-") || link("previous") != first {
		t.Fatalf("after the upgrade: current %s, previous %s", link("current"), link("previous"))
	}
	waitHealthy(t, "http://"+addr, 15*time.Second)
	// Fetched once: the village does not install what it runs again.
	time.Sleep(5 * time.Second)
	if n := strings.Count(out.String(), "release from the parent installed"); n != 1 {
		t.Fatalf("release installed %d times\n%s", n, out)
	}
	var recorded struct{ Recorded bool }
	waitFor("the upgrade in the ledger", 30*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(releases, "last.json"))
		return json.Unmarshal(b, &recorded) == nil && recorded.Recorded
	})
	stop()
	if got, want := releaseEntries(t, village), "dev→v2-parent upgraded from parent"; got != want {
		t.Fatalf("ledger records %q, want %q", got, want)
	}
}
