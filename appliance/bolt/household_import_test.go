package bolt_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// fixtureXLSX builds an import sheet the way villages keep them: a title
// row, then headers, then rows; extra sheets before and after.
func fixtureXLSX(tb testing.TB, rows [][]any, merges [][2]string) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	f.SetSheetName("Sheet1", "说明")
	f.SetCellValue("说明", "A1", "填表说明：每人一行，户主在前。")
	const sh = "花名册"
	f.NewSheet(sh)
	f.SetCellValue(sh, "A1", "杏花村户籍花名册（2026年）")
	header := []any{"户号", "组别", "家庭住址", "姓名", "公民身份号码", "性别", "出生日期", "与户主关系", "联系电话", "是否低保", "外出务工", "务工地点", "特殊人群"}
	f.SetSheetRow(sh, "A2", &header)
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+3)
		f.SetSheetRow(sh, cell, &r)
	}
	for _, m := range merges {
		if err := f.MergeCell(sh, m[0], m[1]); err != nil {
			tb.Fatal(err)
		}
	}
	f.NewSheet("统计")
	f.SetCellValue("统计", "A1", "合计")
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func groupsOf(tb testing.TB, s *bolt.Store) []appliance.Grid {
	lvl := appliance.LevelGroup
	gs, err := s.FindGrids(appliance.GridFilter{Level: &lvl})
	must(tb, err)
	return gs
}

func parseSheet(tb testing.TB, s *bolt.Store, name string, data []byte) *appliance.ImportSheet {
	tb.Helper()
	sheet, err := appliance.ParseImportSheet(name, data, appliance.ImportOptions{Groups: groupsOf(tb, s)})
	must(tb, err)
	return sheet
}

// outcomes maps "row" → "status code,code…" for a plan.
func outcomes(plan bolt.ImportPlan) map[int]string {
	out := map[int]string{}
	for _, r := range plan.Rows {
		var codes []string
		for _, is := range r.Issues {
			codes = append(codes, is.Code)
		}
		out[r.Row] = strings.TrimSpace(r.Status + " " + strings.Join(codes, ","))
	}
	return out
}

