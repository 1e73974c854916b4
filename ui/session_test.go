package ui_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// apiCall sends a JSON request as c (session cookie and CSRF header), or
// with token when given, and returns the status and the decoded answer.
func apiCall(t *testing.T, c *uitest.Client, base, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, base+path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := http.DefaultClient
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	} else {
		req.Header.Set("X-CSRF-Token", c.CSRF())
		client = c.HTTP
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &out)
	return resp.StatusCode, out
}

func errorField(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

func TestOneTimePasswordFirst(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	u := appliance.User{ID: "u-newbie", Username: "newbie", Name: "新同志", Role: appliance.RoleVillageLead, Grid: srv.Config.Node.Code}
	if err := srv.Store.CreateUser(t.Context(), "", u, "onetime123", true); err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t)
	c.Post("/login", url.Values{"username": {"newbie"}, "password": {"onetime123"}})
	// The API is closed too, token minting included, until the password is changed.
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "/api/v1/cases", ""},
		{"GET", "/api/v1/households", ""},
		{"POST", "/api/v1/token", ""},
		{"POST", "/api/v1/notices", `{"title":"通知","body":"x"}`},
	} {
		if status, out := apiCall(t, c, srv.URL, tc.method, tc.path, "", tc.body); status != http.StatusBadRequest || errorField(out) != "password" {
			t.Fatalf("%s %s with a one-time password: %d %v", tc.method, tc.path, status, out)
		}
	}
	if status, out := apiCall(t, c, srv.URL, "GET", "/api/v1/me", "", ""); status != http.StatusOK || out["username"] != "newbie" {
		t.Fatalf("/api/v1/me: %d %v", status, out)
	}
	// Weak new passwords are refused naming the field; a good one opens the API.
	if status, out := apiCall(t, c, srv.URL, "POST", "/api/v1/password", "", `{"old_password":"onetime123","password":"password1"}`); status != http.StatusBadRequest || errorField(out) != "password" {
		t.Fatalf("weak password: %d %v", status, out)
	}
	if status, out := apiCall(t, c, srv.URL, "POST", "/api/v1/password", "", `{"old_password":"wrong-one-1","password":"xh-lead-5521"}`); status != http.StatusBadRequest || errorField(out) != "old_password" {
		t.Fatalf("wrong old password: %d %v", status, out)
	}
	if status, out := apiCall(t, c, srv.URL, "POST", "/api/v1/password", "", `{"old_password":"onetime123","password":"xh-lead-5521"}`); status != http.StatusNoContent {
		t.Fatalf("change: %d %v", status, out)
	}
	if status, out := apiCall(t, c, srv.URL, "GET", "/api/v1/cases", "", ""); status != http.StatusOK {
		t.Fatalf("API after the change: %d %v", status, out)
	}
}

func TestPasswordChangeEndsOtherSessions(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	here, there := srv.Client(t), srv.ClientFrom(t, "127.0.0.11")
	here.Login("villagelead")
	there.Login("villagelead")
	status, out := apiCall(t, here, srv.URL, "POST", "/api/v1/token", "", `{"name":"脚本","days":30}`)
	token, _ := out["token"].(string)
	if status != http.StatusCreated || token == "" {
		t.Fatalf("token: %d %v", status, out)
	}
	if status, _ := apiCall(t, nil, srv.URL, "GET", "/api/v1/me", token, ""); status != http.StatusOK {
		t.Fatalf("token before the change: %d", status)
	}
	if status, loc, body := here.Post("/password", url.Values{"old_password": {uitest.Password}, "password": {"xh-lead-5521"}, "password2": {"xh-lead-5521"}}); status != http.StatusSeeOther {
		t.Fatalf("change: %d %s %s", status, loc, uitest.Text(body))
	}
	if status, _ := here.Get("/staff"); status != http.StatusOK {
		t.Fatalf("the browser that changed it: %d", status)
	}
	if status, _ := there.Get("/staff"); status != http.StatusSeeOther {
		t.Fatalf("another browser after the change: %d, want sent to login", status)
	}
	if status, _ := apiCall(t, nil, srv.URL, "GET", "/api/v1/me", token, ""); status != http.StatusUnauthorized {
		t.Fatalf("token after the change: %d, want 401", status)
	}
}

