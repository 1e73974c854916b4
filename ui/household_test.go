package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/appliance/demo"
	"gridbox/ui"
)

// hhServer is a real node with the demo village, served on a random port.
type hhServer struct {
	URL   string
	Store *bolt.Store
	Demo  *demo.Village
}

func startHHServer(tb testing.TB) *hhServer {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "node")
	v, _, err := demo.Generate(context.Background(), dir, demo.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	store, cfg, err := bolt.OpenDataDir(dir, &bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	cfg.HTTP.KioskAddrs = nil // the test client is not the kiosk screen
	srv, err := ui.NewServer(cfg, store, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	srv.LoginDelay = time.Millisecond
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	tb.Cleanup(func() { cancel(); <-done; store.Close() })
	return &hhServer{URL: "http://" + ln.Addr().String(), Store: store, Demo: v}
}

// hhClient is a browser-like client: cookies, no redirects followed.
type hhClient struct {
	tb   testing.TB
	base string
	c    *http.Client
}

func (s *hhServer) login(tb testing.TB, username string) *hhClient {
	tb.Helper()
	jar, _ := cookiejar.New(nil)
	cl := &hhClient{tb: tb, base: s.URL, c: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	cl.get("/login")
	resp := cl.post("/login", url.Values{"username": {username}, "password": {demo.Password}})
	if resp.status != http.StatusSeeOther || resp.location == "" || strings.Contains(resp.location, "login") {
		tb.Fatalf("login %s: %d %s", username, resp.status, resp.location)
	}
	return cl
}

type hhResp struct {
	status   int
	body     string
	location string
}

func (cl *hhClient) csrf() string {
	u, _ := url.Parse(cl.base)
	for _, c := range cl.c.Jar.Cookies(u) {
		if c.Name == "gb_csrf" {
			return c.Value
		}
	}
	return ""
}

func (cl *hhClient) do(req *http.Request) hhResp {
	cl.tb.Helper()
	resp, err := cl.c.Do(req)
	if err != nil {
		cl.tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return hhResp{resp.StatusCode, string(b), resp.Header.Get("Location")}
}

func (cl *hhClient) get(path string) hhResp {
	req, _ := http.NewRequest("GET", cl.base+path, nil)
	return cl.do(req)
}

func (cl *hhClient) post(path string, form url.Values) hhResp {
	form.Set("_csrf", cl.csrf())
	req, _ := http.NewRequest("POST", cl.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return cl.do(req)
}

func (cl *hhClient) api(method, path string, body any) hhResp {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, cl.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", cl.csrf())
	return cl.do(req)
}

func (cl *hhClient) upload(path, name string, data []byte) hhResp {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("_csrf", cl.csrf())
	fw, _ := w.CreateFormFile("file", name)
	fw.Write(data)
	w.Close()
	req, _ := http.NewRequest("POST", cl.base+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("X-CSRF-Token", cl.csrf())
	return cl.do(req)
}

// somePerson finds an active member of a group with a phone and an ID.
func somePerson(tb testing.TB, s *bolt.Store, group string) appliance.PersonHit {
	tb.Helper()
	hits, _, err := s.FindPeople(appliance.PersonFilter{Scope: group, Limit: 200})
	if err != nil {
		tb.Fatal(err)
	}
	for _, h := range hits {
		if h.Person.Phone != "" && h.Person.IDNumber() != "" && h.Person.ID == h.Household.Head {
			return h
		}
	}
	tb.Fatal("no person with phone in the demo")
	return appliance.PersonHit{}
}

func TestHouseholdPages(t *testing.T) {
	s := startHHServer(t)
	g1, g2 := s.Demo.Groups[0].Code, s.Demo.Groups[1].Code
	p1 := somePerson(t, s.Store, g1)
	p2 := somePerson(t, s.Store, g2)
	leader := s.login(t, "leader") // grid leader of group 1
	lead := s.login(t, "lead")     // village lead: may reveal

	t.Run("NothingOnKiosk", func(t *testing.T) {
		anon := &hhClient{tb: t, base: s.URL, c: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		for _, path := range []string{"/", "/duty", "/services", "/notices", "/report", "/track"} {
			r := anon.get(path)
			if strings.Contains(r.body, p1.Person.Name) || strings.Contains(r.body, p1.Household.Address) {
				t.Fatalf("%s shows archive data", path)
			}
		}
		if r := anon.get("/staff/households?q=" + url.QueryEscape(p1.Person.Name)); r.status != http.StatusSeeOther {
			t.Fatalf("archive without login: %d", r.status)
		}
		if r := anon.get("/api/v1/search?q=a"); r.status != http.StatusUnauthorized {
			t.Fatalf("API search without login: %d", r.status)
		}
		if r := s.login(t, "duty").get("/staff/households"); r.status != http.StatusForbidden {
			t.Fatalf("duty staff sees the archive: %d", r.status)
		}
	})
	t.Run("SearchMasked", func(t *testing.T) {
		initials := appliance.PinyinKeys(p1.Person.Name)[1]
		r := leader.get("/staff/households?q=" + initials)
		if r.status != 200 || !strings.Contains(r.body, p1.Person.Name) {
			t.Fatalf("search %s: %d, %s not found", initials, r.status, p1.Person.Name)
		}
		if strings.Contains(r.body, p1.Person.IDNumber()) || strings.Contains(r.body, p1.Person.Phone) {
			t.Fatal("search page shows full numbers")
		}
		if !strings.Contains(r.body, appliance.MaskCitizenID(p1.Person.IDNumber())) {
			t.Fatal("masked ID missing")
		}
		api := leader.api("GET", "/api/v1/search?q="+initials, nil)
		if api.status != 200 || !strings.Contains(api.body, p1.Person.Name) || strings.Contains(api.body, p1.Person.Phone) || strings.Contains(api.body, p1.Person.IDNumber()) {
			t.Fatalf("API search shows full numbers or misses the person: %d", api.status)
		}
		api = leader.api("GET", "/api/v1/households/"+p1.Household.ID, nil)
		if api.status != 200 || strings.Contains(api.body, p1.Person.Phone) {
			t.Fatalf("API household shows the phone: %d", api.status)
		}
		r = leader.get("/staff/households?q=" + p1.Person.IDNumber()[14:])
		if !strings.Contains(r.body, p1.Person.Name) {
			t.Fatal("last 4 of ID not found")
		}
	})
	t.Run("ScopeOfGridLeader", func(t *testing.T) {
		if r := leader.get("/staff/households/" + p2.Household.ID); r.status != http.StatusNotFound {
			t.Fatalf("leader of group 1 opens group 2: %d", r.status)
		}
		if r := leader.get("/staff/households?q=" + url.QueryEscape(p2.Person.Name)); strings.Contains(r.body, p2.Household.Address) {
			t.Fatal("leader finds another group's household")
		}
	})
	t.Run("RevealIsLogged", func(t *testing.T) {
		if r := leader.post("/staff/members/"+p1.Person.ID+"/reveal", url.Values{}); r.status != http.StatusForbidden {
			t.Fatalf("grid leader reveal: %d", r.status)
		}
		before, _ := s.Store.KindCounts()
		r := lead.post("/staff/members/"+p1.Person.ID+"/reveal", url.Values{"purpose": {"核对低保"}})
		if r.status != 200 || !strings.Contains(r.body, p1.Person.IDNumber()) || !strings.Contains(r.body, p1.Person.Phone) {
			t.Fatalf("reveal: %d", r.status)
		}
		after, _ := s.Store.KindCounts()
		if after[appliance.KindArchiveReveal] != before[appliance.KindArchiveReveal]+1 {
			t.Fatal("reveal not written to the ledger")
		}
		page := lead.get("/staff/households/" + p1.Household.ID)
		if strings.Contains(page.body, p1.Person.IDNumber()) {
			t.Fatal("number stays revealed on the next view")
		}
		if !strings.Contains(page.body, "查看完整身份证号和电话") {
			t.Fatal("history lacks the reveal")
		}
		api := lead.api("POST", "/api/v1/members/"+p1.Person.ID+"/reveal?purpose=test", nil)
		if api.status != 200 || !strings.Contains(api.body, p1.Person.IDNumber()) {
			t.Fatalf("API reveal: %d %s", api.status, api.body)
		}
	})
	t.Run("FormErrorsNameTheField", func(t *testing.T) {
		good := appliance.MakeCitizenID("410184", time.Date(1991, 4, 5, 0, 0, 0, 0, time.UTC), 88, true)
		bad := good[:17] + map[bool]string{true: "1", false: "2"}[good[17] != '1']
		form := url.Values{"group": {g1}, "address": {"一组新房1号"}, "name": {"𠇔新"}, "id_number": {bad}, "residence": {"here"}}
		r := leader.post("/staff/households", form)
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "校验位") || !strings.Contains(r.body, `name="id_number" value="`+bad+`" autocomplete="off" aria-invalid="true"`) {
			t.Fatalf("bad ID: %d", r.status)
		}
		form.Set("id_number", good)
		r = leader.post("/staff/households", form)
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/staff/households/h") {
			t.Fatalf("create: %d %s", r.status, r.location)
		}
		page := leader.get(r.location)
		if !strings.Contains(page.body, "𠇔新户") || !strings.Contains(page.body, "男 1991-04-05") {
			t.Fatal("new household page: name or ID-derived fields missing")
		}
		if r := leader.post("/staff/households", form); r.status != http.StatusConflict || !strings.Contains(r.body, "已登记在") {
			t.Fatalf("same ID again: %d", r.status)
		}
	})
	t.Run("Visit", func(t *testing.T) {
		workers, _ := s.Store.FindStaff(appliance.StaffFilter{Grid: &g1})
		var me appliance.StaffMember
		for _, m := range workers {
			if m.UserID == "u-leader" {
				me = m
			}
		}
		r := leader.post("/staff/visits", url.Values{"worker": {me.ID}, "kind": {"visit"}, "household": {p1.Household.ID},
			"date": {time.Now().Format("2006-01-02")}, "time": {"09:30"}, "seen": {"老人身体好，已交医保"}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("visit: %d", r.status)
		}
		if r := leader.get("/staff/households/" + p1.Household.ID); !strings.Contains(r.body, "老人身体好，已交医保") {
			t.Fatal("visit not on the household page")
		}
		// A finding registered as a case in the same step.
		before, _ := s.Store.Stats()
		if r := leader.post("/staff/visits", url.Values{"worker": {me.ID}, "kind": {"visit"}, "household": {p1.Household.ID},
			"date": {time.Now().Format("2006-01-02")}, "time": {"10:00"}, "seen": {"屋后"}, "category": {"public_affairs"}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "请填写发现的问题") {
			t.Fatalf("case without a finding: %d", r.status)
		}
		if after, _ := s.Store.Stats(); after.Entries != before.Entries {
			t.Fatal("a refused visit wrote entries")
		}
		r = leader.post("/staff/visits", url.Values{"worker": {me.ID}, "kind": {"visit"}, "household": {p1.Household.ID},
			"date": {time.Now().Format("2006-01-02")}, "time": {"10:00"}, "seen": {"屋后"}, "problems": {"屋后水渠塌了一段"}, "category": {"public_affairs"}})
		if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/staff/cases/") {
			t.Fatalf("visit with a case: %d %s", r.status, r.location)
		}
		if after, _ := s.Store.Stats(); after.Entries != before.Entries+2 {
			t.Fatalf("visit with a case wrote %d entries, want 2 in one step", after.Entries-before.Entries)
		}
		if cp := leader.get(r.location); cp.status != 200 || !strings.Contains(cp.body, "屋后水渠塌了一段") || !strings.Contains(cp.body, "走访巡查") {
			t.Fatalf("case page of the visit's finding: %d", cp.status)
		}
		if r := leader.post("/staff/visits", url.Values{"worker": {me.ID}, "kind": {"patrol"}, "date": {"2026-11-01"}, "time": {"9"}, "seen": {"x"}}); r.status != http.StatusBadRequest || !strings.Contains(r.body, "巡查地点") {
			t.Fatalf("patrol without place: %d", r.status)
		}
		cov := leader.api("GET", "/api/v1/visits/coverage", nil)
		if cov.status != 200 || !strings.Contains(cov.body, `"behind"`) {
			t.Fatalf("coverage: %d %s", cov.status, cov.body)
		}
		for _, path := range []string{"/staff/visits", "/staff/visits/new", "/staff/visits/diary", "/staff", "/staff/population", "/staff/population/all.svg", "/staff/households/duplicates"} {
			if r := lead.get(path); r.status != 200 {
				t.Fatalf("%s: %d", path, r.status)
			}
		}
	})
	t.Run("ImportPage", func(t *testing.T) {
		f := excelize.NewFile()
		f.SetSheetRow("Sheet1", "A1", &[]any{"户号", "组别", "住址", "姓名", "身份证号", "与户主关系"})
		f.SetSheetRow("Sheet1", "A2", &[]any{"A1", "一组", "一组200号", "贾宝玉", appliance.MakeCitizenID("410184", time.Date(1985, 5, 5, 0, 0, 0, 0, time.UTC), 701, true), "户主"})
		f.SetSheetRow("Sheet1", "A3", &[]any{"A1", "一组", "", "贾兰", appliance.MakeCitizenID("410184", time.Date(2010, 5, 5, 0, 0, 0, 0, time.UTC), 702, true), "子"})
		f.SetSheetRow("Sheet1", "A4", &[]any{"A2", "二组", "二组1号", "贾环", appliance.MakeCitizenID("410184", time.Date(1986, 5, 5, 0, 0, 0, 0, time.UTC), 703, true), "户主"})
		var buf bytes.Buffer
		f.Write(&buf)
		r := leader.upload("/staff/households/import", "名册.xlsx", buf.Bytes())
		if r.status != 200 || !strings.Contains(r.body, "预览（尚未保存）") || !strings.Contains(r.body, "组别“二组”不是本村的村民组") || !strings.Contains(r.body, `data-code="unknown_group"`) {
			t.Fatalf("dry run page: %d %s", r.status, r.body)
		}
		i := strings.Index(r.body, `name="token" value="`)
		token := r.body[i+20 : i+52]
		r = leader.post("/staff/households/import", url.Values{"token": {token}, "action": {"commit"}})
		if r.status != 200 || !strings.Contains(r.body, "导入完成：共 1 户 2 人在档（新建 1 户，新增 2 人") {
			t.Fatalf("commit page: %d %s", r.status, r.body)
		}
		// Committing again changes nothing: re-import never duplicates.
		if r := leader.post("/staff/households/import", url.Values{"token": {token}, "action": {"commit"}}); !strings.Contains(r.body, "新建 0 户，新增 0 人，更新 0 人，2 人无变化") {
			t.Fatalf("second commit: %s", r.body)
		}
		if r := leader.post("/staff/households/import", url.Values{"token": {"0123456789abcdef0123456789abcdef"}, "action": {"commit"}}); !strings.Contains(r.body, "预览已过期") {
			t.Fatal("an unknown token commits")
		}
		if got := leader.get("/staff/households?q=jby"); !strings.Contains(got.body, "贾宝玉") {
			t.Fatal("imported person not found")
		}
	})
	t.Run("Population", func(t *testing.T) {
		r := lead.get("/staff/population/all.svg")
		if r.status != 200 || !strings.HasPrefix(r.body, "<svg") || !strings.Contains(r.body, "80–84") || !strings.Contains(r.body, ">男<") {
			t.Fatalf("pyramid: %d %.80s", r.status, r.body)
		}
		if r := leader.get("/staff/population/" + g2 + ".svg"); r.status != http.StatusNotFound {
			t.Fatalf("leader sees another group's pyramid: %d", r.status)
		}
		page := lead.get("/staff/population")
		if !strings.Contains(page.body, "合计") || !strings.Contains(page.body, "第八村民组") {
			t.Fatal("population page lacks the groups")
		}
	})
	t.Run("Events", func(t *testing.T) {
		hid := p1.Household.ID
		_, ms, _ := s.Store.Household(hid)
		if len(ms) < 2 {
			t.Fatalf("the demo household %s has %d members; this test needs two", hid, len(ms))
		}
		r := leader.post("/staff/households/"+hid+"/event", url.Values{"kind": {"leave"}, "member": {ms[0].ID}, "left": {"died"}, "left_date": {"2026-11-20"}})
		if r.status != http.StatusBadRequest || !strings.Contains(r.body, "新户主") {
			t.Fatalf("head leaves without new head: %d", r.status)
		}
		r = leader.post("/staff/households/"+hid+"/event", url.Values{"kind": {"leave"}, "member": {ms[0].ID}, "left": {"died"}, "left_date": {"2026-11-20"}, "new_head": {ms[1].ID}})
		if r.status != http.StatusSeeOther {
			t.Fatalf("head dies: %d", r.status)
		}
		page := leader.get("/staff/households/" + hid)
		if !strings.Contains(page.body, "已减少：死亡") || !strings.Contains(page.body, "成员减少") {
			t.Fatal("history lacks the death")
		}
	})
}

func TestHouseholdAPI(t *testing.T) {
	s := startHHServer(t)
	g1 := s.Demo.Groups[0].Code
	lead := s.login(t, "lead")
	head := appliance.MakeCitizenID("410184", time.Date(1955, 3, 3, 0, 0, 0, 0, time.UTC), 501, true)
	body := map[string]any{
		"household": map[string]any{"group": g1, "address": "一组99号"},
		"members": []map[string]any{
			{"name": "曾广田", "relation": "户主", "residence": "here", "phone": "13600001111", "dibao": true, "sensitive": map[string]any{"id_number": head, "key_categories": []string{"空巢老人"}}},
			{"name": "单𠇔", "relation": "配偶", "gender": "女", "birth": "1957-01-01", "residence": "away", "residence_where": "深圳"},
		},
	}
	r := lead.api("POST", "/api/v1/households", body)
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created struct {
		Household appliance.Household
		Members   []appliance.Person
	}
	json.Unmarshal([]byte(r.body), &created)
	if strings.Contains(r.body, head) || created.Members[0].IDNumber() != appliance.MaskCitizenID(head) {
		t.Fatalf("answer not masked: %s", r.body)
	}
	for _, q := range []string{"zgt", "zengguangtian", "shan", head[12:], "13600001111"} {
		r := lead.api("GET", "/api/v1/search?q="+url.QueryEscape(q), nil)
		if r.status != 200 || !strings.Contains(r.body, created.Household.ID) {
			t.Fatalf("search %q: %d %s", q, r.status, r.body)
		}
	}
	r = lead.api("GET", "/api/v1/search?dibao=1&key=空巢老人&group="+g1, nil)
	if !strings.Contains(r.body, "曾广田") {
		t.Fatalf("filters: %s", r.body)
	}
	r = lead.api("POST", "/api/v1/households", map[string]any{"household": map[string]any{"group": g1, "address": "x"}, "members": []map[string]any{{"name": "重复", "relation": "户主", "residence": "here", "sensitive": map[string]any{"id_number": head}}}})
	if r.status != http.StatusConflict || !strings.Contains(r.body, `"field":"id_number"`) {
		t.Fatalf("duplicate ID: %d %s", r.status, r.body)
	}
	r = lead.api("POST", "/api/v1/households/"+created.Household.ID+"/events", map[string]any{"kind": "birth", "mother": created.Members[1].ID,
		"child": map[string]any{"name": "曾小宝", "gender": "男", "birth": "2026-11-01", "relation": "孙子", "residence": "here"}})
	if r.status != 200 || !strings.Contains(r.body, "曾小宝") {
		t.Fatalf("birth: %d %s", r.status, r.body)
	}
	r = lead.api("GET", "/api/v1/households/"+created.Household.ID+"/history", nil)
	if !strings.Contains(r.body, "出生入户") || !strings.Contains(r.body, "新建户") {
		t.Fatalf("history: %s", r.body)
	}
	r = lead.api("GET", "/api/v1/stats/groups", nil)
	if r.status != 200 || !strings.Contains(r.body, `"households"`) {
		t.Fatalf("stats: %s", r.body)
	}

	// Import over HTTP: dry run writes nothing, commit writes, export masks.
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"姓名", "身份证号", "与户主关系", "组别", "住址", "联系电话"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"孟德", appliance.MakeCitizenID("410184", time.Date(1966, 6, 6, 0, 0, 0, 0, time.UTC), 601, true), "户主", "1组", "一组100号", "13711112222"})
	f.SetSheetRow("Sheet1", "A3", &[]any{"孟兰", appliance.MakeCitizenID("410184", time.Date(1990, 6, 6, 0, 0, 0, 0, time.UTC), 602, false), "女", "1组", "", "123"})
	var buf bytes.Buffer
	f.Write(&buf)
	before, _ := s.Store.KindCounts()
	r = lead.upload("/api/v1/import/dry-run", "a.xlsx", buf.Bytes())
	if r.status != 200 || !strings.Contains(r.body, `"new_households":1`) || !strings.Contains(r.body, `"row":3`) || !strings.Contains(r.body, `"code":"bad_phone"`) {
		t.Fatalf("dry run: %d %s", r.status, r.body)
	}
	if after, _ := s.Store.KindCounts(); after[appliance.KindArchiveChange] != before[appliance.KindArchiveChange] {
		t.Fatal("dry run wrote")
	}
	r = lead.upload("/api/v1/import/commit", "a.xlsx", buf.Bytes())
	if r.status != 200 || !strings.Contains(r.body, `"new_people":2`) || !strings.Contains(r.body, `"warnings":1`) {
		t.Fatalf("commit: %d %s", r.status, r.body)
	}
	r = lead.get("/api/v1/export.xlsx")
	if r.status != 200 {
		t.Fatalf("export: %d", r.status)
	}
	x, err := excelize.OpenReader(strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := x.GetRows("户籍成员")
	if len(rows) < 1000 || strings.Contains(r.body, head) {
		t.Fatalf("export: %d rows", len(rows))
	}
	leader := s.login(t, "leader")
	if r := leader.get("/api/v1/export.xlsx?full=1"); r.status != http.StatusForbidden {
		t.Fatalf("grid leader full export: %d", r.status)
	}
}
