package appliance

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
)

// KindNodeDown is the first entry of a downward feed: a feed a parent
// writes for one child only (dispatch results, feedback, instructions), so
// that each child receives its own part and nothing of its siblings'.
const KindNodeDown = "node.down"

// DownFeed is the body of a downward feed's first entry. Proof is the
// parent node key's signature over DownClaim(Child, feed): the child checks
// it against the parent key it has pinned.
type DownFeed struct {
	Parent string `json:"parent"` // parent's node key (hex)
	Child  string `json:"child"`  // the child's division code
	Proof  []byte `json:"proof"`
}

// Validate checks the shape of a DownFeed body.
func (d *DownFeed) Validate() error {
	if _, err := ParseFeedID(d.Parent); err != nil {
		return FieldError("parent", "上级节点公钥格式错误")
	}
	if len(d.Proof) != ed25519.SignatureSize {
		return FieldError("proof", "证明签名格式错误")
	}
	return nil
}

// DownClaim is what the parent signs to own a downward feed.
func DownClaim(child string, feed FeedID) []byte {
	return append([]byte("gridbox down feed\x00"+child+"\x00"), feed[:]...)
}

// VerifyDown reports whether d proves that feed is parent's downward feed
// for child.
func VerifyDown(parent FeedID, child string, feed FeedID, d DownFeed) bool {
	return d.Parent == parent.String() && d.Child == child &&
		ed25519.Verify(ed25519.PublicKey(parent[:]), DownClaim(child, feed), d.Proof)
}

// KindNodeUp is the first entry of an upward feed: what a town writes for
// its city (cases escalated to the city, statistics), so that the city gets
// that and not the town's own feed with the villages' people in it. Its body
// is a DownFeed whose Child is UpClaim.
const KindNodeUp = "node.up"

// UpClaim is the Child of an upward feed's proof.
const UpClaim = "up"

// Down returns the signer of the downward feed for child: a key derived
// from this signer's key, so it needs no storage of its own and a restored
// backup writes on the same feed.
func (s *Signer) Down(child string) (*Signer, error) { return s.derive("gridbox down:" + child) }

// Up returns the signer of the upward feed (see KindNodeUp).
func (s *Signer) Up() (*Signer, error) { return s.derive("gridbox up") }

func (s *Signer) derive(info string) (*Signer, error) {
	seed, err := hkdf.Key(sha256.New, s.key.Seed(), nil, info, ed25519.SeedSize)
	if err != nil {
		return nil, err
	}
	d := NewSigner(ed25519.NewKeyFromSeed(seed))
	d.Rand = s.Rand
	return d, nil
}

// ProveDown signs the claim that feed is this node's downward feed for child.
func (s *Signer) ProveDown(child string, feed FeedID) DownFeed {
	return DownFeed{Parent: s.Feed.String(), Child: child, Proof: ed25519.Sign(s.key, DownClaim(child, feed))}
}

// memberProofPrefix separates member proofs from every other signature.
const memberProofPrefix = "gridbox member proof\x00"

// ProveMember signs a replication challenge: it shows that the node
// answering holds the node key its metadata claims.
func (s *Signer) ProveMember(challenge []byte) []byte {
	return ed25519.Sign(s.key, append([]byte(memberProofPrefix), challenge...))
}

// VerifyMember checks a ProveMember signature by key.
func VerifyMember(key FeedID, challenge, sig []byte) bool {
	return ed25519.Verify(ed25519.PublicKey(key[:]), append([]byte(memberProofPrefix), challenge...), sig)
}

// KindDownCopy is a copy of a record of the parent's own feed (a town's
// notice, duty shift, joint meeting or the work team it sends) on its downward feed for one child, which does not
// receive the parent's own feed. The fold takes it as the original record,
// just below the original's place in last-writer-wins order: a node holding
// both (the town itself) keeps the original, in any order of arrival. It
// counts only from a downward feed, only for an entry of that feed's
// parent, and never for the child's own grid.
const KindDownCopy = "down.copy"

// DownCopy is the body of a KindDownCopy entry.
type DownCopy struct {
	Kind string          `json:"kind"` // the original's kind: a notice, duty shift, meeting, work team, calendar year, rule table or finding
	Feed string          `json:"feed"` // the original's feed (hex): the parent's own
	Seq  uint64          `json:"seq"`
	Time HLC             `json:"time"` // the original's HLC time
	Body json.RawMessage `json:"body"` // the record as the child is to see it
}

// Validate checks the shape of a copy; its body is checked by the view.
func (c *DownCopy) Validate() error {
	switch c.Kind {
	case KindNoticeSet, KindDutySet, KindMeetingSet, KindTeamSet, KindCalendarSet, KindAssessRules, KindAssessFinding:
	default:
		return FieldError("kind", "下发副本的记录类型错误")
	}
	if _, err := ParseFeedID(c.Feed); err != nil || c.Seq == 0 || c.Time == 0 {
		return FieldError("feed", "下发副本的原记录格式错误")
	}
	if len(c.Body) == 0 {
		return FieldError("body", "下发副本没有内容")
	}
	return nil
}
