package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gridbox/appliance"
)

// NewRecordID returns a new record id, unique across nodes: prefix, the
// feed's short id and the HLC time in base 36.
func (s *Store) NewRecordID(prefix string) string {
	return prefix + s.Feed().Short()[:6] + strconv.FormatUint(uint64(s.clock.Next()), 36)
}

// Household reads a household inside a transaction.
func (tx *Tx) Household(id string) (appliance.Household, bool, error) {
	var h appliance.Household
	ok, err := tx.LWWJSON(bucketHouseholds, id, &h)
	return h, ok, err
}

// Person reads a member inside a transaction.
func (tx *Tx) Person(id string) (appliance.Person, bool, error) {
	var p appliance.Person
	ok, err := tx.LWWJSON(bucketPeople, id, &p)
	if err != nil || !ok {
		return p, ok, err
	}
	p.RelationCode, _ = appliance.RelationCode(p.Relation) // entries before the codes carry none
	var slot sensSlot
	if _, err := tx.LWWJSON(bucketPSens, id, &slot); err != nil {
		return p, false, err
	}
	p.Sensitive = nil
	if slot.Known {
		p.Sensitive = slot.S
		if p.Sensitive == nil {
			p.Sensitive = &appliance.Sensitive{}
		}
	}
	return p, true, nil
}

// Members returns a household's members, current ones first (head first,
// then oldest first), former ones after.
func (tx *Tx) Members(hid string) ([]appliance.Person, error) {
	h, _, err := tx.Household(hid)
	if err != nil {
		return nil, err
	}
	pids, err := tx.memberIDs(hid)
	if err != nil {
		return nil, err
	}
	var out []appliance.Person
	for _, id := range pids {
		p, ok, err := tx.Person(id)
		if err != nil {
			return nil, err
		} else if ok && p.Household == hid {
			out = append(out, p)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Active() != b.Active() {
			return a.Active()
		}
		if (a.ID == h.Head) != (b.ID == h.Head) {
			return a.ID == h.Head
		}
		if a.Birth != b.Birth {
			return a.Birth < b.Birth
		}
		return a.ID < b.ID
	})
	return out, nil
}

// Household returns a household and its members.
func (s *Store) Household(id string) (appliance.Household, []appliance.Person, error) {
	var h appliance.Household
	var ms []appliance.Person
	err := s.Read(func(tx *Tx) error {
		var ok bool
		var err error
		if h, ok, err = tx.Household(id); err != nil {
			return err
		} else if !ok {
			return appliance.Errorf(appliance.ENOTFOUND, "该户不存在")
		}
		ms, err = tx.Members(id)
		return err
	})
	return h, ms, err
}

// Person returns one member.
func (s *Store) Person(id string) (appliance.Person, error) {
	var p appliance.Person
	err := s.Read(func(tx *Tx) error {
		var ok bool
		var err error
		if p, ok, err = tx.Person(id); err == nil && !ok {
			err = appliance.Errorf(appliance.ENOTFOUND, "该成员不存在")
		}
		return err
	})
	return p, err
}

// ChangeArchive checks a change against the archive and appends it as one
// entry. fn builds the change from the current state inside the write
// transaction, so nothing can slip in between reading and writing.
func (s *Store) ChangeArchive(ctx context.Context, author string, fn func(tx *Tx) (appliance.ArchiveChange, error)) (appliance.ArchiveChange, error) {
	var out appliance.ArchiveChange
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		ch, err := fn(tx)
		if err != nil {
			return nil, err
		}
		d, err := tx.ArchiveDraft(author, ch)
		if err != nil {
			return nil, err
		}
		out = ch
		return []appliance.Draft{d}, nil
	})
	return out, err
}

// ArchiveDraft validates a change against the views and returns its draft:
// sensitive parts go into the sealed part, by member id.
func (tx *Tx) ArchiveDraft(author string, ch appliance.ArchiveChange) (appliance.Draft, error) {
	return tx.archiveDraft(author, ch, nil)
}

