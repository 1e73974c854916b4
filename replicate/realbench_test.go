package replicate_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/replicate"
)

// The benchmark of the real thing (docs/performance.md, "Replication"):
//
//	GRIDBOX_BENCH=1 go test ./replicate -run TestBenchRealCases -v -count=1 -timeout 30m
//
// A village box holding its real ledger (village_test.go: the demo
// village, then GRIDBOX_BENCH_CASES cases, 50,000 by default, with their
// steps, photos, visits, archive changes and daily register closes) is
// started next to an empty town, both `gridbox serve` processes with the
// production intervals; timed until the town holds the village's feed,
// which is folded into its views (cases, statistics, register) in the
// same transactions. Photos are timed apart.

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func TestBenchRealCases(t *testing.T) {
	if os.Getenv("GRIDBOX_BENCH") == "" {
		t.Skip("set GRIDBOX_BENCH=1 to run the replication benchmark")
	}
	n := envInt("GRIDBOX_BENCH_CASES", 50000)
	var vs villageStats
	gen := time.Now()
	town, village := procClusterWith(t, false, func(dir string) { vs = cachedVillage(t, n, dir) })
	t.Logf("village made (or copied from the cache) in %s: %d cases, %d steps, %d visits, %d archive changes, %d register closes, %d photos",
		time.Since(gen).Round(time.Second), vs.Cases, vs.Steps, vs.Visits, vs.Archive, vs.Closes, vs.Photos)
	t.Logf("village's own feed by kind: %v", vs.Kinds)
	var nd []byte
	var feed appliance.FeedID
	var head uint64
	village.withStore(func(s *bolt.Store) {
		nd = ledgerNDJSON(t, s)
		feed = s.Feed()
		es, _ := s.Entries(feed, 1, 1<<30)
		head = uint64(len(es))
	})
	// The village's feed is in the town's views when the town has stored
	// all of it: entries fold in the transaction that stores them. (The
	// town writes entries of its own meanwhile, statistics for its city,
	// and the village escalates its overdue cases as it starts: more than
	// head may arrive.)
	// GRIDBOX_BENCH_PPROF=host:port profiles the town while it receives
	// (a CPU profile of GRIDBOX_BENCH_PPROF_SECONDS, 20 by default, into
	// town.cpu.prof in the current folder).
	pprofAddr := os.Getenv("GRIDBOX_BENCH_PPROF")
	if pprofAddr != "" {
		os.Setenv("GRIDBOX_PPROF", pprofAddr)
	}
	town.Serve()
	os.Unsetenv("GRIDBOX_PPROF")
	anon := town.SampleAnonRSS()
	start := time.Now()
	village.Serve()
	if pprofAddr != "" {
		go func() {
			resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", pprofAddr, envInt("GRIDBOX_BENCH_PPROF_SECONDS", 20)))
			if err != nil {
				t.Logf("profile: %v", err)
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			os.WriteFile("town.cpu.prof", b, 0o600)
		}()
	}
	waitFor(t, 10*time.Minute, "the village's feed at the town", func() bool {
		return town.Metric("gridbox_replicate_peer_received_entries_total", `code="`+villageCode+`"`) >= float64(head)
	})
	elapsed := time.Since(start)
	rss, rssAnon := town.PeakRSS(), anon()
	waitFor(t, 10*time.Minute, "the photos at the town", func() bool {
		return town.Metric("gridbox_replicate_photos_received_total") == float64(vs.Photos)
	})
	photos := time.Since(start)
	all := village.Metric("gridbox_replicate_peer_sent_bytes_total") + village.Metric("gridbox_replicate_peer_received_bytes_total")
	wire := all - village.Metric("gridbox_replicate_photo_sent_bytes_total")

	zst := zstd19(t, nd)
	t.Logf("%d entries (%d cases) village → town, process start to views folded: %s (%.0f entries/s); photos (%d) by %s",
		head, vs.Cases, elapsed.Round(time.Millisecond), float64(head)/elapsed.Seconds(), vs.Photos, photos.Round(time.Millisecond))
	t.Logf("bytes on the wire (replication messages without the photos' bytes; %.0f with them): %.0f; NDJSON %d (%d per entry), zstd -19 of it %d; ratio %.2f",
		all, wire, len(nd), len(nd)/int(head), zst, wire/float64(zst))
	t.Logf("town peak RSS %.1f MiB, of it anonymous (without the data file's mapped pages) %.1f MiB", float64(rss)/(1<<20), float64(rssAnon)/(1<<20))

	town.Stop()
	village.Stop()
	sameCases(t, town, village, feed)
}

// zstd19 is the size of b compressed by `zstd -19`.
func zstd19(tb testing.TB, b []byte) int64 {
	tb.Helper()
	nd := filepath.Join(tb.TempDir(), "records.ndjson")
	os.WriteFile(nd, b, 0o600)
	if out, err := exec.Command("zstd", "-q", "-19", "-f", nd, "-o", nd+".zst").CombinedOutput(); err != nil {
		tb.Fatalf("zstd -19: %v %s", err, out)
	}
	st, err := os.Stat(nd + ".zst")
	if err != nil {
		tb.Fatal(err)
	}
	return st.Size()
}

// sameCases checks that the town's views hold the village's cases as the
// village does: every case whose steps are all on the village's feed is
// the same at both, and so is the village's register.
func sameCases(tb testing.TB, town, village *procNode, feed appliance.FeedID) {
	tb.Helper()
	var vcases, tcases []*appliance.Case
	village.withStore(func(s *bolt.Store) { vcases = allCases(tb, s) })
	town.withStore(func(s *bolt.Store) { tcases = allCases(tb, s) })
	at := map[string]*appliance.Case{}
	for _, c := range tcases {
		at[c.ID] = c
	}
	same := 0
	for _, c := range vcases {
		own := true
		for _, st := range c.Steps {
			own = own && st.Feed == feed.String()
		}
		if !own {
			continue
		}
		tc := at[c.ID]
		if tc == nil || !reflect.DeepEqual(c, tc) {
			a, _ := json.Marshal(c)
			b, _ := json.Marshal(tc)
			tb.Fatalf("case %s differs at the town:\nvillage %s\ntown    %s", c.ID, a, b)
		}
		same++
	}
	tb.Logf("%d of the village's %d cases identical at the town (the rest have the demo town's steps, which stay in the village)", same, len(vcases))
}

func allCases(tb testing.TB, s *bolt.Store) []*appliance.Case {
	tb.Helper()
	cs := &bolt.Cases{Store: s}
	var out []*appliance.Case
	f := bolt.CaseFilter{Limit: 1000}
	for {
		page, next, err := cs.FindCases(f)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, page...)
		if next == "" {
			return out
		}
		f.Before = next
	}
}

