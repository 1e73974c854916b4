package replicate

import (
	"maps"
	"net"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// What is wrong with a link, said once per node and change in the log
// (naming the node) and shown on both sides' replication pages and in
// /api/v1/replication (docs/replication.md, "When a link does not work").
const (
	ProblemKey         = "key"         // the other side's cluster key is not in this node's keyring
	ProblemUnreachable = "unreachable" // the parent cannot be reached
	ProblemUnenrolled  = "unenrolled"  // the parent has not enrolled this node's key (or: this child is not enrolled here)
	ProblemRevoked     = "revoked"     // the parent revoked this node's enrolment (or: this child's)
	ProblemProof       = "proof"       // the member failed to prove its node key
)

// clockFarOff is how far another node's clock may be from this one's
// before it is said: HLC keeps the ledger in order whatever the clocks
// say, but a box that booted in 1970 writes dates nobody can read.
const clockFarOff = 2 * time.Minute

// msgRefuse is a parent's word to a node it refuses, signed by its node
// key over the node's nonce, so that the node can show why.
const msgRefuse byte = 'R'

// refusalClaim is what a parent signs when it refuses a node.
func refusalClaim(nonce []byte, parent, node, reason string) []byte {
	return append(memberClaim(nonce, parent, node), "\x00refused\x00"+reason...)
}

// setProblem records what is wrong with the link to p ("" when nothing
// is) and logs a change once. r.mu held.
func (r *Replicator) setProblem(p *peer, problem string) {
	if p.problem == problem {
		return
	}
	old := p.problem
	p.problem = problem
	if problem == "" {
		r.log.Info("link problem gone", "member", p.name, "code", p.meta.Code, "node", p.meta.Name, "was", old)
		return
	}
	r.log.Warn("link problem", "member", p.name, "code", p.meta.Code, "node", p.meta.Name, "problem", problem, "fingerprint", p.meta.Key.Fingerprint())
}

// refuse notes that p is neither parent nor enrolled child and tells it
// why, once per reason and start of p. r.mu held; the message is sent by
// the caller's goroutine after unlocking (nil when nothing to send).
func (r *Replicator) refuse(p *peer) func() {
	if p.meta.Role != childRole(r.cfg.Node.Role) {
		return nil
	}
	reason := ProblemUnenrolled
	if en, ok := r.store.Enrolment(p.meta.Key); ok && en.Revoked {
		reason = ProblemRevoked
	}
	r.setProblem(p, reason)
	if p.refusedFor == reason+string(p.meta.Nonce) || p.node == nil || len(p.meta.Nonce) == 0 {
		return nil
	}
	p.refusedFor = reason + string(p.meta.Nonce)
	sig := r.store.Signer().ProveMember(refusalClaim(p.meta.Nonce, r.name, p.name, reason))
	node, msg := p.node, r.encodeControl(msgRefuse, control{From: r.name, Key: r.self.String(), Reason: reason, Sig: sig})
	return func() { r.send(node, msg) }
}

// handleRefusal takes a refusal from the parent, if the parent signed it.
func (r *Replicator) handleRefusal(c control) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.peers[c.From]
	if p == nil || p.meta.KeyH != c.Key || r.relationOf(p) != relParent || (c.Reason != ProblemUnenrolled && c.Reason != ProblemRevoked) ||
		!appliance.VerifyMember(p.meta.Key, refusalClaim(r.nonce, c.From, r.name, c.Reason), c.Sig) {
		r.rejected["unknown_peer"]++
		return
	}
	r.setProblem(p, c.Reason)
}

// noteClock compares the sender's clock (Unix ms, 0 if not sent) with
// this node's and says when it is far off, once per change. r.mu held.
func (r *Replicator) noteClock(p *peer, ms int64) {
	if ms == 0 {
		return
	}
	off := time.UnixMilli(ms).Sub(r.wall()).Round(time.Second)
	far := off > clockFarOff || off < -clockFarOff
	switch {
	case far && p.clockOff == 0:
		r.log.Warn("link problem", "member", p.name, "code", p.meta.Code, "node", p.meta.Name, "problem", "clock", "offset", off.String())
	case !far && p.clockOff != 0:
		r.log.Info("link problem gone", "member", p.name, "code", p.meta.Code, "node", p.meta.Name, "was", "clock")
	}
	if !far {
		off = 0
	}
	p.clockOff = off
}

