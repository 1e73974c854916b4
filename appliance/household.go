package appliance

import (
	"math"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Entry kinds of the household archive.
const (
	// KindArchiveChange is one step on the archive: a new household, an edit,
	// or a household event (split, merge, new head, a member leaving, a move,
	// a birth, an import). It carries the full new record of every household
	// and member it touches, so a step is never left half-done.
	KindArchiveChange = "archive.change"
	// KindArchiveReveal records that someone saw an unmasked ID number or phone.
	KindArchiveReveal = "archive.reveal"
	// KindArchiveDup records a reviewer's decision on a possible duplicate.
	KindArchiveDup = "archive.dup"
	// KindImportMapping remembers how a clerk mapped sheet columns.
	KindImportMapping = "archive.import_mapping"
)

// Archive events: what one archive.change entry did.
const (
	EventCreate     = "create"     // 新建户
	EventEdit       = "edit"       // 修改户信息
	EventAddMember  = "add_member" // 增加成员
	EventEditMember = "edit_member"
	EventSplit      = "split"    // 分户
	EventMerge      = "merge"    // 合户
	EventNewHead    = "new_head" // 变更户主
	EventLeave      = "leave"    // 成员减少（死亡、迁出、婚出、误登）
	EventMove       = "move"     // 迁移（组间、户间、外村）
	EventBirth      = "birth"    // 出生入户
	EventImport     = "import"   // 表格导入
)

// EventLabels are the Chinese names of archive events.
var EventLabels = map[string]string{
	EventCreate: "新建户", EventEdit: "修改户信息", EventAddMember: "增加成员", EventEditMember: "修改成员信息",
	EventSplit: "分户", EventMerge: "合户", EventNewHead: "变更户主", EventLeave: "成员减少",
	EventMove: "迁移", EventBirth: "出生入户", EventImport: "表格导入",
}

// Reasons a member leaves a household; they stay in its history.
const (
	LeftDied       = "died"
	LeftMovedOut   = "moved_out"
	LeftMarriedOut = "married_out"
	LeftError      = "error"
	LeftMoved      = "moved" // to another household here; set by moves, not chosen
)

// LeftLabels are the Chinese names of the reasons a member leaves.
var LeftLabels = map[string]string{
	LeftDied: "死亡", LeftMovedOut: "迁出", LeftMarriedOut: "婚出", LeftError: "误登注销", LeftMoved: "转入他户",
}

// Residence statuses.
const (
	ResidenceHere    = "here"     // 在家居住
	ResidenceAway    = "away"     // 外出务工
	ResidenceMovedIn = "moved_in" // 外来流入
)

// ResidenceLabels are the Chinese names of residence statuses.
var ResidenceLabels = map[string]string{ResidenceHere: "在家居住", ResidenceAway: "外出务工", ResidenceMovedIn: "外来流入"}

// Health states.
const (
	HealthGood     = "healthy"
	HealthChronic  = "chronic"
	HealthSerious  = "serious"
	HealthDisabled = "disabled"
)

// HealthLabels are the Chinese names of health states.
var HealthLabels = map[string]string{HealthGood: "健康", HealthChronic: "慢性病", HealthSerious: "大病", HealthDisabled: "残疾"}

// HousingKinds are kinds of house.
var HousingKinds = []string{"砖混", "砖木", "土木", "框架楼房", "窑洞", "其他"}

// SafetyRatings are house safety grades (危房等级); C and D are dilapidated.
var SafetyRatings = []string{"A", "B", "C", "D"}

// Household is a household's own record (户). Members are records of their own.
type Household struct {
	ID          string  `json:"id"`
	Group       string  `json:"group"`              // level-3 grid code
	Address     string  `json:"address,omitempty"`  // 住址; in a village the group often is the address
	HouseNo     string  `json:"house_no,omitempty"` // 门牌号
	SheetNo     string  `json:"sheet_no,omitempty"` // 户号 as the village's own ledger numbers it
	Lat         float64 `json:"lat,omitempty"`
	Lng         float64 `json:"lng,omitempty"`
	HousingKind string  `json:"housing_kind,omitempty"`
	FloorArea   float64 `json:"floor_area,omitempty"` // m²
	Safety      string  `json:"safety,omitempty"`     // A–D
	Phone       string  `json:"phone,omitempty"`
	Head        string  `json:"head"`             // person id of the head
	Closed      string  `json:"closed,omitempty"` // why it no longer exists (merged, split up, moved away)
	Note        string  `json:"note,omitempty"`
}

// Village returns the village code of the household's group.
func (h *Household) Village() string {
	if i := strings.LastIndexByte(h.Group, '-'); i > 0 {
		return h.Group[:i]
	}
	return h.Group
}

func (h *Household) Validate() error {
	if !idRE.MatchString(h.ID) {
		return FieldError("id", "户编号格式错误")
	}
	if n := GroupNumber(h.Group); n < 1 || len(h.Group) != 15 {
		return FieldError("group", "请选择所在村民组（网格）")
	}
	if err := optionalText("address", "住址", h.Address, 80); err != nil {
		return err
	}
	if err := optionalText("sheet_no", "户号", h.SheetNo, 30); err != nil {
		return err
	}
	if err := optionalText("house_no", "门牌号", h.HouseNo, 20); err != nil {
		return err
	}
	if h.Lat != 0 || h.Lng != 0 {
		if h.Lat < 3 || h.Lat > 54 || h.Lng < 73 || h.Lng > 136 || math.IsNaN(h.Lat+h.Lng) {
			return FieldError("lat", "经纬度不在我国境内，请核对")
		}
	}
	if h.HousingKind != "" && !contains(HousingKinds, h.HousingKind) {
		return FieldError("housing_kind", "房屋类型应为 %s 之一", strings.Join(HousingKinds, "、"))
	}
	if h.FloorArea < 0 || h.FloorArea > 10000 || math.IsNaN(h.FloorArea) {
		return FieldError("floor_area", "住房面积应在0到10000平方米之间")
	}
	if h.Safety != "" && !contains(SafetyRatings, h.Safety) {
		return FieldError("safety", "房屋安全等级应为 A、B、C 或 D")
	}
	if err := ValidatePhone("phone", h.Phone, false); err != nil {
		return err
	}
	if h.Head != "" && !idRE.MatchString(h.Head) {
		return FieldError("head", "户主编号格式错误")
	}
	if err := optionalText("closed", "注销原因", h.Closed, 100); err != nil {
		return err
	}
	return optionalText("note", "备注", h.Note, 500)
}

// BirthRecord is a child born to a member (生育记录).
type BirthRecord struct {
	Date    string `json:"date"`
	Child   string `json:"child"`              // name
	ChildID string `json:"child_id,omitempty"` // person id, when the child joined a household here
}

// Person is a member of a household (成员). Its sensitive part travels
// sealed; Sensitive is nil where that part was left behind.
type Person struct {
	ID              string        `json:"id"`
	Household       string        `json:"household"`
	Name            string        `json:"name"` // kept exactly, rare characters included
	Gender          string        `json:"gender"`
	Birth           string        `json:"birth"`                   // YYYY-MM-DD
	Relation        string        `json:"relation"`                // to the head, as written (长子, 妻…)
	RelationCode    string        `json:"relation_code,omitempty"` // GB/T 4761 code of Relation
	NoID            bool          `json:"no_id,omitempty"`         // 无证: has no citizen ID number (yet), marked so on purpose
	Phone           string        `json:"phone,omitempty"`
	Employment      string        `json:"employment,omitempty"` // 务农、务工、个体、学生、无…
	Residence       string        `json:"residence"`
	ResidenceWhere  string        `json:"residence_where,omitempty"` // away: where; moved in: from where
	ResidenceSince  string        `json:"residence_since,omitempty"`
	Dibao           bool          `json:"dibao,omitempty"` // published on the notice board anyway; its details are sealed
	Insured         bool          `json:"insured,omitempty"`
	InsuranceScheme string        `json:"insurance_scheme,omitempty"` // 城乡居民医保、职工医保
	Births          []BirthRecord `json:"births,omitempty"`
	Left            string        `json:"left,omitempty"` // reason code when no longer a member
	LeftDate        string        `json:"left_date,omitempty"`
	LeftNote        string        `json:"left_note,omitempty"` // destination, etc.
	Sensitive       *Sensitive    `json:"sensitive,omitempty"`
}

// Sensitive is the sealed part of a member: it goes no further than the
// configuration allows.
type Sensitive struct {
	IDNumber        string   `json:"id_number,omitempty"`
	DibaoSince      string   `json:"dibao_since,omitempty"`
	DibaoCategory   string   `json:"dibao_category,omitempty"` // 一类、二类…
	DibaoAmount     float64  `json:"dibao_amount,omitempty"`   // yuan per month
	Health          string   `json:"health,omitempty"`
	DisabilityGrade string   `json:"disability_grade,omitempty"` // 一级–四级
	KeyCategories   []string `json:"key_categories,omitempty"`
	Note            string   `json:"note,omitempty"`
	// Sheet keeps, by column header, what an imported sheet said that has
	// no field here or that the box could not read (健康状况 “一般”, 民族…).
	Sheet map[string]string `json:"sheet,omitempty"`
}

// Active reports whether the person is still a member of their household.
func (p *Person) Active() bool { return p.Left == "" }

// Known reports whether the sealed part is held on this node.
func (p *Person) Known() bool { return p.Sensitive != nil }

// IDNumber returns the ID number, "" when unknown or not given.
func (p *Person) IDNumber() string {
	if p.Sensitive == nil {
		return ""
	}
	return p.Sensitive.IDNumber
}

// Disabled reports whether the person is recorded as disabled (false when unknown).
func (p *Person) Disabled() bool {
	return p.Sensitive != nil && (p.Sensitive.Health == HealthDisabled || p.Sensitive.DisabilityGrade != "")
}

// BirthDate parses Birth; zero if empty or bad.
func (p *Person) BirthDate() time.Time {
	t, _ := time.Parse("2006-01-02", p.Birth)
	return t
}

// Age is the age in whole years on the given date.
func (p *Person) Age(on time.Time) int {
	b := p.BirthDate()
	if b.IsZero() {
		return -1
	}
	y, m, d := on.Date()
	age := y - b.Year()
	if m < b.Month() || m == b.Month() && d < b.Day() {
		age--
	}
	return age
}

// Masked returns a copy for display: ID number and phone masked.
func (p Person) Masked() Person {
	p.Phone = MaskPhone(p.Phone)
	if p.Sensitive != nil {
		s := *p.Sensitive
		s.IDNumber = MaskCitizenID(s.IDNumber)
		p.Sensitive = &s
	}
	return p
}

var dateRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)

