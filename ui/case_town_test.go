package ui_test

import (
	"context"
	"strings"
	"testing"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// The town's steps over HTTP on a town node that holds a village's feed:
// dispatch to departments, a joint meeting, a milestone, the result; a
// village-level step is refused there.
func TestCaseTownHTTP(t *testing.T) {
	ctx := context.Background()
	vdir := t.TempDir()
	vnode := appliance.Node{Role: appliance.NodeVillage, Code: "410184104201", Name: "杏花村"}
	if _, err := bolt.InitDataDir(ctx, vdir, vnode, bolt.InitOptions{AdminPassword: "admin-pass-1"}); err != nil {
		t.Fatal(err)
	}
	vs, vcfg, err := bolt.OpenDataDir(vdir, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer vs.Close()
	vc, _ := bolt.NewCases(vs, vcfg)
	r, err := vc.RegisterCase(ctx, "u-admin", bolt.CaseIntake{Category: "work_safety", Source: appliance.SourcePhone, Description: "小作坊电线乱拉，怕着火"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vc.Act(ctx, "u-admin", []string{appliance.CaseLevelVillage}, appliance.CaseStep{Case: r.Code, Action: appliance.CaseEscalate, Text: "需镇安监站处理"}); err != nil {
		t.Fatal(err)
	}
	es, err := vs.Entries(vs.Feed(), 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}

	town := serveTown(t, es)
	base, tok := town.URL, town.Token
	b := newBrowser(t, base)
	var c appliance.Case
	steps := []struct {
		action string
		body   map[string]any
		status string
	}{
		{"dispatch", map[string]any{"departments": []string{"安监站", "供电所"}, "text": "三日内排查"}, appliance.StatusDispatched},
		{"meeting", map[string]any{"attendees": []string{"安监站", "供电所", "杏花村委会"}, "text": "联合整改"}, appliance.StatusDispatched},
		{"milestone", map[string]any{"text": "已断电整改"}, appliance.StatusInSteps},
		{"resolve", map[string]any{"text": "线路已重新敷设"}, appliance.StatusResolved},
	}
	for _, st := range steps {
		if code := b.api("POST", "/api/v1/cases/"+r.Code+"/"+st.action, tok, st.body, &c); code != 200 || c.Status != st.status {
			t.Fatalf("%s: %d %s", st.action, code, c.Status)
		}
	}
	// Feedback is the village's work now; the town may only add notes.
	var e struct {
		Error struct{ Code, Message string }
	}
	if code := b.api("POST", "/api/v1/cases/"+r.Code+"/feedback", tok, map[string]any{"how": "电话"}, &e); code != 403 {
		t.Fatalf("town feedback: %d %+v", code, e)
	}
	if code := b.api("POST", "/api/v1/cases/"+r.Code+"/note", tok, map[string]any{"text": "请村里及时反馈"}, &c); code != 200 {
		t.Fatalf("town note: %d", code)
	}
	// The town's list names each case's village and filters by it.
	if err := town.Store.Enrol(ctx, "u-admin", appliance.Enrolment{Key: vs.Feed().String(), Code: vnode.Code, Name: vnode.Name, Role: appliance.NodeVillage}); err != nil {
		t.Fatal(err)
	}
	code, page := bearerGet(t, base, tok, "/staff/cases?village="+vnode.Code)
	if code != 200 || !strings.Contains(page, "<th>村</th>") || !strings.Contains(page, "<td>杏花村</td>") || !strings.Contains(page, `<option value="410184104201" selected>杏花村</option>`) || !strings.Contains(page, r.Code) {
		t.Fatalf("town case list: %d", code)
	}
	if code, page := bearerGet(t, base, tok, "/staff/cases?village=410184104202"); code != 200 || strings.Contains(page, r.Code) {
		t.Fatalf("town case list of another village: %d, shows the case", code)
	}
	var stats struct{ Stats appliance.CaseStats }
	if code := b.api("GET", "/api/v1/cases/stats", tok, nil, &stats); code != 200 || stats.Stats.Total != 1 || stats.Stats.Meetings != 1 || stats.Stats.ByLevel[2].N != 1 {
		t.Fatalf("town stats: %d %+v", code, stats.Stats)
	}
}

var townNode = appliance.Node{Role: appliance.NodeTown, Code: "410184104000", Name: "龙湖镇"}

// townServer is a served town node with a town operator's API token.
type townServer struct {
	Store  *bolt.Store
	Config appliance.Config
	URL    string
	Token  string
}

// serveTown makes a town node that holds the given entries of its
// villages, with a town operator, and serves it until the test ends.
func serveTown(t *testing.T, entries []*appliance.Entry) townServer {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := bolt.InitDataDir(ctx, dir, townNode, bolt.InitOptions{AdminPassword: "admin-pass-1"}); err != nil {
		t.Fatal(err)
	}
	ts, cfg, err := bolt.OpenDataDir(dir, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ts.Close() })
	if _, err := ts.Ingest(entries); err != nil {
		t.Fatal(err)
	}
	ts.SetArgon2(bolt.Argon2Params{Time: 1, Memory: 64, Threads: 1})
	op := appliance.User{ID: "u-town", Username: "town", Name: "镇平台操作员", Role: appliance.RoleTownOperator, Grid: townNode.Code}
	if err := ts.CreateUser(ctx, "u-admin", op, "password-123", false); err != nil {
		t.Fatal(err)
	}
	tok, err := ts.CreateAPIToken(op.ID)
	if err != nil {
		t.Fatal(err)
	}
	base, _ := serve(t, cfg, ts)
	return townServer{Store: ts, Config: cfg, URL: base, Token: tok}
}
