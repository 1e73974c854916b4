package replicate

// delegate adapts memberlist.Delegate to the replicator. Memberlist cannot
// take errors back: bad input is logged and dropped, never a panic.
type delegate struct{ r *Replicator }

func (d delegate) NodeMeta(limit int) []byte {
	if len(d.r.meta) > limit {
		d.r.log.Error("node metadata too long; sent none", "bytes", len(d.r.meta), "limit", limit)
		return nil
	}
	return d.r.meta
}

// NotifyMsg receives a user message; the buffer is memberlist's, so copy it.
func (d delegate) NotifyMsg(b []byte) {
	if len(b) == 0 {
		return
	}
	b = append([]byte(nil), b...)
	if d.r.tap != nil {
		d.r.tap(b)
	}
	d.r.receive(b)
}

// Heads and entries go in messages of their own, not in gossip.
func (d delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d delegate) LocalState(join bool) []byte                { return nil }
func (d delegate) MergeRemoteState(buf []byte, join bool)     {}
