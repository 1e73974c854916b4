package ui_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/ui/internal/uitest"
)

// The import corpus (testdata/import): household ledgers of the shapes
// villages and townships keep, made by excelize and by LibreOffice (make.sh
// there), each with the verdict of every row written beside it.

// verdict is one line of a NAME.verdicts.tsv file.
type verdict struct {
	sheet, name, status string
	row                 int
	codes               []string
	fields              map[string]string
}

func readVerdicts(tb testing.TB, path string) (map[string]int, []verdict) {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	totals := map[string]int{}
	var out []verdict
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		parts := strings.Split(line, "\t")
		if strings.HasPrefix(line, "# totals\t") {
			for _, kv := range strings.Split(parts[1], ";") {
				var k string
				var n int
				if i := strings.IndexByte(kv, '='); i > 0 {
					k = kv[:i]
					fmt.Sscan(kv[i+1:], &n)
				}
				totals[k] = n
			}
			continue
		}
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if len(parts) != 6 {
			tb.Fatalf("%s: bad line %q", path, line)
		}
		v := verdict{sheet: parts[0], name: parts[2], status: parts[3], fields: map[string]string{}}
		fmt.Sscan(parts[1], &v.row)
		if parts[4] != "" {
			v.codes = strings.Split(parts[4], ",")
		}
		if parts[5] != "" {
			for _, kv := range strings.Split(parts[5], ";") {
				i := strings.IndexByte(kv, '=')
				v.fields[kv[:i]] = kv[i+1:]
			}
		}
		out = append(out, v)
	}
	return totals, out
}

// importAnswer is the API's answer to a dry run or a commit.
type importAnswer struct {
	Token  string            `json:"token"`
	Totals bolt.ImportTotals `json:"totals"`
	Rows   []bolt.RowOutcome `json:"rows"`
	Sheets []struct {
		Name    string                    `json:"name"`
		Read    bool                      `json:"read"`
		Columns []appliance.ColumnMapping `json:"columns"`
	} `json:"sheets"`
	Skipped []appliance.SkippedRow `json:"skipped"`
}

// uploadImport posts a file (or a token) and form fields to an import
// endpoint as multipart, and decodes the answer.
func uploadImport(tb testing.TB, c *uitest.Client, base, path, name string, data []byte, fields map[string]string) (int, importAnswer, string) {
	tb.Helper()
	status, body := postMultipart(tb, c, base+path, name, data, fields)
	var ans importAnswer
	if status == 200 {
		if err := json.Unmarshal([]byte(body), &ans); err != nil {
			tb.Fatalf("%s: %v: %s", path, err, body)
		}
	}
	return status, ans, body
}

