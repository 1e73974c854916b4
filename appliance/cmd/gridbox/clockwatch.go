package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"sync"
	"syscall"
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

	setRefused bool // setting the system clock was not permitted (parentLoop only)
}

// forget drops the parent's offset (stale once the clock was set).
func (w *clockWatch) forget() {
	w.mu.Lock()
	w.offset, w.checked = 0, time.Time{}
	w.mu.Unlock()
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

// parentLoop contacts the parent at start and on every tick: it measures
// the parent's clock (and sets this box's from it where serve --set-clock
// allows), and fetches a release the parent hands down ([upgrade]
// from_parent). Without injected ticks it waits 10 minutes between
// contacts, less while the parent is not reached yet (a box that just
// booted wants its clock soon); with [replicate] fast (several nodes on
// one machine) every 2 seconds.
func (m *Main) parentLoop(ctx context.Context, ticks <-chan time.Time) {
	every, first := 10*time.Minute, 5*time.Second
	if m.Config.Replicate.Fast {
		every, first = 2*time.Second, time.Second
	}
	retry := first
	for {
		reached := false
		if base := m.parentHTTP(); base != "" {
			if err := m.clock.measure(ctx, base); err != nil {
				m.Log.Info("parent's clock not measured", "err", err)
			} else {
				reached = true
				m.setClockFromParent(ctx, base)
			}
			if reached {
				if _, err := m.fetchFromParent(ctx, base); err != nil {
					m.Log.Warn("release from the parent not installed", "err", err)
				}
			}
		}
		if st := m.clock.State(); st.Wrong {
			m.Log.Warn("the box's clock is wrong", "wall", st.Wall, "offset", st.ParentOffset)
		}
		wait, timer := ticks, (*time.Timer)(nil)
		if wait == nil {
			d := every
			if !reached {
				d, retry = retry, min(2*retry, every)
			} else {
				retry = first
			}
			timer = time.NewTimer(d)
			wait = timer.C
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return
		case <-wait:
		}
	}
}

// setClockFromParent sets the system clock to the parent's time when this
// box's clock is judged wrong and the parent's own time is plausible (not
// before the floor, not far ahead: a parent that lost its time too must
// not spread it), and only with SetClock (serve --set-clock: the image's
// unit, which has CAP_SYS_TIME). The offset is then measured again.
func (m *Main) setClockFromParent(ctx context.Context, base string) {
	st := m.clock.State()
	if m.SetClock == nil || m.clock.setRefused || !st.Wrong || st.ParentChecked.IsZero() {
		return
	}
	to := st.Now()
	if to.Before(appliance.ClockFloor) || to.After(appliance.ClockCeiling) {
		m.Log.Warn("the parent's clock is wrong too: the box's clock is not set from it", "parent", to)
		return
	}
	if err := m.SetClock(to); err != nil {
		// Not permitted stays so (no CAP_SYS_TIME): said once.
		m.clock.setRefused = errors.Is(err, syscall.EPERM)
		m.Log.Warn("the box's clock could not be set from the parent's", "err", err)
		return
	}
	m.Log.Warn("the box's clock set from the parent's", "was", st.Wall, "now", to, "offset", st.ParentOffset)
	if err := m.clock.measure(ctx, base); err != nil {
		m.clock.forget()
	}
}

// setSystemClock sets the wall clock (needs CAP_SYS_TIME).
func setSystemClock(t time.Time) error {
	tv := syscall.NsecToTimeval(t.UnixNano())
	return syscall.Settimeofday(&tv)
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
