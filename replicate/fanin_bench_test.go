package replicate_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gridbox/appliance/bolt"
	"gridbox/appliance/demo"
)

// TestBenchFanIn measures one town receiving from many village boxes at
// once (issue 18: 40 villages × 20,000 entries into an empty town ≤ 20 s
// to full views, town peak RSS ≤ 256 MiB, one more village ≤ 1 s):
//
//	GRIDBOX_BENCH=1 go test ./replicate -run TestBenchFanIn -v -count=1 -timeout 120m
//
// GRIDBOX_BENCH_PPROF (see TestBenchRealCases) profiles the town from
// the villages' start, or with GRIDBOX_BENCH_PPROF_AT=last while it takes
// the one more village.
//
// GRIDBOX_BENCH_VILLAGES (40) villages, each a `gridbox serve` process
// with a year of its own ledger (demo.GrowVillage: the demo village, then
// 30 cases a day, to GRIDBOX_BENCH_VILLAGE_ENTRIES, 20,000, entries of its
// own feed; built once per machine in the temporary folder), enrolled at
// an empty town, production intervals. Timed from the first village's
// start until the town has stored (and so folded into its views) every
// village's feed; then one more village is started alone.
func TestBenchFanIn(t *testing.T) {
	if os.Getenv("GRIDBOX_BENCH") == "" {
		t.Skip("set GRIDBOX_BENCH=1 to run the fan-in benchmark")
	}
	nv := envInt("GRIDBOX_BENCH_VILLAGES", 40)
	per := envInt("GRIDBOX_BENCH_VILLAGE_ENTRIES", 20000)
	root := t.TempDir()
	key := run(t, "replication", "--new-key")
	gen := time.Now()
	villages := make([]*procNode, nv+1) // the last one joins afterwards
	heads := make([]uint64, nv+1)
	for i := range villages {
		code := fmt.Sprintf("410184104%03d", 201+i)
		villages[i] = &procNode{t: t, Data: filepath.Join(root, code), Code: code}
		cachedFanVillage(t, code, per, villages[i].Data)
	}
	// Ports are taken after the (long) building, right before they are used.
	town := &procNode{t: t, Data: filepath.Join(root, "town"), Code: townCode, Gossip: fmt.Sprintf("127.0.0.1:%d", freePort(t))}
	run(t, "init", "--data", town.Data, "--role", "town", "--code", townCode, "--name", "龙湖镇")
	run(t, "replication", "--data", town.Data, "--bind", town.Gossip, "--keys", key)
	for i, v := range villages {
		v.Gossip = fmt.Sprintf("127.0.0.1:%d", freePort(t))
		v.withStore(func(s *bolt.Store) {
			hs, _ := s.Heads()
			for _, h := range hs {
				if h.Feed == s.Feed() {
					heads[i] = h.Seq
				}
			}
		})
		run(t, "replication", "--data", v.Data, "--bind", v.Gossip, "--parent", town.Gossip, "--keys", key)
		run(t, "enrol", "--data", town.Data, "--key", run(t, "replication", "--data", v.Data, "--show-key"), "--code", v.Code, "--name", fmt.Sprintf("第%d村", i+1))
	}
	var total uint64
	for _, h := range heads[:nv] {
		total += h
	}
	t.Logf("%d villages made (or copied from the cache) in %s: %d entries of their own feeds, %d to %d each", nv+1,
		time.Since(gen).Round(time.Second), total, minU(heads), maxU(heads))

	profile := serveProfiled(town) // GRIDBOX_BENCH_PPROF, as in TestBenchRealCases
	anon := town.SampleAnonRSS()
	cpu0 := town.CPU()
	load := loadavg()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, nv)
	for _, v := range villages[:nv] {
		t.Cleanup(v.Kill)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := v.start(); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	started := time.Since(start)
	last := os.Getenv("GRIDBOX_BENCH_PPROF_AT") == "last" // profile the one more village instead
	if !last {
		go profile()
	}
	inAt := make([]time.Duration, nv)
	waitEvery(t, 30*time.Minute, 250*time.Millisecond, "every village's feed at the town", func() bool {
		got := receivedByCode(town)
		done := true
		for i, v := range villages[:nv] {
			if inAt[i] == 0 && got[v.Code] >= float64(heads[i]) {
				inAt[i] = time.Since(start)
			}
			done = done && inAt[i] != 0
		}
		return done
	})
	elapsed := time.Since(start)
	cpu := town.CPU() - cpu0
	t.Logf("%d villages × ~%d entries (%d) into an empty town, first village's start to all in the town's views: %s (all %d processes answering after %s; first village in after %s); %.0f entries/s; town CPU %s; load before %s, after %s",
		nv, per, total, elapsed.Round(time.Millisecond), nv, started.Round(time.Millisecond), minD(inAt).Round(time.Millisecond),
		float64(total)/elapsed.Seconds(), cpu.Round(10*time.Millisecond), load, loadavg())
	t.Logf("town peak RSS %.1f MiB, of it anonymous %.1f MiB", float64(town.PeakRSS())/(1<<20), float64(anon())/(1<<20))

	// One more village, while the others stay connected.
	one := villages[nv]
	t.Cleanup(one.Kill)
	cpu0 = town.CPU()
	rss0 := town.PeakRSS()
	start = time.Now()
	if err := one.start(); err != nil {
		t.Fatal(err)
	}
	if last {
		go profile()
	}
	waitEvery(t, 10*time.Minute, 100*time.Millisecond, "the one more village's feed at the town", func() bool {
		return receivedByCode(town)[one.Code] >= float64(heads[nv])
	})
	t.Logf("one more village (%d entries), its start to in the town's views: %s; town CPU %s; town peak RSS %.1f → %.1f MiB; load %s",
		heads[nv], time.Since(start).Round(time.Millisecond), (town.CPU() - cpu0).Round(10*time.Millisecond),
		float64(rss0)/(1<<20), float64(town.PeakRSS())/(1<<20), loadavg())
}