// archiveDraft is ArchiveDraft; taken holds ID numbers claimed by earlier
// drafts of the same write (imports), which the views cannot see yet.
func (tx *Tx) archiveDraft(author string, ch appliance.ArchiveChange, taken map[string]string) (appliance.Draft, error) {
	if _, ok := appliance.EventLabels[ch.Event]; !ok {
		return appliance.Draft{}, appliance.FieldError("event", "未知的变更类型")
	}
	if len(ch.Households) == 0 && len(ch.Members) == 0 {
		return appliance.Draft{}, appliance.Errorf(appliance.EINVALID, "没有要保存的内容")
	}
	hh := map[string]appliance.Household{}
	for _, h := range ch.Households {
		if err := h.Validate(); err != nil {
			return appliance.Draft{}, err
		}
		if g, ok, err := tx.Grid(h.Group); err != nil {
			return appliance.Draft{}, err
		} else if !ok || g.Level != appliance.LevelGroup {
			return appliance.Draft{}, appliance.FieldError("group", "所在村民组（网格）不存在")
		}
		hh[h.ID] = h
	}
	changed := map[string]appliance.Person{}
	ids := map[string]string{}
	for i := range ch.Members {
		m := &ch.Members[i]
		m.Normalize()
		if err := m.Validate(); err != nil {
			return appliance.Draft{}, err
		}
		home, ok := hh[m.Household]
		if !ok {
			var err error
			if home, ok, err = tx.Household(m.Household); err != nil {
				return appliance.Draft{}, err
			} else if !ok {
				return appliance.Draft{}, appliance.FieldError("household", "成员所属的户不存在")
			}
		}
		// A closed household takes no member: they would count nowhere
		// and be found by no search.
		if home.Closed != "" && m.Active() {
			return appliance.Draft{}, &appliance.Error{Code: appliance.ECONFLICT, Field: "household", Reason: "household_closed",
				Message: fmt.Sprintf("该户已注销（%s），不能再有成员；请新建户或迁入其他户", home.Closed)}
		}
		changed[m.ID] = *m
		if n := m.IDNumber(); n != "" && m.Active() {
			if other, ok := ids[n]; ok && other != m.ID {
				return appliance.Draft{}, appliance.FieldError("id_number", "身份证号 %s 在本次提交中重复", appliance.MaskCitizenID(n))
			}
			ids[n] = m.ID
		}
	}
	// The same ID number in two records is refused, unless it is the same
	// person moving (same record) or the other record leaves in this step.
	for n, pid := range ids {
		if other, ok := taken[n]; ok && other != pid {
			return appliance.Draft{}, appliance.FieldError("id_number", "身份证号 %s 在本次导入中重复", appliance.MaskCitizenID(n))
		}
		holders, err := tx.idHolders(n)
		if err != nil {
			return appliance.Draft{}, err
		}
		for _, o := range holders {
			if o.ID == pid {
				continue
			}
			if c, ok := changed[o.ID]; ok && (!c.Active() || c.IDNumber() != n) {
				continue
			}
			h, _, _ := tx.Household(o.Household)
			return appliance.Draft{}, &appliance.Error{Code: appliance.ECONFLICT, Field: "id_number",
				Message: fmt.Sprintf("身份证号 %s 已登记在%s户（%s），同一人请用“迁移”转户", appliance.MaskCitizenID(n), headName(tx, h), o.Name)}
		}
	}
	// Every open household this change leaves behind must have an active head.
	check := map[string]bool{}
	for id := range hh {
		check[id] = true
	}
	for _, m := range ch.Members {
		check[m.Household] = true
		if old, ok, _ := tx.Person(m.ID); ok {
			check[old.Household] = true
		}
	}
	for _, hid := range sortedKeys(check) {
		h, ok := hh[hid]
		if !ok {
			var err error
			if h, ok, err = tx.Household(hid); err != nil {
				return appliance.Draft{}, err
			} else if !ok {
				continue
			}
		}
		if h.Closed != "" {
			continue
		}
		active := 0
		headOK := false
		seen := map[string]bool{}
		count := func(p appliance.Person) {
			if seen[p.ID] || p.Household != hid || !p.Active() {
				return
			}
			seen[p.ID] = true
			active++
			if p.ID == h.Head {
				headOK = true
			}
		}
		for _, m := range ch.Members {
			count(m)
		}
		cur, err := tx.Members(hid)
		if err != nil {
			return appliance.Draft{}, err
		}
		for _, p := range cur {
			if c, ok := changed[p.ID]; ok {
				p = c
			}
			count(p)
		}
		if active > 0 && !headOK {
			return appliance.Draft{}, appliance.FieldError("head", "户主须是本户现有成员，请先指定新户主")
		}
	}
	body := ch
	body.Members = make([]appliance.Person, len(ch.Members))
	sealed := map[string]appliance.Sensitive{}
	for i, m := range ch.Members {
		if m.Sensitive != nil {
			sealed[m.ID] = *m.Sensitive
		}
		m.Sensitive = nil
		body.Members[i] = m
	}
	d := appliance.Draft{Author: author, Kind: appliance.KindArchiveChange, Version: 1, Body: body}
	if len(sealed) > 0 {
		d.Sealed = sealed
	}
	return d, nil
}

func headName(tx *Tx, h appliance.Household) string {
	if p, ok, _ := tx.Person(h.Head); ok {
		return p.Name
	}
	return h.Address
}

// idHolders returns the active records holding an ID number.
func (tx *Tx) idHolders(n string) ([]appliance.Person, error) {
	var out []appliance.Person
	p := []byte("id:" + n + "\x00")
	c := tx.Bucket(bucketDupIndex).Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		if q, ok, err := tx.Person(string(k[len(p):])); err != nil {
			return nil, err
		} else if ok && q.Active() {
			out = append(out, q)
		}
	}
	return out, nil
}

// PersonByIDNumber returns the active record with an ID number.
func (tx *Tx) PersonByIDNumber(n string) (appliance.Person, bool, error) {
	ps, err := tx.idHolders(n)
	if err != nil || len(ps) == 0 {
		return appliance.Person{}, false, err
	}
	return ps[0], true, nil
}

// CreateHousehold adds a household with its members; the member whose
// relation is 户主 becomes the head. It returns the household id.
func (s *Store) CreateHousehold(ctx context.Context, author string, h appliance.Household, members []appliance.Person) (string, error) {
	if len(members) == 0 {
		return "", appliance.FieldError("name", "请至少填写户主的信息")
	}
	h.ID = s.NewRecordID("h")
	h.Head = ""
	for i := range members {
		members[i].ID = s.NewRecordID("p")
		members[i].Household = h.ID
		if members[i].Sensitive == nil {
			members[i].Sensitive = &appliance.Sensitive{}
		}
		if appliance.IsHead(members[i].Relation) {
			if h.Head != "" {
				return "", appliance.FieldError("relation", "一户只能有一位户主")
			}
			h.Head = members[i].ID
		}
	}
	if h.Head == "" {
		return "", appliance.FieldError("relation", "请指定户主（与户主关系填“户主”）")
	}
	h.Phone = appliance.NormalizePhone(h.Phone)
	_, err := s.ChangeArchive(ctx, author, func(tx *Tx) (appliance.ArchiveChange, error) {
		return appliance.ArchiveChange{Event: appliance.EventCreate, Households: []appliance.Household{h}, Members: members}, nil
	})
	return h.ID, err
}

// UpdateHousehold changes a household's own fields. A change of group is
// recorded as a move, with origin and destination.
func (s *Store) UpdateHousehold(ctx context.Context, author string, h appliance.Household) error {
	h.Phone = appliance.NormalizePhone(h.Phone)
	_, err := s.ChangeArchive(ctx, author, func(tx *Tx) (appliance.ArchiveChange, error) {
		old, ok, err := tx.Household(h.ID)
		if err != nil {
			return appliance.ArchiveChange{}, err
		} else if !ok {
			return appliance.ArchiveChange{}, appliance.Errorf(appliance.ENOTFOUND, "该户不存在")
		}
		h.Head, h.Closed = old.Head, old.Closed
		ch := appliance.ArchiveChange{Event: appliance.EventEdit, Households: []appliance.Household{h}}
		if old.Group != h.Group {
			ch.Event, ch.From, ch.To = appliance.EventMove, old.Group, h.Group
		}
		return ch, nil
	})
	return err
}

