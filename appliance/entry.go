package appliance

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// EncodingVersion is the version of the binary entry encoding below. Old
// encodings stay decodable forever; a new one gets a new number.
const EncodingVersion = 1

// MaxEntrySize bounds one encoded entry; larger input is refused as malformed.
const MaxEntrySize = 1 << 20

// FeedID identifies a feed: the ed25519 public key of the node that writes it.
type FeedID [32]byte

func (f FeedID) String() string { return hex.EncodeToString(f[:]) }

// Short is the first 8 hex characters, for logs and pages.
func (f FeedID) Short() string { return hex.EncodeToString(f[:4]) }

// ParseFeedID parses the hex form of a feed id.
func ParseFeedID(s string) (FeedID, error) {
	var f FeedID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(f) {
		return f, Errorf(EINVALID, "节点公钥格式错误")
	}
	copy(f[:], b)
	return f, nil
}

// Hash is a SHA-256 digest.
type Hash [32]byte

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// IsZero reports whether h is all zero (no previous entry, no sealed part).
func (h Hash) IsZero() bool { return h == Hash{} }

// Entry is one signed, hash-chained record of a feed.
//
// The signature covers a canonical binary encoding of every field except Sig
// and Sealed; Sealed (the sensitive part: salt followed by JSON) is committed
// to by SealHash only, so it can be left behind and the entry still verifies.
type Entry struct {
	Feed     FeedID
	Seq      uint64 // 1, 2, 3…
	Prev     Hash   // hash of entry Seq-1; zero for Seq 1
	Time     HLC
	Author   string // user id on the writing node; "" for the node itself
	Kind     string // e.g. "grid.set"
	Version  uint16 // format version of Body for this Kind
	Body     []byte // JSON of the public part
	SealHash Hash   // sha256(Sealed) or zero when there is no sealed part
	Sealed   []byte // 16-byte salt + JSON; nil if absent or redacted
	// Sig is ed25519 over Hash(). The writing node signs every entry; a
	// node that received the feed holds only the signatures that ended
	// the batches it took (nil elsewhere): a signed entry covers every
	// entry before it through the hash chain, so the rest need not travel
	// (docs/replication.md, "Signatures on the wire").
	Sig []byte
}

// Signed reports whether the entry carries its signature.
func (e *Entry) Signed() bool { return len(e.Sig) == ed25519.SignatureSize }

// Ref names an entry.
type Ref struct {
	Feed FeedID
	Seq  uint64
}

func (e *Entry) Ref() Ref { return Ref{e.Feed, e.Seq} }

// signingBytes is the canonical, deterministic encoding that is hashed and signed.
func (e *Entry) signingBytes() []byte {
	n := 1 + 32 + 8 + 32 + 8 + 2 + 3*binary.MaxVarintLen64 + len(e.Author) + len(e.Kind) + len(e.Body) + 32
	b := make([]byte, 0, n)
	b = append(b, EncodingVersion)
	b = append(b, e.Feed[:]...)
	b = binary.BigEndian.AppendUint64(b, e.Seq)
	b = append(b, e.Prev[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.Time))
	b = binary.BigEndian.AppendUint16(b, e.Version)
	b = binary.AppendUvarint(b, uint64(len(e.Author)))
	b = append(b, e.Author...)
	b = binary.AppendUvarint(b, uint64(len(e.Kind)))
	b = append(b, e.Kind...)
	b = binary.AppendUvarint(b, uint64(len(e.Body)))
	b = append(b, e.Body...)
	b = append(b, e.SealHash[:]...)
	return b
}

// Hash is the SHA-256 of the entry's canonical encoding: what the next entry
// chains to and what the signature covers.
func (e *Entry) Hash() Hash { return sha256.Sum256(e.signingBytes()) }

// Redacted returns a copy without the sealed part; it still verifies.
func (e *Entry) Redacted() *Entry {
	c := *e
	c.Sealed = nil
	return &c
}

// MarshalBinary encodes the entry for storage and transfer. An entry
// without its signature (Sig nil: covered by a later one) is written with
// 64 zero bytes in its place, which no ed25519 signature is.
func (e *Entry) MarshalBinary() ([]byte, error) {
	b := e.signingBytes()
	switch len(e.Sig) {
	case ed25519.SignatureSize:
		b = append(b, e.Sig...)
	case 0:
		b = append(b, noSig[:]...)
	default:
		return nil, fmt.Errorf("marshal entry: signature of %d bytes", len(e.Sig))
	}
	b = binary.AppendUvarint(b, uint64(len(e.Sealed)))
	b = append(b, e.Sealed...)
	if len(b) > MaxEntrySize {
		// UnmarshalBinary refuses it: stored, it would block the feed.
		return nil, fmt.Errorf("marshal entry: %d bytes, more than %d", len(b), MaxEntrySize)
	}
	return b, nil
}

