package appliance

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Sheet columns: the field, its header in exported sheets, and the header
// variants villages use.
type sheetColumn struct {
	Field    string
	Header   string
	Variants []string
}

var sheetColumns = []sheetColumn{
	{"household", "户号", []string{"户编号", "户籍编号", "户代码"}},
	{"group", "组别", []string{"村民组", "所在组", "所属组", "网格", "所属网格", "组"}},
	{"address", "住址", []string{"家庭住址", "地址", "现住址", "居住地址"}},
	{"house_no", "门牌号", []string{"门牌", "门牌号码"}},
	{"name", "姓名", []string{"名字", "成员姓名"}},
	{"id_number", "身份证号", []string{"身份证号码", "公民身份号码", "证件号码", "身份证"}},
	{"gender", "性别", nil},
	{"birth_date", "出生日期", []string{"出生年月", "出生年月日", "生日"}},
	{"relation", "与户主关系", []string{"关系", "家庭关系", "与户主的关系"}},
	{"phone", "联系电话", []string{"电话", "手机", "手机号", "手机号码", "联系方式"}},
	{"residence", "居住状态", []string{"是否外出务工", "外出务工", "是否外出"}},
	{"residence_where", "外出地点", []string{"务工地点", "外出务工地点", "流入地", "去向"}},
	{"dibao", "是否低保", []string{"低保", "低保户", "是否低保户"}},
	{"health", "健康状况", []string{"健康情况", "身体状况"}},
	{"disability_grade", "残疾等级", []string{"残疾级别"}},
	{"key_categories", "重点人员类别", []string{"特殊人群", "重点人员", "特殊重点人员"}},
	{"employment", "就业情况", []string{"职业", "从业情况"}},
	{"insured", "是否参加医保", []string{"医保", "参加医保", "是否参保"}},
	{"note", "备注", nil},
}

