package bolt

import (
	"encoding/binary"
	"strings"

	"gridbox/appliance"
)

// The arrival log: case entries in the order this node stored them
// (written or received), numbered 1, 2, 3… in the same transaction as the
// entry. The API's event stream (/api/v1/events) reads it, so a client
// resuming from event N gets every case change after N exactly once,
// whatever the entries' own times. Node-local: not a view (arrival order
// is no fact of the ledger), never replicated; the oldest are dropped past
// arrivalsKept.
var bucketArrivals = []byte("arrivals")

// arrivalsKept bounds the log: a client further behind starts again from
// the oldest kept.
const arrivalsKept = 200000

func init() { ledgerBuckets = append(ledgerBuckets, bucketArrivals) }

// logArrival numbers a case entry as it is stored.
func (tx *Tx) logArrival(e *appliance.Entry) error {
	if !strings.HasPrefix(e.Kind, "case.") {
		return nil
	}
	b := tx.tx.Bucket(bucketArrivals)
	n, err := b.NextSequence()
	if err != nil {
		return err
	}
	v := append(append(make([]byte, 0, 40), e.Feed[:]...), u64(e.Seq)...)
	if err := b.Put(u64(n), v); err != nil {
		return err
	}
	if n > arrivalsKept && n%1000 == 0 {
		c := b.Cursor()
		for k, _ := c.First(); k != nil && binary.BigEndian.Uint64(k) <= n-arrivalsKept; k, _ = c.First() {
			if err := c.Delete(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Arrival is a numbered case entry.
type Arrival struct {
	N     uint64
	Entry *appliance.Entry
}

// Arrivals returns up to limit case entries stored after number after,
// oldest first, and the last number given out (0 when none yet).
func (s *Store) Arrivals(after uint64, limit int) ([]Arrival, uint64, error) {
	var out []Arrival
	var last uint64
	err := s.Read(func(tx *Tx) error {
		b := tx.tx.Bucket(bucketArrivals)
		last = b.Sequence()
		c := b.Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < limit; k, v = c.Next() {
			var feed appliance.FeedID
			copy(feed[:], v[:32])
			e, err := tx.Entry(feed, binary.BigEndian.Uint64(v[32:]))
			if err != nil {
				return err
			}
			out = append(out, Arrival{N: binary.BigEndian.Uint64(k), Entry: e})
		}
		return nil
	})
	return out, last, err
}