// noSig stands for an absent signature in the binary encoding.
var noSig [ed25519.SignatureSize]byte

// ErrMalformed is returned for bytes that are not an entry.
var ErrMalformed = errors.New("malformed entry")

// UnmarshalBinary decodes an entry; it does not verify it.
func (e *Entry) UnmarshalBinary(data []byte) error {
	if len(data) > MaxEntrySize {
		return fmt.Errorf("%w: %d bytes", ErrMalformed, len(data))
	}
	r := bytes.NewReader(data)
	ver, err := r.ReadByte()
	if err != nil {
		return ErrMalformed
	} else if ver != EncodingVersion {
		return fmt.Errorf("%w: encoding version %d", ErrMalformed, ver)
	}
	var u64 [8]byte
	var u16 [2]byte
	readFull := func(p []byte) {
		if err == nil {
			_, err = io.ReadFull(r, p)
		}
	}
	var varint [binary.MaxVarintLen64]byte
	readBytes := func() []byte {
		if err != nil {
			return nil
		}
		left := r.Len()
		var n uint64
		// A length in more bytes than it needs is refused: an entry has
		// one encoding, the one it was signed in.
		if n, err = binary.ReadUvarint(r); err != nil || n > uint64(r.Len()) || left-r.Len() != binary.PutUvarint(varint[:], n) {
			err = ErrMalformed
			return nil
		}
		p := make([]byte, n)
		readFull(p)
		return p
	}
	readFull(e.Feed[:])
	readFull(u64[:])
	e.Seq = binary.BigEndian.Uint64(u64[:])
	readFull(e.Prev[:])
	readFull(u64[:])
	e.Time = HLC(binary.BigEndian.Uint64(u64[:]))
	readFull(u16[:])
	e.Version = binary.BigEndian.Uint16(u16[:])
	e.Author = string(readBytes())
	e.Kind = string(readBytes())
	e.Body = readBytes()
	readFull(e.SealHash[:])
	e.Sig = make([]byte, ed25519.SignatureSize)
	readFull(e.Sig)
	if [ed25519.SignatureSize]byte(e.Sig) == noSig {
		e.Sig = nil
	}
	e.Sealed = readBytes()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	} else if r.Len() != 0 {
		return fmt.Errorf("%w: %d trailing bytes", ErrMalformed, r.Len())
	}
	if len(e.Sealed) == 0 {
		e.Sealed = nil
	}
	return nil
}

// Verification failures, wrapped with the entry they concern.
var (
	ErrBadSignature = errors.New("bad signature")
	ErrBadSeal      = errors.New("sealed part does not match its hash")
	ErrBrokenChain  = errors.New("broken hash chain")
	ErrBadSequence  = errors.New("sequence gap")
	ErrFork         = errors.New("a different entry with the same sequence is already held")
	ErrBadTime      = errors.New("time after the year 9999")
)

// VerifySignature checks the signature and, when present, the sealed part.
func (e *Entry) VerifySignature() error {
	h := e.Hash()
	if !ed25519.Verify(ed25519.PublicKey(e.Feed[:]), h[:], e.Sig) {
		return ErrBadSignature
	}
	return e.VerifySeal()
}

// VerifySeal checks the sealed part, when present, against its hash.
func (e *Entry) VerifySeal() error {
	if e.Sealed != nil && sha256.Sum256(e.Sealed) != e.SealHash {
		return ErrBadSeal
	}
	return nil
}

// VerifyLink checks that e follows prev (nil before the first entry).
func (e *Entry) VerifyLink(prev *Entry) error {
	if prev == nil {
		if e.Seq != 1 {
			return ErrBadSequence
		} else if !e.Prev.IsZero() {
			return ErrBrokenChain
		}
		return nil
	}
	if e.Seq != prev.Seq+1 {
		return ErrBadSequence
	} else if e.Prev != prev.Hash() {
		return ErrBrokenChain
	}
	return nil
}

// Before orders entries of different feeds deterministically: by HLC time,
// then feed id, then sequence. Folds that combine feeds use this order.
func (e *Entry) Before(o *Entry) bool {
	if e.Time != o.Time {
		return e.Time < o.Time
	}
	if c := bytes.Compare(e.Feed[:], o.Feed[:]); c != 0 {
		return c < 0
	}
	return e.Seq < o.Seq
}

