package appliance_test

import (
	"testing"
	"time"

	"gridbox/appliance"
)

// A case is near from NearDays working days before its deadline day and
// overdue from the day after it; closed cases and cases without a
// deadline are neither.
func TestDueClock(t *testing.T) {
	cal, err := appliance.NewCalendar(appliance.CalendarConfig{})
	if err != nil {
		t.Fatal(err)
	}
	loc := time.FixedZone("CST", 8*3600)
	// Friday 2026-11-27; the next working day is Monday 2026-11-30.
	fri := time.Date(2026, 11, 27, 23, 59, 0, 0, loc)
	k := appliance.NewDueClock(fri, cal, 1)
	if k.Today != "2026-11-27" || k.NearEnd != "2026-11-30" {
		t.Fatalf("clock %+v", k)
	}
	for _, tc := range []struct {
		due, status, want string
	}{
		{"2026-11-26", appliance.StatusPending, appliance.DueOverdue},
		{"2026-11-27", appliance.StatusHandling, appliance.DueNear}, // due today: not yet overdue
		{"2026-11-28", appliance.StatusDispatched, appliance.DueNear},
		{"2026-11-30", appliance.StatusInSteps, appliance.DueNear},
		{"2026-12-01", appliance.StatusPending, ""},
		{"", appliance.StatusPending, ""},
		{"2026-11-01", appliance.StatusResolved, ""},
		{"2026-11-01", appliance.StatusClosed, ""},
	} {
		c := &appliance.Case{Due: tc.due, Status: tc.status}
		if got := k.State(c); got != tc.want {
			t.Errorf("due %s %s: %q, want %q", tc.due, tc.status, got, tc.want)
		}
	}
	var n appliance.CaseCounts
	for _, due := range []string{"2026-11-26", "2026-11-27", "2026-12-09", ""} {
		n.Add(k, &appliance.Case{Due: due, Status: appliance.StatusPending})
	}
	n.Add(k, &appliance.Case{Due: "2026-11-01", Status: appliance.StatusClosed})
	if want := (appliance.CaseCounts{Open: 4, Near: 1, Overdue: 1}); n != want {
		t.Errorf("counts %+v, want %+v", n, want)
	}
}
