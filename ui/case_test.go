package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/ui"
)

// caseServer is a real village node serving on a random port.
type caseServer struct {
	URL    string
	Server *ui.Server
	Store  *bolt.Store
	Tokens map[appliance.Role]string // API tokens of one user per role
}

func mustCaseServer(tb testing.TB) *caseServer {
	tb.Helper()
	dir := tb.TempDir()
	ctx := context.Background()
	node := appliance.Node{Role: appliance.NodeVillage, Code: "410184104201", Name: "杏花村"}
	if _, err := bolt.InitDataDir(ctx, dir, node, bolt.InitOptions{AdminPassword: "admin-pass-1"}); err != nil {
		tb.Fatal(err)
	}
	s, cfg, err := bolt.OpenDataDir(dir, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	s.SetArgon2(bolt.Argon2Params{Time: 1, Memory: 64, Threads: 1})
	for i := 1; i <= 3; i++ {
		g := appliance.Grid{Code: appliance.GroupCode(node.Code, i), Level: appliance.LevelGroup, Name: fmt.Sprintf("第%d村民组", i), Parent: node.Code}
		if err := s.SetGrid(ctx, "u-admin", g); err != nil {
			tb.Fatal(err)
		}
	}
	cs := &caseServer{Store: s, Tokens: map[appliance.Role]string{}}
	for _, r := range []appliance.Role{appliance.RoleGridLeader, appliance.RoleVillageLead, appliance.RoleDutyStaff} {
		u := appliance.User{ID: "u-" + string(r), Username: strings.ReplaceAll(string(r), "_", ""), Name: "测试" + r.Label(), Role: r, Grid: node.Code}
		if err := s.CreateUser(ctx, "u-admin", u, "password-123", false); err != nil {
			tb.Fatal(err)
		}
		tok, err := s.CreateAPIToken(u.ID)
		if err != nil {
			tb.Fatal(err)
		}
		cs.Tokens[r] = tok
	}
	// Case tests and benchmarks report many times from one address: the
	// rate limits have their own tests (limits_test.go).
	lots := appliance.Rate{N: 1000000, Per: time.Minute}
	cfg.Limits = appliance.LimitsConfig{ReportsPerClient: lots, ReportsAll: lots, ReportsScreen: lots, PostsPerClient: lots}
	cs.URL, cs.Server = serve(tb, cfg, s)
	return cs
}

// serve runs a real server for the store on a random port until the test ends.
func serve(tb testing.TB, cfg appliance.Config, s *bolt.Store) (string, *ui.Server) {
	tb.Helper()
	srv, err := ui.NewServer(cfg, s, nil)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	tb.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String(), srv
}

// browser is an HTTP client with cookies that posts forms with the CSRF token.
type browser struct {
	tb testing.TB
	c  *http.Client
	u  string
}

func newBrowser(tb testing.TB, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{tb: tb, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}, u: base}
}

func (b *browser) csrf() string {
	u, _ := url.Parse(b.u)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "gb_csrf" {
			return c.Value
		}
	}
	b.get("/")
	return b.csrf()
}

