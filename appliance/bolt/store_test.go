package bolt_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

func TestStore_Append(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)

	es, err := s.Append(ctx, noticeDraft("n1", 1), noticeDraft("n2", 2))
	if err != nil {
		t.Fatal(err)
	}
	more, err := s.Append(ctx, noticeDraft("n1", 3))
	if err != nil {
		t.Fatal(err)
	}
	es = append(es, more...)
	for i, e := range es {
		if got, want := e.Seq, uint64(i+1); got != want {
			t.Fatalf("Seq=%d, want %d", got, want)
		}
		if got, want := e.Feed, s.Feed(); got != want {
			t.Fatalf("Feed=%v, want %v", got, want)
		}
		if err := e.VerifySignature(); err != nil {
			t.Fatal(err)
		}
		var prev *appliance.Entry
		if i > 0 {
			prev = es[i-1]
			if e.Time <= prev.Time {
				t.Fatalf("seq %d: time %d not after %d", e.Seq, e.Time, prev.Time)
			}
		}
		if err := e.VerifyLink(prev); err != nil {
			t.Fatalf("seq %d: %v", e.Seq, err)
		}
	}

	t.Run("Entries", func(t *testing.T) {
		got, err := s.Entries(s.Feed(), 1, 100)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, es) {
			t.Fatalf("Entries=%v, want %v", got, es)
		}
		if got, err := s.Entries(s.Feed(), 2, 1); err != nil || len(got) != 1 || got[0].Seq != 2 {
			t.Fatalf("Entries(from 2, limit 1)=%v, %v", got, err)
		}
		if got, err := s.Entries(appliance.FeedID{1}, 1, 10); err != nil || len(got) != 0 {
			t.Fatalf("Entries(unknown feed)=%v, %v", got, err)
		}
	})
	t.Run("Heads", func(t *testing.T) {
		heads, err := s.Heads()
		if err != nil {
			t.Fatal(err)
		}
		want := []bolt.Head{{Feed: s.Feed(), Seq: 3, Hash: es[2].Hash(), Time: es[2].Time}}
		if !reflect.DeepEqual(heads, want) {
			t.Fatalf("Heads=%+v, want %+v", heads, want)
		}
	})
	t.Run("Views", func(t *testing.T) {
		n, err := s.Notice("410184104201", "n1")
		if err != nil {
			t.Fatal(err)
		}
		if got, want := n.Title, "通知第3号"; got != want {
			t.Fatalf("Title=%q, want %q (last write)", got, want)
		}
		counts, err := s.KindCounts()
		if err != nil {
			t.Fatal(err)
		}
		if got, want := counts[appliance.KindNoticeSet], int64(3); got != want {
			t.Fatalf("count=%d, want %d", got, want)
		}
		st, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Entries != 3 || st.Feeds != 1 || st.Appends != 3 {
			t.Fatalf("Stats=%+v", st)
		}
	})
	t.Run("OnCommit", func(t *testing.T) {
		var got []uint64
		s.OnCommit(func(es []*appliance.Entry) {
			for _, e := range es {
				got = append(got, e.Seq)
			}
		})
		if _, err := s.Append(ctx, noticeDraft("n3", 4), noticeDraft("n4", 5)); err != nil {
			t.Fatal(err)
		}
		if want := []uint64{4, 5}; !reflect.DeepEqual(got, want) {
			t.Fatalf("notified %v, want %v", got, want)
		}
	})
}

func TestStore_Reopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "gridbox.db")
	key := NewKey(t)
	now := time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)
	s := MustOpenStoreAt(t, path, key, &bolt.Options{Clock: &appliance.Clock{Now: func() time.Time { return now }}})
	es, err := s.Append(ctx, noticeDraft("n1", 1), noticeDraft("n2", 2), noticeDraft("n3", 3))
	if err != nil {
		t.Fatal(err)
	}
	heads, err := s.Heads()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// The box reboots without a real-time clock: the wall clock says 1970.
	epoch := func() time.Time { return time.Unix(0, 0) }
	s = MustOpenStoreAt(t, path, key, &bolt.Options{Clock: &appliance.Clock{Now: epoch}})
	if got, err := s.Heads(); err != nil || !reflect.DeepEqual(got, heads) {
		t.Fatalf("Heads after reopen=%+v, %v; want %+v", got, err, heads)
	}
	if got, err := s.Entries(s.Feed(), 1, 10); err != nil || !reflect.DeepEqual(got, es) {
		t.Fatalf("Entries after reopen=%v, %v", got, err)
	}
	if n, err := s.Notice("410184104201", "n3"); err != nil || n.Title != "通知第3号" {
		t.Fatalf("Notice after reopen=%+v, %v", n, err)
	}
	more, err := s.Append(ctx, noticeDraft("n4", 4))
	if err != nil {
		t.Fatal(err)
	}
	if got, last := more[0].Time, es[2].Time; got <= last {
		t.Fatalf("time after reopen %v (%d) not after the last stored %v (%d)", got.Time(), got, last.Time(), last)
	}
	if err := more[0].VerifyLink(es[2]); err != nil {
		t.Fatalf("chain across reopen: %v", err)
	}
}