// SaveMember adds a member to a household (ID empty) or changes one.
func (s *Store) SaveMember(ctx context.Context, author string, p appliance.Person) (string, error) {
	if appliance.IsHead(p.Relation) && p.ID == "" {
		return "", appliance.FieldError("relation", "户主已有，新成员请选其他关系；更换户主请用“变更户主”")
	}
	_, err := s.ChangeArchive(ctx, author, func(tx *Tx) (appliance.ArchiveChange, error) {
		ev := appliance.EventEditMember
		if p.ID == "" {
			p.ID, ev = s.NewRecordID("p"), appliance.EventAddMember
			if p.Sensitive == nil {
				p.Sensitive = &appliance.Sensitive{}
			}
		} else {
			old, ok, err := tx.Person(p.ID)
			if err != nil {
				return appliance.ArchiveChange{}, err
			} else if !ok {
				return appliance.ArchiveChange{}, appliance.Errorf(appliance.ENOTFOUND, "该成员不存在")
			}
			// Moves and leaving have their own steps.
			p.Household, p.Left, p.LeftDate, p.LeftNote, p.Births = old.Household, old.Left, old.LeftDate, old.LeftNote, old.Births
			if p.Sensitive == nil {
				p.Sensitive = old.Sensitive
			} else if old.Sensitive != nil && p.Sensitive.Sheet == nil {
				// Forms have no place for what an imported sheet said: keep it.
				sens := *p.Sensitive
				sens.Sheet = old.Sensitive.Sheet
				p.Sensitive = &sens
			}
			h, _, _ := tx.Household(old.Household)
			if (old.ID == h.Head) != (appliance.IsHead(p.Relation)) {
				return appliance.ArchiveChange{}, appliance.FieldError("relation", "更换户主请用“变更户主”")
			}
		}
		return appliance.ArchiveChange{Event: ev, Members: []appliance.Person{p}}, nil
	})
	return p.ID, err
}

// MemberLeaves records that a member left (died, moved out, married out,
// entered in error). The record stays, marked, in the household's history.
// When the head leaves and others remain, newHead names the new head and
// the others' relations are recomputed to them (answers settle those the
// rules cannot).
func (s *Store) MemberLeaves(ctx context.Context, author, hid, pid, reason, date, note, newHead string, answers map[string]string) error {
	if _, ok := appliance.LeftLabels[reason]; !ok || reason == appliance.LeftMoved {
		return appliance.FieldError("left", "请选择减少原因")
	}
	_, err := s.ChangeArchive(ctx, author, func(tx *Tx) (appliance.ArchiveChange, error) {
		p, ok, err := tx.Person(pid)
		if err != nil {
			return appliance.ArchiveChange{}, err
		} else if !ok || !p.Active() || p.Household != hid {
			return appliance.ArchiveChange{}, appliance.FieldError("member", "该成员不在本户或已减少")
		}
		h, _, err := tx.Household(p.Household)
		if err != nil {
			return appliance.ArchiveChange{}, err
		}
		p.Left, p.LeftDate, p.LeftNote = reason, date, note
		ch := appliance.ArchiveChange{Event: appliance.EventLeave, Members: []appliance.Person{p}, Note: appliance.LeftLabels[reason]}
		if h.Head == pid {
			rest, err := tx.activeOthers(h.ID, pid)
			if err != nil {
				return ch, err
			}
			if len(rest) == 0 {
				h.Closed = "成员已全部减少"
				ch.Households = []appliance.Household{h}
			} else {
				if _, err := newHeadOf(rest, newHead); err != nil {
					return ch, err
				}
				changed, err := rehead(p, rest, newHead, answers)
				if err != nil {
					return ch, err
				}
				h.Head = newHead
				ch.Households = []appliance.Household{h}
				ch.Members = append(ch.Members, changed...)
			}
		}
		return ch, nil
	})
	return err
}

func kinOf(p appliance.Person) appliance.Kin {
	return appliance.Kin{ID: p.ID, Relation: p.Relation, Gender: p.Gender, Birth: p.Birth}
}

// rehead recomputes the relations of people (members staying together,
// the new head among them) from the old head to newHead, settles them
// with the clerk's answers, and returns the records whose relation changed.
func rehead(oldHead appliance.Person, people []appliance.Person, newHead string, answers map[string]string) ([]appliance.Person, error) {
	kins := make([]appliance.Kin, len(people))
	names := map[string]string{}
	for i, p := range people {
		kins[i], names[p.ID] = kinOf(p), p.Name
	}
	computed := appliance.RelationsToNewHead(kinOf(oldHead), kins, newHead)
	return applyRelations(people, kins, computed, answers, names)
}

func applyRelations(people []appliance.Person, kins []appliance.Kin, computed, answers, names map[string]string) ([]appliance.Person, error) {
	rel, err := settleRelations(people, kins, computed, answers, names)
	if err != nil {
		return nil, err
	}
	var out []appliance.Person
	for _, p := range people {
		if r, ok := rel[p.ID]; ok && r != p.Relation {
			p.Relation = r
			p.RelationCode, _ = appliance.RelationCode(r)
			out = append(out, p)
		}
	}
	return out, nil
}

// settleRelations settles computed relations with the answers and checks
// that the people who end up together have one spouse at most.
func settleRelations(people []appliance.Person, kins []appliance.Kin, computed, answers, names map[string]string) (map[string]string, error) {
	rel, err := appliance.SettleRelations(computed, answers, kins, names)
	if err != nil {
		return nil, err
	}
	spouses := 0
	for _, p := range people {
		if r, ok := rel[p.ID]; ok && appliance.RelationFamily(r) == 1 {
			if spouses++; spouses > 1 {
				return nil, appliance.FieldError("relations", "一户只能有一位配偶，请重新选择关系")
			}
		}
	}
	return rel, nil
}

