package bolt_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

func TestStore_Backup(t *testing.T) {
	ctx := context.Background()
	s := MustOpenStore(t)
	// Enough data that a copy takes a while.
	for i := 0; i < 4; i++ {
		_, err := s.Write(ctx, func(*bolt.Tx) ([]appliance.Draft, error) {
			ds := make([]appliance.Draft, 500)
			for j := range ds {
				ds[j] = noticeDraft(fmt.Sprintf("n%d", j%50), i*500+j)
			}
			return ds, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	// One goroutine appends (fsync on) while backups are taken.
	var appended atomic.Int64
	stop := make(chan struct{})
	done := make(chan error)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if _, err := s.Append(ctx, noticeDraft(fmt.Sprintf("w%d", i%7), i)); err != nil {
				done <- err
				return
			}
			appended.Add(1)
		}
	}()

	dir := t.TempDir()
	var paths []string
	for i := 0; i < 3; i++ {
		for n := appended.Load(); appended.Load() < n+5; {
			time.Sleep(time.Millisecond) // let some appends land between copies
		}
		path := filepath.Join(dir, fmt.Sprintf("backup%d.db", i))
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Backup(f); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	close(stop)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if appended.Load() < 15 {
		t.Fatalf("only %d appends during the backups", appended.Load())
	}
	live, err := s.Entries(s.Feed(), 1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}

	last := uint64(0)
	for i, path := range paths {
		// The copy opens without the node key and verifies: chain,
		// signatures, heads and views agree.
		b := openStore(t, path, nil, nil, true)
		if _, err := b.Verify(ctx); err != nil {
			t.Fatalf("backup %d: Verify=%v", i, err)
		}
		heads, err := b.Heads()
		if err != nil || len(heads) != 1 {
			t.Fatalf("backup %d: Heads=%+v, %v", i, heads, err)
		}
		h := heads[0]
		// A prefix of the live feed, later copies no shorter.
		if h.Seq < 2000 || h.Seq > uint64(len(live)) || h.Seq < last {
			t.Fatalf("backup %d: head seq %d (live %d, previous copy %d)", i, h.Seq, len(live), last)
		}
		last = h.Seq
		if want := live[h.Seq-1].Hash(); h.Hash != want {
			t.Fatalf("backup %d: head hash differs from the live entry %d", i, h.Seq)
		}
		counts, _ := b.KindCounts()
		if got := counts[appliance.KindNoticeSet]; got != int64(h.Seq) {
			t.Fatalf("backup %d: views counted %d entries, head is %d", i, got, h.Seq)
		}
		b.Close()
	}
	if last == 2000 {
		t.Fatal("no backup caught any concurrent append")
	}
}
