package ui_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// call sends a JSON request with a bearer token (if any) and extra
// headers, and returns the status, headers and decoded answer.
func call(t *testing.T, base, method, path, token string, hdr map[string]string, in any) (int, http.Header, map[string]any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	var out map[string]any
	if len(data) > 0 && json.Unmarshal(data, &out) != nil {
		t.Fatalf("%s %s: %d, not JSON: %.300s", method, path, res.StatusCode, data)
	}
	return res.StatusCode, res.Header, out
}

func errorOf(m map[string]any) (code, field, message string) {
	e, _ := m["error"].(map[string]any)
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	message, _ = e["message"].(string)
	return
}

// A retried create with the same key (header or client_ref) returns the
// first answer and makes nothing new, also after a restart; the same key
// with another body is refused naming it.
func TestIdempotentCreate(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	tok := token(t, srv, "u-villagelead")
	intake := map[string]any{"category": "public_affairs", "subcategory": "tree_pests", "description": "杨树林发现美国白蛾", "source": "patrol"}
	key := map[string]string{"Idempotency-Key": "8c1f6c8e-0d7e-4a43-9b55-2f1d3f1b7a10"}
	count := func() float64 {
		_, _, ans := call(t, srv.URL, "GET", "/api/v1/cases/stats", tok, nil, nil)
		st, _ := ans["stats"].(map[string]any)
		return st["total"].(float64)
	}

	code, _, first := call(t, srv.URL, "POST", "/api/v1/cases", tok, key, intake)
	if code != http.StatusCreated || first["code"] == "" {
		t.Fatalf("first: %d %v", code, first)
	}
	code, hdr, again := call(t, srv.URL, "POST", "/api/v1/cases", tok, key, intake)
	if code != http.StatusCreated || again["code"] != first["code"] || again["pin"] != first["pin"] || hdr.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d %v %v", code, again, hdr)
	}
	if n := count(); n != 1 {
		t.Fatalf("%v cases after a retry", n)
	}
	other := map[string]any{"category": "livelihood", "description": "独居老人需要照看", "source": "phone"}
	if code, _, ans := call(t, srv.URL, "POST", "/api/v1/cases", tok, key, other); code != http.StatusBadRequest {
		t.Fatalf("same key, other body: %d %v", code, ans)
	} else if c, f, _ := errorOf(ans); c != "invalid" || f != "Idempotency-Key" {
		t.Fatalf("same key, other body: %v", ans)
	}

	// client_ref in the body does the same.
	withRef := map[string]any{"category": "livelihood", "description": "独居老人需要照看", "source": "phone", "client_ref": "town-sys-000417"}
	code, _, r1 := call(t, srv.URL, "POST", "/api/v1/cases", tok, nil, withRef)
	if code != http.StatusCreated {
		t.Fatalf("client_ref: %d %v", code, r1)
	}
	srv.Restart(t)
	code, _, r2 := call(t, srv.URL, "POST", "/api/v1/cases", tok, nil, withRef)
	if code != http.StatusCreated || r2["code"] != r1["code"] {
		t.Fatalf("client_ref after a restart: %d %v, first %v", code, r2, r1)
	}
	if code, _, again := call(t, srv.URL, "POST", "/api/v1/cases", tok, key, intake); code != http.StatusCreated || again["code"] != first["code"] {
		t.Fatalf("header key after a restart: %d %v", code, again)
	}
	if n := count(); n != 2 {
		t.Fatalf("%v cases after retries and a restart, want 2", n)
	}
	// Keys are the caller's: another account's same key is a new request.
	tok2 := token(t, srv, "u-dutystaff")
	if code, _, ans := call(t, srv.URL, "POST", "/api/v1/cases", tok2, key, intake); code != http.StatusCreated || ans["code"] == first["code"] {
		t.Fatalf("another account's key: %d %v", code, ans)
	}
	// A key that is not a key, and one on a route that takes none.
	if code, _, ans := call(t, srv.URL, "POST", "/api/v1/cases", tok, map[string]string{"Idempotency-Key": "含中文"}, intake); code != http.StatusBadRequest {
		t.Fatalf("bad key: %d %v", code, ans)
	}
	if code, _, ans := call(t, srv.URL, "POST", "/api/v1/token", tok, key, map[string]any{}); code != http.StatusBadRequest {
		t.Fatalf("key on token creation: %d %v", code, ans)
	} else if _, f, _ := errorOf(ans); f != "Idempotency-Key" {
		t.Fatalf("key on token creation: %v", ans)
	}
	// A refused create keeps no answer: the corrected retry goes through.
	bad := map[string]any{"category": "public_affairs", "subcategory": "nope", "description": "路灯坏了一个星期", "source": "patrol"}
	k2 := map[string]string{"Idempotency-Key": "retry-after-fix-1"}
	if code, _, ans := call(t, srv.URL, "POST", "/api/v1/cases", tok, k2, bad); code != http.StatusBadRequest {
		t.Fatalf("bad subcategory: %d %v", code, ans)
	} else if _, f, _ := errorOf(ans); f != "subcategory" {
		t.Fatalf("bad subcategory: %v", ans)
	}
}