func (tx *Tx) activeOthers(hid, except string) ([]appliance.Person, error) {
	ms, err := tx.Members(hid)
	if err != nil {
		return nil, err
	}
	var out []appliance.Person
	for _, m := range ms {
		if m.Active() && m.ID != except {
			out = append(out, m)
		}
	}
	return out, nil
}

func newHeadOf(rest []appliance.Person, id string) (appliance.Person, error) {
	for _, m := range rest {
		if m.ID == id {
			return m, nil
		}
	}
	return appliance.Person{}, appliance.FieldError("new_head", "户主减少后须从本户现有成员中指定新户主")
}

// ChangeHead makes another member the head (succession): every member's
// relation is recomputed to the new head by the GB/T 4761 families, and
// answers (person id → relation) settle those the rules cannot.
func (s *Store) ChangeHead(ctx context.Context, author, hid, newHead string, answers map[string]string) error {
	_, err := s.ChangeArchive(ctx, author, func(tx *Tx) (appliance.ArchiveChange, error) {
		h, ok, err := tx.Household(hid)
		if err != nil || !ok {
			return appliance.ArchiveChange{}, appliance.Errorf(appliance.ENOTFOUND, "该户不存在")
		}
		rest, err := tx.activeOthers(hid, h.Head)
		if err != nil {
			return appliance.ArchiveChange{}, err
		}
		if _, err := newHeadOf(rest, newHead); err != nil {
			return appliance.ArchiveChange{}, err
		}
		old, _, _ := tx.Person(h.Head)
		people := rest
		if old.Active() && old.Household == hid {
			people = append([]appliance.Person{old}, rest...)
		}
		changed, err := rehead(old, people, newHead, answers)
		if err != nil {
			return appliance.ArchiveChange{}, err
		}
		h.Head = newHead
		return appliance.ArchiveChange{Event: appliance.EventNewHead, Households: []appliance.Household{h}, Members: changed}, nil
	})
	return err
}

// MoveMembers moves members to another household here (in this or another
// group); origin and destination are both recorded. Their relation to
// the destination's head is the clerk's to say (answers); a head who
// moves leaves a new head behind (newHead) or a closed household.
func (s *Store) MoveMembers(ctx context.Context, author, from string, pids []string, to, newHead string, answers map[string]string) error {
	_, err := s.ChangeArchive(ctx, author, func(tx *Tx) (appliance.ArchiveChange, error) {
		dest, ok, err := tx.Household(to)
		if err != nil {
			return appliance.ArchiveChange{}, err
		} else if !ok || dest.Closed != "" {
			return appliance.ArchiveChange{}, appliance.FieldError("to", "迁入的户不存在或已注销")
		}
		return movePeople(tx, from, pids, dest, newHead, appliance.EventMove, answers)
	})
	return err
}

// movePeople builds the change moving pids, members of household from,
// into dest (a household, maybe new). Relations follow the event: a split
// recomputes them to the new household's head, a merge through the link
// of the two heads (answers[the other head]), a move asks; the origin
// household, when its head leaves, is re-headed the same way.
func movePeople(tx *Tx, from string, pids []string, dest appliance.Household, newHead, event string, answers map[string]string) (appliance.ArchiveChange, error) {
	ch := appliance.ArchiveChange{Event: event, To: dest.ID}
	if len(pids) == 0 {
		return ch, appliance.FieldError("members", "请选择要迁移的成员")
	}
	moving := map[string]bool{}
	var movers []appliance.Person
	for _, pid := range pids {
		p, ok, err := tx.Person(pid)
		if err != nil {
			return ch, err
		} else if !ok || !p.Active() || p.Household != from {
			return ch, appliance.FieldError("members", "所选成员不在本户或已减少")
		} else if p.Household == dest.ID {
			return ch, appliance.FieldError("to", "所选成员已在该户")
		}
		if !moving[pid] {
			moving[pid] = true
			movers = append(movers, p)
		}
	}
	ch.From = from
	src, _, err := tx.Household(from)
	if err != nil {
		return ch, err
	}
	oldHead, _, _ := tx.Person(src.Head)
	kins := make([]appliance.Kin, len(movers))
	names := map[string]string{}
	for i, p := range movers {
		kins[i], names[p.ID] = kinOf(p), p.Name
	}
	var computed map[string]string
	switch event {
	case appliance.EventSplit:
		computed = appliance.RelationsToNewHead(kinOf(oldHead), kins, dest.Head)
	case appliance.EventMerge:
		destHead, _, _ := tx.Person(dest.Head)
		computed = appliance.RelationsUnder(kinOf(destHead), answers[oldHead.ID], kinOf(oldHead), kins)
	default:
		computed = map[string]string{}
		for _, p := range movers {
			computed[p.ID] = ""
		}
	}
	rel, err := settleRelations(movers, kins, computed, answers, names)
	if err != nil {
		return ch, err
	}
	for _, p := range movers {
		p.Household = dest.ID
		p.Relation = rel[p.ID]
		p.RelationCode, _ = appliance.RelationCode(p.Relation)
		ch.Members = append(ch.Members, p)
	}
	if moving[src.Head] {
		var rest []appliance.Person
		all, err := tx.activeOthers(from, src.Head)
		if err != nil {
			return ch, err
		}
		for _, m := range all {
			if !moving[m.ID] {
				rest = append(rest, m)
			}
		}
		if len(rest) == 0 {
			src.Closed = "成员已全部迁出"
		} else {
			if _, err := newHeadOf(rest, newHead); err != nil {
				return ch, err
			}
			changed, err := rehead(oldHead, rest, newHead, answers)
			if err != nil {
				return ch, err
			}
			src.Head = newHead
			ch.Members = append(ch.Members, changed...)
		}
		ch.Households = append(ch.Households, src)
	}
	if event != appliance.EventSplit {
		// The destination's members and the newcomers: one spouse at most.
		cur, err := tx.activeOthers(dest.ID, "")
		if err != nil {
			return ch, err
		}
		spouses := 0
		for _, p := range append(cur, ch.Members...) {
			if p.Household == dest.ID && appliance.RelationFamily(p.Relation) == 1 {
				spouses++
			}
		}
		if spouses > 1 {
			return ch, appliance.FieldError("relations", "迁入后该户会有两位配偶，请重新选择关系")
		}
	}
	ch.Households = append(ch.Households, dest)
	return ch, nil
}