// ImportProblem is a refused row: where and why, in Chinese.
type ImportProblem struct {
	Row     int    `json:"row"` // 1-based row number in the sheet
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

// ImportRow is one accepted row of an import sheet.
type ImportRow struct {
	Row     int
	Key     string // household key: the 户号, or the head's row
	Group   string // group code
	Address string
	HouseNo string
	Person  Person
}

// ImportSheet is a parsed sheet: accepted rows and refused ones.
type ImportSheet struct {
	Sheet    string          // the sheet read
	Ignored  []string        // other sheets, not read
	Rows     []ImportRow     // accepted, in sheet order
	Problems []ImportProblem // refused rows
	Total    int             // data rows read
}

// maxImportRows bounds one import; a village has at most a few thousand people.
const maxImportRows = 50000

// ParseImportSheet reads an .xlsx or .csv file as villages keep them:
// columns found by their Chinese headers (the header row may follow title
// rows), merged cells filled in, households grouped by 户号 or, without
// one, by the 户主 row each member follows. groups are the level-3 grids
// rows may name (by code, name or number).
func ParseImportSheet(filename string, data []byte, groups []Grid) (*ImportSheet, error) {
	var table [][]string
	out := &ImportSheet{}
	switch strings.ToLower(path.Ext(filename)) {
	case ".xlsx", ".xlsm":
		f, err := excelize.OpenReader(bytes.NewReader(data))
		if err != nil {
			return nil, Errorf(EINVALID, "无法读取该 Excel 文件，请确认是 .xlsx 格式")
		}
		defer f.Close()
		chosen := ""
		for _, name := range f.GetSheetList() {
			if chosen != "" {
				out.Ignored = append(out.Ignored, name)
				continue
			}
			rows, err := f.GetRows(name, excelize.Options{RawCellValue: true})
			if err != nil {
				return nil, Errorf(EINVALID, "无法读取工作表“%s”", name)
			}
			if _, _, ok := findHeader(rows); !ok {
				out.Ignored = append(out.Ignored, name)
				continue
			}
			// Merged cells hold their value in the top-left cell only.
			merged, _ := f.GetMergeCells(name)
			for _, m := range merged {
				c1, r1, err1 := excelize.CellNameToCoordinates(m.GetStartAxis())
				c2, r2, err2 := excelize.CellNameToCoordinates(m.GetEndAxis())
				if err1 != nil || err2 != nil {
					continue
				}
				raw, _ := f.GetCellValue(name, m.GetStartAxis(), excelize.Options{RawCellValue: true})
				for r := r1; r <= r2 && r <= len(rows)+1; r++ {
					for c := c1; c <= c2; c++ {
						for len(rows) < r {
							rows = append(rows, nil)
						}
						for len(rows[r-1]) < c {
							rows[r-1] = append(rows[r-1], "")
						}
						rows[r-1][c-1] = raw
					}
				}
			}
			chosen, table = name, rows
		}
		if chosen == "" {
			return nil, Errorf(EINVALID, "没有找到含“姓名”和“身份证号”或“与户主关系”表头的工作表")
		}
		out.Sheet = chosen
	case ".csv":
		if !utf8.Valid(data) {
			// Excel in China saves CSV as GBK.
			dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
			if err != nil {
				return nil, Errorf(EINVALID, "CSV 文件编码无法识别，请另存为 UTF-8 或 .xlsx")
			}
			data = dec
		}
		data = bytes.TrimPrefix(data, []byte("\ufeff"))
		r := csv.NewReader(bytes.NewReader(data))
		r.FieldsPerRecord = -1
		r.LazyQuotes = true
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			} else if err != nil {
				return nil, Errorf(EINVALID, "CSV 文件格式错误：%v", err)
			}
			table = append(table, rec)
		}
		out.Sheet = filename
	default:
		return nil, Errorf(EINVALID, "只能导入 .xlsx 或 .csv 文件")
	}
	hdr, cols, ok := findHeader(table)
	if !ok {
		return nil, Errorf(EINVALID, "没有找到表头：表中须有“姓名”列，以及“身份证号”或“与户主关系”列")
	}
	if len(table)-hdr-1 > maxImportRows {
		return nil, Errorf(EINVALID, "一次最多导入%d行", maxImportRows)
	}
	headerOf := map[string]string{}
	for f, i := range cols {
		headerOf[f] = strings.TrimSpace(table[hdr][i])
	}
	gr := groupResolver(groups)
	headKey, prevKey := "", ""
	seenIDs := map[string]int{}
	for i := hdr + 1; i < len(table); i++ {
		rec := table[i]
		cell := func(f string) string {
			if j, ok := cols[f]; ok && j < len(rec) {
				return strings.TrimSpace(rec[j])
			}
			return ""
		}
		blank := true
		for _, v := range rec {
			if strings.TrimSpace(v) != "" {
				blank = false
			}
		}
		if blank {
			continue
		}
		out.Total++
		rowNo := i + 1
		fail := func(field, format string, args ...any) {
			col := headerOf[field]
			if col == "" {
				col = columnHeader(field)
			}
			out.Problems = append(out.Problems, ImportProblem{Row: rowNo, Column: col, Message: fmt.Sprintf(format, args...)})
		}
		p := Person{Name: cell("name"), Gender: cell("gender"), Relation: normalizeRelation(cell("relation")),
			Phone: cell("phone"), Employment: cell("employment"), ResidenceWhere: cell("residence_where"),
			Dibao: yes(cell("dibao")), Insured: yes(cell("insured")),
			Sensitive: &Sensitive{IDNumber: cell("id_number"), DisabilityGrade: cell("disability_grade"), Note: cell("note")}}
		p.Birth = excelDate(cell("birth_date"))
		if p.Name == "" {
			fail("name", "姓名为空")
			continue
		}
		if strings.ContainsAny(p.Sensitive.IDNumber, "Ee+") {
			fail("id_number", "身份证号被 Excel 存成了数字（科学计数法），末几位已丢失；请把该列设为文本后重新填写")
			continue
		}
		switch v := cell("residence"); {
		case v == "" || v == "否" || strings.Contains(v, "在家"):
			p.Residence = ResidenceHere
		case yes(v) || strings.Contains(v, "外出"):
			p.Residence = ResidenceAway
		case strings.Contains(v, "流入") || strings.Contains(v, "外来"):
			p.Residence = ResidenceMovedIn
		default:
			fail("residence", "居住状态“%s”无法识别，应为 在家居住、外出务工 或 外来流入", v)
			continue
		}
		if v := cell("health"); v != "" {
			h := ""
			for k, label := range HealthLabels {
				if strings.Contains(v, label) || v == k {
					h = k
				}
			}
			if h == "" {
				fail("health", "健康状况“%s”无法识别，应为 健康、慢性病、大病 或 残疾", v)
				continue
			}
			p.Sensitive.Health = h
		}
		if p.Sensitive.DisabilityGrade != "" && p.Sensitive.Health == "" {
			p.Sensitive.Health = HealthDisabled
		}
		for _, k := range strings.FieldsFunc(cell("key_categories"), func(r rune) bool { return strings.ContainsRune(",，、;；/ ", r) }) {
			p.Sensitive.KeyCategories = append(p.Sensitive.KeyCategories, k)
		}
		if _, ok := cols["relation"]; !ok {
			// No relation column: the first row of a household is its head.
			p.Relation = "其他"
			if headKey == "" || cell("household") != "" && cell("household") != prevKey {
				p.Relation = RelationHead
			}
		}
		prevKey = cell("household")
		p.Normalize()
		group := gr(cell("group"))
		if cell("group") == "" {
			fail("group", "组别为空")
			continue
		} else if group == "" {
			fail("group", "组别“%s”不存在", cell("group"))
			continue
		}
		// Validate with placeholders for the ids the store assigns.
		check := p
		check.ID, check.Household = "x", "x"
		if err := check.Validate(); err != nil {
			fail(ErrorField(err), "%s", ErrorMessage(err))
			continue
		}
		if n := p.Sensitive.IDNumber; n != "" {
			if first, dup := seenIDs[n]; dup {
				fail("id_number", "身份证号与第%d行重复", first)
				continue
			}
			seenIDs[n] = rowNo
		}
		key := cell("household")
		if key == "" {
			if p.Relation == RelationHead {
				headKey = "#" + strconv.Itoa(rowNo)
			}
			if headKey == "" {
				fail("relation", "找不到所属户：该行之前没有户主行，也没有户号")
				continue
			}
			key = headKey
		} else {
			key = group + "/" + key
		}
		out.Rows = append(out.Rows, ImportRow{Row: rowNo, Key: key, Group: group, Address: cell("address"), HouseNo: cell("house_no"), Person: p})
	}
	return out, nil
}

