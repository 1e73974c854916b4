package ui_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// The lead enters the village's work team as lines; the duty desk signs a
// member in for the day and writes a journal entry; the page counts the
// days against those required; the duty lists are edited.
func TestWorkTeamPages(t *testing.T) {
	v := uitest.MustStart(t, uitest.Options{})
	a, _ := dutyPeople(t, v)
	lead := v.Client(t)
	lead.Login("villagelead")
	if st, _, body := lead.Post("/staff/teams", url.Values{"name": {"市派驻杏花村群众工作队"}, "members": {"王建军"}}); st != 400 || !strings.Contains(body, "第 1 行") {
		t.Fatalf("a line without a unit: %d", st)
	}
	if st, _, body := lead.Post("/staff/teams", url.Values{"name": {"市派驻杏花村群众工作队"}, "members": {"王建军，市自然资源局，13900000009，20，队长\n赵敏，龙湖镇政府，，15"}}); st != 303 {
		t.Fatalf("team: %d %s", st, uitest.Text(body))
	}
	team, err := v.Store.Team("410184104201")
	if err != nil || len(team.Members) != 2 || !team.Members[0].Leader || team.Members[1].Days != 15 {
		t.Fatalf("team %+v err %v", team, err)
	}
	desk := v.Client(t)
	desk.Login("dutystaff")
	if st, _, _ := desk.Post("/staff/teams/sign", url.Values{"member": {team.Members[0].ID}}); st != 303 {
		t.Fatalf("sign: %d", st)
	}
	if st, _, body := desk.Post("/staff/teams/sign", url.Values{"member": {team.Members[0].ID}}); st != 409 || !strings.Contains(body, "今天已经签到") {
		t.Fatalf("signed twice: %d", st)
	}
	if st, _, _ := desk.Post("/staff/teams/journal", url.Values{"member": {team.Members[1].ID}, "text": {"走访三组，听取修路意见。"}}); st != 303 {
		t.Fatalf("journal: %d", st)
	}
	_, page := desk.Get("/staff/teams")
	text := uitest.Text(page)
	for _, want := range []string{"王建军 队长 市自然资源局", "驻村 1 / 20 天", "驻村 0 / 15 天", "走访三组，听取修路意见。"} {
		if !strings.Contains(text, want) {
			t.Errorf("team page lacks %q:\n%s", want, text)
		}
	}
	// Linked to a staff record, a member's visits count as theirs.
	if st, _, _ := lead.Post("/staff/teams", url.Values{"members": {"王建军，市自然资源局，13900000009，20，队长，本村人员张守田\n赵敏，龙湖镇政府，，15"}}); st != 303 {
		t.Fatal("team with a staff link")
	}
	if linked, _ := v.Store.Team("410184104201"); linked.Members[0].StaffID != "410184104201-s1" || linked.Members[0].ID != team.Members[0].ID {
		t.Fatalf("link: %+v", linked.Members[0])
	}
	if _, page := desk.Get("/staff/teams"); !strings.Contains(uitest.Text(page), "本月走访 0 户次 · 登记问题 0 件 · 办理问题 0 件") {
		t.Errorf("no visit and case count for the linked member")
	}
	// The linked record's account registers a case and notes another: both
	// count as the member's, this month.
	a.UserID = "u-dutystaff"
	if err := v.Store.SetStaff(context.Background(), "", a); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"村西头水管漏水两天了", "二组路灯不亮"} {
		if st, _, body := desk.Post("/staff/cases/new", url.Values{"source": {"walk_in"}, "category": {v.Config.Cases.Categories[0].Key}, "description": {d}}); st != 200 {
			t.Fatalf("register: %d %s", st, uitest.Text(body))
		}
	}
	if _, page := desk.Get("/staff/teams"); !strings.Contains(uitest.Text(page), "登记问题 2 件（2 件未办结） · 办理问题 0 件") {
		t.Errorf("the linked member's cases are not counted:\n%s", uitest.Text(page))
	}
	// A note on a case the lead registered is one case handled.
	st, _, body := lead.Post("/staff/cases/new", url.Values{"source": {"walk_in"}, "category": {v.Config.Cases.Categories[0].Key}, "description": {"三组桥栏杆松了"}})
	code := receiptCodeRE.FindStringSubmatch(string(body))
	if st != 200 || code == nil {
		t.Fatalf("the lead registers: %d", st)
	}
	if st, _, _ := desk.Post("/staff/cases/"+code[1]+"/note", url.Values{"text": {"已电话告知村民"}}); st != 303 {
		t.Fatalf("note: %d", st)
	}
	if _, page := desk.Get("/staff/teams"); !strings.Contains(uitest.Text(page), "登记问题 2 件（2 件未办结） · 办理问题 1 件") {
		t.Errorf("the note is not counted as a case handled:\n%s", uitest.Text(page))
	}
	// The link is written back by name, not by code; the old code still
	// works; a name the village has not, or has twice, is refused.
	if _, page := lead.Get("/staff/teams"); !strings.Contains(page, "队长，本村人员张守田") || strings.Contains(page, "410184104201-s1") {
		t.Errorf("the edit form does not name the linked record:\n%s", uitest.Text(page))
	}
	if st, _, _ := lead.Post("/staff/teams", url.Values{"members": {"王建军，市自然资源局，13900000009，20，队长，410184104201-s1"}}); st != 303 {
		t.Fatal("team linked by code")
	}
	if st, _, body := lead.Post("/staff/teams", url.Values{"members": {"王建军，市自然资源局，13900000009，20，队长，本村人员王大锤"}}); st != 400 || !strings.Contains(body, "本村人员中没有“王大锤”") {
		t.Errorf("an unknown name: %d %s", st, uitest.Text(body))
	}
	if err := v.Store.SetStaff(context.Background(), "", appliance.StaffMember{ID: "410184104201-s3", Name: "张守田", Phone: "13800000003", Duty: appliance.DutyGridLeader, Grid: appliance.GroupCode("410184104201", 2)}); err != nil {
		t.Fatal(err)
	}
	if st, _, body := lead.Post("/staff/teams", url.Values{"members": {"王建军，市自然资源局，13900000009，20，队长，本村人员张守田"}}); st != 400 || !strings.Contains(body, "本村有2位叫“张守田”的人员") {
		t.Errorf("a name two records share: %d %s", st, uitest.Text(body))
	}
	// Re-entered, members keep their ids (their days stay theirs).
	if st, _, _ := lead.Post("/staff/teams", url.Values{"members": {"王建军，市自然资源局，13900000009，22，队长"}}); st != 303 {
		t.Fatal("team again")
	}
	if again, _ := v.Store.Team("410184104201"); len(again.Members) != 1 || again.Members[0].ID != team.Members[0].ID {
		t.Fatalf("ids after editing: %+v", again)
	}

	if st, _, _ := lead.Post("/staff/rules", url.Values{"id": {"village_systems"}, "title": {"杏花村十项制度"}, "items": {"日走访巡查制度\n值班制度\n"}}); st != 303 {
		t.Fatalf("rules: %d", st)
	}
	if st, _, body := lead.Post("/staff/rules", url.Values{"id": {"village_systems"}, "title": {"空"}, "items": {"  \n"}}); st != 400 || !strings.Contains(body, "清单应有") {
		t.Fatalf("empty list: %d", st)
	}
	_, rules := desk.Get("/staff/rules")
	if text := uitest.Text(rules); !strings.Contains(text, "杏花村十项制度") || !strings.Contains(text, "群众工作队十项任务") || strings.Contains(text, "首问负责制度") {
		t.Errorf("rules page:\n%s", text)
	}
}