func validDate(field, label, s string, required bool) error {
	if s == "" {
		if required {
			return FieldError(field, "请填写%s", label)
		}
		return nil
	}
	if _, err := time.Parse("2006-01-02", s); err != nil || !dateRE.MatchString(s) {
		return FieldError(field, "%s格式应为 年-月-日，如 1990-03-07", label)
	}
	return nil
}

// Validate checks a member, and its sensitive part when present: the ID
// number's check digit, and that gender and birth date agree with it.
func (p *Person) Validate() error {
	if !idRE.MatchString(p.ID) {
		return FieldError("id", "成员编号格式错误")
	}
	if !idRE.MatchString(p.Household) {
		return FieldError("household", "成员所属户编号格式错误")
	}
	if err := requireText("name", "姓名", p.Name, 30); err != nil {
		return err
	}
	if strings.ContainsAny(p.Name, "0123456789") {
		return FieldError("name", "姓名中不能有数字")
	}
	if s := p.Sensitive; s != nil && s.IDNumber != "" {
		if p.NoID {
			return FieldError("id_number", "已标记“无证”的成员不能同时填写身份证号")
		}
		if _, err := ParseCitizenID(s.IDNumber); err != nil {
			return err
		}
	}
	// Gender and birth date come from the ID number; someone without one
	// (无证, marked on purpose) may have them unknown.
	if p.Gender != "男" && p.Gender != "女" && !(p.NoID && p.Gender == "") {
		return FieldError("gender", "性别应为“男”或“女”")
	}
	if err := validDate("birth_date", "出生日期", p.Birth, !p.NoID); err != nil {
		return err
	}
	if b := p.BirthDate(); p.Birth != "" && (b.Before(minBirth) || b.After(time.Now().AddDate(0, 0, 1)) && b.After(clockFloor)) {
		return FieldError("birth_date", "出生日期无效")
	}
	if err := requireText("relation", "与户主关系", p.Relation, 20); err != nil {
		return err
	}
	if c, _ := RelationCode(p.Relation); p.RelationCode != "" && c != p.RelationCode {
		return FieldError("relation", "与户主关系“%s”的代码应为%s", p.Relation, c)
	}
	if err := ValidatePhone("phone", p.Phone, false); err != nil {
		return err
	}
	if err := optionalText("employment", "就业情况", p.Employment, 40); err != nil {
		return err
	}
	if _, ok := ResidenceLabels[p.Residence]; !ok {
		return FieldError("residence", "请选择居住状态")
	}
	if p.Residence == ResidenceAway && strings.TrimSpace(p.ResidenceWhere) == "" {
		return FieldError("residence_where", "外出务工须填写外出地点")
	}
	if err := optionalText("residence_where", "外出或流入地点", p.ResidenceWhere, 60); err != nil {
		return err
	}
	if err := validDate("residence_since", "外出或流入时间", p.ResidenceSince, false); err != nil {
		return err
	}
	if err := optionalText("insurance_scheme", "医保类型", p.InsuranceScheme, 30); err != nil {
		return err
	}
	for _, b := range p.Births {
		if err := validDate("births", "生育日期", b.Date, true); err != nil {
			return err
		}
		if err := requireText("births", "子女姓名", b.Child, 30); err != nil {
			return err
		}
	}
	if p.Left != "" {
		if _, ok := LeftLabels[p.Left]; !ok {
			return FieldError("left", "请选择减少原因")
		}
		if err := validDate("left_date", "减少日期", p.LeftDate, true); err != nil {
			return err
		}
	}
	if err := optionalText("left_note", "去向说明", p.LeftNote, 100); err != nil {
		return err
	}
	if s := p.Sensitive; s != nil {
		if s.IDNumber != "" {
			if err := CheckCitizenID(s.IDNumber, p.Gender, p.BirthDate()); err != nil {
				return err
			}
		}
		if err := validDate("dibao_since", "享受低保起始时间", s.DibaoSince, false); err != nil {
			return err
		}
		if err := optionalText("dibao_category", "低保类别", s.DibaoCategory, 20); err != nil {
			return err
		}
		if s.DibaoAmount < 0 || s.DibaoAmount > 100000 || math.IsNaN(s.DibaoAmount) {
			return FieldError("dibao_amount", "低保金额应在0到100000元之间")
		}
		if s.Health != "" {
			if _, ok := HealthLabels[s.Health]; !ok {
				return FieldError("health", "请选择健康状况")
			}
		}
		if err := optionalText("disability_grade", "残疾等级", s.DisabilityGrade, 10); err != nil {
			return err
		}
		for _, k := range s.KeyCategories {
			if err := requireText("key_categories", "重点人员类别", k, 20); err != nil {
				return err
			}
		}
		if err := optionalText("note", "备注", s.Note, 500); err != nil {
			return err
		}
		if len(s.Sheet) > 60 {
			return FieldError("sheet", "表格其他信息最多60项")
		}
		for k, v := range s.Sheet {
			if err := requireText("sheet", "表格其他信息的列名", k, 40); err != nil {
				return err
			}
			if err := optionalText("sheet", k, v, 200); err != nil {
				return err
			}
		}
	}
	return nil
}

