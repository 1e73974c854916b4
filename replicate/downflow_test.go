package replicate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/ui"
)

// serveHTTP serves the node's web pages on a random loopback port, as
// `gridbox serve` does (a town keeps copying down while it serves).
func (tn *testNode) serveHTTP(t *testing.T) string {
	t.Helper()
	cfg := appliance.DefaultConfig()
	cfg.Node = tn.Node
	srv, err := ui.NewServer(cfg, tn.Store, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

// token makes an account with role on the node and returns its API token.
func (tn *testNode) token(t *testing.T, role appliance.Role) string {
	t.Helper()
	tn.Store.SetArgon2(bolt.Argon2Params{Time: 1, Memory: 64, Threads: 1})
	u := appliance.User{ID: "u-" + string(role), Username: strings.ReplaceAll(string(role), "_", ""), Name: "测试" + role.Label(), Role: role, Grid: tn.Node.Code}
	if err := tn.Store.CreateUser(context.Background(), "u-admin", u, "password-123", false); err != nil {
		t.Fatal(err)
	}
	tok, err := tn.Store.CreateAPIToken(u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var noRedirect = &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// httpDo sends a request (a form when form is set, JSON when in is set)
// and returns the status and body.
func httpDo(t *testing.T, method, base, path, token string, form url.Values, in any) (int, string) {
	t.Helper()
	var body io.Reader
	ctype := ""
	switch {
	case form != nil:
		body, ctype = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	case in != nil:
		b, _ := json.Marshal(in)
		body, ctype = bytes.NewReader(b), "application/json"
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func kiosk(t *testing.T, base, path string) string {
	t.Helper()
	code, body := httpDo(t, "GET", base, path, "", nil, nil)
	if code != 200 {
		t.Fatalf("GET %s%s: %d", base, path, code)
	}
	return body
}

// A town operator publishes notices on the town's page; over real
// memberlist nodes they reach the kiosks of the villages chosen, marked as
// the town's, and no other; an edit and a withdrawal follow; a village
// enrolled later gets what is current; the town's duty roster shows under
// 镇值班; a village's own notice with the same id stays its own; every
// node verifies.
func TestTownNoticeReachesVillages(t *testing.T) {
	town := MustOpenNode(t, appliance.NodeTown, townCode, "").Start()
	v1 := MustOpenNode(t, appliance.NodeVillage, villageCode, town.R.Addr())
	v2 := MustOpenNode(t, appliance.NodeVillage, villageCode2, town.R.Addr())
	v3 := MustOpenNode(t, appliance.NodeVillage, "410184104203", town.R.Addr())
	town.Enrol(v1)
	town.Enrol(v2)
	for _, v := range []*testNode{v1, v2, v3} {
		v.Start()
	}
	tb, b1, b2, b3 := town.serveHTTP(t), v1.serveHTTP(t), v2.serveHTTP(t), v3.serveHTTP(t)
	op := town.token(t, appliance.RoleTownOperator)
	cfg := appliance.DefaultConfig()
	today := time.Now().In(cfg.Location()).Format("2006-01-02")
	from := town.Node.Name + "发布"

	publish := func(form url.Values) {
		t.Helper()
		form.Set("published", today)
		if code, body := httpDo(t, "POST", tb, "/staff/notices", op, form, nil); code != http.StatusSeeOther {
			t.Fatalf("publish %v: %d %s", form, code, body)
		}
	}
	// Refused: "some villages" with none chosen, or a village not enrolled.
	for _, bad := range []url.Values{
		{"title": {"没有选村"}, "body": {"…"}, "to_mode": {"some"}},
		{"title": {"未登记的村"}, "body": {"…"}, "to_mode": {"some"}, "to": {v3.Node.Code}},
	} {
		bad.Set("published", today)
		code, body := httpDo(t, "POST", tb, "/staff/notices", op, bad, nil)
		if code != http.StatusBadRequest || !strings.Contains(body, `id="notice-to" aria-invalid="true"`) {
			t.Fatalf("refused notice form: %d", code)
		}
	}
	if ns, _ := town.Store.FindNotices(townCode); len(ns) != 0 {
		t.Fatalf("a refused form wrote %d notices", len(ns))
	}
	publish(url.Values{"title": {"秋季森林防火通知"}, "body": {"严禁野外用火。"}, "to_mode": {"all"}})
	publish(url.Values{"title": {"杏花村段道路施工"}, "body": {"请绕行。"}, "to_mode": {"some"}, "to": {v1.Node.Code}})
	// In the same request the copies are on the villages' downward feeds.
	d1, _ := town.Store.DownFeed(v1.Node.Code)
	d2, _ := town.Store.DownFeed(v2.Node.Code)
	if town.Head(d1) < 3 || town.Head(d2) < 2 {
		t.Fatalf("downward feeds after publishing: %d, %d entries", town.Head(d1), town.Head(d2))
	}
	var ids struct{ Items []appliance.Notice }
	if code, body := httpDo(t, "GET", tb, "/api/v1/notices", "", nil, nil); code != 200 || json.Unmarshal([]byte(body), &ids) != nil || len(ids.Items) != 2 {
		t.Fatalf("town notices: %d %s", code, body)
	}
	fire, road := ids.Items[0], ids.Items[1]
	if fire.Title != "秋季森林防火通知" {
		fire, road = road, fire
	}
	// The town's duty roster for today.
	admin, err := town.Store.CreateAPIToken("u-admin")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := httpDo(t, "POST", tb, "/api/v1/duty", admin, nil, map[string]string{"date": today, "shift": "白班", "staff_id": "410184104000-s01", "name": "赵平安", "phone": "13900001111"}); code != 201 {
		t.Fatalf("town duty: %d %s", code, body)
	}

	waitFor(t, 10*time.Second, "both notices on village 1's kiosk", func() bool {
		b := kiosk(t, b1, "/notices")
		return strings.Contains(b, "秋季森林防火通知") && strings.Contains(b, "杏花村段道路施工") && strings.Contains(b, from)
	})
	waitFor(t, 10*time.Second, "the notice for all on village 2's kiosk", func() bool {
		return strings.Contains(kiosk(t, b2, "/notices"), "秋季森林防火通知")
	})
	waitFor(t, 10*time.Second, "the town's duty on village 1's kiosk", func() bool {
		b := kiosk(t, b1, "/duty")
		return strings.Contains(b, "镇值班") && strings.Contains(b, "赵平安") && strings.Contains(b, "13900001111")
	})
	if b := kiosk(t, b1, "/"); !strings.Contains(b, "镇值班") || !strings.Contains(b, "赵平安") {
		t.Fatal("today's town duty missing on village 1's kiosk home")
	}
	if b := kiosk(t, b1, "/notices/"+fire.ID+"?grid="+townCode); !strings.Contains(b, "严禁野外用火") || !strings.Contains(b, from) {
		t.Fatal("the town's notice page on village 1's kiosk")
	}
	if strings.Contains(kiosk(t, b2, "/notices"), "杏花村段道路施工") {
		t.Fatal("village 2 shows a notice meant for village 1 only")
	}
	if b := kiosk(t, b3, "/notices"); strings.Contains(b, "秋季森林防火通知") {
		t.Fatal("an unenrolled village shows the town's notice")
	}

	// A village's own notice with the town's id stays apart from it.
	vtok, err := v1.Store.CreateAPIToken("u-admin")
	if err != nil {
		t.Fatal(err)
	}
	if code, body := httpDo(t, "POST", b1, "/api/v1/notices", vtok, nil, map[string]any{"id": fire.ID, "title": "村委会议通知", "body": "周五开会。"}); code != 201 {
		t.Fatalf("village notice: %d %s", code, body)
	}
	if b := kiosk(t, b1, "/notices"); !strings.Contains(b, "村委会议通知") || !strings.Contains(b, "秋季森林防火通知") {
		t.Fatal("village 1 lost one of two notices sharing an id")
	}
	if b := kiosk(t, b1, "/notices/"+fire.ID+"?grid="+villageCode); !strings.Contains(b, "周五开会") {
		t.Fatal("the village's own notice page")
	}

	// Edit, withdrawal, and a village enrolled later.
	publish(url.Values{"id": {fire.ID}, "title": {"秋季森林防火通知（修订）"}, "body": {"严禁野外用火，违者依法处理。"}, "to_mode": {"all"}})
	if code, _ := httpDo(t, "POST", tb, "/staff/notices", op, url.Values{"id": {road.ID}, "withdraw": {"1"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", code)
	}
	town.Enrol(v3)
	for _, b := range []string{b1, b2, b3} {
		waitFor(t, 10*time.Second, "the revised notice on every enrolled village's kiosk", func() bool {
			return strings.Contains(kiosk(t, b, "/notices"), "秋季森林防火通知（修订）")
		})
	}
	waitFor(t, 10*time.Second, "the withdrawn notice gone from village 1", func() bool {
		return !strings.Contains(kiosk(t, b1, "/notices"), "杏花村段道路施工")
	})
	waitFor(t, 10*time.Second, "the town's duty on the late village's kiosk", func() bool {
		return strings.Contains(kiosk(t, b3, "/duty"), "赵平安")
	})

	// The town shows its own notices once each.
	if ns, err := town.Store.FindNotices(townCode); err != nil || len(ns) != 1 || ns[0].Title != "秋季森林防火通知（修订）" {
		t.Fatalf("the town's notices: %+v %v", ns, err)
	}
	time.Sleep(300 * time.Millisecond) // let the last offers settle
	if v2.Head(d1) != 0 || v1.Head(d2) != 0 || v1.Head(town.Store.Feed()) != 0 {
		t.Fatal("a village received more than its own downward feed")
	}
	for _, n := range []*testNode{town, v1, v2, v3} {
		n.MustVerify()
	}
}

// A city sees each town's statistics for a chosen week, month, quarter or
// year over real memberlist nodes and HTTP: cases in two weeks at two
// towns give each week its own figures and ranking, the year all of them;
// a town that sent nothing is named; every node verifies.
func TestCityTownRankingByPeriod(t *testing.T) {
	ctx := context.Background()
	city := MustOpenNode(t, appliance.NodeCity, cityCode, "").Start()
	t1 := MustOpenNode(t, appliance.NodeTown, townCode, city.R.Addr())
	t2 := MustOpenNode(t, appliance.NodeTown, "410184105000", city.R.Addr())
	city.Enrol(t1)
	city.Enrol(t2)
	// A third town enrolled at the city that never reports.
	if err := city.Store.Enrol(ctx, "u-admin", appliance.Enrolment{Key: strings.Repeat("ab", 32), Code: "410184106000", Name: "未报镇", Role: appliance.NodeTown}); err != nil {
		t.Fatal(err)
	}
	t1.Start()
	t2.Start()
	v1 := MustOpenNode(t, appliance.NodeVillage, villageCode, t1.R.Addr())
	t1.Enrol(v1)
	v1.Start()

	cfg := appliance.DefaultConfig()
	loc := cfg.Location()
	week1 := time.Date(2026, 11, 3, 9, 0, 0, 0, loc)
	week2 := time.Date(2026, 11, 11, 9, 0, 0, 0, loc)
	register := func(cs *bolt.Cases, at time.Time, n int, resolve bool) {
		t.Helper()
		cs.Now = func() time.Time { return at }
		levels := appliance.LevelsOf(cs.Config.Node.Role)
		for i := 0; i < n; i++ {
			r, err := cs.RegisterCase(ctx, "", bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourcePhone, Description: "道路破损"})
			if err != nil {
				t.Fatal(err)
			}
			if resolve {
				if _, err := cs.Act(ctx, "u-admin", levels, appliance.CaseStep{Case: r.Code, Action: appliance.CaseResolve, Text: "已修复"}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	vc, c1, c2 := v1.cases(t), t1.cases(t), t2.cases(t)
	register(vc, week1, 2, false) // at the village, up to the first town
	register(vc, week2, 3, false)
	register(c2, week1, 1, true) // at the second town itself
	register(c2, week2, 2, true)
	waitFor(t, 10*time.Second, "the village's cases at the first town", func() bool {
		st, err := c1.Stats(bolt.CaseStatsFilter{}, week2)
		return err == nil && st.Total == 5
	})
	for _, cs := range []*bolt.Cases{c1, c2} {
		if wrote, err := cs.SendStatsUp(ctx, week2); err != nil || !wrote {
			t.Fatalf("stats up: %v %v", wrote, err)
		}
	}
	cc := city.cases(t)
	waitFor(t, 10*time.Second, "both towns' reports at the city", func() bool {
		reps, err := cc.TownPeriodReports("week", "2026-11-02")
		return err == nil && len(reps) == 2
	})

	cb := city.serveHTTP(t)
	ctok := city.token(t, appliance.RoleCityOperator)
	page := func(query string) string {
		t.Helper()
		code, body := httpDo(t, "GET", cb, "/staff/cases/towns?"+query, ctok, nil, nil)
		if code != 200 {
			t.Fatalf("ranking %s: %d", query, code)
		}
		return body
	}
	// order returns the towns' names in the ranking's row order.
	order := func(body string) string {
		i := strings.Index(body, `id="town-ranking"`)
		if i < 0 {
			t.Fatalf("no ranking table in %s", body)
		}
		a, b := strings.Index(body[i:], t1.Node.Name), strings.Index(body[i:], t2.Node.Name)
		switch {
		case a < 0 || b < 0:
			return "missing"
		case a < b:
			return "1,2"
		}
		return "2,1"
	}
	row := func(body, name string) string {
		i := strings.Index(body, "<td>"+name+"</td>")
		if i < 0 {
			t.Fatalf("no row for %s", name)
		}
		return body[i : i+strings.Index(body[i:], "</tr>")]
	}
	// Week 2: the first town has 3 open cases, the second 2 resolved.
	w2 := page("period=week&date=2026-11-12")
	if order(w2) != "2,1" || !strings.Contains(row(w2, t1.Node.Name), "<td>3</td><td>0</td>") || !strings.Contains(row(w2, t2.Node.Name), "<td>2</td><td>2</td><td>100.0%</td>") {
		t.Fatalf("week 2 ranking by on-time rate: %s", w2)
	}
	if !strings.Contains(w2, "未报镇") || !strings.Contains(w2, `id="missing-towns"`) {
		t.Fatal("the town that sent nothing is not named")
	}
	if order(page("period=week&date=2026-11-12&sort=total")) != "1,2" {
		t.Fatal("week 2 ranking by cases")
	}
	w1 := page("period=week&date=2026-11-02")
	if !strings.Contains(row(w1, t1.Node.Name), "<td>2</td><td>0</td>") || !strings.Contains(row(w1, t2.Node.Name), "<td>1</td><td>1</td>") {
		t.Fatalf("week 1: %s", w1)
	}
	year := page("period=year&date=2026-05-01&sort=total")
	if order(year) != "1,2" || !strings.Contains(row(year, t1.Node.Name), "<td>5</td>") || !strings.Contains(row(year, t2.Node.Name), "<td>3</td><td>3</td>") {
		t.Fatalf("year: %s", year)
	}
	if !strings.Contains(w1, "2026年11月2日 至 11月8日") || !strings.Contains(w1, "2026年11月9日 至 11月15日") {
		t.Fatal("past weeks not offered")
	}
	// Bad input is named.
	if code, body := httpDo(t, "GET", cb, "/staff/cases/towns?period=fortnight", ctok, nil, nil); code != 400 || !strings.Contains(body, `name="period" aria-invalid="true"`) {
		t.Fatalf("bad period: %d", code)
	}
	// The API gives the same reports.
	var reps struct{ Items []appliance.TownStats }
	if code, body := httpDo(t, "GET", cb, "/api/v1/cases/town-reports?period=month&date=2026-11-20", ctok, nil, nil); code != 200 || json.Unmarshal([]byte(body), &reps) != nil || len(reps.Items) != 2 || reps.Items[0].Stats.Total != 5 || reps.Items[0].Stats.Period != "month" {
		t.Fatalf("town reports API: %d %s", code, body)
	}
	for _, n := range []*testNode{city, t1, t2, v1} {
		n.MustVerify()
	}
}
