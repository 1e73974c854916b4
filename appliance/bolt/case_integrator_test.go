package bolt_test

import (
	"context"
	"strings"
	"testing"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// A town without a city configured refuses to escalate to the city, and
// auto-escalation leaves its overdue cases where they are.
func TestEscalateToUnconfiguredCity(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: day(2, 9)}
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	tw := mustNode(t, appliance.NodeTown, townCode, "龙湖镇", clk, true)
	tw.Cases.Config.Node.Parent = ""
	r, err := v.Cases.RegisterCase(ctx, "", bolt.CaseIntake{Category: "work_safety", Source: appliance.SourceKiosk, Description: "河边没有护栏很危险"})
	if err != nil {
		t.Fatal(err)
	}
	act(t, v, villageLevels, appliance.CaseStep{Case: r.Code, Action: appliance.CaseEscalate, Text: "需乡镇处理"})
	copyFeed(t, v, tw, v.Store.Feed())
	_, err = tw.Cases.Act(ctx, "u-town", townLevels, appliance.CaseStep{Case: r.Code, Action: appliance.CaseEscalate, Text: "报市"})
	if appliance.ErrorCode(err) != appliance.ECONFLICT || !strings.Contains(appliance.ErrorMessage(err), "node.parent") {
		t.Fatalf("escalate without a city: %v", err)
	}
	clk.t = day(40, 9) // long overdue; work_safety auto-escalates
	if n, err := tw.Cases.EscalateOverdue(ctx, clk.t); err != nil || n != 0 {
		t.Fatalf("auto escalation without a city: %d, %v", n, err)
	}
	c, err := tw.Cases.Case(r.Code)
	if err != nil || c.Level != appliance.CaseLevelTown {
		t.Fatalf("case at %v, %v", c.Level, err)
	}
	tw.Cases.Config.Node.Parent = "127.0.0.1:7946"
	if c := act(t, tw, townLevels, appliance.CaseStep{Case: r.Code, Action: appliance.CaseEscalate, Text: "报市"}); c.Level != appliance.CaseLevelCity {
		t.Fatalf("with a city configured the case is at %s", c.Level)
	}
}

// Subcategories: checked against the category's, kept on the case,
// changed by classify.
func TestCaseSubcategory(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: day(2, 9)}
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	in := bolt.CaseIntake{Category: "public_affairs", Subcategory: "tree_pests", Source: appliance.SourcePatrol, Description: "杨树林发现美国白蛾"}
	r, err := v.Cases.RegisterCase(ctx, "u-lead", in)
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Cases.Case(r.Code)
	if err != nil || c.Subcategory != "tree_pests" {
		t.Fatalf("subcategory %q, %v", c.Subcategory, err)
	}
	for _, bad := range []bolt.CaseIntake{
		{Category: "public_affairs", Subcategory: "nope", Source: appliance.SourcePatrol, Description: "杨树林发现美国白蛾"},
		{Category: "livelihood", Subcategory: "tree_pests", Source: appliance.SourcePatrol, Description: "杨树林发现美国白蛾"},
	} {
		if _, err := v.Cases.RegisterCase(ctx, "u-lead", bad); appliance.ErrorField(err) != "subcategory" {
			t.Fatalf("%s/%s: %v", bad.Category, bad.Subcategory, err)
		}
	}
	c = act(t, v, villageLevels, appliance.CaseStep{Case: r.Code, Action: appliance.CaseClassify, Category: "public_affairs", Subcategory: "animal_epidemic"})
	if c.Subcategory != "animal_epidemic" {
		t.Fatalf("after classify: %q", c.Subcategory)
	}
}

