package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"go.etcd.io/bbolt"

	"gridbox/appliance"
)

// reindexChunk bounds the entries folded per transaction, so a rebuild of a
// million entries does not hold all dirty pages in memory at once.
const reindexChunk = 20000

// Reindex rebuilds every view from the feeds. It is safe to interrupt: a
// flag makes the next Open finish it. Write and Ingest wait until it is done.
func (s *Store) Reindex(ctx context.Context) error {
	s.folding.Lock()
	defer s.folding.Unlock()
	err := s.db.Update(func(btx *bbolt.Tx) error {
		if err := btx.Bucket(bucketMeta).Put(metaReindexing, []byte{1}); err != nil {
			return err
		}
		return resetViews(btx)
	})
	if err != nil {
		return fmt.Errorf("reindex: %w", err)
	}
	var feeds []appliance.FeedID
	s.db.View(func(btx *bbolt.Tx) error { feeds = sortedFeeds(btx); return nil })
	for _, feed := range feeds {
		next := uint64(1)
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			n := 0
			err := s.db.Update(func(btx *bbolt.Tx) error {
				tx := &Tx{tx: btx, store: s}
				c := btx.Bucket(bucketFeeds).Bucket(feed[:]).Cursor()
				return tx.batched(func() error {
					for k, v := c.Seek(u64(next)); k != nil && n < reindexChunk; k, v = c.Next() {
						var e appliance.Entry
						if err := e.UnmarshalBinary(v); err != nil {
							return fmt.Errorf("entry %s/%d: %w", feed.Short(), binary.BigEndian.Uint64(k), err)
						}
						if err := fold(tx, &e); err != nil {
							return err
						}
						next = e.Seq + 1
						n++
					}
					return nil
				})
			})
			if err != nil {
				return fmt.Errorf("reindex: %w", err)
			}
			if n < reindexChunk {
				break
			}
		}
	}
	return s.db.Update(func(btx *bbolt.Tx) error {
		if err := btx.Bucket(bucketMeta).Put(metaViewsFormat, []byte(ViewsFormat())); err != nil {
			return err
		}
		return btx.Bucket(bucketMeta).Delete(metaReindexing)
	})
}

func resetViews(btx *bbolt.Tx) error {
	for _, name := range viewBuckets() {
		if btx.Bucket(name) != nil {
			if err := btx.DeleteBucket(name); err != nil {
				return err
			}
		}
		if _, err := btx.CreateBucket(name); err != nil {
			return err
		}
	}
	return nil
}

// VerifyError names the first bad entry or view.
type VerifyError struct {
	Feed appliance.FeedID
	Seq  uint64
	View string // set when a view differs
	Key  string
	Err  error
}

func (e *VerifyError) Error() string {
	if e.View != "" {
		return fmt.Sprintf("view %s differs from the refold at key %q: %v", e.View, e.Key, e.Err)
	}
	return fmt.Sprintf("entry %s seq %d: %v", e.Feed, e.Seq, e.Err)
}

func (e *VerifyError) Unwrap() error { return e.Err }

// VerifyReport summarises a successful verification.
type VerifyReport struct {
	Feeds   int
	Entries uint64
	Views   int
}

