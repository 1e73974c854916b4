// Command gen writes the household ledgers of the import corpus, each with
// the verdict of every row written beside it (NAME.verdicts.tsv). Some are
// final as written here (made with excelize, as Excel writes them; one
// then made WPS-shaped by wpsShape); the others are source sheets that
// make.sh passes through LibreOffice to get the files other programs make
// (.xlsx re-saved, .xls, CSV in UTF-8 and GBK).
//
// The verdicts are stated by hand next to each row's cells below; the
// importer is not asked. Run via make.sh.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"gridbox/appliance"
)

// v is a row's verdict: status (new, refused, held…), issue codes and the
// stored fields to check ("k=v;k=v"); for a refused row the fields may
// give "as=…", the name as the file's program left it.
type v struct{ status, codes, fields string }

// row is one spreadsheet row: cells and its verdict (zero for rows that
// are not checked, such as headers).
type row struct {
	cells []any
	v     v
}

type sheet struct {
	name    string
	nameCol int // the column of the person's name
	rows    []row
	merges  [][2]string
	styles  map[string]string // cell range "A4:A9" → number format code
}

type corpus struct {
	file   string // written name (under src/ when make.sh converts it)
	sheets []sheet
	totals string
	// finish, if set, styles the book before it is saved; wps makes the
	// saved file WPS-shaped (wpsShape).
	finish func(f *excelize.File)
	wps    bool
}

func id(y, m, d, seq int, male bool) string {
	return appliance.MakeCitizenID("410184", time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), seq, male)
}

// badCheck returns n with a wrong check digit.
func badCheck(n string) string {
	if n[17] == '1' {
		return n[:17] + "2"
	}
	return n[:17] + "1"
}

func serial(y, m, d int) float64 {
	t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	return float64(t.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24)
}

