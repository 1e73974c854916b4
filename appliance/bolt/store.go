// Package bolt keeps the ledger and its views in one bbolt file.
//
// Every change is an entry appended to a feed; the views are folded from the
// entries in the same transaction as the append, and can be rebuilt from the
// feeds at any time (Reindex) or checked against them (Verify).
package bolt

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/bbolt"

	"gridbox/appliance"
)

// Buckets of the ledger itself and of node-local state. View buckets are
// declared by the views (view.go); only those are rebuilt by Reindex.
var (
	bucketFeeds       = []byte("feeds")       // feed id → seq → entry
	bucketHeads       = []byte("heads")       // feed id → head
	bucketMeta        = []byte("meta")        // node-local settings
	bucketCredentials = []byte("credentials") // user id → password hash (never replicated)
	bucketSessions    = []byte("sessions")    // token → session
	bucketLogins      = []byte("logins")      // username → failed login state
	bucketLocal       = []byte("local")       // other node-local state (print jobs, sync cursors…)

	ledgerBuckets = [][]byte{bucketFeeds, bucketHeads, bucketMeta, bucketCredentials, bucketSessions, bucketLogins, bucketLocal}
)

var (
	metaReindexing = []byte("reindexing")
	metaSecret     = []byte("secret")
	// metaViewsFormat is the views' format (ViewsFormat) the views in
	// this file were folded with.
	metaViewsFormat = []byte("views_format")
)

// Store is the node's ledger and views.
type Store struct {
	db     *bbolt.DB
	path   string
	signer *appliance.Signer
	clock  *appliance.Clock

	appends  atomic.Uint64 // entries appended by this process
	noSpace  atomic.Int64  // unix time of the last write that found the disk full; 0 after a write succeeds
	ingested atomic.Uint64 // entries received from other feeds

	argon Argon2Params
	dummy struct {
		once sync.Once
		hash string
	}

	// folding is held shared by Write and Ingest and exclusively by
	// Reindex: an entry folded live while a rebuild has not yet reached it
	// would be folded twice (counters off).
	folding sync.RWMutex

	mu        sync.Mutex
	listeners []func([]*appliance.Entry)

	group grouper // concurrent writes sharing a commit (group.go)

	// ViewsRebuilt: Open found views of another format (an upgrade or a
	// rollback) and rebuilt them from the feeds.
	ViewsRebuilt bool
}

// Options tune Open.
type Options struct {
	NoSync bool // tests and the in-memory refold only: gives up durability
	Clock  *appliance.Clock
	// SmallMap starts the file's mapping at bbolt's smallest, as on a
	// 32-bit system (tests of what happens when it is outgrown).
	SmallMap bool
}

// initialMmap is the data file's first mapping: address space only (pages
// are read in as touched). Each time bbolt outgrows its mapping it maps
// the file again and first copies every node of the open write
// transaction out of the old mapping onto the heap; a town filling its
// file from forty villages did that ~15 times, hundreds of MB of garbage.
// On 32-bit systems the address space is too small to spend this way.
const initialMmap = (strconv.IntSize / 64) << 30

func mmapSize(opts *Options) int {
	if opts.SmallMap {
		return 0
	}
	return initialMmap
}

