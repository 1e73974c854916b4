package ui_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/voicetest"
	"gridbox/ui/internal/uitest"
)

// On the kiosk screen a staff session lives only in the staff pages: a
// public page ends it and shows nothing of it. Elsewhere (an office PC)
// the session stays.
func TestKioskStaffSessionEnds(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{}) // the test client is 127.0.0.1: the kiosk
	c := srv.Client(t)
	c.Login("villagelead")
	if status, _ := c.Get("/staff"); status != http.StatusOK {
		t.Fatalf("dashboard: %d", status)
	}
	for _, path := range []string{"/", "/report", "/track", "/duty"} {
		c := srv.Client(t)
		c.Login("villagelead")
		status, body := c.Get(path)
		if status != http.StatusOK || strings.Contains(body, "测试村负责人") || strings.Contains(body, `href="/staff"`) || strings.Contains(body, "退出登录") {
			t.Fatalf("%s shows the staff session: %d %s", path, status, uitest.Text(body))
		}
		if status, _ := c.Get("/staff"); status != http.StatusSeeOther {
			t.Fatalf("after %s the session still works: %d", path, status)
		}
	}
	// A kiosk report made right after a staff member left is not theirs.
	c.Get("/")
	if status, _, _ := c.Post("/report/livelihood", url.Values{"way": {"phrases"}, "phrases": {"低保的问题"}}); status != http.StatusOK {
		t.Fatalf("report: %d", status)
	}
	es, _ := srv.Store.Entries(srv.Store.Feed(), 1, 1<<20)
	if last := es[len(es)-1]; last.Author != "" {
		t.Fatalf("kiosk report authored by %q", last.Author)
	}

	office := uitest.MustStart(t, uitest.Options{Tune: func(cfg *appliance.Config) { cfg.HTTP.KioskAddrs = nil }})
	o := office.Client(t)
	o.Login("villagelead")
	if _, body := o.Get("/"); !strings.Contains(body, "测试村负责人") {
		t.Fatal("an office browser lost its session on the public home page")
	}
	if status, _ := o.Get("/staff"); status != http.StatusOK {
		t.Fatalf("office session ended: %d", status)
	}
}

// /?kiosk=1 makes a browser the kiosk, /?kiosk=0 undoes it, also for the
// box's own browser.
func TestKioskModeOnOff(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{Tune: func(cfg *appliance.Config) { cfg.HTTP.KioskAddrs = nil }})
	c := srv.Client(t)
	isKiosk := func(path string) bool {
		_, body := c.Get(path)
		return strings.Contains(body, "data-kiosk-idle=")
	}
	if isKiosk("/report") {
		t.Fatal("a plain browser is the kiosk")
	}
	if isKiosk("/?kiosk=1"); !isKiosk("/report") {
		t.Fatal("?kiosk=1 did not make the kiosk")
	}
	if isKiosk("/?kiosk=0"); isKiosk("/report") {
		t.Fatal("?kiosk=0 did not undo it")
	}
	box := uitest.MustStart(t, uitest.Options{})
	b := box.Client(t)
	if _, body := b.Get("/report"); !strings.Contains(body, "data-kiosk-idle=") {
		t.Fatal("the box's own browser is not the kiosk")
	}
	b.Get("/?kiosk=0")
	if _, body := b.Get("/report"); strings.Contains(body, "data-kiosk-idle=") {
		t.Fatal("?kiosk=0 did not undo the box's own kiosk")
	}
}