func (b *browser) get(path string) (int, string) {
	b.tb.Helper()
	res, err := b.c.Get(b.u + path)
	if err != nil {
		b.tb.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

func (b *browser) post(path string, form url.Values) (int, string) {
	b.tb.Helper()
	form.Set("_csrf", b.csrf())
	res, err := b.c.PostForm(b.u+path, form)
	if err != nil {
		b.tb.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// api calls the JSON API with an API token ("" for public calls, which then
// carry the CSRF cookie and header like the kiosk's pages).
func (b *browser) api(method, path, token string, in any, out any) int {
	b.tb.Helper()
	var body io.Reader
	if in != nil {
		data, _ := json.Marshal(in)
		body = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, b.u+path, body)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	} else {
		req.Header.Set("X-CSRF-Token", b.csrf())
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.tb.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			b.tb.Fatalf("%s %s: %d %s", method, path, res.StatusCode, data)
		}
	}
	return res.StatusCode
}

var (
	receiptCodeRE = regexp.MustCompile(`id="receipt-code">([^<]+)<`)
	receiptPINRE  = regexp.MustCompile(`id="receipt-pin">([0-9]{4})<`)
)

func TestCaseKioskHTTP(t *testing.T) {
	srv := mustCaseServer(t)
	b := newBrowser(t, srv.URL)

	status, body := b.get("/report")
	if status != 200 || !strings.Contains(body, "非法建设") || !strings.Contains(body, `<svg class="caticon"`) {
		t.Fatalf("report start: %d", status)
	}
	t.Run("ErrEmptyDescription", func(t *testing.T) {
		status, body := b.post("/report/livelihood", url.Values{"description": {""}})
		if status != 400 || !strings.Contains(body, "请填写问题描述") || !strings.Contains(body, `aria-invalid="true"`) {
			t.Fatalf("status=%d", status)
		}
	})
	status, body = b.post("/report/public_affairs", url.Values{"description": {"村东头路灯坏了一个星期"}, "group": {"410184104201-02"}, "name": {"王秀英"}, "phone": {"13812345678"}})
	if status != 200 {
		t.Fatalf("submit: %d %s", status, body)
	}
	code, pin := receiptCodeRE.FindStringSubmatch(body), receiptPINRE.FindStringSubmatch(body)
	if code == nil || pin == nil || !strings.Contains(body, "data:image/svg") {
		t.Fatal("no receipt code, PIN or QR code on the receipt")
	}
	status, body = b.post("/track", url.Values{"code": {strings.ToLower(code[1])}, "pin": {pin[1]}})
	if status != 200 || !strings.Contains(body, "待受理") || strings.Contains(body, "王秀英") || strings.Contains(body, "路灯") {
		t.Fatalf("track: %d, or personal data shown", status)
	}

	// The grid leader resolves it; the reporter rates it at the kiosk.
	var c appliance.Case
	if st := b.api("POST", "/api/v1/cases/"+code[1]+"/resolve", srv.Tokens[appliance.RoleGridLeader], map[string]string{"text": "已更换灯泡"}, &c); st != 200 || c.Status != appliance.StatusResolved {
		t.Fatalf("resolve: %d %s", st, c.Status)
	}
	status, body = b.post("/track/rate", url.Values{"code": {code[1]}, "pin": {pin[1]}, "rating": {"satisfied"}})
	if status != 200 || !strings.Contains(body, "感谢您的评价") || !strings.Contains(body, "已结案") {
		t.Fatalf("rate: %d", status)
	}

	// The JSON API: a kiosk report, its QR token, tracking.
	var r struct {
		Code, PIN, Token string
	}
	if st := b.api("POST", "/api/v1/kiosk/cases", "", map[string]string{"category": "work_safety", "description": "加油站旁边有人卖散装汽油"}, &r); st != 201 || r.Token == "" {
		t.Fatalf("api report: %d %+v", st, r)
	}
	var p appliance.CaseProgress
	if st := b.api("GET", "/api/v1/track/scan?token="+url.QueryEscape(r.Token), "", nil, &p); st != 200 || p.ID != r.Code || p.Category != "安全生产" {
		t.Fatalf("scan: %d %+v", st, p)
	}
	status, body = b.get("/scan?token=" + url.QueryEscape(r.Token))
	if status != 200 || !strings.Contains(body, r.Code) {
		t.Fatalf("kiosk scan: %d", status)
	}
	if status, _ := b.get("/scan?token=AAAAAAAAAAAAAAAAAAAA"); status != 404 {
		t.Fatalf("forged token: %d", status)
	}
	t.Run("ErrPINLocked", func(t *testing.T) {
		bad := "0000"
		if r.PIN == bad {
			bad = "1111"
		}
		for i := 0; i < 5; i++ {
			if st := b.api("POST", "/api/v1/track", "", map[string]string{"code": r.Code, "pin": bad}, nil); st != 400 {
				t.Fatalf("try %d: %d", i, st)
			}
		}
		var e struct {
			Error struct{ Code, Message string }
		}
		if st := b.api("POST", "/api/v1/track", "", map[string]string{"code": r.Code, "pin": r.PIN}, &e); st != 429 || e.Error.Code != "locked" {
			t.Fatalf("after 5 wrong: %d %+v", st, e)
		}
	})

	// Staff: illegal steps are refused with a Chinese message.
	var e struct {
		Error struct{ Code, Message string }
	}
	if st := b.api("POST", "/api/v1/cases/"+r.Code+"/feedback", srv.Tokens[appliance.RoleVillageLead], map[string]string{"how": "电话"}, &e); st != 409 || !strings.Contains(e.Error.Message, "不能反馈反映人") {
		t.Fatalf("illegal feedback: %d %+v", st, e)
	}
	if st := b.api("POST", "/api/v1/cases/"+r.Code+"/dispatch", srv.Tokens[appliance.RoleVillageLead], map[string]any{"departments": []string{"安监站"}}, &e); st != 403 {
		t.Fatalf("dispatch at village: %d %+v", st, e)
	}
	if st := b.api("POST", "/api/v1/cases/"+r.Code+"/escalate", srv.Tokens[appliance.RoleVillageLead], map[string]string{"text": "需安监站处理"}, &c); st != 200 || c.Level != appliance.CaseLevelTown {
		t.Fatalf("escalate: %d %s", st, c.Level)
	}

	// Statistics and the register.
	var stats struct {
		Stats    appliance.CaseStats
		Sentence string
	}
	if st := b.api("GET", "/api/v1/cases/stats", srv.Tokens[appliance.RoleDutyStaff], nil, &stats); st != 200 || stats.Stats.Total != 2 || stats.Stats.Resolved != 1 || stats.Stats.ToTown != 1 {
		t.Fatalf("stats: %d %+v", st, stats.Stats)
	}
	if !strings.HasPrefix(stats.Sentence, "共收集问题2件：安全生产1件、公共事务1件；已办结1件") {
		t.Fatalf("sentence=%s", stats.Sentence)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/staff/cases/register.xlsx?period=month", nil)
	req.Header.Set("Authorization", "Bearer "+srv.Tokens[appliance.RoleVillageLead])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	xl, err := excelize.OpenReader(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := xl.GetRows("问题台账")
	found := false
	for _, row := range rows {
		if len(row) >= 5 && row[1] == "第2村民组" && row[2] == "1" && row[3] == "1" {
			found = true
		}
	}
	if !found {
		t.Fatalf("register rows: %v", rows)
	}
	var rd bolt.RegisterDay
	today := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")
	// Today is not over: closing it now would be wrong by tonight.
	var refusal struct {
		Error struct{ Field, Message string }
	}
	if st := b.api("POST", "/api/v1/cases/register/close", srv.Tokens[appliance.RoleVillageLead], map[string]string{"day": today}, &refusal); st != 400 || refusal.Error.Field != "day" {
		t.Fatalf("closing today: %d %+v", st, refusal)
	}
	yesterday := time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, -1).Format("2006-01-02")
	if st := b.api("POST", "/api/v1/cases/register/close", srv.Tokens[appliance.RoleVillageLead], map[string]string{"day": yesterday}, &rd); st != 201 || rd.Closed == nil || rd.Day != yesterday {
		t.Fatalf("close yesterday: %d %+v", st, rd)
	}
}

func TestCasePatrolPhotoHTTP(t *testing.T) {
	srv := mustCaseServer(t)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range map[string]string{"source": "patrol", "category": "public_affairs", "group": "410184104201-01", "description": "大风刮倒两棵杨树，挡住村道"} {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("photos", "tree.png")
	png.Encode(fw, image.NewRGBA(image.Rect(0, 0, 2000, 1000)))
	mw.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/staff/cases/new", &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+srv.Tokens[appliance.RoleGridLeader])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	code := receiptCodeRE.FindSubmatch(body)
	if res.StatusCode != 200 || code == nil {
		t.Fatalf("patrol report: %d", res.StatusCode)
	}
	var c appliance.Case
	b := newBrowser(t, srv.URL)
	if st := b.api("GET", "/api/v1/cases/"+string(code[1]), srv.Tokens[appliance.RoleGridLeader], nil, &c); st != 200 || len(c.Photos) != 1 || c.Source != appliance.SourcePatrol || c.Level != appliance.CaseLevelGroup {
		t.Fatalf("case: %d %+v", st, c)
	}
	req, _ = http.NewRequest("GET", srv.URL+"/staff/cases/photos/"+c.Photos[0], nil)
	req.Header.Set("Authorization", "Bearer "+srv.Tokens[appliance.RoleGridLeader])
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpegSize(res.Body)
	res.Body.Close()
	if err != nil || img.X != 1600 || img.Y != 800 {
		t.Fatalf("photo %v %v", img, err)
	}
	// The case page shows the photo and the actions a grid leader may take.
	req, _ = http.NewRequest("GET", srv.URL+"/staff/cases/"+c.ID, nil)
	req.Header.Set("Authorization", "Bearer "+srv.Tokens[appliance.RoleGridLeader])
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.Contains(page, []byte("/staff/cases/photos/"+c.Photos[0])) || !bytes.Contains(page, []byte(`action="/staff/cases/`+c.ID+`/escalate"`)) {
		t.Fatalf("case page: %d", res.StatusCode)
	}
}

// staffForm posts a staff form with an API token (no redirects followed).
func staffForm(tb testing.TB, base, token, path string, form url.Values) (int, string) {
	tb.Helper()
	req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// The case page's forms: a step that is allowed redirects back to the
// case; one that is not re-renders the page with the reason.
func TestCaseActionFormsHTTP(t *testing.T) {
	srv := mustCaseServer(t)
	b := newBrowser(t, srv.URL)
	var r struct{ Code string }
	if st := b.api("POST", "/api/v1/cases", srv.Tokens[appliance.RoleDutyStaff], map[string]string{"category": "illegal_construction", "source": "walk_in", "group": "410184104201-01", "description": "有人在耕地上盖房子"}, &r); st != 201 {
		t.Fatalf("register: %d", st)
	}
	lead := srv.Tokens[appliance.RoleVillageLead]
	if st, _ := staffForm(t, srv.URL, lead, "/staff/cases/"+r.Code+"/assign", url.Values{"assignee": {"赵建国"}}); st != 303 {
		t.Fatalf("assign: %d", st)
	}
	if st, body := staffForm(t, srv.URL, lead, "/staff/cases/"+r.Code+"/feedback", url.Values{"how": {"电话"}}); st != 409 || !strings.Contains(body, "不能反馈反映人") || !strings.Contains(body, `class="error"`) {
		t.Fatalf("feedback before resolve: %d", st)
	}
	if st, _ := staffForm(t, srv.URL, srv.Tokens[appliance.RoleGridLeader], "/staff/cases/"+r.Code+"/escalate", url.Values{"text": {"违建需村里处理"}}); st != 303 {
		t.Fatalf("escalate: %d", st)
	}
	var c appliance.Case
	if b.api("GET", "/api/v1/cases/"+r.Code, lead, nil, &c); c.Level != appliance.CaseLevelVillage || c.Status != appliance.StatusPending || c.Due == "" {
		t.Fatalf("after escalation: %s %s due %q", c.Level, c.Status, c.Due)
	}
	// The grid leader no longer holds it: only notes.
	if st, body := staffForm(t, srv.URL, srv.Tokens[appliance.RoleGridLeader], "/staff/cases/"+r.Code+"/resolve", url.Values{"text": {"x"}}); st != 403 || !strings.Contains(body, "只能添加备注") {
		t.Fatalf("grid leader resolve at village: %d", st)
	}
	if st, _ := staffForm(t, srv.URL, srv.Tokens[appliance.RoleGridLeader], "/staff/cases/"+r.Code+"/note", url.Values{"text": {"已拍照留存"}}); st != 303 {
		t.Fatalf("note: %d", st)
	}
	if st, _ := staffForm(t, srv.URL, lead, "/staff/cases/"+r.Code+"/invalid", url.Values{"text": {"经核实为临时设施"}}); st != 303 {
		t.Fatalf("invalid: %d", st)
	}
}

func jpegSize(r io.Reader) (image.Point, error) {
	cfg, format, err := image.DecodeConfig(r)
	if err == nil && format != "jpeg" {
		err = fmt.Errorf("format %s", format)
	}
	return image.Point{cfg.Width, cfg.Height}, err
}
