// Package replicate keeps a node's ledger in step with its parent and its
// children: memberlist for membership, failure detection and the encrypted
// transport; anti-entropy on heads; bounded zstd batches of entries, checked
// by the receiver before they are stored. docs/replication.md explains it.
package replicate

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// Config configures a Replicator.
type Config struct {
	Store     *bolt.Store
	Node      appliance.Node // role, code, name and the parent's address
	Bind      string         // memberlist host:port; port 0 picks one
	Advertise string         // host:port others use, if not Bind
	Keys      [][]byte       // cluster keyring; Keys[0] encrypts
	ParentKey appliance.FeedID
	HTTPAddr  string // shown to other nodes (links on the town's pages)
	Log       *slog.Logger

	// SealedUp says whether entries sent to the parent keep their sealed
	// (sensitive) parts: "keep", "strip", or "" for the default — a village
	// sends them to its town, a town strips them before they reach the city.
	// A stripped entry still verifies (the signature covers only the hash).
	SealedUp string

	// Fast uses short memberlist intervals (tests, the local demo).
	Fast bool
	// SyncInterval is how often heads are offered when nothing happens.
	SyncInterval time.Duration
	// AckTimeout is how long a sent batch may stay unanswered.
	AckTimeout time.Duration
	// MaxBatchBytes bounds one batch before compression; the replicator
	// halves it on a slow link and grows it back on a fast one.
	MaxBatchBytes int
}

// ParseKeys decodes base64 keyring keys (16, 24 or 32 bytes each).
func ParseKeys(keys []string) ([][]byte, error) {
	var out [][]byte
	for i, k := range keys {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(k))
		if err != nil || (len(b) != 16 && len(b) != 24 && len(b) != 32) {
			return nil, fmt.Errorf("replicate.keys[%d]: not a base64 AES key of 16, 24 or 32 bytes", i)
		}
		out = append(out, b)
	}
	return out, nil
}

// relation of a peer to this node.
type relation int

const (
	relNone relation = iota
	relParent
	relChild
)

func (r relation) String() string {
	switch r {
	case relParent:
		return "parent"
	case relChild:
		return "child"
	}
	return "none"
}

// peer is what the replicator knows of another member.
type peer struct {
	name  string
	node  *memberlist.Node
	meta  NodeMeta
	alive bool

	lastContact   time.Time
	bytesSent     uint64
	bytesRecv     uint64
	entriesSent   uint64
	entriesRecv   uint64
	offered       heads // what the peer last offered us
	theirs        heads // what the peer last said it holds of what we send it
	inflightUntil time.Time

	// A peer is trusted with data only after it proved it holds the key its
	// metadata claims (challenge and signed answer); metadata alone can be
	// copied by anyone who knows the keyring.
	verified       bool
	challenge      []byte
	challengeUntil time.Time
	batchBytes     int
	lastOffer      time.Time
	next           *batch // the batch after the one in flight, built ahead
	provedFor      string // the peer's meta nonce this node signed unasked
	sentFor        heads  // the want the batch in flight answers, until sentUntil
	sentUntil      time.Time
	batchSends     int // sending goroutines running for this peer (goSend)
	photoSends     int
	photoUntil     time.Time
	photoAsked     map[string]bool // photos asked for and not yet answered
	offerAt        time.Time       // an offer went out then and nothing came back since
	stale          bool            // the parent failed a send or left an offer unanswered: join it again
	problem        string          // what is wrong with the link (linkstate.go), "" if nothing
	refusedFor     string          // the refusal (reason and the member's nonce) sent to it
	clockOff       time.Duration   // how far its clock is from ours, when far off
	waitingWant    heads           // the want that waits in line for a place (grant.go)
}

// heard records an accepted message from the peer. r.mu held.
func (p *peer) heard() {
	p.lastContact = time.Now()
	p.offerAt, p.stale = time.Time{}, false
}

// forgetSent drops what this node expects of the batch it sent the peer:
// the send failed, or the peer restarted and lost it. r.mu held.
func (p *peer) forgetSent() {
	p.inflightUntil, p.sentFor, p.sentUntil, p.next = time.Time{}, nil, time.Time{}, nil
}

