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
