package replicate

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"maps"
	"time"

	"github.com/hashicorp/memberlist"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// The protocol, per pair of nodes and direction (docs/replication.md):
//
//	sender → receiver  offer: sender's heads of the feeds it would send
//	receiver → sender  want:  receiver's heads of those it accepts
//	sender → receiver  batch: entries after the receiver's heads, bounded
//	receiver → sender  want:  again, after storing (ack and next request)
//
// One batch is in flight per peer (stop and wait): a slow link slows the
// sender instead of filling the receiver's queue.

// syncLoop offers heads to peers when entries are committed, when members
// change, when something a peer was given time for is due (a proof, an
// answer) and every SyncInterval.
func (r *Replicator) syncLoop(ctx context.Context) {
	defer r.wg.Done()
	tick := time.Now().Add(r.cfg.SyncInterval)
	for {
		wake := tick
		if due := r.nextDue(); !due.IsZero() && due.Before(wake) {
			wake = due
		}
		t := time.NewTimer(max(time.Until(wake), 10*time.Millisecond))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-r.kick:
			t.Stop()
			// Gather the commits of a burst into one offer.
			select {
			case <-ctx.Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
		if now := time.Now(); !now.Before(tick) {
			tick = now.Add(r.cfg.SyncInterval)
		}
		r.offerAll()
		r.askPhotos()
	}
}

// Retrying the parent: the first try comes soon after a failure, a
// membership change or an unanswered offer, and the tries slow down to
// maxRetry while the parent stays away (a dial over a dead link can take
// memberlist's TCPTimeout, hence a goroutine of its own).
const (
	minRetry = 100 * time.Millisecond
	maxRetry = time.Second
	// answerWait is how long the parent may take to answer an offer
	// before this node joins it again: a parent that restarted does not
	// know this node until then. Over a 300 ms link an answer takes ~1 s.
	answerWait = 1500 * time.Millisecond
)

// parentLoop joins the parent's cluster at start and again whenever the
// parent is gone, failed to take a message or left an offer unanswered.
func (r *Replicator) parentLoop(ctx context.Context) {
	defer r.wg.Done()
	if r.cfg.Node.Parent == "" {
		return
	}
	wait, backoff := time.Duration(0), minRetry
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-r.parentKick:
			t.Stop()
		case <-t.C:
		}
		if !r.parentMissing() {
			wait, backoff = r.cfg.SyncInterval, minRetry
			continue
		}
		_, err := r.ml.Join([]string{r.cfg.Node.Parent})
		r.joined(err)
		// Tried: the next try only after the backoff, unless the parent
		// answers meanwhile (parentMissing is then false).
		wait, backoff = backoff, min(2*backoff, maxRetry)
		select {
		case <-r.parentKick: // what the join itself caused
		default:
		}
	}
}

// parentMissing reports whether this node should join its parent: no
// parent is alive, or the live one refused a message or did not answer.
func (r *Replicator) parentMissing() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.peers {
		if p.alive && r.relationOf(p) == relParent {
			return p.stale
		}
	}
	return true
}

// wakeParent makes parentLoop look at the parent now.
func (r *Replicator) wakeParent() {
	select {
	case r.parentKick <- struct{}{}:
	default:
	}
}