// SplitHousehold moves members into a new household (分户) at address, with
// newHead (one of them) as its head; their relations are recomputed to
// that head. It returns the new household's id.
func (s *Store) SplitHousehold(ctx context.Context, author, hid string, pids []string, newHead, address, remainingHead string, answers map[string]string) (string, error) {
	var id string
	_, err := s.ChangeArchive(ctx, author, func(tx *Tx) (appliance.ArchiveChange, error) {
		src, ok, err := tx.Household(hid)
		if err != nil || !ok || src.Closed != "" {
			return appliance.ArchiveChange{}, appliance.Errorf(appliance.ENOTFOUND, "该户不存在")
		}
		if !containsStr(pids, newHead) {
			return appliance.ArchiveChange{}, appliance.FieldError("new_head", "新户户主须是分出的成员之一")
		}
		if strings.TrimSpace(address) == "" {
			address = src.Address
		}
		dest := appliance.Household{ID: s.NewRecordID("h"), Group: src.Group, Address: address, Head: newHead}
		id = dest.ID
		return movePeople(tx, hid, pids, dest, remainingHead, appliance.EventSplit, answers)
	})
	return id, err
}

// MergeHouseholds moves every member of from into into (合户) and closes
// from. answers[from's head] says what that head is of into's head; the
// others' relations follow from it where the rules are clear.
func (s *Store) MergeHouseholds(ctx context.Context, author, into, from string, answers map[string]string) error {
	_, err := s.ChangeArchive(ctx, author, func(tx *Tx) (appliance.ArchiveChange, error) {
		if into == from {
			return appliance.ArchiveChange{}, appliance.FieldError("from", "不能与本户合并")
		}
		dest, ok, err := tx.Household(into)
		if err != nil || !ok || dest.Closed != "" {
			return appliance.ArchiveChange{}, appliance.FieldError("into", "并入的户不存在")
		}
		if src, ok, err := tx.Household(from); err != nil || !ok || src.Closed != "" {
			return appliance.ArchiveChange{}, appliance.FieldError("from", "要并入的户不存在或已注销")
		}
		ms, err := tx.activeOthers(from, "")
		if err != nil {
			return appliance.ArchiveChange{}, err
		}
		var pids []string
		for _, m := range ms {
			pids = append(pids, m.ID)
		}
		ch, err := movePeople(tx, from, pids, dest, "", appliance.EventMerge, answers)
		if err != nil {
			return ch, err
		}
		for i := range ch.Households {
			if ch.Households[i].ID == from {
				ch.Households[i].Closed = "已并入他户"
			}
		}
		return ch, nil
	})
	return err
}

// MoveHouseholdAway records that a whole household moved to another village
// (迁往外村): the household closes, its members leave as moved out, and
// the destination is kept.
func (s *Store) MoveHouseholdAway(ctx context.Context, author, hid, dest, date string) error {
	if strings.TrimSpace(dest) == "" {
		return appliance.FieldError("to", "请填写迁往何处")
	}
	_, err := s.ChangeArchive(ctx, author, func(tx *Tx) (appliance.ArchiveChange, error) {
		h, ok, err := tx.Household(hid)
		if err != nil || !ok || h.Closed != "" {
			return appliance.ArchiveChange{}, appliance.Errorf(appliance.ENOTFOUND, "该户不存在")
		}
		ms, err := tx.activeOthers(hid, "")
		if err != nil {
			return appliance.ArchiveChange{}, err
		}
		h.Closed = "整户迁往" + dest
		ch := appliance.ArchiveChange{Event: appliance.EventMove, From: h.Group, To: dest, Households: []appliance.Household{h}}
		for _, m := range ms {
			m.Left, m.LeftDate, m.LeftNote = appliance.LeftMovedOut, date, "迁往"+dest
			ch.Members = append(ch.Members, m)
		}
		return ch, nil
	})
	return err
}

// RecordBirth adds a newborn to a household (出生入户) and notes the birth
// on the mother's record when she is given.
func (s *Store) RecordBirth(ctx context.Context, author, hid string, child appliance.Person, mother string) (string, error) {
	_, err := s.ChangeArchive(ctx, author, func(tx *Tx) (appliance.ArchiveChange, error) {
		child.ID, child.Household = s.NewRecordID("p"), hid
		if child.Sensitive == nil {
			child.Sensitive = &appliance.Sensitive{}
		}
		if child.Relation == "" || appliance.IsHead(child.Relation) {
			return appliance.ArchiveChange{}, appliance.FieldError("relation", "请选择新生儿与户主关系")
		}
		ch := appliance.ArchiveChange{Event: appliance.EventBirth, Members: []appliance.Person{child}}
		if mother != "" {
			m, ok, err := tx.Person(mother)
			if err != nil {
				return ch, err
			} else if !ok || m.Gender != "女" || m.Household != hid {
				return ch, appliance.FieldError("mother", "母亲须是已登记的女性成员")
			}
			child.Normalize()
			m.Births = append(m.Births, appliance.BirthRecord{Date: child.Birth, Child: child.Name, ChildID: child.ID})
			ch.Members = append(ch.Members, m)
		}
		return ch, nil
	})
	return child.ID, err
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// RevealPersonal returns a member with the unmasked ID number and phone
// and writes who looked at whose record into the ledger, in one step.
// The caller checks the permission.
func (s *Store) RevealPersonal(ctx context.Context, author, pid, purpose string) (appliance.Person, error) {
	var p appliance.Person
	if err := appliance.ValidatePurpose(purpose); err != nil {
		return p, err
	}
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		var ok bool
		var err error
		if p, ok, err = tx.Person(pid); err != nil {
			return nil, err
		} else if !ok {
			return nil, appliance.Errorf(appliance.ENOTFOUND, "该成员不存在")
		}
		r := appliance.Reveal{Household: p.Household, Person: p.ID, Fields: []string{"id_number", "phone"}, Purpose: purpose}
		return []appliance.Draft{{Author: author, Kind: appliance.KindArchiveReveal, Version: 1, Body: r}}, nil
	})
	return p, err
}

