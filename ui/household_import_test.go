package ui_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"gridbox/appliance"
	"gridbox/ui/internal/uitest"
)

// apiJSON sends a JSON body (or none) with the session's CSRF token.
func apiJSON(tb testing.TB, c *uitest.Client, base, method, path string, body any) (int, string) {
	tb.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, r)
	req.Header.Set("Content-Type", "application/json")
	return send(tb, c, req)
}

func cid(y, m, d, seq int, male bool) string {
	return appliance.MakeCitizenID("410184", time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), seq, male)
}

func xlsxOf(tb testing.TB, rows ...[]any) []byte {
	tb.Helper()
	f := excelize.NewFile()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		f.SetSheetRow("Sheet1", cell, &r)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// A header the box does not know: the clerk says what it is, the dry run
// reads the sheet that way, and the next import remembers it.
func TestImportMappingRemembered(t *testing.T) {
	s := uitest.MustStart(t, uitest.Options{})
	c := s.Client(t)
	c.Login("villagelead")
	data := xlsxOf(t,
		[]any{"姓名", "身份证", "称呼", "小组"},
		[]any{"舒大", cid(1961, 1, 1, 1, true), "户主", "1"},
		[]any{"舒二", cid(1963, 2, 2, 2, false), "内人", "1"},
	)
	status, ans, body := uploadImport(t, c, s.URL, "/api/v1/import/dry-run", "a.xlsx", data, nil)
	if status != 200 || ans.Sheets[0].Read || ans.Totals.Rows != 0 || !strings.Contains(body, "无法分户") {
		t.Fatalf("dry run without a relation column: %d %s", status, body)
	}
	if col := ans.Sheets[0].Columns[2]; col.Header != "称呼" || col.Source != appliance.SourceUnknown || col.Field != appliance.FieldKeep {
		t.Fatalf("column C: %+v", col)
	}
	// The clerk maps 称呼 to the relation; 内人 is no standard word: kept, warned.
	status, ans, body = uploadImport(t, c, s.URL, "/api/v1/import/dry-run", "", nil, map[string]string{"token": ans.Token, "col.C": "relation"})
	if status != 200 || ans.Totals.NewPeople != 2 || ans.Sheets[0].Columns[2].Source != appliance.SourceChosen {
		t.Fatalf("dry run with the mapping: %d %s", status, body)
	}
	if r := ans.Rows[1]; r.Issues[0].Code != "unknown_relation" {
		t.Fatalf("内人: %+v", r)
	}
	status, ans, body = uploadImport(t, c, s.URL, "/api/v1/import/commit", "", nil, map[string]string{"token": ans.Token})
	if status != 200 || ans.Totals.NewPeople != 2 {
		t.Fatalf("commit: %d %s", status, body)
	}
	st, body := apiJSON(t, c, s.URL, "GET", "/api/v1/import/mapping", nil)
	if st != 200 || !strings.Contains(body, `"称呼":"relation"`) {
		t.Fatalf("remembered mapping: %d %s", st, body)
	}
	// A fresh upload of a sheet with the same header: read at once.
	data2 := xlsxOf(t, []any{"姓名", "身份证", "称呼", "小组"}, []any{"舒三", cid(1970, 3, 3, 3, true), "户主", "2"})
	status, ans, body = uploadImport(t, c, s.URL, "/api/v1/import/dry-run", "b.xlsx", data2, nil)
	if status != 200 || ans.Sheets[0].Columns[2].Source != appliance.SourceRemembered || ans.Totals.NewPeople != 1 {
		t.Fatalf("second sheet: %d %s", status, body)
	}
	t.Run("OnThePage", func(t *testing.T) {
		page := s.Client(t)
		page.Login("villagelead")
		data3 := xlsxOf(t, []any{"姓名", "身份证", "成员身份", "小组"}, []any{"祝一", cid(1966, 6, 6, 6, true), "户主", "3"})
		st, html := postMultipart(t, page, s.URL+"/staff/households/import", "c.xlsx", data3, nil)
		if st != 200 || !strings.Contains(html, "无法分户") || !strings.Contains(html, `name="col.Sheet1!C"`) {
			t.Fatalf("page dry run: %d %s", st, uitest.Text(html))
		}
		i := strings.Index(html, `name="token" value="`)
		token := html[i+20 : i+52]
		// The clerk picks 与户主关系 for column C and previews again; the
		// other selects are sent as they were shown.
		status, _, html := page.Post("/staff/households/import", url.Values{"token": {token}, "action": {"remap"},
			"col.Sheet1!A": {"name"}, "col.Sheet1!B": {"id_number"}, "col.Sheet1!C": {"relation"}, "col.Sheet1!D": {"group"}})
		if status != 200 || !strings.Contains(html, `<td data-total="new_people">1</td>`) || !strings.Contains(html, "本次选择") {
			t.Fatalf("page remap: %d %s", status, uitest.Text(html))
		}
		if strings.Count(html, "本次选择") != 1 {
			t.Fatalf("columns shown as they were counted as chosen: %s", uitest.Text(html))
		}
	})
	t.Run("SetByAPI", func(t *testing.T) {
		st, body := apiJSON(t, c, s.URL, "PUT", "/api/v1/import/mapping", map[string]any{"columns": map[string]string{"户 内 人员": "name"}})
		if st != 200 || !strings.Contains(body, `"户内人员":"name"`) {
			t.Fatalf("put mapping: %d %s", st, body)
		}
		if st, body := apiJSON(t, c, s.URL, "PUT", "/api/v1/import/mapping", map[string]any{"columns": map[string]string{"甲": "salary"}}); st != 400 || !strings.Contains(body, "不是可导入的项目") {
			t.Fatalf("unknown field: %d %s", st, body)
		}
		if st, _ := apiJSON(t, c, s.URL, "PUT", "/api/v1/import/mapping", map[string]any{"columns": map[string]string{"甲": "name"}, "extra": 1}); st != 400 {
			t.Fatalf("unknown JSON field accepted: %d", st)
		}
	})
	t.Run("DutyStaffCannotImport", func(t *testing.T) {
		d := s.Client(t)
		d.Login("dutystaff")
		if st, _, _ := uploadImport(t, d, s.URL, "/api/v1/import/dry-run", "a.xlsx", data, nil); st != http.StatusForbidden {
			t.Fatalf("duty staff dry run: %d", st)
		}
	})
}

// The refused rows come back as .xlsx with a reason column; fixed in
// Excel, the same file imports the rows that were missing, and nobody twice.
func TestImportRefusedRowsRoundTrip(t *testing.T) {
	s := uitest.MustStart(t, uitest.Options{})
	c := s.Client(t)
	c.Login("villagelead")
	data, err := os.ReadFile("testdata/import/01_村民户籍台账.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	status, ans, body := uploadImport(t, c, s.URL, "/api/v1/import/commit", "01.xlsx", data, nil)
	if status != 200 || ans.Totals.People != 168 {
		t.Fatalf("commit: %d %.300s", status, body)
	}
	resp, err := c.HTTP.Get(s.URL + "/staff/households/import/" + ans.Token + "/refused.xlsx")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	xl, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "spreadsheetml") || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("download: %d %s", resp.StatusCode, resp.Header)
	}
	f, err := excelize.OpenReader(bytes.NewReader(xl))
	if err != nil {
		t.Fatal(err)
	}
	sh := f.GetSheetList()[0]
	rows, _ := f.GetRows(sh)
	if len(rows) != 1+12 || rows[0][15] != appliance.RefusedColumn {
		t.Fatalf("refused sheet: %d rows, header %q", len(rows), rows[0])
	}
	// The head whose ID lost its digits in a number cell: the clerk types
	// it from the card, as text; his wife and child were held, not lost.
	fixed := 0
	for i, r := range rows[1:] {
		if strings.Contains(r[15], "存成了数字") {
			f.SetCellStr(sh, fmt.Sprintf("H%d", i+2), cid(1956, 7, 7, 106, true))
			fixed++
		}
		if strings.Contains(r[15], "暂缓") && r[7] == "" {
			t.Fatalf("a held row lost its ID: %q", r)
		}
	}
	if fixed != 1 {
		t.Fatalf("fixed %d rows", fixed)
	}
	var buf bytes.Buffer
	f.Write(&buf)
	status, ans, body = uploadImport(t, c, s.URL, "/api/v1/import/commit", "未导入的行.xlsx", buf.Bytes(), nil)
	if status != 200 {
		t.Fatalf("re-import: %d %s", status, body)
	}
	if tt := ans.Totals; tt.NewHouseholds != 1 || tt.NewPeople != 3 || tt.RefusedRows != 9 || tt.HeldRows != 0 || tt.UpdatedPeople != 0 {
		t.Fatalf("re-import totals: %+v %+v", tt, ans.Rows)
	}
	rowsNow, _ := s.Store.ExportRows("")
	if len(rowsNow) != 171 {
		t.Fatalf("archive holds %d people, want 171", len(rowsNow))
	}
	// The rows still wrong keep their own reasons, and the page says so.
	page := s.Client(t)
	page.Login("villagelead")
	status, _, html := page.Post("/staff/households/import", map[string][]string{"token": {ans.Token}})
	if status != 200 || !strings.Contains(html, `data-code="bad_check_digit"`) || !strings.Contains(html, "下载未导入的行") {
		t.Fatalf("page: %d %s", status, uitest.Text(html))
	}
}

