package main

import (
	"context"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"gridbox/appliance"
	"gridbox/ui"
)

// clockWatch judges the box's clock: a box without a real-time clock may
// boot in 1970 (or far ahead) and keep that time until the network or a
// person sets it. It asks the parent node's clock (the Date of its health
// answer) every interval while the parent is reachable.
type clockWatch struct {
	now  func() time.Time
	last func() appliance.HLC // the latest time in the ledger

	mu      sync.Mutex
	offset  time.Duration // parent minus this box
	checked time.Time     // by this box's clock; zero when never measured
}

// State is the clock as judged now.
func (w *clockWatch) State() appliance.ClockState {
	w.mu.Lock()
	offset, checked := w.offset, w.checked
	w.mu.Unlock()
	return appliance.CheckClock(w.now(), w.last(), offset, checked)
}

// measure asks the node at base (http://host:port) for its time. The Date
// header has whole seconds, so the offset is good to about a second,
// plenty to tell a wrong clock.
func (w *clockWatch) measure(ctx context.Context, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
	if err != nil {
		return err
	}
	t0 := w.now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	t1 := w.now()
	theirs, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return fmt.Errorf("parent's time: %w", err)
	}
	mid := t0.Add(t1.Sub(t0) / 2)
	w.mu.Lock()
	w.offset, w.checked = theirs.Add(500*time.Millisecond).Sub(mid), t1
	w.mu.Unlock()
	return nil
}

// clockLoop measures the parent's clock at start and on every tick.
func (m *Main) clockLoop(ctx context.Context, ticks <-chan time.Time) {
	if ticks == nil {
		t := time.NewTicker(10 * time.Minute)
		defer t.Stop()
		ticks = t.C
	}
	for {
		if base := m.parentHTTP(); base != "" {
			if err := m.clock.measure(ctx, base); err != nil {
				m.Log.Info("parent's clock not measured", "err", err)
			}
		}
		if st := m.clock.State(); st.Wrong {
			m.Log.Warn("the box's clock is wrong", "wall", st.Wall, "offset", st.ParentOffset)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		}
	}
}

// parentHTTP is the parent node's web address as replication knows it.
func (m *Main) parentHTTP() string {
	if m.ParentHTTP != "" {
		return m.ParentHTTP
	}
	if m.Replicator == nil {
		return ""
	}
	for _, p := range m.Replicator.Status() {
		if p.Relation == "parent" && p.HTTP != "" {
			return "http://" + p.HTTP
		}
	}
	return ""
}

// buildCommit is the VCS revision the binary was built from, if recorded.
func buildCommit() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+changes"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}

// connectSystem gives the system page what only main knows.
func (m *Main) connectSystem(started time.Time) {
	ui.SetSystem(m.Server, ui.SystemSource{Version: version, Commit: buildCommit(), Started: started, Clock: m.clock.State})
}