// receivedByCode reads the town's received entries per village code from
// one scrape of /metrics.
func receivedByCode(n *procNode) map[string]float64 {
	out := map[string]float64{}
	resp, err := http.Get(n.URL + "metrics")
	if err != nil {
		return out
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "gridbox_replicate_peer_received_entries_total{") {
			continue
		}
		_, rest, ok := strings.Cut(line, `code="`)
		if !ok {
			continue
		}
		code, _, _ := strings.Cut(rest, `"`)
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		out[code] += v
	}
	return out
}

// cachedFanVillage copies a grown demo village of code to dst, building
// it once per machine.
func cachedFanVillage(tb testing.TB, code string, entries int, dst string) {
	tb.Helper()
	cache := filepath.Join(os.TempDir(), fmt.Sprintf("gridbox-bench-fanin-%d", entries), code)
	if _, err := os.Stat(filepath.Join(cache, "done")); err != nil {
		os.RemoveAll(cache)
		opts := demo.Options{Code: code, Name: "第" + code[9:] + "村", Town: "龙湖镇"}
		if err := demo.GrowVillage(context.Background(), filepath.Join(cache, "village"), opts, entries, 30); err != nil {
			tb.Fatal(err)
		}
		os.WriteFile(filepath.Join(cache, "done"), nil, 0o600)
	}
	// Views of a format this tree changed are rebuilt once, in the cache,
	// not in every village process as it starts.
	s, _, err := bolt.OpenDataDir(filepath.Join(cache, "village"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	s.Close()
	if out, err := exec.Command("cp", "-r", filepath.Join(cache, "village"), dst).CombinedOutput(); err != nil {
		tb.Fatalf("copy %s: %v %s", cache, err, out)
	}
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func minU(s []uint64) uint64 {
	m := s[0]
	for _, v := range s {
		m = min(m, v)
	}
	return m
}

func maxU(s []uint64) uint64 {
	m := s[0]
	for _, v := range s {
		m = max(m, v)
	}
	return m
}

func minD(s []time.Duration) time.Duration {
	m := s[0]
	for _, v := range s {
		m = min(m, v)
	}
	return m
}
