package bolt_test

import (
	"context"
	"fmt"
	gosync "sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// TestWriteGrouped: concurrent writes share commits, and each gets the
// result it would have had alone and in order: of four writes claiming one
// name, exactly one succeeds, whichever group they fall in.
func TestWriteGrouped(t *testing.T) {
	s := MustOpenStore(t)
	ctx := context.Background()
	txid := func() int {
		var id int
		s.DB().View(func(tx *bbolt.Tx) error { id = tx.ID(); return nil })
		return id
	}
	claim := func(name string, hold <-chan struct{}) func(*bolt.Tx) ([]appliance.Draft, error) {
		return func(tx *bolt.Tx) ([]appliance.Draft, error) {
			if hold != nil {
				<-hold
			}
			var owner string
			if ok, _ := tx.GetJSON("local", "claim/"+name, &owner); ok {
				return nil, appliance.Errorf(appliance.ECONFLICT, "%s 已被占用", name)
			}
			if err := tx.PutJSON("local", "claim/"+name, "x"); err != nil {
				return nil, err
			}
			return []appliance.Draft{{Kind: "test.claim", Version: 1, Body: map[string]string{"name": name}}}, nil
		}
	}
	before, _ := s.Stats()
	tx0 := txid()
	// The first write holds its transaction until the others are queued.
	hold := make(chan struct{})
	var wg gosync.WaitGroup
	var mu gosync.Mutex
	won, lost := map[string]int{}, map[string]int{}
	seqs := map[uint64]bool{}
	run := func(name string, h <-chan struct{}) {
		defer wg.Done()
		es, err := s.WriteGrouped(ctx, claim(name, h))
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil && len(es) == 1:
			won[name]++
			if seqs[es[0].Seq] {
				t.Errorf("seq %d given twice", es[0].Seq)
			}
			seqs[es[0].Seq] = true
		case appliance.ErrorCode(err) == appliance.ECONFLICT:
			lost[name]++
		default:
			t.Errorf("claim %s: %v, %d entries", name, err, len(es))
		}
	}
	wg.Add(1)
	go run("n0", hold)
	time.Sleep(50 * time.Millisecond)
	for i := 1; i < 200; i++ {
		wg.Add(1)
		go run(fmt.Sprintf("n%d", i%50), nil)
	}
	time.Sleep(300 * time.Millisecond) // all queued behind the held one
	close(hold)
	wg.Wait()
	for i := 0; i < 50; i++ {
		name := fmt.Sprintf("n%d", i)
		if won[name] != 1 || lost[name] != 3 {
			t.Errorf("%s: %d won, %d refused; want 1 and 3", name, won[name], lost[name])
		}
	}
	after, _ := s.Stats()
	if after.Entries-before.Entries != 50 {
		t.Fatalf("%d entries written, want 50", after.Entries-before.Entries)
	}
	// 200 writes, most refused inside shared transactions: far fewer
	// commits than writes (each refusal costs a split, not a commit).
	t.Logf("%d commits for 200 writes", txid()-tx0)
	if commits := txid() - tx0; commits > 60 {
		t.Fatalf("%d commits for 200 writes: not grouped", commits)
	}
	if _, err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}
