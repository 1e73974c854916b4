package replicate_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"math"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/appliance/fuzzseed"
	"gridbox/replicate"
)

// Fixed node keys: the feeds and memberlist names of the exchange below
// are the same in every run, so the messages captured into testdata stay
// addressed to, and signed by, the nodes the fuzz targets run.
var (
	townKey    = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{'T'}, ed25519.SeedSize))
	villageKey = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{'V'}, ed25519.SeedSize))
)

// panics counts what the message handler recovered from: it logs a panic
// and drops the message, so a fuzz target looks at the log.
type panics struct {
	n    atomic.Int64
	mu   sync.Mutex
	last string
}

// String is the last panic logged.
func (p *panics) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.last
}

type panicLog struct {
	slog.Handler
	p *panics
}

func (h panicLog) Handle(ctx context.Context, r slog.Record) error {
	if strings.HasPrefix(r.Message, "message handler failed") {
		var b strings.Builder
		r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, "%s=%v ", a.Key, a.Value); return true })
		h.p.mu.Lock()
		h.p.last = b.String()
		h.p.mu.Unlock()
		h.p.n.Add(1)
	}
	return h.Handler.Handle(ctx, r)
}

func (h panicLog) WithAttrs(as []slog.Attr) slog.Handler {
	return panicLog{h.Handler.WithAttrs(as), h.p}
}
func (h panicLog) WithGroup(g string) slog.Handler { return panicLog{h.Handler.WithGroup(g), h.p} }

// exchange is a town and its enrolled village, with fixed keys, running on
// 127.0.0.1 after a real case flow between them: a kiosk report with a
// photo goes up, the town's dispatch and result come down. What each node
// received meanwhile is kept in order.
type exchange struct {
	town, village     *testNode
	toTown, toVillage [][]byte
	panics            *panics
	stop              context.CancelFunc
}

func realExchange(tb testing.TB) *exchange {
	tb.Helper()
	ex := &exchange{panics: new(panics)}
	log := slog.New(panicLog{slog.NewTextHandler(io.Discard, nil), ex.panics})
	var mu sync.Mutex
	capturing := true
	tap := func(to *[][]byte) func([]byte) {
		return func(b []byte) {
			mu.Lock()
			defer mu.Unlock()
			if capturing {
				*to = append(*to, bytes.Clone(b))
			}
		}
	}
	ex.town = MustOpenNodeKey(tb, appliance.NodeTown, townCode, "", townKey)
	ex.town.Log, ex.town.Tap = log, tap(&ex.toTown)
	ex.town.Start()
	ex.village = MustOpenNodeKey(tb, appliance.NodeVillage, villageCode, ex.town.R.Addr(), villageKey)
	ex.village.Log, ex.village.Tap = log, tap(&ex.toVillage)
	ex.town.Enrol(ex.village)

	ctx, stop := context.WithCancel(context.Background())
	ex.stop = stop
	tb.Cleanup(stop)
	tc, vc := ex.town.cases(tb), ex.village.cases(tb)
	go tc.RunRelay(ctx)
	r, err := vc.RegisterCase(ctx, "", bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourceKiosk,
		Description: "村口路灯坏了，晚上看不见路", Name: "王秀英", Phone: "13812345678", Photos: [][]byte{testPhoto(tb, 1)}})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := vc.Act(ctx, "u-admin", []string{appliance.CaseLevelGroup, appliance.CaseLevelVillage}, appliance.CaseStep{Case: r.Code, Action: appliance.CaseEscalate, Text: "报乡镇"}); err != nil {
		tb.Fatal(err)
	}
	ex.village.Start()
	waitFor(tb, 15*time.Second, "the case and its photo at the town", func() bool {
		c, err := tc.Case(r.Code)
		return err == nil && c.Level == appliance.CaseLevelTown && ex.town.Store.CountWantedPhotos() == 0
	})
	townL := []string{appliance.CaseLevelTown}
	for _, step := range []appliance.CaseStep{
		{Case: r.Code, Action: appliance.CaseDispatch, Departments: []string{"供电所"}},
		{Case: r.Code, Action: appliance.CaseResolve, Text: "路灯已更换"},
	} {
		if _, err := tc.Act(ctx, "u-admin", townL, step); err != nil {
			tb.Fatal(err)
		}
	}
	waitFor(tb, 15*time.Second, "the town's result at the village", func() bool {
		c, err := vc.Track(r.Code, r.PIN)
		return err == nil && c.Status == appliance.StatusResolved
	})
	mu.Lock()
	capturing = false
	mu.Unlock()
	return ex
}

