package replicate_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
)

// The benchmark on records given as NDJSON (docs/performance.md,
// "Replication"), so that the same records can be compared with another
// system, and PouchDB on them in the same run:
//
//	GRIDBOX_BENCH=1 GRIDBOX_BENCH_NDJSON=records.ndjson GRIDBOX_BENCH_POUCHDB=1 \
//	  go test ./replicate -run TestBenchNDJSON -v -count=1 -timeout 30m
//
// Each line (one JSON object) becomes one entry of kind bench.doc, body
// the line as it is, at a village box started next to an empty town (real
// processes, production intervals); timed until the town holds them all.
// Without GRIDBOX_BENCH_NDJSON the benchmark writes GRIDBOX_BENCH_DOCS
// (50,000) records shaped like the peer's: a case report of ~360 bytes
// with a real-looking name and phone, compressing to ~22 bytes a record
// (the peer's own: 484 and 38).
// With GRIDBOX_BENCH_POUCHDB=1, PouchDB (npm: pouchdb-node, express-pouchdb,
// installed into ~/.cache/gridbox/pouchdb, not the repository) pushes the
// same file from a village database to a town server on this machine.
func TestBenchNDJSON(t *testing.T) {
	if os.Getenv("GRIDBOX_BENCH") == "" {
		t.Skip("set GRIDBOX_BENCH=1 to run the replication benchmark")
	}
	file := os.Getenv("GRIDBOX_BENCH_NDJSON")
	if file == "" {
		file = filepath.Join(t.TempDir(), "peer.ndjson")
		os.WriteFile(file, peerRecords(envInt("GRIDBOX_BENCH_DOCS", 50000)), 0o600)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var lines []json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), appliance.MaxEntrySize/2)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			if !json.Valid(l) {
				t.Fatalf("line %d of %s is not JSON", len(lines)+1, file)
			}
			lines = append(lines, append(json.RawMessage(nil), l...))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	zst := zstd19(t, data)
	t.Logf("%s: %d records, %d bytes (%d per record), zstd -19 %d (%d per record)", filepath.Base(file), len(lines), len(data), len(data)/len(lines), zst, int(zst)/len(lines))

	town, village := procClusterWith(t, false, nil)
	_, head := village.appendEntries(len(lines), func(i int) appliance.Draft {
		return appliance.Draft{Author: "u-admin", Kind: "bench.doc", Version: 1, Body: lines[i]}
	})
	town.Serve()
	townCPU0 := town.CPU()
	start := time.Now()
	village.Serve()
	// (The town writes entries of its own meanwhile: count the village's.)
	waitFor(t, 10*time.Minute, "all records at the town", func() bool {
		return town.Metric("gridbox_replicate_peer_received_entries_total", `code="`+villageCode+`"`) >= float64(head)
	})
	took := time.Since(start)
	townCPU, villageCPU := town.CPU()-townCPU0, village.CPU()
	wire := village.Metric("gridbox_replicate_peer_sent_bytes_total") + village.Metric("gridbox_replicate_peer_received_bytes_total")
	town.Stop()
	village.Stop()
	t.Logf("gridbox: %d records village → town in %s (process start to stored), %.0f bytes on the wire, %.2f× zstd -19",
		len(lines), took.Round(time.Millisecond), wire, wire/float64(zst))
	t.Logf("gridbox CPU time (user + system): town %s, village %s (its start included)", townCPU.Round(10*time.Millisecond), villageCPU.Round(10*time.Millisecond))

	if os.Getenv("GRIDBOX_BENCH_POUCHDB") == "" {
		return
	}
	p := pouchdbRun(t, file)
	t.Logf("PouchDB: %d records pushed in %s (loading them took %s), %d bytes on the wire, %.2f× zstd -19",
		p.Docs, time.Duration(p.Ms)*time.Millisecond, time.Duration(p.LoadMs)*time.Millisecond, p.Bytes, float64(p.Bytes)/float64(zst))
	t.Logf("PouchDB CPU time (user + system): town %s, village %s", time.Duration(p.TownCPU)*time.Millisecond, time.Duration(p.VillCPU)*time.Millisecond)
	t.Logf("PouchDB ÷ gridbox: time %.1f×, bytes %.1f×", float64(p.Ms)/float64(took.Milliseconds()), float64(p.Bytes)/wire)
}