// Normalize tidies input before validation: trims, normalises the ID number
// and phone, and fills gender and birth date from the ID number when empty.
// The name is kept exactly, only surrounding spaces are dropped.
func (p *Person) Normalize() {
	p.Name = strings.TrimSpace(p.Name)
	p.Relation = strings.TrimSpace(p.Relation)
	p.RelationCode, _ = RelationCode(p.Relation)
	p.Phone = NormalizePhone(p.Phone)
	p.Gender = strings.TrimSpace(p.Gender)
	p.Birth = normalizeDate(p.Birth)
	p.ResidenceSince = normalizeDate(p.ResidenceSince)
	p.LeftDate = normalizeDate(p.LeftDate)
	if p.Residence == "" {
		p.Residence = ResidenceHere
	}
	if s := p.Sensitive; s != nil {
		s.IDNumber = normalizeCitizenID(s.IDNumber)
		s.DibaoSince = normalizeDate(s.DibaoSince)
		if c, err := ParseCitizenID(s.IDNumber); err == nil {
			if p.Gender == "" {
				p.Gender = c.Gender()
			}
			if p.Birth == "" {
				p.Birth = c.Birth.Format("2006-01-02")
			}
		}
		sort.Strings(s.KeyCategories)
	}
}

// normalizeDate accepts 1990-3-7, 1990/03/07, 1990.3.7, 19900307 and
// 1990年3月7日, and writes YYYY-MM-DD; anything else is left for Validate.
func normalizeDate(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r := strings.NewReplacer("/", "-", ".", "-", "年", "-", "月", "-", "日", "")
	t := r.Replace(s)
	if len(t) == 8 && strings.Trim(t, "0123456789") == "" {
		t = t[:4] + "-" + t[4:6] + "-" + t[6:]
	}
	if d, err := time.Parse("2006-1-2", t); err == nil {
		return d.Format("2006-01-02")
	}
	return s
}

