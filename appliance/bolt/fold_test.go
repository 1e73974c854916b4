package bolt_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// randomDraft returns a grid.set, staff.set, notice.set or duty.set draft
// (now and then one with a body the fold must skip) that overwrites one of
// a few keys, so feeds clash on them.
func randomDraft(rng *rand.Rand) appliance.Draft {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	d := appliance.Draft{Author: pick("u1", "u2"), Version: 1}
	switch rng.IntN(9) {
	case 0, 1:
		d.Kind = appliance.KindGridSet
		if rng.IntN(2) == 0 {
			// Villages whose parent changes: moves them in v_grid_tree.
			d.Body = appliance.Grid{Code: pick("410184104201", "410184104202"), Level: 2, Name: pick("东村", "西村", "南村"), Parent: pick("", "410184104000")}
		} else {
			code := pick("410184104201-01", "410184104201-02", "410184104202-01")
			d.Body = appliance.Grid{Code: code, Level: 3, Name: pick("第一组", "第二组"), Parent: code[:12], Kind: pick("", "村组", "楼院")}
		}
	case 2, 3:
		d.Kind = appliance.KindStaffSet
		d.Body = appliance.StaffMember{ID: pick("s1", "s2", "s3"), Name: pick("张秀菊", "李建国"), Phone: pick("13800138000", "0371-62345678"),
			Duty: pick(appliance.DutyGridLeader, appliance.DutyGridWorker), Grid: pick("410184104201", "410184104201-01", "410184104202"), Retired: rng.IntN(5) == 0}
	case 4, 5:
		d.Kind = appliance.KindNoticeSet
		d.Body = appliance.Notice{Grid: pick("410184104201", "410184104000"), ID: pick("n1", "n2", "n3"), Title: pick("停水通知", "防火提示", "疫苗接种"),
			Body: fmt.Sprintf("正文 %d", rng.IntN(1000)), Published: pick("2026-11-27", "2026-11-28"), Pinned: rng.IntN(3) == 0, Withdrawn: rng.IntN(6) == 0}
	case 6, 7:
		d.Kind = appliance.KindDutySet
		d.Body = appliance.DutyShift{Grid: "410184104201", Date: pick("2026-11-28", "2026-11-29"), Shift: pick(appliance.Shifts...), StaffID: pick("s1", "s2"),
			Name: pick("张秀菊", "李建国"), Phone: "13800138000", Removed: rng.IntN(4) == 0}
	default:
		// Signed but unusable: the fold counts it and skips it.
		d.Kind = pick(appliance.KindGridSet, appliance.KindNoticeSet, "case.note")
		d.Body = map[string]any{"code": "bad", "level": 9}
	}
	return d
}

// randomFeeds seals nFeeds feeds of perFeed random entries each. Each
// feed's HLC times increase, but all feeds draw them from the same narrow
// range, so equal times across feeds are common (ties go to the feed id).
func randomFeeds(tb testing.TB, rng *rand.Rand, nFeeds, perFeed int) [][]*appliance.Entry {
	tb.Helper()
	base := appliance.HLCFromTime(time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC))
	feeds := make([][]*appliance.Entry, nFeeds)
	for f := range feeds {
		s := appliance.NewSigner(NewKey(tb))
		var prev *appliance.Entry
		t := base + appliance.HLC(rng.IntN(3))
		for i := 0; i < perFeed; i++ {
			e, err := s.Seal(randomDraft(rng), prev, t)
			if err != nil {
				tb.Fatal(err)
			}
			feeds[f] = append(feeds[f], e)
			prev = e
			t += appliance.HLC(1 + rng.IntN(2))
		}
	}
	return feeds
}

// interleave merges the feeds in a random order that keeps each feed's own
// sequence order, and cuts the result into batches of random size.
func interleave(rng *rand.Rand, feeds [][]*appliance.Entry) [][]*appliance.Entry {
	next := make([]int, len(feeds))
	var all []*appliance.Entry
	for {
		var open []int
		for f := range feeds {
			if next[f] < len(feeds[f]) {
				open = append(open, f)
			}
		}
		if len(open) == 0 {
			break
		}
		f := open[rng.IntN(len(open))]
		n := min(1+rng.IntN(4), len(feeds[f])-next[f])
		all = append(all, feeds[f][next[f]:next[f]+n]...)
		next[f] += n
	}
	var batches [][]*appliance.Entry
	for len(all) > 0 {
		n := min(1+rng.IntN(8), len(all))
		batches = append(batches, all[:n])
		all = all[n:]
	}
	return batches
}

