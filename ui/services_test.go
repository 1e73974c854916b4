package ui_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

var serviceCodeRE = regexp.MustCompile(`id="service-code"[^>]*>([A-Z0-9-]+)<`)

// A proxy service (代办) from the villager's request at the kiosk, by
// touch with a callback phone, to the papers given back: scheduled, papers
// taken, not done while papers are out, given back, done, the villager's
// feedback; then the town's list of its villages' services.
func TestProxyServiceKioskToPapersReturned(t *testing.T) {
	ctx := context.Background()
	v := uitest.MustStart(t, uitest.Options{})
	a, _ := dutyPeople(t, v)
	kiosk := v.Client(t) // 127.0.0.1: the kiosk screen

	if st, body := kiosk.Get("/services"); st != 200 || !strings.Contains(body, `href="/services/ask?item=%e4%bd%8e%e4%bf%9d%e7%94%b3%e8%af%b7"`) && !strings.Contains(body, "/services/ask?item=低保申请") {
		t.Fatalf("kiosk services: %d, no ask button for 低保申请", st)
	}
	if st, body := kiosk.Get("/services/ask?item=" + url.QueryEscape("低保申请")); st != 200 || !strings.Contains(body, `value="代办服务" checked`) {
		t.Fatalf("ask page: %d", st)
	}
	st, _, body := kiosk.Post("/services/ask", url.Values{"item": {"低保申请"}, "kind": {"代办服务"}, "phone": {"１３９1234"}})
	if st != 400 || !strings.Contains(body, "电话") {
		t.Fatalf("bad phone: %d", st)
	}
	st, _, body = kiosk.Post("/services/ask", url.Values{"item": {"低保申请"}, "kind": {"代办服务"}, "phone": {"139 1234 5678"}})
	m := serviceCodeRE.FindStringSubmatch(body)
	if st != 200 || m == nil || strings.Contains(body, "13912345678") {
		t.Fatalf("asked: %d (code shown, phone not)", st)
	}
	ref := "410184104201." + m[1]
	reqs, _ := v.Store.FindServiceRequests("410184104201/", "2000-01-01")
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1 (the refused one wrote nothing)", len(reqs))
	}

	desk := v.Client(t)
	desk.Login("dutystaff")
	if st, page := desk.Get("/staff/services/" + ref); st != 200 || !strings.Contains(page, "13912345678") || !strings.Contains(page, "待安排") {
		t.Fatalf("desk sees the request without its callback phone:\n%s", uitest.Text(page))
	}
	step := func(form url.Values) (int, string) {
		t.Helper()
		st, _, body := desk.Post("/staff/services/"+ref, form)
		return st, body
	}
	if st, body := step(url.Values{"step": {"schedule"}, "date": {"2026-12-09"}}); st != 400 || !strings.Contains(body, "负责人") {
		t.Fatalf("scheduled without anyone: %d", st)
	}
	if st, _ := step(url.Values{"step": {"schedule"}, "staff": {a.ID}, "date": {"2026-12-09"}, "time": {"09:30"}}); st != 303 {
		t.Fatalf("schedule: %d", st)
	}
	if st, _ := step(url.Values{"step": {"take"}, "papers": {"户口簿、身份证复印件"}}); st != 303 {
		t.Fatalf("take: %d", st)
	}
	if st, body := step(url.Values{"step": {"done"}, "outcome": {"已报镇民政所"}}); st != 400 || !strings.Contains(body, "没有退还") {
		t.Fatalf("done with papers out: %d", st)
	}
	if st, body := step(url.Values{"step": {"feedback"}, "feedback": {"good"}}); st != 400 || !strings.Contains(body, "办结以后") {
		t.Fatalf("feedback before done: %d", st)
	}
	if st, _ := step(url.Values{"step": {"return"}, "paper": {"0", "1"}}); st != 303 {
		t.Fatalf("return: %d", st)
	}
	if st, _ := step(url.Values{"step": {"done"}, "outcome": {"已报镇民政所，审批通过"}}); st != 303 {
		t.Fatalf("done: %d", st)
	}
	if st, _ := step(url.Values{"step": {"feedback"}, "feedback": {"good"}}); st != 303 {
		t.Fatalf("feedback: %d", st)
	}
	r, err := v.Store.ServiceRequest("410184104201", m[1])
	if err != nil {
		t.Fatal(err)
	}
	if r.State != appliance.RequestDone || r.StaffName != a.Name || len(r.Papers) != 2 || r.PapersOut() || r.Papers[1].Name != "身份证复印件" || r.Feedback != "good" || r.Source != "kiosk" {
		t.Fatalf("request at the end: %+v", r)
	}
	if _, page := desk.Get("/staff/services/" + ref); !strings.Contains(page, "已退还") || !strings.Contains(page, "满意") {
		t.Errorf("request page after the return")
	}

	tw := uitest.MustStart(t, uitest.Options{Role: appliance.NodeTown, Code: "410184104000", Name: "龙湖镇"})
	if err := tw.Store.Enrol(ctx, "u-admin", appliance.Enrolment{Key: v.Store.Feed().String(), Code: "410184104201", Name: "杏花村", Role: appliance.NodeVillage}); err != nil {
		t.Fatal(err)
	}
	es, _ := v.Store.Entries(v.Store.Feed(), 1, 1<<30)
	if _, err := tw.Store.Ingest(es); err != nil {
		t.Fatal(err)
	}
	town := tw.Client(t)
	town.Login("townoperator")
	_, list := town.Get("/staff/services")
	if text := uitest.Text(list); !strings.Contains(text, "低保申请") || !strings.Contains(text, "杏花村") || !strings.Contains(text, "代办服务 1 件") {
		t.Errorf("town's services:\n%s", text)
	}
	if _, page := town.Get("/staff/services/" + ref); strings.Contains(page, "13912345678") {
		t.Error("the town's operator sees the villager's phone")
	}
}