// A clerk's .xls that the reader cannot take is refused with advice.
func TestImportUnreadableFiles(t *testing.T) {
	s := uitest.MustStart(t, uitest.Options{})
	c := s.Client(t)
	c.Login("villagelead")
	for _, tc := range []struct{ name, body, want string }{
		{"damaged.xls", "\xD0\xCF\x11\xE0 not really a workbook", "请用Excel或WPS另存为.xlsx后再导入"},
		{"text.xls", "姓名,身份证号\n", "请用Excel或WPS另存为.xlsx后再导入"},
		{"a.doc", "x", "只能导入 .xlsx、.xls 或 .csv 文件"},
		{"empty.csv", "", "没有找到表头"},
	} {
		status, _, body := uploadImport(t, c, s.URL, "/api/v1/import/dry-run", tc.name, []byte(tc.body), nil)
		if status != 400 || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s", tc.name, status, body)
		}
	}
}

type hhJSON struct {
	Household appliance.Household `json:"household"`
	Members   []appliance.Person  `json:"members"`
}

func relationsByName(ms []appliance.Person) string {
	var out []string
	for _, m := range ms {
		if m.Active() {
			out = append(out, m.Name+":"+m.Relation)
		}
	}
	return strings.Join(out, " ")
}

// Household events over the API keep relations true, and ask in the same
// step where the rules cannot tell.
func TestHouseholdEventsKeepRelations(t *testing.T) {
	s := uitest.MustStart(t, uitest.Options{})
	c := s.Client(t)
	c.Login("villagelead")
	g1 := appliance.GroupCode("410184104201", 1)
	person := func(name, rel string, y, seq int, male bool) appliance.Person {
		return appliance.Person{Name: name, Relation: rel, Residence: appliance.ResidenceHere, Sensitive: &appliance.Sensitive{IDNumber: cid(y, 3, 3, seq, male)}}
	}
	create := func(ms ...appliance.Person) hhJSON {
		// No address: in a village the group is the address.
		st, body := apiJSON(t, c, s.URL, "POST", "/api/v1/households", hhJSON{Household: appliance.Household{Group: g1}, Members: ms})
		if st != 201 {
			t.Fatalf("create: %d %s", st, body)
		}
		var h hhJSON
		json.Unmarshal([]byte(body), &h)
		return h
	}
	idOf := func(h hhJSON, name string) string {
		for _, m := range h.Members {
			if m.Name == name {
				return m.ID
			}
		}
		t.Fatalf("no %s in %+v", name, h.Members)
		return ""
	}
	event := func(hid string, ev map[string]any) (int, string, hhJSON) {
		st, body := apiJSON(t, c, s.URL, "POST", "/api/v1/households/"+hid+"/events", ev)
		var h hhJSON
		json.Unmarshal([]byte(body), &h)
		return st, body, h
	}
	h := create(person("甘老大", "户主", 1950, 1, true), person("柯老伴", "妻", 1952, 2, false),
		person("甘长", "长子", 1975, 3, true), person("蓝媳", "儿媳", 1977, 4, false), person("甘孙", "孙子", 2002, 5, true))
	t.Run("SplitSonWithFamily", func(t *testing.T) {
		son := idOf(h, "甘长")
		st, body, nh := event(h.Household.ID, map[string]any{"kind": "split", "members": []string{son, idOf(h, "蓝媳"), idOf(h, "甘孙")}, "split_head": son})
		if st != 200 {
			t.Fatalf("split: %d %s", st, body)
		}
		if got := relationsByName(nh.Members); got != "甘长:户主 蓝媳:配偶 甘孙:子" {
			t.Fatalf("after split: %s", got)
		}
		// Merging back: the son's household joins his father's; his wife
		// becomes 儿媳 again, not a second 配偶 — once the clerk says what
		// the son is of the head.
		st, body, _ = event(h.Household.ID, map[string]any{"kind": "merge", "other": nh.Household.ID})
		if st != 400 || !strings.Contains(body, `"reason":"relations_needed"`) || !strings.Contains(body, `"questions"`) {
			t.Fatalf("merge without the link: %d %s", st, body)
		}
		st, body, mh := event(h.Household.ID, map[string]any{"kind": "merge", "other": nh.Household.ID, "relations": map[string]string{son: "长子"}})
		if st != 200 || relationsByName(mh.Members) != "甘老大:户主 柯老伴:妻 甘长:长子 蓝媳:儿媳 甘孙:孙子" {
			t.Fatalf("merge: %d %s", st, relationsByName(mh.Members))
		}
	})
	t.Run("SuccessionBySon", func(t *testing.T) {
		st, body, nh := event(h.Household.ID, map[string]any{"kind": "leave", "member": idOf(h, "甘老大"), "reason": "died", "date": "2026-11-01", "new_head": idOf(h, "甘长")})
		if st != 200 || relationsByName(nh.Members) != "甘长:户主 柯老伴:母亲 蓝媳:配偶 甘孙:子" {
			t.Fatalf("succession: %d %s %s", st, body, relationsByName(nh.Members))
		}
	})
	t.Run("AskedWhereUnclear", func(t *testing.T) {
		x := create(person("毛父", "户主", 1948, 11, true), person("毛大", "长子", 1972, 12, true), person("毛二", "次子", 1975, 13, true),
			person("黎媳", "儿媳", 1974, 14, false))
		st, body, _ := event(x.Household.ID, map[string]any{"kind": "new_head", "new_head": idOf(x, "毛大")})
		var q struct {
			Questions []appliance.RelationQuestion `json:"questions"`
		}
		json.Unmarshal([]byte(body), &q)
		if st != 400 || len(q.Questions) != 3 {
			t.Fatalf("new head with two sons: %d %s", st, body)
		}
		for _, qq := range q.Questions {
			if qq.Name == "黎媳" && qq.Suggested != "" || qq.Name == "毛二" && qq.Suggested != "弟" || qq.Name == "毛父" && qq.Suggested != "父亲" {
				t.Fatalf("question: %+v", qq)
			}
		}
		st, body, nh := event(x.Household.ID, map[string]any{"kind": "new_head", "new_head": idOf(x, "毛大"), "relations": map[string]string{idOf(x, "黎媳"): "弟媳"}})
		if st != 200 || relationsByName(nh.Members) != "毛大:户主 毛父:父亲 黎媳:弟媳 毛二:弟" {
			t.Fatalf("with the answer: %d %s %s", st, body, relationsByName(nh.Members))
		}
	})
	t.Run("ClosedHouseholdTakesNoMember", func(t *testing.T) {
		x := create(person("孤老", "户主", 1930, 21, true))
		if st, body, _ := event(x.Household.ID, map[string]any{"kind": "leave", "member": idOf(x, "孤老"), "reason": "died", "date": "2026-11-02"}); st != 200 {
			t.Fatalf("last member leaves: %d %s", st, body)
		}
		newcomer := person("新人", "子", 1990, 22, true)
		st, body := apiJSON(t, c, s.URL, "POST", "/api/v1/households/"+x.Household.ID+"/members", newcomer)
		if st != http.StatusConflict || !strings.Contains(body, "已注销") {
			t.Fatalf("member into a closed household: %d %s", st, body)
		}
		// The newcomer's number is still free for a real household.
		y := create(appliance.Person{Name: "新人", Relation: "户主", Residence: appliance.ResidenceHere, Sensitive: &appliance.Sensitive{IDNumber: newcomer.Sensitive.IDNumber}})
		if y.Household.Closed != "" {
			t.Fatal("closed")
		}
	})
}

