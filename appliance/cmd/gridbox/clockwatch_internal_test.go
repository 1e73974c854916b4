package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// TestClockFromParent: a village box whose clock is three hours slow asks
// its town node (real HTTP) for the time: the box's clock is called wrong,
// with the offset measured to within a few seconds, and the corrected time
// is the town's.
func TestClockFromParent(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := func(node appliance.Node, m *Main) *Main {
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
	town := start(appliance.Node{Role: "town", Code: "410184104000", Name: "龙湖镇"}, &Main{})
	ticks := make(chan time.Time)
	slow := func() time.Time { return time.Now().Add(-3 * time.Hour) }
	village := start(appliance.Node{Role: "village", Code: "410184104201", Name: "杏花村"},
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