func main() {
	dir := "."
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	must(os.MkdirAll(filepath.Join(dir, "src"), 0o755))
	for _, c := range []corpus{clerkLedger(), collectionForm(), visitRegister(), rosterCSV(), gbkRoster(), oldLedger(), wpsRoster()} {
		write(dir, c)
	}
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func write(dir string, c corpus) {
	f := excelize.NewFile()
	defer f.Close()
	var verdicts strings.Builder
	fmt.Fprintf(&verdicts, "# %s: the verdict of every person row, written by hand beside its cells in gen/main.go\n", filepath.Base(c.file))
	fmt.Fprintf(&verdicts, "# totals\t%s\n", c.totals)
	fmt.Fprintf(&verdicts, "# sheet\trow\tname\tstatus\tcodes\tfields\n")
	for i, s := range c.sheets {
		if i == 0 {
			f.SetSheetName("Sheet1", s.name)
		} else {
			_, err := f.NewSheet(s.name)
			must(err)
		}
		for r, rw := range s.rows {
			cell, _ := excelize.CoordinatesToCellName(1, r+1)
			cells := rw.cells
			must(f.SetSheetRow(s.name, cell, &cells))
			if rw.v.status == "" {
				continue
			}
			name, _ := rw.cells[s.nameCol].(string)
			fields := rw.v.fields
			if strings.HasPrefix(fields, "as=") {
				name, fields = strings.TrimPrefix(fields, "as="), ""
			}
			fmt.Fprintf(&verdicts, "%s\t%d\t%s\t%s\t%s\t%s\n", s.name, r+1, name, rw.v.status, rw.v.codes, fields)
		}
		for _, m := range s.merges {
			must(f.MergeCell(s.name, m[0], m[1]))
		}
		for rng, numFmt := range s.styles {
			st, err := f.NewStyle(&excelize.Style{CustomNumFmt: &numFmt})
			must(err)
			parts := strings.Split(rng, ":")
			must(f.SetCellStyle(s.name, parts[0], parts[1], st))
		}
	}
	if c.finish != nil {
		c.finish(f)
	}
	must(f.SaveAs(filepath.Join(dir, c.file)))
	if c.wps {
		var names []string
		for _, s := range c.sheets {
			names = append(names, s.name)
		}
		must(wpsShape(filepath.Join(dir, c.file), names))
	}
	base := strings.TrimSuffix(filepath.Base(c.file), filepath.Ext(c.file))
	must(os.WriteFile(filepath.Join(dir, base+".verdicts.tsv"), []byte(verdicts.String()), 0o644))
}

var surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史")
var maleGiven = []string{"建国", "建军", "国强", "德明", "志刚", "海涛", "永福", "长青", "振华", "学文", "广平", "春生"}
var femaleGiven = []string{"秀兰", "桂英", "玉梅", "淑芬", "翠花", "春燕", "丽娟", "红霞", "金凤", "小芳", "彩云", "爱华"}
var childMale = []string{"伟", "磊", "强", "军", "鹏", "浩", "洋", "涛", "斌", "超"}
var childFemale = []string{"娜", "敏", "静", "丽", "婷", "雪", "佳", "琳", "悦", "倩"}

// clerkLedger is the village clerk's sheet of the issue: 60 households,
// 180 people, merged 户号 cells, a title row, a 合计 row, a notes sheet and
// the usual fifteen columns. Ten rows carry the faults real ledgers have;
// one of them is a head, whose two members are held, not lost.
func clerkLedger() corpus {
	s := sheet{name: "户籍台账", nameCol: 4, styles: map[string]string{}}
	s.rows = append(s.rows,
		row{cells: []any{"杏花村村民户籍台账（2026年11月）"}},
		row{cells: []any{"填报单位：杏花村村委会", "", "", "", "", "", "", "", "", "", "", "", "填报日期：2026年11月20日"}},
		row{cells: []any{"序号", "组别", "户号", "户主姓名", "姓名", "与户主关系", "性别", "身份证号码", "出生日期", "联系电话", "是否低保", "医保类型", "健康状况", "外出务工地点", "备注"}},
	)
	s.merges = append(s.merges, [2]string{"A1", "O1"})
	seq := 0
	ids := map[int]string{}
	for h := 0; h < 60; h++ {
		group := []string{"一组", "二组", "三组"}[h/20]
		groupNo := h/20 + 1
		sur := string(surnames[h%len(surnames)])
		headName := sur + maleGiven[h%len(maleGiven)]
		wifeName := string(surnames[(h+37)%len(surnames)]) + femaleGiven[h%len(femaleGiven)]
		childMaleName := h%2 == 0
		childName := sur + map[bool]string{true: childMale[h%len(childMale)], false: childFemale[h%len(childFemale)]}[childMaleName]
		hy := 1950 + h%25
		headBirth := [3]int{hy, 1 + h%12, 1 + h%28}
		wifeBirth := [3]int{hy + 2, 1 + (h+5)%12, 1 + (h+9)%28}
		childBirth := [3]int{hy + 26, 1 + (h+3)%12, 1 + (h+13)%28}
		headID := id(headBirth[0], headBirth[1], headBirth[2], 100+h, true)
		wifeID := id(wifeBirth[0], wifeBirth[1], wifeBirth[2], 300+h, false)
		childID := id(childBirth[0], childBirth[1], childBirth[2], 500+h, childMaleName)
		ids[h] = childID
		no := fmt.Sprint(h + 1)
		first := len(s.rows) + 1
		dates := []any{
			serial(headBirth[0], headBirth[1], headBirth[2]),
			fmt.Sprintf("%d.%02d.%02d", wifeBirth[0], wifeBirth[1], wifeBirth[2]),
			fmt.Sprintf("%d年%d月%d日", childBirth[0], childBirth[1], childBirth[2]),
		}
		if h%3 == 1 {
			dates[0] = fmt.Sprintf("%d/%d/%d", headBirth[0], headBirth[1], headBirth[2])
			dates[2] = fmt.Sprintf("%d%02d%02d", childBirth[0], childBirth[1], childBirth[2])
		}
		var phone any = fmt.Sprintf("139%08d", 1000+h)
		if h%3 == 0 {
			phone = float64(13900001000 + h) // typed into a number cell
		}
		dibao := map[bool]string{true: "是", false: "否"}[h%9 == 4]
		schemes := []string{"城乡居民医保", "新农合", "城乡居民医保", "职工医保"}
		health := []string{"健康", "良好", "健康", "慢性病", "健康"}[h%5]
		wifeHealth := []string{"健康", "一般", "良好"}[h%3]
		away, note := "", ""
		if h%4 == 1 {
			away = []string{"广东东莞", "浙江宁波", "江苏昆山"}[h%3]
		}
		if h%10 == 7 {
			note = "独生子女户"
		}
		wifeRel := []string{"妻", "配偶", "妻子"}[h%3]
		childRel := []string{"长子", "长女", "子", "女", "次子", "次女"}[h%6]
		if childMaleName && (childRel == "长女" || childRel == "女" || childRel == "次女") {
			childRel = "长子"
		} else if !childMaleName && (childRel == "长子" || childRel == "子" || childRel == "次子") {
			childRel = "长女"
		}
		code := func(rel string) string { c, _ := appliance.RelationCode(rel); return c }
		headV := v{"new", "", fmt.Sprintf("relation=户主;code=02;gender=男;birth=%04d-%02d-%02d;group=%d;sheet_no=%s;hh=%s;dibao=%s;scheme=%s;health=%s;id=%s",
			headBirth[0], headBirth[1], headBirth[2], groupNo, no, headName, dibao, schemes[h%4], map[string]string{"健康": "healthy", "良好": "healthy", "慢性病": "chronic"}[health], headID)}
		if h%3 == 0 {
			headV.fields += fmt.Sprintf(";phone=139%08d", 1000+h)
		} else {
			headV.fields += fmt.Sprintf(";phone=139%08d", 1000+h)
		}
		wifeV := v{"new", "", fmt.Sprintf("relation=%s;code=%s;gender=女;birth=%04d-%02d-%02d;hh=%s;id=%s", wifeRel, code(wifeRel), wifeBirth[0], wifeBirth[1], wifeBirth[2], headName, wifeID)}
		if wifeHealth == "一般" {
			wifeV.codes = "unknown_value"
			wifeV.fields += ";health=;sheet:健康状况=一般"
		}
		childV := v{"new", "", fmt.Sprintf("relation=%s;code=%s;birth=%04d-%02d-%02d;hh=%s", childRel, code(childRel), childBirth[0], childBirth[1], childBirth[2], headName)}
		if away != "" {
			childV.fields += ";res=away;where=" + away
		} else {
			childV.fields += ";res=here"
		}
		if note != "" {
			childV.fields += ";note=" + note
		}
		childScheme := schemes[(h+1)%4]
		if h == 11 {
			childScheme = "商业保险" // not a public scheme: kept as written, with a warning
			childV.codes = "unknown_value"
			childV.fields += ";scheme=商业保险"
		}
		headCells := []any{float64(seq + 1), group, no, headName, headName, "户主", "男", headID, dates[0], phone, dibao, schemes[h%4], health, "", ""}
		wifeCells := []any{float64(seq + 2), "", "", "", wifeName, wifeRel, "女", wifeID, dates[1], "", "否", schemes[h%4], wifeHealth, "", ""}
		childCells := []any{float64(seq + 3), "", "", "", childName, childRel, map[bool]string{true: "男", false: "女"}[childMaleName], childID, dates[2], "", "否", childScheme, "健康", away, note}
		// The faults, one per row, as clerks make them.
		switch h {
		case 6: // the head's ID typed into a number cell: digits lost; the household waits
			headCells[7] = 4.10184e17 + float64(h)
			headV = v{"refused", "id_as_number", ""}
			wifeV = v{"held", "household_held", ""}
			childV = v{"held", "household_held", ""}
		case 9:
			childCells[7] = badCheck(childID)
			childV = v{"refused", "bad_check_digit", ""}
		case 14:
			wifeCells[7] = badCheck(wifeID)
			wifeV = v{"refused", "bad_check_digit", ""}
		case 17:
			wifeCells[6] = "男"
			wifeV = v{"refused", "gender_mismatch", ""}
		case 22:
			childCells[8] = fmt.Sprintf("%d-%02d-%02d", childBirth[0]+1, childBirth[1], childBirth[2])
			childV = v{"refused", "birth_mismatch", ""}
		case 25: // a first-generation number from the old register
			childCells[7] = childID[:6] + childID[8:17]
			childV = v{"refused", "old_15_digit_id", ""}
		case 30:
			wifeCells[7] = ""
			wifeV = v{"refused", "missing_id", ""}
		case 33:
			childCells[4] = ""
			childV = v{"refused", "empty_name", ""}
		case 38: // the child of the household above entered again here
			prev := s.rows[len(s.rows)-1].cells
			childCells[4], childCells[5], childCells[6], childCells[7], childCells[8] = prev[4], "女", prev[6], prev[7], prev[8]
			if prev[6] == "男" {
				childCells[5] = "子"
			}
			childV = v{"refused", "duplicate_id", ""}
		case 41:
			childCells[8] = "1985-02-30"
			childV = v{"refused", "bad_birth_date", ""}
		case 44: // a child without a card, marked so
			childCells[7] = "无证"
			childV = v{"new", "", fmt.Sprintf("relation=%s;noid=1;id=;birth=%04d-%02d-%02d", childRel, childBirth[0], childBirth[1], childBirth[2])}
			childCells[8] = fmt.Sprintf("%d-%02d-%02d", childBirth[0], childBirth[1], childBirth[2])
		case 47:
			headCells[9] = "12345"
			headV.codes = "bad_phone"
			headV.fields = fmt.Sprintf("relation=户主;phone=;sheet:联系电话=12345;hh=%s", headName)
		}
		s.rows = append(s.rows, row{headCells, headV}, row{wifeCells, wifeV}, row{childCells, childV})
		seq += 3
		for _, col := range []string{"B", "C", "D"} {
			s.merges = append(s.merges, [2]string{fmt.Sprintf("%s%d", col, first), fmt.Sprintf("%s%d", col, first+2)})
		}
	}
	last := len(s.rows) + 1
	s.rows = append(s.rows,
		row{cells: []any{"合计", "", "", "", "60户180人", "", "", "", "", "", "低保户：7户"}},
		row{cells: []any{"制表人：王会计", "", "", "", "审核人：李书记"}},
	)
	s.merges = append(s.merges, [2]string{fmt.Sprintf("A%d", last), fmt.Sprintf("D%d", last)})
	s.styles[fmt.Sprintf("I4:I%d", last-1)] = "yyyy-mm-dd" // dates typed as dates show as dates
	notes := sheet{name: "填表说明", rows: []row{
		{cells: []any{"填表说明"}},
		{cells: []any{"1. 每人一行，户主在前，家庭成员随后；同户的组别、户号、户主姓名合并单元格。"}},
		{cells: []any{"2. 身份证号码请设为文本格式，确保18位完整。"}},
		{cells: []any{"3. 与户主关系按户口簿填写（如 妻、长子、次女、孙子）。"}},
	}}
	stats := sheet{name: "分组统计", rows: []row{
		{cells: []any{"组别", "户数", "人数"}},
		{cells: []any{"一组", 20, 60}}, {cells: []any{"二组", 20, 60}}, {cells: []any{"三组", 20, 60}},
	}}
	return corpus{file: "01_村民户籍台账.xlsx", sheets: []sheet{s, notes, stats},
		totals: "rows=180;skipped=4;households=59;new_households=59;people=168;new_people=168;refused_rows=10;held_rows=2;held_households=1;warnings=22"}
}

// collectionForm is a 人口信息采集表 as a township hands it out: the group
// in the title, a two-row header (外出务工情况 over 是否外出 / 外出地点),
// 家庭关系 and 公民身份号码, no 户号 (members follow their head), 出生年月
// with the month only, extra columns (民族, 文化程度), a notes block at the
// bottom. make.sh re-saves it with LibreOffice.
func collectionForm() corpus {
	hdr1 := []any{"序号", "姓名", "家庭关系", "性别", "公民身份号码（18位）", "出生年月", "民族", "文化程度", "联系方式", "外出务工情况", "", "备注"}
	hdr2 := []any{"", "", "", "", "", "", "", "", "", "是否外出", "外出地点", ""}
	zhou, wu, lei, min := id(1968, 5, 12, 11, true), id(1970, 11, 3, 12, false), id(1993, 2, 8, 13, true), id(1996, 8, 20, 14, false)
	zheng, chen, chenSon, gan := id(1955, 1, 9, 15, true), id(1949, 12, 1, 17, false), id(1975, 3, 3, 18, true), id(1990, 10, 10, 19, true)
	feng, fengWife := id(1962, 7, 7, 20, true), id(1964, 4, 4, 21, false)
	chu := id(1958, 6, 6, 22, true)
	s := sheet{name: "采集表", nameCol: 1, rows: []row{
		{cells: []any{"人口信息采集表"}},
		{cells: []any{"乡镇：龙湖镇    村（社区）：杏花村    村民小组：第二村民组"}},
		{cells: hdr1}, {cells: hdr2},
		{[]any{1, "周建华", "户主", "男", zhou, "1968.05", "汉族", "初中", "13937110001", "否", "", ""},
			v{"new", "", "relation=户主;code=02;gender=男;birth=1968-05-12;group=2;phone=13937110001;res=here;sheet:民族=汉族;sheet:文化程度=初中;id=" + zhou}},
		{[]any{2, "吴桂芳", "妻子", "女", wu, "1970.11", "汉族", "小学", "", "否", "", ""},
			v{"new", "", "relation=妻子;code=12;gender=女;birth=1970-11-03;hh=周建华;group=2"}},
		{[]any{3, "周磊", "长子", "男", lei, "1993.02", "汉族", "高中", "18737110003", "是", "江苏苏州", ""},
			v{"new", "", "relation=长子;code=22;res=away;where=江苏苏州;phone=18737110003;hh=周建华"}},
		{[]any{4, "周敏", "长女", "女", min, "1996.08", "汉族", "大专", "", "是", "", "在外读研"},
			v{"new", "", "relation=长女;code=32;res=away;where=未填写;note=在外读研;hh=周建华"}},
		{[]any{5, "郑国强", "户主", "男", zheng, "1955.01", "回族", "小学", "0371-62581234", "否", "", ""},
			v{"new", "", "relation=户主;phone=0371-62581234;sheet:民族=回族;group=2"}},
		{[]any{6, "郑小燕", "孙女", "女", "无证", "2015.06", "回族", "小学", "", "否", "", "随祖父生活"},
			v{"new", "", "relation=孙女;code=42;noid=1;gender=女;birth=;sheet:出生年月=2015.06;hh=郑国强"}},
		{[]any{7, "冯大山", "户主", "男", badCheck(feng), "1962.07", "汉族", "初中", "", "否", "", ""},
			v{"refused", "bad_check_digit", ""}},
		{[]any{8, "冯二妞", "妻", "女", fengWife, "1964.04", "汉族", "文盲", "", "否", "", ""},
			v{"held", "household_held", ""}},
		{[]any{9, "陈玉兰", "户主", "女", chen, "1949.12", "汉族", "文盲", "", "否", "", "丧偶"},
			v{"new", "", "relation=户主;gender=女;birth=1949-12-01;note=丧偶"}},
		{[]any{10, "陈东", "儿子", "男", chenSon, "1975.03", "汉族", "初中", "", "是", "河南郑州", ""},
			v{"new", "", "relation=儿子;code=20;res=away;where=河南郑州;hh=陈玉兰"}},
		{[]any{11, "陈干", "干儿子", "男", gan, "1990.10", "汉族", "高中", "", "否", "", ""},
			v{"new", "unknown_relation", "relation=干儿子;code=;hh=陈玉兰"}},
		{[]any{12, "褚卫东", "户主", "男", chu[:6] + chu[8:17], "1958.06", "汉族", "小学", "", "否", "", ""},
			v{"refused", "old_15_digit_id", ""}},
		{[]any{13, "褚小花", "女", "女", id(1985, 9, 9, 23, false), "1985.09", "汉族", "初中", "", "否", "", ""},
			v{"held", "household_held", ""}},
		{cells: []any{"填表说明：1.本表以户为单位填写，户主在前；2.身份证号码须18位；3.无身份证的儿童填“无证”。"}},
		{cells: []any{"调查员签字：", "", "", "", "被调查人签字：", "", "", "", "日期：2026年11月"}},
	}, merges: [][2]string{{"A1", "L1"}, {"A2", "L2"}, {"J3", "K3"}, {"A3", "A4"}, {"B3", "B4"}, {"C3", "C4"}, {"D3", "D4"}, {"E3", "E4"}, {"F3", "F4"}, {"G3", "G4"}, {"H3", "H4"}, {"I3", "I4"}, {"L3", "L4"}, {"A18", "L18"}}}
	return corpus{file: "src/02_人口信息采集表.xlsx", sheets: []sheet{s},
		totals: "rows=13;skipped=4;households=3;new_households=3;people=9;new_people=9;refused_rows=2;held_rows=2;held_households=2;warnings=1"}
}

// visitRegister is a 网格员入户登记表 kept as one sheet per group (no group
// column: the sheet's name says it), with 户主 and 称谓 columns, phones and
// one ID typed as numbers, dates as date cells; make.sh saves it as .xls
// (Excel 97–2003) with LibreOffice.
func visitRegister() corpus {
	a1, a2, a3 := id(1960, 3, 14, 31, true), id(1962, 4, 15, 32, false), id(1985, 5, 16, 33, true)
	_ = id(1971, 6, 17, 34, true) // 尤大海: only his number cell, digits lost, is in the sheet
	b2 := id(1999, 7, 18, 35, false)
	c1 := id(1945, 8, 19, 36, false)
	d1, d2, d3 := id(1966, 9, 20, 37, true), id(1968, 10, 21, 38, false), id(1990, 11, 22, 39, true)
	e1 := id(1950, 12, 23, 40, true)
	hdr := []any{"户号", "户主", "成员姓名", "称谓", "身份证号", "出生日期", "手机号码", "居住地址", "入户走访情况"}
	one := sheet{name: "一组", nameCol: 2, rows: []row{
		{cells: []any{"杏花村一组网格员入户登记表"}},
		{cells: hdr},
		{[]any{"101", "秦守仁", "秦守仁", "户主", a1, serial(1960, 3, 14), 13803710101.0, "杏花村一组3号", "已走访，无诉求"},
			v{"new", "", "relation=户主;group=1;sheet_no=101;address=杏花村一组3号;phone=13803710101;birth=1960-03-14;sheet:入户走访情况=已走访，无诉求;id=" + a1}},
		{[]any{"", "", "孔凤英", "妻", a2, serial(1962, 4, 15), "", "", ""},
			v{"new", "", "relation=妻;code=12;hh=秦守仁;group=1"}},
		{[]any{"", "", "秦明", "长子", a3, serial(1985, 5, 16), 13903710103.0, "", "在郑州务工"},
			v{"new", "", "relation=长子;phone=13903710103;hh=秦守仁"}},
		{[]any{"102", "尤大海", "尤大海", "户主", 4.10184197106e17, serial(1971, 6, 17), "", "杏花村一组5号", ""},
			v{"refused", "id_as_number", ""}},
		{[]any{"", "", "尤佳", "女", b2, serial(1999, 7, 18), "", "", ""},
			v{"held", "household_held", ""}},
		// The head's own row is missing: her mother-in-law waits, not lost.
		{[]any{"103", "许奶奶", "许桂兰", "母亲", c1, serial(1945, 8, 19), "0371-6258 0103", "杏花村一组8号", "独居老人"},
			v{"held", "household_held", ""}},
	}, merges: [][2]string{{"A1", "I1"}, {"A3", "A5"}, {"B3", "B5"}, {"H3", "H5"}, {"A6", "A7"}, {"B6", "B7"}, {"H6", "H7"}}}
	three := sheet{name: "三组", nameCol: 2, rows: []row{
		{cells: []any{"杏花村三组网格员入户登记表"}},
		{cells: hdr},
		{[]any{"301", "何振邦", "何振邦", "户主", d1, serial(1966, 9, 20), 13703710301.0, "杏花村三组1号", ""},
			v{"new", "", "relation=户主;group=3;sheet_no=301;phone=13703710301"}},
		{[]any{"", "", "吕素珍", "配偶", d2, "1968/10/21", "", "", ""},
			v{"new", "", "relation=配偶;code=10;birth=1968-10-21;hh=何振邦"}},
		{[]any{"", "", "何亮", "独生子", d3, serial(1990, 11, 22), "", "", "已婚，户口未迁"},
			v{"new", "", "relation=独生子;code=21;hh=何振邦"}},
		{[]any{"302", "施老汉", "施老汉", "户主", e1, serial(1950, 12, 23), "", "杏花村三组9号", "低保户"},
			v{"new", "", "relation=户主;group=3;sheet_no=302;address=杏花村三组9号;sheet:入户走访情况=低保户"}},
	}, merges: [][2]string{{"A1", "I1"}, {"A3", "A5"}, {"B3", "B5"}, {"H3", "H5"}}}
	notes := sheet{name: "说明", rows: []row{{cells: []any{"本表由网格员入户时填写，每月5日前交村委会。"}}}}
	one.styles, three.styles = map[string]string{"F3:F8": "yyyy/m/d"}, map[string]string{"F3:F6": "yyyy/m/d"}
	return corpus{file: "src/03_网格员入户登记表.xlsx", sheets: []sheet{one, three, notes},
		totals: "rows=10;skipped=2;households=3;new_households=3;people=7;new_people=7;refused_rows=1;held_rows=2;held_households=2;warnings=0"}
}

// rosterCSV is a 花名册 with merged 户号, 组别 and 住址 cells and dates in
// a 年月日 format; make.sh has LibreOffice save it as CSV in UTF-8, where
// merged cells come out blank below their first row and the ID typed as a
// number as 4.10184198807051E+017; then gives it Excel's byte-order mark.
func rosterCSV() corpus {
	p1, p2, p3 := id(1958, 2, 2, 41, true), id(1960, 3, 3, 42, false), id(1983, 4, 4, 43, false)
	q1, q2, q3 := id(1972, 5, 5, 44, false), id(1995, 6, 6, 45, true), id(1944, 7, 7, 46, false)
	r1, r2 := id(1988, 7, 5, 47, true), id(2012, 8, 8, 48, true)
	s := sheet{name: "花名册", nameCol: 3, rows: []row{
		{cells: []any{"户号", "组别", "住址", "姓名", "与户主关系", "身份证号", "性别", "出生日期", "联系电话", "是否低保"}},
		{[]any{"1", "二组", "杏花村二组12号", "蒋富贵", "户主", p1, "男", serial(1958, 2, 2), "13612345601", "否"},
			v{"new", "", "relation=户主;group=2;sheet_no=1;address=杏花村二组12号;birth=1958-02-02;phone=13612345601;dibao=否;id=" + p1}},
		{[]any{"", "", "", "沈月娥", "妻", p2, "女", serial(1960, 3, 3), "", "否"},
			v{"new", "", "relation=妻;birth=1960-03-03;hh=蒋富贵;group=2;sheet_no=1"}},
		{[]any{"", "", "", "蒋丽", "次女", p3, "女", serial(1983, 4, 4), "", "否"},
			v{"new", "", "relation=次女;code=33;hh=蒋富贵"}},
		{[]any{"2", "二组", "杏花村二组15号", "韩秀云", "户主", q1, "女", serial(1972, 5, 5), "13612345602", "是"},
			v{"new", "", "relation=户主;gender=女;dibao=是;sheet_no=2"}},
		{[]any{"", "", "", "杨帆", "子", q2, "男", serial(1995, 6, 6), "", "否"},
			v{"new", "", "relation=子;code=20;hh=韩秀云"}},
		{[]any{"", "", "", "韩老太", "母亲", q3, "女", serial(1944, 7, 7), "", "是"},
			v{"new", "", "relation=母亲;code=52;dibao=是;hh=韩秀云"}},
		{[]any{"3", "三组", "杏花村三组2号", "朱自强", "户主", 4.10184198807051e17, "男", serial(1988, 7, 5), "", "否"},
			v{"refused", "id_as_number", ""}},
		{[]any{"", "", "", "朱小宝", "长子", r2, "男", serial(2012, 8, 8), "", "否"},
			v{"held", "household_held", ""}},
	}, merges: [][2]string{{"A2", "A4"}, {"B2", "B4"}, {"C2", "C4"}, {"A5", "A7"}, {"B5", "B7"}, {"C5", "C7"}, {"A8", "A9"}, {"B8", "B9"}, {"C8", "C9"}},
		styles: map[string]string{"H2:H9": `yyyy"年"m"月"d"日"`}}
	_ = r1
	return corpus{file: "src/04_花名册.xlsx", sheets: []sheet{s},
		totals: "rows=8;skipped=0;households=2;new_households=2;people=6;new_people=6;refused_rows=1;held_rows=1;held_households=1;warnings=0"}
}

// gbkRoster is saved by make.sh as CSV in GBK, as Excel on Chinese
// Windows saves it: 𠇔 is not in GBK and comes out as "?". Blank lines
// between households, a 小计 row per group and a 合计 row.
func gbkRoster() corpus {
	a, b, c := id(1966, 1, 11, 51, true), id(1968, 2, 12, 52, false), id(1992, 3, 13, 53, false)
	d, e := id(1977, 4, 14, 54, true), id(1979, 5, 15, 55, false)
	f, g := id(1952, 6, 16, 56, false), id(1951, 7, 17, 57, true)
	s := sheet{name: "名册", nameCol: 2, rows: []row{
		{cells: []any{"组", "户主姓名", "姓名", "关系", "身份证号码", "联系电话", "备注"}},
		{[]any{"1组", "孔德", "孔德", "户主", a, "15037100001", ""},
			v{"new", "", "relation=户主;group=1;phone=15037100001;id=" + a}},
		{[]any{"", "", "李𠇔", "妻", b, "", "名字中有生僻字"},
			v{"refused", "lost_character", "as=李?"}}, // GBK has no 𠇔: the CSV holds "?"
		{[]any{"", "", "孔雪", "女儿", c, "", ""},
			v{"new", "", "relation=女儿;code=30;hh=孔德;group=1"}},
		{cells: []any{}},
		{[]any{"1组", "曹刚", "曹刚", "户主", d, "", ""},
			v{"new", "", "relation=户主;group=1"}},
		{[]any{"", "", "严红", "妻", e, "", ""},
			v{"new", "", "relation=妻;hh=曹刚"}},
		{cells: []any{"一组小计", "", "2户", "5人"}},
		{[]any{"3组", "华国栋", "华国栋", "户主", g, "", ""},
			v{"new", "", "relation=户主;group=3"}},
		{[]any{"", "", "金凤仙", "妻", f, "", ""},
			v{"new", "", "relation=妻;hh=华国栋;group=3"}},
		{[]any{"4组", "魏明", "魏明", "户主", id(1970, 8, 18, 58, true), "", ""},
			v{"refused", "unknown_group", ""}},
		{cells: []any{"合计", "", "4户", "9人"}},
	}}
	return corpus{file: "src/05_名册GBK.xlsx", sheets: []sheet{s},
		totals: "rows=8;skipped=2;households=3;new_households=3;people=6;new_people=6;refused_rows=2;held_rows=0;held_households=0;warnings=0"}
}

// oldLedger is a ten-year-old 户籍台账 (made the way Excel writes it):
// 户号 restart in every group, dates with dots, 出生年月 as text, 本人 for
// the head, 15-digit numbers, 无证 children, 良好/一般 health, two phone
// columns, extra columns (政治面貌), 外出务工 是/否 with a 务工地点 column.
func oldLedger() corpus {
	a, b, c, d := id(1940, 5, 1, 61, true), id(1943, 6, 2, 62, false), id(1965, 7, 3, 63, true), id(1967, 8, 4, 64, false)
	e := id(1990, 9, 5, 65, true)
	f, g := id(1958, 10, 6, 66, true), id(1960, 11, 7, 67, false)
	h := id(1983, 12, 8, 68, true)
	s := sheet{name: "Sheet1", nameCol: 2, rows: []row{
		{cells: []any{"2016年杏花村户籍台账"}},
		{cells: []any{"户号", "组别", "姓名", "与户主关系", "性别", "出生日期", "身份证号", "政治面貌", "联系电话", "手机号", "健康状况", "医保", "外出务工", "务工地点", "低保"}},
		{[]any{"1", "一组", "邹老汉", "本人", "男", "1940.5.1", a, "党员", "0371-62580001", "13500000001", "良好", "新农合", "否", "", "是"},
			v{"new", "", "relation=本人;code=01;group=1;sheet_no=1;birth=1940-05-01;phone=0371-62580001;health=healthy;sheet:健康状况=良好;sheet:政治面貌=党员;sheet:手机号=13500000001;scheme=新农合;dibao=是;id=" + a}},
		{[]any{"1", "一组", "喻桂花", "配偶", "女", "1943.6.2", b, "群众", "", "", "一般", "新农合", "否", "", "否"},
			v{"new", "unknown_value", "relation=配偶;health=;sheet:健康状况=一般;hh=邹老汉"}},
		{[]any{"1", "一组", "邹建设", "儿子", "男", "1965.7.3", c, "群众", "", "13500000003", "健康", "新农合", "是", "北京", "否"},
			v{"new", "", "relation=儿子;res=away;where=北京;hh=邹老汉"}},
		{[]any{"1", "一组", "柏小兰", "儿媳", "女", "1967.8.4", d[:6] + d[8:17], "群众", "", "", "健康", "新农合", "否", "", "否"},
			v{"refused", "old_15_digit_id", ""}},
		{[]any{"1", "一组", "邹小军", "孙子", "男", "1990年9月5日", e, "团员", "", "", "健康", "商业保险", "是", "", "否"},
			v{"new", "unknown_value", "relation=孙子;code=41;res=away;where=未填写;scheme=商业保险;hh=邹老汉"}},
		{[]any{"1", "一组", "邹丫丫", "孙女", "女", "2014.3.8", "无证", "", "", "", "健康", "", "否", "", "否"},
			v{"new", "", "relation=孙女;noid=1;birth=2014-03-08;gender=女;hh=邹老汉"}},
		{[]any{"1", "二组", "窦文华", "户主", "男", "1958.10.6", f, "党员", "", "13500000007", "慢性病", "城乡居民医保", "否", "", "否"},
			v{"new", "", "relation=户主;group=2;sheet_no=1;health=chronic;scheme=城乡居民医保"}},
		{[]any{"1", "二组", "章玉", "妻", "女", "1960.11.7", g, "群众", "", "", "残疾", "城乡居民医保", "否", "", "否"},
			v{"new", "", "relation=妻;health=disabled;hh=窦文华;group=2"}},
		{[]any{"2", "二组", "云飞", "户主", "男", "1983.12.8", h, "群众", "", "", "健康", "城乡居民医保", "否", "", "否"},
			v{"new", "", "relation=户主;group=2;sheet_no=2"}},
		{[]any{"2", "二组", "云朵", "女", "女", "2016.1.1", "", "", "", "", "健康", "", "否", "", "否"},
			v{"refused", "missing_id", ""}},
	}}
	return corpus{file: "06_旧台账.xlsx", sheets: []sheet{s},
		totals: "rows=10;skipped=1;households=3;new_households=3;people=8;new_people=8;refused_rows=2;held_rows=0;held_households=0;warnings=2"}
}

// wpsRoster is a 村民花名册 kept in WPS 表格, as most village offices keep
// their sheets. We have no WPS (it is not a Debian package), and the WPS
// files public repositories hold are small library test sheets, not
// ledgers (appliance/testdata/wps/SOURCES.md), so this one is WPS-shaped,
// not WPS-made: written by excelize, then given the parts and habits seen
// in those real WPS files (wpsShape): WPS's app.xml and KSO custom
// properties, its redefined accounting formats and "yyyy/m/d;@" date
// format, text format (@) on the ID column, a bordered table whose merged
// cells keep styled empty cells below their first row, the two empty
// sheets of a new WPS workbook. In the sheet: dates as date cells and as
// text with slashes and dashes (both seen in WPS files), phones as number
// cells, 户编号 and 村民小组 merged per household, a 合计 row and a notes
// block merged over two rows, the lower one holding nothing else.
func wpsRoster() corpus {
	a, b, c := id(1958, 3, 12, 71, true), id(1961, 8, 15, 72, false), id(1984, 11, 2, 73, true)
	d, e, f := id(1950, 4, 5, 74, false), id(1975, 6, 6, 75, true), id(1978, 9, 9, 76, false)
	g, h := id(1966, 1, 20, 77, true), id(1968, 2, 22, 78, false)
	code := func(rel string) string { c, _ := appliance.RelationCode(rel); return c }
	s := sheet{name: "花名册", nameCol: 3, rows: []row{
		{cells: []any{"龙湖镇杏花村村民花名册"}},
		{cells: []any{"序号", "村民小组", "户编号", "姓名", "性别", "民族", "与户主关系", "公民身份号码", "出生日期", "文化程度", "联系电话", "备注", "照片"}},
		{[]any{1, "一组", "0101", "马德胜", "男", "汉族", "户主", a, serial(1958, 3, 12), "初中", 13837120001.0, "", ""},
			v{"new", "", "relation=户主;code=02;gender=男;group=1;sheet_no=0101;birth=1958-03-12;phone=13837120001;sheet:民族=汉族;sheet:文化程度=初中;sheet:照片=;id=" + a}},
		{[]any{2, "", "", "李秀珍", "女", "汉族", "妻", b, "1961/8/15", "小学", "", ""},
			v{"new", "", "relation=妻;code=12;birth=1961-08-15;hh=马德胜;group=1;sheet_no=0101;id=" + b}},
		{[]any{3, "", "", "马小军", "男", "汉族", "长子", c, serial(1984, 11, 2), "高中", "15937120003", "在外务工", ""},
			v{"new", "", "relation=长子;code=22;birth=1984-11-02;phone=15937120003;note=在外务工;sheet:照片=;hh=马德胜"}},
		{[]any{4, "一组", "0102", "白玉兰", "女", "汉族", "户主", d, "1950-04-05", "文盲", "", "丧偶"},
			v{"new", "", "relation=户主;gender=女;birth=1950-04-05;note=丧偶;group=1;sheet_no=0102"}},
		{[]any{5, "", "", "白建华", "男", "汉族", "儿子", badCheck(e), serial(1975, 6, 6), "初中", "", ""},
			v{"refused", "bad_check_digit", ""}},
		{[]any{6, "", "", "吴小燕", "女", "汉族", "儿媳", f, serial(1978, 9, 9), "初中", "", ""},
			v{"new", "", "relation=儿媳;code=" + code("儿媳") + ";birth=1978-09-09;hh=白玉兰;group=1"}},
		{[]any{7, "二组", "0201", "海福", "男", "回族", "户主", g, serial(1966, 1, 20), "小学", 13937120007.0, ""},
			v{"new", "", "relation=户主;group=2;sheet_no=0201;phone=13937120007;sheet:民族=回族"}},
		{[]any{8, "", "", "马兰", "女", "回族", "配偶", h, serial(1968, 2, 22), "小学", "", ""},
			v{"new", "", "relation=配偶;code=10;hh=海福;group=2"}},
		{[]any{9, "", "", "海小花", "女", "回族", "长女", "无证", serial(2015, 5, 1), "", "", "未办身份证"},
			v{"new", "", "relation=长女;code=32;noid=1;birth=2015-05-01;gender=女;note=未办身份证;hh=海福"}},
		{cells: []any{"合计", "", "", "3户9人"}},
		{cells: []any{"填表说明：1.以户为单位填写，户主在前；2.公民身份号码须18位，未办证的儿童填“无证”；3.出生日期按身份证填写。"}},
	}, merges: [][2]string{{"A1", "M1"}, {"B3", "B5"}, {"C3", "C5"}, {"B6", "B8"}, {"C6", "C8"}, {"B9", "B11"}, {"C9", "C11"}, {"A12", "C12"}, {"A13", "M14"}}}
	empty2, empty3 := sheet{name: "Sheet2"}, sheet{name: "Sheet3"}
	finish := func(f *excelize.File) {
		border := []excelize.Border{{Type: "left", Color: "000000", Style: 1}, {Type: "right", Color: "000000", Style: 1}, {Type: "top", Color: "000000", Style: 1}, {Type: "bottom", Color: "000000", Style: 1}}
		center := &excelize.Alignment{Vertical: "center"}
		dateFmt, text := "yyyy/m/d;@", 49
		plain, err := f.NewStyle(&excelize.Style{Border: border, Alignment: center})
		must(err)
		ids, err := f.NewStyle(&excelize.Style{Border: border, Alignment: center, NumFmt: text})
		must(err)
		dates, err := f.NewStyle(&excelize.Style{Border: border, Alignment: center, CustomNumFmt: &dateFmt})
		must(err)
		// Every cell of the table bordered, merged ones too: WPS then
		// writes the cells a merge covers as styled empty cells.
		must(f.SetCellStyle("花名册", "A2", "M14", plain))
		must(f.SetCellStyle("花名册", "H3", "H11", ids))
		must(f.SetCellStyle("花名册", "I3", "I11", dates))
		// Photos placed in cells (嵌入单元格图片): wpsShape gives these
		// formulas WPS's saved value; the pictures themselves are left out.
		must(f.SetCellFormula("花名册", "M3", `_xlfn.DISPIMG("ID_7A3C0D5E1F2B4C6D8E9F0A1B2C3D4E5F",1)`))
		must(f.SetCellFormula("花名册", "M5", `_xlfn.DISPIMG("ID_0F1E2D3C4B5A69788796A5B4C3D2E1F0",1)`))
	}
	return corpus{file: "07_WPS花名册.xlsx", sheets: []sheet{s, empty2, empty3}, finish: finish, wps: true,
		totals: "rows=9;skipped=4;households=3;new_households=3;people=8;new_people=8;refused_rows=1;held_rows=0;held_households=0;warnings=0"}
}