func TestAPITokenList(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	c := srv.Client(t)
	c.Login("villagelead")
	_, out := apiCall(t, c, srv.URL, "POST", "/api/v1/token", "", `{"name":"乡镇对接","days":7}`)
	token, id := out["token"].(string), out["id"].(string)
	status, list := apiCall(t, c, srv.URL, "GET", "/api/v1/tokens", "", "")
	items, _ := list["items"].([]any)
	if status != http.StatusOK || len(items) != 1 || items[0].(map[string]any)["name"] != "乡镇对接" || items[0].(map[string]any)["id"] != id {
		t.Fatalf("list: %d %v", status, list)
	}
	if strings.Contains(mustJSON(list), token) {
		t.Fatal("the list shows the token itself")
	}
	// Another user cannot revoke it; its owner can, from the account page.
	other := srv.Client(t)
	other.Login("dutystaff")
	if status, _ := apiCall(t, other, srv.URL, "DELETE", "/api/v1/tokens/"+id, "", ""); status != http.StatusNotFound {
		t.Fatalf("revoke by another user: %d", status)
	}
	if status, body := c.Get("/staff/account"); status != http.StatusOK || !strings.Contains(body, "乡镇对接") {
		t.Fatalf("account page: %d %s", status, uitest.Text(body))
	}
	if status, loc, _ := c.Post("/staff/account/tokens", url.Values{"action": {"revoke"}, "id": {id}}); status != http.StatusSeeOther || loc != "/staff/account" {
		t.Fatalf("revoke: %d %s", status, loc)
	}
	if status, _ := apiCall(t, nil, srv.URL, "GET", "/api/v1/me", token, ""); status != http.StatusUnauthorized {
		t.Fatalf("revoked token: %d", status)
	}
	// The page makes one and shows it once.
	_, _, body := c.Post("/staff/account/tokens", url.Values{"action": {"create"}, "name": {"打印脚本"}, "days": {"30"}})
	if !strings.Contains(body, "gbt_") || !strings.Contains(body, "只显示这一次") {
		t.Fatalf("create on the page: %s", uitest.Text(body))
	}
	if _, body := c.Get("/staff/account"); strings.Contains(body, "gbt_") {
		t.Fatal("the token shows again")
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestCSRFPlantedCookie: a CSRF cookie someone else planted (a LAN attacker
// can set cookies on plain HTTP) opens nothing.
func TestCSRFPlantedCookie(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	post := func(cookies, token string, form url.Values) int {
		form.Set("_csrf", token)
		req, _ := http.NewRequest("POST", srv.URL+form.Get("path"), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", cookies)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	planted := "attacker-chosen-value-0123456789"
	if status := post("gb_csrf="+planted, planted, url.Values{"path": {"/track"}, "code": {"ABCD-EFGH"}, "pin": {"1234"}}); status != http.StatusForbidden {
		t.Fatalf("anonymous post with a planted cookie: %d, want 403", status)
	}
	// Logged in, a planted cookie and a matching field are refused too.
	c := srv.Client(t)
	c.Login("villagelead")
	u, _ := url.Parse(srv.URL)
	var session string
	for _, ck := range c.HTTP.Jar.Cookies(u) {
		if ck.Name == "gb_session" {
			session = ck.Value
		}
	}
	before, _ := srv.Store.Stats()
	if status := post("gb_session="+session+"; gb_csrf="+planted, planted, url.Values{"path": {"/staff/notices"}, "title": {"伪造"}, "body": {"x"}, "published": {"2026-11-28"}}); status != http.StatusForbidden {
		t.Fatalf("session with a planted CSRF cookie: %d, want 403", status)
	}
	// Another session's token does not open this one.
	other := srv.Client(t)
	other.Login("dutystaff")
	if status := post("gb_session="+session, other.CSRF(), url.Values{"path": {"/staff/notices"}, "title": {"伪造"}, "body": {"x"}, "published": {"2026-11-28"}}); status != http.StatusForbidden {
		t.Fatalf("session with another session's token: %d, want 403", status)
	}
	if after, _ := srv.Store.Stats(); after.Entries != before.Entries {
		t.Fatal("a refused post wrote entries")
	}
}