// nextDue is the earliest time something waits for: a member's unasked
// proof (then it is challenged), an answer to an offer (then the offer is
// repeated, and the parent joined again). Zero if nothing.
func (r *Replicator) nextDue() time.Time {
	var due time.Time
	at := func(t time.Time) {
		if !t.IsZero() && (due.IsZero() || t.Before(due)) {
			due = t
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.peers {
		if !p.alive || r.relationOf(p) == relNone {
			continue
		}
		if !p.verified {
			at(p.challengeUntil)
		}
		at(p.inflightUntil)
		if !p.offerAt.IsZero() {
			at(p.offerAt.Add(answerWait))
		}
	}
	return due
}

// offerAll sends an offer to each peer that has something to receive and
// no batch in flight.
func (r *Replicator) offerAll() {
	hs, err := r.store.Heads()
	if err != nil {
		r.log.Error("read heads", "err", err)
		return
	}
	mine := map[appliance.FeedID]uint64{}
	for _, h := range hs {
		mine[h.Feed] = h.Seq
	}
	type out struct {
		node *memberlist.Node
		msg  []byte
	}
	var outs []out
	now := time.Now()
	// Asked before r.mu: memberlist calls memberEvent (which takes r.mu)
	// holding its node lock, which LocalNode needs (a deadlock seen under load).
	self := r.ml.LocalNode().Address()
	r.mu.Lock()
	promoted := r.promote(now) // places freed by grants that ran out
	stale := false
	for _, p := range r.peers {
		if !p.alive {
			continue
		}
		rel := r.relationOf(p)
		if rel == relParent && !p.offerAt.IsZero() && now.Sub(p.offerAt) >= answerWait && !p.stale {
			// No answer: a parent that restarted does not know us until
			// we join it again.
			p.stale, stale = true, true
		}
		if now.Before(p.inflightUntil) || rel == relNone {
			continue
		}
		if len(p.meta.Nonce) > 0 && p.provedFor != string(p.meta.Nonce) && p.node != nil {
			// Prove our key unasked: one message less on a new link.
			p.provedFor = string(p.meta.Nonce)
			sig := r.store.Signer().ProveMember(unaskedClaim(p.meta.Nonce, p.name, r.name, self, r.nonce))
			outs = append(outs, out{p.node, r.encodeControl(msgProof, control{From: r.name, Key: r.self.String(), Sig: sig, Nonce: p.meta.Nonce})})
		}
		if !p.verified {
			if now.After(p.challengeUntil) {
				p.challenge = make([]byte, 32)
				rand.Read(p.challenge)
				p.challengeUntil = now.Add(max(2*r.cfg.SyncInterval, time.Second))
				r.challenges++
				outs = append(outs, out{p.node, r.encodeControl(msgChallenge, control{From: r.name, Key: r.self.String(), Nonce: p.challenge})})
				if rel == relChild && p.meta.Role == appliance.NodeVillage && r.grant(p, nil, now) {
					// Its feed asked for along with the challenge (it holds
					// no data: our head of the village's own feed). The
					// village keeps it until our proof checks, and sends at
					// once: over a slow link every message costs 1.5 round
					// trips. Its batch is taken only once its proof checks.
					f := p.meta.Key.String()
					p.offered = heads{f: 0}
					outs = append(outs, out{p.node, r.encodeControl(msgWant, control{From: r.name, Key: r.self.String(), Heads: heads{f: mine[p.meta.Key]}})})
				}
			}
			continue
		}
		feeds := r.sendFeeds(p.meta, rel)
		if len(feeds) == 0 {
			continue
		}
		offer := heads{}
		ahead := false
		for _, f := range feeds {
			offer[f.String()] = mine[f]
			if p.theirs == nil || p.theirs[f.String()] < mine[f] {
				ahead = true
			}
		}
		// Offer when there is news, and now and then anyway: the peer may
		// have been restored from an older backup.
		if !ahead && now.Sub(p.lastOffer) < 20*r.cfg.SyncInterval {
			continue
		}
		p.lastOffer = now
		// An offer is tiny: if no answer comes (e.g. refused before this node
		// was enrolled), offer again soon.
		p.inflightUntil = now.Add(min(r.cfg.AckTimeout, max(2*r.cfg.SyncInterval, time.Second)))
		if p.offerAt.IsZero() {
			p.offerAt = now
		}
		outs = append(outs, out{p.node, r.encodeControl(msgOffer, control{From: r.name, Key: r.self.String(), Heads: offer})})
	}
	r.mu.Unlock()
	if stale {
		r.wakeParent()
	}
	r.sendGranted(promoted)
	for _, o := range outs {
		r.send(o.node, o.msg)
	}
}

func (r *Replicator) send(n *memberlist.Node, msg []byte) bool {
	if err := r.ml.SendReliable(n, msg); err != nil {
		r.log.Debug("send failed", "peer", n.Name, "err", err)
		r.mu.Lock()
		parent := false
		if p := r.peers[n.Name]; p != nil {
			p.forgetSent()
			if parent = r.relationOf(p) == relParent; parent {
				p.stale = true
			}
		}
		r.mu.Unlock()
		if parent {
			r.wakeParent()
		}
		return false
	}
	r.mu.Lock()
	if p := r.peers[n.Name]; p != nil {
		p.bytesSent += uint64(len(msg))
	}
	if msg[0] == msgPhoto {
		r.photoBytes += uint64(len(msg))
	}
	r.mu.Unlock()
	return true
}

// receive queues a message for the inbox loop; when the queue is full the
// message is dropped and the sender retries after its ack timeout.
//
// Batches and photos go to the inbox, whose loop stores them (seconds for
// a big batch); the small control messages (challenges, proofs, offers,
// wants) to a loop of their own, so that a town receiving from many
// villages still answers the others' proofs and offers at once, and their
// clocks are read from messages that did not wait in line.
func (r *Replicator) receive(b []byte) {
	if b[0] != msgBatch && b[0] != msgPhoto {
		r.ctrlQueued.Add(1)
		select {
		case r.ctrl <- b:
		default:
			r.ctrlQueued.Add(-1)
			r.reject("overload", 1)
		}
		return
	}
	// Bound the bytes waiting too, not only the count: a box may have 1 GB.
	if r.queued.Add(int64(len(b))) > maxQueuedBytes {
		r.queued.Add(-int64(len(b)))
		r.reject("overload", 1)
		return
	}
	select {
	case r.inbox <- b:
	default:
		r.queued.Add(-int64(len(b)))
		r.reject("overload", 1)
	}
}

// maxQueuedBytes bounds the received messages waiting to be handled.
const maxQueuedBytes = 48 << 20

// handleLoop handles the messages of one queue (inbox or ctrl), calling
// done after each.
func (r *Replicator) handleLoop(ctx context.Context, q <-chan []byte, done func([]byte)) {
	defer r.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case b := <-q:
			r.handle(b)
			done(b)
		}
	}
}

