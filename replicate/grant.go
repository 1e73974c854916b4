package replicate

import (
	"slices"
	"time"

	"github.com/hashicorp/memberlist"
)

// A node receiving from many children at once (a town from its villages,
// a city from its towns) lets at most maxGrants of them send a batch at a
// time: a want that asks for a batch is a grant, and the others' wants
// wait in line (first come, first served) until a granted batch has been
// stored. Without it, forty villages answering at once filled the inbox;
// the batches it dropped were sent again only after the senders' ack
// timeout (90 s), and the queue held tens of megabytes.
const maxGrants = 4

// grantFor bounds how long a grant holds its place when no batch comes
// (the child had nothing after all, or went away).
func (r *Replicator) grantFor() time.Duration { return r.cfg.AckTimeout }

// expectsBatch reports whether answering offer with want asks for a
// batch: the peer offered more than this node holds of some feed, or did
// not say how much (0: a village's feed asked for before its offer).
func expectsBatch(offer, want heads) bool {
	for f, n := range offer {
		if n == 0 || n > want[f] {
			return true
		}
	}
	return false
}

// grant gives p a place to send a batch in, or puts it in line with its
// want, to be sent when a place frees (promote); with a nil want, it is
// not put in line. r.waiting holds exactly the peers with a waitingWant.
// r.mu held.
func (r *Replicator) grant(p *peer, want heads, now time.Time) bool {
	r.expireGrants(now)
	first := len(r.waiting) == 0 || r.waiting[0] == p.name
	if _, ok := r.grants[p.name]; ok || (len(r.grants) < maxGrants && first) {
		r.leaveLine(p)
		r.grants[p.name] = now.Add(r.grantFor())
		r.grantsSeen = max(r.grantsSeen, len(r.grants))
		return true
	}
	if want == nil {
		return false
	}
	if p.waitingWant == nil {
		r.waiting = append(r.waiting, p.name)
		r.waitingSeen = max(r.waitingSeen, len(r.waiting))
	}
	p.waitingWant = want
	return false
}

// leaveLine takes p out of the line. r.mu held.
func (r *Replicator) leaveLine(p *peer) {
	if p.waitingWant == nil {
		return
	}
	p.waitingWant = nil
	r.waiting = slices.DeleteFunc(r.waiting, func(n string) bool { return n == p.name })
}

// release frees the place of name (its batch was stored or refused, or
// it went away) and promotes those next in line. r.mu held; the caller
// sends what it returns.
func (r *Replicator) release(name string, now time.Time) []grantedWant {
	delete(r.grants, name)
	return r.promote(now)
}

func (r *Replicator) expireGrants(now time.Time) {
	for n, until := range r.grants {
		if now.After(until) {
			delete(r.grants, n)
		}
	}
}

// promote grants free places to those first in line, and returns their
// wants. r.mu held.
func (r *Replicator) promote(now time.Time) []grantedWant {
	r.expireGrants(now)
	var out []grantedWant
	for len(r.grants) < maxGrants && len(r.waiting) > 0 {
		n := r.waiting[0]
		r.waiting = r.waiting[1:]
		p := r.peers[n]
		if !p.alive || p.node == nil {
			p.waitingWant = nil
			continue
		}
		r.grants[n] = now.Add(r.grantFor())
		r.grantsSeen = max(r.grantsSeen, len(r.grants))
		out = append(out, grantedWant{p.node, p.waitingWant})
		p.waitingWant = nil
	}
	return out
}

// grantedWant is a want to send once r.mu is released.
type grantedWant struct {
	node *memberlist.Node
	want heads
}

// sendGranted sends the wants release granted.
func (r *Replicator) sendGranted(gs []grantedWant) {
	for _, g := range gs {
		r.send(g.node, r.encodeControl(msgWant, control{From: r.name, Key: r.self.String(), Heads: g.want}))
	}
}