// DecodeBody unmarshals the public body into v.
func (e *Entry) DecodeBody(v any) error {
	if err := json.Unmarshal(e.Body, v); err != nil {
		return fmt.Errorf("decode %s body: %w", e.Kind, err)
	}
	return nil
}

// DecodeSealed unmarshals the sealed part into v and reports whether it was
// present (it is absent when the entry travelled redacted).
func (e *Entry) DecodeSealed(v any) (bool, error) {
	if len(e.Sealed) <= sealSaltSize {
		return false, nil
	}
	if err := json.Unmarshal(e.Sealed[sealSaltSize:], v); err != nil {
		return false, fmt.Errorf("decode %s sealed part: %w", e.Kind, err)
	}
	return true, nil
}

// SealSaltSize is the length of the salt before a sealed part's JSON.
const SealSaltSize = 16

const sealSaltSize = SealSaltSize

// SealSalt is the salt of the sealed part of entry seq of feed when the
// writer derives it from its salt key (Signer.SaltKey): HMAC-SHA256 of the
// feed and sequence, cut to 16 bytes. Nobody without the key can compute
// it, so a redacted entry's hash still hides a guessable sealed part (an
// ID number); whoever receives the sealed parts may get the key once and
// compute every salt, instead of 16 random bytes travelling with each
// entry (docs/replication.md, "Salts of sealed parts"). Entries whose
// salt is not derived (older ones, the demo's) verify as before: the salt
// is part of the stored sealed part either way.
func SealSalt(key []byte, feed FeedID, seq uint64) [SealSaltSize]byte {
	m := hmac.New(sha256.New, key)
	m.Write(feed[:])
	m.Write(binary.BigEndian.AppendUint64(nil, seq))
	var out [SealSaltSize]byte
	copy(out[:], m.Sum(nil))
	return out
}

// Draft is an entry before the store gives it a place in the feed.
type Draft struct {
	Author  string
	Kind    string
	Version uint16
	Body    any // public part, encoded as JSON
	Sealed  any // sensitive part or nil
}

// Signer turns drafts into signed entries of one feed.
type Signer struct {
	key     ed25519.PrivateKey
	Feed    FeedID
	Rand    io.Reader // salts of sealed parts, when set (the demo, tests); derived (SealSalt) when nil
	saltKey []byte
}

// SaltKey is the key the salts of this feed's sealed parts derive from
// (SealSalt): HKDF of the feed key's seed, so it needs no storing.
func (s *Signer) SaltKey() []byte {
	if s.saltKey == nil {
		k, err := hkdf.Key(sha256.New, s.key.Seed(), nil, "gridbox seal salt", 32)
		if err != nil {
			panic(err) // only for lengths HKDF cannot give
		}
		s.saltKey = k
	}
	return s.saltKey
}

// NewSigner returns a signer for the node key.
func NewSigner(key ed25519.PrivateKey) *Signer {
	s := &Signer{key: key}
	copy(s.Feed[:], key.Public().(ed25519.PublicKey))
	return s
}

// Seal builds and signs the entry that follows prev (nil for the first).
func (s *Signer) Seal(d Draft, prev *Entry, t HLC) (*Entry, error) {
	body, err := json.Marshal(d.Body)
	if err != nil {
		return nil, fmt.Errorf("encode %s body: %w", d.Kind, err)
	}
	e := &Entry{Feed: s.Feed, Seq: 1, Time: t, Author: d.Author, Kind: d.Kind, Version: d.Version, Body: body}
	if prev != nil {
		e.Seq, e.Prev = prev.Seq+1, prev.Hash()
	}
	if d.Sealed != nil {
		part, err := json.Marshal(d.Sealed)
		if err != nil {
			return nil, fmt.Errorf("encode %s sealed part: %w", d.Kind, err)
		}
		salt := make([]byte, sealSaltSize, sealSaltSize+len(part))
		if s.Rand != nil {
			if _, err := io.ReadFull(s.Rand, salt); err != nil {
				return nil, fmt.Errorf("seal salt: %w", err)
			}
		} else {
			d := SealSalt(s.SaltKey(), e.Feed, e.Seq)
			copy(salt, d[:])
		}
		e.Sealed = append(salt, part...)
		e.SealHash = sha256.Sum256(e.Sealed)
	}
	h := e.Hash()
	e.Sig = ed25519.Sign(s.key, h[:])
	return e, nil
}
