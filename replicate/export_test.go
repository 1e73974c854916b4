package replicate

import (
	"errors"

	"github.com/klauspost/compress/zstd"

	"gridbox/appliance"
)

// SendRaw sends msg to the member named to, as a faulty or hostile node would.
func (r *Replicator) SendRaw(to string, msg []byte) error {
	for _, n := range r.ml.Members() {
		if n.Name == to {
			return r.ml.SendReliable(n, msg)
		}
	}
	return errors.New("no such member")
}

// EncodeBatch frames entries as a batch from r.
func (r *Replicator) EncodeBatch(entries []*appliance.Entry) []byte {
	b, _, err := encodeBatch(r.name, r.self, entries)
	if err != nil {
		panic(err)
	}
	return b
}

// BatchSize is the wire size of entries as one batch at a zstd level.
func BatchSize(entries []*appliance.Entry, level zstd.EncoderLevel) int {
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1))
	old := zenc
	zenc = enc
	defer func() { zenc = old }()
	b, _, _ := encodeBatch("x", appliance.FeedID{}, entries)
	return len(b)
}

// Crash stops r as a killed process would: without leaving the cluster.
func (r *Replicator) Crash() {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	if r.ml != nil {
		r.ml.Shutdown()
	}
}

// WithZstdLevel runs fn with batches compressed at level.
func WithZstdLevel(level zstd.EncoderLevel, fn func()) {
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1))
	old := zenc
	zenc = enc
	defer func() { zenc = old }()
	fn()
}

// ClaimKey makes r announce another node's key in its metadata, as an
// impostor that knows the keyring would; call before Start.
func (r *Replicator) ClaimKey(k appliance.FeedID) {
	meta, err := NodeMeta{Role: r.cfg.Node.Role, Code: r.cfg.Node.Code, Name: r.cfg.Node.Name, Key: k}.Encode()
	if err != nil {
		panic(err)
	}
	r.meta = meta
}

// EncodePhotoWant asks for one photo, naming the entry feed/seq.
func (r *Replicator) EncodePhotoWant(sum string, feed appliance.FeedID, seq uint64) []byte {
	return encodeControl(msgPhotoWant, control{From: r.name, Key: r.self.String(), Photos: []photoRef{{Sum: sum, Feed: feed.String(), Seq: seq}}})
}

// Challenges returns how many challenges r has sent.
func (r *Replicator) Challenges() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.challenges
}

// UnaskedProof is the proof r would send unasked to the member named to,
// but claiming the address addr.
func (r *Replicator) UnaskedProof(to, addr string) []byte {
	for _, n := range r.ml.Members() {
		if n.Name == to {
			m, _ := DecodeMeta(n.Meta)
			sig := r.store.Signer().ProveMember(unaskedClaim(m.Nonce, to, r.name, addr, r.nonce))
			return encodeControl(msgProof, control{From: r.name, Key: r.self.String(), Sig: sig, Nonce: m.Nonce})
		}
	}
	panic("no such member " + to)
}

// HoldSends starts n sends that wait until release is closed, counted as
// photo sends to the member named to, and reports how many started.
func (r *Replicator) HoldSends(to string, n int, release <-chan struct{}) int {
	r.mu.Lock()
	p := r.peers[to]
	r.mu.Unlock()
	started := 0
	for range n {
		if r.goSend(&p.photoSends, func() { <-release }) {
			started++
		}
	}
	return started
}

// Tap makes r call fn with every message it receives; call before Start.
func (r *Replicator) Tap(fn func([]byte)) { r.tap = fn }

// NotifyMsg delivers b to r as memberlist does: what any member may send.
func (r *Replicator) NotifyMsg(b []byte) { delegate{r}.NotifyMsg(b) }

// Idle reports whether r has handled every message it received.
func (r *Replicator) Idle() bool { return r.queued.Load() == 0 && r.ctrlQueued.Load() == 0 }

// The wire format, for fuzzing its decoders.
type (
	BatchHeader = batchHeader
	Control     = control
	PhotoHeader = photoHeader
)

const (
	MsgOffer     = msgOffer
	MsgWant      = msgWant
	MsgBatch     = msgBatch
	MsgChallenge = msgChallenge
	MsgProof     = msgProof
	MsgPhotoWant = msgPhotoWant
	MsgPhoto     = msgPhoto

	MaxBatchRaw     = maxBatchRaw
	MaxBatchEntries = maxBatchEntries
	MaxControlBytes = maxControlBytes
)

// DecodeBatch decodes a batch message without its type byte.
func DecodeBatch(b []byte) (BatchHeader, []*appliance.Entry, error) { return decodeBatch(b) }

// EncodeBatchAs encodes entries as a batch from the member named from.
func EncodeBatchAs(from string, key appliance.FeedID, entries []*appliance.Entry) ([]byte, error) {
	b, _, err := encodeBatch(from, key, entries)
	return b, err
}

// DecodeControl decodes an offer, want, challenge, proof or photo request
// without its type byte.
func DecodeControl(b []byte) (Control, error) { return decodeControl(b) }

// EncodeControl encodes c as a message of type t.
func EncodeControl(t byte, c Control) []byte { return encodeControl(t, c) }

// DecodePhoto decodes a photo message without its type byte.
func DecodePhoto(b []byte) (PhotoHeader, []byte, error) { return decodePhoto(b) }

// EncodePhoto encodes a photo message.
func EncodePhoto(h PhotoHeader, data []byte) []byte { return encodePhoto(h, data) }

// ReasonOf names a refusal as /metrics does.
func ReasonOf(err error) string { return reasonOf(err) }

// EncodeBatchV2As encodes entries in encoding 2 as from, with the salt
// keys given (nil: every salt travels).
func EncodeBatchV2As(from string, key appliance.FeedID, entries []*appliance.Entry, saltKeys map[appliance.FeedID][]byte) ([]byte, error) {
	b, _, err := encodeBatchV2(from, key, entries, saltKeys)
	return b, err
}

const WireVersion = wireVersion

// ReadsWire makes r say it reads batch encodings up to v; call before Start.
func (r *Replicator) ReadsWire(v int) {
	m, err := DecodeMeta(r.meta)
	if err != nil {
		panic(err)
	}
	m.Wire = v
	if r.meta, err = m.Encode(); err != nil {
		panic(err)
	}
}

// GrantsSeen reports the most members granted a batch at once and the
// longest line of waiting wants, since Start (grant.go).
func (r *Replicator) GrantsSeen() (granted, waiting int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.grantsSeen, r.waitingSeen
}

// MaxGrants is maxGrants.
const MaxGrants = maxGrants
