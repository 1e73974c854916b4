package appliance

import (
	"regexp"
	"strings"
)

// ImportField is a field an import column can fill.
type ImportField struct {
	Key   string `json:"key"`
	Label string `json:"label"`
}

// Special targets of a column.
const (
	FieldKeep   = "keep" // kept as written in the member's 其他信息 (Sensitive.Sheet)
	FieldIgnore = "-"    // not imported (序号, 未导入原因…)
)

// ImportFields are the targets a clerk can choose for a column, in the
// order the mapping page offers them.
var ImportFields = []ImportField{
	{"name", "姓名"}, {"id_number", "身份证号"}, {"relation", "与户主关系"}, {"group", "组别"},
	{"sheet_no", "户号"}, {"head_name", "户主姓名"}, {"household_id", "档案户编号"},
	{"gender", "性别"}, {"birth_date", "出生日期"}, {"phone", "联系电话"},
	{"address", "住址"}, {"house_no", "门牌号"},
	{"residence", "居住状态（是否外出）"}, {"residence_where", "外出务工地点"}, {"residence_since", "外出时间"},
	{"dibao", "是否低保"}, {"insurance", "医保类型（是否参保）"}, {"health", "健康状况"}, {"disability_grade", "残疾等级"},
	{"key_categories", "重点人员类别"}, {"employment", "就业情况"}, {"note", "备注"},
	{FieldKeep, "保留为其他信息"}, {FieldIgnore, "不导入"},
}

// ImportFieldLabel returns the Chinese label of a field key.
func ImportFieldLabel(key string) string {
	for _, f := range ImportFields {
		if f.Key == key {
			return f.Label
		}
	}
	return ""
}

// headerRules recognise a column by meaning, first match wins: each is a
// set of words the normalised header must contain (all of one group).
var headerRules = []struct {
	field string
	any   [][]string // any of these groups; every word of a group must occur
	exact []string   // or the header is exactly one of these
}{
	{FieldIgnore, [][]string{{"未导入原因"}, {"导入结果"}, {"原表行号"}}, []string{"序号", "编号", "序", "no", "no."}},
	{"household_id", [][]string{{"档案户编号"}}, nil},
	{"head_name", [][]string{{"户主", "姓名"}, {"户主", "名"}}, []string{"户主"}},
	{"relation", [][]string{{"关系"}}, []string{"称谓"}},
	{"id_number", [][]string{{"身份证"}, {"身份号码"}, {"证件号"}, {"证件号码"}, {"公民身份"}}, nil},
	{"sheet_no", [][]string{{"户号"}, {"户编号"}, {"户籍编号"}, {"户代码"}, {"户序号"}, {"家庭编号"}}, nil},
	{"residence_since", [][]string{{"外出", "时间"}, {"外出", "日期"}, {"流入", "时间"}}, nil},
	{"residence_where", [][]string{{"外出", "地"}, {"务工", "地"}, {"外出", "单位"}, {"务工", "单位"}, {"去向"}, {"流入地"}, {"现居住地"}}, nil},
	{"residence", [][]string{{"外出"}, {"务工"}, {"居住状态"}, {"在家"}, {"流动"}}, nil},
	{"phone", [][]string{{"电话"}, {"手机"}, {"联系方式"}}, nil},
	{"birth_date", [][]string{{"出生"}, {"生日"}}, nil},
	{"gender", [][]string{{"性别"}}, []string{"性"}},
	{"dibao", [][]string{{"低保"}}, nil},
	{"insurance", [][]string{{"医保"}, {"参保"}, {"医疗保险"}, {"合作医疗"}}, nil},
	{"disability_grade", [][]string{{"残疾"}}, nil},
	{"health", [][]string{{"健康"}, {"身体状况"}}, nil},
	{"key_categories", [][]string{{"重点"}, {"特殊人群"}, {"特殊群体"}, {"人员类别"}}, nil},
	{"employment", [][]string{{"职业"}, {"就业"}, {"从业"}, {"工作单位"}}, nil},
	{"house_no", [][]string{{"门牌"}}, nil},
	{"address", [][]string{{"住址"}, {"地址"}, {"现住"}, {"居住地"}}, nil},
	{"group", [][]string{{"村民小组"}, {"村民组"}, {"网格"}, {"所在组"}, {"所属组"}, {"组别"}, {"组名"}}, []string{"组", "小组", "村组"}},
	{"name", [][]string{{"姓名"}, {"名字"}}, []string{"成员", "家庭成员"}},
	{"note", [][]string{{"备注"}, {"说明"}}, nil},
}

var parenRE = regexp.MustCompile(`[（(][^）)]*[）)]`)