// The integrators' statistics at a town: by department, category ×
// outcome, subcategory, a category filter, and every village listed.
func TestStatsBreakdowns(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: day(2, 9)}
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	tw := mustNode(t, appliance.NodeTown, townCode, "龙湖镇", clk, true)
	if err := tw.Store.SetGrid(ctx, "u-admin", appliance.Grid{Code: "410184104202", Level: appliance.LevelVillage, Name: "桃园村", Parent: townCode}); err != nil {
		t.Fatal(err)
	}
	reg := func(cat, sub, text string) string {
		r, err := v.Cases.RegisterCase(ctx, "u-lead", bolt.CaseIntake{Category: cat, Subcategory: sub, Source: appliance.SourcePatrol, Group: appliance.GroupCode(villageCode, 1), Description: text})
		if err != nil {
			t.Fatal(err)
		}
		return r.Code
	}
	pests := reg("public_affairs", "tree_pests", "杨树林发现美国白蛾")
	sick := reg("public_affairs", "animal_epidemic", "养殖户的猪病死了三头")
	road := reg("public_affairs", "", "村东路面塌陷")
	reg("livelihood", "", "独居老人需要照看")
	for _, id := range []string{pests, sick, road} {
		act(t, v, villageLevels, appliance.CaseStep{Case: id, Action: appliance.CaseEscalate, Text: "报村"})
		act(t, v, villageLevels, appliance.CaseStep{Case: id, Action: appliance.CaseEscalate, Text: "报镇"})
	}
	copyFeed(t, v, tw, v.Store.Feed())
	dispatch := func(id, dep, due string) {
		act(t, tw, townLevels, appliance.CaseStep{Case: id, Action: appliance.CaseDispatch, Departments: []string{dep}, Due: due, Text: "限期办理"})
	}
	dispatch(pests, "林业站", "2026-11-05")
	dispatch(sick, "畜牧兽医站", "2026-11-04")
	dispatch(road, "交通管理站", "2026-11-20")
	clk.t = day(4, 10)
	act(t, tw, townLevels, appliance.CaseStep{Case: pests, Action: appliance.CaseResolve, Text: "已喷药防治"})
	clk.t = day(9, 10) // sick is overdue now; road is not

	st, err := tw.Cases.Stats(bolt.CaseStatsFilter{}, clk.t)
	if err != nil {
		t.Fatal(err)
	}
	dep := map[string]appliance.DepartmentCount{}
	for _, d := range st.ByDepartment {
		dep[d.Department] = d
	}
	if got := dep["林业站"]; got.Dispatched != 1 || got.OnTime != 1 || got.Overdue != 0 || got.OnTimeRate != 1 {
		t.Fatalf("林业站: %+v", got)
	}
	if got := dep["畜牧兽医站"]; got.Dispatched != 1 || got.Open != 1 || got.Overdue != 1 {
		t.Fatalf("畜牧兽医站: %+v", got)
	}
	if got := dep["交通管理站"]; got.Dispatched != 1 || got.Overdue != 0 {
		t.Fatalf("交通管理站: %+v", got)
	}
	if got := dep["派出所"]; got.Dispatched != 0 { // configured, never dispatched: listed with zeros
		t.Fatalf("派出所: %+v", got)
	}
	if len(st.ByDepartment) != len(tw.Cases.Config.Cases.Departments)+3-countKnown(tw.Cases.Config.Cases.Departments, "林业站", "畜牧兽医站", "交通管理站") {
		t.Fatalf("departments: %+v", st.ByDepartment)
	}
	var pa appliance.CategoryOutcome
	for _, co := range st.ByOutcome {
		if co.Key == "public_affairs" {
			pa = co
		}
	}
	if pa.N != 3 || pa.Open != 2 || pa.Resolved != 1 || pa.Overdue != 1 {
		t.Fatalf("public_affairs × outcome: %+v", pa)
	}
	subs := map[string]int64{}
	for _, s := range st.BySubcategory {
		subs[s.Category+"/"+s.Key] = s.N
	}
	if subs["public_affairs/tree_pests"] != 1 || subs["public_affairs/animal_epidemic"] != 1 || subs["public_affairs/roads"] != 0 {
		t.Fatalf("subcategories: %v", subs)
	}
	if _, listed := subs["public_affairs/water"]; !listed {
		t.Fatalf("a configured subcategory without cases is missing: %v", subs)
	}
	vil := map[string]int64{}
	for _, c := range st.ByVillage {
		vil[c.Key] = c.N
	}
	if n, ok := vil["410184104202"]; !ok || n != 0 || vil[villageCode] != 4 {
		t.Fatalf("by_village: %+v", st.ByVillage)
	}

	// Narrowed to a category and a place.
	pst, err := tw.Cases.Stats(bolt.CaseStatsFilter{Category: "public_affairs", Scope: villageCode}, clk.t)
	if err != nil {
		t.Fatal(err)
	}
	if pst.Total != 3 || pst.Resolved != 1 || pst.Overdue != 1 || pst.Category != "public_affairs" {
		t.Fatalf("public_affairs in the village: total %d resolved %d overdue %d", pst.Total, pst.Resolved, pst.Overdue)
	}
	lst, err := tw.Cases.Stats(bolt.CaseStatsFilter{Category: "livelihood"}, clk.t)
	if err != nil || lst.Total != 1 || lst.Overdue != 1 { // overdue at its group since the 5th
		t.Fatalf("livelihood: %d %v", lst.Total, err)
	}
	for _, d := range lst.ByDepartment {
		if d.Dispatched != 0 {
			t.Fatalf("livelihood was never dispatched: %+v", d)
		}
	}
	if _, err := tw.Cases.Stats(bolt.CaseStatsFilter{Category: "nope"}, clk.t); appliance.ErrorField(err) != "category" {
		t.Fatalf("unknown category: %v", err)
	}
	// The counters are what a rebuild from the ledger gives.
	if _, err := tw.Store.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func countKnown(list []string, names ...string) int {
	n := 0
	for _, x := range names {
		for _, y := range list {
			if x == y {
				n++
				break
			}
		}
	}
	return n
}

// A write made for a request with an idempotency key records the key in
// its own transaction (so a crash before the answer is kept still stops a
// repeat); a refused write records nothing.
func TestIdempotencyKeyWithTheWrite(t *testing.T) {
	clk := &simClock{t: day(2, 9)}
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	ctx := bolt.WithIdempotencyKey(context.Background(), "u-lead|/api/v1/cases|k1", "h1")
	if _, err := v.Cases.RegisterCase(ctx, "u-lead", bolt.CaseIntake{Category: "nope", Source: appliance.SourcePatrol, Description: "路灯坏了一个星期"}); err == nil {
		t.Fatal("bad category accepted")
	}
	if _, ok, err := v.Store.IdempotentRecord("u-lead|/api/v1/cases|k1"); ok || err != nil {
		t.Fatalf("a refused write kept the key: %v %v", ok, err)
	}
	if _, err := v.Cases.RegisterCase(ctx, "u-lead", bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourcePatrol, Description: "路灯坏了一个星期"}); err != nil {
		t.Fatal(err)
	}
	r, ok, err := v.Store.IdempotentRecord("u-lead|/api/v1/cases|k1")
	if !ok || err != nil || r.Hash != "h1" || r.Status != 0 {
		t.Fatalf("after the write: %+v %v %v", r, ok, err)
	}
	if err := v.Store.SaveAnswer("u-lead|/api/v1/cases|k1", bolt.IdemRecord{Hash: "h1", Status: 201, ContentType: "application/json", Body: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if r, ok, _ := v.Store.IdempotentRecord("u-lead|/api/v1/cases|k1"); !ok || r.Status != 201 || r.At == 0 {
		t.Fatalf("answer kept: %+v", r)
	}
}