// Replicator runs replication for one node.
type Replicator struct {
	cfg   Config
	log   *slog.Logger
	store *bolt.Store
	self  appliance.FeedID
	name  string
	meta  []byte
	nonce []byte // in meta: what peers sign unasked (NodeMeta.Nonce)
	ml    *memberlist.Memberlist
	keys  *memberlist.Keyring

	mu        sync.Mutex
	peers     map[string]*peer
	parentKey appliance.FeedID
	rejected  map[string]uint64 // reason → entries (or messages) refused

	photoMissing map[string]time.Time // photo → when to ask again (the peer lacked it)
	early        map[string]*earlyMessages
	earlyBytes   int
	challenges   int               // sent; a new link needs none when both prove unasked
	unaskedUsed  map[string]string // member → the nonce of its unasked proof taken
	photosRecv   uint64
	photoBytes   uint64 // photo messages sent and photo wants received (also in the peers' byte counts)

	parentProblem string               // why the parent cannot be joined (linkstate.go)
	keyFailures   map[string]time.Time // host → last message from it this node could not decrypt
	childAddrs    map[string]childAddr // code → where an enrolled child was last met

	grants  map[string]time.Time // members that may send a batch now, until (grant.go)
	waiting []string             // members whose want waits for a place, in order
	// The most granted and waiting at once, for tests.
	grantsSeen, waitingSeen int

	queued     atomic.Int64 // bytes in inbox
	ctrlQueued atomic.Int64 // messages in ctrl or being handled

	inbox      chan []byte  // batches and photos
	ctrl       chan []byte  // the other messages (receive)
	tap        func([]byte) // tests: sees every message received (export_test.go)
	kick       chan struct{}
	parentKick chan struct{}
	cancel     context.CancelFunc
	wg         sync.WaitGroup
}

var localParentKey = "replicate/parent_key"

// New checks cfg and prepares a replicator; Start joins the cluster.
func New(cfg Config) (*Replicator, error) {
	if cfg.Store == nil {
		return nil, errors.New("replicate: no store")
	}
	if len(cfg.Keys) == 0 {
		return nil, errors.New("replicate: no cluster key (replicate.keys); traffic must be encrypted")
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = 5 * time.Second
		if cfg.Fast {
			cfg.SyncInterval = 300 * time.Millisecond
		}
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = 90 * time.Second
		if cfg.Fast {
			cfg.AckTimeout = 5 * time.Second
		}
	}
	switch cfg.SealedUp {
	case "", "keep", "strip":
	default:
		return nil, fmt.Errorf("replicate.sealed_up: %q is not keep or strip", cfg.SealedUp)
	}
	if cfg.MaxBatchBytes <= 0 {
		cfg.MaxBatchBytes = 4 << 20
	}
	r := &Replicator{
		cfg: cfg, log: cfg.Log.With("part", "replicate"), store: cfg.Store, self: cfg.Store.Feed(),
		peers: map[string]*peer{}, rejected: map[string]uint64{}, photoMissing: map[string]time.Time{}, early: map[string]*earlyMessages{}, unaskedUsed: map[string]string{},
		keyFailures: map[string]time.Time{}, childAddrs: map[string]childAddr{}, grants: map[string]time.Time{},
		inbox: make(chan []byte, 64), ctrl: make(chan []byte, 1024), kick: make(chan struct{}, 1), parentKick: make(chan struct{}, 1),
		parentKey: cfg.ParentKey,
	}
	r.name = cfg.Node.Code + "-" + r.self.Short()
	if r.parentKey == (appliance.FeedID{}) {
		var hexKey string
		cfg.Store.Read(func(tx *bolt.Tx) error {
			_, err := tx.GetJSON("local", localParentKey, &hexKey)
			return err
		})
		if k, err := appliance.ParseFeedID(hexKey); err == nil {
			r.parentKey = k
		}
	}
	r.nonce = make([]byte, 16)
	if _, err := rand.Read(r.nonce); err != nil {
		return nil, err
	}
	meta, err := NodeMeta{Role: cfg.Node.Role, Code: cfg.Node.Code, Name: cfg.Node.Name, Key: r.self, HTTP: cfg.HTTPAddr, Nonce: r.nonce, Wire: wireVersion}.Encode()
	if err != nil {
		return nil, err
	}
	r.meta = meta
	return r, nil
}

// Name is this node's memberlist name.
func (r *Replicator) Name() string { return r.name }

// Addr is where memberlist listens, once started.
func (r *Replicator) Addr() string {
	if r.ml == nil {
		return ""
	}
	n := r.ml.LocalNode()
	return net.JoinHostPort(n.Addr.String(), strconv.Itoa(int(n.Port)))
}

