package appliance

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// ImportIssue is one thing wrong with, or noticed about, a row: a stable
// code, the field and column it concerns, and a Chinese message saying how
// to fix it. Errors refuse the row; warnings keep it.
type ImportIssue struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Column  string `json:"column,omitempty"` // the header as written in the sheet
	Message string `json:"message"`
	Level   string `json:"level"` // error | warning
}

// Issue levels.
const (
	LevelError   = "error"
	LevelWarning = "warning"
)

// ImportRow is one data row of a sheet with what it says.
type ImportRow struct {
	Sheet string
	Row   int      // 1-based, as the spreadsheet numbers it
	Cells []string // the row as written, one per column of the header
	// Household: Key groups rows into households (group and 户号, or the
	// head row a member follows); the others are the household's fields.
	Key      string
	Group    string // group code, "" when refused
	SheetNo  string
	HeadName string
	Address  string
	HouseNo  string
	HouseID  string // 档案户编号 of an exported sheet
	IsHead   bool
	HeadRow  int // the row of the head this row follows, 0 for a head or a 户号 key
	Person   Person
	Issues   []ImportIssue
	// Said holds the fields whose cells were not empty: on a re-import an
	// empty cell keeps what is stored.
	Said      map[string]bool
	groupText string
}

// Refused reports whether the row has an error of its own.
func (r *ImportRow) Refused() bool {
	for _, is := range r.Issues {
		if is.Level == LevelError {
			return true
		}
	}
	return false
}

// SkippedRow is a row that is not a person: a title, totals or notes row.
type SkippedRow struct {
	Sheet   string `json:"sheet"`
	Row     int    `json:"row"`
	Code    string `json:"code"` // title_row, summary_row, notes_row, header_row
	Message string `json:"message"`
	Text    string `json:"text"` // its first text, shortened
}

// SheetReport says how one sheet of the file was read.
type SheetReport struct {
	Name      string          `json:"name"`
	Read      bool            `json:"read"`
	Why       string          `json:"why,omitempty"` // why a sheet was not read
	HeaderRow int             `json:"header_row,omitempty"`
	Headers   []string        `json:"-"`
	Columns   []ColumnMapping `json:"columns,omitempty"`
	Group     string          `json:"group,omitempty"` // from the sheet's name or title, when it has no group column
	Rows      int             `json:"rows"`
}

// ImportSheet is a parsed file: how each sheet was read, every data row
// with its issues, and the rows that are not people.
type ImportSheet struct {
	Sheets  []SheetReport
	Rows    []ImportRow
	Skipped []SkippedRow
}

// ImportOptions tell the parser the groups rows may name and how columns
// were mapped before (remembered, by normalised header) or for this
// import (chosen, by column letter or "sheet!letter").
type ImportOptions struct {
	Groups     []Grid
	Remembered map[string]string
	Chosen     map[string]string
}

// ParseImportSheet reads an .xlsx, .xls or .csv file as villages keep
// their ledgers: every sheet with a recognisable header, columns by
// meaning, title, totals and notes rows set aside, merged or blank
// household cells carried down, each row checked for its own faults.
func ParseImportSheet(filename string, data []byte, opt ImportOptions) (*ImportSheet, error) {
	tables, done, err := readWorkbook(filename, data)
	if err != nil {
		return nil, err
	}
	defer done()
	out := &ImportSheet{}
	rows := 0
	for i := range tables {
		rep := parseTable(&tables[i], opt, out)
		out.Sheets = append(out.Sheets, rep)
		rows += rep.Rows
		if rows > maxImportRows {
			return nil, Errorf(EINVALID, "一次最多导入%d行，请分开导入", maxImportRows)
		}
	}
	found := false
	for _, s := range out.Sheets {
		found = found || s.HeaderRow > 0
	}
	if !found {
		return nil, Errorf(EINVALID, "没有找到表头：表中须有“姓名”列，以及“身份证号”“与户主关系”“户号”或“户主姓名”中的一列（表头可在标题行下面）")
	}
	return out, nil
}

