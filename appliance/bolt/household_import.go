package bolt

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"gridbox/appliance"
)

// Row outcomes of an import.
const (
	OutcomeNew       = "new"       // a new person will be stored
	OutcomeUpdate    = "update"    // a stored person changes
	OutcomeUnchanged = "unchanged" // the sheet says what is stored
	OutcomeRefused   = "refused"   // the row has a fault of its own
	OutcomeHeld      = "held"      // the row is fine, its household is held (the head's row has a fault)
)

// OutcomeLabels are the Chinese names of row outcomes.
var OutcomeLabels = map[string]string{OutcomeNew: "新增", OutcomeUpdate: "更新", OutcomeUnchanged: "无变化", OutcomeRefused: "未导入", OutcomeHeld: "暂缓（待户主行修正）"}

// FieldChange is one field a re-import changes, masked where personal.
type FieldChange struct {
	Field string `json:"field"`
	Label string `json:"label"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// RowOutcome is what an import does with one row of the sheet.
type RowOutcome struct {
	Sheet     string                  `json:"sheet"`
	Row       int                     `json:"row"`
	Name      string                  `json:"name"`
	Status    string                  `json:"status"`
	Household string                  `json:"household,omitempty"` // the household as the sheet names it (户号 or head)
	Issues    []appliance.ImportIssue `json:"issues,omitempty"`
	Changes   []FieldChange           `json:"changes,omitempty"`
}

// StatusLabel is the outcome in Chinese.
func (o RowOutcome) StatusLabel() string { return OutcomeLabels[o.Status] }

// ImportItem is what an import does with one household of the sheet.
type ImportItem struct {
	Label     string        `json:"label"` // 户号 or the head's name
	Rows      []int         `json:"rows"`
	Sheet     string        `json:"sheet"`
	Head      string        `json:"head"`
	Group     string        `json:"group"`
	Action    string        `json:"action"` // new | update | unchanged | held
	Why       string        `json:"why,omitempty"`
	Household string        `json:"household,omitempty"`
	New       int           `json:"new_people"`
	Changed   int           `json:"changed_people"`
	Changes   []FieldChange `json:"changes,omitempty"` // of the household's own record
}

// ImportTotals count what the import will store and what it will not.
type ImportTotals struct {
	Rows                int `json:"rows"`    // person rows read
	Skipped             int `json:"skipped"` // title, totals and notes rows
	Households          int `json:"households"`
	NewHouseholds       int `json:"new_households"`
	UpdatedHouseholds   int `json:"updated_households"`
	UnchangedHouseholds int `json:"unchanged_households"`
	HeldHouseholds      int `json:"held_households"`
	People              int `json:"people"` // stored after the import: new, updated and unchanged
	NewPeople           int `json:"new_people"`
	UpdatedPeople       int `json:"updated_people"`
	UnchangedPeople     int `json:"unchanged_people"`
	RefusedRows         int `json:"refused_rows"`
	HeldRows            int `json:"held_rows"`
	Warnings            int `json:"warnings"` // rows stored with a warning
}

// ImportPlan is the dry run of an import: per row what happens and why,
// totals, and the changes that committing writes.
type ImportPlan struct {
	Sheets     []appliance.SheetReport `json:"sheets"`
	Totals     ImportTotals            `json:"totals"`
	Rows       []RowOutcome            `json:"rows"`
	Skipped    []appliance.SkippedRow  `json:"skipped"`
	Households []ImportItem            `json:"households"`
	changes    []appliance.ArchiveChange
	changeRows [][]int
	refused    []appliance.RefusedLine
}

// Refused returns the rows that did not go in, with their reasons, and the
// head rows their members need to find their household on a re-import.
func (p *ImportPlan) Refused() []appliance.RefusedLine { return p.refused }

// DryRunImport plans an import without writing anything.
func (s *Store) DryRunImport(sheet *appliance.ImportSheet, scope string) (ImportPlan, error) {
	var plan ImportPlan
	err := s.Read(func(tx *Tx) error {
		var err error
		plan, err = tx.planImport(s, sheet, scope)
		return err
	})
	return plan, err
}

// CommitImport plans the import again against the current archive and
// writes every household that can go in, in one transaction: all or
// nothing. Importing the same sheet twice changes nothing the second time.
// The column mapping the clerk confirmed (header → field) is remembered
// in the same step.
func (s *Store) CommitImport(ctx context.Context, author string, sheet *appliance.ImportSheet, scope string) (ImportPlan, error) {
	var plan ImportPlan
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		var err error
		if plan, err = tx.planImport(s, sheet, scope); err != nil {
			return nil, err
		}
		taken := map[string]string{}
		var drafts []appliance.Draft
		for i, ch := range plan.changes {
			d, err := tx.archiveDraft(author, ch, taken)
			if err != nil {
				// The plan checked every row; what is left is named by row.
				return nil, appliance.Errorf(appliance.ErrorCode(err), "第%v行：%s", plan.changeRows[i], appliance.ErrorMessage(err))
			}
			for _, m := range ch.Members {
				if n := m.IDNumber(); n != "" {
					taken[n] = m.ID
				}
			}
			drafts = append(drafts, d)
		}
		if m, err := tx.mappingChange(sheet); err != nil {
			return nil, err
		} else if len(m.Columns) > 0 {
			drafts = append(drafts, appliance.Draft{Author: author, Kind: appliance.KindImportMapping, Version: 1, Body: m})
		}
		return drafts, nil
	})
	return plan, err
}

// mappingChange is what the sheet's confirmed mapping changes in the
// remembered one: the columns a clerk chose, by normalised header.
func (tx *Tx) mappingChange(sheet *appliance.ImportSheet) (appliance.ImportMapping, error) {
	m := appliance.ImportMapping{Columns: map[string]string{}}
	for _, sh := range sheet.Sheets {
		for _, c := range sh.Columns {
			h := appliance.NormalizeHeader(c.Header)
			if c.Source != appliance.SourceChosen || h == "" {
				continue
			}
			var old string
			if ok, err := tx.LWWJSON(bucketImportMap, h, &old); err != nil {
				return m, err
			} else if ok && old == c.Field {
				continue
			}
			m.Columns[h] = c.Field
		}
	}
	return m, nil
}

// ImportMapping returns the remembered column mapping: normalised header → field.
func (s *Store) ImportMapping() (map[string]string, error) {
	out := map[string]string{}
	err := s.Read(func(tx *Tx) error {
		return tx.EachLWW(bucketImportMap, "", func(k string, v []byte) error {
			var f string
			if json.Unmarshal(v, &f) == nil && f != "" {
				out[k] = f
			}
			return nil
		})
	})
	return out, err
}

// RememberImportMapping records a clerk's mapping (header → field; an empty
// field forgets the header) for the next imports.
func (s *Store) RememberImportMapping(ctx context.Context, author string, m appliance.ImportMapping) error {
	if err := m.Validate(); err != nil {
		return err
	}
	_, err := s.Append(ctx, appliance.Draft{Author: author, Kind: appliance.KindImportMapping, Version: 1, Body: m})
	return err
}

// importHousehold is one household of the sheet during planning.
type importHousehold struct {
	key  string
	rows []int // indexes into sheet.Rows
}

func (tx *Tx) planImport(s *Store, sheet *appliance.ImportSheet, scope string) (ImportPlan, error) {
	plan := ImportPlan{Sheets: sheet.Sheets, Skipped: sheet.Skipped, Rows: []RowOutcome{}, Households: []ImportItem{}}
	if plan.Skipped == nil {
		plan.Skipped = []appliance.SkippedRow{}
	}
	rows := make([]appliance.ImportRow, len(sheet.Rows))
	copy(rows, sheet.Rows)
	for i := range rows {
		rows[i].Issues = append([]appliance.ImportIssue(nil), rows[i].Issues...)
		if rows[i].Person.Sensitive != nil {
			sens := *rows[i].Person.Sensitive
			rows[i].Person.Sensitive = &sens
		}
	}
	status := make([]string, len(rows))
	changes := make([][]FieldChange, len(rows))
	label := make([]string, len(rows))
	refuse := func(i int, code, field, format string, args ...any) {
		col := field
		for _, sh := range sheet.Sheets {
			for _, c := range sh.Columns {
				if sh.Name == rows[i].Sheet && c.Field == field {
					col = c.Header
				}
			}
		}
		if col == field {
			col = appliance.ImportFieldLabel(field)
		}
		rows[i].Issues = append(rows[i].Issues, appliance.ImportIssue{Code: code, Field: field, Column: col, Message: fmt.Sprintf(format, args...), Level: appliance.LevelError})
	}
	// Scope, and the same ID number twice in the sheet: the first row keeps it.
	seen := map[string]int{}
	for i := range rows {
		r := &rows[i]
		if r.Group != "" && !appliance.InScope(scope, r.Group) {
			refuse(i, "out_of_scope", "group", "不是您负责的网格，不能导入")
		}
		if n := r.Person.IDNumber(); n != "" && !r.Refused() {
			if j, dup := seen[n]; dup {
				refuse(i, "duplicate_id", "id_number", "身份证号与%s第%d行（%s）重复：同一人只能登记一次", sheetPrefix(sheet, rows[j].Sheet), rows[j].Row, rows[j].Person.Name)
			} else {
				seen[n] = i
			}
		}
	}
	var hhs []*importHousehold
	byKey := map[string]*importHousehold{}
	for i := range rows {
		k := rows[i].Key
		if k == "" {
			continue
		}
		h := byKey[k]
		if h == nil {
			h = &importHousehold{key: k}
			byKey[k] = h
			hhs = append(hhs, h)
		}
		h.rows = append(h.rows, i)
	}
	sheetNos := map[string]map[string]string{} // group → 户号 → open household
	for _, hh := range hhs {
		item := ImportItem{Sheet: rows[hh.rows[0]].Sheet}
		var heads, badHeads []int
		for _, i := range hh.rows {
			item.Rows = append(item.Rows, rows[i].Row)
			if rows[i].IsHead {
				if rows[i].Refused() {
					badHeads = append(badHeads, i)
				} else {
					heads = append(heads, i)
				}
			}
		}
		first := rows[hh.rows[0]]
		item.Label = first.SheetNo
		if item.Label == "" {
			item.Label = first.HeadName
		}
		if len(heads) > 0 {
			item.Head, item.Group = rows[heads[0]].Person.Name, rows[heads[0]].Group
			if item.Label == "" {
				item.Label = item.Head + "户"
			}
		}
		if item.Group == "" {
			item.Group = first.Group
		}
		for _, i := range hh.rows {
			label[i] = item.Label
		}
		// Which stored household is this? By 档案户编号, the group's 户号,
		// or the head's or a member's ID number. The 户号 comes before the
		// people: someone registered in another household is then named
		// as such, not carried along.
		var h appliance.Household
		existing := false
		find := func(hid string) error {
			if existing || hid == "" {
				return nil
			}
			x, ok, err := tx.Household(hid)
			if err != nil || !ok || x.Closed != "" || !appliance.InScope(scope, x.Group) {
				return err
			}
			h, existing = x, true
			return nil
		}
		if err := find(first.HouseID); err != nil {
			return plan, err
		}
		if !existing && first.SheetNo != "" && item.Group != "" {
			m, ok := sheetNos[item.Group]
			if !ok {
				var err error
				if m, err = tx.sheetNos(item.Group); err != nil {
					return plan, err
				}
				sheetNos[item.Group] = m
			}
			if err := find(m[first.SheetNo]); err != nil {
				return plan, err
			}
		}
		for _, i := range append(append([]int{}, heads...), hh.rows...) {
			if n := rows[i].Person.IDNumber(); n != "" && !rows[i].Refused() {
				if p, ok, err := tx.PersonByIDNumber(n); err != nil {
					return plan, err
				} else if ok {
					if err := find(p.Household); err != nil {
						return plan, err
					}
				}
			}
		}
		// A household goes in with exactly one good head row, or, when it
		// is stored already, under its stored head.
		held := ""
		switch {
		case len(badHeads) > 0:
			b := rows[badHeads[0]]
			held = fmt.Sprintf("本户户主（第%d行）有误未能导入，本户其他成员暂缓：修正户主行后与本户一起重新导入", b.Row)
		case len(heads) > 1:
			for _, i := range heads {
				refuse(i, "two_heads", "relation", "同一户有%d位户主（第%s行）：请只保留一位户主", len(heads), rowList(rows, heads))
			}
			held = "同一户有两位户主，本户暂缓：改正后重新导入"
		case len(heads) == 0 && !existing:
			held = "本户没有户主行：请补上户主行（与户主关系填“户主”）后重新导入"
		case len(heads) == 1 && existing:
			if p, ok, _ := tx.Person(h.Head); ok && p.Active() && rows[heads[0]].Person.IDNumber() != "" && p.IDNumber() != rows[heads[0]].Person.IDNumber() {
				refuse(heads[0], "head_changed", "relation", "档案中本户户主是%s：更换户主请在户页面用“变更户主”，不在导入中进行", p.Name)
				held = "本户户主与档案不一致，本户暂缓"
			}
		}
		usable := 0
		for _, i := range hh.rows {
			if !rows[i].Refused() {
				usable++
			}
		}
		if held != "" && usable == 0 {
			// Nobody waits: the household's only rows are refused.
			for _, i := range hh.rows {
				status[i] = OutcomeRefused
			}
			item.Action, item.Why = "refused", "本户各行都未能导入"
			plan.Households = append(plan.Households, item)
			continue
		}
		if held != "" {
			item.Action, item.Why = "held", held
			for _, i := range hh.rows {
				if !rows[i].Refused() {
					status[i] = OutcomeHeld
					rows[i].Issues = append(rows[i].Issues, appliance.ImportIssue{Code: "household_held", Message: held, Level: appliance.LevelWarning})
				} else {
					status[i] = OutcomeRefused
				}
			}
			plan.Totals.HeldHouseholds++
			plan.Households = append(plan.Households, item)
			continue
		}
		if !existing {
			h = appliance.Household{ID: s.NewRecordID("h"), Group: item.Group}
		}
		cur, err := tx.Members(h.ID)
		if err != nil {
			return plan, err
		}
		ch := appliance.ArchiveChange{Event: appliance.EventImport}
		nh := h
		if len(heads) == 1 {
			hr := rows[heads[0]]
			nh.Group = hr.Group
			setIf(&nh.Address, hr.Address)
			setIf(&nh.HouseNo, hr.HouseNo)
			setIf(&nh.SheetNo, hr.SheetNo)
		} else {
			setIf(&nh.SheetNo, first.SheetNo)
		}
		for _, i := range hh.rows {
			r := &rows[i]
			if r.Refused() {
				status[i] = OutcomeRefused
				continue
			}
			p := r.Person
			var old *appliance.Person
			if n := p.IDNumber(); n != "" {
				if q, ok, err := tx.PersonByIDNumber(n); err != nil {
					return plan, err
				} else if ok {
					if q.Household != h.ID {
						oh, _, _ := tx.Household(q.Household)
						if appliance.InScope(scope, oh.Group) {
							refuse(i, "id_in_other_household", "id_number", "此人已登记在%s户（%s）：同一人转户请在系统中用“迁移”", headName(tx, oh), groupLabel(tx, oh.Group))
						} else {
							// Whose household it is lies outside the importer's grids.
							refuse(i, "id_in_other_household", "id_number", "此人已登记在您负责网格以外的户中：请与村里核实后再办理")
						}
						status[i] = OutcomeRefused
						continue
					}
					old = &q
				}
			}
			if old == nil {
				for j := range cur {
					c := cur[j]
					if !c.Active() || c.Name != p.Name {
						continue
					}
					if c.Birth == p.Birth && p.Birth != "" || p.NoID && c.IDNumber() == "" {
						old = &cur[j]
						break
					}
				}
			}
			if old == nil && existing && appliance.IsHead(p.Relation) {
				refuse(i, "head_changed", "relation", "档案中本户已有户主：更换户主请在户页面用“变更户主”")
				status[i] = OutcomeRefused
				continue
			}
			if old != nil {
				merged := mergeImported(*old, p, r.Said)
				if old.ID == h.Head {
					merged.Relation, merged.RelationCode = old.Relation, old.RelationCode
					if appliance.IsHead(p.Relation) {
						merged.Relation, merged.RelationCode = p.Relation, p.RelationCode
					}
				}
				if appliance.IsHead(p.Relation) {
					nh.Head = old.ID
				}
				if samePerson(*old, merged) {
					status[i] = OutcomeUnchanged
					plan.Totals.UnchangedPeople++
					continue
				}
				changes[i] = personChanges(*old, merged)
				ch.Members = append(ch.Members, merged)
				item.Changed++
				status[i] = OutcomeUpdate
				plan.Totals.UpdatedPeople++
				continue
			}
			p.ID, p.Household = s.NewRecordID("p"), h.ID
			if appliance.IsHead(p.Relation) {
				nh.Head = p.ID
			}
			ch.Members = append(ch.Members, p)
			item.New++
			status[i] = OutcomeNew
			plan.Totals.NewPeople++
		}
		if nh.Head == "" {
			// Every head row was refused above for its own fault.
			item.Action, item.Why = "held", "本户户主行未能导入，本户暂缓"
			for _, i := range hh.rows {
				switch status[i] {
				case OutcomeNew:
					plan.Totals.NewPeople--
				case OutcomeUpdate:
					plan.Totals.UpdatedPeople--
				case OutcomeUnchanged:
					plan.Totals.UnchangedPeople--
				}
				if status[i] != OutcomeRefused {
					status[i] = OutcomeHeld
				}
			}
			plan.Totals.HeldHouseholds++
			plan.Households = append(plan.Households, item)
			continue
		}
		item.Household = h.ID
		if !existing || !reflect.DeepEqual(nh, h) {
			ch.Households = []appliance.Household{nh}
			if existing {
				item.Changes = householdChanges(tx, h, nh)
			}
		}
		switch {
		case !existing:
			item.Action = "new"
			plan.Totals.NewHouseholds++
		case len(ch.Members) == 0 && len(ch.Households) == 0:
			item.Action = "unchanged"
			plan.Totals.UnchangedHouseholds++
		default:
			item.Action = "update"
			plan.Totals.UpdatedHouseholds++
		}
		plan.Households = append(plan.Households, item)
		if len(ch.Members) > 0 || len(ch.Households) > 0 {
			plan.changes = append(plan.changes, ch)
			plan.changeRows = append(plan.changeRows, item.Rows)
		}
	}
	// Outcomes in sheet order; refused rows and held ones go to the
	// download, with the head rows their members need on a re-import.
	needHead := map[string]bool{}
	for i := range rows {
		r := rows[i]
		if status[i] == "" || r.Refused() {
			status[i] = OutcomeRefused
		}
		o := RowOutcome{Sheet: r.Sheet, Row: r.Row, Name: r.Person.Name, Status: status[i], Household: label[i], Issues: r.Issues, Changes: changes[i]}
		plan.Rows = append(plan.Rows, o)
		switch status[i] {
		case OutcomeRefused:
			plan.Totals.RefusedRows++
			plan.refused = append(plan.refused, appliance.RefusedLine{Row: r, Reason: reasonText(r.Issues)})
			if r.HeadRow > 0 && r.SheetNo == "" && r.HouseID == "" {
				needHead[r.Key] = true
			}
		case OutcomeHeld:
			plan.Totals.HeldRows++
			plan.refused = append(plan.refused, appliance.RefusedLine{Row: r, Reason: reasonText(r.Issues)})
		default:
			for _, is := range r.Issues {
				if is.Level == appliance.LevelWarning {
					plan.Totals.Warnings++
					break
				}
			}
		}
	}
	for i := range rows {
		if rows[i].IsHead && needHead[rows[i].Key] && (status[i] == OutcomeNew || status[i] == OutcomeUpdate || status[i] == OutcomeUnchanged) {
			plan.refused = append(plan.refused, appliance.RefusedLine{Row: rows[i], Reason: "（户主行已导入，留在此处供本户成员归户，无需修改）"})
		}
	}
	t := &plan.Totals
	t.Rows, t.Skipped = len(rows), len(sheet.Skipped)
	t.Households = t.NewHouseholds + t.UpdatedHouseholds + t.UnchangedHouseholds
	t.People = t.NewPeople + t.UpdatedPeople + t.UnchangedPeople
	return plan, nil
}

func sheetPrefix(sheet *appliance.ImportSheet, name string) string {
	n := 0
	for _, s := range sheet.Sheets {
		if s.Read {
			n++
		}
	}
	if n > 1 {
		return "工作表“" + name + "”"
	}
	return ""
}

func rowList(rows []appliance.ImportRow, idx []int) string {
	var parts []string
	for _, i := range idx {
		parts = append(parts, fmt.Sprint(rows[i].Row))
	}
	return strings.Join(parts, "、")
}

// reasonText joins a row's issues for the reason column, errors first.
func reasonText(issues []appliance.ImportIssue) string {
	var errs, warns []string
	for _, is := range issues {
		s := is.Message
		if is.Column != "" && is.Level == appliance.LevelError {
			s = is.Column + "：" + s
		}
		if is.Level == appliance.LevelError {
			errs = append(errs, s)
		} else if is.Code == "household_held" {
			warns = append(warns, s)
		}
	}
	return strings.Join(append(errs, warns...), "；")
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// sheetNos maps the 户号 of a group's open households to their ids.
func (tx *Tx) sheetNos(group string) (map[string]string, error) {
	out := map[string]string{}
	c := tx.Bucket(bucketHHGroup).Cursor()
	p := []byte(group + "/")
	for k, _ := c.Seek(p); k != nil && strings.HasPrefix(string(k), string(p)); k, _ = c.Next() {
		h, ok, err := tx.Household(string(k[len(p):]))
		if err != nil {
			return nil, err
		} else if ok && h.SheetNo != "" {
			out[h.SheetNo] = h.ID
		}
	}
	return out, nil
}

// mergeImported lays the sheet's values over a stored record: cells the
// sheet leaves empty (said has no such field) keep what is stored.
func mergeImported(old, p appliance.Person, said map[string]bool) appliance.Person {
	m := old
	m.Name = p.Name
	if said["relation"] || p.Relation != "其他" {
		m.Relation, m.RelationCode = p.Relation, p.RelationCode
	}
	setIf(&m.Gender, p.Gender)
	setIf(&m.Birth, p.Birth)
	setIf(&m.Phone, p.Phone)
	setIf(&m.Employment, p.Employment)
	setIf(&m.InsuranceScheme, p.InsuranceScheme)
	setIf(&m.ResidenceSince, p.ResidenceSince)
	m.NoID = p.NoID && old.IDNumber() == ""
	if said["residence"] || said["residence_where"] {
		m.Residence, m.ResidenceWhere = p.Residence, p.ResidenceWhere
	}
	if said["dibao"] {
		m.Dibao = p.Dibao
	}
	if said["insurance"] {
		m.Insured = p.Insured
	}
	if p.Sensitive != nil {
		s := appliance.Sensitive{}
		if old.Sensitive != nil {
			s = *old.Sensitive
		}
		ps := p.Sensitive
		setIf(&s.IDNumber, ps.IDNumber)
		setIf(&s.Health, ps.Health)
		setIf(&s.DisabilityGrade, ps.DisabilityGrade)
		setIf(&s.DibaoCategory, ps.DibaoCategory)
		setIf(&s.Note, ps.Note)
		if len(ps.KeyCategories) > 0 {
			s.KeyCategories = ps.KeyCategories
		}
		if len(ps.Sheet) > 0 {
			merged := map[string]string{}
			for k, v := range s.Sheet {
				merged[k] = v
			}
			for k, v := range ps.Sheet {
				merged[k] = v
			}
			s.Sheet = merged
		}
		m.Sensitive = &s
	}
	return m
}

func samePerson(a, b appliance.Person) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// personChanges lists what a re-import changes in a person, masked.
func personChanges(a, b appliance.Person) []FieldChange {
	var out []FieldChange
	add := func(field, label, x, y string) {
		if x != y {
			out = append(out, FieldChange{field, label, x, y})
		}
	}
	yn := func(v bool) string {
		if v {
			return "是"
		}
		return "否"
	}
	sa, sb := a.Sensitive, b.Sensitive
	if sa == nil {
		sa = &appliance.Sensitive{}
	}
	if sb == nil {
		sb = &appliance.Sensitive{}
	}
	add("name", "姓名", a.Name, b.Name)
	add("id_number", "身份证号", appliance.MaskCitizenID(sa.IDNumber), appliance.MaskCitizenID(sb.IDNumber))
	add("gender", "性别", a.Gender, b.Gender)
	add("birth_date", "出生日期", a.Birth, b.Birth)
	add("relation", "与户主关系", a.Relation, b.Relation)
	add("phone", "联系电话", appliance.MaskPhone(a.Phone), appliance.MaskPhone(b.Phone))
	add("residence", "居住状态", a.ResidenceLabel(), b.ResidenceLabel())
	add("residence_where", "外出务工地点", a.ResidenceWhere, b.ResidenceWhere)
	add("dibao", "是否低保", yn(a.Dibao), yn(b.Dibao))
	add("insurance", "医保类型", a.InsuranceScheme, b.InsuranceScheme)
	add("health", "健康状况", appliance.HealthLabels[sa.Health], appliance.HealthLabels[sb.Health])
	add("disability_grade", "残疾等级", sa.DisabilityGrade, sb.DisabilityGrade)
	add("key_categories", "重点人员类别", strings.Join(sa.KeyCategories, "、"), strings.Join(sb.KeyCategories, "、"))
	add("employment", "就业情况", a.Employment, b.Employment)
	add("note", "备注", sa.Note, sb.Note)
	keys := map[string]bool{}
	for k := range sa.Sheet {
		keys[k] = true
	}
	for k := range sb.Sheet {
		keys[k] = true
	}
	for _, k := range sortedKeys(keys) {
		add("sheet", k, sa.Sheet[k], sb.Sheet[k])
	}
	if len(out) == 0 {
		out = append(out, FieldChange{"other", "其他", "", "已更新"})
	}
	return out
}

func householdChanges(tx *Tx, a, b appliance.Household) []FieldChange {
	var out []FieldChange
	add := func(field, label, x, y string) {
		if x != y {
			out = append(out, FieldChange{field, label, x, y})
		}
	}
	add("group", "组别", groupLabel(tx, a.Group), groupLabel(tx, b.Group))
	add("sheet_no", "户号", a.SheetNo, b.SheetNo)
	add("address", "住址", a.Address, b.Address)
	add("house_no", "门牌号", a.HouseNo, b.HouseNo)
	return out
}

// ExportRows returns the active members of the open households in scope,
// household by household, head first.
func (s *Store) ExportRows(scope string) ([]appliance.ExportRow, error) {
	var out []appliance.ExportRow
	err := s.Read(func(tx *Tx) error {
		names := map[string]string{}
		c := tx.Bucket(bucketHHGroup).Cursor()
		p := []byte(scope)
		for k, _ := c.Seek(p); k != nil && len(k) >= len(p) && string(k[:len(p)]) == scope; k, _ = c.Next() {
			i := lastSlash(k)
			h, ok, err := tx.Household(string(k[i+1:]))
			if err != nil {
				return err
			} else if !ok {
				continue
			}
			if _, ok := names[h.Group]; !ok {
				names[h.Group] = groupLabel(tx, h.Group)
			}
			ms, err := tx.Members(h.ID)
			if err != nil {
				return err
			}
			for _, m := range ms {
				if m.Active() {
					out = append(out, appliance.ExportRow{Household: h, GroupName: names[h.Group], Person: m})
				}
			}
		}
		return nil
	})
	return out, err
}

func lastSlash(k []byte) int {
	for i := len(k) - 1; i >= 0; i-- {
		if k[i] == '/' {
			return i
		}
	}
	return -1
}
