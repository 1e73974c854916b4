package ui_test

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"gridbox/ui/internal/uitest"
)

// docsScript is the shell block of docs/api.md between the markers name:begin and name:end.
func docsScript(t *testing.T, name string) string {
	t.Helper()
	doc, err := os.ReadFile("../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- "+name+":begin -->")
	block, _, ok2 := strings.Cut(rest, "<!-- "+name+":end -->")
	if !ok || !ok2 {
		t.Fatalf("docs/api.md has no %s block", name)
	}
	block = strings.TrimSpace(block)
	block = strings.TrimPrefix(block, "```sh")
	return strings.TrimSuffix(block, "```")
}

// The script login of docs/api.md, run as written with bash and curl
// against a real server: a new account with its one-time password ends
// with a working token, and an account without one too.
func TestDocsScriptLogin(t *testing.T) {
	uitest.RequireTool(t, "curl")
	script := docsScript(t, "script-login")
	srv := uitest.MustStart(t, uitest.Options{})
	lead := token(t, srv, "u-villagelead")
	_, _, made := call(t, srv.URL, "POST", "/api/v1/users", lead, nil, map[string]any{"username": "towndata", "name": "对接账号", "role": "duty_staff"})
	oneTime, _ := made["password"].(string)
	if oneTime == "" {
		t.Fatalf("no one-time password: %v", made)
	}
	run := func(user, pw, newPW string) map[string]any {
		t.Helper()
		cmd := exec.Command("bash", "-c", script)
		cmd.Env = append(os.Environ(), "BOX="+srv.URL, "GB_USER="+user, "GB_PASSWORD="+pw, "NEW_PASSWORD="+newPW)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the documented script failed (%v):\n%s", err, out)
		}
		var me map[string]any
		if err := json.Unmarshal(out, &me); err != nil {
			t.Fatalf("the documented script printed %q", out)
		}
		return me
	}
	if me := run("towndata", oneTime, "Xh-duijie-2026-tw"); me["username"] != "towndata" {
		t.Fatalf("new account: %v", me)
	}
	if me := run("villagelead", uitest.Password, ""); me["id"] != "u-villagelead" {
		t.Fatalf("lead: %v", me)
	}
	// The token it made is the account's: it lists it.
	code, _, toks := call(t, srv.URL, "GET", "/api/v1/tokens", lead, nil, nil)
	if items, _ := toks["items"].([]any); code != http.StatusOK || len(items) < 2 {
		t.Fatalf("tokens: %d %v", code, toks)
	}
	// A wrong password stops the script.
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "BOX="+srv.URL, "GB_USER=villagelead", "GB_PASSWORD=wrong-one", "NEW_PASSWORD=")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("a wrong password went through: %s", out)
	}
}