// Verify checks every feed (sequence continuity, hash chain, signatures,
// heads), refolds all views into a scratch file and compares them with the
// stored views. It returns a *VerifyError naming the first problem.
func (s *Store) Verify(ctx context.Context) (VerifyReport, error) {
	var rep VerifyReport
	// Next to the database, not in $TMPDIR: a box's /tmp may be RAM.
	s.folding.RLock() // a running reindex would show half-built views
	defer s.folding.RUnlock()
	dir, err := os.MkdirTemp(filepath.Dir(s.path), ".verify-")
	if err != nil {
		return rep, err
	}
	defer os.RemoveAll(dir)
	scratch, err := Open(filepath.Join(dir, "refold.db"), nil, &Options{NoSync: true})
	if err != nil {
		return rep, err
	}
	defer scratch.Close()

	err = s.db.View(func(btx *bbolt.Tx) error {
		heads := btx.Bucket(bucketHeads)
		for _, feed := range sortedFeeds(btx) {
			rep.Feeds++
			var prev *appliance.Entry
			c := btx.Bucket(bucketFeeds).Bucket(feed[:]).Cursor()
			k, v := c.First()
			for k != nil {
				if err := ctx.Err(); err != nil {
					return err
				}
				// A chunk: decode and check the chain in order, the
				// signatures on every core, then fold into the scratch file.
				var chunk []*appliance.Entry
				var linkErr error
				for ; k != nil && len(chunk) < reindexChunk; k, v = c.Next() {
					e := new(appliance.Entry)
					seq := binary.BigEndian.Uint64(k)
					if err := e.UnmarshalBinary(v); err != nil {
						return &VerifyError{Feed: feed, Seq: seq, Err: err}
					}
					if e.Feed != feed || e.Seq != seq {
						return &VerifyError{Feed: feed, Seq: seq, Err: errors.New("stored under the wrong feed or sequence")}
					}
					chunk = append(chunk, e)
					if linkErr = e.VerifyLink(prev); linkErr != nil {
						break
					}
					prev = e
				}
				// The first bad entry wins: an altered entry breaks its own
				// signature before it breaks the next one's link.
				if i, err := verifySignatures(chunk); err != nil {
					return &VerifyError{Feed: feed, Seq: chunk[i].Seq, Err: err}
				}
				if linkErr != nil {
					// An entry without a signature of its own shows a
					// change only through the next one's link: name it.
					if prev != nil && !prev.Signed() && errors.Is(linkErr, appliance.ErrBrokenChain) {
						return &VerifyError{Feed: feed, Seq: prev.Seq, Err: fmt.Errorf("%w: the entry after it holds another hash", linkErr)}
					}
					return &VerifyError{Feed: feed, Seq: chunk[len(chunk)-1].Seq, Err: linkErr}
				}
				err := scratch.db.Update(func(stx *bbolt.Tx) error {
					tx := &Tx{tx: stx, store: scratch}
					return tx.batched(func() error {
						for _, e := range chunk {
							if err := tx.putEntry(e); err != nil {
								return err
							}
						}
						return nil
					})
				})
				if err != nil {
					return err
				}
				rep.Entries += uint64(len(chunk))
			}
			if prev != nil && !prev.Signed() {
				// Entries without a signature are covered by a later one
				// of the feed; the last has nothing after it.
				return &VerifyError{Feed: feed, Seq: prev.Seq, Err: fmt.Errorf("%w: the feed's last entry is unsigned", appliance.ErrBadSignature)}
			}
			h := decodeHead(heads.Get(feed[:]))
			if prev == nil || h.Seq != prev.Seq || h.Hash != prev.Hash() {
				seq := uint64(0)
				if prev != nil {
					seq = prev.Seq
				}
				return &VerifyError{Feed: feed, Seq: seq, Err: errors.New("head does not match the last entry")}
			}
		}
		// Then compare every view bucket with the refold.
		return scratch.db.View(func(stx *bbolt.Tx) error {
			for _, v := range views {
				rep.Views++
				for _, name := range v.Buckets() {
					if key, err := compareBuckets(btx.Bucket([]byte(name)), stx.Bucket([]byte(name))); err != nil {
						return &VerifyError{View: name, Key: key, Err: err}
					}
				}
			}
			return nil
		})
	})
	return rep, err
}

// verifySignatures checks the entries' signatures on every core and returns
// the index of the first bad one. Entries without a signature are skipped:
// the chain ties them to the next signed entry (Verify checks that the
// last entry of each feed is signed).
func verifySignatures(es []*appliance.Entry) (int, error) {
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, len(es))
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < len(es); i += workers {
				if es[i].Signed() {
					errs[i] = es[i].VerifySignature()
				} else {
					errs[i] = es[i].VerifySeal()
				}
			}
		}(w)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return i, err
		}
	}
	return 0, nil
}

// compareBuckets returns the first key at which a and b differ.
func compareBuckets(a, b *bbolt.Bucket) (string, error) {
	if a == nil || b == nil {
		return "", errors.New("bucket missing")
	}
	ca, cb := a.Cursor(), b.Cursor()
	ka, va := ca.First()
	kb, vb := cb.First()
	for ka != nil || kb != nil {
		switch {
		case kb == nil || (ka != nil && bytes.Compare(ka, kb) < 0):
			return printable(ka), errors.New("stored view has a key the refold does not")
		case ka == nil || bytes.Compare(ka, kb) > 0:
			return printable(kb), errors.New("stored view lacks a key")
		}
		if na, nb := a.Bucket(ka), b.Bucket(kb); na != nil || nb != nil { // nested buckets
			if key, err := compareBuckets(na, nb); err != nil {
				return printable(ka) + "/" + key, err
			}
		} else if !bytes.Equal(va, vb) {
			return printable(ka), errors.New("values differ")
		}
		ka, va = ca.Next()
		kb, vb = cb.Next()
	}
	return "", nil
}

func printable(k []byte) string {
	for _, c := range k {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%x", k)
		}
	}
	return string(k)
}

// Backup writes a consistent copy of the bbolt file to w while the store
// stays in use.
func (s *Store) Backup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}