// ArchiveChange is the body of an archive.change entry. Members carry no
// sensitive part here: it is in the entry's sealed part, by member id.
type ArchiveChange struct {
	Event      string      `json:"event"`
	Households []Household `json:"households,omitempty"`
	Members    []Person    `json:"members,omitempty"`
	From       string      `json:"from,omitempty"` // origin of a move: group or household
	To         string      `json:"to,omitempty"`   // destination: group, household, or another village by name
	Note       string      `json:"note,omitempty"`
}

// Reveal is the body of an archive.reveal entry: who (the entry's author)
// looked at whose unmasked data.
type Reveal struct {
	Household string   `json:"household,omitempty"`
	Person    string   `json:"person,omitempty"`
	Fields    []string `json:"fields"`          // id_number, phone
	Count     int      `json:"count,omitempty"` // export: how many people
	Purpose   string   `json:"purpose,omitempty"`
}

// DupDecision is the body of an archive.dup entry.
type DupDecision struct {
	Key      string `json:"key"`      // the duplicate's key (id:…, nb:…)
	Decision string `json:"decision"` // distinct | merged | reopened (an explicit reversal)
	Note     string `json:"note,omitempty"`
	// People and Households are the records the decision was made on; the
	// decision shows in each household's history.
	People     []string `json:"people,omitempty"`
	Households []string `json:"households,omitempty"`
}