// NormalizeHeader tidies a header cell for matching and remembering: no
// spaces or line breaks, no bracketed hints like （18位）, no stars or colons.
func NormalizeHeader(s string) string {
	s = parenRE.ReplaceAllString(s, "")
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\u3000', '\n', '\r', '\t', '*', '★', ':', '：', '\u00a0':
			return -1
		}
		return r
	}, s)
	return strings.ToLower(s)
}

// fieldOfHeader recognises a header by meaning; "" when unknown.
func fieldOfHeader(h string) string {
	n := NormalizeHeader(h)
	if n == "" {
		return ""
	}
	for _, r := range headerRules {
		for _, e := range r.exact {
			if n == e {
				return r.field
			}
		}
		for _, g := range r.any {
			all := true
			for _, w := range g {
				if !strings.Contains(n, w) {
					all = false
					break
				}
			}
			if all {
				return r.field
			}
		}
	}
	return ""
}

// ColumnMapping is what one column of a sheet is read as.
type ColumnMapping struct {
	Column string `json:"column"` // spreadsheet letter
	Header string `json:"header"` // as written; a two-row header joined with "/"
	Field  string `json:"field"`  // an ImportField key
	Label  string `json:"label"`
	// Source says why: auto (recognised), remembered (a clerk chose it
	// before), chosen (for this import), unknown (kept as 其他信息),
	// ambiguous (a second column for a field already taken: kept, not used).
	Source string `json:"source"`
}

// mappingSources.
const (
	SourceAuto       = "auto"
	SourceRemembered = "remembered"
	SourceChosen     = "chosen"
	SourceUnknown    = "unknown"
	SourceAmbiguous  = "ambiguous"
)

// mapColumns decides each column's field: a remembered choice by header,
// else recognition by meaning; then this import's choices by letter where
// they differ. A field claimed by two columns keeps the chosen or first
// one; the other is ambiguous and kept as 其他信息.
func mapColumns(sheet string, headers []string, opt ImportOptions) []ColumnMapping {
	out := make([]ColumnMapping, len(headers))
	owner := map[string]int{}
	claim := func(i int, f, src string) {
		out[i].Field, out[i].Source = f, src
		if f == FieldKeep || f == FieldIgnore {
			return
		}
		if j, ok := owner[f]; ok && j != i {
			if src != SourceChosen {
				out[i].Field, out[i].Source = FieldKeep, SourceAmbiguous
				return
			}
			out[j].Field, out[j].Source = FieldKeep, SourceAmbiguous
		}
		owner[f] = i
	}
	// Remembered choices claim first, so that recognition of another
	// column cannot take their field.
	for i, h := range headers {
		out[i] = ColumnMapping{Column: columnLetter(i), Header: h}
		if f, ok := opt.Remembered[NormalizeHeader(h)]; ok && NormalizeHeader(h) != "" && validField(f) {
			claim(i, f, SourceRemembered)
		}
	}
	for i, h := range headers {
		if out[i].Source != "" {
			continue
		}
		switch f := fieldOfHeader(h); {
		case strings.TrimSpace(h) == "":
			out[i].Field, out[i].Source = FieldIgnore, SourceUnknown
		case f == "":
			out[i].Field, out[i].Source = FieldKeep, SourceUnknown
		default:
			claim(i, f, SourceAuto)
		}
	}
	for i := range headers {
		letter := columnLetter(i)
		f, ok := opt.Chosen[sheet+"!"+letter]
		if !ok {
			f, ok = opt.Chosen[letter]
		}
		if ok && validField(f) && f != out[i].Field {
			if o, had := owner[out[i].Field]; had && o == i {
				delete(owner, out[i].Field)
			}
			claim(i, f, SourceChosen)
		}
	}
	for i := range out {
		out[i].Label = ImportFieldLabel(out[i].Field)
	}
	return out
}

func validField(f string) bool { return ImportFieldLabel(f) != "" }

// ImportMapping is the body of an archive.import_mapping entry: columns by
// normalised header and the field a clerk chose for them ("" forgets one).
type ImportMapping struct {
	Columns map[string]string `json:"columns"`
}

// Validate checks the headers and fields of a mapping.
func (m *ImportMapping) Validate() error {
	if len(m.Columns) == 0 {
		return FieldError("columns", "请至少指定一列")
	}
	if len(m.Columns) > maxImportColumns {
		return FieldError("columns", "最多%d列", maxImportColumns)
	}
	for h, f := range m.Columns {
		if err := requireText("columns", "表头", h, 60); err != nil {
			return err
		}
		if h != NormalizeHeader(h) {
			return FieldError("columns", "表头“%s”应去掉空格、括号说明和星号", h)
		}
		if f != "" && !validField(f) {
			return FieldError("columns", "表头“%s”对应的“%s”不是可导入的项目", h, f)
		}
	}
	return nil
}
