package bolt

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"time"

	"gridbox/appliance"
)

// Idempotency keys (the API's Idempotency-Key header or client_ref
// field): a retried create returns the first answer and writes nothing
// new. The request's key travels in its context; the write that carries it
// records the key in the same transaction as its entries, so after a crash
// between the commit and the answer a retry is refused instead of
// repeated. The answer itself is saved after the handler (SaveAnswer). Kept
// in the node-local bucket (never replicated) for IdempotencyTTL.

// IdempotencyTTL is how long a key and its answer are kept.
const IdempotencyTTL = 24 * time.Hour

// IdemRecord is what is kept of a request with a key.
type IdemRecord struct {
	Hash        string `json:"hash"`             // of the request (method, path, body)
	At          int64  `json:"at"`               // unix seconds of the first request
	Status      int    `json:"status,omitempty"` // 0 while only the write is known
	ContentType string `json:"content_type,omitempty"`
	Body        []byte `json:"body,omitempty"`
}

type idemCtxKey struct{}

type idemCtx struct{ key, hash string }

// WithIdempotencyKey marks ctx's writes as made for the request with key
// (already scoped by caller and route) and request hash.
func WithIdempotencyKey(ctx context.Context, key, hash string) context.Context {
	return context.WithValue(ctx, idemCtxKey{}, idemCtx{key, hash})
}

func idemKey(key string) []byte { return []byte("idem/" + key) }

func idemTimeKey(at int64, key string) []byte {
	return append(binary.BigEndian.AppendUint64([]byte("idemt/"), uint64(at)), key...)
}

// withIdempotency wraps a write's fn so that, when ctx carries a key, the
// key is recorded in the write's own transaction (first write wins).
func withIdempotency(ctx context.Context, fn func(tx *Tx) ([]appliance.Draft, error)) func(tx *Tx) ([]appliance.Draft, error) {
	ic, ok := ctx.Value(idemCtxKey{}).(idemCtx)
	if !ok {
		return fn
	}
	return func(tx *Tx) ([]appliance.Draft, error) {
		drafts, err := fn(tx)
		if err != nil || len(drafts) == 0 {
			return drafts, err
		}
		b := tx.tx.Bucket(bucketLocal)
		if b.Get(idemKey(ic.key)) != nil {
			return drafts, nil
		}
		now := time.Now().Unix()
		data, err := json.Marshal(IdemRecord{Hash: ic.hash, At: now})
		if err != nil {
			return nil, err
		}
		if err := b.Put(idemKey(ic.key), data); err != nil {
			return nil, err
		}
		return drafts, b.Put(idemTimeKey(now, ic.key), nil)
	}
}

// IdempotentRecord returns what is kept of key (false when nothing, or
// when it is older than IdempotencyTTL).
func (s *Store) IdempotentRecord(key string) (IdemRecord, bool, error) {
	var r IdemRecord
	var ok bool
	err := s.Read(func(tx *Tx) error {
		var err error
		ok, err = tx.GetJSON(string(bucketLocal), string(idemKey(key)), &r)
		return err
	})
	if ok && time.Since(time.Unix(r.At, 0)) > IdempotencyTTL {
		ok = false
	}
	return r, ok, err
}

// SaveAnswer keeps the answer to the request with key, and drops keys
// older than IdempotencyTTL.
func (s *Store) SaveAnswer(key string, r IdemRecord) error {
	return s.Update(func(tx *Tx) error {
		b := tx.tx.Bucket(bucketLocal)
		var old IdemRecord
		if ok, _ := tx.GetJSON(string(bucketLocal), string(idemKey(key)), &old); ok {
			r.At = old.At // the first request's time keeps its place in the index
		} else {
			if r.At == 0 {
				r.At = time.Now().Unix()
			}
			if err := b.Put(idemTimeKey(r.At, key), nil); err != nil {
				return err
			}
		}
		if err := tx.PutJSON(string(bucketLocal), string(idemKey(key)), r); err != nil {
			return err
		}
		// Prune: the time index is in time order.
		cut := time.Now().Add(-IdempotencyTTL).Unix()
		c := b.Cursor()
		p := []byte("idemt/")
		var drop [][]byte
		for k, _ := c.Seek(p); k != nil && len(k) >= len(p)+8 && string(k[:len(p)]) == string(p); k, _ = c.Next() {
			if int64(binary.BigEndian.Uint64(k[len(p):])) >= cut || len(drop) >= 1000 {
				break
			}
			drop = append(drop, append([]byte(nil), k...))
		}
		for _, k := range drop {
			if err := b.Delete(k); err != nil {
				return err
			}
			if err := b.Delete(idemKey(string(k[len(p)+8:]))); err != nil {
				return err
			}
		}
		return nil
	})
}