// LogBulkReveal records an unmasked export of count people.
func (s *Store) LogBulkReveal(ctx context.Context, author string, count int, purpose string) error {
	_, err := s.Append(ctx, appliance.Draft{Author: author, Kind: appliance.KindArchiveReveal, Version: 1,
		Body: appliance.Reveal{Fields: []string{"id_number", "phone"}, Count: count, Purpose: purpose}})
	return err
}

// HistoryItem is one line of a household's history.
type HistoryItem struct {
	Time   appliance.HLC
	Author string // name, or the user id when unknown here
	Kind   string
	Label  string // what happened, Chinese
	Detail string
	Entry  appliance.Ref
}

// HouseholdHistory returns every change, visit and reveal of a household,
// oldest first, with author and time.
func (s *Store) HouseholdHistory(hid string) ([]HistoryItem, error) {
	var out []HistoryItem
	err := s.Read(func(tx *Tx) error {
		es, err := tx.ObjectEntries(archiveObjPrefix + hid)
		if err != nil {
			return err
		}
		for _, e := range es {
			it := HistoryItem{Time: e.Time, Author: tx.AuthorName(e.Feed, e.Author), Kind: e.Kind, Entry: e.Ref()}
			switch e.Kind {
			case appliance.KindArchiveChange:
				var ch appliance.ArchiveChange
				if json.Unmarshal(e.Body, &ch) != nil {
					continue
				}
				it.Label = appliance.EventLabels[ch.Event]
				var parts []string
				for _, m := range ch.Members {
					s := m.Name
					if m.Household != hid {
						s += "（转出）"
					} else if m.Left != "" {
						s += "（" + appliance.LeftLabels[m.Left] + "）"
					}
					parts = append(parts, s)
				}
				it.Detail = strings.Join(parts, "、")
				if ch.To != "" && !strings.HasPrefix(ch.To, "h") {
					it.Detail += " 迁往：" + groupLabel(tx, ch.To)
				}
				if ch.Note != "" {
					it.Detail += " " + ch.Note
				}
			case appliance.KindArchiveReveal:
				var r appliance.Reveal
				if json.Unmarshal(e.Body, &r) != nil {
					continue
				}
				it.Label = "查看完整身份证号和电话"
				if p, ok, _ := tx.Person(r.Person); ok {
					it.Detail = p.Name
				}
				if r.Purpose != "" {
					it.Detail += "（" + r.Purpose + "）"
				}
			case appliance.KindArchiveDup:
				var d appliance.DupDecision
				if json.Unmarshal(e.Body, &d) != nil {
					continue
				}
				it.Label = "疑似重复：" + appliance.DupLabels[d.Decision]
				// Names of this household's records only: the other record
				// may lie in a group the reader does not see.
				var names []string
				for _, pid := range d.People {
					if p, ok, _ := tx.Person(pid); ok && p.Household == hid {
						names = append(names, p.Name)
					} else if ok {
						names = append(names, "另一户（"+groupLabel(tx, householdGroup(tx, p.Household))+"）")
					}
				}
				it.Detail = strings.Join(names, "、")
				if d.Note != "" {
					it.Detail += " 说明：" + d.Note
				}
			case appliance.KindVisitAdd:
				var v appliance.Visit
				if json.Unmarshal(e.Body, &v) != nil {
					continue
				}
				it.Label = appliance.VisitKindLabels[v.Kind]
				it.Author = v.Name
				it.Detail = v.Date + " " + v.Seen
			default:
				continue
			}
			out = append(out, it)
		}
		return nil
	})
	return out, err
}

func groupLabel(tx *Tx, code string) string {
	if g, ok, _ := tx.Grid(code); ok {
		return g.Name
	}
	return code
}

// searchScanCap bounds the index keys one search reads, so a one-letter
// query on a city archive still answers quickly.
const searchScanCap = 20000