// findHeader returns the header row (0-based) and, when the header spans
// two rows (外出务工情况 over 是否外出 / 地点), the row below it too.
func findHeader(rows [][]Cell) (int, bool, bool) {
	best, bestScore := -1, 0
	for i := 0; i < len(rows) && i < 20; i++ {
		fields := map[string]bool{}
		for _, c := range rows[i] {
			if c.Kind == CellText {
				if f := fieldOfHeader(c.Text); f != "" && f != FieldIgnore {
					fields[f] = true
				}
			}
		}
		if !fields["name"] || !(fields["id_number"] || fields["relation"] || fields["sheet_no"] || fields["head_name"]) {
			continue
		}
		if len(fields) > bestScore {
			best, bestScore = i, len(fields)
		}
	}
	if best < 0 {
		return 0, false, false
	}
	// A header over two rows: a group label merged over its columns
	// (外出务工情况 over 是否外出 / 外出地点). Merged cells repeat the upper
	// row's text below, so the row chosen may be the lower one.
	if best > 0 && headerCells(rows[best-1]) >= 2 && !rowHasData(rows[best-1]) {
		return best - 1, true, true
	}
	two := best+1 < len(rows) && headerCells(rows[best+1]) >= 1 && !rowHasData(rows[best+1]) && !rowLooksLikePerson(rows[best+1])
	return best, two, true
}

// headerCells counts the cells of a row that read as headers.
func headerCells(row []Cell) int {
	n := 0
	for _, c := range row {
		if c.Kind == CellText && fieldOfHeader(c.Text) != "" {
			n++
		}
	}
	return n
}

