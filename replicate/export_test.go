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
