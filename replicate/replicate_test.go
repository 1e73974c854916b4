package replicate_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/replicate"
)

var testKey = func() []byte { k := make([]byte, 32); rand.Read(k); return k }()

// testNode is a real store and a real memberlist node on 127.0.0.1.
type testNode struct {
	t     testing.TB
	Dir   string
	Node  appliance.Node
	Store *bolt.Store
	R     *replicate.Replicator
	Clock *appliance.Clock
	keys  [][]byte
	Bind  string // memberlist address; kept across restarts

	SealedUp      string // replicate.Config.SealedUp
	MaxBatchBytes int    // replicate.Config.MaxBatchBytes
	Production    bool   // the production intervals, not Fast
	Wire          int    // batch encoding it says it reads, when not the newest
	Log           *slog.Logger
	Tap           func([]byte) // sees every message received
}

var seq atomic.Int64

// MustOpenNode creates a node folder (like gridbox init) and opens its store.
func MustOpenNode(tb testing.TB, role, code, parent string) *testNode {
	tb.Helper()
	return MustOpenNodeClock(tb, role, code, parent, nil)
}

// MustOpenNodeClock is MustOpenNode with the node's wall clock given.
func MustOpenNodeClock(tb testing.TB, role, code, parent string, now func() time.Time) *testNode {
	tb.Helper()
	return mustOpenNode(tb, role, code, parent, bolt.InitOptions{Clock: &appliance.Clock{Now: now}})
}

// MustOpenNodeKey is MustOpenNode with the node key given: its feed and
// memberlist name are the same in every run.
func MustOpenNodeKey(tb testing.TB, role, code, parent string, key ed25519.PrivateKey) *testNode {
	tb.Helper()
	return mustOpenNode(tb, role, code, parent, bolt.InitOptions{Clock: &appliance.Clock{}, Key: key})
}

func mustOpenNode(tb testing.TB, role, code, parent string, opts bolt.InitOptions) *testNode {
	tb.Helper()
	dir := tb.TempDir()
	n := appliance.Node{Role: role, Code: code, Name: fmt.Sprintf("测试%s%d", role, seq.Add(1)), Parent: parent}
	opts.AdminPassword = "admin-pass-123"
	if _, err := bolt.InitDataDir(context.Background(), dir, n, opts); err != nil {
		tb.Fatal(err)
	}
	tn := &testNode{t: tb, Dir: dir, Node: n, Clock: opts.Clock, keys: [][]byte{testKey}, Bind: "127.0.0.1:0"}
	tn.open()
	tb.Cleanup(func() { tn.Close() })
	return tn
}

func (tn *testNode) open() {
	tn.t.Helper()
	s, _, err := bolt.OpenDataDir(tn.Dir, &bolt.Options{Clock: tn.Clock})
	if err != nil {
		tn.t.Fatal(err)
	}
	tn.Store = s
}

// Start starts replication on a fresh port.
func (tn *testNode) Start() *testNode {
	tn.t.Helper()
	log := tn.Log
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	r, err := replicate.New(replicate.Config{
		Store: tn.Store, Node: tn.Node, Bind: tn.Bind, Keys: tn.keys, Fast: !tn.Production, SealedUp: tn.SealedUp, MaxBatchBytes: tn.MaxBatchBytes, Log: log,
	})
	if err != nil {
		tn.t.Fatal(err)
	}
	if tn.Tap != nil {
		r.Tap(tn.Tap)
	}
	if tn.Wire != 0 {
		r.ReadsWire(tn.Wire)
	}
	if err := r.Start(context.Background()); err != nil {
		tn.t.Fatal(err)
	}
	tn.R = r
	tn.Bind = r.Addr() // a restart comes back on the same port
	return tn
}

// Stop stops replication (the link goes down); the store stays open.
func (tn *testNode) Stop() {
	if tn.R != nil {
		tn.R.Close()
		tn.R = nil
	}
}

func (tn *testNode) Close() {
	tn.Stop()
	if tn.Store != nil {
		tn.Store.Close()
		tn.Store = nil
	}
}