// rowHasData reports whether a row holds data: an ID number or a long number.
func rowHasData(row []Cell) bool {
	for _, c := range row {
		digits := 0
		for _, r := range c.Text {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		if digits >= 15 || (c.Kind == CellNumber || c.Kind == cellMaybeNumber) && digits > 4 {
			return true
		}
	}
	return false
}

// rowLooksLikePerson guards the two-row header guess: a row with a
// gender word in it is data.
func rowLooksLikePerson(row []Cell) bool {
	for _, c := range row {
		switch strings.TrimSpace(c.Text) {
		case "男", "女", "户主", "本人":
			return true
		}
	}
	return false
}

// household-level fields: blanks below carry the value down (merged cells
// saved as CSV or .xls, or a clerk's "same as above").
var householdFields = []string{"sheet_no", "head_name", "address", "house_no", "household_id"}

func parseTable(t *Table, opt ImportOptions, out *ImportSheet) SheetReport {
	rep := SheetReport{Name: t.Name}
	hdr, two, ok := findHeader(t.Rows)
	if !ok {
		rep.Why = "没有找到含“姓名”等列的表头，按说明或统计表跳过"
		return rep
	}
	headers := make([]string, 0)
	width := len(t.Rows[hdr])
	if two && len(t.Rows[hdr+1]) > width {
		width = len(t.Rows[hdr+1])
	}
	for j := 0; j < width; j++ {
		h := cellText(t.Rows[hdr], j)
		if two {
			if sub := cellText(t.Rows[hdr+1], j); sub != "" && sub != h {
				if fieldOfHeader(sub) != "" || h == "" {
					h = sub
				} else {
					h = h + "/" + sub
				}
			}
		}
		headers = append(headers, h)
	}
	for len(headers) > 0 && strings.TrimSpace(headers[len(headers)-1]) == "" {
		headers = headers[:len(headers)-1]
	}
	rep.Read, rep.HeaderRow, rep.Headers = true, hdr+1, headers
	rep.Columns = mapColumns(t.Name, headers, opt)
	col := map[string]int{}
	for j, m := range rep.Columns {
		if m.Field != FieldKeep && m.Field != FieldIgnore {
			col[m.Field] = j
		}
	}
	if _, ok := col["name"]; !ok {
		rep.Read, rep.Why = false, "没有“姓名”列：请在下面的列对应中指定哪一列是姓名"
		return rep
	}
	_, hasRel := col["relation"]
	_, hasNo := col["sheet_no"]
	_, hasHeadName := col["head_name"]
	_, hasHID := col["household_id"]
	if !hasRel && !hasNo && !hasHeadName && !hasHID {
		rep.Read, rep.Why = false, "没有“与户主关系”“户号”或“户主姓名”列，无法分户：请在下面的列对应中指定"
		return rep
	}
	resolve := groupResolver(opt.Groups)
	// A sheet without a group column may name its group in the sheet's
	// name (一组, 第三村民组) or the title above the header.
	if _, ok := col["group"]; !ok {
		if g := resolve(t.Name); g != "" {
			rep.Group = g
		} else {
			for i := 0; i < hdr && rep.Group == ""; i++ {
				for _, c := range t.Rows[i] {
					if m := groupInTitleRE.FindString(c.Text); m != "" {
						if g := resolve(m); g != "" {
							rep.Group = g
							break
						}
					}
				}
			}
		}
		if rep.Group == "" && len(opt.Groups) == 1 {
			rep.Group = opt.Groups[0].Code
		}
	}
	for i := 0; i < hdr; i++ {
		if txt := firstText(t.Rows[i]); txt != "" {
			out.Skipped = append(out.Skipped, SkippedRow{Sheet: t.Name, Row: i + 1, Code: "title_row", Message: "标题行，不是人员", Text: txt})
		}
	}
	start := hdr + 1
	if two {
		start++
	}
	p := rowParser{t: t, rep: &rep, col: col, resolve: resolve, hasRel: hasRel, carry: map[string]string{}}
	for i := start; i < len(t.Rows); i++ {
		p.row(i, out)
	}
	return rep
}

var groupInTitleRE = regexp.MustCompile(`第?[一二三四五六七八九十0-9０-９]+(村民小组|村民组|小组|组)`)

type rowParser struct {
	t       *Table
	rep     *SheetReport
	col     map[string]int
	resolve func(string) string
	hasRel  bool
	carry   map[string]string
	i       int    // the row being read
	group   string // carried group text
	// the last head row seen: its key, group and name
	headKey, headGroup, headName string
	headRow                      int
	heads                        map[string]string // head name → key, for 户主姓名 links
}

func cellText(row []Cell, j int) string {
	if j < 0 || j >= len(row) {
		return ""
	}
	return strings.TrimSpace(row[j].Text)
}

func firstText(row []Cell) string {
	for _, c := range row {
		if t := strings.TrimSpace(c.Text); t != "" {
			if utf8.RuneCountInString(t) > 40 {
				t = string([]rune(t)[:40]) + "…"
			}
			return t
		}
	}
	return ""
}

var summaryWords = []string{"合计", "总计", "小计", "共计", "总户数", "总人数", "汇总"}
var notesWords = []string{"说明：", "说明:", "填表说明", "注：", "注:", "备注：", "备注:", "填表人", "制表", "审核", "负责人：", "签字", "签名", "盖章", "填报", "统计人", "联系人：", "日期：", "日期:"}

func (p *rowParser) cell(row []Cell, f string) Cell {
	if j, ok := p.col[f]; ok && j < len(row) {
		c := row[j]
		if c.Kind == cellMaybeNumber {
			switch f {
			case "id_number", "birth_date", "residence_since", "phone":
				c = p.t.Cell(p.i, j) // how it was stored matters here
			default:
				c.Kind = CellText
			}
		}
		c.Text = strings.TrimSpace(c.Text)
		return c
	}
	return Cell{}
}

func (p *rowParser) row(i int, out *ImportSheet) {
	p.i = i
	row := p.t.Rows[i]
	rowNo := i + 1
	name := p.cell(row, "name").Text
	id := p.cell(row, "id_number").Text
	// Rows that are not people. A pre-printed 序号 alone is a blank row.
	nonEmpty, first := 0, ""
	for j, c := range row {
		v := strings.TrimSpace(c.Text)
		if v == "" || j < len(p.rep.Columns) && p.rep.Columns[j].Field == FieldIgnore && looksNumeric(v) {
			continue
		}
		if first == "" {
			first = limitRunes(v, 40)
		}
		if j < len(p.rep.Columns) && p.rep.Columns[j].Field != FieldIgnore {
			nonEmpty++
		}
	}
	if first == "" {
		return
	}
	distinct := map[string]bool{}
	for _, c := range row {
		if v := strings.TrimSpace(c.Text); v != "" {
			distinct[v] = true
		}
	}
	skip := func(code, msg string) {
		out.Skipped = append(out.Skipped, SkippedRow{Sheet: p.t.Name, Row: rowNo, Code: code, Message: msg, Text: first})
	}
	if NormalizeHeader(name) == "姓名" || fieldOfHeader(name) == "name" && id != "" && fieldOfHeader(id) == "id_number" {
		skip("header_row", "重复的表头行")
		return
	}
	if len(distinct) == 1 && nonEmpty >= 2 {
		// One text merged across the row: a title or a note.
		skip("notes_row", "说明行，不是人员")
		return
	}
	if !strings.ContainsAny(id, "0123456789") {
		for _, c := range row {
			v := NormalizeHeader(c.Text)
			for _, w := range summaryWords {
				if strings.HasPrefix(v, w) || strings.HasSuffix(v, w) && utf8.RuneCountInString(v) <= 8 {
					skip("summary_row", "合计行，不是人员")
					return
				}
			}
		}
		for _, w := range notesWords {
			if strings.Contains(first, w) {
				skip("notes_row", "说明或签字行，不是人员")
				return
			}
		}
		if name == "" && nonEmpty <= 1 && utf8.RuneCountInString(first) > 12 {
			skip("notes_row", "说明行，不是人员")
			return
		}
	}
	r := ImportRow{Sheet: p.t.Name, Row: rowNo, Said: map[string]bool{}}
	for f, j := range p.col {
		if j < len(row) && strings.TrimSpace(row[j].Text) != "" {
			r.Said[f] = true
		}
	}
	width := len(p.rep.Headers)
	r.Cells = make([]string, width)
	for j := 0; j < width && j < len(row); j++ {
		r.Cells[j] = row[j].Text
	}
	header := func(f string) string {
		if j, ok := p.col[f]; ok {
			return p.rep.Headers[j]
		}
		return ImportFieldLabel(f)
	}
	issue := func(level, code, field, format string, args ...any) {
		r.Issues = append(r.Issues, ImportIssue{Code: code, Field: field, Column: header(field), Message: fmt.Sprintf(format, args...), Level: level})
	}
	sens := &Sensitive{}
	r.Person.Sensitive = sens
	keep := func(field, v string) {
		if v == "" {
			return
		}
		if sens.Sheet == nil {
			sens.Sheet = map[string]string{}
		}
		sens.Sheet[header(field)] = limitRunes(v, 200)
	}
	// Columns kept as written.
	for j, m := range p.rep.Columns {
		if m.Field == FieldKeep && j < len(row) {
			if v := strings.TrimSpace(row[j].Text); v != "" {
				if sens.Sheet == nil {
					sens.Sheet = map[string]string{}
				}
				k := m.Header
				if strings.TrimSpace(k) == "" {
					k = "第" + m.Column + "列"
				}
				sens.Sheet[limitRunes(k, 40)] = limitRunes(v, 200)
			}
		}
	}

	// Relation and whether this row is a head.
	rel := p.cell(row, "relation").Text
	r.Person.Relation = rel
	sheetNo := p.cell(row, "sheet_no").Text
	headName := p.cell(row, "head_name").Text
	switch {
	case p.hasRel:
		r.IsHead = IsHead(rel)
	case headName != "":
		r.IsHead = compactName(headName) == compactName(name)
	default:
		r.IsHead = sheetNo != "" && sheetNo != p.carry["sheet_no"]
	}
	if !p.hasRel && r.IsHead {
		r.Person.Relation = RelationHead
	} else if !p.hasRel {
		r.Person.Relation = "其他"
		issue(LevelWarning, "missing_relation", "relation", "表中没有“与户主关系”，已记为“其他”：请在户页面补上与户主的关系")
	}
	// Household fields: carried down into the rows of the same household.
	vals := map[string]string{}
	for _, f := range householdFields {
		v := p.cell(row, f).Text
		if v == "" && !r.IsHead {
			v = p.carry[f]
		}
		vals[f] = v
	}
	if r.IsHead || vals["sheet_no"] != p.carry["sheet_no"] {
		for _, f := range householdFields {
			p.carry[f] = vals[f]
		}
	}
	r.SheetNo, r.HeadName, r.Address, r.HouseNo, r.HouseID = vals["sheet_no"], vals["head_name"], vals["address"], vals["house_no"], vals["household_id"]
	// The group carries down across households too: a group cell is
	// often merged over a whole block of them.
	gt := p.cell(row, "group").Text
	if gt == "" {
		gt = p.group
	}
	p.group = gt
	r.groupText = gt
	switch {
	case gt == "" && p.rep.Group != "":
		r.Group = p.rep.Group
	case gt == "":
		issue(LevelError, "missing_group", "group", "组别为空：请填写所在村民组（如“3组”）")
	default:
		if r.Group = p.resolve(gt); r.Group == "" {
			issue(LevelError, "unknown_group", "group", "组别“%s”不是本村的村民组，或不在您负责的网格内", gt)
		}
	}

	// Name.
	r.Person.Name = compactName(name)
	switch {
	case r.Person.Name == "":
		issue(LevelError, "empty_name", "name", "姓名为空")
	case strings.ContainsAny(r.Person.Name, "0123456789０１２３４５６７８９"):
		issue(LevelError, "bad_name", "name", "姓名“%s”中有数字，请核对", r.Person.Name)
	case utf8.RuneCountInString(r.Person.Name) > 30:
		issue(LevelError, "bad_name", "name", "姓名超过30个字，请核对")
	case strings.ContainsAny(r.Person.Name, "?？\uFFFD"):
		// GBK has no 𠇔: Excel writes "?" in its CSV and the character is gone.
		issue(LevelError, "lost_character", "name", "姓名“%s”中有问号，可能是另存为 CSV 时丢了生僻字：请补上该字，或直接导入 .xlsx 文件", r.Person.Name)
	}

	// ID number, respecting the cell's type.
	idc := p.cell(row, "id_number")
	var cid CitizenID
	idOK := false
	switch {
	case idc.Text == "":
		issue(LevelError, "missing_id", "id_number", "身份证号为空：请填写18位身份证号；确实没有身份证的，请在该格填“无证”")
	case isNoIDMark(idc.Text):
		r.Person.NoID = true
	case idc.Kind == CellNumber && len(strings.Trim(idc.Text, "0123456789")) == 0 && len(idc.Text) == 15:
		p.old15(idc.Text, issue)
	case idc.Kind == CellNumber || sciRE.MatchString(idc.Text):
		issue(LevelError, "id_as_number", "id_number", "身份证号被存成了数字（显示为 %s），后几位已丢失，无法恢复：请把该列设为“文本”格式后，照本人身份证重新录入", idc.Text)
	default:
		n := normalizeCitizenID(strings.TrimLeft(idc.Text, "'‘`"))
		c, err := ParseCitizenID(n)
		switch reason := ErrorReason(err); {
		case err == nil:
			cid, idOK = c, true
			sens.IDNumber = c.Number
		case reason == "old_15_digit_id":
			p.old15(n, issue)
		case reason == "bad_check_digit" && strings.HasSuffix(n, "00"):
			issue(LevelError, reason, "id_number", "%s；号码末尾是0，可能曾被 Excel 存成数字而丢了后几位", ErrorMessage(err))
		default:
			if reason == "" {
				reason = "bad_id"
			}
			issue(LevelError, reason, "id_number", "%s", ErrorMessage(err))
		}
	}

	// Gender and birth date: from the ID number, and must agree with it.
	gender := strings.TrimSpace(p.cell(row, "gender").Text)
	switch gender {
	case "男性", "M", "m", "1":
		gender = "男"
	case "女性", "F", "f", "2":
		gender = "女"
	}
	if gender != "" && gender != "男" && gender != "女" {
		issue(LevelWarning, "unknown_value", "gender", "性别“%s”无法识别，已按身份证号填写", gender)
		keep("gender", gender)
		gender = ""
	}
	bc := p.cell(row, "birth_date")
	birth, prec, bOK := parseSheetDate(bc, p.t.Date1904)
	if j, ok := p.col["birth_date"]; ok && bOK && bc.Kind == CellNumber && j < len(r.Cells) && prec == 'd' {
		// A date cell goes back to the clerk as the date it shows, not 20643.
		r.Cells[j] = birth.Format("2006-01-02")
	}
	if bc.Text != "" && !bOK {
		issue(LevelError, "bad_birth_date", "birth_date", "出生日期“%s”无法识别或不存在：请写成 1987-03-14 或 1987年3月14日", bc.Text)
	}
	if idOK {
		if gender != "" && gender != cid.Gender() {
			issue(LevelError, "gender_mismatch", "gender", "性别“%s”与身份证号不符（身份证号显示为%s）：请核对性别或身份证号", gender, cid.Gender())
		}
		if bOK && !sameDate(birth, prec, cid.Birth) {
			issue(LevelError, "birth_mismatch", "birth_date", "出生日期%s与身份证号中的%s不符：请核对出生日期或身份证号", bc.Text, cid.Birth.Format("2006年1月2日"))
		}
		r.Person.Gender, r.Person.Birth = cid.Gender(), cid.Birth.Format("2006-01-02")
	} else if r.Person.NoID {
		r.Person.Gender = gender
		if bOK && prec == 'd' {
			r.Person.Birth = birth.Format("2006-01-02")
		} else if bOK {
			keep("birth_date", bc.Text)
		}
	}

	// Phone: numbers or text, one or several.
	pc := p.cell(row, "phone")
	if v := pc.Text; v != "" {
		if pc.Kind == CellNumber {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				v = strconv.FormatFloat(f, 'f', 0, 64)
			}
		}
		// One number with spaces in it, or several numbers.
		parts := append([]string{v}, strings.FieldsFunc(v, func(r rune) bool { return strings.ContainsRune(",，、;；/\n", r) })...)
		parts = append(parts, strings.Fields(v)...)
		good := ""
		for _, x := range parts {
			if n := NormalizePhone(x); good == "" && ValidatePhone("phone", n, false) == nil {
				good = n
			}
		}
		r.Person.Phone = good
		if good == "" {
			issue(LevelWarning, "bad_phone", "phone", "联系电话“%s”不是有效的手机或座机号码，已作为其他信息保留，请核对", v)
		}
		if good == "" || NormalizePhone(v) != good {
			keep("phone", v)
		}
	}

	// Residence: 外出务工地点 means the person works away.
	res := p.cell(row, "residence").Text
	where := p.cell(row, "residence_where").Text
	r.Person.Residence = ResidenceHere
	switch {
	case res == "" || res == "否" || res == "无" || strings.Contains(res, "在家") || strings.Contains(res, "在村") || res == "常住":
	case yes(res) || strings.Contains(res, "外出") || strings.Contains(res, "务工") || strings.Contains(res, "外地"):
		r.Person.Residence = ResidenceAway
	case strings.Contains(res, "流入") || strings.Contains(res, "外来") || strings.Contains(res, "暂住"):
		r.Person.Residence = ResidenceMovedIn
	default:
		issue(LevelWarning, "unknown_value", "residence", "居住状态“%s”无法识别，已按在家居住导入并保留原文", res)
		keep("residence", res)
	}
	if where != "" && !isNoneMark(where) {
		if r.Person.Residence == ResidenceHere {
			r.Person.Residence = ResidenceAway
		}
		r.Person.ResidenceWhere = limitRunes(where, 60)
	}
	if r.Person.Residence == ResidenceAway && r.Person.ResidenceWhere == "" {
		r.Person.ResidenceWhere = "未填写"
	}
	if sc := p.cell(row, "residence_since"); sc.Text != "" {
		if d, prec, ok := parseSheetDate(sc, p.t.Date1904); ok && prec == 'd' {
			r.Person.ResidenceSince = d.Format("2006-01-02")
		} else {
			keep("residence_since", sc.Text)
		}
	}

	// Dibao, insurance, health: read where the meaning is clear, kept as
	// written with a warning where it is not.
	if v := p.cell(row, "dibao").Text; v != "" {
		switch b, ok := yesNo(v); {
		case ok:
			r.Person.Dibao = b
		case strings.Contains(v, "低保") && !strings.Contains(v, "非"), strings.Contains(v, "类"), strings.Contains(v, "保障"):
			r.Person.Dibao = true
			sens.DibaoCategory = limitRunes(v, 20)
		default:
			issue(LevelWarning, "unknown_value", "dibao", "是否低保“%s”无法识别，按非低保导入并保留原文，请核对", v)
			keep("dibao", v)
		}
	}
	if v := p.cell(row, "insurance").Text; v != "" {
		switch b, ok := yesNo(v); {
		case ok:
			r.Person.Insured = b
		case knownScheme(v):
			r.Person.Insured, r.Person.InsuranceScheme = true, limitRunes(v, 30)
		default:
			r.Person.InsuranceScheme = limitRunes(v, 30)
			issue(LevelWarning, "unknown_value", "insurance", "医保类型“%s”不是常见的医保，已按原文保留，请核对", v)
		}
	}
	if v := p.cell(row, "health").Text; v != "" {
		if h := healthOf(v); h != "" {
			sens.Health = h
			if HealthLabels[h] != v {
				keep("health", v)
			}
		} else {
			issue(LevelWarning, "unknown_value", "health", "健康状况“%s”不是 健康、慢性病、大病、残疾 之一，已按原文保留", v)
			keep("health", v)
		}
	}
	if v := p.cell(row, "disability_grade").Text; v != "" && !isNoneMark(v) {
		sens.DisabilityGrade = limitRunes(v, 10)
		if sens.Health == "" {
			sens.Health = HealthDisabled
		}
	}
	for _, k := range strings.FieldsFunc(p.cell(row, "key_categories").Text, func(r rune) bool { return strings.ContainsRune(",，、;；/ ", r) }) {
		if !isNoneMark(k) {
			sens.KeyCategories = append(sens.KeyCategories, limitRunes(k, 20))
		}
	}
	if v := p.cell(row, "employment").Text; v != "" {
		r.Person.Employment = limitRunes(v, 40)
		if utf8.RuneCountInString(v) > 40 {
			keep("employment", v)
		}
	}
	if v := p.cell(row, "note").Text; v != "" {
		sens.Note = limitRunes(v, 500)
	}
	if rel == "" && p.hasRel {
		issue(LevelError, "missing_relation", "relation", "与户主关系为空：户主填“户主”，其他人填与户主的关系（如 妻、长子）")
	} else if _, ok := RelationCode(r.Person.Relation); !ok && r.Person.Relation != "" {
		issue(LevelWarning, "unknown_relation", "relation", "与户主关系“%s”不在国家标准（GB/T 4761）中，已按原文保留", r.Person.Relation)
		if utf8.RuneCountInString(r.Person.Relation) > 20 {
			r.Person.Relation = limitRunes(r.Person.Relation, 20)
		}
	}

	// The household this row belongs to.
	switch {
	case r.HouseID != "":
		r.Key = "id:" + r.HouseID
	case r.SheetNo != "":
		r.Key = "no:" + r.groupKey() + "/" + r.SheetNo
	case r.IsHead:
		r.Key = fmt.Sprintf("row:%s/%d", p.t.Name, rowNo)
	case r.HeadName != "" && p.heads[compactName(r.HeadName)] != "":
		r.Key = p.heads[compactName(r.HeadName)]
	case r.HeadName == "" && p.headKey != "" && p.headGroup == r.groupText:
		r.Key, r.HeadRow = p.headKey, p.headRow
	default:
		if r.HeadName != "" {
			issue(LevelError, "no_household", "head_name", "找不到户主“%s”的行：户主行须在本表中，或填写户号", r.HeadName)
		} else {
			issue(LevelError, "no_household", "relation", "不知道属于哪一户：上面没有本组的户主行，也没有户号")
		}
	}
	if r.IsHead {
		p.headKey, p.headGroup, p.headName, p.headRow = r.Key, r.groupText, r.Person.Name, rowNo
		if p.heads == nil {
			p.heads = map[string]string{}
		}
		p.heads[r.Person.Name] = r.Key
	}
	if r.HeadRow == 0 && !r.IsHead && r.Key != "" && strings.HasPrefix(r.Key, "row:") {
		r.HeadRow = p.headRow
	}

	// Whatever else the record's own checks find (lengths, characters).
	r.Person.Normalize()
	if !r.Refused() {
		check := r.Person
		check.ID, check.Household = "x", "x"
		if err := check.Validate(); err != nil {
			code := ErrorReason(err)
			if code == "" {
				code = "invalid_" + ErrorField(err)
			}
			issue(LevelError, code, ErrorField(err), "%s", ErrorMessage(err))
		}
	}
	p.rep.Rows++
	out.Rows = append(out.Rows, r)
}

