package ui_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// Pickers, not codes: a household's merge and move name the other
// household by a member's name, pinyin initials or door number (the form
// offers them in a datalist); a text that finds none, or several, is
// refused in Chinese and changes nothing.
func TestHouseholdEventPicksByName(t *testing.T) {
	ctx := context.Background()
	v := uitest.MustStart(t, uitest.Options{})
	g := appliance.GroupCode("410184104201", 1)
	mk := func(no string, ps ...appliance.Person) string {
		t.Helper()
		id, err := v.Store.CreateHousehold(ctx, "u-admin", appliance.Household{Group: g, Address: "杏花村一组" + no + "号", HouseNo: no}, ps)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	head := func(name string) appliance.Person {
		return appliance.Person{Name: name, Relation: appliance.RelationHead, Gender: "男", Birth: "1950-01-01", Residence: appliance.ResidenceHere}
	}
	a := mk("7", head("甘老大"))
	b := mk("8", head("甘小弟"))
	mk("9", head("甘晓东")) // the same initials as 甘小弟: gxd
	lead := v.Client(t)
	lead.Login("villagelead")
	_, form := lead.Get("/staff/households/" + a + "/event?kind=merge")
	if !strings.Contains(form, `list="household-list"`) || !strings.Contains(form, `<option value="甘小弟户 · 第一村民组 · 8号">`) {
		t.Fatalf("the merge form has no household picker:\n%s", uitest.Text(form))
	}
	for q, want := range map[string]string{"查无此人": "没有找到“查无此人”所在的户", "gxd": "“gxd”找到2户"} {
		if st, _, body := lead.Post("/staff/households/"+a+"/event", url.Values{"kind": {"merge"}, "other": {q}}); st != 400 || !strings.Contains(body, want) {
			t.Errorf("merge with %q: %d %s", q, st, uitest.Text(body))
		}
	}
	if _, ms, _ := v.Store.Household(b); len(ms) != 1 || !ms[0].Active() {
		t.Fatal("a refused merge changed the other household")
	}
	// By door number, then the relation asked in the same step.
	st, _, body := lead.Post("/staff/households/"+a+"/event", url.Values{"kind": {"merge"}, "other": {"8号"}})
	if st == 400 && strings.Contains(body, `id="relations-form"`) {
		_, ms, _ := v.Store.Household(b)
		st, _, body = lead.Post("/staff/households/"+a+"/event", url.Values{"kind": {"merge"}, "other": {"8号"}, "rel." + ms[0].ID: {"弟"}})
	}
	if st != 303 {
		t.Fatalf("merge by door number: %d %s", st, uitest.Text(body))
	}
	if _, ms, _ := v.Store.Household(a); len(ms) != 2 {
		t.Fatalf("after merging 8号 into 7号: %d members", len(ms))
	}
}
