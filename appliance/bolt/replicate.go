package bolt

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"go.etcd.io/bbolt"

	"gridbox/appliance"
)

// IngestError names the entry that made a batch fail and why; Err is one of
// appliance's verification errors (ErrBadSignature, ErrBrokenChain…).
type IngestError struct {
	Ref appliance.Ref
	Err error
}

func (e *IngestError) Error() string {
	return fmt.Sprintf("entry %s/%d: %v", e.Ref.Feed.Short(), e.Ref.Seq, e.Err)
}

func (e *IngestError) Unwrap() error { return e.Err }

// IngestBatch is Ingest for runs of consecutive entries, as replication
// delivers them: every entry's sequence, hash chain and sealed part are
// checked, but only the signature of the last new entry of each feed, since
// that signature covers its hash, which covers the previous entry's hash,
// and so on back to what is already held. Only that signature is stored:
// the others (batches carry none) were not checked. Entries already held
// are skipped; the whole batch is refused if anything fails, and nothing
// is stored.
func (s *Store) IngestBatch(entries []*appliance.Entry) (int, error) {
	return s.ingest(entries, false)
}

// ingest stores and folds entries of other feeds in one transaction, checking
// each one's sequence, chain and sealed part, and either every signature or
// only the last new one of each feed (which covers the chain before it).
func (s *Store) ingest(entries []*appliance.Entry, everySig bool) (int, error) {
	var added []*appliance.Entry
	err := s.foldUpdate(func(btx *bbolt.Tx) error {
		added = added[:0]
		tx := &Tx{tx: btx, store: s}
		return tx.batched(func() error { return ingestRun(tx, entries, everySig, &added) })
	})
	if err != nil {
		return 0, err
	}
	for _, e := range added {
		s.clock.Observe(e.Time)
	}
	s.ingested.Add(uint64(len(added)))
	s.notify(added)
	return len(added), nil
}

// ingestRun checks, stores and folds entries in tx; added gets those new.
func ingestRun(tx *Tx, entries []*appliance.Entry, everySig bool, added *[]*appliance.Entry) error {
	prevs := map[appliance.FeedID]*appliance.Entry{}
	last := map[appliance.FeedID]*appliance.Entry{}
	lastAt := map[appliance.FeedID]int{}
	for i, e := range entries {
		lastAt[e.Feed] = i
	}
	for i, e := range entries {
		prev, ok := prevs[e.Feed]
		if !ok {
			var err error
			if prev, err = tx.lastEntry(e.Feed); err != nil {
				return err
			}
			prevs[e.Feed] = prev
		}
		if prev != nil && e.Seq <= prev.Seq {
			// Already held, unless the feed's owner signed two different
			// entries with one number: that is refused, never replaced.
			held, err := tx.Entry(e.Feed, e.Seq)
			if err != nil {
				return &IngestError{e.Ref(), err}
			}
			if held.Hash() != e.Hash() {
				return &IngestError{e.Ref(), appliance.ErrFork}
			}
			continue
		}
		if err := e.VerifyLink(prev); err != nil {
			return &IngestError{e.Ref(), err}
		}
		if e.Sealed != nil && sha256.Sum256(e.Sealed) != e.SealHash {
			return &IngestError{e.Ref(), appliance.ErrBadSeal}
		}
		if e.Time > appliance.MaxHLC {
			// The clock observes it: near the top, it would wrap to 1970.
			return &IngestError{e.Ref(), appliance.ErrBadTime}
		}
		if everySig {
			if err := e.VerifySignature(); err != nil {
				return &IngestError{e.Ref(), err}
			}
		} else if i != lastAt[e.Feed] && e.Sig != nil {
			// Covered by the feed's last entry in the batch; a
			// signature not checked is not kept.
			c := *e
			c.Sig = nil
			e = &c
		}
		if err := tx.putEntry(e); err != nil {
			return err
		}
		if err := tx.wantPhotos(e); err != nil {
			return err
		}
		prevs[e.Feed] = e
		last[e.Feed] = e
		*added = append(*added, e)
	}
	if !everySig {
		for _, e := range last {
			if err := e.VerifySignature(); err != nil {
				return &IngestError{e.Ref(), err}
			}
		}
	}
	return nil
}

// DownFeed returns the id of this node's downward feed for the child with
// division code child (appliance.Signer.Down).
func (s *Store) DownFeed(child string) (appliance.FeedID, error) {
	if s.signer == nil {
		return appliance.FeedID{}, errors.New("down feed: store opened without node key")
	}
	sg, err := s.signer.Down(child)
	if err != nil {
		return appliance.FeedID{}, err
	}
	return sg.Feed, nil
}

// WriteDown is Write for the downward feed of one child: what the parent
// writes there reaches that child and no other. The feed starts with a
// node.down entry carrying the node key's proof that the feed is its own.
// The entries fold into this node's views like any other.
func (s *Store) WriteDown(ctx context.Context, child string, fn func(tx *Tx) ([]appliance.Draft, error)) ([]*appliance.Entry, error) {
	if s.signer == nil {
		return nil, errors.New("write down: store opened without node key")
	}
	if err := appliance.ValidateDivisionCode(child, appliance.NodeVillage); err != nil {
		if err2 := appliance.ValidateDivisionCode(child, appliance.NodeTown); err2 != nil {
			return nil, err
		}
	}
	sg, err := s.signer.Down(child)
	if err != nil {
		return nil, err
	}
	return s.writeFeed(ctx, sg, &appliance.Draft{Kind: appliance.KindNodeDown, Version: 1, Body: s.signer.ProveDown(child, sg.Feed)}, fn)
}

// UpFeed returns the id of this node's upward feed (appliance.KindNodeUp).
func (s *Store) UpFeed() (appliance.FeedID, error) {
	if s.signer == nil {
		return appliance.FeedID{}, errors.New("up feed: store opened without node key")
	}
	sg, err := s.signer.Up()
	if err != nil {
		return appliance.FeedID{}, err
	}
	return sg.Feed, nil
}

// WriteUp is Write for the upward feed: what a town writes there (cases
// escalated to the city, statistics) is all its city receives from it.
// Write no sealed parts here: the city is not to have them.
func (s *Store) WriteUp(ctx context.Context, fn func(tx *Tx) ([]appliance.Draft, error)) ([]*appliance.Entry, error) {
	if s.signer == nil {
		return nil, errors.New("write up: store opened without node key")
	}
	sg, err := s.signer.Up()
	if err != nil {
		return nil, err
	}
	return s.writeFeed(ctx, sg, &appliance.Draft{Kind: appliance.KindNodeUp, Version: 1, Body: s.signer.ProveDown(appliance.UpClaim, sg.Feed)}, fn)
}

// DownFeedOf returns the node.down or node.up claim at the start of feed,
// if the store holds one.
func (s *Store) DownFeedOf(feed appliance.FeedID) (appliance.DownFeed, bool) {
	var d appliance.DownFeed
	es, err := s.Entries(feed, 1, 1)
	if err != nil || len(es) == 0 || (es[0].Kind != appliance.KindNodeDown && es[0].Kind != appliance.KindNodeUp) || es[0].DecodeBody(&d) != nil || d.Validate() != nil {
		return d, false
	}
	return d, true
}