// The duplicate review over HTTP: scoped by grid, decisions with who,
// when and a note in both households' history, changed only by reversal.
func TestDuplicateReviewScopedAPI(t *testing.T) {
	s := uitest.MustStart(t, uitest.Options{})
	lead := s.Client(t)
	lead.Login("villagelead")
	twin := appliance.Person{Name: "同名", Gender: "女", Birth: "1980-05-05", Relation: "户主", Residence: appliance.ResidenceHere, Phone: "13912340000"}
	var hids []string
	for _, g := range []int{1, 3} {
		st, body := apiJSON(t, lead, s.URL, "POST", "/api/v1/households", hhJSON{Household: appliance.Household{Group: appliance.GroupCode("410184104201", g)}, Members: []appliance.Person{twin}})
		if st != 201 {
			t.Fatalf("create: %d %s", st, body)
		}
		var h hhJSON
		json.Unmarshal([]byte(body), &h)
		hids = append(hids, h.Household.ID)
	}
	leader := s.Client(t)
	leader.Login("gridleader")
	st, body := apiJSON(t, leader, s.URL, "GET", "/api/v1/duplicates", nil)
	if st != 200 || !strings.Contains(body, `"hidden":1`) || strings.Contains(body, hids[1]) || strings.Count(body, `"birth":"1980-05-05"`) != 1 {
		t.Fatalf("group-1 leader's list: %d %s", st, body)
	}
	var list struct {
		Items []struct {
			Key string `json:"key"`
		} `json:"items"`
	}
	json.Unmarshal([]byte(body), &list)
	key := list.Items[0].Key
	if st, body := apiJSON(t, leader, s.URL, "POST", "/api/v1/duplicates", map[string]string{"key": key, "decision": "distinct", "note": "不是一个人"}); st != http.StatusForbidden {
		t.Fatalf("group-1 leader decided a group-3 pair: %d %s", st, body)
	}
	if st, body := apiJSON(t, lead, s.URL, "POST", "/api/v1/duplicates", map[string]string{"key": key, "decision": "distinct"}); st != 400 || !strings.Contains(body, "处理说明") {
		t.Fatalf("no note: %d %s", st, body)
	}
	if st, body := apiJSON(t, lead, s.URL, "POST", "/api/v1/duplicates", map[string]string{"key": key, "decision": "distinct", "note": "身份证不同，是两人"}); st != 200 || !strings.Contains(body, `"decided_by":"测试村负责人"`) {
		t.Fatalf("decide: %d %s", st, body)
	}
	if st, _ := apiJSON(t, lead, s.URL, "POST", "/api/v1/duplicates", map[string]string{"key": key, "decision": "merged", "note": "x"}); st != http.StatusConflict {
		t.Fatalf("decided twice: %d", st)
	}
	for _, hid := range hids {
		st, body := apiJSON(t, lead, s.URL, "GET", "/api/v1/households/"+hid+"/history", nil)
		if st != 200 || !strings.Contains(body, "确认不是同一人") || !strings.Contains(body, "身份证不同，是两人") || !strings.Contains(body, "测试村负责人") {
			t.Fatalf("history of %s: %s", hid, body)
		}
	}
	if st, body := apiJSON(t, lead, s.URL, "POST", "/api/v1/duplicates", map[string]string{"key": key, "decision": "reopened", "note": "重新核实"}); st != 200 || strings.Contains(body, `"decided":"distinct"`) {
		t.Fatalf("reversal: %d %s", st, body)
	}
}

