package bolt

import (
	"bytes"
	"encoding/binary"

	"go.etcd.io/bbolt"

	"gridbox/appliance"
)

// Photos and voice messages travel beside the ledger: an entry carries only
// their content addresses (appliance.PhotoRefs). A node that takes in such an entry
// without holding the photo notes it here, with the entry that refers to it,
// and replication fetches it from the peer that sent the entry. Node-local:
// neither view nor ledger.
var bucketPhotosWanted = []byte("photos_wanted") // sum → feed (32) + seq (8)

// PhotoRef is a photo this node lacks and the entry that refers to it.
type PhotoRef struct {
	Sum  string
	Feed appliance.FeedID
	Seq  uint64
}

// wantPhotos notes the photos e refers to that this node does not hold.
func (tx *Tx) wantPhotos(e *appliance.Entry) error {
	refs := appliance.PhotoRefs(e)
	if len(refs) == 0 {
		return nil
	}
	for _, sum := range refs {
		if tx.heldBlob(sum) {
			continue
		}
		b, err := tx.tx.CreateBucketIfNotExists(bucketPhotosWanted)
		if err != nil {
			return err
		}
		if b.Get([]byte(sum)) != nil {
			continue
		}
		v := binary.BigEndian.AppendUint64(append([]byte(nil), e.Feed[:]...), e.Seq)
		if err := b.Put([]byte(sum), v); err != nil {
			return err
		}
	}
	return nil
}

// WantedPhotos returns up to limit photos this node lacks, for which
// accept is true. accept runs outside any transaction, a page of refs at a
// time: it may read the store, and a read transaction opened inside another
// deadlocks with a writer that waits to grow the file's mapping.
func (s *Store) WantedPhotos(limit int, accept func(PhotoRef) bool) ([]PhotoRef, error) {
	var out []PhotoRef
	var after []byte // the last key read
	for len(out) < limit {
		var page []PhotoRef
		err := s.db.View(func(tx *bbolt.Tx) error {
			b := tx.Bucket(bucketPhotosWanted)
			if b == nil {
				return nil
			}
			c := b.Cursor()
			k, v := c.First()
			if after != nil {
				if k, v = c.Seek(after); k != nil && bytes.Equal(k, after) {
					k, v = c.Next()
				}
			}
			for n := 0; k != nil && n < 64; k, v = c.Next() {
				n++
				after = append(after[:0], k...)
				if len(v) != 40 {
					continue
				}
				r := PhotoRef{Sum: string(k), Seq: binary.BigEndian.Uint64(v[32:])}
				copy(r.Feed[:], v[:32])
				page = append(page, r)
			}
			if k == nil {
				after = nil // the end: stop after this page
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			if len(out) < limit && accept(r) {
				out = append(out, r)
			}
		}
		if after == nil {
			break
		}
	}
	return out, nil
}

// WantsPhotos reports whether this node lacks any photo, without counting
// (the sync loop asks every round).
func (s *Store) WantsPhotos() bool {
	wants := false
	s.db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketPhotosWanted); b != nil {
			k, _ := b.Cursor().First()
			wants = k != nil
		}
		return nil
	})
	return wants
}

// CountWantedPhotos returns how many photos this node still lacks (it
// walks the list: for /metrics, not the sync loop).
func (s *Store) CountWantedPhotos() int {
	n := 0
	s.db.View(func(tx *bbolt.Tx) error {
		if b := tx.Bucket(bucketPhotosWanted); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n
}

// heldBlob reports whether this node holds the photo or voice message sum.
func (tx *Tx) heldBlob(sum string) bool {
	for _, name := range [][]byte{bucketCasePhotos, bucketCaseVoice} {
		if b := tx.tx.Bucket(name); b != nil && b.Get([]byte(sum)) != nil {
			return true
		}
	}
	return false
}

// PutPhoto stores a photo or voice message fetched from another node, if
// this node wants it and the bytes match their content address and the form
// they are stored in. It reports whether it stored.
func (s *Store) PutPhoto(sum string, data []byte) (bool, error) {
	bucket := bucketCasePhotos
	if appliance.IsVoice(data) {
		bucket = bucketCaseVoice
		if err := appliance.CheckVoice(sum, data); err != nil {
			return false, err
		}
	} else if err := appliance.CheckPhoto(sum, data); err != nil {
		return false, err
	}
	stored := false
	err := s.update(func(tx *bbolt.Tx) error {
		w := tx.Bucket(bucketPhotosWanted)
		if w == nil || w.Get([]byte(sum)) == nil {
			return nil // not asked for: refused
		}
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		if err := b.Put([]byte(sum), data); err != nil {
			return err
		}
		stored = true
		return w.Delete([]byte(sum))
	})
	return stored, err
}

// PhotoFor returns a photo or voice message this node holds, if the entry
// feed/seq refers to it: a peer may fetch only those of entries it is sent.
func (s *Store) PhotoFor(ref PhotoRef) ([]byte, bool, error) {
	var out []byte
	err := s.db.View(func(btx *bbolt.Tx) error {
		tx := &Tx{tx: btx, store: s}
		e, err := tx.Entry(ref.Feed, ref.Seq)
		if err != nil {
			return nil // not held: not found
		}
		for _, sum := range appliance.PhotoRefs(e) {
			if sum == ref.Sum {
				for _, name := range [][]byte{bucketCasePhotos, bucketCaseVoice} {
					if b := btx.Bucket(name); b != nil && len(out) == 0 {
						out = append(out, b.Get([]byte(sum))...)
					}
				}
				break
			}
		}
		return nil
	})
	return out, len(out) > 0, err
}