// handle dispatches one message. It never panics on bad input.
func (r *Replicator) handle(b []byte) {
	defer func() {
		if v := recover(); v != nil {
			r.log.Error("message handler failed; message dropped", "panic", v)
			r.reject("malformed", 1)
		}
	}()
	switch b[0] {
	case msgChallenge:
		c, err := decodeControl(b[1:])
		if err != nil || len(c.Nonce) != 32 {
			r.reject("malformed", 1)
			return
		}
		r.answerChallenge(c)
	case msgProof:
		c, err := decodeControl(b[1:])
		if err != nil {
			r.reject("malformed", 1)
			return
		}
		r.checkProof(c)
	case msgRefuse:
		c, err := decodeControl(b[1:])
		if err != nil {
			r.reject("malformed", 1)
			return
		}
		r.handleRefusal(c)
	case msgOffer, msgWant, msgPhotoWant:
		c, err := decodeControl(b[1:])
		if err != nil {
			r.reject(reasonOf(err), 1)
			return
		}
		p, rel, reason := r.sender(c.From, c.Key, len(b))
		if reason == reasonUnproven {
			r.keepEarly(c.From, b)
			return
		} else if reason != "" {
			r.reject(reason, 1)
			return
		}
		r.mu.Lock()
		r.noteClock(p.peer, c.Time)
		r.mu.Unlock()
		switch b[0] {
		case msgOffer:
			r.handleOffer(p, rel, c.Heads)
		case msgWant:
			r.handleWant(p, rel, c.Heads)
		default:
			r.mu.Lock()
			r.photoBytes += uint64(len(b)) // the photo traffic, both ways
			r.mu.Unlock()
			r.handlePhotoWant(p, rel, c.Photos)
		}
	case msgPhoto:
		h, data, err := decodePhoto(b[1:])
		if err != nil {
			r.reject(reasonOf(err), 1)
			return
		}
		p, _, reason := r.sender(h.From, h.Key, len(b))
		if reason != "" {
			r.reject(reason, 1)
			return
		}
		r.handlePhoto(p, h, data)
	case msgBatch:
		h, entries, err := decodeBatch(b[1:])
		if err != nil {
			r.log.Warn("batch refused", "err", err)
			n := 1 // the header's count is not to be trusted when too big
			if h.Count > 0 && h.Count <= maxBatchEntries {
				n = h.Count
			}
			r.reject(reasonOf(err), n)
			return
		}
		p, rel, reason := r.sender(h.From, h.Key, len(b))
		if reason == reasonUnproven && r.keepEarly(h.From, b) {
			return // a batch can overtake its sender's proof on a lossy link
		} else if reason != "" {
			r.reject(reason, len(entries))
			return
		}
		r.handleBatch(p, rel, entries)
	default:
		r.reject("malformed", 1)
	}
}