// A home service entered by staff for an old man living alone shows on
// the list of households in difficulty with the services they received.
func TestServicesForHouseholdsInDifficulty(t *testing.T) {
	ctx := context.Background()
	v := uitest.MustStart(t, uitest.Options{})
	a, _ := dutyPeople(t, v)
	hid, err := v.Store.CreateHousehold(ctx, "u-admin", appliance.Household{Group: appliance.GroupCode("410184104201", 1), Address: "杏花村一组3号", HouseNo: "3号"},
		[]appliance.Person{{Name: "王建国", Relation: appliance.RelationHead, Gender: "男", Birth: "1948-03-01"}})
	if err != nil {
		t.Fatal(err)
	}
	lead := v.Client(t)
	lead.Login("villagelead")
	if _, page := lead.Get("/staff/services/households"); !strings.Contains(uitest.Text(page), "王建国户") || !strings.Contains(page, "今年还没有服务") {
		t.Fatalf("difficulty list before:\n%s", uitest.Text(page))
	}
	// The household is picked as people know it (pinyin initials here),
	// not by its code; a name that finds none is refused, writing nothing.
	if _, page := lead.Get("/staff/services"); !strings.Contains(page, `name="household_q"`) || !strings.Contains(page, `<option value="王建国户 · 第一村民组 · 3号">`) {
		t.Errorf("no household picker on the desk:\n%s", page)
	}
	before, _ := v.Store.FindServiceRequests("410184104201/", "2000-01-01")
	if st, _, body := lead.Post("/staff/services", url.Values{"item": {"老年人上门服务"}, "kind": {"上门服务"}, "household_q": {"没有这户"}, "summary": {"上门"}}); st != 400 || !strings.Contains(body, "没有找到“没有这户”所在的户") {
		t.Errorf("an unknown household: %d %s", st, uitest.Text(body))
	}
	if after, _ := v.Store.FindServiceRequests("410184104201/", "2000-01-01"); len(after) != len(before) {
		t.Errorf("a refused request was written")
	}
	st, loc, _ := lead.Post("/staff/services", url.Values{"item": {"老年人上门服务"}, "kind": {"上门服务"}, "household_q": {"wjg"}, "summary": {"上门办理高龄补贴认证"}})
	if st != 303 {
		t.Fatalf("new request: %d", st)
	}
	if got, _ := v.Store.FindServiceRequests("410184104201/", "2000-01-01"); len(got) != 1 || got[0].Household != hid {
		t.Fatalf("the request's household: %+v, want %s", got, hid)
	}
	for _, f := range []url.Values{{"step": {"schedule"}, "staff": {a.ID}, "date": {"2026-12-09"}}, {"step": {"done"}, "outcome": {"已上门完成认证"}}} {
		if st, _, _ := lead.Post(loc, f); st != 303 {
			t.Fatalf("%s: %d", f.Get("step"), st)
		}
	}
	_, page := lead.Get("/staff/services/households")
	if text := uitest.Text(page); !strings.Contains(text, "独居老人") || !strings.Contains(text, "今年 1 次") || !strings.Contains(text, "老年人上门服务（上门服务）") {
		t.Errorf("difficulty list after:\n%s", text)
	}
}