// FindPeople searches the archive through its indexes.
func (s *Store) FindPeople(f appliance.PersonFilter) ([]appliance.PersonHit, bool, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 50
	}
	on := f.On
	if on.IsZero() {
		on = time.Now()
	}
	cutoff := on.AddDate(-80, 0, 0).Format("2006-01-02")
	scope := f.Scope
	if f.Group != "" {
		if !appliance.InScope(scope, f.Group) {
			return nil, false, nil
		}
		scope = f.Group
	}
	var tags []string
	if f.Dibao {
		tags = append(tags, TagDibao)
	}
	if f.Away {
		tags = append(tags, TagAway)
	}
	if f.Disabled {
		tags = append(tags, TagDisabled)
	}
	if f.Alone80 {
		tags = append(tags, TagAlone)
	}
	if f.KeyCategory != "" {
		if f.KeyCategory == TagKey {
			tags = append(tags, TagKey)
		} else {
			tags = append(tags, tagKeyCat+f.KeyCategory)
		}
	}
	var out []appliance.PersonHit
	more := false
	err := s.Read(func(tx *Tx) error {
		seen := map[string]bool{}
		tagB := tx.Bucket(bucketPTags)
		// accept checks the other filters of a candidate; true means stop.
		accept := func(pid, group string, skipTag string) (bool, error) {
			if seen[pid] || !appliance.InScope(scope, group) {
				return false, nil
			}
			for _, t := range tags {
				if t != skipTag && tagB.Get([]byte(t+"/"+group+"/"+pid)) == nil {
					return false, nil
				}
			}
			p, ok, err := tx.Person(pid)
			if err != nil || !ok {
				return false, err
			}
			if f.Alone80 && p.Birth > cutoff {
				return false, nil
			}
			seen[pid] = true
			if len(out) == f.Limit {
				more = true
				return true, nil
			}
			h, _, err := tx.Household(p.Household)
			if err != nil {
				return false, err
			}
			out = append(out, appliance.PersonHit{Person: p, Household: h})
			return false, nil
		}
		q := appliance.NormalizeQuery(f.Query)
		if q == "" {
			if f.Alone80 {
				// The old living alone, by birth date up to the cutoff.
				p := []byte(tagAloneBorn)
				end := []byte(tagAloneBorn + cutoff + "/\xff")
				c := tagB.Cursor()
				n := 0
				for k, _ := c.Seek(p); k != nil && bytes.Compare(k, end) <= 0; k, _ = c.Next() {
					if n++; n > searchScanCap {
						more = true
						break
					}
					rest := string(k[len(p)+11:])
					i := strings.LastIndexByte(rest, '/')
					if stop, err := accept(rest[i+1:], rest[:i], TagAlone); err != nil || stop {
						return err
					}
				}
				return nil
			}
			// Filters only: walk the smallest tag (or everyone) in scope.
			first := TagAll
			for i, t := range tags {
				if i == 0 || tx.Counter(bucketArchCounts, "t/"+t) < tx.Counter(bucketArchCounts, "t/"+first) {
					first = t
				}
			}
			p := []byte(first + "/" + scope)
			c := tagB.Cursor()
			n := 0
			for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
				if n++; n > searchScanCap {
					more = true
					break
				}
				rest := string(k[len(first)+1:])
				i := strings.LastIndexByte(rest, '/')
				if stop, err := accept(rest[i+1:], rest[:i], first); err != nil || stop {
					return err
				}
			}
			return nil
		}
		b := tx.Bucket(bucketPSearch)
		for _, prefix := range searchTerms(q) {
			p := []byte(prefix)
			c := b.Cursor()
			n := 0
			for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
				if n++; n > searchScanCap {
					more = true
					break
				}
				i := bytes.IndexByte(k, 0)
				if i < 0 {
					continue
				}
				if stop, err := accept(string(k[i+1:]), string(v), ""); err != nil || stop {
					return err
				}
			}
		}
		return nil
	})
	return out, more, err
}

// searchTerms turns a normalised query into index prefixes: digits are an
// ID number (whole or its last 4–6 characters) or a phone; Latin letters
// are pinyin; anything else is a name.
func searchTerms(q string) []string {
	isDigits := strings.Trim(q, "0123456789x") == ""
	switch {
	case isDigits && len(q) == 18:
		return []string{"i:" + strings.ToUpper(q)}
	case isDigits && len(q) >= 4 && len(q) <= 6:
		r := reverse(strings.ToUpper(q))
		return []string{"r:" + r, "u:" + r}
	case isDigits && len(q) >= 7:
		return []string{"t:" + q, "i:" + strings.ToUpper(q)}
	case isDigits:
		return []string{"t:" + q}
	case strings.Trim(q, "abcdefghijklmnopqrstuvwxyz") == "":
		return []string{"p:" + q}
	}
	return []string{"n:" + q}
}

// Households returns the open households of a group (or scope prefix), by id.
func (s *Store) Households(scope string, limit int, after string) ([]appliance.Household, error) {
	var out []appliance.Household
	err := s.Read(func(tx *Tx) error {
		c := tx.Bucket(bucketHHGroup).Cursor()
		p := []byte(scope)
		k, _ := c.Seek(p)
		for ; k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			if after != "" && string(k) <= after {
				continue
			}
			i := bytes.LastIndexByte(k, '/')
			h, ok, err := tx.Household(string(k[i+1:]))
			if err != nil {
				return err
			} else if ok {
				out = append(out, h)
			}
			if limit > 0 && len(out) >= limit {
				break
			}
		}
		return nil
	})
	return out, err
}

// HeadNames returns the head's name of each household id.
func (s *Store) HeadNames(ids []string) (map[string]string, error) {
	out := map[string]string{}
	err := s.Read(func(tx *Tx) error {
		for _, id := range ids {
			if h, ok, err := tx.Household(id); err != nil {
				return err
			} else if ok {
				out[id] = headName(tx, h)
			}
		}
		return nil
	})
	return out, err
}

