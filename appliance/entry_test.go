package appliance_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"reflect"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/appliance/demo"
	"gridbox/appliance/fuzzseed"
)

// newSigner returns a signer with a key derived from seed, so failures
// reproduce.
func newSigner(tb testing.TB, seed byte) *appliance.Signer {
	tb.Helper()
	s := appliance.NewSigner(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)))
	s.Rand = rand.New(rand.NewSource(int64(seed)))
	return s
}

type notice struct {
	ID    string `json:"id"`
	Title string `json:"title"`
}

type secret struct {
	IDNumber string `json:"id_number"`
}

// mustSeal seals a chain of n entries; every second one has a sealed part.
func mustSeal(tb testing.TB, s *appliance.Signer, n int) []*appliance.Entry {
	tb.Helper()
	var out []*appliance.Entry
	var prev *appliance.Entry
	t := appliance.HLCFromTime(time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC))
	for i := 0; i < n; i++ {
		d := appliance.Draft{Author: "u1", Kind: "notice.set", Version: 1, Body: notice{ID: "n1", Title: "停水通知"}}
		if i%2 == 1 {
			d.Sealed = secret{IDNumber: "41018419800101001X"}
		}
		e, err := s.Seal(d, prev, t+appliance.HLC(i))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, e)
		prev = e
	}
	return out
}

