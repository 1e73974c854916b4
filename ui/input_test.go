package ui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gridbox/ui/internal/uitest"
)

// TestStrictInput: the API takes exactly one JSON value of its type, in
// UTF-8, under its Content-Type; names refuse text-direction tricks; every
// list parses ?limit= the same way. Nothing refused is written.
func TestStrictInput(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	c := srv.Client(t)
	c.Login("villagelead")
	post := func(path, ctype, body string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		req.Header.Set("X-CSRF-Token", c.CSRF())
		resp, err := c.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var e struct {
			Error struct{ Code, Message, Field string }
		}
		b, _ := io.ReadAll(resp.Body)
		json.Unmarshal(b, &e)
		return resp.StatusCode, e.Error.Field, e.Error.Message
	}
	before, _ := srv.Store.Stats()
	notice := `{"title":"通知","body":"今晚开会。","published":"2026-11-28"}`
	for _, tc := range []struct {
		name, ctype, body string
		status            int
		field, message    string
	}{
		{"TrailingData", "application/json", notice + `{"title":"又一条"}`, 400, "", "多余"},
		{"TrailingGarbage", "application/json", notice + ` xyz`, 400, "", "多余"},
		{"WrongContentType", "text/plain", notice, 415, "", "application/json"},
		{"NoContentType", "", notice, 415, "", "application/json"},
		{"FormAsJSON", "application/x-www-form-urlencoded", "title=x", 415, "", "application/json"},
		{"InvalidUTF8", "application/json", "{\"title\":\"\xff\xfe\",\"body\":\"x\",\"published\":\"2026-11-28\"}", 400, "", "UTF-8"},
		{"UnknownField", "application/json", `{"title":"通知","body":"x","published":"2026-11-28","subtitle":"y"}`, 400, "subtitle", "未知字段"},
		{"WrongType", "application/json", `{"title":5,"body":"x","published":"2026-11-28"}`, 400, "title", "字符串"},
		{"NotAnObject", "application/json", `[1,2]`, 400, "", "对象"},
		{"Empty", "application/json", ``, 400, "", "为空"},
		{"Syntax", "application/json", `{"title":"通知",}`, 400, "", "有效的 JSON"},
		{"BidiOverride", "application/json", `{"title":"通知` + "\u202e" + `gnp.exe","body":"x","published":"2026-11-28"}`, 400, "title", "文字方向"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, field, msg := post("/api/v1/notices", tc.ctype, tc.body)
			if status != tc.status || field != tc.field || !strings.Contains(msg, tc.message) {
				t.Fatalf("status %d field %q message %q; want %d %q containing %q", status, field, msg, tc.status, tc.field, tc.message)
			}
		})
	}
	if after, _ := srv.Store.Stats(); after.Entries != before.Entries {
		t.Fatalf("refused requests wrote %d entries", after.Entries-before.Entries)
	}
	// A charset parameter is fine.
	if status, _, msg := post("/api/v1/notices", "application/json; charset=utf-8", notice); status != http.StatusCreated {
		t.Fatalf("notice with charset: %d %s", status, msg)
	}

	t.Run("BidiInForm", func(t *testing.T) {
		status, _, body := c.Post("/staff/notices", url.Values{"title": {"停水\u202e通知"}, "body": {"明天停水"}, "published": {"2026-11-28"}})
		if status != http.StatusBadRequest || !strings.Contains(uitest.Text(body), "文字方向") {
			t.Fatalf("form with U+202E: %d %s", status, uitest.Text(body))
		}
	})

	t.Run("LimitParsedAlike", func(t *testing.T) {
		for _, path := range []string{"/api/v1/cases", "/api/v1/search", "/api/v1/households", "/api/v1/staff"} {
			for _, bad := range []string{"abc", "0", "1001", "-1", "1.5"} {
				status, body := c.Get(path + "?limit=" + bad)
				if status != http.StatusBadRequest || !strings.Contains(body, `"field":"limit"`) {
					t.Errorf("%s?limit=%s: %d %s", path, bad, status, body)
				}
			}
			if status, body := c.Get(path + "?limit=2"); status != http.StatusOK {
				t.Errorf("%s?limit=2: %d %s", path, status, body)
			}
		}
	})
}
