package bolt

import (
	"context"
	"errors"
	"sync"

	"go.etcd.io/bbolt"

	"gridbox/appliance"
)

// Group commit. Under a crowd of kiosk reports each write used to be its
// own fsync'd transaction, queued behind the others (p99 1.4 s with 100
// clients on 2 cores). WriteGrouped lets concurrent writes share one
// transaction and one fsync, without waiting when there is no crowd: the
// first caller commits at once; whoever arrives meanwhile is committed
// together by the next leader. Durability is unchanged: each call returns
// after the commit that holds its entries.
//
// Unlike bbolt's own Batch there is no delay to collect a batch (FINDINGS:
// its 10 ms made few writers slower), and a failing write is taken out and
// run alone, so every caller gets exactly the result it would have had in
// order. fns must tolerate running more than once: only the last run's
// effects are committed.

// maxGroup bounds the writes one transaction takes.
const maxGroup = 64

type groupReq struct {
	fn   func(tx *Tx) ([]appliance.Draft, error)
	out  []*appliance.Entry
	err  error
	done chan struct{} // closed when the request is committed or refused, and listeners told
	lead chan struct{} // closed when the request is to lead the next group
}

type grouper struct {
	mu    sync.Mutex
	queue []*groupReq
	busy  bool
}

// WriteGrouped is Write for writes that may share a transaction with
// others (see above); fn may run more than once.
func (s *Store) WriteGrouped(ctx context.Context, fn func(tx *Tx) ([]appliance.Draft, error)) ([]*appliance.Entry, error) {
	if s.signer == nil {
		return nil, errors.New("write: store opened without node key")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &groupReq{fn: withIdempotency(ctx, fn), done: make(chan struct{}), lead: make(chan struct{})}
	g := &s.group
	g.mu.Lock()
	g.queue = append(g.queue, r)
	if g.busy {
		g.mu.Unlock()
		select {
		case <-r.done:
			return r.out, r.err
		case <-r.lead:
		}
		g.mu.Lock()
	}
	g.busy = true
	n := min(len(g.queue), maxGroup)
	batch := g.queue[:n:n]
	g.queue = g.queue[n:]
	g.mu.Unlock()

	committed := s.commitGroup(batch)

	g.mu.Lock()
	if len(g.queue) > 0 {
		close(g.queue[0].lead) // hand over: this caller's answer waits for no one
	} else {
		g.busy = false
	}
	g.mu.Unlock()
	// Listeners run after the hand-over (one that writes must not find this
	// caller still leading) and before anyone is answered, as with Write.
	s.appends.Add(uint64(len(committed)))
	s.notify(committed)
	for _, b := range batch {
		close(b.done)
	}
	return r.out, r.err
}

// errGroupItem stops a group transaction at its first refused write.
var errGroupItem = errors.New("a write of the group was refused")

// commitGroup commits batch in order as if one after another: all in one
// transaction, or, when one is refused, those before it together, it
// alone, then those after it. It returns the entries committed.
func (s *Store) commitGroup(batch []*groupReq) []*appliance.Entry {
	var committed []*appliance.Entry
	for len(batch) > 0 {
		failed := -1
		var entries []*appliance.Entry
		err := s.foldUpdate(func(btx *bbolt.Tx) error {
			tx := &Tx{tx: btx, store: s}
			entries = entries[:0]
			for i, r := range batch {
				drafts, err := r.fn(tx)
				if err == nil {
					r.out, err = tx.appendDrafts(s.signer, nil, drafts)
				}
				if err != nil {
					if len(batch) == 1 {
						return err
					}
					failed = i
					return errGroupItem
				}
				entries = append(entries, r.out...)
			}
			return nil
		})
		if err == errGroupItem {
			committed = append(committed, s.commitGroup(batch[:failed])...)
			committed = append(committed, s.commitGroup(batch[failed:failed+1])...)
			batch = batch[failed+1:]
			continue
		}
		if err == nil {
			committed = append(committed, entries...)
		}
		if err != nil {
			for _, r := range batch {
				r.out, r.err = nil, err
			}
		}
		return committed
	}
	return committed
}
