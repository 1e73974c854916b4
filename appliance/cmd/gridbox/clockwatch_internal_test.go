package main

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// TestClockFromParent: a village box whose clock is three hours slow asks
// its town node (real HTTP) for the time: the box's clock is called wrong,
// with the offset measured to within a few seconds, and the corrected time
// is the town's.
// startMain runs m as node in a fresh data folder (HTTP on 127.0.0.1).
func startMain(t *testing.T, ctx context.Context, node appliance.Node, m *Main) *Main {
	t.Helper()
	m.Data = filepath.Join(t.TempDir(), node.Code)
	if _, err := bolt.InitDataDir(ctx, m.Data, node, bolt.InitOptions{AdminPassword: "xh-admin-8842"}); err != nil {
		t.Fatal(err)
	}
	m.Listen, m.TLSListen = "127.0.0.1:0", "off"
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

var (
	townNode    = appliance.Node{Role: "town", Code: "410184104000", Name: "龙湖镇"}
	villageNode = appliance.Node{Role: "village", Code: "410184104201", Name: "杏花村"}
)

func TestClockFromParent(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := func(node appliance.Node, m *Main) *Main { t.Helper(); return startMain(t, ctx, node, m) }
	town := start(townNode, &Main{})
	ticks := make(chan time.Time)
	slow := func() time.Time { return time.Now().Add(-3 * time.Hour) }
	village := start(villageNode,
		&Main{Now: slow, ClockTicks: ticks, ParentHTTP: "http://" + town.Addr.String()})
	ticks <- time.Now() // the first measurement is done once the loop waits again
	ticks <- time.Now()
	st := village.clock.State()
	if !st.Wrong || st.ParentChecked.IsZero() {
		t.Fatalf("a clock 3 h slow: %+v", st)
	}
	if d := st.ParentOffset - 3*time.Hour; d < -3*time.Second || d > 3*time.Second {
		t.Fatalf("offset %v, want 3h ± 3s", st.ParentOffset)
	}
	if d := time.Since(st.Now()); d < -3*time.Second || d > 3*time.Second {
		t.Fatalf("corrected time off by %v", d)
	}
	if got := village.Server.ClockState(); !got.Wrong {
		t.Fatalf("the system page's clock: %+v", got)
	}
	if st := town.clock.State(); st.Wrong {
		t.Fatalf("the town's good clock called wrong: %+v", st)
	}
}

// fakeClock is a box's wall clock that setting moves, as the system
// clock would.
type fakeClock struct {
	mu   sync.Mutex
	skew time.Duration
	sets []time.Time
	err  error // what setting answers (EPERM: not permitted)
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.skew) }

func (c *fakeClock) Set(to time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sets = append(c.sets, to)
	if c.err != nil {
		return c.err
	}
	c.skew = time.Until(to)
	return nil
}

// TestClockSetFromParent: a box that boots in 1970 sets its clock from
// its town's (real HTTP) where it may (serve --set-clock), and then judges
// it right; where setting is refused (no CAP_SYS_TIME) the warning stays;
// a parent whose own clock is implausible is not followed; a box whose
// clock is right is left alone.
func TestClockSetFromParent(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	town := startMain(t, ctx, townNode, &Main{})
	townURL := "http://" + town.Addr.String()
	// A parent that lost its time too (2001): a plain HTTP server whose
	// Date says so.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lost := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", "Mon, 01 Jan 2001 08:00:00 GMT")
		w.Write([]byte("ok"))
	})}
	go lost.Serve(ln)
	defer lost.Close()
	y1970 := time.Until(time.Date(1970, 1, 1, 8, 0, 0, 0, time.UTC))

	for _, tc := range []struct {
		name      string
		skew      time.Duration
		parent    string
		refuse    error
		sets      int
		wrongThen bool
	}{
		{"Set", y1970, townURL, nil, 1, false},
		{"NotPermitted", y1970, townURL, syscall.EPERM, 1, true},
		{"ParentLostItsTime", y1970, "http://" + ln.Addr().String(), nil, 0, true},
		{"ClockRight", 0, townURL, nil, 0, false},
		{"FiveMinutesFast", 5 * time.Minute, townURL, nil, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := &fakeClock{skew: tc.skew, err: tc.refuse}
			ticks := make(chan time.Time)
			village := startMain(t, ctx, villageNode, &Main{Now: clock.Now, ClockTicks: ticks, ParentHTTP: tc.parent, SetClock: clock.Set})
			ticks <- time.Now() // the first contact is done once the loop waits again
			ticks <- time.Now()
			clock.mu.Lock()
			sets := append([]time.Time(nil), clock.sets...)
			clock.mu.Unlock()
			if len(sets) != tc.sets {
				t.Fatalf("clock set %d times (%v), want %d", len(sets), sets, tc.sets)
			}
			if len(sets) > 0 {
				if d := time.Since(sets[0]); d < -3*time.Second || d > 3*time.Second {
					t.Fatalf("clock set to %v, %v off the town's", sets[0], d)
				}
			}
			st := village.clock.State()
			if st.Wrong != tc.wrongThen {
				t.Fatalf("afterwards the clock is judged wrong=%v, want %v: %+v", st.Wrong, tc.wrongThen, st)
			}
			if got := village.Server.ClockState(); got.Wrong != tc.wrongThen {
				t.Fatalf("the system page's clock: %+v", got)
			}
			if !tc.wrongThen && tc.refuse == nil {
				if d := time.Since(clock.Now()); d < -3*time.Second || d > 3*time.Second {
					t.Fatalf("the box's clock is %v off afterwards", d)
				}
			}
		})
	}
}
