package replicate_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"gridbox/appliance"
	"gridbox/replicate"
)

// Encoding 2 gives back every entry as it was, whatever it holds: derived
// and random salts, redacted entries, empty sealed parts, runs of several
// feeds with unsigned entries inside them; without the salt key the salts
// travel; a salt key that is wrong breaks the entries' hashes.
func TestWireV2(t *testing.T) {
	mk := func(rnd bool) *appliance.Signer {
		_, key, _ := ed25519.GenerateKey(rand.Reader)
		sg := appliance.NewSigner(key)
		if rnd {
			sg.Rand = rand.Reader
		}
		return sg
	}
	derived, random := mk(false), mk(true)
	var es []*appliance.Entry
	var prevs = map[*appliance.Signer]*appliance.Entry{}
	add := func(sg *appliance.Signer, d appliance.Draft) *appliance.Entry {
		e, err := sg.Seal(d, prevs[sg], appliance.HLC(1000+len(es)))
		if err != nil {
			t.Fatal(err)
		}
		prevs[sg] = e
		es = append(es, e)
		return e
	}
	for i := 0; i < 20; i++ {
		add(derived, appliance.Draft{Author: "u-duty", Kind: "case.register", Version: 1, Body: map[string]any{"n": i, "text": "路灯坏了"}, Sealed: map[string]string{"name": "王秀英", "phone": "13812345678"}})
		add(derived, appliance.Draft{Author: "u-leader", Kind: "visit.add", Version: 2, Body: map[string]any{"n": i}})
	}
	red := add(derived, appliance.Draft{Kind: "archive.change", Version: 1, Body: 1, Sealed: map[string]string{"id_number": "410184195803141234"}})
	*red = *red.Redacted()
	for i := 0; i < 5; i++ {
		add(random, appliance.Draft{Author: "", Kind: "case.register", Version: 1, Body: i, Sealed: []int{i}})
	}
	empty := add(derived, appliance.Draft{Kind: "x", Version: 1, Body: "e"})
	empty.Sealed, empty.SealHash = []byte{}, [32]byte{1} // hash kept, part left out
	add(derived, appliance.Draft{Kind: "last", Version: 1, Body: "z"})
	// Only the last of each feed's run keeps its signature, as relayed.
	for i, e := range es {
		if i+1 < len(es) && es[i+1].Feed == e.Feed && es[i+1].Seq == e.Seq+1 {
			e.Sig = nil
		}
	}
	check := func(t *testing.T, keys map[appliance.FeedID][]byte) int {
		t.Helper()
		m, err := replicate.EncodeBatchV2As("v", derived.Feed, es, keys)
		if err != nil {
			t.Fatal(err)
		}
		h, got, err := replicate.DecodeBatch(m[1:])
		if err != nil || h.V != replicate.WireVersion || len(got) != len(es) {
			t.Fatalf("decode: %v, v %d, %d of %d entries", err, h.V, len(got), len(es))
		}
		for i := range es {
			a, b := es[i], got[i]
			if a.Hash() != b.Hash() || !bytes.Equal(a.Sealed, b.Sealed) || !bytes.Equal(a.Sig, b.Sig) || a.Signed() != b.Signed() {
				t.Fatalf("entry %d (%s) changed on the wire", i, a.Kind)
			}
		}
		return len(m)
	}
	with := check(t, map[appliance.FeedID][]byte{derived.Feed: derived.SaltKey()})
	without := check(t, nil)
	if with >= without {
		t.Errorf("with the salt key %d bytes, without %d: the derived salts travelled", with, without)
	}
	t.Run("WrongSaltKey", func(t *testing.T) {
		m, _ := replicate.EncodeBatchV2As("v", derived.Feed, es, map[appliance.FeedID][]byte{derived.Feed: derived.SaltKey()})
		// The salt key column comes first: length, count, feed, key.
		n, k := binary.Uvarint(m[1:])
		hdr, body := m[:1+k+int(n)], m[1+k+int(n):]
		dec, _ := zstd.NewReader(nil)
		raw, err := dec.DecodeAll(body, nil)
		if err != nil || raw[0] != 65 {
			t.Fatalf("raw batch: %v, key column of %d bytes", err, raw[0])
		}
		raw[1+1+32] ^= 1
		enc, _ := zstd.NewWriter(nil)
		_, got, err := replicate.DecodeBatch(enc.EncodeAll(raw, append([]byte(nil), hdr...))[1:])
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got[0].Hash() == es[0].Hash() || got[0].VerifySeal() != nil {
			t.Fatal("an entry decoded with the wrong salt key kept its hash (or broke its own seal)")
		}
	})
}

// A node that does not say it reads encoding 2 gets the first encoding,
// and one that does gets encoding 2.
func TestWireVersionByPeer(t *testing.T) {
	for _, tc := range []struct {
		name       string
		reads, got int
	}{{"Old", 1, 0}, {"New", 0, replicate.WireVersion}} {
		t.Run(tc.name, func(t *testing.T) {
			town := MustOpenNode(t, appliance.NodeTown, townCode, "")
			var mu sync.Mutex
			seen := map[int]int{}
			town.Tap = func(b []byte) {
				if b[0] == replicate.MsgBatch {
					if h, _, err := replicate.DecodeBatch(b[1:]); err == nil {
						mu.Lock()
						seen[h.V]++
						mu.Unlock()
					}
				}
			}
			town.Wire = tc.reads
			town.Start()
			village := MustOpenNode(t, appliance.NodeVillage, villageCode, town.R.Addr())
			town.Enrol(village)
			village.Write(10)
			village.Start()
			waitCaughtUp(t, town, village, 10*time.Second)
			mu.Lock()
			defer mu.Unlock()
			if len(seen) != 1 || seen[tc.got] == 0 {
				t.Fatalf("batch encodings seen at the town: %v, want only %d", seen, tc.got)
			}
		})
	}
}