// sender finds the member a message claims to come from and checks that
// its metadata carries the same key, that it proved that key, and that it
// is the parent or an enrolled child. It returns why not, for /metrics.
func (r *Replicator) sender(name, key string, size int) (peerRef, relation, string) {
	r.mu.Lock()
	p := r.peers[name]
	if p == nil {
		r.mu.Unlock()
		return peerRef{}, relNone, reasonUnproven // its join may not have reached us yet
	}
	if p.meta.KeyH != key {
		r.mu.Unlock()
		return peerRef{}, relNone, "unknown_peer"
	}
	rel := r.relationOf(p)
	if rel == relNone {
		// Said once per member and reason (it will keep trying), and told
		// to the member, which shows it.
		tell := r.refuse(p)
		r.mu.Unlock()
		if tell != nil {
			tell()
		}
		return peerRef{}, relNone, "unenrolled"
	}
	defer r.mu.Unlock()
	if !p.verified {
		// Data flows only between peers that proved their keys.
		return peerRef{}, relNone, reasonUnproven
	}
	p.heard()
	if p.problem == ProblemUnenrolled || p.problem == ProblemRevoked {
		r.setProblem(p, "") // it takes our messages now
	}
	r.heardFrom(p.node)
	p.bytesRecv += uint64(size)
	return peerRef{p, p.node, p.meta}, rel, ""
}

// peerRef is a peer with a copy of what memberlist may change meanwhile.
type peerRef struct {
	*peer
	node *memberlist.Node
	meta NodeMeta
}

// memberClaim is what a challenged node signs: the nonce and both names,
// so that an answer cannot be replayed to another node or for another name.
func memberClaim(nonce []byte, challenger, answerer string) []byte {
	return append(append([]byte(nil), nonce...), "\x00"+challenger+"\x00"+answerer...)
}

// unaskedClaim is what a node signs to prove its key to a member that has
// not challenged it: that member's nonce from its metadata (new at each
// start), both names, and the prover's own address and nonce as the
// cluster knows them. A verifier takes one such proof per prover nonce, so
// a proof replayed by a node that took over the name (at another address,
// or at the same one while the prover is down) fails: its signature names
// the old nonce, which was used.
func unaskedClaim(nonce []byte, verifier, prover, proverAddr string, proverNonce []byte) []byte {
	c := append(memberClaim(nonce, verifier, prover), "\x00unasked\x00"+proverAddr+"\x00"...)
	return append(c, proverNonce...)
}

// unaskedProofWait is how long a new member is given to prove its key
// unasked before it is challenged.
const unaskedProofWait = 2 * time.Second

// answerChallenge signs a nonce for the member that sent it.
func (r *Replicator) answerChallenge(c control) {
	r.mu.Lock()
	p := r.peers[c.From]
	var node *memberlist.Node
	if p != nil {
		node = p.node
		// A challenge means the peer (re)started its side of the link: a
		// batch in flight to it is lost, and its wants are new.
		p.forgetSent()
	}
	r.mu.Unlock()
	if node == nil {
		r.keepEarly(c.From, encodeControl(msgChallenge, c))
		return
	}
	sig := r.store.Signer().ProveMember(memberClaim(c.Nonce, c.From, r.name))
	r.send(node, r.encodeControl(msgProof, control{From: r.name, Key: r.self.String(), Sig: sig}))
}

