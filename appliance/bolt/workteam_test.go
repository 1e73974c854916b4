package bolt_test

import (
	"context"
	"testing"
	"time"

	"gridbox/appliance"
)

// The town sends a work team to a village: it comes down to that village
// only; the members sign in at the village box, once a day, and their days
// and journals are counted there and, with the village's feed, at the town.
func TestWorkTeamDownAndDays(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, shanghai)}
	v1 := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	v2 := mustNode(t, appliance.NodeVillage, village2Code, "桃园村", clk, true)
	tw := mustNode(t, appliance.NodeTown, townCode, "龙湖镇", clk, true)
	enrol(t, tw, v1, villageCode)
	enrol(t, tw, v2, village2Code)
	team := appliance.WorkTeam{Village: villageCode, Name: "市派驻杏花村群众工作队", Members: []appliance.TeamMember{
		{ID: "p1", Name: "王建军", Unit: "市自然资源局", Leader: true, Days: 20},
		{ID: "p2", Name: "赵敏", Unit: "龙湖镇政府", Days: 15},
	}}
	bad := team
	bad.Members = append([]appliance.TeamMember{{ID: "p0", Name: "钱", Unit: "x", Leader: true, Days: 3}}, team.Members...)
	if err := tw.Store.SetTeam(ctx, "u-town", bad); appliance.ErrorField(err) != "members" {
		t.Fatalf("two leaders: err=%v", err)
	}
	if err := tw.Store.SetTeam(ctx, "u-town", team); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Store.CopyDown(ctx, clk.t); err != nil {
		t.Fatal(err)
	}
	copyFeed(t, tw, v1, downFeed(t, tw, villageCode))
	got, err := v1.Store.Team(villageCode)
	if err != nil || len(got.Members) != 2 || got.From != "龙湖镇" {
		t.Fatalf("village's team: %+v err %v", got, err)
	}
	if d2 := downFeed(t, tw, village2Code); hasFeed(t, tw, d2) {
		copyFeed(t, tw, v2, d2)
	}
	if _, err := v2.Store.Team(villageCode); appliance.ErrorCode(err) != appliance.ENOTFOUND {
		t.Fatalf("the other village got the team: err=%v", err)
	}
	for _, d := range []string{"2026-12-01", "2026-12-02", "2026-12-03"} {
		if err := v1.Store.SignTeam(ctx, "u-lead", appliance.TeamSign{Village: villageCode, Member: "p1", Date: d, At: "08:30"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := v1.Store.SignTeam(ctx, "u-lead", appliance.TeamSign{Village: villageCode, Member: "p1", Date: "2026-12-03", At: "14:00"}); appliance.ErrorCode(err) != appliance.ECONFLICT {
		t.Fatalf("signed twice a day: err=%v", err)
	}
	if err := v1.Store.SignTeam(ctx, "u-lead", appliance.TeamSign{Village: villageCode, Member: "nobody", Date: "2026-12-03", At: "14:00"}); appliance.ErrorField(err) != "member" {
		t.Fatalf("not a member: err=%v", err)
	}
	if _, err := v1.Store.AddJournal(ctx, "u-lead", appliance.Journal{Village: villageCode, Member: "p2", Date: "2026-12-02", Text: "走访三组，听取修路意见。"}); err != nil {
		t.Fatal(err)
	}
	copyFeed(t, v1, tw, v1.Store.Feed())
	for _, n := range []*testNode{v1, tw} {
		days, err := n.Store.TeamDays(villageCode, "2026-12-01", "2026-12-31")
		if err != nil || days["p1"] != 3 || days["p2"] != 0 {
			t.Fatalf("days %v err %v", days, err)
		}
		js, err := n.Store.Journals(villageCode, "p2")
		if err != nil || len(js) != 1 || js[0].Name != "赵敏" {
			t.Fatalf("journals %+v err %v", js, err)
		}
	}
}