// close stops both nodes (the captured messages stay).
func (ex *exchange) close() {
	ex.stop()
	ex.village.Close()
	ex.town.Close()
}

// addSeeds adds the distinct captured messages, up to per of each type,
// without their first skip bytes, named by where they went and their type.
func (ex *exchange) addSeeds(f *testing.F, types string, skip, per int, args func(to byte, msg []byte) []any) {
	f.Helper()
	for to, msgs := range [][][]byte{ex.toTown, ex.toVillage} {
		seen := map[string]bool{}
		count := map[byte]int{}
		for _, m := range msgs {
			if !strings.ContainsRune(types, rune(m[0])) || seen[string(m)] || count[m[0]] == per {
				continue
			}
			seen[string(m)] = true
			count[m[0]]++
			name := fmt.Sprintf("to-%s-%c-%d", [2]string{"town", "village"}[to], m[0], count[m[0]])
			fuzzseed.Add(f, name, args(byte(to), m[skip:])...)
		}
	}
}

// waitIdle waits until both nodes have handled every message received.
func (ex *exchange) waitIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ex.town.R.Idle() || !ex.village.R.Idle() {
		if time.Now().After(deadline) {
			t.Fatal("a message was not handled within 10 s: the handler is stuck")
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// allocated returns the bytes fn allocates (with whatever else runs).
func allocated(fn func()) uint64 {
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// zstdRLEFrames is n zstd frames of blocks RLE blocks of 128 KiB zeros
// each, without a content size: 4 bytes in, 128 KiB out.
func zstdRLEFrames(n, blocks int) []byte {
	var b []byte
	for range n {
		b = binary.LittleEndian.AppendUint32(b, 0xFD2FB528)
		b = append(b, 0x00, 0x38) // no content size; window 128 KiB
		for i := range blocks {
			h := uint32(128<<10)<<3 | 1<<1 // RLE block
			if i == blocks-1 {
				h |= 1 // last
			}
			b = append(b, byte(h), byte(h>>8), byte(h>>16), 0)
		}
	}
	return b
}

// batchWithHeader is a batch message body (no type byte): the JSON header
// hdr, then body as the compressed part.
func batchWithHeader(hdr string, body []byte) []byte {
	b := binary.AppendUvarint(nil, uint64(len(hdr)))
	return append(append(b, hdr...), body...)
}

// FuzzDecodeBatch: a batch from anywhere is refused as malformed or
// oversized, or decodes to as many entries as its header says, which
// encode back to the same entries; decoding allocates no more than a few
// times the header's size before compression (at most 32 MiB) and the
// message: a small message cannot make a node allocate hundreds of MB.
func FuzzDecodeBatch(f *testing.F) {
	ex := realExchange(f)
	name, feed := ex.village.R.Name(), ex.village.Store.Feed()
	ex.close()
	ex.addSeeds(f, string(replicate.MsgBatch), 1, 8, func(_ byte, m []byte) []any { return []any{m} })
	hdr := func(raw int) string { return fmt.Sprintf(`{"f":"%s","k":"%s","n":1,"raw":%d}`, name, feed, raw) }
	// Bombs claiming the largest batch are in TestDecodeBatchBounded: at
	// 32 MiB decoded each, they would slow the fuzzer to a crawl.
	fuzzseed.Add(f, "zstd-bomb-3-frames-raw-1", batchWithHeader(hdr(1), zstdRLEFrames(3, 255)))
	fuzzseed.Add(f, "count-too-big", batchWithHeader(`{"f":"x","k":"y","n":1000000,"raw":10}`, nil))
	fuzzseed.Add(f, "header-length-huge", []byte{0xff, 0xff, 0xff, 0xff, 0x0f, '{'})
	fuzzseed.Add(f, "empty", []byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, es, err := decodeBatchBounded(t, b)
		if err != nil {
			if r := replicate.ReasonOf(err); r != "malformed" && r != "oversized" {
				t.Fatalf("DecodeBatch: %v, counted as %q", err, r)
			}
			return
		}
		if len(es) != h.Count || h.Count <= 0 || h.Count > replicate.MaxBatchEntries {
			t.Fatalf("%d entries decoded, header says %d", len(es), h.Count)
		}
		for _, e := range es {
			if e.Feed == (appliance.FeedID{}) || e.VerifySeal() != nil {
				return // refused later, entry by entry (scope, seal)
			}
		}
		// Both encodings give the same entries back.
		for _, again := range [][]byte{fuzzEncode(replicate.EncodeBatchAs(h.From, appliance.FeedID{}, es)),
			fuzzEncode(replicate.EncodeBatchV2As(h.From, appliance.FeedID{}, es, nil))} {
			if again == nil {
				return // a run that ends unsigned: refused by the store
			}
			_, es2, err := replicate.DecodeBatch(again[1:])
			if err != nil || len(es2) != len(es) {
				t.Fatalf("re-encoded batch: %v, %d entries of %d", err, len(es2), len(es))
			}
			for i := range es {
				if es2[i].Hash() != es[i].Hash() || !bytes.Equal(es2[i].Sealed, es[i].Sealed) {
					t.Fatalf("entry %d changed when encoded again", i)
				}
			}
		}
	})
}

func fuzzEncode(b []byte, err error) []byte {
	if err != nil {
		return nil
	}
	return b
}

// decodeBatchBounded decodes b and checks what that allocated: the buffer
// for the size before compression the header claims (at most 32 MiB),
// grown once when a block passes it, the entries decoded from it, and a
// few times the message.
func decodeBatchBounded(t *testing.T, b []byte) (h replicate.BatchHeader, es []*appliance.Entry, err error) {
	t.Helper()
	got := allocated(func() { h, es, err = replicate.DecodeBatch(b) })
	claimed := uint64(min(max(h.Raw, 0), replicate.MaxBatchRaw))
	if limit := 3*claimed + 64*uint64(len(b)) + 4<<20; got > limit {
		t.Fatalf("decoding %d bytes (header: raw %d) allocated %d MiB, more than %d MiB", len(b), h.Raw, got>>20, limit>>20)
	}
	return h, es, err
}

// TestDecodeBatchBounded: zstd frames of zero runs, a few KB that decode
// to far more than the header claims, are refused after decoding at most
// one block past the claimed size.
func TestDecodeBatchBounded(t *testing.T) {
	hdr := func(raw int) string { return fmt.Sprintf(`{"f":"x","k":"y","n":1,"raw":%d}`, raw) }
	for name, b := range map[string][]byte{
		"3-frames-raw-1":     batchWithHeader(hdr(1), zstdRLEFrames(3, 255)),                     // was 347 MiB
		"2-frames-raw-max":   batchWithHeader(hdr(replicate.MaxBatchRaw), zstdRLEFrames(2, 255)), // was 262 MiB
		"1-frame-300-blocks": batchWithHeader(hdr(replicate.MaxBatchRaw), zstdRLEFrames(1, 300)),
		"raw-max-no-body":    batchWithHeader(hdr(replicate.MaxBatchRaw), nil),
	} {
		t.Run(name, func(t *testing.T) {
			if _, _, err := decodeBatchBounded(t, b); err == nil || replicate.ReasonOf(err) != "malformed" && replicate.ReasonOf(err) != "oversized" {
				t.Fatalf("DecodeBatch: %v, want malformed or oversized", err)
			}
		})
	}
}

// FuzzDecodeControl: offers, wants, challenges, proofs, photo requests,
// photo headers and node metadata from anywhere are refused or decode to
// values whose encoding decodes to the same again.
func FuzzDecodeControl(f *testing.F) {
	ex := realExchange(f)
	controls := string([]byte{replicate.MsgOffer, replicate.MsgWant, replicate.MsgChallenge, replicate.MsgProof, replicate.MsgPhotoWant, replicate.MsgPhoto})
	ex.addSeeds(f, controls, 1, 4, func(_ byte, m []byte) []any { return []any{m} })
	for _, n := range []*testNode{ex.town, ex.village} {
		meta, err := replicate.NodeMeta{Role: n.Node.Role, Code: n.Node.Code, Name: n.Node.Name, Key: n.Store.Feed(), HTTP: "192.168.1.20:8080", Nonce: bytes.Repeat([]byte{7}, 16)}.Encode()
		if err != nil {
			f.Fatal(err)
		}
		fuzzseed.Add(f, "meta-"+n.Node.Role, meta)
	}
	ex.close()
	many := replicate.Control{From: "x", Key: "y", Heads: map[string]uint64{}}
	for i := range 100 {
		many.Heads[fmt.Sprintf("%064x", i)] = uint64(i)
	}
	fuzzseed.Add(f, "offer-100-heads", replicate.EncodeControl(replicate.MsgOffer, many)[1:])
	fuzzseed.Add(f, "empty", []byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if c, err := replicate.DecodeControl(b); err == nil {
			once := replicate.EncodeControl(replicate.MsgOffer, c)
			c2, err := replicate.DecodeControl(once[1:])
			if err != nil {
				t.Fatalf("a decoded control message does not decode encoded: %v", err)
			}
			if twice := replicate.EncodeControl(replicate.MsgOffer, c2); !bytes.Equal(once, twice) {
				t.Fatalf("control message changed when encoded again:\n%s\n%s", once, twice)
			}
		} else if r := replicate.ReasonOf(err); r != "malformed" && r != "oversized" {
			t.Fatalf("DecodeControl: %v, counted as %q", err, r)
		}
		if h, data, err := replicate.DecodePhoto(b); err == nil {
			h2, data2, err := replicate.DecodePhoto(replicate.EncodePhoto(h, data)[1:])
			if err != nil || h2 != h || !bytes.Equal(data2, data) {
				t.Fatalf("photo message changed when encoded again: %v", err)
			}
		}
		if m, err := replicate.DecodeMeta(b); err == nil {
			enc, err := m.Encode()
			if err != nil {
				t.Fatalf("decoded metadata does not encode: %v", err)
			}
			m2, err := replicate.DecodeMeta(enc)
			if err != nil || !reflect.DeepEqual(m2, m) && !(len(m.Nonce) == 0 && len(m2.Nonce) == 0) {
				t.Fatalf("metadata changed when encoded again: %+v, %+v, %v", m, m2, err)
			}
		}
	})
}

// FuzzNotifyMsg sends a message, as any member of the cluster could, to a
// running town (to even) or village (to odd) that have just exchanged a
// case: whatever it is, the node handles it without panicking and goes on
// handling messages.
func FuzzNotifyMsg(f *testing.F) {
	ex := realExchange(f)
	ex.addSeeds(f, "OWBCPFG", 0, 6, func(to byte, m []byte) []any { return []any{to, m} })
	hdr := fmt.Sprintf(`{"f":"%s","k":"%s","n":1,"raw":1}`, ex.village.R.Name(), ex.village.Store.Feed())
	fuzzseed.Add(f, "zstd-bomb", byte(0), append([]byte{replicate.MsgBatch}, batchWithHeader(hdr, zstdRLEFrames(3, 255))...))
	fuzzseed.Add(f, "type-only", byte(0), []byte{replicate.MsgBatch})
	f.Fuzz(func(t *testing.T, to byte, msg []byte) {
		n := ex.town
		if to%2 == 1 {
			n = ex.village
		}
		before := ex.panics.n.Load()
		n.R.NotifyMsg(msg)
		ex.waitIdle(t)
		if ex.panics.n.Load() != before {
			t.Fatalf("the handler panicked: %s", ex.panics)
		}
	})
}

// FuzzIngestSigned: the enrolled village, its key in hostile hands, signs
// any entry as the next of its feed and sends it to the town. The town
// stores it or refuses it (counted in /metrics), never both, never panics;
// what it stores verifies, and its clock keeps handing out later times.
func FuzzIngestSigned(f *testing.F) {
	ex := realExchange(f)
	feed := ex.village.Store.Feed()
	es, err := ex.town.Store.Entries(feed, 1, 100)
	if err != nil {
		f.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range es {
		kinds[e.Kind]++
		fuzzseed.Add(f, fmt.Sprintf("%s-%d", e.Kind, kinds[e.Kind]), e.Kind, e.Version, e.Body, e.Sealed, uint64(0))
	}
	fuzzseed.Add(f, "hlc-max", "case.step", uint16(1), []byte(`{}`), []byte(nil), uint64(math.MaxUint64))
	fuzzseed.Add(f, "hlc-1970", "case.step", uint16(1), []byte(`{}`), []byte(nil), uint64(1))
	fuzzseed.Add(f, "not-json", "case.step", uint16(1), []byte("\xff"), []byte("x"), uint64(0))
	stored := 0
	f.Fuzz(func(t *testing.T, kind string, version uint16, body, sealed []byte, at uint64) {
		prevs, err := ex.town.Store.Entries(feed, ex.town.Head(feed), 1)
		if err != nil || len(prevs) != 1 {
			t.Fatalf("the town's head of the village feed: %v", err)
		}
		prev := prevs[0]
		e := &appliance.Entry{Feed: feed, Seq: prev.Seq + 1, Prev: prev.Hash(), Time: appliance.HLC(at), Kind: kind, Version: version, Body: body, Sealed: sealed}
		if at == 0 {
			e.Time = prev.Time + 1
		}
		if sealed != nil {
			e.SealHash = sha256.Sum256(sealed)
		}
		h := e.Hash()
		e.Sig = ed25519.Sign(villageKey, h[:])
		if err := e.VerifySignature(); err != nil {
			t.Fatalf("a signed entry does not verify: %v", err)
		}
		if data, err := e.MarshalBinary(); err != nil || len(data) > 1<<16 {
			return // no bigger than real entries
		}
		refused := func() (n uint64) {
			for _, v := range ex.town.R.Rejected() {
				n += v
			}
			return n
		}
		before, panicked := refused(), ex.panics.n.Load()
		r := ex.town.R.Rejected()
		sigBefore := r["signature"] + r["seal"]
		ex.town.R.NotifyMsg(ex.village.R.EncodeBatch([]*appliance.Entry{e}))
		ex.waitIdle(t)
		// On a loaded machine memberlist may take the village for dead a
		// moment: it proves its key again, and the town keeps the batch
		// until then.
		var head uint64
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if head = ex.town.Head(feed); head != prev.Seq || refused() != before {
				break
			}
		}
		if ex.panics.n.Load() != panicked {
			t.Fatalf("the handler panicked: %s", ex.panics)
		}
		t.Logf("%s entry %d: head %d, refused %v", kind, e.Seq, head, ex.town.R.Rejected())
		switch {
		case head == e.Seq:
			// Verify refolds the whole ledger: every 25th entry, or the
			// fuzzer slows to a crawl as the ledger grows.
			if stored++; stored%25 == 1 {
				if _, err := ex.town.Store.Verify(context.Background()); err != nil {
					t.Fatalf("the town stored a %s entry and no longer verifies: %v", kind, err)
				}
			}
			clock := ex.town.Store.Clock()
			if a, b := clock.Next(), clock.Next(); a <= prev.Time || b <= a {
				t.Fatalf("the town's clock after an entry at %d: %d, then %d", e.Time, a, b)
			}
		case head == prev.Seq:
			if refused() == before {
				t.Fatalf("a %s entry was neither stored nor refused within 10 s", kind)
			}
			if r := ex.town.R.Rejected(); r["signature"]+r["seal"] != sigBefore {
				t.Fatalf("a %s entry that verifies was refused for its signature or seal: the wire changed it", kind)
			}
		default:
			t.Fatalf("head %d after sending entry %d", head, e.Seq)
		}
	})
}
