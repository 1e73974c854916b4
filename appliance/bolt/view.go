package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"go.etcd.io/bbolt"

	"gridbox/appliance"
)

// Tx is a transaction on the store: views read and write through it.
type Tx struct {
	tx    *bbolt.Tx
	store *Store
	batch *foldBatch // while a run of entries folds (batched)
}

// foldBatch is the work a run of folds leaves to its end, where the result
// is the same as doing it entry by entry: counters are sums, added once
// per key; a case is refolded from all its entries, so once per case
// gives what refolding it after each of its entries gives (the views
// compared by Verify, which folds in chunks of its own, are the same).
type foldBatch struct {
	counters map[string]map[string]int64        // bucket → key → delta
	stats    statBatch                          // the cases' statistics (case_cells.go)
	cases    map[string]bool                    // case id → its register entry came (keep the reporter)
	entries  map[appliance.Ref]*appliance.Entry // stored in this run: read back without decoding
}

// batched runs fn, which stores and folds entries, with the per-key work
// of the fold done once at the end (before anyone reads the views again).
func (tx *Tx) batched(fn func() error) error {
	if tx.batch != nil {
		return fn()
	}
	tx.batch = &foldBatch{counters: map[string]map[string]int64{}, cases: map[string]bool{}, entries: map[appliance.Ref]*appliance.Entry{}, stats: statBatch{}}
	err := fn()
	b := tx.batch
	tx.batch = nil
	if err != nil {
		return err
	}
	ids := make([]string, 0, len(b.cases))
	for id := range b.cases {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	tx.batch = &foldBatch{counters: b.counters, entries: b.entries, stats: statBatch{}} // the refolds' counters join the rest
	for _, id := range ids {
		if err := refoldCase(tx, id, b.cases[id]); err != nil {
			tx.batch = nil
			return err
		}
	}
	stats := tx.batch.stats
	tx.batch = nil
	if err := stats.flush(tx); err != nil {
		return err
	}
	buckets := make([]string, 0, len(b.counters))
	for name := range b.counters {
		buckets = append(buckets, name)
	}
	sort.Strings(buckets)
	for _, name := range buckets {
		keys := make([]string, 0, len(b.counters[name]))
		for k := range b.counters[name] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if d := b.counters[name][k]; d != 0 {
				if err := tx.AddCounter(name, k, d); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// Bolt returns the underlying bbolt transaction.
func (tx *Tx) Bolt() *bbolt.Tx { return tx.tx }

// Store returns the store the transaction belongs to.
func (tx *Tx) Store() *Store { return tx.store }

// A View is state folded from entries. Apply must be deterministic and must
// give the same buckets whatever order entries of different feeds arrive in
// (entries of one feed always arrive in sequence order). It skips entries it
// cannot use (bad bodies from other nodes) and returns errors only for
// storage failures. It owns its buckets: nothing else writes them.
type View interface {
	Name() string
	Buckets() []string
	Apply(tx *Tx, e *appliance.Entry) error
}

var views []View

// A VersionedView says which format its buckets have: bump the version
// when Apply changes what it writes for entries already stored, and every
// node rebuilds its views at the first start of the new release (and again
// after a rollback to the old one). Views without it have version 1.
type VersionedView interface {
	View
	Version() int
}

// ViewsFormat names the registered views, their buckets and versions: a
// file whose views were folded with another format is reindexed at open.
func ViewsFormat() string {
	var parts []string
	for _, v := range views {
		n := 1
		if vv, ok := v.(VersionedView); ok {
			n = vv.Version()
		}
		parts = append(parts, fmt.Sprintf("%s:%d:%s", v.Name(), n, strings.Join(v.Buckets(), ",")))
	}
	sort.Strings(parts)
	return strings.Join(parts, ";")
}

// RegisterView adds a view; call it from init. Each view's buckets are
// created at open, cleared by Reindex and compared by Verify.
func RegisterView(v View) {
	for _, w := range views {
		if w.Name() == v.Name() {
			panic("bolt: view registered twice: " + v.Name())
		}
	}
	views = append(views, v)
}

func viewBuckets() [][]byte {
	var out [][]byte
	for _, v := range views {
		for _, b := range v.Buckets() {
			out = append(out, []byte(b))
		}
	}
	return out
}

func fold(tx *Tx, e *appliance.Entry) error {
	for _, v := range views {
		if err := v.Apply(tx, e); err != nil {
			return fmt.Errorf("fold %s/%d into %s: %w", e.Feed.Short(), e.Seq, v.Name(), err)
		}
	}
	return nil
}

// Bucket returns a top-level bucket; it panics on unknown names, which are
// programming errors (all buckets are created at open).
func (tx *Tx) Bucket(name string) *bbolt.Bucket {
	b := tx.tx.Bucket([]byte(name))
	if b == nil {
		panic("bolt: no bucket " + name)
	}
	return b
}

// GetJSON decodes the value at key into v and reports whether it existed.
func (tx *Tx) GetJSON(bucket, key string, v any) (bool, error) {
	data := tx.Bucket(bucket).Get([]byte(key))
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("decode %s/%s: %w", bucket, key, err)
	}
	return true, nil
}

// PutJSON stores v as JSON at key.
func (tx *Tx) PutJSON(bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", bucket, key, err)
	}
	return tx.Bucket(bucket).Put([]byte(key), data)
}

// stamp orders writes for last-writer-wins: HLC time, then feed id, then seq.
const stampSize = 8 + 32 + 8

func stampOf(e *appliance.Entry) []byte {
	b := make([]byte, 0, stampSize)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time))
	b = append(b, e.Feed[:]...)
	return binary.BigEndian.AppendUint64(b, e.Seq)
}

