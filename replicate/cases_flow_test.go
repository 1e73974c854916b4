package replicate_test

import (
	"context"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

func (tn *testNode) cases(t testing.TB) *bolt.Cases {
	t.Helper()
	cfg := appliance.DefaultConfig()
	cfg.Node = tn.Node
	cs, err := bolt.NewCases(tn.Store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// caseCluster is a city, a town and two villages, enrolled, the villages
// not started; the town relays cases to the city as its web server does.
func caseCluster(t *testing.T) (city, town, v1, v2 *testNode) {
	t.Helper()
	city = MustOpenNode(t, appliance.NodeCity, cityCode, "").Start()
	town = MustOpenNode(t, appliance.NodeTown, townCode, city.R.Addr()).Start()
	v1 = MustOpenNode(t, appliance.NodeVillage, villageCode, town.R.Addr())
	v2 = MustOpenNode(t, appliance.NodeVillage, villageCode2, town.R.Addr())
	city.Enrol(town)
	town.Enrol(v1)
	town.Enrol(v2)
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go town.cases(t).RunRelay(ctx)
	return city, town, v1, v2
}

// The case workflow across real memberlist nodes: a kiosk report at a
// village, escalated to the town, dispatched and resolved there, comes back
// to the village's progress page; a second case goes on to the city and
// the city's result comes back too. The sibling village receives nothing
// of it, the city only the town's upward feed, and every node verifies.
func TestCaseFlowAcrossNodes(t *testing.T) {
	ctx := context.Background()
	city, town, v1, v2 := caseCluster(t)
	v1.Start()
	v2.Start()
	vc, tc, cc := v1.cases(t), town.cases(t), city.cases(t)

	village := []string{appliance.CaseLevelGroup, appliance.CaseLevelVillage}
	r1, err := vc.RegisterCase(ctx, "", bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourceKiosk, Description: "村口路灯坏了", Name: "王秀英", Phone: "13812345678"})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := vc.RegisterCase(ctx, "", bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourceKiosk, Description: "上游工厂排污"})
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []string{r1.Code, r2.Code} {
		if _, err := vc.Act(ctx, "u-admin", village, appliance.CaseStep{Case: code, Action: appliance.CaseEscalate, Text: "报乡镇"}); err != nil {
			t.Fatal(err)
		}
	}
	level := func(cs *bolt.Cases, code string) string {
		c, err := cs.Case(code)
		if err != nil {
			return ""
		}
		return c.Level + "/" + c.Status
	}
	waitFor(t, 10*time.Second, "both cases at the town", func() bool {
		return level(tc, r1.Code) == "town/pending" && level(tc, r2.Code) == "town/pending"
	})

	townL := []string{appliance.CaseLevelTown}
	if _, err := tc.Act(ctx, "u-admin", townL, appliance.CaseStep{Case: r1.Code, Action: appliance.CaseDispatch, Departments: []string{"供电所"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Act(ctx, "u-admin", townL, appliance.CaseStep{Case: r1.Code, Action: appliance.CaseResolve, Text: "路灯已更换"}); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Act(ctx, "u-admin", townL, appliance.CaseStep{Case: r2.Code, Action: appliance.CaseEscalate, Text: "跨县污染，报市平台"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "the town's result on the village's progress page", func() bool {
		c, err := vc.Track(r1.Code, r1.PIN)
		return err == nil && c.Status == appliance.StatusResolved && c.Result == "路灯已更换"
	})
	waitFor(t, 10*time.Second, "the escalated case at the city", func() bool { return level(cc, r2.Code) == "city/pending" })
	if _, err := cc.Case(r1.Code); err == nil {
		t.Fatal("the city has a case that never reached it")
	}

	cityL := []string{appliance.CaseLevelCity}
	if _, err := cc.Act(ctx, "u-admin", cityL, appliance.CaseStep{Case: r2.Code, Action: appliance.CaseResolve, Text: "工厂已停产整改"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 15*time.Second, "the city's result on the village's progress page", func() bool {
		c, err := vc.Track(r2.Code, r2.PIN)
		return err == nil && c.Status == appliance.StatusResolved && c.Result == "工厂已停产整改"
	})

	// Let the last offers settle, then check who holds what.
	time.Sleep(500 * time.Millisecond)
	down1, _ := town.Store.DownFeed(villageCode)
	up, _ := town.Store.UpFeed()
	if v2.Head(v1.Store.Feed()) != 0 || v2.Head(down1) != 0 {
		t.Fatal("the sibling village received the first village's feeds")
	}
	if _, err := v2.cases(t).Case(r1.Code); err == nil {
		t.Fatal("the sibling village has the case")
	}
	if city.Head(v1.Store.Feed()) != 0 || city.Head(town.Store.Feed()) != 0 || city.Head(down1) != 0 {
		t.Fatal("the city received more than the town's upward feed")
	}
	if city.Head(up) == 0 {
		t.Fatal("the city has no upward feed")
	}
	for _, n := range []*testNode{city, town, v1, v2} {
		n.MustVerify()
	}
}