func (r *ImportRow) groupKey() string {
	if r.Group != "" {
		return r.Group
	}
	return r.groupText
}

// old15 refuses a first-generation number with the 18-digit one the rule gives.
func (p *rowParser) old15(n string, issue func(level, code, field, format string, args ...any)) {
	up, _ := UpgradeCitizenID15(n)
	issue(LevelError, "old_15_digit_id", "id_number", "这是旧的15位身份证号（2013年起停用）。按规则换算应为 %s，请与本人现在的身份证核对无误后填入18位号码", up)
}

var sciRE = regexp.MustCompile(`^[0-9.]+[eE][+]?[0-9]+$`)

// compactName drops the spaces clerks put inside two-character names to
// line them up (王  芳 → 王芳); the characters themselves are kept exactly.
func compactName(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '\u3000' {
			return -1
		}
		return r
	}, s)
}

func limitRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// isNoIDMark is the explicit 无证 mark in an ID number cell.
func isNoIDMark(s string) bool {
	switch compactName(s) {
	case "无证", "无", "无身份证", "未办证", "未办", "未办理", "暂无", "没有", "无证件", "未上户":
		return true
	}
	return false
}

func isNoneMark(s string) bool {
	switch strings.TrimSpace(s) {
	case "无", "否", "-", "—", "/", "／", "没有", "暂无":
		return true
	}
	return false
}

