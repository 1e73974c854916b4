package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// openAPI is the served document with a validator of answers.
type openAPI struct {
	t         *testing.T
	doc       map[string]any
	compiler  *jsonschema.Compiler
	schemas   map[string]*jsonschema.Schema
	exercised map[string]bool // "METHOD /template status"
}

func loadOpenAPI(t *testing.T, base string) *openAPI {
	t.Helper()
	res, err := http.Get(base + "/api/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	raw, err := jsonschema.UnmarshalJSON(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	doc := raw.(map[string]any)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi %v", doc["openapi"])
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource("https://gridbox.invalid/openapi.json", raw); err != nil {
		t.Fatal(err)
	}
	return &openAPI{t: t, doc: doc, compiler: c, schemas: map[string]*jsonschema.Schema{}, exercised: map[string]bool{}}
}

var templateParamRE = regexp.MustCompile(`\{[^}]+\}`)

// operation finds the path template and operation of a real request.
func (o *openAPI) operation(method, path string) (string, map[string]any) {
	path, _, _ = strings.Cut(path, "?")
	paths := o.doc["paths"].(map[string]any)
	var templates []string
	for p := range paths {
		templates = append(templates, p)
	}
	sort.Slice(templates, func(i, j int) bool { return strings.Count(templates[i], "{") < strings.Count(templates[j], "{") }) // literal paths first
	for _, p := range templates {
		var re strings.Builder
		for i, seg := range strings.Split(p, "/") {
			if i > 0 {
				re.WriteString("/")
			}
			if templateParamRE.MatchString(seg) {
				re.WriteString(`[^/]+`)
			} else {
				re.WriteString(regexp.QuoteMeta(seg))
			}
		}
		if regexp.MustCompile("^" + re.String() + "$").MatchString(path) {
			if op, ok := paths[p].(map[string]any)[strings.ToLower(method)].(map[string]any); ok {
				return p, op
			}
		}
	}
	o.t.Fatalf("%s %s is not in openapi.json", method, path)
	return "", nil
}