// Duplicate decisions.
const (
	DupDistinct = "distinct" // 确认不是同一人
	DupMerged   = "merged"   // 已合并（多余的记录已误登注销）
	DupReopened = "reopened" // 撤销此前的处理
)

// DupLabels are the Chinese names of duplicate decisions.
var DupLabels = map[string]string{DupDistinct: "确认不是同一人", DupMerged: "已合并", DupReopened: "撤销处理，重新待审"}

// Duplicate is a possible duplicate on the review list.
type Duplicate struct {
	Key     string   // id:<number> or nb:<name>|<birth>
	Reason  string   // Chinese
	People  []Person // the records involved; those outside the reader's grids carry only their household's group
	Hidden  int      // how many records lie outside the reader's grids
	Decided string   // "" open, distinct, merged
	// Who decided, when and why (the last decision).
	DecidedBy   string
	DecidedAt   HLC
	DecidedNote string
}

// PersonFilter selects members for search; pointer or zero fields are "not given".
type PersonFilter struct {
	Query       string // name, pinyin, full ID or its last 4–6 characters, phone
	Scope       string // group code, village code or town/city prefix the searcher may see
	Group       string // one group
	Dibao       bool
	Away        bool
	Disabled    bool
	Alone80     bool // living alone, aged 80 or over
	KeyCategory string
	Limit       int
	On          time.Time // "today" for ages; zero: now
}

