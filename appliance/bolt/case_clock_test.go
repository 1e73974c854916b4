package bolt_test

import (
	"context"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// TestCasesWrongClock: a box whose clock falls back to 1970 (no real-time
// clock, power cut) keeps registering problems, but sets no deadline and
// closes no register day from that clock; the register day stays at the
// latest day the ledger knew. Once the parent's time is measured, deadlines
// and days count from it.
func TestCasesWrongClock(t *testing.T) {
	clock := &simClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, shanghai)} // Monday
	n := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clock, true)
	var offset time.Duration
	var checked time.Time
	n.Cases.Clock = func() appliance.ClockState {
		return appliance.CheckClock(clock.Now(), n.Store.Clock().Last(), offset, checked)
	}
	intake := bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourceWalkIn, Description: "村东头路灯坏了", Group: appliance.GroupCode(villageCode, 1)}
	ctx := context.Background()
	r, err := n.Cases.RegisterCase(ctx, "u-admin", intake)
	if err != nil {
		t.Fatal(err)
	}
	if r.Due == "" || r.Day != "2026-03-02" {
		t.Fatalf("with a good clock: due %q day %q", r.Due, r.Day)
	}
	real := clock.t
	clock.t = time.Unix(7, 0) // the box lost its time
	r, err = n.Cases.RegisterCase(ctx, "u-admin", intake)
	if err != nil {
		t.Fatal(err)
	}
	if r.Due != "" || r.Day != "2026-03-02" {
		t.Fatalf("with the clock in 1970: due %q day %q, want no deadline on 2026-03-02", r.Due, r.Day)
	}
	if _, err := n.Cases.CloseRegister(ctx, "u-admin", "2026-03-01"); appliance.ErrorCode(err) != appliance.ECONFLICT {
		t.Fatalf("closing a day with the clock in 1970: %v", err)
	}
	// The parent's time measured: the box's clock is still wrong, but the
	// corrected time is known.
	offset, checked = real.Add(24*time.Hour).Sub(clock.t), clock.t
	r, err = n.Cases.RegisterCase(ctx, "u-admin", intake)
	if err != nil {
		t.Fatal(err)
	}
	if r.Due == "" || r.Day != "2026-03-03" {
		t.Fatalf("with the parent's time: due %q day %q", r.Due, r.Day)
	}
	if _, err := n.Cases.CloseRegister(ctx, "u-admin", "2026-03-02"); err != nil {
		t.Fatalf("closing yesterday by the parent's time: %v", err)
	}
}