// 大字 without JavaScript: a link that sets the size and returns; the idle
// reset clears it for the next villager.
func TestKioskLargeText(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	c := srv.Client(t)
	resp, err := c.HTTP.Get(srv.URL + "/textsize?big=1&back=" + url.QueryEscape("/report/livelihood/how?group=x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/report/livelihood/how?group=x" {
		t.Fatalf("textsize: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, body := c.Get("/report"); !strings.Contains(body, `<html lang="zh-CN" class="large">`) || !strings.Contains(body, `aria-pressed="true"`) {
		t.Fatal("大字 not on")
	}
	c.Get("/?reset=1")
	if _, body := c.Get("/report"); strings.Contains(body, `class="large"`) {
		t.Fatal("the idle reset kept 大字")
	}
	if resp, _ := c.HTTP.Get(srv.URL + "/textsize?big=1&back=//evil.example"); resp.Header.Get("Location") != "/" {
		t.Fatalf("textsize followed a foreign address: %s", resp.Header.Get("Location"))
	}
}

// The village lead edits the tap phrases: the configuration file is
// rewritten and the kiosk shows them at once; a bad list changes nothing;
// other roles may not.
func TestKioskPhrasesEditor(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	conf := filepath.Join(srv.Dir, appliance.ConfigFile)
	before, _ := os.ReadFile(conf)
	lead := srv.Client(t)
	lead.Login("villagelead")
	if _, page := lead.Get("/staff/kiosk/phrases"); !strings.Contains(page, "路灯坏了") || !strings.Contains(page, "自助终端常见问题") {
		t.Fatalf("editor: %s", uitest.Text(page))
	}
	form := url.Values{}
	for _, cat := range srv.Config.Cases.Categories {
		form.Set("phrases_"+cat.Key, strings.Join(cat.Phrases, "\n"))
	}
	form.Set("phrases_livelihood", strings.Repeat("长", 31))
	if status, _, body := lead.Post("/staff/kiosk/phrases", form); status != http.StatusBadRequest || !strings.Contains(body, "民生服务：常见问题") || !strings.Contains(body, strings.Repeat("长", 31)) {
		t.Fatalf("too long: %d %s", status, uitest.Text(body))
	}
	if after, _ := os.ReadFile(conf); !bytes.Equal(after, before) {
		t.Fatal("a refused list changed the file")
	}
	form.Set("phrases_livelihood", "  想办低保  \n\n家里老人生病了\r\n")
	if status, loc, body := lead.Post("/staff/kiosk/phrases", form); status != http.StatusSeeOther || loc != "/staff/kiosk/phrases?saved=1" {
		t.Fatalf("save: %d %s", status, uitest.Text(body))
	}
	_, kiosk := srv.Client(t).Get("/report/livelihood/phrases")
	if !strings.Contains(kiosk, `value="想办低保"`) || !strings.Contains(kiosk, "家里老人生病了") || strings.Contains(kiosk, "低保的问题") {
		t.Fatalf("kiosk phrases: %s", uitest.Text(kiosk))
	}
	cfg, err := appliance.LoadConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := cfg.Category("livelihood"); strings.Join(l.Phrases, "|") != "想办低保|家里老人生病了" {
		t.Fatalf("file has %q", l.Phrases)
	}
	if cfg.DutyPhone != srv.Config.DutyPhone || cfg.Node != srv.Config.Node {
		t.Fatal("rewriting the file lost other settings")
	}
	g := srv.Client(t)
	g.Login("gridleader")
	if status, _, _ := g.Post("/staff/kiosk/phrases", form); status != http.StatusForbidden {
		t.Fatalf("grid leader edited phrases: %d", status)
	}
	// The API: read by anyone, set with a token of the village lead.
	var got struct{ Phrases map[string][]string }
	api := newBrowser(t, srv.URL)
	if code := api.api("GET", "/api/v1/kiosk/phrases", "", nil, &got); code != http.StatusOK {
		t.Fatalf("phrases: %d", code)
	}
	if strings.Join(got.Phrases["livelihood"], "|") != "想办低保|家里老人生病了" {
		t.Fatalf("API phrases %v", got.Phrases)
	}
	tok := token(t, srv, "u-villagelead")
	if code := api.api("POST", "/api/v1/kiosk/phrases", tok, map[string]any{"phrases": map[string][]string{"other": {"说不清楚"}}}, &got); code != http.StatusOK || got.Phrases["other"][0] != "说不清楚" {
		t.Fatalf("API set: %d %v", code, got.Phrases)
	}
	if code := api.api("POST", "/api/v1/kiosk/phrases", tok, map[string]any{"phrases": map[string][]string{"nope": {"x"}}}, nil); code != http.StatusBadRequest {
		t.Fatalf("unknown category: %d", code)
	}
}

func token(t *testing.T, srv *uitest.Server, user string) string {
	t.Helper()
	tok, err := srv.Store.CreateAPIToken(user)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// The kiosk API takes a voice message in a multipart form; the voice is
// served to staff (with byte ranges) and never to the public; hostile
// uploads are refused with the field named and write nothing.
func TestKioskVoiceAPI(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	kiosk := srv.Client(t)
	csrf := kiosk.CSRF() // a kiosk page's signed token, as its form carries it
	post := func(fields map[string]string, voice []byte) (int, map[string]any) {
		t.Helper()
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for k, v := range fields {
			w.WriteField(k, v)
		}
		if voice != nil {
			fw, _ := w.CreateFormFile("voice", "voice.webm")
			fw.Write(voice)
		}
		w.Close()
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/kiosk/cases", &buf)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Header.Set("X-CSRF-Token", csrf)
		resp, err := kiosk.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	voice := voicetest.WebM(5*time.Second, 24000, 9)
	status, r := post(map[string]string{"category": "livelihood", "callback": "1", "phone": "13812345678"}, voice)
	if status != http.StatusCreated || r["code"] == nil {
		t.Fatalf("voice report: %d %v", status, r)
	}
	code := r["code"].(string)
	before, _ := srv.Store.Stats()
	for name, tt := range map[string]struct {
		voice []byte
		field string
	}{
		"TooBig":  {append(voicetest.WebM(2*time.Second, 24000, 1), make([]byte, appliance.MaxVoiceBytes)...), "voice"},
		"NotWebM": {[]byte("RIFF....WAVEfmt "), "voice"},
		"TooLong": {voicetest.WebM(70*time.Second, 24000, 2), "voice"},
	} {
		status, out := post(map[string]string{"category": "livelihood"}, tt.voice)
		e, _ := out["error"].(map[string]any)
		if status != http.StatusBadRequest || e["field"] != tt.field {
			t.Errorf("%s: %d %v", name, status, out)
		}
	}
	if after, _ := srv.Store.Stats(); after.Entries != before.Entries {
		t.Fatal("refused uploads wrote entries")
	}

	// Staff hear it; the public does not.
	if resp, _ := http.Get(srv.URL + "/api/v1/cases/" + code + "/voice"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous voice: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/cases/"+code+"/voice", nil)
	req.Header.Set("Authorization", "Bearer "+token(t, srv, "u-dutystaff"))
	req.Header.Set("Range", "bytes=0-99")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || len(part) != 100 || resp.Header.Get("Content-Type") != appliance.VoiceType ||
		!strings.HasPrefix(resp.Header.Get("Content-Range"), "bytes 0-99/") || !appliance.IsVoice(part) {
		t.Fatalf("range: %d %d %v", resp.StatusCode, len(part), resp.Header)
	}
	// The callback queue over the API: masked phone.
	var q struct {
		Callbacks []struct {
			Case  appliance.Case
			Phone string
		}
	}
	api := newBrowser(t, srv.URL)
	if code := api.api("GET", "/api/v1/cases/callbacks", token(t, srv, "u-dutystaff"), nil, &q); code != http.StatusOK {
		t.Fatalf("callbacks: %d", code)
	}
	if len(q.Callbacks) != 1 || q.Callbacks[0].Case.ID != code || q.Callbacks[0].Phone != "138****5678" {
		t.Fatalf("callbacks: %+v", q.Callbacks)
	}
	if code := api.api("GET", "/api/v1/cases/callbacks", token(t, srv, "u-townoperator"), nil, nil); code != http.StatusForbidden {
		t.Fatalf("town operator's callbacks: %d", code)
	}
	// A grid leader sees only the group's: this case has none.
	leader := token(t, srv, "u-gridleader")
	if code := api.api("GET", "/api/v1/cases/callbacks", leader, nil, &q); code != http.StatusOK || len(q.Callbacks) != 0 {
		t.Fatalf("grid leader's callbacks: %d %+v", code, q.Callbacks)
	}
	req, _ = http.NewRequest("GET", srv.URL+"/api/v1/cases/"+code+"/voice", nil)
	req.Header.Set("Authorization", "Bearer "+leader)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("grid leader heard another's recording: %v %v", resp.StatusCode, err)
	}
}