func jsonPointerEscape(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// check validates a real answer against the document: its status is
// documented (or the default error), and its JSON body fits the schema.
func (o *openAPI) check(method, path string, status int, body []byte) {
	o.t.Helper()
	tmpl, op := o.operation(method, path)
	responses := op["responses"].(map[string]any)
	key := strconv.Itoa(status)
	if _, ok := responses[key]; !ok {
		if status < 400 {
			o.t.Fatalf("%s %s answered %d, which openapi.json does not document", method, tmpl, status)
		}
		key = "default"
	}
	o.exercised[method+" "+tmpl+" "+key] = true
	resp := responses[key].(map[string]any)
	content, _ := resp["content"].(map[string]any)
	if _, ok := content["application/json"]; !ok {
		if len(body) > 0 && content == nil {
			o.t.Fatalf("%s %s %d: a body where openapi.json says none", method, tmpl, status)
		}
		return
	}
	loc := "https://gridbox.invalid/openapi.json#/paths/" + jsonPointerEscape(tmpl) + "/" + strings.ToLower(method) + "/responses/" + key + "/content/application~1json/schema"
	sch, ok := o.schemas[loc]
	if !ok {
		var err error
		if sch, err = o.compiler.Compile(loc); err != nil {
			o.t.Fatalf("compile %s: %v", loc, err)
		}
		o.schemas[loc] = sch
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		o.t.Fatalf("%s %s %d: answer is not JSON: %.200s", method, tmpl, status, body)
	}
	if err := sch.Validate(inst); err != nil {
		o.t.Fatalf("%s %s %d: the answer does not fit openapi.json:\n%v\nanswer: %.600s", method, path, status, err, body)
	}
}

// do sends a request and checks its answer against the document.
func (o *openAPI) do(base, method, path, token string, in any) (int, map[string]any) {
	o.t.Helper()
	var body io.Reader
	if in != nil {
		data, _ := json.Marshal(in)
		body = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, base+path, body)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	o.check(method, path, res.StatusCode, data)
	var out map[string]any
	json.Unmarshal(data, &out)
	return res.StatusCode, out
}

// Every /api/v1 route served is in openapi.json and nothing else is; the
// answers of real requests fit its schemas.
func TestOpenAPI(t *testing.T) {
	srv := uitest.MustStart(t, uitest.Options{})
	o := loadOpenAPI(t, srv.URL)

	served := map[string]bool{}
	for _, r := range srv.UI.App().GetRoutes(true) {
		if r.Method == http.MethodHead || r.Method == "USE" || !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		p := regexp.MustCompile(`:([A-Za-z_]+)`).ReplaceAllString(r.Path, "{$1}")
		served[r.Method+" "+p] = true
	}
	documented := map[string]bool{}
	for p, ops := range o.doc["paths"].(map[string]any) {
		for m := range ops.(map[string]any) {
			documented[strings.ToUpper(m)+" "+p] = true
		}
	}
	for k := range served {
		if !documented[k] {
			t.Errorf("%s is served but not in openapi.json", k)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("openapi.json has %s, which the server does not serve", k)
		}
	}

	// The schemas hold answers to the fields the code writes: one more, or
	// one missing, does not fit.
	for _, forged := range []string{
		`{"role":"village","code":"410184104201","name":"杏花村","feed":"ab","duty_phone":"","extra":1}`,
		`{"role":"village","code":"410184104201","name":"杏花村","feed":"ab"}`,
	} {
		sch, err := o.compiler.Compile("https://gridbox.invalid/openapi.json#/paths/~1api~1v1~1node/get/responses/200/content/application~1json/schema")
		if err != nil {
			t.Fatal(err)
		}
		inst, _ := jsonschema.UnmarshalJSON(strings.NewReader(forged))
		if sch.Validate(inst) == nil {
			t.Fatalf("a forged answer fits: %s", forged)
		}
	}

	lead := token(t, srv, "u-villagelead")
	admin := token(t, srv, "u-admin")
	expectOK := func(code int, what string, ans map[string]any) {
		t.Helper()
		if code >= 300 {
			t.Fatalf("%s: %d %v", what, code, ans)
		}
	}
	code, ans := o.do(srv.URL, "GET", "/api/v1/node", "", nil)
	expectOK(code, "node", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/me", lead, nil)
	expectOK(code, "me", ans)
	code, ans = o.do(srv.URL, "POST", "/api/v1/token", lead, map[string]any{"name": "脚本", "days": 30})
	expectOK(code, "token", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/tokens", lead, nil)
	expectOK(code, "tokens", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/users", admin, nil)
	expectOK(code, "users", ans)
	code, ans = o.do(srv.URL, "POST", "/api/v1/users", admin, map[string]any{"username": "zhaolin", "name": "赵林", "role": "duty_staff"})
	expectOK(code, "create user", ans)
	code, ans = o.do(srv.URL, "POST", "/api/v1/users/u-zhaolin/reset", admin, nil)
	expectOK(code, "reset", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/grids", lead, nil)
	expectOK(code, "grids", ans)
	code, ans = o.do(srv.URL, "POST", "/api/v1/staff", lead, map[string]any{"name": "王建国", "phone": "13812345678", "duty": "grid_leader", "grid": "410184104201-01", "title": "组长"})
	expectOK(code, "staff", ans)
	staffID, _ := ans["id"].(string)
	code, ans = o.do(srv.URL, "GET", "/api/v1/staff", lead, nil)
	expectOK(code, "staff list", ans)
	code, ans = o.do(srv.URL, "POST", "/api/v1/grids", lead, map[string]any{"code": "410184104201-09", "level": 3, "name": "幸福楼院", "parent": "410184104201", "kind": "楼院"})
	expectOK(code, "grid", ans)
	code, ans = o.do(srv.URL, "POST", "/api/v1/duty", lead, map[string]any{"date": "2026-11-30", "shift": "全天", "staff_id": staffID})
	expectOK(code, "duty", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/duty?from=2026-11-30&to=2026-11-30", "", nil)
	expectOK(code, "duty list", ans)
	code, ans = o.do(srv.URL, "POST", "/api/v1/notices", lead, map[string]any{"title": "停水通知", "body": "明天上午八点到十二点停水。"})
	expectOK(code, "notice", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/notices", "", nil)
	expectOK(code, "notices", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/stats/ledger", lead, nil)
	expectOK(code, "ledger stats", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/categories", "", nil)
	expectOK(code, "categories", ans)
	if items, _ := ans["items"].([]any); len(items) != len(srv.Config.Cases.Categories) {
		t.Fatalf("categories: %v", ans)
	}
	if !strings.Contains(mustJSON(ans), `{"key":"tree_pests","name":"林木病虫害"}`) {
		t.Fatalf("public_affairs lacks its subcategories: %v", ans)
	}
	code, ans = o.do(srv.URL, "GET", "/api/v1/kiosk/phrases", "", nil)
	expectOK(code, "phrases", ans)
	code, ans = o.do(srv.URL, "POST", "/api/v1/kiosk/phrases", lead, map[string]any{"phrases": map[string][]string{"livelihood": {"想办低保"}}})
	expectOK(code, "set phrases", ans)

	// Cases, through their life.
	code, rec := o.do(srv.URL, "POST", "/api/v1/cases", lead, map[string]any{"category": "public_affairs", "subcategory": "tree_pests", "description": "杨树林发现美国白蛾", "source": "patrol", "group": "410184104201-01"})
	expectOK(code, "register", rec)
	id := rec["code"].(string)
	code, ans = o.do(srv.URL, "POST", "/api/v1/track", "", map[string]any{"code": id, "pin": rec["pin"]})
	if code != 403 { // the kiosk's CSRF: a public POST without it is refused, in the documented shape
		expectOK(code, "track", ans)
	}
	code, ans = o.do(srv.URL, "GET", "/api/v1/track/scan?token="+rec["token"].(string), "", nil)
	expectOK(code, "scan", ans)
	for _, st := range []map[string]any{{"action": "assign", "assignee": "张建国"}, {"action": "milestone", "text": "已喷药一次"}, {"action": "resolve", "text": "已防治"}, {"action": "feedback", "how": "电话"}, {"action": "followup", "rating": "satisfied"}} {
		action := st["action"].(string)
		delete(st, "action")
		code, ans = o.do(srv.URL, "POST", "/api/v1/cases/"+id+"/"+action, lead, st)
		expectOK(code, action, ans)
	}
	code, ans = o.do(srv.URL, "GET", "/api/v1/cases/"+id, lead, nil)
	expectOK(code, "case", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/cases?limit=5", lead, nil)
	expectOK(code, "cases", ans)
	o.do(srv.URL, "POST", "/api/v1/cases", lead, map[string]any{"category": "livelihood", "description": "独居老人需要照看", "source": "phone"})
	code, ans = o.do(srv.URL, "GET", "/api/v1/cases/due", lead, nil)
	expectOK(code, "due", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/cases/stats?category=public_affairs", lead, nil)
	expectOK(code, "stats", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/cases/stats?period=month", lead, nil)
	expectOK(code, "stats", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/cases/town-reports", lead, nil)
	expectOK(code, "town reports", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/cases/register", lead, nil)
	expectOK(code, "register", ans)

	// Households.
	code, hh := o.do(srv.URL, "POST", "/api/v1/households", lead, map[string]any{
		"household": map[string]any{"group": "410184104201-01", "address": "一组99号"},
		"members": []any{map[string]any{"name": "曾广田", "relation": "户主", "residence": "here", "phone": "13600001111", "dibao": true,
			"sensitive": map[string]any{"id_number": "410184195503035013", "key_categories": []string{"空巢老人"}}}},
	})
	expectOK(code, "household", hh)
	hid, _ := hh["household"].(map[string]any)["id"].(string)
	code, ans = o.do(srv.URL, "GET", "/api/v1/households/"+hid, lead, nil)
	expectOK(code, "household get", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/households", lead, nil)
	expectOK(code, "households", ans)
	code, ans = o.do(srv.URL, "POST", "/api/v1/visits", lead, map[string]any{"household": hid, "kind": "visit", "note": "老人身体还好"})
	if code < 300 {
		code, ans = o.do(srv.URL, "GET", "/api/v1/visits?worker=u-villagelead", lead, nil)
		expectOK(code, "visits", ans)
	}

	// The working week: a duty log line, a meeting.
	code, ans = o.do(srv.URL, "POST", "/api/v1/duty/log", lead, map[string]any{"kind": "call", "staff_id": staffID, "text": "村民来电问低保年审时间"})
	expectOK(code, "duty log", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/duty/log", lead, nil)
	expectOK(code, "duty day", ans)
	m, err := srv.Store.SetMeeting(context.Background(), "u-villagelead", appliance.Meeting{Grid: srv.Config.Node.Code, Kind: appliance.MeetingWeekly, Title: "工作碰头会", Date: "2026-11-30"})
	if err != nil {
		t.Fatal(err)
	}
	code, ans = o.do(srv.URL, "GET", "/api/v1/meetings?from=2026-11-01&to=2026-12-31", lead, nil)
	expectOK(code, "meetings", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/meetings/"+srv.Config.Node.Code+"."+m.ID, lead, nil)
	expectOK(code, "meeting", ans)

	// The assessment: what a village reads (the town's flow: assess_test.go).
	code, ans = o.do(srv.URL, "GET", "/api/v1/assess/rules", lead, nil)
	expectOK(code, "assess rules", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/assess/scores?period=2026-11", lead, nil)
	expectOK(code, "assess scores", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/assess/findings", lead, nil)
	expectOK(code, "assess findings", ans)
	if err := srv.Store.SetTeam(context.Background(), "u-villagelead", appliance.WorkTeam{Village: srv.Config.Node.Code, Members: []appliance.TeamMember{{ID: "p1", Name: "王建军", Unit: "龙湖镇农业服务中心", Days: 4}}}); err != nil {
		t.Fatal(err)
	}
	code, ans = o.do(srv.URL, "POST", "/api/v1/assess/appraisals", lead, map[string]any{"village": srv.Config.Node.Code, "year": 2026, "member": "p1", "grade": "称职", "text": "工作认真。", "signer": "村党支部书记"})
	expectOK(code, "appraisal", ans)

	code, ans = o.do(srv.URL, "GET", "/api/v1/system", lead, nil)
	expectOK(code, "system", ans)
	code, ans = o.do(srv.URL, "GET", "/api/v1/calendar", lead, nil)
	expectOK(code, "calendar", ans)

	// Errors, in their one shape.
	o.do(srv.URL, "POST", "/api/v1/cases", lead, map[string]any{"category": "public_affairs", "description": "路灯坏了", "source": "patrol", "colour": "red"})
	o.do(srv.URL, "GET", "/api/v1/cases/NOPE-NOPE", lead, nil)
	o.do(srv.URL, "GET", "/api/v1/users", "", nil)
	o.do(srv.URL, "POST", "/api/v1/users/u-zhaolin/explode", admin, nil)

	// Every detailed JSON answer was checked at least once, but these
	// (their flows have their own tests; each line says where).
	notHere := map[string]string{
		"DELETE /api/v1/tokens/{id}":                  "no content",
		"POST /api/v1/password":                       "no content",
		"POST /api/v1/kiosk/cases":                    "kiosk CSRF flow: kiosk_http_test.go",
		"POST /api/v1/track":                          "kiosk CSRF flow: case_test.go",
		"POST /api/v1/track/rate":                     "kiosk CSRF flow: case_test.go",
		"POST /api/v1/cases/register/close":           "needs a day that has ended: case_test.go",
		"PUT /api/v1/households/{id}":                 "household_test.go",
		"POST /api/v1/households/{id}/events":         "household_test.go",
		"POST /api/v1/households/{id}/members":        "household_test.go",
		"PUT /api/v1/members/{pid}":                   "household_test.go",
		"POST /api/v1/members/{pid}/reveal":           "household_test.go",
		"GET /api/v1/households/{id}/appointments":    "appointment_test.go",
		"POST /api/v1/appointments":                   "appointment_test.go",
		"POST /api/v1/visits":                         "visit tests",
		"GET /api/v1/visits":                          "visit tests",
		"POST /api/v1/import/dry-run":                 "multipart: household_import_test.go",
		"POST /api/v1/import/commit":                  "multipart: household_import_test.go",
		"POST /api/v1/print/":                         "needs CUPS: print tests",
		"GET /api/v1/print/jobs":                      "printing is not set up here: print tests",
		"POST /api/v1/assess/rules":                   "a town's: assess_test.go",
		"POST /api/v1/assess/findings":                "a town's: assess_test.go",
		"POST /api/v1/assess/findings/{id}/objection": "needs a town's finding: assess_test.go",
		"POST /api/v1/assess/findings/{id}/decision":  "a town's: assess_test.go",
		"GET /api/v1/assess/inspections":              "a town's: assess_test.go",
		"POST /api/v1/assess/department-ratings":      "needs a case the town resolved: assess_test.go",
		"POST /api/v1/assess/inspections":             "a town's: assess_test.go",
		"GET /api/v1/assess/towns":                    "a city's: assess_city_test.go",
		"POST /api/v1/print/jobs/{id}/retry":          "needs CUPS: print tests",
	}
	for p, ops := range o.doc["paths"].(map[string]any) {
		for m, op := range ops.(map[string]any) {
			key := strings.ToUpper(m) + " " + p
			for st, r := range op.(map[string]any)["responses"].(map[string]any) {
				content, _ := r.(map[string]any)["content"].(map[string]any)
				js, ok := content["application/json"].(map[string]any)
				if st == "default" || !ok || js["schema"].(map[string]any)["description"] != nil {
					continue // errors, files, streams, answers not detailed
				}
				if !o.exercised[key+" "+st] && notHere[key] == "" {
					t.Errorf("%s %s: no real answer was checked against openapi.json", key, st)
				}
			}
		}
	}
	_ = appliance.EINVALID
}