func TestImport_Fixtures(t *testing.T) {
	ctx := context.Background()
	s := hhOpen(t)
	hhGrid(t, s, 3)
	id := func(y, m, d, seq int, male bool) string {
		return appliance.MakeCitizenID("410184", ymd(y, m, d), seq, male)
	}
	good1, good2, good3 := id(1960, 5, 6, 11, true), id(1962, 7, 8, 12, false), id(1988, 1, 2, 13, true)
	bad := good3[:17] + map[bool]string{true: "1", false: "2"}[good3[17] != '1']
	rows := [][]any{
		// Household 1: merged 户号/组别/住址 cells over its three rows.
		{"1", "一组", "杏花村一组8号", "曾国强", good1, "男", "1960-05-06", "户主", "13912345678", "是", "否", "", ""},
		{"", "", "", "王秀兰", good2, "女", "1962/7/8", "妻子", "", "否", "否", "", "空巢老人"},
		{"", "", "", "曾伟", good3, "男", "19880102", "长子", "", "否", "是", "郑州", ""},
		// One fault each.
		{"2", "2组", "二组1号", "单某", bad, "男", "", "户主", "", "否", "", "", ""},
		{"3", "第二村民组", "二组2号", "陈某", id(1970, 2, 2, 14, true), "男", "1970-02-30", "户主", "", "", "", "", ""},
		{"4", "9组", "九组1号", "刘某", id(1971, 3, 3, 15, true), "男", "", "户主", "", "", "", "", ""},
		{"5", "三组", "三组1号", "", id(1972, 3, 3, 16, true), "男", "", "户主", "", "", "", "", ""},
		{"6", "三组", "三组2号", "周某", good1, "男", "", "户主", "", "", "", "", ""},
		{"7", "三组", "三组3号", "李𠇔", id(1990, 9, 9, 17, false), "女", "1990-09-09", "户主", "13800000000", "", "", "", ""},
	}
	data := fixtureXLSX(t, rows, [][2]string{{"A3", "A5"}, {"B3", "B5"}, {"C3", "C5"}})
	sheet := parseSheet(t, s, "花名册.xlsx", data)
	plan, err := s.DryRunImport(sheet, hhVillage)
	must(t, err)
	want := map[int]string{
		3: "new", 4: "new", 5: "new",
		6:  "refused bad_check_digit",
		7:  "refused bad_birth_date",
		8:  "refused unknown_group",
		9:  "refused empty_name",
		10: "refused duplicate_id",
		11: "new",
	}
	if got := outcomes(plan); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("outcomes:\n got %v\nwant %v", got, want)
	}
	if tt := plan.Totals; tt.NewHouseholds != 2 || tt.NewPeople != 4 || tt.RefusedRows != 5 || tt.Rows != 9 || tt.People != 4 {
		t.Fatalf("totals: %+v", tt)
	}
	if kinds, _ := s.KindCounts(); kinds[appliance.KindArchiveChange] != 0 {
		t.Fatal("dry run wrote entries")
	}
	plan, err = s.CommitImport(ctx, "u-lead", sheet, hhVillage)
	must(t, err)
	if kinds, _ := s.KindCounts(); kinds[appliance.KindArchiveChange] != 2 {
		t.Fatalf("commit wrote %d changes", kinds[appliance.KindArchiveChange])
	}
	if hits := hhFind(t, s, appliance.PersonFilter{Query: "zw"}); len(hits) != 1 || hits[0] != "曾伟" {
		t.Fatalf("曾伟 by zw: %v", hits)
	}
	if got := hhFind(t, s, appliance.PersonFilter{Away: true}); len(got) != 1 {
		t.Fatalf("away: %v", got)
	}
	if got := hhFind(t, s, appliance.PersonFilter{KeyCategory: "空巢老人"}); len(got) != 1 || got[0] != "王秀兰" {
		t.Fatalf("key: %v", got)
	}
	hitsP, _, _ := s.FindPeople(appliance.PersonFilter{Query: "曾伟"})
	if p := hitsP[0].Person; p.Relation != "长子" || p.RelationCode != "22" || hitsP[0].Household.Address != "杏花村一组8号" || hitsP[0].Household.SheetNo != "1" {
		t.Fatalf("merged cells and relations as written: %+v %+v", p, hitsP[0].Household)
	}

	t.Run("SameSheetTwice", func(t *testing.T) {
		plan, err := s.CommitImport(ctx, "u-lead", sheet, hhVillage)
		must(t, err)
		if tt := plan.Totals; tt.NewHouseholds != 0 || tt.NewPeople != 0 || tt.UpdatedPeople != 0 || tt.UnchangedPeople != 4 || tt.People != 4 {
			t.Fatalf("second import: %+v", tt)
		}
		if kinds, _ := s.KindCounts(); kinds[appliance.KindArchiveChange] != 2 {
			t.Fatalf("second import wrote entries: %d", kinds[appliance.KindArchiveChange])
		}
	})
	t.Run("CSVGBK", func(t *testing.T) {
		csv := "姓名,身份证号,与户主关系,组别\n赵大," + id(1950, 1, 1, 31, true) + ",户主,1\n赵二," + id(1980, 1, 1, 32, false) + ",女儿,\n"
		gbk, err := simplifiedGBK(csv)
		must(t, err)
		sheet := parseSheet(t, s, "a.csv", gbk)
		if len(sheet.Rows) != 2 || sheet.Rows[1].Key != sheet.Rows[0].Key || sheet.Rows[1].Person.Relation != "女儿" || sheet.Rows[1].Person.RelationCode != "30" || sheet.Rows[1].Refused() {
			t.Fatalf("csv rows: %+v", sheet.Rows)
		}
	})
}

func TestImport_HeldHouseholdAndRefusedRows(t *testing.T) {
	ctx := context.Background()
	s := hhOpen(t)
	hhGrid(t, s, 2)
	id := func(y, m, d, seq int, male bool) string {
		return appliance.MakeCitizenID("410184", ymd(y, m, d), seq, male)
	}
	head := id(1955, 4, 4, 41, true)
	wife, son := id(1957, 5, 5, 42, false), id(1980, 6, 6, 43, true)
	grand := id(2008, 8, 8, 44, false)
	badHead := head[:10] + "1340" + head[14:] // a birth date that does not exist
	rows := [][]any{
		{"", "一组", "", "孙大", badHead, "男", "", "户主"},
		{"", "", "", "钱二", wife, "女", "", "妻"},
		{"", "", "", "孙三", son, "男", "", "长子"},
		{"", "一组", "", "周四", id(1966, 6, 6, 45, true), "男", "", "户主"},
		{"", "", "", "周小", grand, "女", "1999-01-01", "孙女"},
	}
	sheet := parseSheet(t, s, "x.xlsx", fixtureXLSX(t, rows, nil))
	plan, err := s.CommitImport(ctx, "u", sheet, hhVillage)
	must(t, err)
	want := map[int]string{3: "refused bad_id_birth", 4: "held household_held", 5: "held household_held", 6: "new", 7: "refused birth_mismatch"}
	if got := outcomes(plan); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("outcomes:\n got %v\nwant %v", got, want)
	}
	if tt := plan.Totals; tt.HeldHouseholds != 1 || tt.HeldRows != 2 || tt.RefusedRows != 2 || tt.People != 1 {
		t.Fatalf("totals: %+v", tt)
	}
	// The download: refused and held rows with reasons, and 周四's head
	// row so that 周小 finds her household again.
	var buf bytes.Buffer
	must(t, appliance.WriteRefusedXLSX(&buf, sheet.Sheets, plan.Refused()))
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	must(t, err)
	got, _ := f.GetRows(f.GetSheetList()[0])
	if len(got) != 6 || got[0][len(got[0])-2] != appliance.RefusedColumn {
		t.Fatalf("refused sheet: %q", got)
	}
	// The clerk fixes the two cells in Excel and imports the file again.
	for i, r := range got {
		if i > 0 && r[3] == "孙大" {
			f.SetCellStr(f.GetSheetList()[0], fmt.Sprintf("E%d", i+1), head)
		}
		if i > 0 && r[3] == "周小" {
			f.SetCellStr(f.GetSheetList()[0], fmt.Sprintf("G%d", i+1), "2008-08-08")
		}
	}
	buf.Reset()
	must(t, f.Write(&buf))
	again := parseSheet(t, s, "未导入的行.xlsx", buf.Bytes())
	plan, err = s.CommitImport(ctx, "u", again, hhVillage)
	must(t, err)
	if tt := plan.Totals; tt.NewHouseholds != 1 || tt.NewPeople != 4 || tt.UnchangedPeople != 1 || tt.RefusedRows != 0 || tt.HeldRows != 0 {
		t.Fatalf("re-import totals: %+v %v", tt, outcomes(plan))
	}
	if got := hhFind(t, s, appliance.PersonFilter{Query: "周小"}); len(got) != 1 {
		t.Fatalf("周小: %v", got)
	}
	hits, _, _ := s.FindPeople(appliance.PersonFilter{Query: "周小"})
	_, ms, err := s.Household(hits[0].Household.ID)
	must(t, err)
	if len(ms) != 2 {
		t.Fatalf("周小 joined %d members", len(ms))
	}
}

