package bolt_test

import (
	"context"
	"testing"
	"time"

	"gridbox/appliance"
)

func dutyRota(t *testing.T, n *testNode) []appliance.StaffMember {
	t.Helper()
	people := []appliance.StaffMember{
		{ID: villageCode + "-s1", Name: "张值班", Phone: "13800000001", Duty: appliance.DutyDutyStaff, Grid: villageCode},
		{ID: villageCode + "-s2", Name: "李值班", Phone: "13800000002", Duty: appliance.DutyDutyStaff, Grid: villageCode},
		{ID: villageCode + "-s3", Name: "赵委员", Phone: "13800000003", Duty: appliance.DutyCommittee, Grid: villageCode},
	}
	for _, m := range people {
		if err := n.Store.SetStaff(context.Background(), "u-admin", m); err != nil {
			t.Fatal(err)
		}
	}
	return people
}

// A generated roster replaces the month's; a swap is asked, then accepted,
// both recorded, and the roster changes with the acceptance.
func TestRosterAndSwap(t *testing.T) {
	ctx := context.Background()
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", &simClock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, shanghai)}, true)
	people := dutyRota(t, v)
	gen := func(start int) []appliance.DutyShift {
		r, err := appliance.GenerateRoster(appliance.RosterPlan{Grid: villageCode, Month: "2026-12", People: people, Start: start})
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Store.SetRoster(ctx, "u-lead", villageCode, "2026-12", "全天", r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	gen(0)
	r := gen(1) // generated again: the month holds only the new one
	got, err := v.Store.FindDuty(villageCode, "2026-12-01", "2026-12-31")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 31 || got[0].StaffID != people[1].ID {
		t.Fatalf("%d shifts, first %s; want 31, %s", len(got), got[0].StaffID, people[1].ID)
	}

	w, err := v.Store.AskSwap(ctx, "u-duty", appliance.DutySwap{Grid: villageCode, Shift: "全天", Date: r[0].Date, StaffID: r[0].StaffID, WithDate: r[1].Date, WithStaffID: r[1].StaffID, Reason: "家中有事"})
	if err != nil {
		t.Fatal(err)
	}
	if w.Name != r[0].Name || w.WithName != r[1].Name || w.State != appliance.SwapAsked {
		t.Fatalf("swap %+v", w)
	}
	t.Run("ErrNotOnRoster", func(t *testing.T) {
		_, err := v.Store.AskSwap(ctx, "u-duty", appliance.DutySwap{Grid: villageCode, Shift: "全天", Date: r[0].Date, StaffID: r[1].StaffID, WithDate: r[2].Date, WithStaffID: r[2].StaffID})
		if appliance.ErrorField(err) != "date" {
			t.Fatalf("err=%v", err)
		}
	})
	if _, err := v.Store.AnswerSwap(ctx, "u-duty", false, villageCode, w.ID, appliance.SwapAccepted); appliance.ErrorCode(err) != appliance.EFORBIDDEN {
		t.Fatalf("accepted by the asker: err=%v", err)
	}
	if _, err := v.Store.AnswerSwap(ctx, "u-other", false, villageCode, w.ID, appliance.SwapAccepted); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Store.AnswerSwap(ctx, "u-other", false, villageCode, w.ID, appliance.SwapDeclined); appliance.ErrorCode(err) != appliance.ECONFLICT {
		t.Fatalf("answered twice: err=%v", err)
	}
	got, _ = v.Store.FindDuty(villageCode, r[0].Date, r[1].Date)
	if len(got) != 2 || got[0].StaffID != r[1].StaffID || got[1].StaffID != r[0].StaffID {
		t.Fatalf("after the swap: %+v", got)
	}
	counts, _ := v.Store.KindCounts()
	if counts[appliance.KindDutySwap] != 2 {
		t.Fatalf("%d swap entries, want the ask and the acceptance", counts[appliance.KindDutySwap])
	}
	sw, _ := v.Store.FindSwaps(villageCode, "2026-12-01")
	if len(sw) != 1 || sw[0].State != appliance.SwapAccepted {
		t.Fatalf("swaps %+v", sw)
	}
}

// The duty log: sign in, a departure only after an arrival, a handover
// confirmed by the next person only; the town sees the log (and the day
// nobody signed in) once the village's feed has reached it.
func TestDutyLogAndTown(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: time.Date(2026, 12, 7, 8, 0, 0, 0, shanghai)}
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	tw := mustNode(t, appliance.NodeTown, townCode, "龙湖镇", clk, true)
	people := dutyRota(t, v)
	a, b := people[0], people[1]
	line := func(m appliance.StaffMember, date, at, kind, text, ref string) (appliance.DutyLog, error) {
		return v.Store.LogDuty(ctx, "u-x", appliance.DutyLog{Grid: villageCode, Date: date, At: at, Kind: kind, StaffID: m.ID, Name: m.Name, Text: text, Ref: ref})
	}
	must := func(l appliance.DutyLog, err error) appliance.DutyLog {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	if _, err := line(a, "2026-12-06", "08:00", appliance.LogSignOut, "", ""); appliance.ErrorCode(err) != appliance.ECONFLICT {
		t.Fatalf("sign out before sign in: err=%v", err)
	}
	must(line(a, "2026-12-06", "08:01", appliance.LogSignIn, "", ""))
	if _, err := line(a, "2026-12-06", "08:02", appliance.LogSignIn, "", ""); appliance.ErrorCode(err) != appliance.ECONFLICT {
		t.Fatalf("signed in twice: err=%v", err)
	}
	if _, err := line(a, "2026-12-06", "09:00", appliance.LogBroadcast, "  ", ""); appliance.ErrorField(err) != "text" {
		t.Fatalf("empty broadcast: err=%v", err)
	}
	must(line(a, "2026-12-06", "09:00", appliance.LogBroadcast, "今晚降温，注意防寒", ""))
	h := must(line(a, "2026-12-06", "17:30", appliance.LogHandover, "三组王某反映的漏水问题明天回访", ""))
	must(line(a, "2026-12-06", "17:31", appliance.LogSignOut, "", ""))
	if _, err := line(a, "2026-12-08", "08:00", appliance.LogRead, "", h.ID); appliance.ErrorField(err) != "ref" {
		t.Fatalf("confirmed by its writer: err=%v", err)
	}
	// Nobody on the 7th; b confirms on the 8th.
	must(line(b, "2026-12-08", "08:00", appliance.LogSignIn, "", ""))
	must(line(b, "2026-12-08", "08:01", appliance.LogRead, "", h.ID))
	if _, err := line(b, "2026-12-08", "08:02", appliance.LogRead, "", h.ID); appliance.ErrorCode(err) != appliance.ECONFLICT {
		t.Fatalf("confirmed twice: err=%v", err)
	}
	note, by, err := v.Store.PendingHandover(villageCode, "2026-12-08")
	if err != nil || note.ID != h.ID || by != b.Name {
		t.Fatalf("handover %+v by %q err %v", note, by, err)
	}

	sync(t, v, tw)
	days, err := tw.Store.DutyDays(villageCode, []string{"2026-12-06", "2026-12-07", "2026-12-08"})
	if err != nil {
		t.Fatal(err)
	}
	if !days[0].SignedIn || days[1].SignedIn || !days[2].SignedIn {
		t.Fatalf("signed in: %v %v %v, want true false true", days[0].SignedIn, days[1].SignedIn, days[2].SignedIn)
	}
	if n, _, ok := days[0].Handover(); !ok || n.Text != h.Text || len(days[0].Lines) != 4 {
		t.Fatalf("town's copy of the 6th: %+v", days[0])
	}
}
