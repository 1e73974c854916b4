package bolt

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"

	"gridbox/appliance"
)

// ImportItem is what an import does to one household of the sheet.
type ImportItem struct {
	Rows      []int  `json:"rows"`
	Head      string `json:"head"`
	Group     string `json:"group"`
	Action    string `json:"action"` // 新建 / 更新 / 无变化
	Household string `json:"household,omitempty"`
	New       int    `json:"new_people"`
	Changed   int    `json:"changed_people"`
}

// ImportPlan is the dry run of an import: what would be refused, created and
// changed. Committing writes exactly the changes planned.
type ImportPlan struct {
	Sheet         string                    `json:"sheet"`
	Ignored       []string                  `json:"ignored_sheets,omitempty"`
	Total         int                       `json:"rows"`
	Accepted      int                       `json:"accepted_rows"`
	Problems      []appliance.ImportProblem `json:"problems"`
	NewHouseholds int                       `json:"new_households"`
	NewPeople     int                       `json:"new_people"`
	ChangedPeople int                       `json:"changed_people"`
	Unchanged     int                       `json:"unchanged_people"`
	Items         []ImportItem              `json:"households"`
	changes       []appliance.ArchiveChange
}

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
// writes every accepted household in one transaction: all or nothing.
// Importing the same sheet twice changes nothing the second time.
func (s *Store) CommitImport(ctx context.Context, author string, sheet *appliance.ImportSheet, scope string) (ImportPlan, error) {
	var plan ImportPlan
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		var err error
		if plan, err = tx.planImport(s, sheet, scope); err != nil {
			return nil, err
		}
		taken := map[string]string{}
		var drafts []appliance.Draft
		for _, ch := range plan.changes {
			d, err := tx.archiveDraft(author, ch, taken)
			if err != nil {
				return nil, err
			}
			for _, m := range ch.Members {
				if n := m.IDNumber(); n != "" {
					taken[n] = m.ID
				}
			}
			drafts = append(drafts, d)
		}
		return drafts, nil
	})
	return plan, err
}

