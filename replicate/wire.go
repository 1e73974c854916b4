package replicate

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"

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
	Raw   int    `json:"raw"`         // bytes before compression
	V     int    `json:"v,omitempty"` // encoding: 2 (columns), or entry frames
}

var (
	errMalformed = errors.New("malformed message")
	errOversized = errors.New("oversized message")
)

var (
	zenc, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression), zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(2<<20))
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
	switch h.V {
	case 0:
	case wireVersion:
		entries, err := decodeBatchV2(h, raw)
		return h, entries, err
	default:
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

// Batch encoding 2 (wireVersion, docs/replication.md "Wire format of a
// batch"): the same entries as encodeBatch, laid out in columns so that
// zstd finds like next to like — the entries' small fields, then strings
// (authors and kinds, each once per batch), bodies, sealed parts, salts,
// hashes and signatures — and without what the receiver derives: feed,
// sequence and previous hash of an entry that follows the one before it,
// the hash of a sealed part that travels, and the salt of a sealed part
// derived from its feed's salt key (appliance.SealSalt), which travels
// once per batch and feed. A node says in its metadata that it reads
// encoding 2; others get encodeBatch's.
const wireVersion = 2

// Flags of an entry in encoding 2.
const (
	fFollows   = 1 << iota // feed, seq, prev implied by the entry before
	fSigned                // its signature is in the signatures column
	fSealed                // its sealed part's JSON is in the sealed column, hash implied
	fSaltGiven             // with fSealed: the whole sealed part (salt included) is in the column
	fHashGiven             // its seal hash is in the hashes column (a redacted entry)
)

// encodeBatchV2 encodes entries in encoding 2. saltKeys holds the salt
// keys of feeds whose sealed parts this batch carries (nil: every salt
// travels).
func encodeBatchV2(from string, key appliance.FeedID, entries []*appliance.Entry, saltKeys map[appliance.FeedID][]byte) ([]byte, int, error) {
	var meta, strs, bodies, sealed, salts, fixed []byte
	idx := map[string]uint64{}
	str := func(s string) uint64 {
		i, ok := idx[s]
		if !ok {
			i = uint64(len(idx))
			idx[s] = i
			strs = binary.AppendUvarint(strs, uint64(len(s)))
			strs = append(strs, s...)
		}
		meta = binary.AppendUvarint(meta, i)
		return i
	}
	byKind := map[uint64][]byte{} // bodies by kind: like JSON next to like
	usedKeys := map[appliance.FeedID][]byte{}
	for i, e := range entries {
		var flags byte
		chained := i > 0 && follows(e, entries[i-1])
		if chained {
			flags |= fFollows
		}
		if i+1 < len(entries) && follows(entries[i+1], e) {
			// covered by the next entry's chain
		} else if !e.Signed() {
			return nil, 0, fmt.Errorf("encode batch: entry %s/%d ends its feed's run but is unsigned", e.Feed.Short(), e.Seq)
		} else {
			flags |= fSigned
		}
		var derived bool
		switch {
		case len(e.Sealed) > 0:
			flags |= fSealed
			if k := saltKeys[e.Feed]; k != nil && len(e.Sealed) >= appliance.SealSaltSize {
				s := appliance.SealSalt(k, e.Feed, e.Seq)
				derived = bytes.Equal(s[:], e.Sealed[:appliance.SealSaltSize])
			}
			if derived {
				usedKeys[e.Feed] = saltKeys[e.Feed]
			} else {
				flags |= fSaltGiven
			}
		case !e.SealHash.IsZero():
			flags |= fHashGiven
		}
		meta = append(meta, flags)
		if chained {
			meta = binary.AppendVarint(meta, int64(e.Time-entries[i-1].Time))
		} else {
			meta = append(meta, e.Feed[:]...)
			meta = binary.AppendUvarint(meta, e.Seq)
			meta = append(meta, e.Prev[:]...)
			meta = binary.AppendUvarint(meta, uint64(e.Time))
		}
		meta = binary.AppendUvarint(meta, uint64(e.Version))
		str(e.Author)
		k := str(e.Kind)
		meta = binary.AppendUvarint(meta, uint64(len(e.Body)))
		byKind[k] = append(byKind[k], e.Body...)
		switch {
		case derived:
			meta = binary.AppendUvarint(meta, uint64(len(e.Sealed)-appliance.SealSaltSize))
			sealed = append(sealed, e.Sealed[appliance.SealSaltSize:]...)
		case flags&fSealed != 0:
			meta = binary.AppendUvarint(meta, uint64(len(e.Sealed)))
			salts = append(salts, e.Sealed...)
		}
		if flags&fHashGiven != 0 {
			fixed = append(fixed, e.SealHash[:]...)
		}
		if flags&fSigned != 0 {
			fixed = append(fixed, e.Sig...)
		}
	}
	for i := range uint64(len(idx)) {
		bodies = append(bodies, byKind[i]...)
	}
	var keys []byte
	feeds := make([]appliance.FeedID, 0, len(usedKeys))
	for f := range usedKeys {
		feeds = append(feeds, f)
	}
	slices.SortFunc(feeds, func(a, b appliance.FeedID) int { return bytes.Compare(a[:], b[:]) })
	keys = binary.AppendUvarint(keys, uint64(len(feeds)))
	for _, f := range feeds {
		keys = append(append(keys, f[:]...), usedKeys[f][:32]...)
	}
	var raw []byte
	for _, col := range [][]byte{keys, meta, strs, bodies, sealed, salts, fixed} {
		raw = binary.AppendUvarint(raw, uint64(len(col)))
		raw = append(raw, col...)
	}
	hdr, _ := json.Marshal(batchHeader{From: from, Key: key.String(), Count: len(entries), Raw: len(raw), V: wireVersion})
	out := []byte{msgBatch}
	out = binary.AppendUvarint(out, uint64(len(hdr)))
	out = append(out, hdr...)
	out = zenc.EncodeAll(raw, out)
	return out, len(raw), nil
}

// wireReader reads encoding 2's columns within their bounds.
type wireReader struct {
	b   []byte
	bad bool
}

func (r *wireReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *wireReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad = true
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *wireReader) next(n uint64) []byte {
	if r.bad || n > uint64(len(r.b)) {
		r.bad = true
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *wireReader) byte1() byte {
	b := r.next(1)
	if b == nil {
		return 0
	}
	return b[0]
}

// decodeBatchV2 reverses encodeBatchV2; raw is decompressed.
func decodeBatchV2(h batchHeader, raw []byte) ([]*appliance.Entry, error) {
	all := &wireReader{b: raw}
	var cols [7]*wireReader
	for i := range cols {
		cols[i] = &wireReader{b: all.next(all.uvarint())}
	}
	if all.bad || len(all.b) != 0 {
		return nil, errMalformed
	}
	kr, meta, strs, bodies, sealed, salts, fixed := cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6]
	saltKeys := map[appliance.FeedID][]byte{}
	for n := kr.uvarint(); n > 0 && !kr.bad; n-- {
		var f appliance.FeedID
		copy(f[:], kr.next(32))
		saltKeys[f] = kr.next(32)
	}
	if kr.bad || len(kr.b) != 0 || len(saltKeys) > h.Count {
		return nil, errMalformed
	}
	var table []string
	str := func() (string, uint64) {
		i := meta.uvarint()
		if i == uint64(len(table)) {
			n := strs.uvarint()
			if n > appliance.MaxEntrySize {
				strs.bad = true
			}
			table = append(table, string(strs.next(n)))
		}
		if i >= uint64(len(table)) {
			meta.bad = true
			return "", 0
		}
		return table[i], i
	}
	entries := make([]*appliance.Entry, 0, h.Count)
	type bodyOf struct {
		kind, size uint64
		follows    bool
	}
	sizes := make([]bodyOf, 0, h.Count)
	for len(meta.b) > 0 && !meta.bad {
		if len(entries) == h.Count {
			return nil, errMalformed
		}
		flags := meta.byte1()
		e := new(appliance.Entry)
		if flags&fFollows != 0 {
			if len(entries) == 0 {
				return nil, errMalformed
			}
			p := entries[len(entries)-1]
			e.Feed, e.Seq, e.Time = p.Feed, p.Seq+1, p.Time+appliance.HLC(meta.varint()) // Prev once the bodies are in
		} else {
			copy(e.Feed[:], meta.next(32))
			e.Seq = meta.uvarint()
			copy(e.Prev[:], meta.next(32))
			e.Time = appliance.HLC(meta.uvarint())
		}
		v := meta.uvarint()
		if v > 0xffff {
			return nil, errMalformed
		}
		e.Version = uint16(v)
		e.Author, _ = str()
		var kind uint64
		e.Kind, kind = str()
		n := meta.uvarint()
		if n > appliance.MaxEntrySize {
			return nil, errOversized
		}
		sizes = append(sizes, bodyOf{kind, n, flags&fFollows != 0})
		switch {
		case flags&fSealed != 0 && flags&fSaltGiven != 0:
			n := meta.uvarint()
			if n == 0 || n > appliance.MaxEntrySize {
				return nil, errMalformed
			}
			e.Sealed = salts.next(n)
		case flags&fSealed != 0:
			k := saltKeys[e.Feed]
			n := meta.uvarint()
			if k == nil || n > appliance.MaxEntrySize {
				return nil, errMalformed
			}
			s := appliance.SealSalt(k, e.Feed, e.Seq)
			e.Sealed = append(s[:], sealed.next(n)...)
		case flags&fSaltGiven != 0:
			return nil, errMalformed
		}
		if e.Sealed != nil {
			e.SealHash = sha256.Sum256(e.Sealed)
		}
		if flags&fHashGiven != 0 {
			if e.Sealed != nil {
				return nil, errMalformed
			}
			copy(e.SealHash[:], fixed.next(32))
		}
		if flags&fSigned != 0 {
			e.Sig = fixed.next(64)
		}
		if uint64(len(e.Author)+len(e.Kind)+len(e.Sealed))+n > appliance.MaxEntrySize-200 {
			return nil, errOversized
		}
		entries = append(entries, e)
	}
	if meta.bad {
		return nil, errMalformed
	}
	// Bodies come kind by kind, in the order of the kinds' first use.
	byKind := make([][]int, len(table))
	for i, b := range sizes {
		byKind[b.kind] = append(byKind[b.kind], i)
	}
	for _, is := range byKind {
		for _, i := range is {
			entries[i].Body = bodies.next(sizes[i].size)
		}
	}
	for i, b := range sizes {
		if b.follows {
			entries[i].Prev = entries[i-1].Hash()
		}
	}
	for _, c := range cols {
		if c.bad || len(c.b) != 0 {
			return nil, errMalformed
		}
	}
	if len(entries) != h.Count {
		return nil, errMalformed
	}
	return entries, nil
}
