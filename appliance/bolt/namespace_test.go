package bolt_test

import (
	"context"
	"testing"

	"gridbox/appliance"
)

// Two villages' notices with the same id are two notices at their town.
func TestNoticesPerGridAtTown(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: day(2, 9)}
	v1 := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	v2 := mustNode(t, appliance.NodeVillage, village2Code, "桃园村", clk, true)
	tw := mustNode(t, appliance.NodeTown, townCode, "龙湖镇", clk, true)
	for _, v := range []struct {
		n     *testNode
		code  string
		title string
	}{{v1, villageCode, "杏花村停水"}, {v2, village2Code, "桃园村开会"}} {
		if err := v.n.Store.SetNotice(ctx, "", appliance.Notice{Grid: v.code, ID: "n-demo-1", Title: v.title, Body: "正文", Published: "2026-11-02"}); err != nil {
			t.Fatal(err)
		}
		copyFeed(t, v.n, tw, v.n.Store.Feed())
	}
	for code, title := range map[string]string{villageCode: "杏花村停水", village2Code: "桃园村开会"} {
		n, err := tw.Store.Notice(code, "n-demo-1")
		if err != nil || n.Title != title {
			t.Fatalf("town: notice of %s = %+v, %v", code, n, err)
		}
	}
	if ns, err := tw.Store.FindNotices(villageCode, village2Code); err != nil || len(ns) != 2 {
		t.Fatalf("town lists %d notices, %v", len(ns), err)
	}
	if ns, err := tw.Store.FindNotices(village2Code); err != nil || len(ns) != 1 || ns[0].Title != "桃园村开会" {
		t.Fatalf("one village's notices at the town: %+v, %v", ns, err)
	}
	if _, err := v1.Store.Notice(village2Code, "n-demo-1"); appliance.ErrorCode(err) != appliance.ENOTFOUND {
		t.Fatalf("village has its sibling's notice: %v", err)
	}
	if _, err := tw.Store.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

// New staff ids start with the node's own code, so two villages' staff
// never share an id at the town.
func TestStaffIDsPerNode(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: day(2, 9)}
	v1 := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	g := appliance.GroupCode(villageCode, 1)
	m := appliance.StaffMember{ID: "s1", Name: "王建国", Phone: "13812345678", Duty: appliance.DutyGridLeader, Grid: g}
	if err := v1.Store.SetStaff(ctx, "", m); appliance.ErrorField(err) != "id" {
		t.Fatalf("new staff without the node's code: %v", err)
	}
	m.ID = village2Code + "-s1"
	if err := v1.Store.SetStaff(ctx, "", m); appliance.ErrorField(err) != "id" {
		t.Fatalf("new staff with another node's code: %v", err)
	}
	m.ID = villageCode + "-s1"
	if err := v1.Store.SetStaff(ctx, "", m); err != nil {
		t.Fatal(err)
	}
	m.Phone = "13900000000"
	if err := v1.Store.SetStaff(ctx, "", m); err != nil {
		t.Fatal(err)
	}
	if got, err := v1.Store.Staff(m.ID); err != nil || got.Phone != "13900000000" {
		t.Fatalf("changed staff: %+v, %v", got, err)
	}
}