// Write appends n case-like entries.
func (tn *testNode) Write(n int) {
	tn.t.Helper()
	for i := 0; i < n; {
		var drafts []appliance.Draft
		for ; i < n && len(drafts) < 500; i++ {
			drafts = append(drafts, appliance.Draft{Author: "u-admin", Kind: "bench.case", Version: 1,
				Body: map[string]any{"n": i, "text": "村民反映村东头道路破损，雨天积水严重，影响出行，请尽快安排维修。"}})
		}
		if _, err := tn.Store.Append(context.Background(), drafts...); err != nil {
			tn.t.Fatal(err)
		}
	}
}

// Head is the sequence this node holds of feed.
func (tn *testNode) Head(feed appliance.FeedID) uint64 {
	hs, err := tn.Store.Heads()
	if err != nil {
		tn.t.Fatal(err)
	}
	for _, h := range hs {
		if h.Feed == feed {
			return h.Seq
		}
	}
	return 0
}

// Enrol admits child on this node.
func (tn *testNode) Enrol(child *testNode) {
	tn.t.Helper()
	err := tn.Store.Enrol(context.Background(), "u-admin", appliance.Enrolment{Key: child.Store.Feed().String(), Code: child.Node.Code, Role: child.Node.Role})
	if err != nil {
		tn.t.Fatal(err)
	}
}

// MustVerify runs Store.Verify.
func (tn *testNode) MustVerify() {
	tn.t.Helper()
	if _, err := tn.Store.Verify(context.Background()); err != nil {
		tn.t.Fatalf("verify %s: %v", tn.Node.Code, err)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	waitEvery(tb, d, 20*time.Millisecond, what, cond)
}

// waitEvery is waitFor polling every step (a scrape of a busy node's
// /metrics costs it CPU: the benchmarks poll less often).
func waitEvery(tb testing.TB, d, step time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(step)
	}
	tb.Fatalf("timed out after %s waiting for %s", d, what)
}

// sameFeed checks that two nodes hold identical entries of feed.
func sameFeed(tb testing.TB, a, b *testNode, feed appliance.FeedID) {
	tb.Helper()
	ea, err := a.Store.Entries(feed, 1, 1<<30)
	if err != nil {
		tb.Fatal(err)
	}
	eb, err := b.Store.Entries(feed, 1, 1<<30)
	if err != nil {
		tb.Fatal(err)
	}
	if len(ea) != len(eb) {
		tb.Fatalf("%s holds %d entries of %s, %s holds %d", a.Node.Code, len(ea), feed.Short(), b.Node.Code, len(eb))
	}
	for i := range ea {
		// A receiver holds the signatures that ended its batches only.
		x, y := *ea[i], *eb[i]
		if x.Signed() && y.Signed() && !bytes.Equal(x.Sig, y.Sig) {
			tb.Fatalf("entry %d of %s: signatures differ", i+1, feed.Short())
		}
		x.Sig, y.Sig = nil, nil
		bx, _ := x.MarshalBinary()
		by, _ := y.MarshalBinary()
		if !bytes.Equal(bx, by) {
			tb.Fatalf("entry %d of %s differs", i+1, feed.Short())
		}
	}
	if n := len(ea); n > 0 && (!ea[n-1].Signed() || !eb[n-1].Signed()) {
		tb.Fatalf("last entry of %s unsigned", feed.Short())
	}
}

const (
	townCode     = "410184104000"
	villageCode  = "410184104201"
	villageCode2 = "410184104202"
)

func TestSyncUp(t *testing.T) {
	town := MustOpenNode(t, appliance.NodeTown, townCode, "").Start()
	village := MustOpenNode(t, appliance.NodeVillage, villageCode, town.R.Addr())
	town.Enrol(village)
	village.Write(1000)
	village.Start()
	feed := village.Store.Feed()
	want := village.Head(feed)
	waitFor(t, 10*time.Second, "village feed at the town", func() bool { return town.Head(feed) == want })

	t.Run("NewEntriesFollow", func(t *testing.T) {
		start := time.Now()
		village.Write(100)
		want := village.Head(feed)
		waitFor(t, 2*time.Second, "100 new entries at the town", func() bool { return town.Head(feed) == want })
		t.Logf("100 new entries reached the town in %s", time.Since(start))
	})
	sameFeed(t, town, village, feed)
	town.MustVerify()
	village.MustVerify()
	// The town's nodes view now knows the village.
	nodes, err := town.Store.Nodes()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := nodes[feed].Code, villageCode; got != want {
		t.Fatalf("town knows village code %q, want %q", got, want)
	}
}