func TestImport_ReImportListsChanges(t *testing.T) {
	ctx := context.Background()
	s := hhOpen(t)
	hhGrid(t, s, 1)
	a := appliance.MakeCitizenID("410184", ymd(1970, 1, 1), 51, true)
	b := appliance.MakeCitizenID("410184", ymd(1972, 2, 2), 52, false)
	first := [][]any{{"8", "一组", "", "吴一", a, "男", "", "户主", "13900000001"}, {"", "", "", "郑二", b, "女", "", "妻", "", "是"}}
	_, err := s.CommitImport(ctx, "u", parseSheet(t, s, "a.xlsx", fixtureXLSX(t, first, [][2]string{{"A3", "A4"}})), hhVillage)
	must(t, err)
	second := [][]any{{"8", "一组", "", "吴一", a, "男", "", "户主", "13900000002"}, {"", "", "", "郑二", b, "女", "", "妻", "", "", "是", "上海"},
		{"", "", "", "吴三", "无证", "男", "2020-03-03", "子"}}
	plan, err := s.DryRunImport(parseSheet(t, s, "b.xlsx", fixtureXLSX(t, second, [][2]string{{"A3", "A5"}})), hhVillage)
	must(t, err)
	if tt := plan.Totals; tt.NewHouseholds != 0 || tt.UpdatedHouseholds != 1 || tt.UpdatedPeople != 2 || tt.NewPeople != 1 {
		t.Fatalf("totals %+v %v", tt, outcomes(plan))
	}
	var changes []string
	for _, r := range plan.Rows {
		for _, c := range r.Changes {
			changes = append(changes, fmt.Sprintf("%s %s:%s→%s", r.Name, c.Label, c.Old, c.New))
		}
	}
	// 郑二's empty 是否低保 cell keeps her stored 是.
	if want := "吴一 联系电话:139****0001→139****0002|郑二 居住状态:在家居住→外出务工|郑二 外出务工地点:→上海"; strings.Join(changes, "|") != want {
		t.Fatalf("changes:\n got %s\nwant %s", strings.Join(changes, "|"), want)
	}
}