// checkProof marks a peer verified when it signed our nonce with its key.
func (r *Replicator) checkProof(c control) {
	r.mu.Lock()
	p := r.peers[c.From]
	if p == nil {
		r.mu.Unlock()
		r.keepEarly(c.From, encodeControl(msgProof, c)) // before its join
		return
	}
	var claim []byte
	unasked := c.Nonce != nil && bytes.Equal(c.Nonce, r.nonce)
	switch {
	case unasked && p.node != nil && len(p.meta.Nonce) > 0 && r.unaskedUsed[p.name] != string(p.meta.Nonce):
		claim = unaskedClaim(r.nonce, r.name, p.name, p.node.Address(), p.meta.Nonce)
	case c.Nonce == nil && p.challenge != nil:
		claim = memberClaim(p.challenge, r.name, p.name)
	}
	ok := claim != nil && p.meta.KeyH == c.Key && appliance.VerifyMember(p.meta.Key, claim, c.Sig)
	if !ok && unasked && (!p.verified || claim == nil) {
		// Signed for what the member is now, which may not have reached
		// us yet (a restarted node's new nonce, key or address): kept and
		// checked again when its update comes (memberEvent), rather than
		// dropped and left to a challenge 2 s later. That includes a
		// member still verified under its old nonce, whose proof is used:
		// a parent killed and restarted before this node noticed (or a
		// replay, refused now and again after an update: counted).
		if p.verified {
			r.rejected["unknown_peer"]++
		}
		r.mu.Unlock()
		r.keepEarly(c.From, encodeControl(msgProof, c))
		return
	}
	if claim == nil || p.meta.KeyH != c.Key {
		r.rejected["unknown_peer"]++
		r.mu.Unlock()
		return
	}
	if !ok {
		r.rejected["unknown_peer"]++
		r.setProblem(p, ProblemProof)
		r.mu.Unlock()
		return
	}
	if p.problem == ProblemProof {
		r.setProblem(p, "")
	}
	r.noteClock(p, c.Time)
	if c.Nonce != nil {
		r.unaskedUsed[p.name] = string(p.meta.Nonce) // this proof once only
	}
	p.verified, p.challenge = true, nil
	p.heard()
	askChild := r.relationOf(p) == relChild && p.meta.Role == appliance.NodeVillage
	ref := peerRef{p, p.node, p.meta}
	moved := r.rememberChild(p)
	r.heardFrom(p.node)
	r.mu.Unlock()
	if moved {
		r.saveChildren()
	}
	r.poke()
	// What the peer sent before it proved its key; and a village's own
	// feed asked for at once rather than after its offer (over a slow link
	// every message is a new TCP connection: 1.5 round trips).
	r.replayEarly(p.name)
	if askChild {
		r.handleOffer(ref, relChild, heads{p.meta.Key.String(): 0})
	}
}

// handleOffer answers with what this node holds of the offered feeds it accepts.
func (r *Replicator) handleOffer(p peerRef, rel relation, offer heads) {
	want := heads{}
	r.mu.Lock()
	p.offered = heads{}
	for fh, seq := range offer {
		f, err := appliance.ParseFeedID(fh)
		if err != nil || !r.acceptsOffer(p.meta, rel, f) || len(p.offered) >= maxDownFeeds {
			continue
		}
		p.offered[fh] = seq
	}
	r.mu.Unlock()
	hs, err := r.store.Heads()
	if err != nil {
		r.log.Error("read heads", "err", err)
		return
	}
	r.mu.Lock()
	for fh := range p.offered {
		want[fh] = 0
	}
	r.mu.Unlock()
	for _, h := range hs {
		if _, ok := want[h.Feed.String()]; ok {
			want[h.Feed.String()] = h.Seq
		}
	}
	r.mu.Lock()
	ok := !expectsBatch(p.offered, want) || r.grant(p.peer, want, time.Now())
	r.mu.Unlock()
	if ok { // else it waits in line (grant.go)
		r.send(p.node, r.encodeControl(msgWant, control{From: r.name, Key: r.self.String(), Heads: want}))
	}
}

// handleWant sends the next batch, or ends the exchange when the peer has
// everything. While the peer stores a batch, the one after it is read and
// compressed (on the guess that the peer will take this one), so that the
// two overlap; a want that does not match the guess rebuilds the batch.
func (r *Replicator) handleWant(p peerRef, rel relation, want heads) {
	r.mu.Lock()
	if p.sentFor != nil && maps.Equal(p.sentFor, want) && time.Now().Before(p.sentUntil) {
		// The same want again (the answer to an offer that crossed the
		// batch, e.g. after the parent asked first): the batch is on its way.
		r.mu.Unlock()
		return
	}
	p.theirs = want
	limit := p.batchBytes
	next := p.next
	p.next = nil
	r.mu.Unlock()
	b := next
	if b == nil || !maps.Equal(b.want, want) {
		var err error
		if b, err = r.buildBatch(p, rel, want, limit); err != nil {
			r.log.Error("build batch", "err", err)
			return
		}
	}
	if b.count == 0 {
		r.mu.Lock()
		p.inflightUntil = time.Time{}
		r.mu.Unlock()
		return
	}
	r.mu.Lock()
	p.inflightUntil = time.Now().Add(r.cfg.AckTimeout)
	p.sentFor, p.sentUntil = want, p.inflightUntil
	r.mu.Unlock()
	// Send from its own goroutine: a slow link must not hold up the inbox.
	sent := r.goSend(&p.batchSends, func() {
		start := time.Now()
		if !r.send(p.node, b.msg) {
			return
		}
		d := time.Since(start)
		r.mu.Lock()
		p.entriesSent += uint64(b.count)
		switch {
		case d > 10*time.Second && p.batchBytes > 64<<10:
			p.batchBytes /= 2
		case d < time.Second && p.batchBytes < r.cfg.MaxBatchBytes:
			p.batchBytes *= 2
		}
		limit := p.batchBytes
		r.mu.Unlock()
		nb, err := r.buildBatch(p, rel, b.after, limit)
		if err != nil || nb.count == 0 {
			return
		}
		r.mu.Lock()
		if p.theirs == nil || maps.Equal(p.theirs, want) { // not answered yet
			p.next = nb
		}
		r.mu.Unlock()
	})
	if !sent {
		r.mu.Lock()
		p.forgetSent()
		r.mu.Unlock()
	}
}

