package bolt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// tamperFile opens the closed store file with bbolt directly and runs fn in
// a write transaction.
func tamperFile(tb testing.TB, path string, fn func(tx *bbolt.Tx) error) {
	tb.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(fn); err != nil {
		tb.Fatal(err)
	}
}

// ledgerFile writes a small ledger (a grid tree, notices, a sealed entry)
// to a new file and closes it. It returns the path, key and entries.
func ledgerFile(tb testing.TB) (string, []*appliance.Entry) {
	tb.Helper()
	ctx := context.Background()
	path := filepath.Join(tb.TempDir(), "gridbox.db")
	s, err := bolt.Open(path, NewKey(tb), nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	if err := s.SetGrid(ctx, "u1", appliance.Grid{Code: "410184104000", Level: 1, Name: "城关镇"}); err != nil {
		tb.Fatal(err)
	}
	if err := s.SetGrid(ctx, "u1", appliance.Grid{Code: "410184104201", Level: 2, Name: "东村", Parent: "410184104000"}); err != nil {
		tb.Fatal(err)
	}
	sealed := noticeDraft("n2", 2)
	sealed.Sealed = map[string]string{"id_number": "41018419800101001X"}
	if _, err := s.Append(ctx, noticeDraft("n1", 1), sealed, noticeDraft("n3", 3)); err != nil {
		tb.Fatal(err)
	}
	es, err := s.Entries(s.Feed(), 1, 100)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := s.Verify(ctx); err != nil {
		tb.Fatalf("Verify before tampering: %v", err)
	}
	return path, es
}

func TestStore_Verify(t *testing.T) {
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		path, _ := ledgerFile(t)
		s := MustOpenStoreAt(t, path, nil, nil)
		rep, err := s.Verify(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Feeds != 1 || rep.Entries != 5 || rep.Views < 2 {
			t.Fatalf("report=%+v", rep)
		}
	})

	// One byte flipped inside a stored entry, at a spot in each field. Entry
	// 4 (notice n2) has a sealed part, so every field exists.
	const seq = 4
	for _, tt := range []struct {
		name string
		at   func(data []byte, e *appliance.Entry) int
	}{
		{"Version", func([]byte, *appliance.Entry) int { return 0 }},
		{"Feed", func([]byte, *appliance.Entry) int { return 1 + 7 }},
		{"Seq", func([]byte, *appliance.Entry) int { return 1 + 32 + 7 }},
		{"Prev", func([]byte, *appliance.Entry) int { return 1 + 32 + 8 + 3 }},
		{"Time", func([]byte, *appliance.Entry) int { return 1 + 32 + 8 + 32 + 6 }},
		{"Version16", func([]byte, *appliance.Entry) int { return 1 + 32 + 8 + 32 + 8 + 1 }},
		{"AuthorLength", func([]byte, *appliance.Entry) int { return 1 + 32 + 8 + 32 + 8 + 2 }},
		{"Body", func(d []byte, e *appliance.Entry) int { return bytes.Index(d, e.Body) + len(e.Body)/2 }},
		{"SealHash", func(d []byte, e *appliance.Entry) int { return bytes.Index(d, e.SealHash[:]) + 5 }},
		{"Sig", func(d []byte, e *appliance.Entry) int { return bytes.Index(d, e.Sig) + 40 }},
		{"Sealed", func(d []byte, e *appliance.Entry) int { return len(d) - 3 }},
		{"SealedSalt", func(d []byte, e *appliance.Entry) int { return bytes.Index(d, e.Sealed) + 2 }},
	} {
		t.Run("EntryByte"+tt.name, func(t *testing.T) {
			path, es := ledgerFile(t)
			feed := es[0].Feed
			tamperFile(t, path, func(tx *bbolt.Tx) error {
				fb := tx.Bucket([]byte("feeds")).Bucket(feed[:])
				data := append([]byte(nil), fb.Get(binary.BigEndian.AppendUint64(nil, seq))...)
				i := tt.at(data, es[seq-1])
				if i < 0 || i >= len(data) {
					t.Fatalf("offset %d outside entry of %d bytes", i, len(data))
				}
				data[i] ^= 0x20
				return fb.Put(binary.BigEndian.AppendUint64(nil, seq), data)
			})
			s := openStore(t, path, nil, nil, false)
			_, err := s.Verify(ctx)
			var ve *bolt.VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify=%v, want *VerifyError", err)
			}
			if ve.Feed != feed || ve.Seq != seq || ve.View != "" {
				t.Fatalf("VerifyError names %s seq %d view %q, want %s seq %d: %v", ve.Feed.Short(), ve.Seq, ve.View, feed.Short(), seq, err)
			}
		})
	}

	t.Run("EntryDeleted", func(t *testing.T) {
		path, es := ledgerFile(t)
		feed := es[0].Feed
		tamperFile(t, path, func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte("feeds")).Bucket(feed[:]).Delete(binary.BigEndian.AppendUint64(nil, 2))
		})
		s := openStore(t, path, nil, nil, false)
		_, err := s.Verify(ctx)
		var ve *bolt.VerifyError
		if !errors.As(err, &ve) || ve.Feed != feed || ve.Seq != 3 || !errors.Is(err, appliance.ErrBadSequence) {
			t.Fatalf("Verify=%v, want a sequence gap at seq 3", err)
		}
	})
	t.Run("LastEntryDeleted", func(t *testing.T) {
		// The chain is intact but shorter than the head says.
		path, es := ledgerFile(t)
		feed := es[0].Feed
		tamperFile(t, path, func(tx *bbolt.Tx) error {
			return tx.Bucket([]byte("feeds")).Bucket(feed[:]).Delete(binary.BigEndian.AppendUint64(nil, uint64(len(es))))
		})
		s := openStore(t, path, nil, nil, false)
		_, err := s.Verify(ctx)
		var ve *bolt.VerifyError
		if !errors.As(err, &ve) || ve.Feed != feed {
			t.Fatalf("Verify=%v, want a *VerifyError naming the feed", err)
		}
	})

	for _, tt := range []struct {
		name, bucket string
		change       func(b *bbolt.Bucket) error
	}{
		{"ViewValueChanged", "v_grids", func(b *bbolt.Bucket) error {
			k, v := b.Cursor().Last()
			v = append([]byte(nil), v...)
			v[len(v)-3] ^= 1
			return b.Put(append([]byte(nil), k...), v)
		}},
		{"ViewKeyDeleted", "v_notices", func(b *bbolt.Bucket) error { return b.Delete([]byte("410184104201/n1")) }},
		{"ViewKeyAdded", "v_grid_tree", func(b *bbolt.Bucket) error { return b.Put([]byte("/410184104999"), []byte{}) }},
		{"ViewCounterChanged", "v_counts", func(b *bbolt.Bucket) error {
			return b.Put([]byte("entries/"+appliance.KindNoticeSet), binary.BigEndian.AppendUint64(nil, 4))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path, _ := ledgerFile(t)
			tamperFile(t, path, func(tx *bbolt.Tx) error { return tt.change(tx.Bucket([]byte(tt.bucket))) })
			s := openStore(t, path, nil, nil, false)
			_, err := s.Verify(ctx)
			var ve *bolt.VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("Verify=%v, want *VerifyError", err)
			}
			if ve.View != tt.bucket {
				t.Fatalf("VerifyError names view %q, want %q: %v", ve.View, tt.bucket, err)
			}
			// Reindex repairs a damaged view.
			if err := s.Reindex(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Verify(ctx); err != nil {
				t.Fatalf("Verify after Reindex=%v", err)
			}
		})
	}
}