// PersonHit is a search answer: the member and their household.
type PersonHit struct {
	Person    Person
	Household Household
}

// GroupStats are the counts of one group.
type GroupStats struct {
	Group      string
	Households int64
	People     int64
	Dibao      int64
	Key        int64
	Away       int64
	Disabled   int64
	Alone      int64
	Ages       [AgeBands]int64 // by AgeBandLabels
	Pyramid    []PyramidRow    // 5-year bands, oldest first
}

// Add adds o's counts to g (for totals).
func (g *GroupStats) Add(o GroupStats) {
	g.Households += o.Households
	g.People += o.People
	g.Dibao += o.Dibao
	g.Key += o.Key
	g.Away += o.Away
	g.Disabled += o.Disabled
	g.Alone += o.Alone
	for i := range o.Ages {
		g.Ages[i] += o.Ages[i]
	}
}

// AgeBands and their labels for statistics.
const AgeBands = 5

var AgeBandLabels = [AgeBands]string{"0–17岁", "18–34岁", "35–59岁", "60–79岁", "80岁及以上"}

// AgeBand returns the band index of an age.
func AgeBand(age int) int {
	switch {
	case age < 18:
		return 0
	case age < 35:
		return 1
	case age < 60:
		return 2
	case age < 80:
		return 3
	}
	return 4
}

// PyramidRow is one 5-year band of an age pyramid.
type PyramidRow struct {
	Label        string
	Male, Female int64
}

// ScopePrefix is the prefix of group codes an account scoped to grid may see:
// a group sees itself, a village its groups, a town or city its villages.
func ScopePrefix(grid string) string {
	switch {
	case grid == "":
		return ""
	case strings.Contains(grid, "-"):
		return grid
	case strings.HasSuffix(grid, "00000000"):
		return grid[:4]
	case strings.HasSuffix(grid, "000"):
		return grid[:9]
	}
	return grid
}

// InScope reports whether group lies in the scope prefix.
func InScope(scope, group string) bool { return strings.HasPrefix(group, scope) }

// Labels for pages and sheets.
func (p Person) ResidenceLabel() string { return ResidenceLabels[p.Residence] }
func (p Person) LeftLabel() string      { return LeftLabels[p.Left] }

// HealthLabel is the Chinese health state, "未知" where the sealed part is not held.
func (p Person) HealthLabel() string {
	if p.Sensitive == nil {
		return "未知"
	}
	return HealthLabels[p.Sensitive.Health]
}

// Has reports whether the key-person categories include cat.
func (s *Sensitive) Has(cat string) bool {
	if s == nil {
		return false
	}
	return contains(s.KeyCategories, cat)
}

// Masked returns a copy for display with the phone masked.
func (h Household) Masked() Household {
	h.Phone = MaskPhone(h.Phone)
	return h
}

// ValidateNote checks a required short note (a reason, a decision's why).
func ValidateNote(field, label, s string) error { return requireText(field, label, s, 200) }
