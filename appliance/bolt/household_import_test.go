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
		// Household 2: rows with one error each.
		{"2", "2组", "二组1号", "单某", bad, "男", "", "户主", "", "否", "", "", ""},
		{"3", "第二村民组", "二组2号", "陈某", id(1970, 2, 30-28, 14, true), "男", "1970-02-30", "户主", "", "", "", "", ""},
		{"4", "9组", "九组1号", "刘某", id(1971, 3, 3, 15, true), "男", "", "户主", "", "", "", "", ""},
		{"5", "三组", "三组1号", "", id(1972, 3, 3, 16, true), "男", "", "户主", "", "", "", "", ""},
		{"6", "三组", "三组2号", "周某", good1, "男", "", "户主", "", "", "", "", ""},
		{"7", "三组", "三组3号", "李𠇔", id(1990, 9, 9, 17, false), "女", "1990-09-09", "户主", "13800000000", "", "", "", ""},
	}
	data := fixtureXLSX(t, rows, [][2]string{{"A3", "A5"}, {"B3", "B5"}, {"C3", "C5"}})
	sheet, err := appliance.ParseImportSheet("花名册.xlsx", data, groupsOf(t, s))
	must(t, err)
	if sheet.Sheet != "花名册" || len(sheet.Ignored) != 2 {
		t.Fatalf("sheet=%q ignored=%v", sheet.Sheet, sheet.Ignored)
	}
	plan, err := s.DryRunImport(sheet, hhVillage)
	must(t, err)
	want := map[int]string{ // row → part of the reason
		6:  "校验位",
		7:  "出生日期",
		8:  "组别“9组”不存在",
		9:  "姓名为空",
		10: "与第3行重复",
	}
	got := map[int]string{}
	for _, p := range plan.Problems {
		got[p.Row] = p.Column + " " + p.Message
	}
	for row, part := range want {
		if !strings.Contains(got[row], part) {
			t.Errorf("row %d: problem %q, want %q", row, got[row], part)
		}
	}
	if len(got) != len(want) {
		t.Errorf("problems: %v", got)
	}
	if plan.NewHouseholds != 2 || plan.NewPeople != 4 || plan.Accepted != 4 || plan.Total != 9 {
		t.Fatalf("plan: %+v", plan)
	}
	if kinds, _ := s.KindCounts(); kinds[appliance.KindArchiveChange] != 0 {
		t.Fatal("dry run wrote entries")
	}
	plan, err = s.CommitImport(ctx, "u-lead", sheet, hhVillage)
	must(t, err)
	if kinds, _ := s.KindCounts(); kinds[appliance.KindArchiveChange] != 2 {
		t.Fatalf("commit wrote %d changes", kinds[appliance.KindArchiveChange])
	}
	hits := hhFind(t, s, appliance.PersonFilter{Query: "zw"})
	if len(hits) != 1 || hits[0] != "曾伟" {
		t.Fatalf("曾伟 by zw: %v", hits)
	}
	if got := hhFind(t, s, appliance.PersonFilter{Query: "zengguo"}); len(got) != 1 {
		t.Fatalf("曾 read as zeng: %v", got)
	}
	if got := hhFind(t, s, appliance.PersonFilter{Away: true}); len(got) != 1 {
		t.Fatalf("away: %v", got)
	}
	if got := hhFind(t, s, appliance.PersonFilter{KeyCategory: "空巢老人"}); len(got) != 1 || got[0] != "王秀兰" {
		t.Fatalf("key: %v", got)
	}
	hitsP, _, _ := s.FindPeople(appliance.PersonFilter{Query: "曾伟"})
	if hitsP[0].Person.Relation != "子" || hitsP[0].Household.Address != "杏花村一组8号" {
		t.Fatalf("merged cells and relation variants: %+v", hitsP[0])
	}

	t.Run("SameSheetTwice", func(t *testing.T) {
		plan, err := s.CommitImport(ctx, "u-lead", sheet, hhVillage)
		must(t, err)
		if plan.NewHouseholds != 0 || plan.NewPeople != 0 || plan.ChangedPeople != 0 || plan.Unchanged != 4 {
			t.Fatalf("second import: %+v", plan)
		}
		if kinds, _ := s.KindCounts(); kinds[appliance.KindArchiveChange] != 2 {
			t.Fatalf("second import wrote entries: %d", kinds[appliance.KindArchiveChange])
		}
	})
	t.Run("ErrAllOrNothing", func(t *testing.T) {
		// Two households of one sheet claim the same new ID number under
		// different 户号: the sheet check refuses the second row.
		n := id(1999, 9, 9, 21, true)
		data := fixtureXLSX(t, [][]any{
			{"8", "一组", "一组20号", "甲", n, "男", "", "户主"},
			{"9", "一组", "一组21号", "乙", n, "男", "", "户主"},
		}, nil)
		sheet, err := appliance.ParseImportSheet("x.xlsx", data, groupsOf(t, s))
		must(t, err)
		if len(sheet.Problems) != 1 || sheet.Problems[0].Row != 4 {
			t.Fatalf("problems: %+v", sheet.Problems)
		}
	})
	t.Run("CSVGBK", func(t *testing.T) {
		csv := "姓名,身份证号,与户主关系,组别,住址\n赵大," + id(1950, 1, 1, 31, true) + ",户主,1,一组30号\n赵二," + id(1980, 1, 1, 32, false) + ",女儿,1,\n"
		gbk, err := simplifiedGBK(csv)
		must(t, err)
		sheet, err := appliance.ParseImportSheet("a.csv", gbk, groupsOf(t, s))
		must(t, err)
		if len(sheet.Rows) != 2 || sheet.Rows[1].Key != sheet.Rows[0].Key || sheet.Rows[1].Person.Relation != "女" {
			t.Fatalf("csv rows: %+v problems %+v", sheet.Rows, sheet.Problems)
		}
	})
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
		sheet, err := appliance.ParseImportSheet("export.xlsx", buf.Bytes(), gs)
		must(t, err)
		plan, err := a.DryRunImport(sheet, hhVillage)
		must(t, err)
		if len(plan.Problems) != 0 || plan.Unchanged != 10 || plan.NewPeople != 0 || plan.ChangedPeople != 0 {
			t.Fatalf("plan: %+v", plan)
		}
	})
	t.Run("IntoAnEmptyArchive", func(t *testing.T) {
		b := hhOpen(t)
		hhGrid(t, b, 2)
		sheet, err := appliance.ParseImportSheet("export.xlsx", buf.Bytes(), groupsOf(t, b))
		must(t, err)
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
