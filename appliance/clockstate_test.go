package appliance_test

import (
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
)

func TestCheckClock(t *testing.T) {
	real := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	never := time.Time{}
	for _, tt := range []struct {
		name    string
		wall    time.Time
		ledger  time.Time
		offset  time.Duration
		checked time.Time
		wrong   bool
		reason  string
		now     time.Time
	}{
		{name: "OK", wall: real, ledger: real.Add(-time.Hour), checked: never, now: real},
		{name: "Booted1970", wall: time.Unix(42, 0).UTC(), ledger: real, checked: never, wrong: true, reason: "1970-01-01", now: time.Unix(42, 0).UTC()},
		{name: "Booted1970ParentKnown", wall: time.Unix(42, 0).UTC(), checked: time.Unix(42, 0), offset: real.Sub(time.Unix(42, 0)), wrong: true, reason: "早于实际时间", now: real},
		{name: "FarFutureParentKnown", wall: real.AddDate(10, 0, 0), checked: real, offset: -real.AddDate(10, 0, 0).Sub(real), wrong: true, reason: "比上级节点快", now: real},
		{name: "SmallDriftIsFine", wall: real, checked: real, offset: 90 * time.Second, now: real.Add(90 * time.Second)},
		{name: "BehindLedgerIsNotJudged", wall: real.Add(-time.Hour), ledger: real, checked: never, now: real.Add(-time.Hour)}, // another node's fast clock must not make this one wrong
		{name: "FarFuture", wall: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC), checked: never, wrong: true, reason: "远远晚于实际时间", now: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "ParentWinsOverLedger", wall: real, ledger: real.Add(time.Hour), checked: real, offset: 0, now: real},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var h appliance.HLC
			if !tt.ledger.IsZero() {
				h = appliance.HLCFromTime(tt.ledger)
			}
			st := appliance.CheckClock(tt.wall, h, tt.offset, tt.checked)
			if st.Wrong != tt.wrong || !strings.Contains(st.Reason, tt.reason) {
				t.Fatalf("wrong=%v reason %q, want %v %q", st.Wrong, st.Reason, tt.wrong, tt.reason)
			}
			if got := st.Now(); !got.Equal(tt.now) {
				t.Fatalf("Now()=%v, want %v", got, tt.now)
			}
		})
	}
}