func ingestAll(tb testing.TB, s *bolt.Store, batches [][]*appliance.Entry) {
	tb.Helper()
	for _, b := range batches {
		if _, err := s.Ingest(b); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestFold_Deterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(20261128, 0))
	feeds := randomFeeds(t, rng, 4, 40)

	// The generator must make clashes: equal times across feeds.
	times := map[appliance.HLC]map[appliance.FeedID]bool{}
	ties := 0
	for _, f := range feeds {
		for _, e := range f {
			if times[e.Time] == nil {
				times[e.Time] = map[appliance.FeedID]bool{}
			}
			if len(times[e.Time]) > 0 && !times[e.Time][e.Feed] {
				ties++
			}
			times[e.Time][e.Feed] = true
		}
	}
	if ties < 10 {
		t.Fatalf("only %d equal times across feeds; the test would prove little", ties)
	}

	// Reference: the feeds one after another.
	ref := MustOpenStoreAt(t, filepath.Join(t.TempDir(), "ref.db"), NewKey(t), &bolt.Options{NoSync: true})
	for _, f := range feeds {
		ingestAll(t, ref, [][]*appliance.Entry{f})
	}
	want := dumpViews(t, ref.DB())
	for _, b := range []string{"v_grids", "v_grid_tree", "v_staff", "v_staff_grid", "v_notices", "v_duty", "v_counts"} {
		if want.count(b) == 0 {
			t.Fatalf("view %s is empty; the test would prove little", b)
		}
	}

	t.Run("LastWriterWins", func(t *testing.T) {
		// Each notice (grid "/" id) holds the body of its latest entry by
		// (HLC, feed, seq).
		latest := map[string]*appliance.Entry{}
		for _, f := range feeds {
			for _, e := range f {
				var n appliance.Notice
				if e.Kind != appliance.KindNoticeSet || e.DecodeBody(&n) != nil || n.Validate() != nil {
					continue
				}
				if k := n.Grid + "/" + n.ID; latest[k] == nil || latest[k].Before(e) {
					latest[k] = e
				}
			}
		}
		for id, e := range latest {
			ref.Read(func(tx *bolt.Tx) error {
				if got := tx.GetLWW("v_notices", id); !bytes.Equal(got, e.Body) {
					t.Errorf("notice %s=%s, want %s (from %s/%d)", id, got, e.Body, e.Feed.Short(), e.Seq)
				}
				return nil
			})
		}
	})

	t.Run("Interleavings", func(t *testing.T) {
		for i := 0; i < 50; i++ {
			s := MustOpenStoreAt(t, filepath.Join(t.TempDir(), fmt.Sprintf("s%d.db", i)), NewKey(t), &bolt.Options{NoSync: true})
			ingestAll(t, s, interleave(rng, feeds))
			if d := dumpViews(t, s.DB()).diff(want); d != "" {
				t.Fatalf("interleaving %d: views differ from the reference: %s", i, d)
			}
		}
	})
	t.Run("Reindex", func(t *testing.T) {
		s := MustOpenStoreAt(t, filepath.Join(t.TempDir(), "reindex.db"), NewKey(t), &bolt.Options{NoSync: true})
		ingestAll(t, s, interleave(rng, feeds))
		if err := s.Reindex(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := dumpViews(t, s.DB()).diff(want); d != "" {
			t.Fatalf("views after Reindex differ from the live fold: %s", d)
		}
	})
}

// bigLedger writes n notice entries to the store's own feed in batches
// with NoSync, plus a grid tree, and returns the store.
func bigLedger(tb testing.TB, path string, n int) *bolt.Store {
	tb.Helper()
	ctx := context.Background()
	s := MustOpenStoreAt(tb, path, NewKey(tb), &bolt.Options{NoSync: true})
	if err := s.SetGrid(ctx, "u1", appliance.Grid{Code: "410184104000", Level: 1, Name: "城关镇"}); err != nil {
		tb.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 0))
	for done := 1; done < n; {
		k := min(5000, n-done)
		_, err := s.Write(ctx, func(*bolt.Tx) ([]appliance.Draft, error) {
			ds := make([]appliance.Draft, k)
			for i := range ds {
				ds[i] = randomDraft(rng)
			}
			return ds, nil
		})
		if err != nil {
			tb.Fatal(err)
		}
		done += k
	}
	return s
}

