package replicate

import (
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"gridbox/appliance"
)

// PeerStatus is one other node as the town and city pages show it.
type PeerStatus struct {
	Name        string // memberlist name
	Role        string
	Code        string
	NodeName    string // 村/乡镇 name from its metadata
	Key         appliance.FeedID
	HTTP        string
	Relation    string // parent, child or none (not enrolled)
	Alive       bool
	LastContact time.Time
	Behind      uint64 // entries the receiving side lacks, as last heard
	BytesSent   uint64
	BytesRecv   uint64
	EntriesSent uint64
	EntriesRecv uint64
	// Problem is what is wrong with the link (Problem* in linkstate.go),
	// "" if nothing; ClockOffset how far the peer's clock is ahead of
	// this node's (negative: behind) when more than two minutes.
	Problem     string
	ClockOffset time.Duration
}

// Status lists the other members, by code.
func (r *Replicator) Status() []PeerStatus {
	mine := map[string]uint64{}
	if hs, err := r.store.Heads(); err == nil {
		for _, h := range hs {
			mine[h.Feed.String()] = h.Seq
		}
	}
	r.mu.Lock()
	out := make([]PeerStatus, 0, len(r.peers))
	for _, p := range r.peers {
		rel := r.relationOf(p)
		st := PeerStatus{
			Name: p.name, Role: p.meta.Role, Code: p.meta.Code, NodeName: p.meta.Name, Key: p.meta.Key, HTTP: p.meta.HTTP,
			Relation: rel.String(), Alive: p.alive, LastContact: p.lastContact,
			BytesSent: p.bytesSent, BytesRecv: p.bytesRecv, EntriesSent: p.entriesSent, EntriesRecv: p.entriesRecv,
			Problem: p.problem, ClockOffset: p.clockOff,
		}
		for fh, seq := range p.offered { // they have, we lack
			if seq > mine[fh] {
				st.Behind += seq - mine[fh]
			}
		}
		for _, f := range r.sendFeeds(p.meta, rel) { // we have, they lack
			if p.theirs != nil && mine[f.String()] > p.theirs[f.String()] {
				st.Behind += mine[f.String()] - p.theirs[f.String()]
			}
		}
		out = append(out, st)
	}
	r.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// Rejected returns the refused entries (or messages) by reason.
func (r *Replicator) Rejected() map[string]uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]uint64, len(r.rejected))
	for k, v := range r.rejected {
		out[k] = v
	}
	return out
}

// Collector returns a Prometheus collector for /metrics: per-peer lag,
// bytes, entries and last contact; refused entries by reason.
func (r *Replicator) Collector() prometheus.Collector { return collector{r} }

var (
	descLag      = prometheus.NewDesc("gridbox_replicate_peer_lag_entries", "Entries one side lacks, as last heard from the peer.", []string{"peer", "code", "relation"}, nil)
	descSent     = prometheus.NewDesc("gridbox_replicate_peer_sent_bytes_total", "Bytes sent to the peer (replication messages).", []string{"peer", "code", "relation"}, nil)
	descRecv     = prometheus.NewDesc("gridbox_replicate_peer_received_bytes_total", "Bytes received from the peer (replication messages).", []string{"peer", "code", "relation"}, nil)
	descEntSent  = prometheus.NewDesc("gridbox_replicate_peer_sent_entries_total", "Entries sent to the peer.", []string{"peer", "code", "relation"}, nil)
	descEntRecv  = prometheus.NewDesc("gridbox_replicate_peer_received_entries_total", "New entries stored from the peer.", []string{"peer", "code", "relation"}, nil)
	descContact  = prometheus.NewDesc("gridbox_replicate_peer_last_contact_seconds", "Unix time of the last accepted message from the peer.", []string{"peer", "code", "relation"}, nil)
	descAlive    = prometheus.NewDesc("gridbox_replicate_peer_alive", "1 if memberlist sees the peer alive.", []string{"peer", "code", "relation"}, nil)
	descRejected = prometheus.NewDesc("gridbox_replicate_rejected_total", "Entries or messages refused, by reason.", []string{"reason"}, nil)
	descPhotos   = prometheus.NewDesc("gridbox_replicate_photos_received_total", "Photos and voice messages of cases fetched from peers.", nil, nil)
	descPhotosW  = prometheus.NewDesc("gridbox_replicate_photos_wanted", "Photos and voice messages referred to by entries held, not yet fetched.", nil, nil)
	descGranted  = prometheus.NewDesc("gridbox_replicate_batches_granted", "Members asked for a batch and not yet answered (at most 4 at once).", nil, nil)
	descWaiting  = prometheus.NewDesc("gridbox_replicate_batches_waiting", "Members whose next batch waits in line for a place.", nil, nil)
	descPhotoB   = prometheus.NewDesc("gridbox_replicate_photo_sent_bytes_total", "Bytes of photo and voice messages sent and of the requests for them received (part of the peers' byte counts).", nil, nil)
)

type collector struct{ r *Replicator }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descLag, descSent, descRecv, descEntSent, descEntRecv, descContact, descAlive, descRejected, descPhotos, descPhotosW, descPhotoB, descGranted, descWaiting} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, p := range c.r.Status() {
		l := []string{p.Name, p.Code, p.Relation}
		ch <- prometheus.MustNewConstMetric(descLag, prometheus.GaugeValue, float64(p.Behind), l...)
		ch <- prometheus.MustNewConstMetric(descSent, prometheus.CounterValue, float64(p.BytesSent), l...)
		ch <- prometheus.MustNewConstMetric(descRecv, prometheus.CounterValue, float64(p.BytesRecv), l...)
		ch <- prometheus.MustNewConstMetric(descEntSent, prometheus.CounterValue, float64(p.EntriesSent), l...)
		ch <- prometheus.MustNewConstMetric(descEntRecv, prometheus.CounterValue, float64(p.EntriesRecv), l...)
		contact := 0.0
		if !p.LastContact.IsZero() {
			contact = float64(p.LastContact.Unix())
		}
		ch <- prometheus.MustNewConstMetric(descContact, prometheus.GaugeValue, contact, l...)
		alive := 0.0
		if p.Alive {
			alive = 1
		}
		ch <- prometheus.MustNewConstMetric(descAlive, prometheus.GaugeValue, alive, l...)
	}
	for _, reason := range []string{"signature", "chain", "sequence", "seal", "malformed", "oversized", "unenrolled", "unknown_peer", "scope", "overload", "invalid", "storage"} {
		ch <- prometheus.MustNewConstMetric(descRejected, prometheus.CounterValue, float64(c.r.Rejected()[reason]), reason)
	}
	c.r.mu.Lock()
	got, photoBytes := c.r.photosRecv, c.r.photoBytes
	granted, waiting, now := 0, len(c.r.waiting), time.Now()
	for _, until := range c.r.grants {
		if !now.After(until) {
			granted++
		}
	}
	c.r.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(descGranted, prometheus.GaugeValue, float64(granted))
	ch <- prometheus.MustNewConstMetric(descWaiting, prometheus.GaugeValue, float64(waiting))
	ch <- prometheus.MustNewConstMetric(descPhotoB, prometheus.CounterValue, float64(photoBytes))
	ch <- prometheus.MustNewConstMetric(descPhotos, prometheus.CounterValue, float64(got))
	ch <- prometheus.MustNewConstMetric(descPhotosW, prometheus.GaugeValue, float64(c.r.store.CountWantedPhotos()))
}