func TestEntry_MarshalBinary(t *testing.T) {
	s := newSigner(t, 1)
	es := mustSeal(t, s, 2)

	t.Run("OK", func(t *testing.T) {
		for _, e := range es {
			data, err := e.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got appliance.Entry
			if err := got.UnmarshalBinary(data); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(&got, e) {
				t.Fatalf("round trip:\n got %+v\nwant %+v", &got, e)
			}
			if err := got.VerifySignature(); err != nil {
				t.Fatalf("VerifySignature=%v", err)
			}
			if got, want := got.Hash(), e.Hash(); got != want {
				t.Fatalf("Hash=%v, want %v", got, want)
			}
		}
	})
	t.Run("Sealed", func(t *testing.T) {
		var v secret
		if ok, err := es[1].DecodeSealed(&v); err != nil || !ok || v.IDNumber != "41018419800101001X" {
			t.Fatalf("DecodeSealed=%v %v %+v", ok, err, v)
		}
		if ok, err := es[1].Redacted().DecodeSealed(&v); err != nil || ok {
			t.Fatalf("DecodeSealed(redacted)=%v %v", ok, err)
		}
	})
	t.Run("Unsigned", func(t *testing.T) {
		// An entry covered by a later signature is stored without its own.
		e := *es[0]
		e.Sig = nil
		b, err := e.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got appliance.Entry
		if err := got.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if got.Sig != nil || got.Signed() || got.Hash() != es[0].Hash() {
			t.Fatalf("round trip: sig %x, hash %s, want no signature and hash %s", got.Sig, got.Hash(), es[0].Hash())
		}
		if !errors.Is(got.VerifySignature(), appliance.ErrBadSignature) {
			t.Fatal("an entry without signature verified")
		}
	})
	t.Run("ErrShortSignature", func(t *testing.T) {
		e := *es[0]
		e.Sig = e.Sig[:63]
		if _, err := e.MarshalBinary(); err == nil {
			t.Fatal("expected error for a 63-byte signature")
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		// An entry that could not be read back must not be written.
		e, err := s.Seal(appliance.Draft{Kind: "notice.set", Body: notice{ID: "n1", Title: string(bytes.Repeat([]byte("x"), appliance.MaxEntrySize))}}, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.MarshalBinary(); err == nil {
			t.Fatal("expected error for an entry larger than MaxEntrySize")
		}
	})
}

func TestEntry_VerifySignature(t *testing.T) {
	s := newSigner(t, 2)
	es := mustSeal(t, s, 2)

	t.Run("OK", func(t *testing.T) {
		for _, e := range es {
			if err := e.VerifySignature(); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("Redacted", func(t *testing.T) {
		r := es[1].Redacted()
		if r.Sealed != nil || es[1].Sealed == nil {
			t.Fatal("Redacted did not drop only the copy's sealed part")
		}
		if err := r.VerifySignature(); err != nil {
			t.Fatalf("VerifySignature(redacted)=%v", err)
		}
		data, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var got appliance.Entry
		if err := got.UnmarshalBinary(data); err != nil {
			t.Fatal(err)
		}
		if err := got.VerifySignature(); err != nil {
			t.Fatalf("VerifySignature(redacted, decoded)=%v", err)
		}
		if got.Hash() != es[1].Hash() {
			t.Fatal("redacted entry hashes differently: the chain would break")
		}
	})
	t.Run("ErrBadSeal", func(t *testing.T) {
		e := *es[1]
		e.Sealed = append([]byte(nil), e.Sealed...)
		e.Sealed[len(e.Sealed)-2] ^= 1
		if err := e.VerifySignature(); !errors.Is(err, appliance.ErrBadSeal) {
			t.Fatalf("VerifySignature=%v, want ErrBadSeal", err)
		}
		// A sealed part added to an entry that had none.
		f := *es[0]
		f.Sealed = []byte("0123456789abcdef{}")
		if err := f.VerifySignature(); !errors.Is(err, appliance.ErrBadSeal) {
			t.Fatalf("VerifySignature=%v, want ErrBadSeal", err)
		}
	})
	t.Run("ErrBadSignature", func(t *testing.T) {
		// Other node's key: same fields, different feed.
		e := *es[0]
		e.Feed = newSigner(t, 3).Feed
		if err := e.VerifySignature(); !errors.Is(err, appliance.ErrBadSignature) {
			t.Fatalf("VerifySignature=%v, want ErrBadSignature", err)
		}
	})
	t.Run("EveryFlippedByte", func(t *testing.T) {
		// Any single flipped byte anywhere in the encoding either fails to
		// decode or fails to verify: nothing slips through.
		for _, orig := range es {
			data, err := orig.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			for i := range data {
				for _, mask := range []byte{0x01, 0x80, 0xff} {
					b := append([]byte(nil), data...)
					b[i] ^= mask
					var e appliance.Entry
					if err := e.UnmarshalBinary(b); err != nil {
						if !errors.Is(err, appliance.ErrMalformed) {
							t.Fatalf("byte %d ^%#x: UnmarshalBinary=%v, want ErrMalformed", i, mask, err)
						}
						continue
					}
					if err := e.VerifySignature(); err == nil {
						t.Fatalf("seq %d byte %d ^%#x: tampered entry verifies", orig.Seq, i, mask)
					}
				}
			}
		}
	})
	t.Run("EveryFieldChanged", func(t *testing.T) {
		e := es[0]
		for name, change := range map[string]func(*appliance.Entry){
			"Feed":     func(e *appliance.Entry) { e.Feed[0] ^= 1 },
			"Seq":      func(e *appliance.Entry) { e.Seq++ },
			"Prev":     func(e *appliance.Entry) { e.Prev[31] ^= 1 },
			"Time":     func(e *appliance.Entry) { e.Time++ },
			"Author":   func(e *appliance.Entry) { e.Author = "u2" },
			"Kind":     func(e *appliance.Entry) { e.Kind = "grid.set" },
			"Version":  func(e *appliance.Entry) { e.Version = 2 },
			"Body":     func(e *appliance.Entry) { e.Body = []byte(`{"id":"n1","title":"停电通知"}`) },
			"SealHash": func(e *appliance.Entry) { e.SealHash[0] ^= 1 },
			"Sig":      func(e *appliance.Entry) { e.Sig = append([]byte(nil), e.Sig...); e.Sig[5] ^= 1 },
			// Moving bytes between length-prefixed fields keeps the
			// concatenation the same; the length prefixes must catch it.
			"AuthorKindBoundary": func(e *appliance.Entry) { e.Author, e.Kind = e.Author+"n", e.Kind[1:] },
		} {
			c := *e
			change(&c)
			if err := c.VerifySignature(); !errors.Is(err, appliance.ErrBadSignature) {
				t.Errorf("%s changed: VerifySignature=%v, want ErrBadSignature", name, err)
			}
		}
	})
}

func TestEntry_VerifyLink(t *testing.T) {
	s := newSigner(t, 4)
	es := mustSeal(t, s, 4)

	t.Run("OK", func(t *testing.T) {
		var prev *appliance.Entry
		for _, e := range es {
			if err := e.VerifyLink(prev); err != nil {
				t.Fatalf("seq %d: %v", e.Seq, err)
			}
			prev = e
		}
		// The chain holds across a redacted predecessor.
		if err := es[2].VerifyLink(es[1].Redacted()); err != nil {
			t.Fatalf("after redacted: %v", err)
		}
	})
	t.Run("ErrBadSequence", func(t *testing.T) {
		if err := es[2].VerifyLink(es[0]); !errors.Is(err, appliance.ErrBadSequence) {
			t.Fatalf("gap: VerifyLink=%v, want ErrBadSequence", err)
		}
		if err := es[1].VerifyLink(nil); !errors.Is(err, appliance.ErrBadSequence) {
			t.Fatalf("first is seq 2: VerifyLink=%v, want ErrBadSequence", err)
		}
		if err := es[1].VerifyLink(es[1]); !errors.Is(err, appliance.ErrBadSequence) {
			t.Fatalf("repeat: VerifyLink=%v, want ErrBadSequence", err)
		}
	})
	t.Run("ErrBrokenChain", func(t *testing.T) {
		// A second, different entry 2 (a fork): entry 3 does not chain to it.
		fork, err := s.Seal(appliance.Draft{Kind: "notice.set", Body: notice{ID: "n2", Title: "另一条"}}, es[0], es[1].Time)
		if err != nil {
			t.Fatal(err)
		}
		if err := es[2].VerifyLink(fork); !errors.Is(err, appliance.ErrBrokenChain) {
			t.Fatalf("wrong prev: VerifyLink=%v, want ErrBrokenChain", err)
		}
		first := *es[0]
		first.Prev[0] = 1
		if err := first.VerifyLink(nil); !errors.Is(err, appliance.ErrBrokenChain) {
			t.Fatalf("first with prev: VerifyLink=%v, want ErrBrokenChain", err)
		}
	})
}

func TestEntry_UnmarshalBinary(t *testing.T) {
	s := newSigner(t, 5)
	es := mustSeal(t, s, 2)
	valid, err := es[1].MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"Nil":          nil,
		"Empty":        {},
		"Version0":     {0},
		"Version2":     append([]byte{2}, valid[1:]...),
		"OnlyVersion":  {appliance.EncodingVersion},
		"Garbage":      []byte("this is not an entry at all, just some text"),
		"Trailing":     append(append([]byte(nil), valid...), 0),
		"HugeLength":   append(append([]byte(nil), valid[:1+32+8+32+8+2]...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		"VarintTooBig": append(append([]byte(nil), valid[:1+32+8+32+8+2]...), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
		"Oversized":    append(append([]byte(nil), valid...), make([]byte, appliance.MaxEntrySize)...),
	} {
		t.Run(name, func(t *testing.T) {
			var e appliance.Entry
			if err := e.UnmarshalBinary(data); !errors.Is(err, appliance.ErrMalformed) {
				t.Fatalf("UnmarshalBinary=%v, want ErrMalformed", err)
			}
		})
	}
	t.Run("EveryTruncation", func(t *testing.T) {
		for n := 0; n < len(valid); n++ {
			var e appliance.Entry
			if err := e.UnmarshalBinary(valid[:n]); !errors.Is(err, appliance.ErrMalformed) {
				t.Fatalf("%d of %d bytes: UnmarshalBinary=%v, want ErrMalformed", n, len(valid), err)
			}
		}
	})
}

// storeEntries returns entries as a real store writes them: a node's first
// entries, a kiosk case with its sealed reporter, and, when seeds are being
// written, one entry of every kind the demo village makes.
func storeEntries(f *testing.F) map[string]*appliance.Entry {
	f.Helper()
	ctx := context.Background()
	dir := f.TempDir()
	node := appliance.Node{Role: appliance.NodeVillage, Code: "410184104201", Name: "杏花村"}
	if _, err := bolt.InitDataDir(ctx, dir, node, bolt.InitOptions{AdminPassword: "admin-pass-123"}); err != nil {
		f.Fatal(err)
	}
	if fuzzseed.Writing() {
		dir = f.TempDir()
		if _, _, err := demo.Generate(ctx, dir, demo.Options{Now: testNow}); err != nil {
			f.Fatal(err)
		}
	}
	st, cfg, err := bolt.OpenDataDir(dir, nil)
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	cs, err := bolt.NewCases(st, cfg)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := cs.RegisterCase(ctx, "", bolt.CaseIntake{Category: "livelihood", Source: appliance.SourceKiosk, Description: "村口路灯不亮，晚上看不见路", Name: "张秀菊", Phone: "13800138000"}); err != nil {
		f.Fatal(err)
	}
	es, err := st.Entries(st.Feed(), 1, 1<<20)
	if err != nil {
		f.Fatal(err)
	}
	out := map[string]*appliance.Entry{}
	for _, e := range es {
		name := e.Kind
		if e.Sealed != nil {
			name += "-sealed"
		}
		if out[name] == nil {
			out[name] = e
		}
	}
	return out
}

// FuzzEntryUnmarshal: bytes from anywhere (a peer, a damaged file) either
// are refused as ErrMalformed or are exactly the encoding of the entry they
// decode to, whose hash is that of its signed prefix; checking it never
// panics, and its redacted copy verifies when it does.
func FuzzEntryUnmarshal(f *testing.F) {
	s := newSigner(f, 6)
	for i, e := range mustSeal(f, s, 2) {
		data, err := e.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		fuzzseed.Add(f, fmt.Sprintf("notice-%d", i), data)
		fuzzseed.Add(f, fmt.Sprintf("notice-%d-half", i), data[:len(data)/2])
		// The author's length (2) spelled in two bytes, 0x82 0x00: the same
		// number, not the same bytes.
		const authorAt = 1 + 32 + 8 + 32 + 8 + 2
		long := append(append(append([]byte(nil), data[:authorAt]...), data[authorAt]|0x80, 0), data[authorAt+1:]...)
		fuzzseed.Add(f, fmt.Sprintf("notice-%d-long-varint", i), long)
	}
	for name, e := range storeEntries(f) {
		data, err := e.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		fuzzseed.Add(f, "store-"+name, data)
		u := *e
		u.Sig = nil // as held where a later signature covers it
		if data, err = u.MarshalBinary(); err != nil {
			f.Fatal(err)
		}
		fuzzseed.Add(f, "store-"+name+"-unsigned", data)
	}
	fuzzseed.Add(f, "empty", []byte{})
	fuzzseed.Add(f, "huge-length", []byte{appliance.EncodingVersion, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		var e appliance.Entry
		if err := e.UnmarshalBinary(data); err != nil {
			if !errors.Is(err, appliance.ErrMalformed) {
				t.Fatalf("UnmarshalBinary=%v, want ErrMalformed", err)
			}
			return
		}
		again, err := e.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary of a decoded entry: %v", err)
		}
		if !bytes.Equal(again, data) {
			t.Fatalf("decoded entry encodes differently:\n in  %x\n out %x", data, again)
		}
		signed := len(data) - ed25519.SignatureSize - binary.PutUvarint(make([]byte, binary.MaxVarintLen64), uint64(len(e.Sealed))) - len(e.Sealed)
		if e.Hash() != sha256.Sum256(data[:signed]) {
			t.Fatal("the hash is not that of the signed prefix")
		}
		_ = e.VerifyLink(nil)
		_ = e.VerifyLink(&e)
		if e.VerifySignature() == nil {
			if err := e.Redacted().VerifySignature(); err != nil {
				t.Fatalf("redacted copy of a verified entry: %v", err)
			}
			bad := e
			bad.Sig = bytes.Clone(e.Sig)
			bad.Sig[0] ^= 1
			if bad.VerifySignature() == nil {
				t.Fatal("a changed signature verified")
			}
		}
	})
}

// FuzzEntrySeal: whatever a node writes (any author, kind, body, sealed
// part) seals into an entry that verifies, survives encoding unchanged, and
// stops verifying when any byte of its encoding changes.
func FuzzEntrySeal(f *testing.F) {
	s := newSigner(f, 7)
	fuzzseed.Add(f, "notice", "u-admin", "notice.set", uint16(1), []byte(`{"id":"n1","title":"停水通知"}`), []byte(nil), uint(0))
	fuzzseed.Add(f, "sealed-id-number", "u1", "person.set", uint16(2), []byte(`{"id":"p1"}`), []byte(`{"id_number":"41018419800101001X"}`), uint(200))
	fuzzseed.Add(f, "not-json", "", "x", uint16(0), []byte("\xff{"), []byte("\x00"), uint(1<<20))
	f.Fuzz(func(t *testing.T, author, kind string, version uint16, body, sealed []byte, flip uint) {
		d := appliance.Draft{Author: author, Kind: kind, Version: version, Body: jsonOrString(body)}
		if sealed != nil {
			d.Sealed = jsonOrString(sealed)
		}
		prev := mustSeal(t, s, 1)[0]
		e, err := s.Seal(d, prev, prev.Time+1)
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		if err := e.VerifySignature(); err != nil {
			t.Fatalf("VerifySignature of a sealed entry: %v", err)
		}
		if err := e.VerifyLink(prev); err != nil {
			t.Fatalf("VerifyLink: %v", err)
		}
		data, err := e.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary: %v", err)
		}
		var got appliance.Entry
		if err := got.UnmarshalBinary(data); err != nil || !reflect.DeepEqual(&got, e) {
			t.Fatalf("round trip: %v\n got %+v\nwant %+v", err, &got, e)
		}
		if err := e.Redacted().VerifySignature(); err != nil {
			t.Fatalf("redacted: %v", err)
		}
		data[flip%uint(len(data))] ^= 1 << (flip / uint(len(data)) % 8)
		if err := got.UnmarshalBinary(data); err == nil && got.VerifySignature() == nil && got.VerifyLink(prev) == nil {
			t.Fatalf("byte %d changed, and the entry still verifies", flip%uint(len(data)))
		}
	})
}

// jsonOrString is b as a JSON value when it is one, else as a string.
func jsonOrString(b []byte) any {
	if json.Valid(b) {
		return json.RawMessage(b)
	}
	return string(b)
}

func TestClock(t *testing.T) {
	t.Run("WallClockGoesBack", func(t *testing.T) {
		wall := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
		c := &appliance.Clock{Now: func() time.Time { return wall }}
		var last appliance.HLC
		steps := []time.Duration{0, time.Millisecond, 0, -time.Hour, 0, -56 * 365 * 24 * time.Hour, time.Second, 2 * time.Hour}
		for i, d := range steps {
			wall = wall.Add(d)
			for j := 0; j < 3; j++ {
				got := c.Next()
				if got <= last {
					t.Fatalf("step %d/%d: Next=%d, not after %d", i, j, got, last)
				}
				last = got
			}
		}
		// Once the wall clock is ahead again, the HLC follows it.
		wall = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
		if got, want := c.Next().Time(), wall.Truncate(time.Millisecond); !got.Equal(want) {
			t.Fatalf("Next().Time()=%v, want wall clock %v", got, want)
		}
	})
	t.Run("Boot1970", func(t *testing.T) {
		c := &appliance.Clock{Now: func() time.Time { return time.Unix(0, 0) }}
		stored := appliance.HLCFromTime(time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)) + 7
		c.Observe(stored)
		if got := c.Next(); got <= stored {
			t.Fatalf("Next=%d, not after stored %d", got, stored)
		}
	})
	t.Run("Observe", func(t *testing.T) {
		wall := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
		c := &appliance.Clock{Now: func() time.Time { return wall }}
		a := c.Next()
		remote := appliance.HLCFromTime(wall.Add(time.Hour)) + 3
		c.Observe(remote)
		if got := c.Last(); got != remote {
			t.Fatalf("Last=%d, want %d", got, remote)
		}
		if got := c.Next(); got <= remote {
			t.Fatalf("Next=%d, not after remote %d", got, remote)
		}
		// Observing an older time does not move the clock back.
		c.Observe(a)
		if got := c.Next(); got <= remote {
			t.Fatalf("Next=%d after observing an old time, not after %d", got, remote)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		c := &appliance.Clock{Now: func() time.Time { return time.Unix(1, 0) }}
		const n, workers = 1000, 4
		ch := make(chan appliance.HLC, n*workers)
		done := make(chan struct{})
		for w := 0; w < workers; w++ {
			go func() {
				for i := 0; i < n; i++ {
					ch <- c.Next()
				}
				done <- struct{}{}
			}()
		}
		for w := 0; w < workers; w++ {
			<-done
		}
		close(ch)
		seen := map[appliance.HLC]bool{}
		for h := range ch {
			if seen[h] {
				t.Fatalf("time %d handed out twice", h)
			}
			seen[h] = true
		}
	})
	t.Run("HLCFromTime", func(t *testing.T) {
		tm := time.Date(2026, 11, 28, 8, 30, 15, 123_000_000, time.UTC)
		h := appliance.HLCFromTime(tm)
		if got := (h + 5).Time(); !got.Equal(tm) {
			t.Fatalf("Time=%v, want %v", got, tm)
		}
		if appliance.HLCFromTime(tm.Add(time.Millisecond)) <= h+0xffff {
			t.Fatal("a later millisecond must order after every counter of the earlier one")
		}
	})
}