func columnHeader(field string) string {
	for _, c := range sheetColumns {
		if c.Field == field {
			return c.Header
		}
	}
	return ""
}

// findHeader finds the header row among the first 10 rows.
func findHeader(rows [][]string) (int, map[string]int, bool) {
	for i := 0; i < len(rows) && i < 10; i++ {
		cols := map[string]int{}
		for j, v := range rows[i] {
			v = strings.NewReplacer(" ", "", "\u3000", "", "\n", "", "*", "").Replace(v)
			for _, c := range sheetColumns {
				if _, taken := cols[c.Field]; taken {
					continue
				}
				if v == c.Header || contains(c.Variants, v) {
					cols[c.Field] = j
				}
			}
		}
		_, name := cols["name"]
		_, id := cols["id_number"]
		_, rel := cols["relation"]
		if name && (id || rel) {
			return i, cols, true
		}
	}
	return 0, nil, false
}

func yes(s string) bool {
	switch strings.TrimSpace(s) {
	case "是", "有", "Y", "y", "yes", "√", "✓", "1", "低保", "已参保", "参保", "已参加":
		return true
	}
	return false
}

// normalizeRelation maps common spellings to the register's words.
func normalizeRelation(s string) string {
	s = strings.TrimSpace(s)
	switch s {
	case "本人", "户主本人":
		return RelationHead
	case "妻", "妻子", "丈夫", "夫", "夫妻":
		return "配偶"
	case "儿子", "长子", "次子", "三子":
		return "子"
	case "女儿", "长女", "次女", "三女":
		return "女"
	case "孙女婿", "孙媳妇":
		return "其他"
	case "父":
		return "父亲"
	case "母":
		return "母亲"
	}
	return s
}