// PutLWW stores value at key unless a later write (by stamp) is there
// already; it reports whether value won. The fold is then the same in any
// arrival order.
func (tx *Tx) PutLWW(bucket, key string, e *appliance.Entry, value []byte) (bool, error) {
	b := tx.Bucket(bucket)
	st := stampOf(e)
	if old := b.Get([]byte(key)); len(old) >= stampSize && bytes.Compare(old[:stampSize], st) >= 0 {
		return false, nil
	}
	return true, b.Put([]byte(key), append(st, value...))
}

// GetLWW returns the value stored by PutLWW (without its stamp), nil if none.
// The slice is valid only during the transaction.
func (tx *Tx) GetLWW(bucket, key string) []byte {
	v := tx.Bucket(bucket).Get([]byte(key))
	if len(v) < stampSize {
		return nil
	}
	return v[stampSize:]
}

// LWWJSON decodes a PutLWW value into v and reports whether it existed.
func (tx *Tx) LWWJSON(bucket, key string, v any) (bool, error) {
	data := tx.GetLWW(bucket, key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("decode %s/%s: %w", bucket, key, err)
	}
	return true, nil
}

// EachLWW calls fn for each PutLWW value in bucket whose key has prefix.
func (tx *Tx) EachLWW(bucket, prefix string, fn func(key string, value []byte) error) error {
	c := tx.Bucket(bucket).Cursor()
	p := []byte(prefix)
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if len(v) < stampSize {
			continue
		}
		if err := fn(string(k), v[stampSize:]); err != nil {
			return err
		}
	}
	return nil
}

// AddCounter adds delta to the signed counter at key.
func (tx *Tx) AddCounter(bucket, key string, delta int64) error {
	if tx.batch != nil {
		m := tx.batch.counters[bucket]
		if m == nil {
			m = map[string]int64{}
			tx.batch.counters[bucket] = m
		}
		m[key] += delta
		return nil
	}
	b := tx.Bucket(bucket)
	n := int64(0)
	if v := b.Get([]byte(key)); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	n += delta
	if n == 0 {
		return b.Delete([]byte(key))
	}
	return b.Put([]byte(key), binary.BigEndian.AppendUint64(nil, uint64(n)))
}

// Counter reads a counter written by AddCounter.
func (tx *Tx) Counter(bucket, key string) int64 {
	n := int64(0)
	if v := tx.Bucket(bucket).Get([]byte(key)); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	if tx.batch != nil {
		n += tx.batch.counters[bucket][key]
	}
	return n
}

// Counters returns every counter in bucket whose key has prefix, keyed by
// the rest of the key.
func (tx *Tx) Counters(bucket, prefix string) map[string]int64 {
	out := map[string]int64{}
	c := tx.Bucket(bucket).Cursor()
	p := []byte(prefix)
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if len(v) == 8 {
			out[string(k[len(p):])] = int64(binary.BigEndian.Uint64(v))
		}
	}
	if tx.batch != nil {
		for k, d := range tx.batch.counters[bucket] {
			if strings.HasPrefix(k, prefix) {
				if out[k[len(prefix):]] += d; out[k[len(prefix):]] == 0 {
					delete(out, k[len(prefix):])
				}
			}
		}
	}
	return out
}

// Object logs: views whose state depends on the order of several entries
// (a case's steps, a household's events) record each entry under the object
// and recompute the object from all of them in (HLC, feed, seq) order, so
// arrival order does not matter.
const bucketObjectLog = "v_objlog"

func objectKey(obj string, e *appliance.Entry) []byte {
	k := make([]byte, 0, len(obj)+1+stampSize)
	k = append(k, obj...)
	k = append(k, 0)
	return append(k, stampOf(e)...)
}

// AddObjectEntry records that e concerns obj.
func (tx *Tx) AddObjectEntry(obj string, e *appliance.Entry) error {
	return tx.Bucket(bucketObjectLog).Put(objectKey(obj, e), nil)
}

// ObjectEntries returns the entries recorded for obj in (HLC, feed, seq) order.
func (tx *Tx) ObjectEntries(obj string) ([]*appliance.Entry, error) {
	p := append([]byte(obj), 0)
	var out []*appliance.Entry
	c := tx.Bucket(bucketObjectLog).Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		if len(k) != len(p)+stampSize {
			continue
		}
		var feed appliance.FeedID
		copy(feed[:], k[len(p)+8:])
		seq := binary.BigEndian.Uint64(k[len(p)+8+32:])
		e, err := tx.Entry(feed, seq)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// objectLogView owns the object log bucket.
type objectLogView struct{}

func (objectLogView) Name() string                      { return "objlog" }
func (objectLogView) Buckets() []string                 { return []string{bucketObjectLog} }
func (objectLogView) Apply(*Tx, *appliance.Entry) error { return nil }

func init() { RegisterView(objectLogView{}) }

// SortEntries sorts entries in the deterministic fold order.
func SortEntries(es []*appliance.Entry) {
	sort.Slice(es, func(i, j int) bool { return es[i].Before(es[j]) })
}