func TestReindex(t *testing.T) {
	ctx := context.Background()

	t.Run("SameAsLiveFold", func(t *testing.T) {
		// More entries than one reindex chunk (20,000), and other feeds.
		s := bigLedger(t, filepath.Join(t.TempDir(), "gridbox.db"), 20_005)
		rng := rand.New(rand.NewPCG(2, 0))
		for _, f := range randomFeeds(t, rng, 2, 30) {
			if _, err := s.Ingest(f); err != nil {
				t.Fatal(err)
			}
		}
		live := dumpViews(t, s.DB())
		if err := s.Reindex(ctx); err != nil {
			t.Fatal(err)
		}
		if d := dumpViews(t, s.DB()).diff(live); d != "" {
			t.Fatalf("views after Reindex differ from the live fold: %s", d)
		}
		counts, _ := s.KindCounts()
		total := int64(0)
		for _, n := range counts {
			total += n
		}
		if total != 20_005+60 {
			t.Fatalf("counted %d entries, want %d", total, 20_005+60)
		}
	})

	t.Run("ConcurrentWrites", func(t *testing.T) {
		// Appends while Reindex runs must be folded exactly once. Before
		// Reindex excluded Write and Ingest, an entry appended to a feed
		// the rebuild had not finished was folded live and again by the
		// rebuild, and Verify found v_counts off.
		s := bigLedger(t, filepath.Join(t.TempDir(), "gridbox.db"), 20_005)
		stop := make(chan struct{})
		started := make(chan struct{})
		done := make(chan error)
		go func() {
			rng := rand.New(rand.NewPCG(5, 0))
			for i := 0; ; i++ {
				if i == 2 {
					close(started)
				}
				select {
				case <-stop:
					if i < 2 {
						done <- fmt.Errorf("only %d appends", i)
						return
					}
					done <- nil
					return
				default:
				}
				if _, err := s.Append(ctx, randomDraft(rng)); err != nil {
					done <- err
					return
				}
			}
		}()
		select { // let appends start; waiting on them, not on the clock
		case <-started:
		case err := <-done:
			t.Fatal(err)
		}
		err := s.Reindex(ctx)
		close(stop)
		if err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if _, err := s.Verify(ctx); err != nil {
			t.Fatalf("Verify after Reindex with concurrent appends: %v", err)
		}
	})

	t.Run("Interrupted", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "gridbox.db")
		key := NewKey(t)
		s := MustOpenStoreAt(t, path, key, nil)
		rng := rand.New(rand.NewPCG(3, 0))
		for i := 0; i < 20; i++ {
			if _, err := s.Append(ctx, randomDraft(rng), randomDraft(rng)); err != nil {
				t.Fatal(err)
			}
		}
		want := dumpViews(t, s.DB())
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		// A reindex stopped half-way: some views cleared, one half rebuilt
		// (a counter too low), the flag still set.
		tamperFile(t, path, func(tx *bbolt.Tx) error {
			for _, name := range []string{"v_notices", "v_grids", "v_grid_tree"} {
				if err := tx.DeleteBucket([]byte(name)); err != nil {
					return err
				}
				if _, err := tx.CreateBucket([]byte(name)); err != nil {
					return err
				}
			}
			if err := tx.Bucket([]byte("v_counts")).Put([]byte("entries/"+appliance.KindDutySet), binary.BigEndian.AppendUint64(nil, 1)); err != nil {
				return err
			}
			return tx.Bucket([]byte("meta")).Put([]byte("reindexing"), []byte{1})
		})
		s = MustOpenStoreAt(t, path, key, nil)
		if d := dumpViews(t, s.DB()).diff(want); d != "" {
			t.Fatalf("views after reopening an interrupted reindex: %s", d)
		}
		s.DB().View(func(tx *bbolt.Tx) error {
			if tx.Bucket([]byte("meta")).Get([]byte("reindexing")) != nil {
				t.Fatal("reindexing flag still set")
			}
			return nil
		})
	})

	t.Run("Canceled", func(t *testing.T) {
		// A canceled reindex leaves the flag; the next Open finishes it.
		path := filepath.Join(t.TempDir(), "gridbox.db")
		key := NewKey(t)
		s := MustOpenStoreAt(t, path, key, nil)
		rng := rand.New(rand.NewPCG(4, 0))
		if _, err := s.Append(ctx, randomDraft(rng), randomDraft(rng), randomDraft(rng)); err != nil {
			t.Fatal(err)
		}
		want := dumpViews(t, s.DB())
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Reindex(cctx); err == nil {
			t.Fatal("Reindex with a canceled context succeeded")
		}
		s.Close()
		s = MustOpenStoreAt(t, path, key, nil)
		if d := dumpViews(t, s.DB()).diff(want); d != "" {
			t.Fatalf("views after reopening: %s", d)
		}
	})
}
