package ui_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// A kiosk report at the village goes up to the town, the town operator
// dispatches and resolves it over HTTP, the town's steps come back on its
// downward feed for the village only, and the village's /track page shows
// the town's result for the receipt code.
func TestTownResultOnVillageTrackHTTP(t *testing.T) {
	ctx := context.Background()
	v := mustCaseServer(t)
	vb := newBrowser(t, v.URL)
	var rc struct {
		Code string `json:"code"`
		PIN  string `json:"pin"`
	}
	if code := vb.api("POST", "/api/v1/kiosk/cases", "", map[string]any{"category": "public_affairs", "description": "村口路灯坏了一个月"}, &rc); code != 201 {
		t.Fatalf("kiosk report: %d", code)
	}
	var c appliance.Case
	if code := vb.api("POST", "/api/v1/cases/"+rc.Code+"/escalate", v.Tokens[appliance.RoleVillageLead], map[string]any{"text": "需镇里协调供电所"}, &c); code != 200 || c.Level != appliance.CaseLevelTown {
		t.Fatalf("escalate: %d %s", code, c.Level)
	}

	// The town node holds the village's feed.
	es, err := v.Store.Entries(v.Store.Feed(), 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	town := serveTown(t, es)
	ts, tcfg, base, tok := town.Store, town.Config, town.URL, town.Token
	tb := newBrowser(t, base)

	// The town's list shows the village's case at the town level.
	var list struct{ Items []appliance.Case }
	if code := tb.api("GET", "/api/v1/cases?level=town", tok, nil, &list); code != 200 || len(list.Items) != 1 || list.Items[0].ID != rc.Code {
		t.Fatalf("town list: %d %+v", code, list.Items)
	}
	if code := tb.api("POST", "/api/v1/cases/"+rc.Code+"/dispatch", tok, map[string]any{"departments": []string{"供电所"}, "text": "一周内修复"}, &c); code != 200 || c.Status != appliance.StatusDispatched {
		t.Fatalf("dispatch: %d %s", code, c.Status)
	}
	if code := tb.api("POST", "/api/v1/cases/"+rc.Code+"/resolve", tok, map[string]any{"text": "路灯已更换"}, &c); code != 200 || c.Status != appliance.StatusResolved {
		t.Fatalf("resolve: %d %s", code, c.Status)
	}
	// Per-village statistics on the town node.
	var stats struct{ Stats appliance.CaseStats }
	if code := tb.api("GET", "/api/v1/cases/stats", tok, nil, &stats); code != 200 || len(stats.Stats.ByVillage) != 1 || stats.Stats.ByVillage[0].N != 1 {
		t.Fatalf("town stats by village: %d %+v", code, stats.Stats.ByVillage)
	}
	if code, body := bearerGet(t, base, tok, "/staff/cases/stats"); code != 200 || !strings.Contains(body, "按村") {
		t.Fatalf("town stats page: %d, per-village chart missing", code)
	}

	// Down: only the town's downward feed for this village.
	down, err := ts.DownFeed(v.Server.Config.Node.Code)
	if err != nil {
		t.Fatal(err)
	}
	des, err := ts.Entries(down, 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Store.Ingest(des); err != nil {
		t.Fatal(err)
	}
	var p appliance.CaseProgress
	if code := vb.api("POST", "/api/v1/track", "", map[string]any{"code": rc.Code, "pin": rc.PIN}, &p); code != 200 || p.Status != appliance.StatusResolved || p.Result != "路灯已更换" {
		t.Fatalf("village track API: %d %+v", code, p)
	}
	code, body := vb.post("/track", url.Values{"code": {strings.ToLower(rc.Code)}, "pin": {rc.PIN}})
	if code != 200 || !strings.Contains(body, "路灯已更换") || !strings.Contains(body, "交办供电所") {
		t.Fatalf("village /track page: %d %s", code, body)
	}
	if _, err := v.Store.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Verify(ctx); err != nil {
		t.Fatal(err)
	}

	// The town's statistics go up; the city's statistics page and API show them.
	tcs, err := bolt.NewCases(ts, tcfg)
	if err != nil {
		t.Fatal(err)
	}
	if wrote, err := tcs.SendStatsUp(ctx, time.Now()); err != nil || !wrote {
		t.Fatalf("stats up: %v %v", wrote, err)
	}
	cdir := t.TempDir()
	cnode := appliance.Node{Role: appliance.NodeCity, Code: "410100000000", Name: "郑州市"}
	if _, err := bolt.InitDataDir(ctx, cdir, cnode, bolt.InitOptions{AdminPassword: "admin-pass-1"}); err != nil {
		t.Fatal(err)
	}
	cs, ccfg, err := bolt.OpenDataDir(cdir, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	up, err := ts.UpFeed()
	if err != nil {
		t.Fatal(err)
	}
	ues, err := ts.Entries(up, 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Ingest(ues); err != nil {
		t.Fatal(err)
	}
	cs.SetArgon2(bolt.Argon2Params{Time: 1, Memory: 64, Threads: 1})
	cop := appliance.User{ID: "u-city", Username: "city", Name: "市平台操作员", Role: appliance.RoleCityOperator, Grid: cnode.Code}
	if err := cs.CreateUser(ctx, "u-admin", cop, "password-123", false); err != nil {
		t.Fatal(err)
	}
	ctok, err := cs.CreateAPIToken(cop.ID)
	if err != nil {
		t.Fatal(err)
	}
	cbase, _ := serve(t, ccfg, cs)
	var reps struct{ Items []appliance.TownStats }
	if code := newBrowser(t, cbase).api("GET", "/api/v1/cases/town-reports", ctok, nil, &reps); code != 200 || len(reps.Items) != 1 || reps.Items[0].Stats.Total != 1 || reps.Items[0].Name != "龙湖镇" {
		t.Fatalf("city town reports: %d %+v", code, reps.Items)
	}
	if code, body := bearerGet(t, cbase, ctok, "/staff/cases/stats"); code != 200 || !strings.Contains(body, `id="town-reports"`) || !strings.Contains(body, "龙湖镇") {
		t.Fatalf("city stats page: %d", code)
	}
}

// bearerGet fetches a staff page with an API token.
func bearerGet(tb testing.TB, base, token, path string) (int, string) {
	tb.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}