// cachedVillage copies makeRealVillage's folder for n cases to dst (a
// folder to be), building it once per machine in the temporary folder
// (GRIDBOX_BENCH_FRESH=1 builds it again).
func cachedVillage(tb testing.TB, n int, dst string) (vs villageStats) {
	tb.Helper()
	cache := filepath.Join(os.TempDir(), "gridbox-bench-"+villageMix.Name+"-"+strconv.Itoa(n))
	stats := filepath.Join(cache, "stats.json")
	b, err := os.ReadFile(stats)
	if err != nil || os.Getenv("GRIDBOX_BENCH_FRESH") != "" || json.Unmarshal(b, &vs) != nil {
		os.RemoveAll(cache)
		os.MkdirAll(cache, 0o700)
		vs = makeRealVillage(tb, filepath.Join(cache, "village"), n)
		b, _ := json.Marshal(vs)
		os.WriteFile(stats, b, 0o600)
	}
	if out, err := exec.Command("cp", "-r", filepath.Join(cache, "village"), dst).CombinedOutput(); err != nil {
		tb.Fatalf("copy %s: %v %s", cache, err, out)
	}
	return vs
}

// benchVillageStore opens a copy of the cached village's store.
func benchVillageStore(b *testing.B) *bolt.Store {
	dir := filepath.Join(b.TempDir(), "village")
	cachedVillage(b, envInt("GRIDBOX_BENCH_CASES", 10000), dir)
	s, _, err := bolt.OpenDataDir(dir, &bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkIngestRealCases is the town's side of a sync of the real
// village, without the network: the village's feed in 4 MiB batches as
// the wire carries them, decoded and stored (checked and folded) into an
// empty town store. GRIDBOX_BENCH_CASES sets the cases (10,000 here by
// default); -cpuprofile shows where the fold spends its time.
//
//	go test ./replicate -run '^$' -bench IngestRealCases -benchtime 1x -cpuprofile /tmp/ingest.prof
func BenchmarkIngestRealCases(b *testing.B) {
	s := benchVillageStore(b)
	es, err := s.Entries(s.Feed(), 1, 1<<30)
	if err != nil {
		b.Fatal(err)
	}
	var msgs [][]byte
	wire := 0
	for i := 0; i < len(es); {
		j, size := i, 0
		for j < len(es) && size < 4<<20 {
			size += len(es[j].Body) + len(es[j].Sealed) + 200
			j++
		}
		m, err := replicate.EncodeBatchV2As("village", s.Feed(), es[i:j], map[appliance.FeedID][]byte{s.Feed(): s.Signer().SaltKey()})
		if err != nil {
			b.Fatal(err)
		}
		msgs, wire, i = append(msgs, m), wire+len(m), j
	}
	b.Logf("%d entries in %d batches, %d bytes", len(es), len(msgs), wire)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		town := MustOpenNode(b, appliance.NodeTown, townCode, "")
		b.StartTimer()
		for _, m := range msgs {
			_, got, err := replicate.DecodeBatch(m[1:])
			if err != nil {
				b.Fatal(err)
			}
			if _, err := town.Store.IngestBatch(got); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(es))*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// BenchmarkEncodeRealCases is the village's side: reading its feed and
// encoding it into batches of 5,000 entries, in the first encoding and in
// encoding 2 (with the salt key), against zstd -19 of the same records as
// NDJSON.
func BenchmarkEncodeRealCases(b *testing.B) {
	s := benchVillageStore(b)
	zst := zstd19(b, ledgerNDJSON(b, s))
	keys := map[appliance.FeedID][]byte{s.Feed(): s.Signer().SaltKey()}
	for _, enc := range []struct {
		name string
		fn   func([]*appliance.Entry) ([]byte, error)
	}{
		{"Frames", func(es []*appliance.Entry) ([]byte, error) { return replicate.EncodeBatchAs("village", s.Feed(), es) }},
		{"Columns", func(es []*appliance.Entry) ([]byte, error) {
			return replicate.EncodeBatchV2As("village", s.Feed(), es, keys)
		}},
	} {
		b.Run(enc.name, func(b *testing.B) {
			n, wire := 0, 0
			for range b.N {
				for seq := uint64(1); ; {
					es, err := s.Entries(s.Feed(), seq, 5000)
					if err != nil {
						b.Fatal(err)
					}
					if len(es) == 0 {
						break
					}
					m, err := enc.fn(es)
					if err != nil {
						b.Fatal(err)
					}
					n, wire, seq = n+len(es), wire+len(m), es[len(es)-1].Seq+1
				}
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
			b.ReportMetric(float64(wire)/float64(n), "wire-B/entry")
			b.ReportMetric(float64(wire)/float64(b.N)/float64(zst), "×zstd-19")
		})
	}
}

// TestBenchBackInStep: how soon a town and a village of real processes,
// with the production intervals, are back in step (docs/performance.md):
//
//	GRIDBOX_BENCH=1 go test ./replicate -run TestBenchBackInStep -v -count=1 -timeout 20m
//
// The real village (GRIDBOX_BENCH_STEP_CASES cases, 2,000 by default) is
// synced to its town first. Then (1) the town restarts and, once it
// serves, 100 cases are registered at the village through the API (the
// duty staff's token), timed from the first report until the town has the
// last; (2) the village restarts and its first report after serving is
// timed until it is at the town. Each is repeated GRIDBOX_BENCH_RUNS
// times (3).
func TestBenchBackInStep(t *testing.T) {
	if os.Getenv("GRIDBOX_BENCH") == "" {
		t.Skip("set GRIDBOX_BENCH=1 to run the replication benchmark")
	}
	n := envInt("GRIDBOX_BENCH_STEP_CASES", 2000)
	town, village := procClusterWith(t, false, func(dir string) { cachedVillage(t, n, dir) })
	var token string
	var head uint64
	village.withStore(func(s *bolt.Store) {
		us, err := s.Users()
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range us {
			if u.Role == appliance.RoleDutyStaff {
				token, err = s.CreateAPIToken(u.ID)
			}
		}
		if token == "" || err != nil {
			t.Fatalf("no duty staff token: %v", err)
		}
		es, _ := s.Entries(s.Feed(), 1, 1<<30)
		head = uint64(len(es))
	})
	atTown := func() float64 {
		return town.Metric("gridbox_replicate_peer_received_entries_total", `code="`+villageCode+`"`)
	}
	town.Serve()
	village.Serve()
	waitFor(t, 10*time.Minute, "the village at the town", func() bool { return atTown() == float64(head) })
	report := func(i int) {
		t.Helper()
		body := fmt.Sprintf(`{"category":"public_affairs","description":"村东头路灯坏了，第%d次反映","source":"phone","name":"王秀英","phone":"13812345678"}`, i)
		req, _ := http.NewRequest("POST", village.URL+"api/v1/cases", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("report: status %d", resp.StatusCode)
		}
	}
	// The town's received count restarts with its process: count from it.
	for run := range envInt("GRIDBOX_BENCH_RUNS", 3) {
		town.Stop()
		town.Serve()
		start := time.Now()
		for i := range 100 {
			report(i)
		}
		written := time.Since(start)
		waitFor(t, time.Minute, "100 cases at the restarted town", func() bool { return atTown() >= 100 })
		t.Logf("run %d: 100 cases after the town restarted: %s (writing them took %s)", run+1, time.Since(start).Round(time.Millisecond), written.Round(time.Millisecond))

		before := atTown()
		village.Stop()
		village.Serve()
		start = time.Now()
		report(1000 + run)
		waitFor(t, time.Minute, "the first report after the village restarted", func() bool { return atTown() > before })
		t.Logf("run %d: first report after the village restarted: %s", run+1, time.Since(start).Round(time.Millisecond))
	}
}