// excelDate turns an Excel date serial into YYYY-MM-DD; text passes through.
func excelDate(s string) string {
	if f, err := strconv.ParseFloat(s, 64); err == nil && f > 1 && f < 80000 && !strings.ContainsAny(s, "-/年") && len(s) < 8 {
		if t, err := excelize.ExcelDateToTime(f, false); err == nil {
			return t.Format("2006-01-02")
		}
	}
	return s
}

var cnDigits = map[string]int{"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
	"十一": 11, "十二": 12, "十三": 13, "十四": 14, "十五": 15, "十六": 16, "十七": 17, "十八": 18, "十九": 19, "二十": 20}

// groupResolver finds a group by code, name, or number ("3", "3组", "三组", "第三村民组").
func groupResolver(groups []Grid) func(string) string {
	return func(v string) string {
		v = strings.TrimSpace(v)
		if v == "" {
			return ""
		}
		for _, g := range groups {
			if g.Code == v || g.Name == v {
				return g.Code
			}
		}
		t := strings.TrimPrefix(v, "第")
		for _, suf := range []string{"村民小组", "村民组", "小组", "组"} {
			t = strings.TrimSuffix(t, suf)
		}
		n, err := strconv.Atoi(t)
		if err != nil {
			n = cnDigits[t]
		}
		for _, g := range groups {
			if n > 0 && GroupNumber(g.Code) == n {
				return g.Code
			}
		}
		return ""
	}
}

// ExportRow is one member line of an export.
type ExportRow struct {
	Household Household
	GroupName string
	Person    Person
}

// WriteArchiveXLSX writes households and members (sheet 户籍成员, with the
// same headers the import reads) and per-group statistics (sheet 分组统计).
// Callers mask rows unless the user may see ID numbers.
func WriteArchiveXLSX(w io.Writer, rows []ExportRow, stats []GroupStats, groupNames map[string]string) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "户籍成员"
	f.SetSheetName("Sheet1", sheet)
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	head := make([]any, len(sheetColumns))
	for i, c := range sheetColumns {
		head[i] = c.Header
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	yn := func(b bool) string {
		if b {
			return "是"
		}
		return "否"
	}
	for i, r := range rows {
		p := r.Person
		s := p.Sensitive
		if s == nil {
			s = &Sensitive{}
		}
		residence := ResidenceLabels[p.Residence]
		vals := map[string]string{
			"household": r.Household.ID, "group": r.GroupName, "address": r.Household.Address, "house_no": r.Household.HouseNo,
			"name": p.Name, "id_number": s.IDNumber, "gender": p.Gender, "birth_date": p.Birth, "relation": p.Relation,
			"phone": p.Phone, "residence": residence, "residence_where": p.ResidenceWhere, "dibao": yn(p.Dibao),
			"health": HealthLabels[s.Health], "disability_grade": s.DisabilityGrade, "key_categories": strings.Join(s.KeyCategories, "、"),
			"employment": p.Employment, "insured": yn(p.Insured), "note": s.Note,
		}
		if p.Sensitive == nil {
			vals["id_number"], vals["health"], vals["key_categories"] = "（本节点未持有）", "", ""
		}
		line := make([]any, len(sheetColumns))
		for j, c := range sheetColumns {
			line[j] = vals[c.Field] // strings: ID numbers stay text
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, line); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	const st = "分组统计"
	if _, err := f.NewSheet(st); err != nil {
		return err
	}
	header := []any{"组别", "户数", "人口", "低保", "重点人员", "外出务工", "残疾", "独居"}
	for _, l := range AgeBandLabels {
		header = append(header, l)
	}
	f.SetSheetRow(st, "A1", &header)
	var total GroupStats
	for i, g := range stats {
		line := []any{groupNames[g.Group], g.Households, g.People, g.Dibao, g.Key, g.Away, g.Disabled, g.Alone}
		for _, n := range g.Ages {
			line = append(line, n)
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		f.SetSheetRow(st, cell, &line)
		total.Add(g)
	}
	line := []any{"合计", total.Households, total.People, total.Dibao, total.Key, total.Away, total.Disabled, total.Alone}
	for _, n := range total.Ages {
		line = append(line, n)
	}
	cell, _ := excelize.CoordinatesToCellName(1, len(stats)+2)
	f.SetSheetRow(st, cell, &line)
	return f.Write(w)
}