// Start creates the memberlist node, joins the parent if one is set and
// runs the sync loop until Close.
func (r *Replicator) Start(ctx context.Context) error {
	mc := memberlist.DefaultWANConfig() // village links are slow and lossy
	if r.cfg.Fast {
		mc = memberlist.DefaultLANConfig()
		mc.ProbeInterval = 100 * time.Millisecond
		mc.ProbeTimeout = 80 * time.Millisecond
		mc.GossipInterval = 20 * time.Millisecond
		mc.PushPullInterval = 300 * time.Millisecond
		mc.SuspicionMult = 2
	}
	mc.Name = r.name
	host, port, err := splitHostPort(r.cfg.Bind)
	if err != nil {
		return fmt.Errorf("replicate.bind: %w", err)
	}
	mc.BindAddr, mc.BindPort = host, port
	if r.cfg.Advertise != "" {
		if mc.AdvertiseAddr, mc.AdvertisePort, err = splitHostPort(r.cfg.Advertise); err != nil {
			return fmt.Errorf("replicate.advertise: %w", err)
		}
	}
	kr, err := memberlist.NewKeyring(r.cfg.Keys, r.cfg.Keys[0])
	if err != nil {
		return fmt.Errorf("replicate keyring: %w", err)
	}
	mc.Keyring, r.keys = kr, kr
	mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = true, true
	mc.EnableCompression = false // batches are zstd already
	mc.TCPTimeout = 60 * time.Second
	mc.Delegate = delegate{r}
	mc.Events = eventDelegate{r}
	mc.Logger = log.New(&mlLog{r}, "", 0)
	ml, err := memberlist.Create(mc)
	if err != nil {
		return fmt.Errorf("replicate: start memberlist: %w", err)
	}
	r.ml = ml
	r.joinChildren() // a restarted parent: its children learn it at once
	r.store.OnCommit(r.committed)
	ctx, r.cancel = context.WithCancel(ctx)
	r.wg.Add(4)
	go r.handleLoop(ctx, r.inbox, func(b []byte) { r.queued.Add(-int64(len(b))) })
	go r.handleLoop(ctx, r.ctrl, func([]byte) { r.ctrlQueued.Add(-1) })
	go r.syncLoop(ctx)
	go r.parentLoop(ctx)
	r.log.Info("replication started", "name", r.name, "addr", r.Addr(), "parent", r.cfg.Node.Parent)
	return nil
}

// Close leaves the cluster and stops.
func (r *Replicator) Close() error {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
	if r.ml == nil {
		return nil
	}
	r.ml.Leave(time.Second)
	return r.ml.Shutdown()
}

func splitHostPort(s string) (string, int, error) {
	host, p, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", s)
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, port, nil
}

// mlLog passes memberlist's warnings and errors to slog; its debug chatter
// is dropped, and a message it could not decrypt (another cluster key)
// becomes a link problem, said once per host (linkstate.go).
type mlLog struct{ r *Replicator }

func (l *mlLog) Write(p []byte) (int, error) {
	s := strings.TrimSpace(string(p))
	switch {
	case isKeyError(s):
		l.r.keyFailure(s)
	case strings.Contains(s, "[ERR]"):
		l.r.log.Warn("memberlist", "msg", s) // lost packets are normal on village links
	case strings.Contains(s, "[WARN]"):
		l.r.log.Warn("memberlist", "msg", s)
	}
	return len(p), nil
}

var _ io.Writer = (*mlLog)(nil)

// memberEvent records a join, update or leave. It runs under memberlist's
// locks: it must not call back into memberlist.
func (r *Replicator) memberEvent(n *memberlist.Node, alive bool) {
	if n.Name == r.name {
		return
	}
	meta, err := DecodeMeta(n.Meta)
	if err != nil {
		r.log.Warn("member with unreadable metadata ignored", "member", n.Name, "err", err)
		return
	}
	r.mu.Lock()
	p := r.peers[n.Name]
	if p == nil {
		p = &peer{name: n.Name, batchBytes: r.cfg.MaxBatchBytes}
		r.peers[n.Name] = p
	}
	if !alive || p.meta.KeyH != meta.KeyH || (p.node != nil && p.node.Address() != n.Address()) || !bytes.Equal(p.meta.Nonce, meta.Nonce) {
		// Gone, changed or restarted: whoever comes back proves its key
		// again; it proves it unasked, so challenge it only if that fails.
		p.verified, p.challenge = false, nil
		p.forgetSent()
		p.challengeUntil = time.Time{}
		if len(meta.Nonce) > 0 {
			p.challengeUntil = time.Now().Add(unaskedProofWait)
		}
	}
	p.node, p.meta, p.alive = n, meta, alive
	parent := p.meta.Role == parentRole(r.cfg.Node.Role)
	var promoted []grantedWant
	if !alive {
		r.leaveLine(p)
		promoted = r.release(n.Name, time.Now())
	}
	r.mu.Unlock()
	// Not sent from here: memberlist holds its locks (see above).
	if len(promoted) > 0 {
		go r.sendGranted(promoted)
	}
	if alive {
		r.replayEarly(n.Name) // a challenge or proof that came before the join or update
	}
	r.poke()
	if parent && !alive {
		r.wakeParent() // gone: try it again at once, then with backoff
	}
}

