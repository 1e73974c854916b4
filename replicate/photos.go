package replicate

import (
	"encoding/binary"
	"encoding/json"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// Photos of cases travel beside the ledger (docs/replication.md, "Photos"):
// the receiver of an entry that refers to a photo it lacks asks the peer
// that sent the entry for it, naming the entry; the peer answers with the
// bytes only if it sends that entry's feed to the asker and the entry
// refers to the photo. One request of a few photos per peer at a time.
const (
	msgPhotoWant byte = 'F' // control with Photos: the photos asked for
	msgPhoto     byte = 'G' // one photo (or word that it is missing)

	photosPerRequest = 4
	// photoRetry is how long a photo the peer lacks is not asked for again.
	photoRetry = 10 * time.Minute
)

// photoRef names a photo and the entry that refers to it.
type photoRef struct {
	Sum  string `json:"s"`
	Feed string `json:"f"`
	Seq  uint64 `json:"n"`
}

// photoHeader precedes a photo's bytes.
type photoHeader struct {
	From    string `json:"f"`
	Key     string `json:"k"`
	Sum     string `json:"s"`
	Missing bool   `json:"m,omitempty"`
}

func encodePhoto(h photoHeader, data []byte) []byte {
	hdr, _ := json.Marshal(h)
	out := binary.AppendUvarint([]byte{msgPhoto}, uint64(len(hdr)))
	return append(append(out, hdr...), data...)
}

func decodePhoto(b []byte) (photoHeader, []byte, error) {
	var h photoHeader
	data, err := splitHeader(b, &h)
	return h, data, err
}

// sourceOf reports whether feed comes to this node from the peer: the
// peer's own feed, or a downward or upward feed the peer's key proved.
func (r *Replicator) sourceOf(meta NodeMeta, feed appliance.FeedID) bool {
	if feed == meta.Key {
		return true
	}
	d, ok := r.store.DownFeedOf(feed)
	return ok && d.Parent == meta.Key.String()
}

// askPhotos asks each verified peer for photos this node lacks of the
// feeds that peer sends, unless a request to it is still open.
func (r *Replicator) askPhotos() {
	if !r.store.WantsPhotos() {
		return
	}
	type ask struct {
		p    *peer
		meta NodeMeta
		rel  relation
	}
	var asks []ask
	now := time.Now()
	r.mu.Lock()
	for _, p := range r.peers {
		if p.alive && p.verified && now.After(p.photoUntil) {
			if rel := r.relationOf(p); rel != relNone {
				asks = append(asks, ask{p, p.meta, rel})
			}
		}
	}
	r.mu.Unlock()
	for _, a := range asks {
		refs, err := r.store.WantedPhotos(photosPerRequest, func(ref bolt.PhotoRef) bool {
			return r.acceptsOffer(a.meta, a.rel, ref.Feed) && r.sourceOf(a.meta, ref.Feed) && r.photoDue(ref.Sum, now)
		})
		if err != nil {
			r.log.Error("read wanted photos", "err", err)
			return
		}
		if len(refs) == 0 {
			continue
		}
		var c control
		c.From, c.Key = r.name, r.self.String()
		r.mu.Lock()
		a.p.photoUntil = now.Add(r.cfg.AckTimeout)
		a.p.photoAsked = map[string]bool{}
		for _, ref := range refs {
			c.Photos = append(c.Photos, photoRef{Sum: ref.Sum, Feed: ref.Feed.String(), Seq: ref.Seq})
			a.p.photoAsked[ref.Sum] = true
		}
		node := a.p.node
		r.mu.Unlock()
		r.send(node, encodeControl(msgPhotoWant, c))
	}
}

// photoDue is false for a while for a photo a peer said it lacks.
func (r *Replicator) photoDue(sum string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return now.After(r.photoMissing[sum])
}

// handlePhotoWant answers a peer's request with the photos it may have.
func (r *Replicator) handlePhotoWant(p peerRef, rel relation, refs []photoRef) {
	feeds := map[appliance.FeedID]bool{}
	for _, f := range r.sendFeeds(p.meta, rel) {
		feeds[f] = true
	}
	var msgs [][]byte
	for i, ref := range refs {
		if i == photosPerRequest {
			break
		}
		f, err := appliance.ParseFeedID(ref.Feed)
		if err != nil || !appliance.IsPhotoSum(ref.Sum) {
			r.reject("malformed", 1)
			continue
		}
		h := photoHeader{From: r.name, Key: r.self.String(), Sum: ref.Sum}
		if !feeds[f] {
			r.reject("scope", 1)
			h.Missing = true
			msgs = append(msgs, encodePhoto(h, nil))
			continue
		}
		data, ok, err := r.store.PhotoFor(bolt.PhotoRef{Sum: ref.Sum, Feed: f, Seq: ref.Seq})
		if err != nil {
			r.log.Error("read photo", "err", err)
			return
		}
		h.Missing = !ok
		msgs = append(msgs, encodePhoto(h, data))
	}
	r.goSend(&p.photoSends, func() {
		for _, m := range msgs {
			if !r.send(p.node, m) {
				return
			}
		}
	})
}

// handlePhoto stores a photo this node asked the peer for.
func (r *Replicator) handlePhoto(p peerRef, h photoHeader, data []byte) {
	r.mu.Lock()
	asked := p.photoAsked[h.Sum]
	delete(p.photoAsked, h.Sum)
	if len(p.photoAsked) == 0 {
		p.photoUntil = time.Time{} // all answered: ask for more
	}
	r.mu.Unlock()
	if !asked {
		r.reject("scope", 1)
		return
	}
	if h.Missing {
		r.photoLater(h.Sum)
		return
	}
	stored, err := r.store.PutPhoto(h.Sum, data)
	if err != nil {
		r.log.Warn("photo refused", "peer", p.name, "err", err)
		r.reject("invalid", 1)
		r.photoLater(h.Sum)
		return
	}
	if stored {
		r.mu.Lock()
		r.photosRecv++
		r.mu.Unlock()
	}
	r.poke()
}

// photoLater puts off asking for a photo the peer lacks or sent wrong.
func (r *Replicator) photoLater(sum string) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for s, until := range r.photoMissing {
		if now.After(until) {
			delete(r.photoMissing, s)
		}
	}
	r.photoMissing[sum] = now.Add(photoRetry)
}
