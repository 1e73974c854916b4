package replicate

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"

	"gridbox/appliance"
)

// Message types: the first byte of every user message.
const (
	msgOffer     byte = 'O' // sender's heads of the feeds it would send
	msgWant      byte = 'W' // receiver's heads of those feeds: an ack and a request
	msgBatch     byte = 'B' // a run of entries, zstd-compressed
	msgChallenge byte = 'C' // a nonce the peer must sign with its node key
	msgProof     byte = 'P' // the signature
	// msgRefuse (linkstate.go): a parent says why it refuses the node.
)

// Limits on what a node accepts from the wire.
const (
	maxControlBytes = 256 << 10 // offer and want messages
	maxBatchWire    = 16 << 20  // memberlist itself refuses more than 20 MiB
	maxBatchRaw     = 32 << 20  // decompressed
	maxBatchEntries = 100_000
)

// heads maps feed ids (hex) to the highest sequence held or offered.
type heads map[string]uint64

// control is an offer or a want.
type control struct {
	From  string `json:"f"` // memberlist name of the sender
	Key   string `json:"k"` // sender's node key, checked against its metadata
	Heads heads  `json:"h,omitempty"`
	Nonce []byte `json:"c,omitempty"` // challenge
	Sig   []byte `json:"s,omitempty"` // proof

	Photos []photoRef `json:"p,omitempty"` // photos asked for

	Reason string `json:"r,omitempty"` // refusal: why (linkstate.go)
	Time   int64  `json:"t,omitempty"` // the sender's clock, Unix ms: far off is shown
}

func encodeControl(t byte, c control) []byte {
	b, _ := json.Marshal(c)
	return append([]byte{t}, b...)
}

func decodeControl(b []byte) (control, error) {
	var c control
	if len(b) > maxControlBytes {
		return c, errOversized
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("%w: %v", errMalformed, err)
	}
	return c, nil
}

// batchHeader precedes the compressed entries.
type batchHeader struct {
	From  string `json:"f"`
	Key   string `json:"k"`
	Count int    `json:"n"`
	Raw   int    `json:"raw"` // bytes before compression
}

var (
	errMalformed = errors.New("malformed message")
	errOversized = errors.New("oversized message")
)

var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(1))
	// DecodeAll checks its size limit only after each zstd frame: a few
	// KB of frames of zero runs grew the output past 64 MiB (347 MiB
	// allocated). Capped to cap(dst), the header's raw size, it stops one
	// block (128 KiB) past it, having grown the buffer once at most.
	zdec, _ = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxBatchRaw), zstd.WithDecodeAllCapLimit(true), zstd.WithDecoderConcurrency(1))
)

// encodeBatch frames entries (uvarint length + binary entry each) and
// compresses them with zstd. Only what the receiver cannot recompute
// travels in full. An entry that follows the one before it in the batch
// (same feed, next sequence) goes with a zero feed id, sequence and
// previous-entry hash, and its time as the difference from the one before;
// an entry followed by the next of its feed goes without its signature
// (the later signature covers it through the chain); an entry with its
// sealed part goes without the part's hash. The signatures and hashes are
// 32 or 64 incompressible bytes each, twice the size of a compressed case.
// A wrong guess only breaks the chain or the last signature, which the
// receiver checks anyway. The last entry of each feed in the batch must be
// signed.
func encodeBatch(from string, key appliance.FeedID, entries []*appliance.Entry) ([]byte, int, error) {
	var raw []byte
	for i, e := range entries {
		c := *e
		if i > 0 && follows(e, entries[i-1]) {
			c.Feed, c.Seq, c.Prev = appliance.FeedID{}, 0, appliance.Hash{}
			c.Time = e.Time - entries[i-1].Time // wraps; decodeBatch adds it back
		}
		if i+1 < len(entries) && follows(entries[i+1], e) {
			c.Sig = nil
		} else if !e.Signed() {
			return nil, 0, fmt.Errorf("encode batch: entry %s/%d ends its feed's run but is unsigned", e.Feed.Short(), e.Seq)
		}
		if len(c.Sealed) > 0 { // an empty one decodes as none: its hash must travel
			c.SealHash = appliance.Hash{}
		}
		b, err := c.MarshalBinary()
		if err != nil {
			return nil, 0, err
		}
		raw = binary.AppendUvarint(raw, uint64(len(b)))
		raw = append(raw, b...)
	}
	hdr, _ := json.Marshal(batchHeader{From: from, Key: key.String(), Count: len(entries), Raw: len(raw)})
	out := []byte{msgBatch}
	out = binary.AppendUvarint(out, uint64(len(hdr)))
	out = append(out, hdr...)
	out = zenc.EncodeAll(raw, out)
	return out, len(raw), nil
}

// decodeBatch reverses encodeBatch within the limits above.
func decodeBatch(b []byte) (batchHeader, []*appliance.Entry, error) {
	var h batchHeader
	body, err := splitHeader(b, &h)
	if err != nil {
		return h, nil, err
	}
	if h.Count <= 0 || h.Count > maxBatchEntries || h.Raw <= 0 || h.Raw > maxBatchRaw {
		return h, nil, errOversized
	}
	raw, err := zdec.DecodeAll(body, make([]byte, 0, h.Raw))
	if err != nil {
		if len(raw) > maxBatchRaw {
			return h, nil, errOversized
		}
		return h, nil, fmt.Errorf("%w: %v", errMalformed, err)
	}
	if len(raw) != h.Raw {
		return h, nil, errMalformed
	}
	r := bytes.NewReader(raw)
	entries := make([]*appliance.Entry, 0, h.Count)
	for r.Len() > 0 {
		if len(entries) == h.Count {
			return h, nil, errMalformed
		}
		sz, err := binary.ReadUvarint(r)
		if err != nil || sz > appliance.MaxEntrySize || sz > uint64(r.Len()) {
			return h, nil, errMalformed
		}
		buf := make([]byte, sz)
		if _, err := io.ReadFull(r, buf); err != nil {
			return h, nil, errMalformed
		}
		e := new(appliance.Entry)
		if err := e.UnmarshalBinary(buf); err != nil {
			return h, nil, errMalformed
		}
		if e.Sealed != nil && e.SealHash.IsZero() {
			e.SealHash = sha256.Sum256(e.Sealed)
		}
		if e.Feed == (appliance.FeedID{}) {
			// Follows the entry before it (no feed's key is all zeros).
			n := len(entries)
			if n == 0 || e.Seq != 0 || !e.Prev.IsZero() {
				return h, nil, errMalformed
			}
			p := entries[n-1]
			e.Feed, e.Seq, e.Prev, e.Time = p.Feed, p.Seq+1, p.Hash(), p.Time+e.Time
		}
		entries = append(entries, e)
	}
	if len(entries) != h.Count {
		return h, nil, errMalformed
	}
	return h, entries, nil
}

// splitHeader decodes the JSON header (uvarint length first) at the start
// of a batch or photo message into h and returns what follows it.
func splitHeader(b []byte, h any) ([]byte, error) {
	if len(b) > maxBatchWire {
		return nil, errOversized
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n > maxControlBytes || uint64(len(b)-k) < n {
		return nil, errMalformed
	}
	if err := json.Unmarshal(b[k:k+int(n)], h); err != nil {
		return nil, errMalformed
	}
	return b[k+int(n):], nil
}

// follows reports whether e is the entry after prev in the same feed.
func follows(e, prev *appliance.Entry) bool { return e.Feed == prev.Feed && e.Seq == prev.Seq+1 }
