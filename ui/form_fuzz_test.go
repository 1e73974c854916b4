package ui_test

import (
	"io"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// FuzzKioskForms posts what anyone may post — the report form and the
// progress lookup — with any field values through the real app: the server
// never fails (5xx) or panics, and every refusal is a page in words.
func FuzzKioskForms(f *testing.F) {
	for _, s := range [][5]string{
		{"public_affairs", "村东头路灯坏了一个星期", "410184104201-02", "王秀英", "13812345678"},
		{"livelihood", "路灯坏了", "", "", ""},
		{"nothing", "x", "bad-group", "\u202e", "abc"},
		{"public_affairs", strings.Repeat("很长的描述", 600), "410184104201-01", "𠇔秀兰", "0371-62581234"},
		{"public_affairs", "\xff\xfe无效", "410184104201-99", "张\x00三", "+86 138 1234 5678"},
		{"../../etc/passwd", "<script>alert(1)</script>", "'; DROP TABLE", "%00", "1e9"},
	} {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	srv := uitest.MustStart(f, uitest.Options{Tune: func(cfg *appliance.Config) {
		lots := appliance.Rate{N: 1 << 30, Per: time.Minute}
		cfg.Limits.ReportsPerClient, cfg.Limits.ReportsAll, cfg.Limits.ReportsScreen, cfg.Limits.PostsPerClient = lots, lots, lots, lots
	}})
	app := srv.UI.App()
	res, err := app.Test(httptest.NewRequest("GET", "/report", nil), -1)
	if err != nil {
		f.Fatal(err)
	}
	var csrf string
	for _, ck := range res.Cookies() {
		if ck.Name == "gb_csrf" {
			csrf = ck.Value
		}
	}
	post := func(t *testing.T, path string, form url.Values) (int, string) {
		form.Set("_csrf", csrf)
		req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", "gb_csrf="+csrf)
		res, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		return res.StatusCode, string(b)
	}
	f.Fuzz(func(t *testing.T, category, description, group, name, phone string) {
		path := "/report/" + url.PathEscape(category)
		status, body := post(t, path, url.Values{"description": {description}, "group": {group}, "name": {name}, "phone": {phone}})
		if status >= 500 {
			t.Fatalf("report (%q, %q, %q, %q, %q): %d %s", category, description, group, name, phone, status, uitest.Text(body))
		}
		if status != 200 && !strings.Contains(body, "<html") {
			t.Fatalf("refusal %d is not a page: %s", status, body)
		}
		status, body = post(t, "/track", url.Values{"code": {description}, "pin": {phone}})
		if status >= 500 {
			t.Fatalf("lookup (%q, %q): %d %s", description, phone, status, uitest.Text(body))
		}
	})
}