// relayedLedgerFile is ledgerFile as a receiving node holds it: the entries
// came in one batch, so only the last one kept its signature.
func relayedLedgerFile(tb testing.TB) (string, []*appliance.Entry) {
	tb.Helper()
	_, es := ledgerFile(tb)
	path := filepath.Join(tb.TempDir(), "gridbox.db")
	s, err := bolt.Open(path, NewKey(tb), nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	if _, err := s.IngestBatch(es); err != nil {
		tb.Fatal(err)
	}
	held, err := s.Entries(es[0].Feed, 1, 100)
	if err != nil {
		tb.Fatal(err)
	}
	for i, e := range held {
		if e.Signed() != (i == len(held)-1) {
			tb.Fatalf("entry %d signed: %v; want only the last signed", e.Seq, e.Signed())
		}
	}
	return path, es
}

func TestStore_VerifyRelayed(t *testing.T) {
	ctx := context.Background()
	entryAt := func(tx *bbolt.Tx, feed appliance.FeedID, seq uint64) ([]byte, func([]byte) error) {
		fb := tx.Bucket([]byte("feeds")).Bucket(feed[:])
		k := binary.BigEndian.AppendUint64(nil, seq)
		return append([]byte(nil), fb.Get(k)...), func(d []byte) error { return fb.Put(k, d) }
	}

	t.Run("OK", func(t *testing.T) {
		path, _ := relayedLedgerFile(t)
		if _, err := MustOpenStoreAt(t, path, nil, nil).Verify(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrUnsignedAltered", func(t *testing.T) {
		// No signature of its own: the next entry's link names it.
		path, es := relayedLedgerFile(t)
		tamperFile(t, path, func(tx *bbolt.Tx) error {
			data, put := entryAt(tx, es[0].Feed, 2)
			data[bytes.Index(data, es[1].Body)+3] ^= 0x20
			return put(data)
		})
		_, err := openStore(t, path, nil, nil, false).Verify(ctx)
		var ve *bolt.VerifyError
		if !errors.As(err, &ve) || ve.Seq != 2 || !errors.Is(err, appliance.ErrBrokenChain) {
			t.Fatalf("Verify=%v, want a broken chain at entry 2", err)
		}
	})
	t.Run("ErrLastUnsigned", func(t *testing.T) {
		// The signature that covers the rest, removed.
		path, es := relayedLedgerFile(t)
		last := es[len(es)-1]
		tamperFile(t, path, func(tx *bbolt.Tx) error {
			data, put := entryAt(tx, last.Feed, last.Seq)
			i := bytes.Index(data, last.Sig)
			copy(data[i:], make([]byte, 64))
			return put(data)
		})
		_, err := openStore(t, path, nil, nil, false).Verify(ctx)
		var ve *bolt.VerifyError
		if !errors.As(err, &ve) || ve.Seq != last.Seq || !errors.Is(err, appliance.ErrBadSignature) {
			t.Fatalf("Verify=%v, want an unsigned last entry %d", err, last.Seq)
		}
	})
}

func TestStore_IngestBatchKeepsCheckedSignaturesOnly(t *testing.T) {
	// A forged signature in the middle of a batch is not checked, so it
	// must not be stored: Verify would then fail on a genuine feed.
	_, es := ledgerFile(t)
	forged := make([]*appliance.Entry, len(es))
	for i, e := range es {
		c := *e
		c.Sig = append([]byte(nil), e.Sig...)
		if i == 1 {
			c.Sig[3] ^= 1
		}
		forged[i] = &c
	}
	s := MustOpenStore(t)
	if _, err := s.IngestBatch(forged); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestViewsFormatRebuild: a file whose views were folded by another
// release (another view format, as after an upgrade or a rollback) has its
// views rebuilt when it is opened; a file of this format is not touched.
func TestViewsFormatRebuild(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gridbox.db")
	key := NewKey(t)
	s, err := bolt.Open(path, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.ViewsRebuilt {
		t.Fatal("a new file was rebuilt")
	}
	if _, err := s.Append(context.Background(), noticeDraft("n1", 1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	reopen := func() *bolt.Store {
		t.Helper()
		s, err := bolt.Open(path, key, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s = reopen()
	if s.ViewsRebuilt {
		t.Fatal("a file of this format was rebuilt")
	}
	// The views as an older release left them: another format, and a
	// notice view emptied (a view that release did not have).
	err = s.DB().Update(func(tx *bbolt.Tx) error {
		if err := tx.Bucket([]byte("meta")).Put([]byte("views_format"), []byte("v_notices:1:v_notices")); err != nil {
			return err
		}
		b := tx.Bucket([]byte("v_notices"))
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.First() {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = reopen()
	defer s.Close()
	if !s.ViewsRebuilt {
		t.Fatal("views of another format were not rebuilt")
	}
	if _, err := s.Verify(context.Background()); err != nil {
		t.Fatalf("views after the rebuild: %v", err)
	}
}