func yes(s string) bool {
	b, ok := yesNo(s)
	return ok && b
}

// yesNo reads a yes/no cell; ok is false for anything else.
func yesNo(s string) (bool, bool) {
	switch strings.TrimSpace(s) {
	case "是", "有", "Y", "y", "yes", "YES", "√", "✓", "✔", "1", "低保", "低保户", "已参保", "参保", "已参加", "参加", "TRUE", "true":
		return true, true
	case "否", "无", "不是", "N", "n", "no", "NO", "×", "✗", "0", "非低保", "未参保", "未参加", "不参加", "FALSE", "false", "-", "—", "/":
		return false, true
	}
	return false, false
}

func knownScheme(s string) bool {
	for _, w := range []string{"城乡居民", "居民医保", "居民基本医疗", "新农合", "合作医疗", "职工医保", "职工基本医疗", "城镇职工", "城镇居民"} {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// healthOf maps a health cell where the meaning is clear.
func healthOf(v string) string {
	v = compactName(v)
	for k, l := range HealthLabels {
		if v == l || v == k {
			return k
		}
	}
	switch v {
	case "良好", "好", "正常", "健康良好", "身体健康", "良":
		return HealthGood
	case "重病", "重大疾病", "癌症", "大病患者":
		return HealthSerious
	case "高血压", "糖尿病", "心脏病", "慢病":
		return HealthChronic
	}
	switch {
	case strings.Contains(v, "慢性"):
		return HealthChronic
	case strings.Contains(v, "残"):
		return HealthDisabled
	}
	return ""
}

// parseSheetDate reads a date cell: an Excel serial number, 19870314, or
// text with dashes, dots, slashes or 年月日; 出生年月 columns often hold a
// month only. prec is 'd' (day), 'm' (month) or 'y'.
func parseSheetDate(c Cell, date1904 bool) (time.Time, byte, bool) {
	s := strings.TrimSpace(c.Text)
	if s == "" {
		return time.Time{}, 0, false
	}
	if c.Kind == CellNumber {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, 0, false
		}
		switch {
		case f >= 18900101 && f <= 21001231 && f == math.Trunc(f):
			s = strconv.FormatFloat(f, 'f', 0, 64) // 19870314 typed as a number
		case f >= 1890 && f < 2101 && f != math.Trunc(f):
			// 1987.03 typed into a number cell: 1987.1 may be January or
			// October, so only the year is sure then.
			y := int(f)
			m := int(math.Round((f - float64(y)) * 100))
			if m%10 == 0 && m > 0 || m < 1 || m > 12 {
				return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), 'y', true
			}
			return time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC), 'm', true
		case f >= 1890 && f < 2101:
			return time.Date(int(f), 1, 1, 0, 0, 0, 0, time.UTC), 'y', true
		case f > 0 && f < 80000:
			t, err := excelize.ExcelDateToTime(f, date1904)
			if err != nil {
				return time.Time{}, 0, false
			}
			return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), 'd', true
		default:
			return time.Time{}, 0, false
		}
	}
	if i := strings.IndexAny(s, " T"); i > 0 {
		s = s[:i] // 1987-03-14 00:00:00
	}
	t := strings.NewReplacer("/", "-", ".", "-", "年", "-", "月", "-", "日", "", "号", "", "－", "-").Replace(s)
	t = strings.Trim(t, "-")
	if len(t) == 8 && strings.Trim(t, "0123456789") == "" {
		t = t[:4] + "-" + t[4:6] + "-" + t[6:]
	} else if len(t) == 6 && strings.Trim(t, "0123456789") == "" {
		t = t[:4] + "-" + t[4:]
	}
	parts := strings.Split(t, "-")
	nums := make([]int, len(parts))
	for i, x := range parts {
		n, err := strconv.Atoi(x)
		if err != nil {
			return time.Time{}, 0, false
		}
		nums[i] = n
	}
	if len(nums) == 3 && nums[2] > 1000 && len(parts[2]) == 4 {
		// 3/14/1987 from an English-language program.
		nums = []int{nums[2], nums[0], nums[1]}
	}
	valid := func(y, m, d int) bool {
		x := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
		return y >= 1890 && y <= 2100 && x.Year() == y && int(x.Month()) == m && x.Day() == d
	}
	switch len(nums) {
	case 3:
		if valid(nums[0], nums[1], nums[2]) {
			return time.Date(nums[0], time.Month(nums[1]), nums[2], 0, 0, 0, 0, time.UTC), 'd', true
		}
	case 2:
		if valid(nums[0], nums[1], 1) {
			return time.Date(nums[0], time.Month(nums[1]), 1, 0, 0, 0, 0, time.UTC), 'm', true
		}
	case 1:
		if valid(nums[0], 1, 1) && len(parts[0]) == 4 {
			return time.Date(nums[0], 1, 1, 0, 0, 0, 0, time.UTC), 'y', true
		}
	}
	return time.Time{}, 0, false
}

// sameDate compares a sheet date of the given precision with a birth date.
func sameDate(t time.Time, prec byte, b time.Time) bool {
	switch prec {
	case 'y':
		return t.Year() == b.Year()
	case 'm':
		return t.Year() == b.Year() && t.Month() == b.Month()
	}
	return t.Year() == b.Year() && t.Month() == b.Month() && t.Day() == b.Day()
}

var cnDigits = map[string]int{"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
	"十一": 11, "十二": 12, "十三": 13, "十四": 14, "十五": 15, "十六": 16, "十七": 17, "十八": 18, "十九": 19, "二十": 20}

// groupResolver finds a group by code, name, or number ("3", "3组", "三组",
// "第三村民组", "杏花村三组").
func groupResolver(groups []Grid) func(string) string {
	return func(v string) string {
		v = compactName(strings.Map(narrow, v))
		if v == "" {
			return ""
		}
		for _, g := range groups {
			if g.Code == v || g.Name == v {
				return g.Code
			}
		}
		if m := groupInTitleRE.FindString(v); m != "" && m != v {
			v = m
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