func (r *Replicator) poke() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// committed is the store's commit hook: new entries are offered soon.
func (r *Replicator) committed([]*appliance.Entry) { r.poke() }

// relationOf says what p is to this node. Called with r.mu held.
func (r *Replicator) relationOf(p *peer) relation {
	me := r.cfg.Node.Role
	switch {
	case p.meta.Role == parentRole(me) && r.isParent(p):
		return relParent
	case p.meta.Role == childRole(me):
		if en, ok := r.store.Enrolled(p.meta.Key); ok && en.Code == p.meta.Code && en.Role == p.meta.Role {
			return relChild
		}
	}
	return relNone
}

// isParent pins the parent's key: the configured one, or the key of the
// first node met at the parent's address (kept in the store). r.mu held.
func (r *Replicator) isParent(p *peer) bool {
	if r.parentKey != (appliance.FeedID{}) {
		return p.meta.Key == r.parentKey
	}
	if r.cfg.Node.Parent == "" || p.node == nil || !sameAddr(p.node.Address(), r.cfg.Node.Parent) {
		return false
	}
	r.parentKey = p.meta.Key
	hexKey := p.meta.Key.String()
	if err := r.store.Update(func(tx *bolt.Tx) error { return tx.PutJSON("local", localParentKey, hexKey) }); err != nil {
		r.log.Error("pin parent key", "err", err)
	}
	r.log.Info("parent key pinned", "parent", p.name, "fingerprint", p.meta.Key.Fingerprint())
	return true
}

func sameAddr(a, b string) bool {
	if a == b {
		return true
	}
	ah, ap, err1 := net.SplitHostPort(a)
	bh, bp, err2 := net.SplitHostPort(b)
	if err1 != nil || err2 != nil || ap != bp {
		return false
	}
	if ah == bh {
		return true
	}
	addrs, err := net.LookupHost(bh)
	if err != nil {
		return false
	}
	for _, x := range addrs {
		if x == ah {
			return true
		}
	}
	return false
}

func parentRole(role string) string {
	switch role {
	case appliance.NodeVillage:
		return appliance.NodeTown
	case appliance.NodeTown:
		return appliance.NodeCity
	}
	return ""
}

func childRole(role string) string {
	switch role {
	case appliance.NodeCity:
		return appliance.NodeTown
	case appliance.NodeTown:
		return appliance.NodeVillage
	}
	return ""
}

// sendFeeds are the feeds this node sends to peer p of relation rel: up to
// its parent, a village's own feed, a town's upward feed (not its own feed,
// which holds the villages' people); down to a child, its downward feed.
func (r *Replicator) sendFeeds(meta NodeMeta, rel relation) []appliance.FeedID {
	switch rel {
	case relParent:
		if r.cfg.Node.Role == appliance.NodeVillage {
			return []appliance.FeedID{r.self}
		}
		if f, err := r.store.UpFeed(); err == nil {
			return []appliance.FeedID{f}
		}
	case relChild:
		// The child's own feed goes back too, but only ever carries what the
		// child lacks of it: after a restore from an old backup, the child
		// gets its own entries back before it writes over them.
		if f, err := r.store.DownFeed(meta.Code); err == nil {
			return []appliance.FeedID{f, meta.Key}
		}
		return []appliance.FeedID{meta.Key}
	}
	return nil
}

// stripSealed reports whether sealed parts stay behind on the way to p.
func (r *Replicator) stripSealed(rel relation) bool {
	if rel != relParent {
		return false // a parent writes down only what the child may have
	}
	switch r.cfg.SealedUp {
	case "keep":
		return false
	case "strip":
		return true
	}
	return r.cfg.Node.Role != appliance.NodeVillage
}

// maxDownFeeds bounds the feeds a child takes from its parent's offer.
const maxDownFeeds = 4

// acceptsOffer reports whether an offered feed is worth asking for: from a
// child its own feed; from the parent what may be this node's downward
// feed (checked entry by entry when it comes, by its node.down proof).
func (r *Replicator) acceptsOffer(meta NodeMeta, rel relation, feed appliance.FeedID) bool {
	switch rel {
	case relChild:
		return feed == meta.Key || meta.Role == appliance.NodeTown
	case relParent:
		return true // checked entry by entry: the downward feed, or our own
	}
	return false
}