// The event page asks in the same step: the form comes back with what was
// posted kept and a relation to choose for each member concerned.
func TestHouseholdEventPageAsks(t *testing.T) {
	s := uitest.MustStart(t, uitest.Options{})
	c := s.Client(t)
	c.Login("villagelead")
	person := func(name, rel string, y, seq int, male bool) appliance.Person {
		return appliance.Person{Name: name, Relation: rel, Residence: appliance.ResidenceHere, Sensitive: &appliance.Sensitive{IDNumber: cid(y, 4, 4, seq, male)}}
	}
	st, body := apiJSON(t, c, s.URL, "POST", "/api/v1/households", hhJSON{Household: appliance.Household{Group: appliance.GroupCode("410184104201", 2)},
		Members: []appliance.Person{person("车父", "户主", 1950, 31, true), person("车大", "长子", 1975, 32, true), person("车二", "次子", 1978, 33, true), person("苗媳", "儿媳", 1977, 34, false)}})
	if st != 201 {
		t.Fatalf("create: %d %s", st, body)
	}
	var h hhJSON
	json.Unmarshal([]byte(body), &h)
	id := map[string]string{}
	for _, m := range h.Members {
		id[m.Name] = m.ID
	}
	path := "/staff/households/" + h.Household.ID + "/event"
	status, _, html := c.Post(path, url.Values{"kind": {"new_head"}, "new_head": {id["车大"]}})
	if status != 400 || !strings.Contains(html, `id="relations-form"`) || !strings.Contains(html, `name="rel.`+id["苗媳"]+`"`) ||
		!strings.Contains(html, `<input type="hidden" name="new_head" value="`+id["车大"]+`">`) {
		t.Fatalf("question page: %d %s", status, uitest.Text(html))
	}
	if !strings.Contains(html, `<option selected>弟</option>`) || !strings.Contains(uitest.Text(html), "苗媳（原为“儿媳”）") {
		t.Fatalf("suggestions: %s", uitest.Text(html))
	}
	status, loc, _ := c.Post(path, url.Values{"kind": {"new_head"}, "new_head": {id["车大"]}, "rel." + id["苗媳"]: {"弟媳"}, "rel." + id["车父"]: {"父亲"}, "rel." + id["车二"]: {"弟"}})
	if status != 303 || loc != "/staff/households/"+h.Household.ID {
		t.Fatalf("answered: %d %s", status, loc)
	}
	_, ms, _ := s.Store.Household(h.Household.ID)
	if got := relationsByName(ms); got != "车大:户主 车父:父亲 苗媳:弟媳 车二:弟" {
		t.Fatalf("relations: %s", got)
	}
}