func TestImport_ExportRoundTrip(t *testing.T) {
	ctx := context.Background()
	a := hhOpen(t)
	hhGrid(t, a, 2)
	for i := 0; i < 5; i++ {
		head := hhPerson(fmt.Sprintf("王%c", '一'+rune(i)), "户主", ymd(1950+i, 2, 3), true, 40+i)
		head.Phone, head.Dibao = fmt.Sprintf("1370000000%d", i), i == 2
		head.Sensitive.KeyCategories = []string{"留守老人"}
		wife := hhPerson("李𠇔", "配偶", ymd(1952+i, 4, 5), false, 50+i)
		wife.Residence, wife.ResidenceWhere = appliance.ResidenceAway, "广州"
		_, err := a.CreateHousehold(ctx, "u", appliance.Household{Group: appliance.GroupCode(hhVillage, 1+i%2), Address: fmt.Sprintf("%d号", i), HouseNo: fmt.Sprint(i)}, []appliance.Person{head, wife})
		must(t, err)
	}
	rows, err := a.ExportRows(hhVillage)
	must(t, err)
	st, err := a.ArchiveStats(hhVillage, ymd(2026, 11, 28))
	must(t, err)
	var buf bytes.Buffer
	gs := groupsOf(t, a)
	names := map[string]string{}
	for _, g := range gs {
		names[g.Code] = g.Name
	}
	must(t, appliance.WriteArchiveXLSX(&buf, rows, st, names))

	t.Run("IntoTheSameArchive", func(t *testing.T) {
		sheet := parseSheet(t, a, "export.xlsx", buf.Bytes())
		plan, err := a.DryRunImport(sheet, hhVillage)
		must(t, err)
		if tt := plan.Totals; tt.RefusedRows != 0 || tt.UnchangedPeople != 10 || tt.NewPeople != 0 || tt.UpdatedPeople != 0 {
			t.Fatalf("plan: %+v %v", tt, outcomes(plan))
		}
	})
	t.Run("IntoAnEmptyArchive", func(t *testing.T) {
		b := hhOpen(t)
		hhGrid(t, b, 2)
		sheet := parseSheet(t, b, "export.xlsx", buf.Bytes())
		if _, err := b.CommitImport(ctx, "u", sheet, hhVillage); err != nil {
			t.Fatal(err)
		}
		rows2, err := b.ExportRows(hhVillage)
		must(t, err)
		if len(rows2) != len(rows) {
			t.Fatalf("rows %d, want %d", len(rows2), len(rows))
		}
		for i := range rows {
			p, q := rows[i].Person, rows2[i].Person
			p.ID, p.Household, q.ID, q.Household = "", "", "", ""
			p.Insured, q.Insured = false, false
			if x, y := mustJSON(t, p), mustJSON(t, q); x != y {
				t.Fatalf("row %d:\n%+v %+v\n%+v %+v", i, p, *p.Sensitive, q, *q.Sensitive)
			}
		}
		st2, _ := b.ArchiveStats(hhVillage, ymd(2026, 11, 28))
		if fmt.Sprint(st2) != fmt.Sprint(st) {
			t.Fatalf("stats differ:\n%v\n%v", st, st2)
		}
	})
	t.Run("MaskedExport", func(t *testing.T) {
		masked := make([]appliance.ExportRow, len(rows))
		for i, r := range rows {
			r.Person = r.Person.Masked()
			masked[i] = r
		}
		var mb bytes.Buffer
		must(t, appliance.WriteArchiveXLSX(&mb, masked, st, names))
		f, err := excelize.OpenReader(&mb)
		must(t, err)
		all, _ := f.GetRows("户籍成员")
		text := fmt.Sprint(all)
		for _, r := range rows {
			if strings.Contains(text, r.Person.IDNumber()) || r.Person.Phone != "" && strings.Contains(text, r.Person.Phone) {
				t.Fatalf("masked export holds %s", r.Person.Name)
			}
		}
		if !strings.Contains(text, "410184********") {
			t.Fatal("masked numbers missing")
		}
		stats, _ := f.GetRows("分组统计")
		if len(stats) != 4 || stats[3][0] != "合计" || stats[3][2] != "10" {
			t.Fatalf("stats sheet: %v", stats)
		}
	})
}

func simplifiedGBK(s string) ([]byte, error) {
	return simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
}

func mustJSON(tb testing.TB, v any) string {
	b, err := json.Marshal(v)
	must(tb, err)
	return string(b)
}

// A grid leader's import names no household outside their grids.
func TestImport_OtherGridsStayUnnamed(t *testing.T) {
	ctx := context.Background()
	s := hhOpen(t)
	hhGrid(t, s, 2)
	p := hhPerson("欧阳守", "户主", ymd(1966, 6, 6), true, 71)
	_, err := s.CreateHousehold(ctx, "u", appliance.Household{Group: appliance.GroupCode(hhVillage, 2)}, []appliance.Person{p})
	must(t, err)
	sheet := parseSheet(t, s, "a.xlsx", fixtureXLSX(t, [][]any{
		{"1", "一组", "", "欧阳新", appliance.MakeCitizenID("410184", ymd(1990, 1, 1), 72, true), "男", "", "户主"},
		{"", "", "", "欧阳守", p.Sensitive.IDNumber, "男", "", "父亲"},
	}, nil))
	plan, err := s.DryRunImport(sheet, appliance.GroupCode(hhVillage, 1))
	must(t, err)
	r := plan.Rows[1]
	if r.Status != bolt.OutcomeRefused || r.Issues[0].Code != "id_in_other_household" || strings.Contains(r.Issues[0].Message, "欧阳") || strings.Contains(r.Issues[0].Message, "第2") {
		t.Fatalf("row: %+v", r)
	}
}