// Errors name the field: unknown fields, and a missing CSRF token on the
// API is answered in JSON.
func TestAPIErrorShape(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	tok := token(t, srv, "u-villagelead")
	code, _, ans := call(t, srv.URL, "POST", "/api/v1/cases", tok, nil, map[string]any{"category": "public_affairs", "description": "路灯坏了一个星期", "source": "patrol", "colour": "red"})
	if c, f, m := errorOf(ans); code != 400 || c != "invalid" || f != "colour" || m == "" {
		t.Fatalf("unknown field: %d %v", code, ans)
	}
	// A browser's session cookie without the CSRF token.
	cl := srv.Client(t)
	cl.Login("villagelead")
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/cases", bytes.NewReader([]byte(`{"category":"public_affairs","description":"路灯坏了一个星期","source":"patrol"}`)))
	req.Header.Set("Content-Type", "application/json")
	res, err := cl.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 403 {
		t.Fatalf("missing CSRF: %d %v", res.StatusCode, err)
	}
	if c, f, _ := errorOf(out); c != "forbidden" || f != "X-CSRF-Token" {
		t.Fatalf("missing CSRF: %v", out)
	}
	_ = appliance.EINVALID
}

// Accounts as JSON: create and reset answer the one-time password, which
// logs in and must be changed first; disable ends the account's access.
func TestAccountsAPI(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	lead := token(t, srv, "u-villagelead")
	code, _, made := call(t, srv.URL, "POST", "/api/v1/users", lead, nil, map[string]any{"username": "wangjg", "name": "王建国", "role": "grid_leader", "grid": "410184104201-02"})
	pw, _ := made["password"].(string)
	if code != http.StatusCreated || made["id"] != "u-wangjg" || len(pw) < 8 {
		t.Fatalf("create: %d %v", code, made)
	}
	// The same username again names the field.
	if code, _, ans := call(t, srv.URL, "POST", "/api/v1/users", lead, nil, map[string]any{"username": "wangjg", "name": "王建国", "role": "grid_leader"}); code != 400 {
		t.Fatalf("repeat: %d %v", code, ans)
	} else if _, f, _ := errorOf(ans); f != "username" && f != "id" {
		t.Fatalf("repeat: %v", ans)
	}
	// A village lead may not make an admin.
	if code, _, ans := call(t, srv.URL, "POST", "/api/v1/users", lead, nil, map[string]any{"username": "boss", "name": "管理员", "role": "admin"}); code != 400 {
		t.Fatalf("admin by a lead: %d %v", code, ans)
	} else if _, f, _ := errorOf(ans); f != "role" {
		t.Fatalf("admin by a lead: %v", ans)
	}
	if _, err := srv.Store.UserByUsername("boss"); err == nil {
		t.Fatal("refused account exists")
	}
	// The one-time password logs in; the account must change it first.
	cl := srv.Client(t)
	if st, loc, _ := cl.Post("/login", map[string][]string{"username": {"wangjg"}, "password": {pw}}); st != http.StatusSeeOther || loc != "/password?first=1" && loc != "/staff" {
		t.Fatalf("login with the one-time password: %d %s", st, loc)
	}
	code, _, reset := call(t, srv.URL, "POST", "/api/v1/users/u-wangjg/reset", lead, nil, nil)
	pw2, _ := reset["password"].(string)
	if code != 200 || pw2 == "" || pw2 == pw {
		t.Fatalf("reset: %d %v", code, reset)
	}
	if ok, _ := srv.Store.CheckPassword("u-wangjg", pw2); !ok {
		t.Fatal("the reset password does not check")
	}
	if code, _, ans := call(t, srv.URL, "POST", "/api/v1/users/u-wangjg/disable", lead, nil, nil); code != 200 || ans["disabled"] != true {
		t.Fatalf("disable: %d %v", code, ans)
	}
	if u, _ := srv.Store.User("u-wangjg"); !u.Disabled {
		t.Fatal("not disabled")
	}
	if code, _, ans := call(t, srv.URL, "POST", "/api/v1/users/u-villagelead/disable", lead, nil, nil); code != 400 {
		t.Fatalf("disable oneself: %d %v", code, ans)
	}
	if code, _, ans := call(t, srv.URL, "POST", "/api/v1/users/u-wangjg/explode", lead, nil, nil); code != 400 {
		t.Fatalf("unknown action: %d %v", code, ans)
	} else if _, f, _ := errorOf(ans); f != "action" {
		t.Fatalf("unknown action: %v", ans)
	}
	code, _, list := call(t, srv.URL, "GET", "/api/v1/users?limit=1000", lead, nil, nil)
	if items, _ := list["items"].([]any); code != 200 || len(items) < 8 {
		t.Fatalf("list: %d %v", code, list)
	}
	// A grid leader may not manage accounts.
	if code, _, _ := call(t, srv.URL, "POST", "/api/v1/users", token(t, srv, "u-gridleader"), nil, map[string]any{"username": "x1x", "name": "某", "role": "duty_staff"}); code != 403 {
		t.Fatalf("grid leader creates an account: %d", code)
	}
}

// Without a login a key is the browser's: a retry from it gets its own
// receipt again; another browser with the same key gets a case of its own,
// never the first one's receipt.
func TestIdempotentKioskReport(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	report := func(cl *uitest.Client) map[string]any {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/kiosk/cases", bytes.NewReader([]byte(`{"category":"public_affairs","description":"村东头路灯坏了一个星期"}`)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", cl.CSRF())
		req.Header.Set("Idempotency-Key", "kiosk-7")
		res, err := cl.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 201 {
			t.Fatalf("kiosk report: %d %v %v", res.StatusCode, out, err)
		}
		return out
	}
	a := srv.ClientFrom(t, "127.0.0.31")
	first := report(a)
	if again := report(a); again["code"] != first["code"] || again["pin"] != first["pin"] {
		t.Fatalf("retry from the same browser: %v, first %v", again, first)
	}
	if other := report(srv.ClientFrom(t, "127.0.0.32")); other["code"] == first["code"] {
		t.Fatalf("another browser got the first one's receipt: %v", other)
	}
}