// ArchiveStats returns the statistics of each group in scope, by group code;
// ages are counted on the given day.
func (s *Store) ArchiveStats(scope string, on time.Time) ([]appliance.GroupStats, error) {
	byGroup := map[string]*appliance.GroupStats{}
	err := s.Read(func(tx *Tx) error {
		all := tx.Counters(bucketArchCounts, "g/"+scope)
		for k, n := range all {
			full := scope + k
			i := strings.IndexByte(full, '/')
			if i < 0 {
				continue
			}
			group, fig := full[:i], full[i+1:]
			gs := byGroup[group]
			if gs == nil {
				gs = &appliance.GroupStats{Group: group}
				byGroup[group] = gs
			}
			switch {
			case fig == "hh":
				gs.Households = n
			case fig == "people":
				gs.People = n
			case fig == TagDibao:
				gs.Dibao = n
			case fig == TagKey:
				gs.Key = n
			case fig == TagAway:
				gs.Away = n
			case fig == TagDisabled:
				gs.Disabled = n
			case fig == TagAlone:
				gs.Alone = n
			case strings.HasPrefix(fig, "by/"):
				addBirthYear(gs, fig[3:], n, on)
			}
		}
		return nil
	})
	var out []appliance.GroupStats
	for _, g := range byGroup {
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return out, err
}

// pyramidBands are 5-year bands up to 85+, oldest first.
const pyramidBands = 18

func addBirthYear(gs *appliance.GroupStats, fig string, n int64, on time.Time) {
	parts := strings.Split(fig, "/")
	if len(parts) != 2 {
		return
	}
	y, err := strconv.Atoi(parts[0])
	if err != nil {
		return
	}
	// Counted by birth year: the age reached this year, close enough for bands.
	age := on.Year() - y
	if age < 0 {
		age = 0
	}
	gs.Ages[appliance.AgeBand(age)] += n
	if gs.Pyramid == nil {
		gs.Pyramid = make([]appliance.PyramidRow, pyramidBands)
		for i := range gs.Pyramid {
			lo := (pyramidBands - 1 - i) * 5
			gs.Pyramid[i].Label = fmt.Sprintf("%d–%d", lo, lo+4)
			if i == 0 {
				gs.Pyramid[i].Label = fmt.Sprintf("%d+", lo)
			}
		}
	}
	band := age / 5
	if band > pyramidBands-1 {
		band = pyramidBands - 1
	}
	row := &gs.Pyramid[pyramidBands-1-band]
	if parts[1] == "m" {
		row.Male += n
	} else {
		row.Female += n
	}
}

// dupState is the last decision on a possible duplicate, with who and when.
type dupState struct {
	appliance.DupDecision
	Author string        `json:"author"`
	Feed   string        `json:"feed"`
	Time   appliance.HLC `json:"time"`
}

// Duplicates returns the review list of the duplicates that touch scope,
// open ones first. Records outside scope are not shown (their household's
// group only), and Hidden counts them: a grid leader neither sees nor
// decides another group's people.
func (s *Store) Duplicates(scope string) ([]appliance.Duplicate, error) {
	var out []appliance.Duplicate
	err := s.Read(func(tx *Tx) error {
		return tx.Bucket(bucketDups).ForEach(func(k, v []byte) error {
			d, in, err := tx.duplicate(string(k), v, scope)
			if err != nil || !in {
				return err
			}
			out = append(out, d)
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return (out[i].Decided == "") && out[j].Decided != "" })
	return out, err
}

// duplicate reads one review item as seen from scope; in reports whether
// any of its records lies in scope.
func (tx *Tx) duplicate(key string, v []byte, scope string) (appliance.Duplicate, bool, error) {
	d := appliance.Duplicate{Key: key}
	var pids []string
	if json.Unmarshal(v, &pids) != nil {
		return d, false, nil
	}
	in := false
	for _, pid := range pids {
		p, ok, err := tx.Person(pid)
		if err != nil {
			return d, false, err
		} else if !ok {
			continue
		}
		h, _, _ := tx.Household(p.Household)
		if !appliance.InScope(scope, h.Group) {
			d.Hidden++
			d.People = append(d.People, appliance.Person{ID: "", Household: "", Name: "（" + groupLabel(tx, h.Group) + "的记录，不在您负责的网格）"})
			continue
		}
		in = true
		d.People = append(d.People, p)
	}
	if strings.HasPrefix(d.Key, "id:") {
		d.Reason = "同一身份证号登记了多条记录"
	} else {
		d.Reason = "姓名和出生日期相同，分属不同的户"
	}
	var st dupState
	if ok, _ := tx.LWWJSON(bucketDupDecided, d.Key, &st); ok && st.Decision != appliance.DupReopened {
		d.Decided, d.DecidedNote, d.DecidedAt = st.Decision, st.Note, st.Time
		d.DecidedBy = st.Author
		if f, err := appliance.ParseFeedID(st.Feed); err == nil {
			d.DecidedBy = tx.AuthorName(f, st.Author)
		}
	}
	return d, in, nil
}

// DecideDuplicate records a reviewer's decision with a note: distinct
// people, or merged (the extra record was marked entered in error). A
// decided pair changes only by an explicit reversal (reopened). Every
// record must lie in scope; the decision shows in each household's history.
func (s *Store) DecideDuplicate(ctx context.Context, author, scope string, d appliance.DupDecision) error {
	if _, ok := appliance.DupLabels[d.Decision]; !ok {
		return appliance.FieldError("decision", "请选择“确认不是同一人”“已合并”或“撤销处理”")
	}
	d.Note = strings.TrimSpace(d.Note)
	if err := appliance.ValidateNote("note", "处理说明", d.Note); err != nil {
		return err
	}
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		v := tx.Bucket(bucketDups).Get([]byte(d.Key))
		if d.Key == "" || v == nil {
			return nil, appliance.Errorf(appliance.ENOTFOUND, "该重复记录不存在")
		}
		dup, in, err := tx.duplicate(d.Key, v, scope)
		if err != nil {
			return nil, err
		}
		if !in || dup.Hidden > 0 {
			return nil, appliance.Errorf(appliance.EFORBIDDEN, "这组记录有不在您负责网格内的人员，请由村里统一处理")
		}
		switch {
		case d.Decision == appliance.DupReopened && dup.Decided == "":
			return nil, appliance.Errorf(appliance.ECONFLICT, "这组记录尚未处理，无需撤销")
		case d.Decision != appliance.DupReopened && dup.Decided != "":
			return nil, appliance.Errorf(appliance.ECONFLICT, "这组记录已处理为“%s”；如需更改，请先撤销处理", appliance.DupLabels[dup.Decided])
		}
		d.People, d.Households = nil, nil
		var pids []string
		json.Unmarshal(v, &pids)
		seen := map[string]bool{}
		for _, pid := range pids {
			if p, ok, err := tx.Person(pid); err != nil {
				return nil, err
			} else if ok {
				d.People = append(d.People, pid)
				if !seen[p.Household] {
					seen[p.Household] = true
					d.Households = append(d.Households, p.Household)
				}
			}
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindArchiveDup, Version: 1, Body: d}}, nil
	})
	return err
}

func householdGroup(tx *Tx, hid string) string {
	h, _, _ := tx.Household(hid)
	return h.Group
}