// maxSendsPerPeer bounds the sending goroutines for one peer. A peer asks
// for one batch (or one set of photos) at a time; the second allows for an
// answer that comes before the last send has returned.
const maxSendsPerPeer = 2

// goSend runs send on its own goroutine unless maxSendsPerPeer of its kind
// (running counts them, a field of the peer) already run: a peer that asks
// for more is not served beyond that, and counted as overload (a genuine
// one asks again after its timeout).
func (r *Replicator) goSend(running *int, send func()) bool {
	r.mu.Lock()
	if *running >= maxSendsPerPeer {
		r.rejected["overload"]++
		r.mu.Unlock()
		return false
	}
	*running++
	r.mu.Unlock()
	go func() {
		defer func() {
			r.mu.Lock()
			*running--
			r.mu.Unlock()
		}()
		send()
	}()
	return true
}

// batch is an encoded batch for a peer: what it was built for (the peer's
// heads), the heads after it, and the message.
type batch struct {
	want, after heads
	count       int
	msg         []byte
}

// buildBatch reads and encodes the entries after want of the feeds the
// peer takes, up to about limit bytes.
func (r *Replicator) buildBatch(p peerRef, rel relation, want heads, limit int) (*batch, error) {
	var es []*appliance.Entry
	size := 0
	strip := r.stripSealed(rel)
	after := maps.Clone(want)
	for _, f := range r.sendFeeds(p.meta, rel) {
		seq, ok := want[f.String()]
		if !ok {
			continue // the peer does not take this feed
		}
		// Past the limit only to reach a signed entry: a relayed feed
		// holds signatures only where its batches ended (encodeBatch).
		runEnd := func() bool { return len(es) > 0 && es[len(es)-1].Feed == f && !es[len(es)-1].Signed() }
		for size < limit || runEnd() {
			got, err := r.store.Entries(f, seq+1, 512)
			if err != nil {
				return nil, err
			}
			if len(got) == 0 {
				break
			}
			for _, e := range got {
				if size >= limit && !runEnd() {
					break
				}
				if strip && e.Sealed != nil {
					e = e.Redacted()
				}
				es = append(es, e)
				size += len(e.Body) + len(e.Sealed) + 200
				seq = e.Seq
			}
		}
		// A head is always signed; should a store break that, send the run
		// up to its last signature.
		for runEnd() {
			es = es[:len(es)-1]
		}
		if len(es) > 0 && es[len(es)-1].Feed == f {
			after[f.String()] = es[len(es)-1].Seq
		}
	}
	b := &batch{want: want, after: after, count: len(es)}
	if len(es) == 0 {
		return b, nil
	}
	var err error
	if p.meta.Wire >= wireVersion {
		b.msg, _, err = encodeBatchV2(r.name, r.self, es, r.saltKeys(p.meta, rel, strip))
	} else {
		b.msg, _, err = encodeBatch(r.name, r.self, es)
	}
	return b, err
}

// saltKeys are the salt keys of the feeds this node writes and sends to p
// with their sealed parts: the receiver gets the key once per batch and
// computes each salt (appliance.SealSalt) instead of receiving it.
func (r *Replicator) saltKeys(meta NodeMeta, rel relation, strip bool) map[appliance.FeedID][]byte {
	if strip {
		return nil
	}
	keys := map[appliance.FeedID][]byte{}
	switch rel {
	case relParent:
		if r.cfg.Node.Role == appliance.NodeVillage {
			keys[r.self] = r.store.Signer().SaltKey()
		}
	case relChild:
		if sg, err := r.store.Signer().Down(meta.Code); err == nil {
			keys[sg.Feed] = sg.SaltKey()
		}
	}
	return keys
}

