package appliance

import (
	"io"
	"sort"
	"strings"

	"github.com/xuri/excelize/v2"
)

// ExportRow is one member line of an export.
type ExportRow struct {
	Household Household
	GroupName string
	Person    Person
}

// exportColumns are the export's columns: headers the importer recognises,
// so an export imports back unchanged.
var exportColumns = []struct{ Field, Header string }{
	{"household_id", "档案户编号"}, {"sheet_no", "户号"}, {"group", "组别"}, {"address", "住址"}, {"house_no", "门牌号"},
	{"name", "姓名"}, {"id_number", "身份证号"}, {"gender", "性别"}, {"birth_date", "出生日期"}, {"relation", "与户主关系"},
	{"phone", "联系电话"}, {"residence", "居住状态"}, {"residence_where", "外出务工地点"}, {"dibao", "是否低保"},
	{"health", "健康状况"}, {"disability_grade", "残疾等级"}, {"key_categories", "重点人员类别"}, {"employment", "就业情况"},
	{"insurance", "医保类型"}, {"note", "备注"},
}

// WriteArchiveXLSX writes households and members (sheet 户籍成员, with
// headers the import reads) and per-group statistics (sheet 分组统计).
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
	head := make([]any, len(exportColumns))
	for i, c := range exportColumns {
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
		id := s.IDNumber
		if p.NoID {
			id = "无证"
		}
		insurance := p.InsuranceScheme
		if insurance == "" {
			insurance = yn(p.Insured)
		}
		vals := map[string]string{
			"household_id": r.Household.ID, "sheet_no": r.Household.SheetNo, "group": r.GroupName, "address": r.Household.Address, "house_no": r.Household.HouseNo,
			"name": p.Name, "id_number": id, "gender": p.Gender, "birth_date": p.Birth, "relation": p.Relation,
			"phone": p.Phone, "residence": ResidenceLabels[p.Residence], "residence_where": p.ResidenceWhere, "dibao": yn(p.Dibao),
			"health": HealthLabels[s.Health], "disability_grade": s.DisabilityGrade, "key_categories": strings.Join(s.KeyCategories, "、"),
			"employment": p.Employment, "insurance": insurance, "note": s.Note,
		}
		if p.Residence == ResidenceAway {
			vals["residence"] = ""
		}
		if p.Sensitive == nil {
			vals["id_number"], vals["health"], vals["key_categories"] = "（本节点未持有）", "", ""
		}
		line := make([]any, len(exportColumns))
		for j, c := range exportColumns {
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

// RefusedLine is one line of the refused-rows sheet: a row as written and
// why it did not go in ("" for a head row included only so that its
// members find their household again).
type RefusedLine struct {
	Row    ImportRow
	Reason string
}

// RefusedColumn is the header of the reason column; the importer ignores it.
const RefusedColumn = "未导入原因"

// WriteRefusedXLSX writes the rows that did not go in, sheet by sheet,
// under their own headers, with a reason column: the clerk fixes them in
// Excel or WPS and imports the file again. Every cell is text, so ID
// numbers stay as typed.
func WriteRefusedXLSX(w io.Writer, sheets []SheetReport, lines []RefusedLine) error {
	f := excelize.NewFile()
	defer f.Close()
	bySheet := map[string][]RefusedLine{}
	for _, l := range lines {
		bySheet[l.Row.Sheet] = append(bySheet[l.Row.Sheet], l)
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": text, so IDs typed in later stay text
	if err != nil {
		return err
	}
	first := true
	for _, s := range sheets {
		ls := bySheet[s.Name]
		if !s.Read || len(ls) == 0 {
			continue
		}
		sort.SliceStable(ls, func(i, j int) bool { return ls[i].Row.Row < ls[j].Row.Row })
		name := sheetName(s.Name)
		if first {
			f.SetSheetName("Sheet1", name)
			first = false
		} else if _, err := f.NewSheet(name); err != nil {
			return err
		}
		head := make([]any, 0, len(s.Headers)+2)
		for _, h := range s.Headers {
			head = append(head, h)
		}
		head = append(head, RefusedColumn, "原表行号")
		f.SetSheetRow(name, "A1", &head)
		last, _ := excelize.ColumnNumberToName(len(head))
		f.SetColStyle(name, "A:"+last, text)
		for i, l := range ls {
			line := make([]any, 0, len(head))
			for j := range s.Headers {
				v := ""
				if j < len(l.Row.Cells) {
					v = l.Row.Cells[j]
				}
				line = append(line, v)
			}
			line = append(line, l.Reason, l.Row.Row)
			cell, _ := excelize.CoordinatesToCellName(1, i+2)
			f.SetSheetRow(name, cell, &line)
		}
	}
	if first {
		f.SetCellValue("Sheet1", "A1", "没有未导入的行")
	}
	return f.Write(w)
}

// sheetName fits a sheet name to Excel's rules (31 characters, no []:*?/\).
func sheetName(s string) string {
	s = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`[]:*?/\`, r) {
			return '_'
		}
		return r
	}, s)
	if s == "" {
		s = "Sheet1"
	}
	return limitRunes(s, 31)
}
