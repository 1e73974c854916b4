package bolt_test

import (
	"context"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// A village's weekly meeting: attendance, an action item that becomes a
// case; both reach the town with the village's feed. The town's joint
// meeting goes down to the village it concerns and to no other.
func TestMeetingsUpAndDown(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, shanghai)}
	v1 := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	v2 := mustNode(t, appliance.NodeVillage, village2Code, "桃园村", clk, true)
	tw := mustNode(t, appliance.NodeTown, townCode, "龙湖镇", clk, true)
	enrol(t, tw, v1, villageCode)
	enrol(t, tw, v2, village2Code)

	m, err := v1.Store.SetMeeting(ctx, "u-lead", appliance.Meeting{Grid: villageCode, Kind: appliance.MeetingWeekly, Title: "第49周工作碰头会", Date: "2026-12-07", Time: "09:00",
		Agenda: []appliance.AgendaItem{{Text: "二组水渠堵塞"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"王建军", "李秀兰"} {
		if err := v1.Store.SignMeeting(ctx, "u-lead", appliance.MeetingSign{Meeting: m.Key(), Name: name, At: "09:01"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := v1.Store.SignMeeting(ctx, "u-lead", appliance.MeetingSign{Meeting: m.Key(), Name: "李秀兰", At: "09:02"}); appliance.ErrorCode(err) != appliance.ECONFLICT {
		t.Fatalf("signed twice: err=%v", err)
	}
	if _, err := v1.Store.SetAction(ctx, "u-lead", appliance.ActionItem{Grid: villageCode, Meeting: "nowhere/m1", Text: "x", Owner: "y", Due: "2026-12-10"}); appliance.ErrorField(err) != "meeting" {
		t.Fatalf("item of no meeting: err=%v", err)
	}
	r, err := v1.Cases.RegisterCase(ctx, "u-lead", bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourceMeeting, Description: "清理二组水渠"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := v1.Store.SetAction(ctx, "u-lead", appliance.ActionItem{Grid: villageCode, Meeting: m.Key(), Text: "清理二组水渠", Owner: "王建军", Due: "2026-12-10", Case: r.Code})
	if err != nil {
		t.Fatal(err)
	}
	m.State, m.Minutes, m.Decisions = appliance.MeetingHeld, "议定组织清理水渠。", []string{"本周内清理二组水渠"}
	if _, err := v1.Store.SetMeeting(ctx, "u-lead", m); err != nil {
		t.Fatal(err)
	}

	copyFeed(t, v1, tw, v1.Store.Feed())
	got, signs, err := tw.Store.Meeting(m.Key())
	if err != nil || got.State != appliance.MeetingHeld || len(signs) != 2 || got.Decisions[0] != "本周内清理二组水渠" {
		t.Fatalf("at the town: %+v %d signs err %v", got, len(signs), err)
	}
	open, err := tw.Store.FindActions(bolt.ActionFilter{Prefix: townCode[:9], Open: true})
	if err != nil || len(open) != 1 || open[0].ID != a.ID || open[0].Case != r.Code {
		t.Fatalf("town's open items: %+v err %v", open, err)
	}

	// Down: the town's joint meeting on the village's case.
	j, err := tw.Store.SetMeeting(ctx, "u-town", appliance.Meeting{Grid: townCode, Kind: appliance.MeetingJoint, Title: "水渠问题联席会议", Date: "2026-12-09",
		Agenda: []appliance.AgendaItem{{Text: "二组水渠", Case: r.Code}}, To: []string{villageCode}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Store.CopyDown(ctx, clk.t); err != nil {
		t.Fatal(err)
	}
	copyFeed(t, tw, v1, downFeed(t, tw, villageCode))
	if d2 := downFeed(t, tw, village2Code); hasFeed(t, tw, d2) {
		copyFeed(t, tw, v2, d2)
	}
	ms, err := v1.Store.FindMeetings(townCode, "", "")
	if err != nil || len(ms) != 1 || ms[0].ID != j.ID || ms[0].From != "龙湖镇" || len(ms[0].To) != 0 {
		t.Fatalf("village's copy of the joint meeting: %+v err %v", ms, err)
	}
	if ms, _ := v2.Store.FindMeetings(townCode, "", ""); len(ms) != 0 {
		t.Fatalf("the other village got the joint meeting: %+v", ms)
	}
	// Taken off the village's list: it goes there cancelled.
	j.To = []string{village2Code}
	if _, err := tw.Store.SetMeeting(ctx, "u-town", j); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Store.CopyDown(ctx, clk.t); err != nil {
		t.Fatal(err)
	}
	copyFeed(t, tw, v1, downFeed(t, tw, villageCode))
	if ms, _ := v1.Store.FindMeetings(townCode, "", ""); len(ms) != 1 || ms[0].State != appliance.MeetingCancelled {
		t.Fatalf("village's copy after the town took it off: %+v", ms)
	}
}
