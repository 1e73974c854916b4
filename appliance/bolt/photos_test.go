package bolt_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// TestWantedPhotosAcceptReadsStore: the filter given to WantedPhotos may
// read the store itself (replication looks up a feed's node.down claim
// there) while another goroutine commits a write that grows the file. A
// read transaction opened inside another one deadlocks with such a writer
// (it waits for the outer one to end before remapping the file, and new
// readers wait behind it), which froze the whole node.
func TestWantedPhotosAcceptReadsStore(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: day(2, 9)}
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := range 64 {
		img.Set(x, x%48, color.RGBA{200, 10, 10, 255})
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Cases.RegisterCase(ctx, "u-test", bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourcePatrol, Group: villageCode + "-01", Description: "树木倒伏挡路", Photos: [][]byte{buf.Bytes()}}); err != nil {
		t.Fatal(err)
	}
	es, err := v.Store.Entries(v.Store.Feed(), 1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}

	// Opened by hand: on the deadlock Close would never return.
	path := filepath.Join(t.TempDir(), "gridbox.db")
	s, err := bolt.Open(path, NewKey(t), &bolt.Options{NoSync: true, SmallMap: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.IngestBatch(es); err != nil {
		t.Fatal(err)
	}
	if n := s.CountWantedPhotos(); n != 1 || !s.WantsPhotos() {
		t.Fatalf("photos wanted: %d, want 1", n)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// Enough to outgrow the file's mapping: bbolt remaps (under its lock)
	// when the data passes the mapped size, at most twice the file's.
	var drafts []appliance.Draft
	for i := 0; len(drafts)*200 < 4*int(fi.Size()); i++ {
		drafts = append(drafts, noticeDraft(fmt.Sprintf("n%d", i), i))
	}

	done := make(chan error, 1)
	go func() {
		_, err := s.WantedPhotos(4, func(bolt.PhotoRef) bool {
			wrote := make(chan error, 1)
			go func() {
				_, err := s.Append(ctx, drafts...)
				wrote <- err
			}()
			// Read the store as replication's filter does, until the
			// write is in.
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				if _, err := s.Entries(v.Store.Feed(), 1, 1); err != nil {
					t.Error(err)
				}
				select {
				case err := <-wrote:
					if err != nil {
						t.Error(err)
					}
					return true
				default:
				}
				time.Sleep(time.Millisecond)
			}
			t.Error("the write was not in after 5 s")
			return true
		})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("WantedPhotos deadlocked with a writer growing the file")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestWantedPhotosPages: WantedPhotos reads the wanted photos a page at a
// time; every one is offered to accept once, past the first page too.
func TestWantedPhotosPages(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: day(2, 9)}
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	n := 0
	for c := range 12 {
		var photos [][]byte
		for range appliance.MaxCasePhotos {
			img := image.NewRGBA(image.Rect(0, 0, 16, 16))
			img.Set(n%16, n/16, color.RGBA{uint8(c), 200, 10, 255})
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
				t.Fatal(err)
			}
			photos = append(photos, buf.Bytes())
			n++
		}
		if _, err := v.Cases.RegisterCase(ctx, "u-test", bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourcePatrol, Group: villageCode + "-01", Description: "树木倒伏挡路", Photos: photos}); err != nil {
			t.Fatal(err)
		}
	}
	es, err := v.Store.Entries(v.Store.Feed(), 1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	s := MustOpenStore(t)
	if _, err := s.IngestBatch(es); err != nil {
		t.Fatal(err)
	}
	want := s.CountWantedPhotos()
	if want <= 64 {
		t.Fatalf("photos wanted: %d, want more than a page", want)
	}
	seen := map[string]int{}
	all, err := s.WantedPhotos(1000, func(r bolt.PhotoRef) bool { seen[r.Sum]++; return true })
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != want || len(seen) != want {
		t.Fatalf("got %d refs, %d seen; want %d", len(all), len(seen), want)
	}
	for sum, k := range seen {
		if k != 1 {
			t.Fatalf("%s offered %d times", sum, k)
		}
	}
	last := all[len(all)-1]
	got, err := s.WantedPhotos(4, func(r bolt.PhotoRef) bool { return r.Sum == last.Sum })
	if err != nil || len(got) != 1 || got[0] != last {
		t.Fatalf("the last wanted photo only: %v, %v", got, err)
	}
}