// Open opens (creating if needed) the store at path with the node key.
func Open(path string, key ed25519.PrivateKey, opts *Options) (*Store, error) {
	if opts == nil {
		opts = &Options{}
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second, NoSync: opts.NoSync, NoFreelistSync: false, InitialMmapSize: mmapSize(opts)})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, fmt.Errorf("open %s: the data file is in use by another gridbox process", path)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{db: db, path: path, clock: opts.Clock}
	if s.clock == nil {
		s.clock = &appliance.Clock{}
	}
	if key != nil {
		s.signer = appliance.NewSigner(key)
	}
	if err := s.init(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) init() error {
	var reindex bool
	err := s.db.Update(func(tx *bbolt.Tx) error {
		for _, name := range ledgerBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		for _, name := range viewBuckets() {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		reindex = meta.Get(metaReindexing) != nil
		if format := ViewsFormat(); string(meta.Get(metaViewsFormat)) != format {
			// Views folded by another version (an upgrade, or a rollback
			// to the one before): rebuild them. An empty file just
			// takes the format.
			if tx.Bucket(bucketHeads).Stats().KeyN > 0 {
				reindex = true
				s.ViewsRebuilt = meta.Get(metaReindexing) == nil
			} else if err := meta.Put(metaViewsFormat, []byte(format)); err != nil {
				return err
			}
		}
		if meta.Get(metaSecret) == nil {
			secret := make([]byte, 32)
			if _, err := rand.Read(secret); err != nil {
				return err
			}
			if err := meta.Put(metaSecret, secret); err != nil {
				return err
			}
		}
		// The clock never goes back behind what this file has seen.
		return tx.Bucket(bucketHeads).ForEach(func(k, v []byte) error {
			s.clock.Observe(decodeHead(v).Time)
			return nil
		})
	})
	if err != nil {
		return fmt.Errorf("init store: %w", err)
	}
	if reindex {
		// A reindex was interrupted: finish it before anyone reads the views.
		return s.Reindex(context.Background())
	}
	return nil
}

// Secret returns the node's local secret (never replicated), for signing
// tokens such as those in QR codes.
func (s *Store) Secret() []byte {
	var out []byte
	s.db.View(func(tx *bbolt.Tx) error {
		out = append(out, tx.Bucket(bucketMeta).Get(metaSecret)...)
		return nil
	})
	return out
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the file's path.
func (s *Store) Path() string { return s.path }

// DB gives the underlying bbolt handle to this package's tests and tools.
func (s *Store) DB() *bbolt.DB { return s.db }

// Feed returns this node's own feed id.
func (s *Store) Feed() appliance.FeedID {
	if s.signer == nil {
		return appliance.FeedID{}
	}
	return s.signer.Feed
}

// Clock returns the node's hybrid logical clock.
func (s *Store) Clock() *appliance.Clock { return s.clock }

// Signer returns the node's signer (for sealed-part salts in tests).
func (s *Store) Signer() *appliance.Signer { return s.signer }

// OnCommit registers fn to be called after each commit that added entries.
// It runs synchronously after the commit; keep it short.
func (s *Store) OnCommit(fn func([]*appliance.Entry)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listeners = append(s.listeners, fn)
}

// Kicks returns a channel that receives (without blocking the commit, at
// most one waiting) after each commit with an entry that match accepts:
// the wake-up of loops that act on new entries.
func (s *Store) Kicks(match func(*appliance.Entry) bool) <-chan struct{} {
	kick := make(chan struct{}, 1)
	s.OnCommit(func(es []*appliance.Entry) {
		for _, e := range es {
			if match(e) {
				select {
				case kick <- struct{}{}:
				default:
				}
				return
			}
		}
	})
	return kick
}

func (s *Store) notify(entries []*appliance.Entry) {
	if len(entries) == 0 {
		return
	}
	s.mu.Lock()
	ls := s.listeners
	s.mu.Unlock()
	for _, fn := range ls {
		fn(entries)
	}
}

// Head is the last entry held of a feed.
type Head struct {
	Feed appliance.FeedID
	Seq  uint64
	Hash appliance.Hash
	Time appliance.HLC
}

func encodeHead(h Head) []byte {
	b := make([]byte, 0, 48)
	b = binary.BigEndian.AppendUint64(b, h.Seq)
	b = append(b, h.Hash[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(h.Time))
}

func decodeHead(v []byte) Head {
	var h Head
	if len(v) < 48 {
		return h
	}
	h.Seq = binary.BigEndian.Uint64(v)
	copy(h.Hash[:], v[8:40])
	h.Time = appliance.HLC(binary.BigEndian.Uint64(v[40:]))
	return h
}

func u64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// Write runs fn in one write transaction: fn reads the views through tx and
// returns drafts, which are signed, appended to this node's feed and folded
// into the views before the transaction commits. Either all of it is
// durable when Write returns, or none of it happened.
func (s *Store) Write(ctx context.Context, fn func(tx *Tx) ([]appliance.Draft, error)) ([]*appliance.Entry, error) {
	if s.signer == nil {
		return nil, errors.New("write: store opened without node key")
	}
	return s.writeFeed(ctx, s.signer, nil, fn)
}

// writeFeed is Write for the feed of signer sg: this node's own feed, or a
// feed of a key derived from the node key (replicate.go), which starts with
// the entry first.
func (s *Store) writeFeed(ctx context.Context, sg *appliance.Signer, first *appliance.Draft, fn func(tx *Tx) ([]appliance.Draft, error)) ([]*appliance.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fn = withIdempotency(ctx, fn) // idempotency.go
	var out []*appliance.Entry
	err := s.foldUpdate(func(btx *bbolt.Tx) error {
		tx := &Tx{tx: btx, store: s}
		drafts, err := fn(tx)
		if err != nil {
			return err
		}
		out, err = tx.appendDrafts(sg, first, drafts)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.appends.Add(uint64(len(out)))
	s.notify(out)
	return out, nil
}

// appendDrafts seals drafts onto sg's feed (first, if the feed is new) and
// stores and folds them.
func (tx *Tx) appendDrafts(sg *appliance.Signer, first *appliance.Draft, drafts []appliance.Draft) ([]*appliance.Entry, error) {
	prev, err := tx.lastEntry(sg.Feed)
	if err != nil {
		return nil, err
	}
	if prev == nil && first != nil {
		drafts = append([]appliance.Draft{*first}, drafts...)
	}
	out := make([]*appliance.Entry, 0, len(drafts))
	err = tx.batched(func() error {
		for _, d := range drafts {
			e, err := sg.Seal(d, prev, tx.store.clock.Next())
			if err != nil {
				return err
			}
			if err := tx.putEntry(e); err != nil {
				return err
			}
			out = append(out, e)
			prev = e
		}
		return nil
	})
	return out, err
}

// foldUpdate runs a write transaction that folds entries; it waits while
// Reindex runs. The lock is released before listeners are notified.
func (s *Store) foldUpdate(fn func(*bbolt.Tx) error) error {
	s.folding.RLock()
	defer s.folding.RUnlock()
	return s.update(fn)
}

// Append appends drafts that need no check against the views.
func (s *Store) Append(ctx context.Context, drafts ...appliance.Draft) ([]*appliance.Entry, error) {
	return s.Write(ctx, func(*Tx) ([]appliance.Draft, error) { return drafts, nil })
}

// Read runs fn in a read-only transaction.
func (s *Store) Read(fn func(tx *Tx) error) error {
	return s.db.View(func(btx *bbolt.Tx) error { return fn(&Tx{tx: btx, store: s}) })
}

// Update runs fn in a write transaction that appends nothing: for node-local
// state such as sessions and credentials.
func (s *Store) Update(fn func(tx *Tx) error) error {
	return s.update(func(btx *bbolt.Tx) error { return fn(&Tx{tx: btx, store: s}) })
}

// putEntry stores a verified entry, moves the head and folds the views.
func (tx *Tx) putEntry(e *appliance.Entry) error {
	data, err := e.MarshalBinary()
	if err != nil {
		return err
	}
	feeds := tx.tx.Bucket(bucketFeeds)
	fb, err := feeds.CreateBucketIfNotExists(e.Feed[:])
	if err != nil {
		return fmt.Errorf("append entry: %w", err)
	}
	fb.FillPercent = 0.95 // append-only: pack pages full
	if err := fb.Put(u64(e.Seq), data); err != nil {
		return fmt.Errorf("append entry: %w", err)
	}
	h := Head{Feed: e.Feed, Seq: e.Seq, Hash: e.Hash(), Time: e.Time}
	if err := tx.tx.Bucket(bucketHeads).Put(e.Feed[:], encodeHead(h)); err != nil {
		return fmt.Errorf("append entry: %w", err)
	}
	if err := tx.logArrival(e); err != nil { // arrivals.go: the event stream's order
		return fmt.Errorf("append entry: %w", err)
	}
	if tx.batch != nil {
		tx.batch.entries[e.Ref()] = e
	}
	return fold(tx, e)
}

// lastEntry returns the newest entry of feed, nil if it has none.
func (tx *Tx) lastEntry(feed appliance.FeedID) (*appliance.Entry, error) {
	fb := tx.tx.Bucket(bucketFeeds).Bucket(feed[:])
	if fb == nil {
		return nil, nil
	}
	_, v := fb.Cursor().Last()
	if v == nil {
		return nil, nil
	}
	var e appliance.Entry
	if err := e.UnmarshalBinary(v); err != nil {
		return nil, fmt.Errorf("read last entry of %s: %w", feed.Short(), err)
	}
	return &e, nil
}

// Entry returns one entry.
func (tx *Tx) Entry(feed appliance.FeedID, seq uint64) (*appliance.Entry, error) {
	if tx.batch != nil {
		if e := tx.batch.entries[appliance.Ref{Feed: feed, Seq: seq}]; e != nil {
			c := *e // callers may change their copy
			return &c, nil
		}
	}
	fb := tx.tx.Bucket(bucketFeeds).Bucket(feed[:])
	if fb == nil {
		return nil, appliance.Errorf(appliance.ENOTFOUND, "没有该节点的记录")
	}
	v := fb.Get(u64(seq))
	if v == nil {
		return nil, appliance.Errorf(appliance.ENOTFOUND, "没有该条记录")
	}
	var e appliance.Entry
	if err := e.UnmarshalBinary(v); err != nil {
		return nil, fmt.Errorf("read entry %s/%d: %w", feed.Short(), seq, err)
	}
	return &e, nil
}

// Heads returns the head of every feed held, sorted by feed id.
func (s *Store) Heads() ([]Head, error) {
	var heads []Head
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketHeads).ForEach(func(k, v []byte) error {
			h := decodeHead(v)
			copy(h.Feed[:], k)
			heads = append(heads, h)
			return nil
		})
	})
	return heads, err
}

// Entries returns up to limit entries of feed from seq from on (inclusive).
func (s *Store) Entries(feed appliance.FeedID, from uint64, limit int) ([]*appliance.Entry, error) {
	var out []*appliance.Entry
	err := s.db.View(func(tx *bbolt.Tx) error {
		fb := tx.Bucket(bucketFeeds).Bucket(feed[:])
		if fb == nil {
			return nil
		}
		c := fb.Cursor()
		for k, v := c.Seek(u64(from)); k != nil && len(out) < limit; k, v = c.Next() {
			e := new(appliance.Entry)
			if err := e.UnmarshalBinary(v); err != nil {
				return fmt.Errorf("read entry %s/%d: %w", feed.Short(), binary.BigEndian.Uint64(k), err)
			}
			out = append(out, e)
		}
		return nil
	})
	return out, err
}

// Ingest stores entries of other feeds after checking each one's sequence,
// hash chain and signature against what is already held, and folds them in
// the same transaction. Entries already held are skipped (idempotent). The
// whole batch is refused if any entry fails; the error names it.
func (s *Store) Ingest(entries []*appliance.Entry) (int, error) {
	return s.ingest(entries, true)
}

// Stats are counters for /metrics.
type Stats struct {
	Entries  uint64 // entries held, all feeds
	Feeds    int
	Appends  uint64 // appended by this process
	Ingested uint64 // received by this process
	FileSize int64
}

// Stats reads the ledger's counters.
func (s *Store) Stats() (Stats, error) {
	st := Stats{Appends: s.appends.Load(), Ingested: s.ingested.Load()}
	err := s.db.View(func(tx *bbolt.Tx) error {
		st.FileSize = tx.Size()
		return tx.Bucket(bucketHeads).ForEach(func(k, v []byte) error {
			st.Entries += decodeHead(v).Seq
			st.Feeds++
			return nil
		})
	})
	return st, err
}

// sortedFeeds returns the feed ids held, sorted.
func sortedFeeds(tx *bbolt.Tx) []appliance.FeedID {
	var feeds []appliance.FeedID
	tx.Bucket(bucketFeeds).ForEachBucket(func(k []byte) error {
		var f appliance.FeedID
		copy(f[:], k)
		feeds = append(feeds, f)
		return nil
	})
	sort.Slice(feeds, func(i, j int) bool { return bytes.Compare(feeds[i][:], feeds[j][:]) < 0 })
	return feeds
}