// pouchResult is what pouchdb_bench.js prints.
type pouchResult struct {
	Docs     int   `json:"docs"`
	Written  int   `json:"written"`
	TownDocs int   `json:"town_docs"`
	LoadMs   int64 `json:"load_ms"`
	Ms       int64 `json:"ms"`
	Bytes    int64 `json:"bytes"`
	TownCPU  int64 `json:"town_cpu_ms"`
	VillCPU  int64 `json:"village_cpu_ms"`
}

// pouchdbDir is where PouchDB is installed: a cache folder beside
// .ci/install-deps's axe-core, never the repository.
func pouchdbDir() string {
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "gridbox", "pouchdb")
}

// pouchdbRun installs PouchDB into its cache folder (once) and runs
// testdata/pouchdb_bench.js: a town server, then a village pushing file.
func pouchdbRun(t *testing.T, file string) pouchResult {
	t.Helper()
	mods := pouchdbDir()
	if _, err := os.Stat(filepath.Join(mods, "node_modules", "express-pouchdb")); err != nil {
		os.MkdirAll(mods, 0o700)
		cmd := exec.Command("npm", "install", "--no-save", "--no-audit", "--no-fund", "--loglevel=error", "--prefix", mods,
			"pouchdb-node@9.0.0", "express-pouchdb@4.2.0", "express@4")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm install PouchDB: %v\n%s", err, out)
		}
	}
	script, _ := filepath.Abs("testdata/pouchdb_bench.js")
	env := append(os.Environ(), "NODE_PATH="+filepath.Join(mods, "node_modules"))
	dir := t.TempDir()
	port := freePort(t)
	srv := exec.Command("node", script, "town", fmt.Sprint(port), filepath.Join(dir, "town"))
	os.MkdirAll(filepath.Join(dir, "town"), 0o700)
	srv.Env = env
	var srvOut bytes.Buffer
	srv.Stdout, srv.Stderr = &srvOut, &srvOut
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	waitFor(t, 20*time.Second, "the PouchDB town server", func() bool { return strings.Contains(srvOut.String(), "serving") })
	cmd := exec.Command("node", script, "village", file, dir, fmt.Sprintf("http://127.0.0.1:%d/town", port))
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("PouchDB village: %v\n%s\n%s", err, out, srvOut.String())
	}
	var r pouchResult
	if err := json.Unmarshal(bytes.TrimSpace(out), &r); err != nil {
		t.Fatalf("PouchDB village said %q", out)
	}
	if r.TownDocs != r.Docs {
		t.Fatalf("PouchDB town holds %d of %d records", r.TownDocs, r.Docs)
	}
	return r
}

// peerRecords are n records shaped like the peer benchmark's: a case as a
// document store holds it, ~480 bytes with a name and a phone.
func peerRecords(n int) []byte {
	r := rand.New(rand.NewPCG(3, 5))
	base := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	for i := range n {
		doc := map[string]any{
			"_id":         fmt.Sprintf("case-%06d", i),
			"type":        "case",
			"village":     villageCode,
			"group":       fmt.Sprintf("%s-%02d", villageCode, 1+r.IntN(12)),
			"category":    benchCats2[r.IntN(len(benchCats2))],
			"source":      benchSrc[r.IntN(len(benchSrc))],
			"reporter":    realName(r),
			"phone":       realMobile(r),
			"description": realText(r),
			"status":      []string{"pending", "handling", "resolved", "closed"}[r.IntN(4)],
			"reported_at": base.Add(time.Duration(i) * 7 * time.Minute).Format(time.RFC3339),
			"author":      fmt.Sprintf("u-%d", r.IntN(20)),
		}
		line, _ := json.Marshal(doc)
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}