func (tx *Tx) planImport(s *Store, sheet *appliance.ImportSheet, scope string) (ImportPlan, error) {
	plan := ImportPlan{Sheet: sheet.Sheet, Ignored: sheet.Ignored, Total: sheet.Total, Problems: append([]appliance.ImportProblem{}, sheet.Problems...)}
	var keys []string
	byKey := map[string][]appliance.ImportRow{}
	for _, r := range sheet.Rows {
		if !appliance.InScope(scope, r.Group) {
			plan.Problems = append(plan.Problems, appliance.ImportProblem{Row: r.Row, Column: "组别", Message: "不是您负责的网格"})
			continue
		}
		if _, ok := byKey[r.Key]; !ok {
			keys = append(keys, r.Key)
		}
		byKey[r.Key] = append(byKey[r.Key], r)
	}
	refuse := func(rows []appliance.ImportRow, col, msg string) {
		for _, r := range rows {
			plan.Problems = append(plan.Problems, appliance.ImportProblem{Row: r.Row, Column: col, Message: msg})
		}
	}
	for _, key := range keys {
		rows := byKey[key]
		var head *appliance.ImportRow
		for i := range rows {
			if rows[i].Person.Relation == appliance.RelationHead {
				if head != nil {
					refuse(rows, "与户主关系", "同一户有两位户主，本户未导入")
					head = nil
					goto next
				}
				head = &rows[i]
			}
		}
		if head == nil {
			refuse(rows, "与户主关系", "本户没有户主行（或户主行有误），本户未导入")
			continue
		}
		{
			item := ImportItem{Head: head.Person.Name, Group: head.Group}
			// Find the household: the one the head (by ID number) is in already.
			var h appliance.Household
			existing := false
			if n := head.Person.IDNumber(); n != "" {
				if p, ok, err := tx.PersonByIDNumber(n); err != nil {
					return plan, err
				} else if ok {
					if h, existing, err = tx.Household(p.Household); err != nil {
						return plan, err
					}
				}
			}
			if !existing {
				h = appliance.Household{ID: s.NewRecordID("h"), Group: head.Group}
			}
			cur, err := tx.Members(h.ID)
			if err != nil {
				return plan, err
			}
			ch := appliance.ArchiveChange{Event: appliance.EventImport}
			nh := h
			nh.Group = head.Group
			if head.Address != "" {
				nh.Address = head.Address
			}
			if head.HouseNo != "" {
				nh.HouseNo = head.HouseNo
			}
			if nh.Address == "" {
				refuse(rows, "住址", "户主行的住址为空，本户未导入")
				continue
			}
			var bad bool
			for _, r := range rows {
				p := r.Person
				var old *appliance.Person
				if n := p.IDNumber(); n != "" {
					if q, ok, err := tx.PersonByIDNumber(n); err != nil {
						return plan, err
					} else if ok {
						if q.Household != h.ID {
							plan.Problems = append(plan.Problems, appliance.ImportProblem{Row: r.Row, Column: "身份证号", Message: "此人已登记在其他户，请在系统中用“迁移”转户"})
							bad = true
							continue
						}
						old = &q
					}
				}
				if old == nil {
					for i := range cur {
						if cur[i].Active() && cur[i].Name == p.Name && cur[i].Birth == p.Birth {
							old = &cur[i]
						}
					}
				}
				if old != nil {
					merged := mergeImported(*old, p)
					if samePerson(*old, merged) {
						plan.Unchanged++
						if old.ID == h.Head || p.Relation == appliance.RelationHead {
							nh.Head = old.ID
						}
						continue
					}
					ch.Members = append(ch.Members, merged)
					item.Changed++
					if p.Relation == appliance.RelationHead {
						nh.Head = old.ID
					}
				} else {
					p.ID, p.Household = s.NewRecordID("p"), h.ID
					ch.Members = append(ch.Members, p)
					item.New++
					if p.Relation == appliance.RelationHead {
						nh.Head = p.ID
					}
				}
			}
			_ = bad
			for _, r := range rows {
				item.Rows = append(item.Rows, r.Row)
			}
			plan.Accepted += len(rows)
			if !existing || !reflect.DeepEqual(nh, h) {
				ch.Households = []appliance.Household{nh}
			}
			item.Household = h.ID
			switch {
			case !existing:
				item.Action = "新建"
				plan.NewHouseholds++
			case len(ch.Members) == 0 && len(ch.Households) == 0:
				item.Action = "无变化"
			default:
				item.Action = "更新"
			}
			plan.NewPeople += item.New
			plan.ChangedPeople += item.Changed
			plan.Items = append(plan.Items, item)
			if len(ch.Members) > 0 || len(ch.Households) > 0 {
				plan.changes = append(plan.changes, ch)
			}
		}
	next:
	}
	sort.SliceStable(plan.Problems, func(i, j int) bool { return plan.Problems[i].Row < plan.Problems[j].Row })
	// Rows refused above were counted as accepted with their household.
	refused := map[int]bool{}
	for _, p := range plan.Problems {
		refused[p.Row] = true
	}
	plan.Accepted = sheet.Total - len(refused)
	if plan.Accepted < 0 {
		plan.Accepted = 0
	}
	return plan, nil
}

// mergeImported lays the sheet's values over a stored record: cells the
// sheet leaves empty keep what is stored.
func mergeImported(old, p appliance.Person) appliance.Person {
	m := old
	m.Name, m.Gender, m.Birth, m.Relation = p.Name, p.Gender, p.Birth, p.Relation
	if p.Phone != "" {
		m.Phone = p.Phone
	}
	if p.Employment != "" {
		m.Employment = p.Employment
	}
	m.Residence = p.Residence
	if p.ResidenceWhere != "" || p.Residence != appliance.ResidenceAway {
		m.ResidenceWhere = p.ResidenceWhere
	}
	m.Dibao, m.Insured = p.Dibao, p.Insured || old.Insured
	if p.Sensitive != nil {
		s := appliance.Sensitive{}
		if old.Sensitive != nil {
			s = *old.Sensitive
		}
		if p.Sensitive.IDNumber != "" {
			s.IDNumber = p.Sensitive.IDNumber
		}
		if p.Sensitive.Health != "" {
			s.Health = p.Sensitive.Health
		}
		if p.Sensitive.DisabilityGrade != "" {
			s.DisabilityGrade = p.Sensitive.DisabilityGrade
		}
		if len(p.Sensitive.KeyCategories) > 0 {
			s.KeyCategories = p.Sensitive.KeyCategories
		}
		if p.Sensitive.Note != "" {
			s.Note = p.Sensitive.Note
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
