package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// apiExamples are the JSON answers docs/api.md shows under each "### `…`"
// heading of a section, by heading.
func apiExamples(t *testing.T, section string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile("../../../docs/api.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "\n## "+section+"\n")
	if start < 0 {
		t.Fatalf("docs/api.md has no section %q", section)
	}
	doc = doc[start+1:]
	if end := strings.Index(doc[3:], "\n## "); end >= 0 {
		doc = doc[:end+3]
	}
	out := map[string][]string{}
	heading := ""
	block := regexp.MustCompile("(?s)^```json\n(.*?)```")
	for i := 0; i < len(doc); i++ {
		if strings.HasPrefix(doc[i:], "\n### ") {
			line := doc[i+5:]
			heading = line[:strings.Index(line, "\n")]
			continue
		}
		if m := block.FindStringSubmatch(doc[i:]); m != nil && (i == 0 || doc[i-1] == '\n') {
			out[heading] = append(out[heading], m[1])
			i += len(m[0]) - 1
		}
	}
	return out
}

// jsonPaths lists the field paths of a JSON value: a.b, items[].id,
// kinds[] (an array of strings); empty holds arrays that were empty.
func jsonPaths(v any, prefix string, paths, empty map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			paths[p] = true
			jsonPaths(e, p, paths, empty)
		}
	case []any:
		if len(x) == 0 {
			empty[prefix] = true
		}
		for _, e := range x {
			if _, ok := e.(map[string]any); !ok {
				paths[prefix+"[]"] = true
			}
			jsonPaths(e, prefix+"[]", paths, empty)
		}
	}
}

// omittable are the JSON names of the print API's fields that may be left
// out of an answer (omitempty).
func omittable() map[string]bool {
	out := map[string]bool{}
	for _, v := range []any{appliance.PrintDoc{}, appliance.PrinterStatus{}, appliance.PrintJob{}} {
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			name, opts, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
			if strings.Contains(opts, "omitempty") {
				out[name] = true
			}
		}
	}
	return out
}

// wantSameFields fails unless the documented example and the real answer
// have the same fields: none undocumented, and none documented that the
// API does not give (bar fields left out when empty).
func wantSameFields(t *testing.T, what, example string, real []byte) {
	t.Helper()
	var doc, got any
	if err := json.Unmarshal([]byte(example), &doc); err != nil {
		t.Fatalf("%s: docs/api.md's example is not JSON: %v\n%s", what, err, example)
	}
	if err := json.Unmarshal(real, &got); err != nil {
		t.Fatalf("%s: the answer is not JSON: %v\n%s", what, err, real)
	}
	dp, gp, de, ge := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	jsonPaths(doc, "", dp, de)
	jsonPaths(got, "", gp, ge)
	opt := omittable()
	var undocumented, absent []string
	for p := range gp {
		if !dp[p] {
			undocumented = append(undocumented, p)
		}
	}
	for p := range dp {
		leaf := p[strings.LastIndex(p, ".")+1:]
		if !gp[p] && !opt[strings.TrimSuffix(leaf, "[]")] && !ge[strings.TrimSuffix(p, "[]")] {
			absent = append(absent, p)
		}
	}
	sort.Strings(undocumented)
	sort.Strings(absent)
	if len(undocumented)+len(absent) > 0 {
		t.Errorf("%s: fields the API gives but docs/api.md does not show: %q; shown but not given: %q\nanswer: %s", what, undocumented, absent, real)
	}
}

// TestPrintAPIMatchesDocs calls every printing endpoint of a running node
// with a printer and compares each answer's fields with docs/api.md's
// example of it.
func TestPrintAPIMatchesDocs(t *testing.T) {
	ex := apiExamples(t, "Printing")
	example := func(prefix string, i int) string {
		t.Helper()
		for h, bs := range ex {
			if strings.HasPrefix(h, prefix) && i < len(bs) {
				return bs[i]
			}
		}
		t.Fatalf("docs/api.md: no example %d under %q", i, prefix)
		return ""
	}
	data, queue := demoWithPrinter(t)
	s, _, err := bolt.OpenDataDir(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	token, err := s.CreateAPIToken("u-lead")
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, data, freePort(t))
	call := func(method, path, body string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, n.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	st, b := call("GET", "/api/v1/print/documents", "")
	if st != 200 {
		t.Fatalf("documents: %d %s", st, b)
	}
	wantSameFields(t, "GET documents", example("`GET /api/v1/print/documents`", 0), b)
	if st, b = call("GET", "/api/v1/print/pdf?kind=notice&from=2026-13-40", ""); st != 400 {
		t.Fatalf("bad date: %d %s", st, b)
	}
	wantSameFields(t, "GET pdf, bad date", example("`GET /api/v1/print/pdf", 0), b)

	st, b = call("POST", "/api/v1/print", `{"kind":"notice","span":"week","paper":"a3"}`)
	if st != 201 {
		t.Fatalf("print: %d %s", st, b)
	}
	wantSameFields(t, "POST print", example("`POST /api/v1/print`", 0), b)

	// A job CUPS refuses fails, and is listed with its reason; sent again
	// once the printer takes jobs.
	if out, err := exec.Command("cupsreject", "-r", "维护中", queue).CombinedOutput(); err != nil {
		t.Fatalf("cupsreject: %v %s", err, out)
	}
	st, b = call("POST", "/api/v1/print", `{"kind":"register","span":"day"}`)
	exec.Command("cupsaccept", queue).Run()
	var failed appliance.PrintJob
	if st != 201 || json.Unmarshal(b, &failed) != nil || failed.State != "failed" {
		t.Fatalf("print to a rejecting queue: %d %s", st, b)
	}
	st, b = call("GET", "/api/v1/print/jobs", "")
	if st != 200 || !strings.Contains(string(b), `"reason":`) {
		t.Fatalf("jobs: %d %s", st, b)
	}
	wantSameFields(t, "GET jobs", example("`GET /api/v1/print/jobs`", 0), b)
	st, b = call("POST", "/api/v1/print/jobs/"+failed.ID+"/retry", "")
	if st != 200 {
		t.Fatalf("retry: %d %s", st, b)
	}
	wantSameFields(t, "POST retry", example("`POST /api/v1/print/jobs/{id}/retry`", 0), b)
	if st, b = call("POST", "/api/v1/print/jobs/"+failed.ID+"/retry", ""); st != http.StatusConflict {
		t.Fatalf("retry of a job that did not fail: %d %s", st, b)
	}
	wantSameFields(t, "POST retry, conflict", example("`POST /api/v1/print/jobs/{id}/retry`", 1), b)
}
