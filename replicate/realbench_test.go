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

	"github.com/klauspost/compress/zstd"

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
// steps, photos, voice messages, visits, archive changes and daily register closes) is
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
	t.Logf("village made (or copied from the cache) in %s: %d cases, %d steps, %d visits, %d archive changes, %d register closes, %d photos, %d voice messages",
		time.Since(gen).Round(time.Second), vs.Cases, vs.Steps, vs.Visits, vs.Archive, vs.Closes, vs.Photos, vs.Voices)
	t.Logf("village's own feed by kind: %v", vs.Kinds)
	var feed appliance.FeedID
	var head uint64
	village.withStore(func(s *bolt.Store) {
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
	profile := serveProfiled(town)
	anon := town.SampleAnonRSS()
	townCPU0 := town.CPU()
	start := time.Now()
	village.Serve()
	go profile()
	waitFor(t, 10*time.Minute, "the village's feed at the town", func() bool {
		return town.Metric("gridbox_replicate_peer_received_entries_total", `code="`+villageCode+`"`) >= float64(head)
	})
	elapsed := time.Since(start)
	townCPU, villageCPU := town.CPU()-townCPU0, village.CPU()
	rss, rssAnon := town.PeakRSS(), anon()
	waitFor(t, 10*time.Minute, "the photos and voice messages at the town", func() bool {
		return town.Metric("gridbox_replicate_photos_received_total") == float64(vs.Photos+vs.Voices)
	})
	photos := time.Since(start)
	// The bytes are compared with the records that crossed once nothing
	// moves any more (with what the village wrote as it started:
	// escalations of cases that fell overdue).
	received := func() float64 {
		return town.Metric("gridbox_replicate_peer_received_entries_total", `code="`+villageCode+`"`)
	}
	last, since := received(), time.Now()
	waitFor(t, 5*time.Minute, "the link at rest", func() bool {
		if c := received(); c != last {
			last, since = c, time.Now()
		}
		return time.Since(since) > 3*time.Second
	})
	sentB, recvB := village.Metric("gridbox_replicate_peer_sent_bytes_total"), village.Metric("gridbox_replicate_peer_received_bytes_total")
	all := sentB + recvB
	wire := all - village.Metric("gridbox_replicate_photo_sent_bytes_total")
	town.Stop()
	village.Stop()
	// The entries cross in order: the town holds the first `last` of the
	// village's feed (the village may have escalated more since).
	var nd []byte
	sent := int(last)
	village.withStore(func(s *bolt.Store) { nd = ledgerNDJSON(t, s, sent) })

	zst := zstd19(t, nd)
	t.Logf("%d entries (%d cases) village → town, process start to views folded: %s (%.0f entries/s); photos and voice messages (%d) by %s",
		head, vs.Cases, elapsed.Round(time.Millisecond), float64(head)/elapsed.Seconds(), vs.Photos+vs.Voices, photos.Round(time.Millisecond))
	t.Logf("bytes on the wire (replication messages without the photo traffic; %.0f with it, %.0f sent and %.0f received by the village): %.0f for %d entries (%d written by the village as it started); NDJSON %d (%d per entry), zstd -19 of it %d; ratio %.2f",
		all, sentB, recvB, wire, sent, sent-int(head), len(nd), len(nd)/sent, zst, wire/float64(zst))
	t.Logf("CPU time meanwhile (user + system): town %s, village %s (its start included)", townCPU.Round(10*time.Millisecond), villageCPU.Round(10*time.Millisecond))
	t.Logf("town peak RSS %.1f MiB, of it anonymous (without the data file's mapped pages) %.1f MiB", float64(rss)/(1<<20), float64(rssAnon)/(1<<20))

	sameCases(t, town, village, feed, uint64(sent))
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
// village does: every case whose steps are all on the village's feed, up
// to head, is the same at both.
func sameCases(tb testing.TB, town, village *procNode, feed appliance.FeedID, head uint64) {
	tb.Helper()
	var vcases, tcases []*appliance.Case
	village.withStore(func(s *bolt.Store) { vcases = allCases(tb, s) })
	town.withStore(func(s *bolt.Store) { tcases = allCases(tb, s) })
	at := map[string]*appliance.Case{}
	for _, c := range tcases {
		at[c.ID] = c
	}
	same, later := 0, 0
	for _, c := range vcases {
		own, after := true, false
		for _, st := range c.Steps {
			own = own && st.Feed == feed.String()
			after = after || st.Seq > head
		}
		if !own {
			continue
		}
		if after {
			later++ // escalated by the village as it started, after the timing: may still be on the way
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
	tb.Logf("%d of the village's %d cases identical at the town (%d changed by the village after the timing not compared; the rest have the demo town's steps, which stay in the village)", same, len(vcases), later)
	if same < len(vcases)*9/10 {
		tb.Fatalf("only %d of %d cases compared", same, len(vcases))
	}
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
	zst := zstd19(b, ledgerNDJSON(b, s, 1<<30))
	keys := map[appliance.FeedID][]byte{s.Feed(): s.Signer().SaltKey()}
	columns := func(es []*appliance.Entry) ([]byte, error) {
		return replicate.EncodeBatchV2As("village", s.Feed(), es, keys)
	}
	for _, enc := range []struct {
		name  string
		level zstd.EncoderLevel
		fn    func([]*appliance.Entry) ([]byte, error)
	}{
		{"Frames", zstd.SpeedBetterCompression, func(es []*appliance.Entry) ([]byte, error) { return replicate.EncodeBatchAs("village", s.Feed(), es) }},
		{"Columns/better", zstd.SpeedBetterCompression, columns},
		{"Columns/best", zstd.SpeedBestCompression, columns},
	} {
		b.Run(enc.name, func(b *testing.B) {
			replicate.WithZstdLevel(enc.level, func() { encodeRun(b, s, zst, enc.fn) })
		})
	}
}

func encodeRun(b *testing.B, s *bolt.Store, zst int64, fn func([]*appliance.Entry) ([]byte, error)) {
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
			m, err := fn(es)
			if err != nil {
				b.Fatal(err)
			}
			n, wire, seq = n+len(es), wire+len(m), es[len(es)-1].Seq+1
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "entries/s")
	b.ReportMetric(float64(wire)/float64(n), "wire-B/entry")
	b.ReportMetric(float64(wire)/float64(b.N)/float64(zst), "×zstd-19")
}

// TestBenchBackInStep: how soon a town and a village of real processes,
// with the production intervals, are back in step (docs/performance.md):
//
//	GRIDBOX_BENCH=1 go test ./replicate -run TestBenchBackInStep -v -count=1 -timeout 20m
//
// The real village (GRIDBOX_BENCH_STEP_CASES cases, 2,000 by default) is
// synced to its town first. Then, GRIDBOX_BENCH_RUNS times (3):
//
//  1. the town's process is killed (a power cut), 100 cases are registered
//     at the village through the API (the duty staff's token) while it is
//     down, and the town is started again: timed from the town's process
//     start until the town's API shows the last of them;
//  2. the town is stopped and started (an orderly restart) and 100 cases
//     are registered right after: timed from the first request until the
//     town shows the last;
//  3. the village reboots (stopped, started) and its first report is
//     timed from the request until the town shows it.
func TestBenchBackInStep(t *testing.T) {
	if os.Getenv("GRIDBOX_BENCH") == "" {
		t.Skip("set GRIDBOX_BENCH=1 to run the replication benchmark")
	}
	n := envInt("GRIDBOX_BENCH_STEP_CASES", 2000)
	town, village := procClusterWith(t, false, func(dir string) { cachedVillage(t, n, dir) })
	token := func(n *procNode, role appliance.Role) (tok string) {
		n.withStore(func(s *bolt.Store) {
			us, err := s.Users()
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range us {
				if u.Role == role && tok == "" {
					// (A fresh node's admin must change its first password.)
					if err = s.SetPassword(u.ID, "Bench-2026-pass", false, ""); err != nil {
						t.Fatal(err)
					}
					if tok, err = s.CreateAPIToken(u.ID); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
		if tok == "" {
			t.Fatalf("%s: no user with role %s", n.Code, role)
		}
		return tok
	}
	villageTok, townTok := token(village, appliance.RoleDutyStaff), token(town, appliance.RoleAdmin)
	api := func(method, url, tok, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	report := func(i int) string {
		t.Helper()
		code, b := api("POST", village.URL+"api/v1/cases", villageTok,
			fmt.Sprintf(`{"category":"public_affairs","description":"村东头路灯坏了，第%d次反映","source":"phone","name":"王秀英","phone":"13812345678"}`, i))
		var r struct{ Code string }
		if code != http.StatusCreated || json.Unmarshal(b, &r) != nil || r.Code == "" {
			t.Fatalf("report: %d %s", code, b)
		}
		return r.Code
	}
	var lastAnswer string // the town's last answer, for a timeout's message
	atTown := func(id string) func() bool {
		return func() bool {
			code, b := api("GET", town.URL+"api/v1/cases/"+id, townTok, "")
			lastAnswer = fmt.Sprintf("%s: %d %.200s", id, code, b)
			return code == http.StatusOK
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the town's last answer: %s", lastAnswer)
		}
	})
	town.Serve()
	village.Serve()
	last := report(0)
	waitFor(t, 3*time.Minute, "the village at the town", atTown(last))
	for run := range envInt("GRIDBOX_BENCH_RUNS", 3) {
		town.Kill()
		for i := range 100 {
			last = report(run*1000 + i)
		}
		start := time.Now()
		town.Serve()
		waitFor(t, time.Minute, "100 cases at the town after it was killed", atTown(last))
		t.Logf("run %d: the town killed, 100 cases written meanwhile: at the town %s after its process started",
			run+1, time.Since(start).Round(time.Millisecond))

		town.Stop()
		town.Serve()
		start = time.Now()
		for i := range 100 {
			last = report(run*1000 + 100 + i)
		}
		wrote := time.Since(start)
		waitFor(t, time.Minute, "100 cases at the restarted town", atTown(last))
		t.Logf("run %d: 100 cases written right after the town restarted: the last at the town %s after the first request (writing them took %s)",
			run+1, time.Since(start).Round(time.Millisecond), wrote.Round(time.Millisecond))

		village.Stop()
		village.Serve()
		start = time.Now()
		last = report(run*1000 + 500)
		waitFor(t, time.Minute, "the first report after the village restarted", atTown(last))
		t.Logf("run %d: first report after the village restarted: at the town %s after its request", run+1, time.Since(start).Round(time.Millisecond))
	}
}

// serveProfiled starts n; with GRIDBOX_BENCH_PPROF=host:port set, the
// function it returns takes a CPU profile of n (GRIDBOX_BENCH_PPROF_SECONDS,
// 20 by default) into town.cpu.prof in the current folder.
func serveProfiled(n *procNode) func() {
	addr := os.Getenv("GRIDBOX_BENCH_PPROF")
	if addr == "" {
		n.Serve()
		return func() {}
	}
	os.Setenv("GRIDBOX_PPROF", addr)
	n.Serve()
	os.Unsetenv("GRIDBOX_PPROF")
	return func() {
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, envInt("GRIDBOX_BENCH_PPROF_SECONDS", 20)))
		if err != nil {
			n.t.Logf("profile: %v", err)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		os.WriteFile("town.cpu.prof", b, 0o600)
	}
}
