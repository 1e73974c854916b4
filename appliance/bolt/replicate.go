package bolt

import (
	"crypto/sha256"
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
// and so on back to what is already held. Entries already held are skipped;
// the whole batch is refused if anything fails, and nothing is stored.
func (s *Store) IngestBatch(entries []*appliance.Entry) (int, error) {
	var added []*appliance.Entry
	err := s.db.Update(func(btx *bbolt.Tx) error {
		added = added[:0]
		tx := &Tx{tx: btx, store: s}
		prevs := map[appliance.FeedID]*appliance.Entry{}
		last := map[appliance.FeedID]*appliance.Entry{}
		for _, e := range entries {
			prev, ok := prevs[e.Feed]
			if !ok {
				var err error
				if prev, err = tx.lastEntry(e.Feed); err != nil {
					return err
				}
				prevs[e.Feed] = prev
			}
			if prev != nil && e.Seq <= prev.Seq {
				continue // already held
			}
			if err := e.VerifyLink(prev); err != nil {
				return &IngestError{e.Ref(), err}
			}
			if len(e.Sig) != 64 {
				return &IngestError{e.Ref(), appliance.ErrBadSignature}
			}
			if e.Sealed != nil && sha256.Sum256(e.Sealed) != e.SealHash {
				return &IngestError{e.Ref(), appliance.ErrBadSeal}
			}
			if err := tx.putEntry(e); err != nil {
				return err
			}
			prevs[e.Feed] = e
			last[e.Feed] = e
			added = append(added, e)
		}
		for _, e := range last {
			if err := e.VerifySignature(); err != nil {
				return &IngestError{e.Ref(), err}
			}
		}
		return nil
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