// postMultipart posts form fields and, unless data is nil, a file.
func postMultipart(tb testing.TB, c *uitest.Client, url, name string, data []byte, fields map[string]string) (int, string) {
	tb.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	w.WriteField("_csrf", c.CSRF())
	if data != nil {
		fw, _ := w.CreateFormFile("file", name)
		fw.Write(data)
	}
	w.Close()
	req, _ := http.NewRequest("POST", url, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return send(tb, c, req)
}

// send does a request with the session's CSRF token.
func send(tb testing.TB, c *uitest.Client, req *http.Request) (int, string) {
	tb.Helper()
	req.Header.Set("X-CSRF-Token", c.CSRF())
	resp, err := c.HTTP.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func totalsOf(t bolt.ImportTotals) map[string]int {
	b, _ := json.Marshal(t)
	m := map[string]int{}
	json.Unmarshal(b, &m)
	return m
}

func TestImportCorpus(t *testing.T) {
	files, _ := filepath.Glob("testdata/import/*.verdicts.tsv")
	if len(files) < 6 {
		t.Fatalf("corpus has %d ledgers, want at least 6", len(files))
	}
	for _, vf := range files {
		base := strings.TrimSuffix(filepath.Base(vf), ".verdicts.tsv")
		matches, _ := filepath.Glob(filepath.Join("testdata/import", base+".*"))
		var sheetFile string
		for _, m := range matches {
			if !strings.HasSuffix(m, ".tsv") {
				sheetFile = m
			}
		}
		t.Run(base, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(sheetFile)
			if err != nil {
				t.Fatal(err)
			}
			totals, verdicts := readVerdicts(t, vf)
			s := uitest.MustStart(t, uitest.Options{})
			c := s.Client(t)
			c.Login("villagelead")
			csv := strings.HasSuffix(sheetFile, ".csv")

			status, dry, body := uploadImport(t, c, s.URL, "/api/v1/import/dry-run", filepath.Base(sheetFile), data, nil)
			if status != 200 {
				t.Fatalf("dry run: %d %s", status, body)
			}
			if kinds, _ := s.Store.KindCounts(); kinds[appliance.KindArchiveChange] != 0 {
				t.Fatal("the dry run wrote")
			}
			checkOutcomes(t, dry, verdicts, csv)
			if got := totalsOf(dry.Totals); !sameTotals(got, totals) {
				t.Fatalf("dry-run totals:\n got %v\nwant %v", got, totals)
			}

			status, done, body := uploadImport(t, c, s.URL, "/api/v1/import/commit", "", nil, map[string]string{"token": dry.Token})
			if status != 200 {
				t.Fatalf("commit: %d %s", status, body)
			}
			checkOutcomes(t, done, verdicts, csv)
			if got := totalsOf(done.Totals); !sameTotals(got, totals) {
				t.Fatalf("commit totals:\n got %v\nwant %v", got, totals)
			}
			checkStored(t, s.Store, verdicts, totals)

			// The same file again: everything unchanged, nothing written.
			before, _ := s.Store.KindCounts()
			status, again, body := uploadImport(t, c, s.URL, "/api/v1/import/commit", filepath.Base(sheetFile), data, nil)
			if status != 200 {
				t.Fatalf("second commit: %d %s", status, body)
			}
			if after, _ := s.Store.KindCounts(); after[appliance.KindArchiveChange] != before[appliance.KindArchiveChange] {
				t.Fatalf("the same sheet again wrote %d entries", after[appliance.KindArchiveChange]-before[appliance.KindArchiveChange])
			}
			if tt := again.Totals; tt.NewPeople != 0 || tt.UpdatedPeople != 0 || tt.UnchangedPeople != totals["people"] || tt.NewHouseholds != 0 {
				t.Fatalf("second commit: %+v", tt)
			}
		})
	}
}

func sameTotals(got, want map[string]int) bool {
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return len(want) > 0
}

// checkOutcomes compares every row's outcome with its verdict, and finds
// no row without one.
func checkOutcomes(t *testing.T, ans importAnswer, verdicts []verdict, csv bool) {
	t.Helper()
	key := func(sheet string, row int) string {
		if csv {
			sheet = ""
		}
		return fmt.Sprintf("%s#%d", sheet, row)
	}
	want := map[string]verdict{}
	for _, v := range verdicts {
		want[key(v.sheet, v.row)] = v
	}
	seen := map[string]bool{}
	for _, o := range ans.Rows {
		k := key(o.Sheet, o.Row)
		v, ok := want[k]
		if !ok {
			t.Errorf("row %s (%s): outcome %s %+v has no verdict", k, o.Name, o.Status, o.Issues)
			continue
		}
		seen[k] = true
		var codes []string
		for _, is := range o.Issues {
			codes = append(codes, is.Code)
			if is.Message == "" || is.Level != appliance.LevelError && is.Level != appliance.LevelWarning {
				t.Errorf("row %s: issue without message or level: %+v", k, is)
			}
			if is.Level == appliance.LevelError && is.Field == "" {
				t.Errorf("row %s: refusal names no field: %+v", k, is)
			}
		}
		sort.Strings(codes)
		wantCodes := append([]string{}, v.codes...)
		sort.Strings(wantCodes)
		if o.Status != v.status || strings.Join(codes, ",") != strings.Join(wantCodes, ",") {
			t.Errorf("row %s (%s): got %s %v, want %s %v (%+v)", k, o.Name, o.Status, codes, v.status, wantCodes, o.Issues)
		}
		if v.name != "" && o.Name != v.name && o.Name != "" {
			t.Errorf("row %s: name %q, want %q", k, o.Name, v.name)
		}
	}
	for k, v := range want {
		if !seen[k] {
			t.Errorf("row %s (%s): no outcome, want %s", k, v.name, v.status)
		}
	}
}

// checkStored finds every stored person and compares the fields the
// verdicts name; and the archive holds exactly the people the totals say.
func checkStored(t *testing.T, s *bolt.Store, verdicts []verdict, totals map[string]int) {
	t.Helper()
	rows, err := s.ExportRows("")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != totals["people"] {
		t.Errorf("stored %d people, want %d", len(rows), totals["people"])
	}
	byName := map[string][]appliance.ExportRow{}
	hhs := map[string]bool{}
	for _, r := range rows {
		byName[r.Person.Name] = append(byName[r.Person.Name], r)
		hhs[r.Household.ID] = true
	}
	if len(hhs) != totals["households"] {
		t.Errorf("stored %d households, want %d", len(hhs), totals["households"])
	}
	for _, v := range verdicts {
		stored := v.status == bolt.OutcomeNew || v.status == bolt.OutcomeUpdate || v.status == bolt.OutcomeUnchanged
		got := byName[v.name]
		if !stored {
			for _, r := range got {
				if id := v.fields["id"]; id != "" && r.Person.IDNumber() == id {
					t.Errorf("row %d (%s): %s, but stored", v.row, v.name, v.status)
				}
			}
			continue
		}
		if len(got) != 1 {
			t.Errorf("row %d (%s): %d stored records, want 1", v.row, v.name, len(got))
			continue
		}
		r := got[0]
		p, h := r.Person, r.Household
		sens := p.Sensitive
		if sens == nil {
			sens = &appliance.Sensitive{}
		}
		head := ""
		for _, x := range rows {
			if x.Person.ID == h.Head {
				head = x.Person.Name
			}
		}
		yn := map[bool]string{true: "是", false: "否"}
		actual := map[string]string{
			"relation": p.Relation, "code": p.RelationCode, "gender": p.Gender, "birth": p.Birth, "phone": p.Phone,
			"res": p.Residence, "where": p.ResidenceWhere, "dibao": yn[p.Dibao], "insured": yn[p.Insured], "scheme": p.InsuranceScheme,
			"health": sens.Health, "disability": sens.DisabilityGrade, "key": strings.Join(sens.KeyCategories, "、"), "note": sens.Note,
			"noid": map[bool]string{true: "1", false: ""}[p.NoID], "id": sens.IDNumber, "employment": p.Employment,
			"hh": head, "sheet_no": h.SheetNo, "address": h.Address, "group": fmt.Sprint(appliance.GroupNumber(h.Group)),
		}
		for k, want := range v.fields {
			var g string
			if strings.HasPrefix(k, "sheet:") {
				g = sens.Sheet[strings.TrimPrefix(k, "sheet:")]
			} else if x, ok := actual[k]; ok {
				g = x
			} else {
				t.Fatalf("row %d: unknown field %q in verdicts", v.row, k)
			}
			if g != want {
				t.Errorf("row %d (%s): %s = %q, want %q", v.row, v.name, k, g, want)
			}
		}
	}
}
