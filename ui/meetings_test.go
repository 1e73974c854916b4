package ui_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/ui/internal/uitest"
)

var agendaRE = regexp.MustCompile(`(?s)<textarea name="agenda"[^>]*>(.*?)</textarea>`)

// A weekly meeting from its proposed agenda to an action item that
// becomes a case, then the town's view of it once the village's feed has
// reached the town: the meeting, its attendance and its open item, which
// the town reads but cannot change.
func TestMeetingToCaseAndTown(t *testing.T) {
	ctx := context.Background()
	v := uitest.MustStart(t, uitest.Options{})
	cs, err := bolt.NewCases(v.Store, v.Config)
	if err != nil {
		t.Fatal(err)
	}
	open, err := cs.RegisterCase(ctx, "u-dutystaff", bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourcePhone, Description: "二组水渠堵塞，下雨漫到路上"})
	if err != nil {
		t.Fatal(err)
	}
	lead := v.Client(t)
	lead.Login("villagelead")

	st, body := lead.Get("/staff/meetings?kind=weekly")
	m := agendaRE.FindStringSubmatch(body)
	if st != 200 || m == nil {
		t.Fatalf("meetings page: %d", st)
	}
	agenda := html.UnescapeString(m[1])
	if !strings.Contains(agenda, "["+open.Code+"] 二组水渠堵塞") || !strings.Contains(agenda, "本周走访情况") {
		t.Fatalf("proposed agenda lacks the open case or the visits:\n%s", agenda)
	}
	st, loc, _ := lead.Post("/staff/meetings", url.Values{"kind": {"weekly"}, "title": {"第50周工作碰头会"}, "date": {"2026-12-14"}, "time": {"09:00"}, "agenda": {agenda}})
	if st != 303 || !strings.HasPrefix(loc, "/staff/meetings/410184104201.") {
		t.Fatalf("schedule: %d %s", st, loc)
	}
	ref := strings.TrimPrefix(loc, "/staff/meetings/")
	if st, _, _ := lead.Post(loc+"/sign", nil); st != 303 {
		t.Fatalf("sign: %d", st)
	}
	if st, _, body := lead.Post(loc+"/sign", nil); st != 409 || !strings.Contains(body, "已经签到") {
		t.Fatalf("signed twice: %d", st)
	}

	// An item without its owner is refused and makes no case.
	before, _, _ := cs.FindCases(bolt.CaseFilter{})
	st, _, body = lead.Post(loc+"/actions", url.Values{"text": {"清理二组水渠"}, "due": {"2026-12-20"}, "make_case": {"1"}, "category": {"public_affairs"}})
	if st != 400 || !strings.Contains(body, "责任人") {
		t.Fatalf("item without owner: %d", st)
	}
	if after, _, _ := cs.FindCases(bolt.CaseFilter{}); len(after) != len(before) {
		t.Fatalf("a refused item made a case: %d cases, had %d", len(after), len(before))
	}
	st, _, _ = lead.Post(loc+"/actions", url.Values{"text": {"清理二组水渠"}, "owner": {"李秀兰"}, "due": {"2026-12-20"}, "make_case": {"1"}, "category": {"public_affairs"}})
	if st != 303 {
		t.Fatalf("item: %d", st)
	}
	if st, _, _ := lead.Post(loc+"/actions", url.Values{"text": {"回访王家"}, "owner": {"张守田"}, "due": {"2026-12-16"}, "case": {strings.ToLower(open.Code)}}); st != 303 {
		t.Fatalf("item on the open case: %d", st)
	}
	if st, _, _ := lead.Post(loc, url.Values{"agenda": {agenda}, "minutes": {"议定组织清理水渠。"}, "decisions": {"本周内清理二组水渠"}, "state": {"held"}}); st != 303 {
		t.Fatalf("minutes: %d", st)
	}
	after, _, _ := cs.FindCases(bolt.CaseFilter{})
	if len(after) != len(before)+1 || after[0].Source != appliance.SourceMeeting || !strings.Contains(after[0].Description, "清理二组水渠") {
		t.Fatalf("the item's case: %+v", after[0])
	}
	made := after[0].ID
	_, page := lead.Get(loc)
	for _, want := range []string{made, open.Code, "李秀兰", "议定组织清理水渠", "测试村负责人"} {
		if !strings.Contains(page, want) {
			t.Errorf("meeting page lacks %q", want)
		}
	}
	if _, dash := lead.Get("/staff"); !strings.Contains(uitest.Text(dash), "2 会议未完成事项") {
		t.Errorf("dashboard lacks the open items:\n%s", uitest.Text(dash))
	}

	// The town, after the village's feed has come up.
	tw := uitest.MustStart(t, uitest.Options{Role: appliance.NodeTown, Code: "410184104000", Name: "龙湖镇"})
	if err := tw.Store.Enrol(ctx, "u-admin", appliance.Enrolment{Key: v.Store.Feed().String(), Code: "410184104201", Name: "杏花村", Role: appliance.NodeVillage}); err != nil {
		t.Fatal(err)
	}
	es, err := v.Store.Entries(v.Store.Feed(), 1, 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Store.Ingest(es); err != nil {
		t.Fatal(err)
	}
	town := tw.Client(t)
	town.Login("townoperator")
	_, list := town.Get("/staff/meetings")
	text := uitest.Text(list)
	for _, want := range []string{"第50周工作碰头会", "杏花村", "清理二组水渠", "回访王家", made} {
		if !strings.Contains(text, want) {
			t.Errorf("town's meeting list lacks %q:\n%s", want, text)
		}
	}
	if st, page := town.Get("/staff/meetings/" + ref); st != 200 || !strings.Contains(page, "议定组织清理水渠") || strings.Contains(page, `id="minutes-form"`) {
		t.Errorf("town's view of the meeting: %d (read-only, with the minutes)", st)
	}
	if st, _, _ := town.Post("/staff/meetings/"+ref, url.Values{"minutes": {"改"}}); st != 403 {
		t.Errorf("town changed a village's meeting: %d", st)
	}
}
