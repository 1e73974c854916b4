package bolt_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"go.etcd.io/bbolt"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// fastArgon keeps password hashing cheap in tests.
var fastArgon = bolt.Argon2Params{Time: 1, Memory: 8 * 1024, Threads: 1}

// MustOpenStore opens a store in a new file under tb.TempDir() with a new
// node key. At cleanup it closes the store, reopens the file once to check
// that it reopens, and verifies the ledger and views.
func MustOpenStore(tb testing.TB) *bolt.Store {
	tb.Helper()
	return MustOpenStoreAt(tb, filepath.Join(tb.TempDir(), "gridbox.db"), NewKey(tb), nil)
}

// MustOpenStoreAt opens the store at path with key and opts, with the same
// checks at cleanup as MustOpenStore.
func MustOpenStoreAt(tb testing.TB, path string, key ed25519.PrivateKey, opts *bolt.Options) *bolt.Store {
	tb.Helper()
	return openStore(tb, path, key, opts, true)
}

// openStore opens a store; with check, cleanup reopens and verifies it.
// Tests that damage the file on purpose pass check=false.
func openStore(tb testing.TB, path string, key ed25519.PrivateKey, opts *bolt.Options, check bool) *bolt.Store {
	tb.Helper()
	s, err := bolt.Open(path, key, opts)
	if err != nil {
		tb.Fatal(err)
	}
	s.SetArgon2(fastArgon)
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close %s: %v", path, err)
		}
		if !check {
			return
		}
		// Tests may have closed and reopened the file themselves; another
		// handle still open would make this Open time out.
		r, err := bolt.Open(path, key, opts)
		if err != nil {
			tb.Errorf("reopen %s: %v", path, err)
			return
		}
		defer r.Close()
		if _, err := r.Verify(context.Background()); err != nil {
			tb.Errorf("verify %s at cleanup: %v", path, err)
		}
	})
	return s
}

// NewKey returns a new node key.
func NewKey(tb testing.TB) ed25519.PrivateKey {
	tb.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

// noticeDraft is a notice.set draft; seq-like n makes bodies distinct.
func noticeDraft(id string, n int) appliance.Draft {
	return appliance.Draft{Author: "u1", Kind: appliance.KindNoticeSet, Version: 1, Body: appliance.Notice{
		Grid: "410184104201", ID: id, Title: fmt.Sprintf("通知第%d号", n), Body: "本周六上午停水，请提前储水。", Published: "2026-11-28",
	}}
}

// sealFeed seals n notice entries of signer's feed, following prev, at the
// given times (t0, t0+1, …).
func sealFeed(tb testing.TB, s *appliance.Signer, prev *appliance.Entry, n int, t0 appliance.HLC) []*appliance.Entry {
	tb.Helper()
	var out []*appliance.Entry
	for i := 0; i < n; i++ {
		e, err := s.Seal(noticeDraft(fmt.Sprintf("r%d", i%3), i), prev, t0+appliance.HLC(i))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, e)
		prev = e
	}
	return out
}

// viewDump is every key of every view bucket ("v_…"), walked with bbolt
// directly, as "bucket/key[/nested…]" → value.
type viewDump struct {
	keys   []string
	values map[string][]byte
}

func dumpViews(tb testing.TB, db *bbolt.DB) viewDump {
	tb.Helper()
	d := viewDump{values: map[string][]byte{}}
	var walk func(prefix string, b *bbolt.Bucket) error
	walk = func(prefix string, b *bbolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			name := prefix + "/" + fmt.Sprintf("%q", k)
			if v == nil {
				if nb := b.Bucket(k); nb != nil {
					return walk(name, nb)
				}
			}
			d.keys = append(d.keys, name)
			d.values[name] = append([]byte(nil), v...)
			return nil
		})
	}
	err := db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			if !strings.HasPrefix(string(name), "v_") {
				return nil
			}
			d.keys = append(d.keys, string(name)) // empty buckets count too
			return walk(string(name), b)
		})
	})
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// diff returns "" if the dumps are byte-identical, else the first difference.
func (d viewDump) diff(o viewDump) string {
	for i := 0; i < len(d.keys) || i < len(o.keys); i++ {
		switch {
		case i >= len(d.keys):
			return "missing " + o.keys[i]
		case i >= len(o.keys):
			return "extra " + d.keys[i]
		case d.keys[i] != o.keys[i]:
			return fmt.Sprintf("key %s vs %s", d.keys[i], o.keys[i])
		case !bytes.Equal(d.values[d.keys[i]], o.values[o.keys[i]]):
			return fmt.Sprintf("value of %s: %q vs %q", d.keys[i], d.values[d.keys[i]], o.values[o.keys[i]])
		}
	}
	return ""
}

func (d viewDump) count(bucket string) int {
	n := 0
	for _, k := range d.keys {
		if strings.HasPrefix(k, bucket+"/") {
			n++
		}
	}
	return n
}
