package replicate_test

import (
	"fmt"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/replicate"
)

// TestFanInTakesTurns: more villages than places send to one town at
// once, in batches of 64 KiB. The town lets at most MaxGrants of them send
// at a time, the others' wants wait in line, nothing is dropped as
// overload, and every village's feed arrives whole.
func TestFanInTakesTurns(t *testing.T) {
	town := MustOpenNode(t, appliance.NodeTown, townCode, "").Start()
	const n = 8
	villages := make([]*testNode, n)
	for i := range villages {
		v := MustOpenNode(t, appliance.NodeVillage, fmt.Sprintf("410184104%03d", 201+i), town.R.Addr())
		v.MaxBatchBytes = 64 << 10
		town.Enrol(v)
		v.Write(1500)
		villages[i] = v
	}
	for _, v := range villages {
		v.Start()
	}
	for _, v := range villages {
		feed := v.Store.Feed()
		want := v.Head(feed)
		waitFor(t, 60*time.Second, "village "+v.Node.Code+" at the town", func() bool { return town.Head(feed) == want })
	}
	granted, waiting := town.R.GrantsSeen()
	t.Logf("at most %d granted and %d waiting at once", granted, waiting)
	if granted > replicate.MaxGrants || granted == 0 {
		t.Errorf("%d villages granted at once, want 1..%d", granted, replicate.MaxGrants)
	}
	if waiting == 0 {
		t.Error("no village waited in line: the test did not load the town")
	}
	if got := town.R.Rejected()["overload"]; got != 0 {
		t.Errorf("%d messages dropped as overload", got)
	}
	for _, v := range villages {
		sameFeed(t, town, v, v.Store.Feed())
	}
}