// handleBatch checks scope, stores the entries and acknowledges.
func (r *Replicator) handleBatch(p peerRef, rel relation, entries []*appliance.Entry) {
	if !r.checkScope(p.meta, rel, entries) {
		r.log.Warn("batch refused: feed out of scope", "peer", p.name)
		r.reject("scope", len(entries))
		return
	}
	n, err := r.store.IngestBatch(entries)
	r.mu.Lock()
	promoted := r.release(p.name, time.Now())
	r.mu.Unlock()
	r.sendGranted(promoted)
	if err != nil {
		r.log.Warn("batch refused", "peer", p.name, "err", err)
		r.reject(reasonOf(err), len(entries))
		return // no ack: the sender retries after its timeout
	}
	r.mu.Lock()
	p.entriesRecv += uint64(n)
	offered := p.offered
	r.mu.Unlock()
	r.handleOffer(p, rel, offered) // the ack, and a grant (or a place in line) for the next
}

// reasonOf names a refusal for /metrics.
func reasonOf(err error) string {
	var ie *bolt.IngestError
	switch {
	case errors.Is(err, errOversized):
		return "oversized"
	case errors.Is(err, errMalformed), errors.Is(err, appliance.ErrMalformed):
		return "malformed"
	case errors.Is(err, appliance.ErrBadSignature):
		return "signature"
	case errors.Is(err, appliance.ErrBrokenChain):
		return "chain"
	case errors.Is(err, appliance.ErrBadSequence):
		return "sequence"
	case errors.Is(err, appliance.ErrBadSeal):
		return "seal"
	case errors.As(err, &ie):
		return "invalid"
	}
	return "storage"
}

// reasonUnproven marks a message from a member that has not proved its key
// yet, or whose join has not reached this node: kept (keepEarly) rather
// than refused, since over a slow link the messages of a new link cross.
const reasonUnproven = "unproven"

// earlyMessages are the latest control messages of each type from one
// member, kept until it joins and proves its key.
type earlyMessages struct {
	at   time.Time
	msgs map[byte][]byte
}

const (
	maxEarlyMembers = 64
	maxEarlyBytes   = 16 << 20 // a few batches
	earlyFor        = 30 * time.Second
)

// keepEarly keeps b until its sender joins (a challenge) or proves its key
// (offer, want, photo request, batch); an older one of the same type is
// dropped. It reports false when b is not kept (too many members or bytes
// waiting): the sender repeats it after its timeout.
func (r *Replicator) keepEarly(name string, b []byte) bool {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for n, e := range r.early {
		if now.Sub(e.at) > earlyFor {
			r.dropEarly(n)
		}
	}
	e := r.early[name]
	if e == nil {
		if len(r.early) >= maxEarlyMembers {
			r.rejected["unknown_peer"]++
			return false
		}
		e = &earlyMessages{msgs: map[byte][]byte{}}
		r.early[name] = e
	}
	if r.earlyBytes-len(e.msgs[b[0]])+len(b) > maxEarlyBytes {
		r.rejected["unknown_peer"]++
		return false
	}
	r.earlyBytes += len(b) - len(e.msgs[b[0]])
	e.at = now
	e.msgs[b[0]] = bytes.Clone(b)
	return true
}

// dropEarly forgets what a member sent early. r.mu held.
func (r *Replicator) dropEarly(name string) {
	if e := r.early[name]; e != nil {
		for _, b := range e.msgs {
			r.earlyBytes -= len(b)
		}
		delete(r.early, name)
	}
}

// replayEarly handles again what a member sent too early: challenges once
// it is known, the rest once it has proved its key.
func (r *Replicator) replayEarly(name string) {
	r.mu.Lock()
	e := r.early[name]
	p := r.peers[name]
	var out [][]byte
	if e != nil && p != nil && time.Since(e.at) <= earlyFor {
		for t, b := range e.msgs {
			if t == msgChallenge || t == msgProof || p.verified {
				out = append(out, b)
				r.earlyBytes -= len(b)
				delete(e.msgs, t)
			}
		}
		if len(e.msgs) == 0 {
			delete(r.early, name)
		}
	}
	r.mu.Unlock()
	for _, b := range out {
		r.receive(b)
	}
}