func TestStore_Write(t *testing.T) {
	ctx := context.Background()

	t.Run("ErrFn", func(t *testing.T) {
		s := MustOpenStore(t)
		if _, err := s.Append(ctx, noticeDraft("n1", 1)); err != nil {
			t.Fatal(err)
		}
		before, _ := s.Heads()
		want := appliance.FieldError("title", "不行")
		_, err := s.Write(ctx, func(tx *bolt.Tx) ([]appliance.Draft, error) {
			// Writes made through tx before the error are rolled back too.
			if err := tx.PutJSON("local", "x", 1); err != nil {
				return nil, err
			}
			return []appliance.Draft{noticeDraft("n2", 2)}, want
		})
		if err != want {
			t.Fatalf("Write=%v, want %v", err, want)
		}
		if after, _ := s.Heads(); !reflect.DeepEqual(after, before) {
			t.Fatalf("Heads=%+v, want unchanged %+v", after, before)
		}
		if _, err := s.Notice("410184104201", "n2"); appliance.ErrorCode(err) != appliance.ENOTFOUND {
			t.Fatalf("Notice(n2)=%v, want not found", err)
		}
		s.Read(func(tx *bolt.Tx) error {
			if ok, _ := tx.GetJSON("local", "x", new(int)); ok {
				t.Fatal("write inside a failed Write was kept")
			}
			return nil
		})
	})
	t.Run("ErrDraft", func(t *testing.T) {
		// The second draft cannot be encoded: the first is not kept either.
		s := MustOpenStore(t)
		bad := appliance.Draft{Kind: appliance.KindNoticeSet, Body: make(chan int)}
		if _, err := s.Append(ctx, noticeDraft("n1", 1), bad); err == nil {
			t.Fatal("expected error")
		}
		if heads, _ := s.Heads(); len(heads) != 0 {
			t.Fatalf("Heads=%+v, want none", heads)
		}
		if es, _ := s.Append(ctx, noticeDraft("n1", 1)); len(es) != 1 || es[0].Seq != 1 {
			t.Fatalf("next append=%v, want seq 1", es)
		}
	})
	t.Run("ErrCanceled", func(t *testing.T) {
		s := MustOpenStore(t)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.Append(cctx, noticeDraft("n1", 1)); !errors.Is(err, context.Canceled) {
			t.Fatalf("Append=%v, want context.Canceled", err)
		}
	})
	t.Run("ErrNoKey", func(t *testing.T) {
		s := MustOpenStoreAt(t, filepath.Join(t.TempDir(), "gridbox.db"), nil, nil)
		if _, err := s.Append(ctx, noticeDraft("n1", 1)); err == nil {
			t.Fatal("expected error appending without a node key")
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		// An entry too large to be read back must be refused; before the
		// fix it was stored and every later append failed reading it.
		s := MustOpenStore(t)
		if _, err := s.Append(ctx, noticeDraft("n1", 1)); err != nil {
			t.Fatal(err)
		}
		big := appliance.Draft{Kind: appliance.KindNoticeSet, Body: strings.Repeat("长", appliance.MaxEntrySize/3+1)}
		if _, err := s.Append(ctx, big); err == nil {
			t.Fatal("expected error for an entry larger than MaxEntrySize")
		}
		if _, err := s.Append(ctx, noticeDraft("n2", 2)); err != nil {
			t.Fatalf("append after the refused entry: %v", err)
		}
	})
}

func TestStore_Ingest(t *testing.T) {
	ctx := context.Background()
	other := appliance.NewSigner(NewKey(t))
	t0 := appliance.HLCFromTime(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) // ahead of our clock
	feed := sealFeed(t, other, nil, 5, t0)

	t.Run("OK", func(t *testing.T) {
		s := MustOpenStore(t)
		if _, err := s.Append(ctx, noticeDraft("own", 1)); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Ingest(feed[:3]); err != nil || n != 3 {
			t.Fatalf("Ingest=%d, %v; want 3", n, err)
		}
		// Overlapping and repeated batches are idempotent.
		if n, err := s.Ingest(feed); err != nil || n != 2 {
			t.Fatalf("Ingest(overlap)=%d, %v; want 2", n, err)
		}
		if n, err := s.Ingest(feed); err != nil || n != 0 {
			t.Fatalf("Ingest(again)=%d, %v; want 0", n, err)
		}
		got, err := s.Entries(other.Feed, 1, 100)
		if err != nil || !reflect.DeepEqual(got, feed) {
			t.Fatalf("Entries=%v, %v", got, err)
		}
		heads, _ := s.Heads()
		if len(heads) != 2 {
			t.Fatalf("Heads=%+v, want 2 feeds", heads)
		}
		for _, h := range heads {
			if h.Feed == other.Feed && (h.Seq != 5 || h.Hash != feed[4].Hash()) {
				t.Fatalf("head of other feed=%+v", h)
			}
		}
		// Folded: the other node's notices are visible.
		if n, err := s.Notice("410184104201", "r1"); err != nil || n.Title != "通知第4号" {
			t.Fatalf("Notice(r1)=%+v, %v", n, err)
		}
		counts, _ := s.KindCounts()
		if got, want := counts[appliance.KindNoticeSet], int64(6); got != want {
			t.Fatalf("count=%d, want %d (each entry folded once)", got, want)
		}
		// Our clock moved past the received times.
		own, err := s.Append(ctx, noticeDraft("own", 2))
		if err != nil {
			t.Fatal(err)
		}
		if own[0].Time <= feed[4].Time {
			t.Fatalf("own time %d not after ingested %d", own[0].Time, feed[4].Time)
		}
		if st, _ := s.Stats(); st.Entries != 7 || st.Ingested != 5 {
			t.Fatalf("Stats=%+v", st)
		}
	})
	t.Run("ForkAtHeldSeq", func(t *testing.T) {
		// A different, validly signed entry at a sequence already held
		// (the other node equivocates) never replaces the held one, and
		// the batch is refused naming it.
		s := MustOpenStore(t)
		if _, err := s.Ingest(feed[:3]); err != nil {
			t.Fatal(err)
		}
		fork, err := other.Seal(noticeDraft("fork", 1), feed[0], feed[1].Time)
		if err != nil {
			t.Fatal(err)
		}
		n, err := s.Ingest([]*appliance.Entry{fork})
		if n != 0 || !errors.Is(err, appliance.ErrFork) || !strings.Contains(err.Error(), "/2:") {
			t.Fatalf("Ingest(fork)=%d, %v; want nothing added and ErrFork naming seq 2", n, err)
		}
		// The same entries again are fine: re-delivery is idempotent.
		if n, err := s.Ingest(feed[:3]); n != 0 || err != nil {
			t.Fatalf("re-ingest=%d, %v", n, err)
		}
		if got, _ := s.Entries(other.Feed, 1, 100); !reflect.DeepEqual(got, feed[:3]) {
			t.Fatal("a fork replaced held entries")
		}
	})
	t.Run("ErrTimeAfter9999", func(t *testing.T) {
		// Observed, the top of the HLC range made our clock wrap to 1970.
		s := MustOpenStore(t)
		for _, at := range []appliance.HLC{math.MaxUint64, appliance.MaxHLC + 1} {
			e, err := other.Seal(noticeDraft("late", 1), nil, at)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := s.Ingest([]*appliance.Entry{e}); n != 0 || !errors.Is(err, appliance.ErrBadTime) {
				t.Fatalf("Ingest(time %d)=%d, %v; want ErrBadTime", at, n, err)
			}
		}
		e, err := other.Seal(noticeDraft("late", 1), nil, appliance.MaxHLC)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Ingest([]*appliance.Entry{e}); err != nil {
			t.Fatal(err)
		}
		if a, b := s.Clock().Next(), s.Clock().Next(); a <= appliance.MaxHLC || b <= a {
			t.Fatalf("clock after observing MaxHLC: %d, %d", a, b)
		}
	})
	t.Run("Redacted", func(t *testing.T) {
		s := MustOpenStore(t)
		e, err := other.Seal(appliance.Draft{Kind: appliance.KindNoticeSet, Body: appliance.Notice{Grid: "g", ID: "s1", Title: "t", Body: "b", Published: "2026-11-28"}, Sealed: map[string]string{"id_number": "41018419800101001X"}}, nil, t0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Ingest([]*appliance.Entry{e.Redacted()}); err != nil {
			t.Fatalf("Ingest(redacted)=%v", err)
		}
		got, _ := s.Entries(other.Feed, 1, 1)
		if len(got) != 1 || got[0].Sealed != nil || got[0].SealHash != e.SealHash {
			t.Fatalf("stored %+v", got)
		}
	})

	// Each bad batch: good entries first, then the bad one; the error names
	// the bad one and nothing of the batch is stored.
	forger := appliance.NewSigner(NewKey(t))
	for _, tt := range []struct {
		name    string
		held    int // entries of feed stored before the batch
		batch   func() []*appliance.Entry
		badSeq  uint64
		wantErr error
	}{
		{"ErrForgedSignature", 0, func() []*appliance.Entry {
			// Signed by another key but claiming the other node's feed.
			e, _ := forger.Seal(noticeDraft("r1", 9), feed[1], feed[2].Time)
			e.Feed = other.Feed
			return []*appliance.Entry{feed[0], feed[1], e}
		}, 3, appliance.ErrBadSignature},
		{"ErrAlteredBody", 1, func() []*appliance.Entry {
			e := *feed[2]
			e.Body = []byte(strings.Replace(string(e.Body), "停水", "停电", 1))
			return []*appliance.Entry{feed[1], &e, feed[3]}
		}, 3, appliance.ErrBadSignature},
		{"ErrAlteredSealed", 0, func() []*appliance.Entry {
			e := *feed[1]
			e.Sealed = []byte("0123456789abcdef{\"id_number\":\"x\"}")
			return []*appliance.Entry{feed[0], &e}
		}, 2, appliance.ErrBadSeal},
		{"ErrGap", 0, func() []*appliance.Entry { return []*appliance.Entry{feed[0], feed[1], feed[3]} }, 4, appliance.ErrBadSequence},
		{"ErrGapAfterHeld", 2, func() []*appliance.Entry { return []*appliance.Entry{feed[3], feed[4]} }, 4, appliance.ErrBadSequence},
		{"ErrFirstNotOne", 0, func() []*appliance.Entry { return []*appliance.Entry{feed[1]} }, 2, appliance.ErrBadSequence},
		{"ErrWrongPrev", 0, func() []*appliance.Entry {
			// A fork: a different entry 2 signed by the right key, then the
			// original entry 3, which chains to the original entry 2.
			fork, _ := other.Seal(noticeDraft("fork", 1), feed[0], feed[1].Time)
			return []*appliance.Entry{feed[0], fork, feed[2]}
		}, 3, appliance.ErrBrokenChain},
		{"ErrWrongPrevAfterHeld", 2, func() []*appliance.Entry {
			e, _ := other.Seal(noticeDraft("r1", 9), feed[0], feed[2].Time) // claims to follow entry 1
			e.Seq = 3
			return []*appliance.Entry{e}
		}, 3, appliance.ErrBrokenChain},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := MustOpenStore(t)
			if tt.held > 0 {
				if _, err := s.Ingest(feed[:tt.held]); err != nil {
					t.Fatal(err)
				}
			}
			before := dumpViews(t, s.DB())
			beforeHeads, _ := s.Heads()

			n, err := s.Ingest(tt.batch())
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Ingest=%d, %v; want %v", n, err, tt.wantErr)
			}
			if want := fmt.Sprintf("%s/%d", other.Feed.Short(), tt.badSeq); !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not name entry %s", err, want)
			}
			if n != 0 {
				t.Fatalf("Ingest returned %d added with an error", n)
			}
			if heads, _ := s.Heads(); !reflect.DeepEqual(heads, beforeHeads) {
				t.Fatalf("Heads=%+v, want unchanged %+v", heads, beforeHeads)
			}
			if got, _ := s.Entries(other.Feed, 1, 100); len(got) != tt.held {
				t.Fatalf("%d entries stored, want %d", len(got), tt.held)
			}
			if d := dumpViews(t, s.DB()).diff(before); d != "" {
				t.Fatalf("views changed by a refused batch: %s", d)
			}
			// The good entries still go in afterwards.
			if _, err := s.Ingest(feed); err != nil {
				t.Fatalf("Ingest(good feed) after refusal: %v", err)
			}
		})
	}
}