// joined records the outcome of joining the parent: unreachable, or a
// cluster key the parent does not share.
func (r *Replicator) joined(err error) {
	problem := ""
	if err != nil {
		problem = ProblemUnreachable
		if isKeyError(err.Error()) {
			problem = ProblemKey
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.parentProblem == problem {
		return
	}
	old := r.parentProblem
	r.parentProblem = problem
	if problem == "" {
		r.log.Info("parent reachable", "parent", r.cfg.Node.Parent, "was", old)
		return
	}
	r.log.Warn("parent link problem", "parent", r.cfg.Node.Parent, "problem", problem, "err", err)
}

func isKeyError(s string) bool {
	s = strings.ToLower(s)
	return strings.Contains(s, "no installed keys could decrypt") || strings.Contains(s, "decrypt packet failed") ||
		strings.Contains(s, "encryption is configured but remote state is not encrypted") || strings.Contains(s, "remote state is encrypted and encryption is not configured")
}

var fromRE = regexp.MustCompile(`from=(\S+)`)

// keyFailure notes a message memberlist could not decrypt (its log line):
// a node at that host uses a cluster key this node does not have. Said
// once per host until the host is heard from with a shared key.
func (r *Replicator) keyFailure(line string) {
	m := fromRE.FindStringSubmatch(line)
	if m == nil {
		return
	}
	host, _, err := net.SplitHostPort(m[1])
	if err != nil {
		host = m[1]
	}
	keys := r.Keys() // before r.mu: memberlist may log holding its locks
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	for h, at := range r.keyFailures {
		if now.Sub(at) > keyFailureFor {
			delete(r.keyFailures, h)
		}
	}
	if _, known := r.keyFailures[host]; !known {
		if len(r.keyFailures) >= maxEarlyMembers {
			return
		}
		r.log.Warn("link problem: a node uses a cluster key this node does not have", "host", host, "node", r.nameAt(host), "problem", ProblemKey, "keys", keys)
	}
	r.keyFailures[host] = now
}

// keyFailureFor is how long a host that sent undecryptable messages is shown.
const keyFailureFor = 10 * time.Minute

// nameAt names the member or remembered child at host, "" if none. r.mu held.
func (r *Replicator) nameAt(host string) string {
	for _, p := range r.peers {
		if p.node != nil && p.node.Addr.String() == host {
			return p.meta.Name + " " + p.meta.Code
		}
	}
	for code, addr := range r.childAddrs {
		if h, _, err := net.SplitHostPort(addr.Addr); err == nil && h == host {
			return addr.Name + " " + code
		}
	}
	return ""
}

// heardFrom forgets a host's key failures: a member there got through.
// r.mu held.
func (r *Replicator) heardFrom(n *memberlist.Node) {
	if n != nil {
		delete(r.keyFailures, n.Addr.String())
	}
}

// LinkNote is a problem of this node's links not tied to a member: the
// parent cannot be joined, or a host sent messages under another key.
type LinkNote struct {
	Problem string // ProblemUnreachable or ProblemKey
	Host    string // where: the parent's address, or the host that sent
	Node    string // its name and code when known
	Since   time.Time
}

// Notes returns the link problems not tied to a member.
func (r *Replicator) Notes() []LinkNote {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []LinkNote
	if r.parentProblem != "" {
		out = append(out, LinkNote{Problem: r.parentProblem, Host: r.cfg.Node.Parent})
	}
	var hosts []string
	for h, at := range r.keyFailures {
		if time.Since(at) <= keyFailureFor {
			hosts = append(hosts, h)
		}
	}
	sort.Strings(hosts)
	for _, h := range hosts {
		out = append(out, LinkNote{Problem: ProblemKey, Host: h, Node: r.nameAt(h), Since: r.keyFailures[h]})
	}
	return out
}

// childAddr is where an enrolled child was last met, kept in the store so
// that a restarted parent joins its children at once instead of waiting
// for each to notice (docs/replication.md, "Back in step").
type childAddr struct {
	Addr string `json:"a"`
	Name string `json:"n"`
}

const localChildAddrs = "replicate/children"

// rememberChild keeps a verified child's address; it reports whether it
// changed (then saveChildren is due). r.mu held.
func (r *Replicator) rememberChild(p *peer) bool {
	if p.node == nil || r.relationOf(p) != relChild {
		return false
	}
	a := childAddr{Addr: p.node.Address(), Name: p.meta.Name}
	if r.childAddrs[p.meta.Code] == a {
		return false
	}
	r.childAddrs[p.meta.Code] = a
	return true
}

func (r *Replicator) saveChildren() {
	r.mu.Lock()
	addrs := maps.Clone(r.childAddrs)
	r.mu.Unlock()
	if err := r.store.Update(func(tx *bolt.Tx) error { return tx.PutJSON("local", localChildAddrs, addrs) }); err != nil {
		r.log.Error("remember children", "err", err)
	}
}

// joinChildren joins the children met before this start, on its own
// goroutine: a dead child's address can take memberlist's TCPTimeout.
func (r *Replicator) joinChildren() {
	var addrs []string
	r.store.Read(func(tx *bolt.Tx) error {
		tx.GetJSON("local", localChildAddrs, &r.childAddrs)
		return nil
	})
	for _, a := range r.childAddrs {
		addrs = append(addrs, a.Addr)
	}
	if len(addrs) == 0 {
		return
	}
	sort.Strings(addrs)
	go func() {
		n, err := r.ml.Join(addrs)
		r.log.Info("joined the children met before", "children", len(addrs), "reached", n, "err", err)
	}()
}

// encodeControl is encodeControl with this node's wall clock in it.
func (r *Replicator) encodeControl(t byte, c control) []byte {
	c.Time = r.wall().UnixMilli()
	return encodeControl(t, c)
}

// wall is this node's wall clock: the store's, which tests may set.
func (r *Replicator) wall() time.Time {
	if c := r.store.Clock(); c != nil && c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
