package appliance

import (
	"fmt"
	"time"
)

// ClockFloor is a day no box can really be before: this release was made
// after it. A cheap box without a real-time clock boots in 1970 until the
// network or a person sets the time.
var ClockFloor = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// ClockCeiling is a day no box will see running this release: a clock past
// it is far in the future (a board whose clock came up with garbage).
var ClockCeiling = ClockFloor.AddDate(15, 0, 0)

// ClockTolerance is how far the box's clock may differ from the parent's
// before it is called wrong.
const ClockTolerance = 2 * time.Minute

// ClockState is what the node knows about its wall clock.
type ClockState struct {
	Wall   time.Time `json:"wall"`   // the box's clock
	Ledger time.Time `json:"ledger"` // the latest time handed out or received in the ledger (HLC)
	// ParentOffset is the parent's clock minus this box's, measured at
	// ParentChecked; zero time when never measured.
	ParentOffset  time.Duration `json:"parent_offset_ns"`
	ParentChecked time.Time     `json:"parent_checked,omitempty"`
	Wrong         bool          `json:"wrong"`
	Reason        string        `json:"reason,omitempty"` // plain Chinese, for the staff
}

// CheckClock judges the wall clock against the floor, the ledger and the
// parent's clock. Ordering never depends on it (the HLC goes on counting);
// what does — deadlines, register days — must not use it while it is wrong.
func CheckClock(wall time.Time, ledger HLC, parentOffset time.Duration, parentChecked time.Time) ClockState {
	st := ClockState{Wall: wall, ParentOffset: parentOffset, ParentChecked: parentChecked}
	if ledger > 0 && ledger < MaxHLC {
		st.Ledger = ledger.Time()
	}
	switch {
	case wall.Before(ClockFloor):
		st.Wrong, st.Reason = true, fmt.Sprintf("本机时钟显示 %s，早于实际时间（设备没有时钟电池，断电后时间会丢失）", wall.Format("2006-01-02 15:04"))
	case !parentChecked.IsZero() && (parentOffset > ClockTolerance || parentOffset < -ClockTolerance):
		dir := "慢"
		if parentOffset < 0 {
			dir = "快"
		}
		st.Wrong, st.Reason = true, fmt.Sprintf("本机时钟比上级节点%s %s", dir, roundOffset(parentOffset))
	case wall.After(ClockCeiling):
		st.Wrong, st.Reason = true, fmt.Sprintf("本机时钟显示 %s，远远晚于实际时间", wall.Format("2006-01-02 15:04"))
	}
	// The ledger's latest time does not judge the clock: it holds other
	// nodes' times, and one node with a fast clock would make every box
	// look wrong. It only keeps register days from going back (Cases).
	return st
}

// Now is the best known time: the wall clock corrected by the parent's
// when that was measured.
func (st ClockState) Now() time.Time {
	if st.ParentChecked.IsZero() {
		return st.Wall
	}
	return st.Wall.Add(st.ParentOffset)
}

func roundOffset(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d 天", int(d.Hours()/24))
	case d >= time.Hour:
		return fmt.Sprintf("%d 小时", int(d.Hours()))
	default:
		return fmt.Sprintf("%d 分钟", int(d.Minutes()))
	}
}