// checkScope refuses a batch with any entry this node must not take from p.
func (r *Replicator) checkScope(meta NodeMeta, rel relation, entries []*appliance.Entry) bool {
	proven := map[appliance.FeedID]bool{}
	for _, e := range entries {
		switch {
		case proven[e.Feed]:
		case rel == relChild && meta.Role == appliance.NodeVillage:
			// A village sends its own feed.
			if e.Feed != meta.Key {
				return false
			}
		case rel == relChild && meta.Role == appliance.NodeTown:
			// A town sends its upward feed only.
			if !r.proven(e, appliance.KindNodeUp, meta.Key, appliance.UpClaim) {
				return false
			}
		case rel == relParent && e.Feed == r.self:
			// Our own entries, back from the parent after a restore: signed
			// by our own key, checked like any other.
		case rel == relParent:
			// Otherwise the parent sends this node's downward feed only.
			if !r.proven(e, appliance.KindNodeDown, meta.Key, r.cfg.Node.Code) {
				return false
			}
		default:
			return false
		}
		proven[e.Feed] = true
		if rel == relChild && !ownStats(e, meta.Code) {
			return false
		}
	}
	return true
}

// ownStats is false for statistics or assessment scores a child sends
// under another node's division code: a town reports its own only.
func ownStats(e *appliance.Entry, code string) bool {
	if e.Kind == appliance.KindTownScores {
		var ts appliance.TownScores
		return e.DecodeBody(&ts) == nil && ts.Town == code
	}
	if e.Kind != appliance.KindTownStats && e.Kind != appliance.KindTownPeriodStats {
		return true
	}
	var st appliance.TownStats
	return e.DecodeBody(&st) == nil && st.Town == code
}

// proven reports whether e's feed is owner's derived feed for claim: by
// the claim at the feed's start, held already or first in this batch.
func (r *Replicator) proven(e *appliance.Entry, kind string, owner appliance.FeedID, claim string) bool {
	d, ok := r.store.DownFeedOf(e.Feed)
	if !ok && e.Seq == 1 && e.Kind == kind && e.DecodeBody(&d) == nil && d.Validate() == nil {
		ok = true
	}
	return ok && appliance.VerifyDown(owner, claim, e.Feed, d)
}

// reject counts refused entries (or messages) by reason.
func (r *Replicator) reject(reason string, n int) {
	if reason == reasonUnproven {
		reason = "unknown_peer"
	}
	r.mu.Lock()
	r.rejected[reason] += uint64(n)
	r.mu.Unlock()
}

// SetKeys replaces the cluster keyring of the running node: keys[0]
// encrypts from now on, every key given decrypts, others are dropped. A
// cluster rotates by giving every node OLD,NEW, then NEW,OLD, then NEW
// (docs/replication.md, "Rotating the cluster key"); no restart is needed.
func (r *Replicator) SetKeys(keys [][]byte) error {
	if len(keys) == 0 {
		return errors.New("replicate: no cluster key: traffic must be encrypted")
	}
	for i, k := range keys {
		if err := memberlist.ValidateKey(k); err != nil {
			return fmt.Errorf("replicate key %d: %w", i+1, err)
		}
	}
	if r.keys == nil {
		return errors.New("replicate: not started")
	}
	for _, k := range keys {
		if err := r.keys.AddKey(k); err != nil {
			return err
		}
	}
	if err := r.keys.UseKey(keys[0]); err != nil {
		return err
	}
	var drop [][]byte // collected first: RemoveKey reuses the ring's array
	for _, old := range r.keys.GetKeys() {
		if !slices.ContainsFunc(keys, func(k []byte) bool { return bytes.Equal(k, old) }) {
			drop = append(drop, bytes.Clone(old))
		}
	}
	for _, old := range drop {
		if err := r.keys.RemoveKey(old); err != nil {
			return err
		}
	}
	r.log.Info("cluster keyring changed", "keys", KeyFingerprints(keys))
	return nil
}

// Keys returns the fingerprints of the keyring in use, the encrypting key
// first.
func (r *Replicator) Keys() []string {
	if r.keys == nil {
		return KeyFingerprints(r.cfg.Keys)
	}
	return KeyFingerprints(r.keys.GetKeys())
}

// KeyFingerprints names cluster keys without revealing them: the first 4
// bytes of each key's SHA-256, in hex, so that operators can compare nodes.
func KeyFingerprints(keys [][]byte) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		h := sha256.Sum256(k)
		out[i] = hex.EncodeToString(h[:4])
	}
	return out
}
