package bolt

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"

	"gridbox/appliance"
)

// View buckets of the household archive and visits. Every index is kept up
// to date by the fold; searches read indexes, never scan records.
const (
	bucketHouseholds = "v_hh"          // household id → Household (LWW)
	bucketHHGroup    = "v_hh_group"    // group "/" household id → "" (open households)
	bucketPeople     = "v_person"      // person id → Person, public part (LWW)
	bucketPSens      = "v_psens"       // person id → sensSlot: the sensitive part, or unknown (LWW)
	bucketHHMembers  = "v_hh_members"  // household id "/" person id → "" (current and former members)
	bucketPDerived   = "v_pderived"    // person id → what its index entries were computed from
	bucketPSearch    = "v_psearch"     // term "\x00" person id → group
	bucketPTags      = "v_ptag"        // tag "/" group "/" person id → ""
	bucketDupIndex   = "v_dupidx"      // duplicate key "\x00" person id → household id
	bucketDups       = "v_dups"        // duplicate key → person ids (JSON), when two or more
	bucketDupDecided = "v_dup_decided" // duplicate key → dupState (LWW)
	bucketImportMap  = "v_import_map"  // normalised header → field (LWW), the remembered column mapping
	bucketArchCounts = "v_arch_counts" // "g/" group "/" figure → counter
	bucketVisits     = "v_visits"      // worker "/" date " " time "/" visit id → Visit
	bucketVisitHH    = "v_visit_hh"    // household id "/" date " " time "/" visit id → worker
	bucketVisitDays  = "v_visit_days"  // worker "/" date → counter
	bucketVisitGroup = "v_visit_group" // group "/" date " " time "/" visit id → worker
	archiveObjPrefix = "hh/"
)

// Person tags (v_ptag).
const (
	TagAll       = "all"
	TagDibao     = "dibao"
	TagAway      = "away"
	TagDisabled  = "disabled"
	TagAlone     = "alone"
	TagKey       = "key"         // any key-person category
	tagKeyCat    = "key:"        // + category
	tagAloneBorn = "alone-born/" // + birth date "/" group "/" person id
)

// sensSlot is a member's sensitive part as last written, or unknown.
type sensSlot struct {
	Known bool                 `json:"k,omitempty"`
	S     *appliance.Sensitive `json:"s,omitempty"`
}

type archiveView struct{}

func (archiveView) Name() string { return "archive" }

func (archiveView) Buckets() []string {
	return []string{bucketHouseholds, bucketHHGroup, bucketPeople, bucketPSens, bucketHHMembers, bucketPDerived, bucketPSearch,
		bucketPTags, bucketDupIndex, bucketDups, bucketDupDecided, bucketImportMap, bucketArchCounts,
		bucketVisits, bucketVisitHH, bucketVisitDays, bucketVisitGroup}
}

func init() { RegisterView(archiveView{}) }

func (archiveView) Apply(tx *Tx, e *appliance.Entry) error {
	switch e.Kind {
	case appliance.KindArchiveChange:
		return applyArchiveChange(tx, e)
	case appliance.KindArchiveReveal:
		var r appliance.Reveal
		if json.Unmarshal(e.Body, &r) != nil || r.Household == "" {
			return nil
		}
		return tx.AddObjectEntry(archiveObjPrefix+r.Household, e)
	case appliance.KindArchiveDup:
		var d appliance.DupDecision
		if json.Unmarshal(e.Body, &d) != nil || d.Key == "" {
			return nil
		}
		data, _ := json.Marshal(dupState{DupDecision: d, Author: e.Author, Feed: e.Feed.String(), Time: e.Time})
		if _, err := tx.PutLWW(bucketDupDecided, d.Key, e, data); err != nil {
			return err
		}
		for _, hid := range d.Households {
			if appliance.ValidID(hid) {
				if err := tx.AddObjectEntry(archiveObjPrefix+hid, e); err != nil {
					return err
				}
			}
		}
		return nil
	case appliance.KindVisitAdd:
		return applyVisit(tx, e)
	case appliance.KindImportMapping:
		var m appliance.ImportMapping
		if json.Unmarshal(e.Body, &m) != nil || m.Validate() != nil {
			return nil
		}
		for _, h := range sortedKeys(boolKeys(m.Columns)) {
			data, _ := json.Marshal(m.Columns[h])
			if _, err := tx.PutLWW(bucketImportMap, h, e, data); err != nil {
				return err
			}
		}
	}
	return nil
}

func boolKeys(m map[string]string) map[string]bool {
	out := make(map[string]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

func applyArchiveChange(tx *Tx, e *appliance.Entry) error {
	var ch appliance.ArchiveChange
	if json.Unmarshal(e.Body, &ch) != nil {
		return nil
	}
	// The sealed part may have been left behind: members then keep their
	// public fields and their sensitive ones become unknown.
	var sealed map[string]appliance.Sensitive
	if ok, err := e.DecodeSealed(&sealed); err != nil || !ok {
		sealed = nil
	}
	objs := map[string]bool{}
	touched := map[string]bool{}
	for _, h := range ch.Households {
		if h.Validate() != nil {
			continue
		}
		objs[h.ID] = true
		var old appliance.Household
		had, err := tx.LWWJSON(bucketHouseholds, h.ID, &old)
		if err != nil {
			return err
		}
		data, _ := json.Marshal(h)
		won, err := tx.PutLWW(bucketHouseholds, h.ID, e, data)
		if err != nil {
			return err
		} else if !won {
			continue
		}
		touched[h.ID] = true
		if had && old.Closed == "" {
			if err := tx.Bucket(bucketHHGroup).Delete([]byte(old.Group + "/" + h.ID)); err != nil {
				return err
			}
			if err := tx.AddCounter(bucketArchCounts, "g/"+old.Group+"/hh", -1); err != nil {
				return err
			}
		}
		if h.Closed == "" {
			if err := tx.Bucket(bucketHHGroup).Put([]byte(h.Group+"/"+h.ID), []byte{}); err != nil {
				return err
			}
			if err := tx.AddCounter(bucketArchCounts, "g/"+h.Group+"/hh", 1); err != nil {
				return err
			}
		}
	}
	// An entry that had a sealed part which was left behind makes its
	// members' sensitive fields unknown; an entry that never had one (an
	// edit on a node that does not hold them) leaves them as they are.
	redacted := !e.SealHash.IsZero() && sealed == nil
	for _, m := range ch.Members {
		sens, hasSens := sealed[m.ID]
		m.Sensitive = nil
		if hasSens {
			m.Sensitive = &sens
		}
		if m.Validate() != nil {
			continue
		}
		objs[m.Household] = true
		var old appliance.Person
		had, err := tx.LWWJSON(bucketPeople, m.ID, &old)
		if err != nil {
			return err
		}
		sensWon := false
		if hasSens || redacted {
			slot := sensSlot{}
			if hasSens {
				slot = sensSlot{Known: true, S: &sens}
			}
			data, _ := json.Marshal(slot)
			if sensWon, err = tx.PutLWW(bucketPSens, m.ID, e, data); err != nil {
				return err
			}
		}
		m.Sensitive = nil
		data, _ := json.Marshal(m)
		won, err := tx.PutLWW(bucketPeople, m.ID, e, data)
		if err != nil {
			return err
		} else if !won {
			if sensWon && had {
				touched[old.Household] = true
			}
			continue
		}
		if had {
			touched[old.Household] = true
			if err := tx.Bucket(bucketHHMembers).Delete([]byte(old.Household + "/" + m.ID)); err != nil {
				return err
			}
		}
		touched[m.Household] = true
		if err := tx.Bucket(bucketHHMembers).Put([]byte(m.Household+"/"+m.ID), []byte{}); err != nil {
			return err
		}
	}
	for _, x := range []string{ch.From, ch.To} {
		if strings.HasPrefix(x, "h") && appliance.ValidID(x) {
			objs[x] = true
		}
	}
	for _, id := range sortedKeys(objs) {
		if err := tx.AddObjectEntry(archiveObjPrefix+id, e); err != nil {
			return err
		}
	}
	// Everything derived (search terms, tags, counters, duplicates) is a
	// function of the records as they now stand, so recompute it for every
	// member of every household this entry changed.
	dupKeys := map[string]bool{}
	for _, hid := range sortedKeys(touched) {
		pids, err := tx.memberIDs(hid)
		if err != nil {
			return err
		}
		for _, pid := range pids {
			if err := reindexPerson(tx, pid, dupKeys); err != nil {
				return err
			}
		}
	}
	for _, k := range sortedKeys(dupKeys) {
		if err := recomputeDup(tx, k); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		if k != "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// memberIDs lists the ids of a household's current and former members.
func (tx *Tx) memberIDs(hid string) ([]string, error) {
	var out []string
	p := []byte(hid + "/")
	c := tx.Bucket(bucketHHMembers).Cursor()
	for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		out = append(out, string(k[len(p):]))
	}
	return out, nil
}

// derived is what a person's record puts into indexes and counters.
type derived struct {
	Keys     [][3]string // bucket, key, value
	Counters []string
	Dups     []string
}

// indexed is what a person's index entries were computed from; kept per
// person (v_pderived) so that the old entries can be removed exactly.
type indexed struct {
	Person appliance.Person    `json:"p"`
	House  appliance.Household `json:"h"` // only ID, Group and Closed are kept
	Alone  bool                `json:"a,omitempty"`
}

func reindexPerson(tx *Tx, pid string, dupKeys map[string]bool) error {
	var old indexed
	had, err := tx.GetJSON(bucketPDerived, pid, &old)
	if err != nil {
		return err
	}
	var od, nd derived
	if had {
		od = derivePerson(old.Person, old.House, old.Alone)
	}
	p, ok, err := tx.Person(pid)
	if err != nil {
		return err
	}
	var in indexed
	if ok {
		var h appliance.Household
		if _, err := tx.LWWJSON(bucketHouseholds, p.Household, &h); err != nil {
			return err
		}
		alone, err := tx.aloneIn(p)
		if err != nil {
			return err
		}
		in = indexed{Person: p, House: appliance.Household{ID: h.ID, Group: h.Group, Closed: h.Closed}, Alone: alone}
		nd = derivePerson(in.Person, in.House, in.Alone)
	}
	// Only what changed is written: an archive change touches a field or
	// two of a person, most index entries stay as they are.
	type bk struct{ bucket, key string }
	kept := map[bk]string{}
	for _, k := range nd.Keys {
		kept[bk{k[0], k[1]}] = k[2]
	}
	was := map[bk]string{}
	for _, k := range od.Keys {
		was[bk{k[0], k[1]}] = k[2]
		if _, ok := kept[bk{k[0], k[1]}]; !ok {
			if err := tx.Bucket(k[0]).Delete([]byte(k[1])); err != nil {
				return err
			}
		}
	}
	for _, k := range nd.Keys {
		if v, ok := was[bk{k[0], k[1]}]; ok && v == k[2] {
			continue
		}
		if err := tx.Bucket(k[0]).Put([]byte(k[1]), []byte(k[2])); err != nil {
			return err
		}
	}
	counts := map[string]int64{}
	for _, c := range od.Counters {
		counts[c]--
	}
	for _, c := range nd.Counters {
		counts[c]++
	}
	for c, n := range counts {
		if n != 0 {
			if err := tx.AddCounter(bucketArchCounts, c, n); err != nil {
				return err
			}
		}
	}
	for _, k := range od.Dups {
		dupKeys[k] = true
	}
	for _, k := range nd.Dups {
		dupKeys[k] = true
	}
	if !ok || len(nd.Keys) == 0 {
		return tx.Bucket(bucketPDerived).Delete([]byte(pid))
	}
	if had && reflect.DeepEqual(old, in) {
		return nil
	}
	return tx.PutJSON(bucketPDerived, pid, in)
}

// aloneIn reports whether p is the only active member of their household.
func (tx *Tx) aloneIn(p appliance.Person) (bool, error) {
	if !p.Active() {
		return false, nil
	}
	pids, err := tx.memberIDs(p.Household)
	if err != nil {
		return false, err
	}
	for _, id := range pids {
		if id == p.ID {
			continue
		}
		var q appliance.Person
		if ok, err := tx.LWWJSON(bucketPeople, id, &q); err != nil {
			return false, err
		} else if ok && q.Active() && q.Household == p.Household {
			return false, nil
		}
	}
	return true, nil
}

// derivePerson computes a person's index keys and counters. Former members
// and members of closed households are kept as records only.
func derivePerson(p appliance.Person, h appliance.Household, alone bool) derived {
	var d derived
	if !p.Active() || h.ID == "" {
		return d
	}
	if h.Closed != "" {
		// Only the duplicate index: an ID number stays unique across open
		// and closed households (a member may arrive from another node
		// after the household closed there).
		if s := p.Sensitive; s != nil && s.IDNumber != "" {
			d.Dups = append(d.Dups, "id:"+s.IDNumber)
			d.Keys = append(d.Keys, [3]string{bucketDupIndex, "id:" + s.IDNumber + "\x00" + p.ID, p.Household})
		}
		return d
	}
	g := h.Group
	term := func(t string) {
		if t != "" {
			d.Keys = append(d.Keys, [3]string{bucketPSearch, t + "\x00" + p.ID, g})
		}
	}
	tag := func(t string) {
		d.Keys = append(d.Keys, [3]string{bucketPTags, t + "/" + g + "/" + p.ID, ""})
	}
	count := func(f string) { d.Counters = append(d.Counters, "g/"+g+"/"+f, "t/"+f) }
	name := p.Name
	term("n:" + name)
	if _, size := utf8.DecodeRuneInString(name); size < len(name) {
		term("n:" + name[size:]) // given name alone
	}
	for _, k := range appliance.PinyinKeys(name) {
		term("p:" + k)
	}
	if p.Phone != "" {
		digits := strings.ReplaceAll(p.Phone, "-", "")
		term("t:" + digits)
		term("u:" + reverse(digits))
	}
	tag(TagAll)
	count("people")
	if b := p.BirthDate(); !b.IsZero() {
		sex := "f"
		if p.Gender == "男" {
			sex = "m"
		}
		count("by/" + b.Format("2006") + "/" + sex)
	}
	if p.Dibao {
		tag(TagDibao)
		count(TagDibao)
	}
	if p.Residence == appliance.ResidenceAway {
		tag(TagAway)
		count(TagAway)
	}
	if alone {
		tag(TagAlone)
		count(TagAlone)
		// By birth date too, so "aged 80 and over" reads only the old.
		d.Keys = append(d.Keys, [3]string{bucketPTags, tagAloneBorn + p.Birth + "/" + g + "/" + p.ID, ""})
	}
	if s := p.Sensitive; s != nil {
		if s.IDNumber != "" {
			term("i:" + s.IDNumber)
			term("r:" + reverse(s.IDNumber))
		}
		if p.Disabled() {
			tag(TagDisabled)
			count(TagDisabled)
		}
		if len(s.KeyCategories) > 0 {
			tag(TagKey)
			count(TagKey)
		}
		for _, k := range s.KeyCategories {
			tag(tagKeyCat + k)
			count(tagKeyCat + k)
		}
		if s.IDNumber != "" {
			d.Dups = append(d.Dups, "id:"+s.IDNumber)
		}
	}
	d.Dups = append(d.Dups, "nb:"+p.Name+"|"+p.Birth)
	for _, k := range d.Dups {
		d.Keys = append(d.Keys, [3]string{bucketDupIndex, k + "\x00" + p.ID, p.Household})
	}
	return d
}

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// recomputeDup puts key on the review list when it is shared: an ID number
// by two records, a name and birth date by two households.
func recomputeDup(tx *Tx, key string) error {
	p := []byte(key + "\x00")
	var pids []string
	hhs := map[string]bool{}
	c := tx.Bucket(bucketDupIndex).Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		pids = append(pids, string(k[len(p):]))
		hhs[string(v)] = true
	}
	dup := len(pids) >= 2
	if strings.HasPrefix(key, "nb:") {
		dup = len(hhs) >= 2
	}
	if !dup {
		return tx.Bucket(bucketDups).Delete([]byte(key))
	}
	return tx.PutJSON(bucketDups, key, pids)
}

func applyVisit(tx *Tx, e *appliance.Entry) error {
	var v appliance.Visit
	if json.Unmarshal(e.Body, &v) != nil || v.Validate() != nil {
		return nil
	}
	when := v.Date + " " + v.Time
	key := []byte(v.Worker + "/" + when + "/" + v.ID)
	b := tx.Bucket(bucketVisits)
	if b.Get(key) != nil {
		return nil // the same visit twice
	}
	if err := b.Put(key, e.Body); err != nil {
		return err
	}
	if v.Household != "" {
		if err := tx.Bucket(bucketVisitHH).Put([]byte(v.Household+"/"+when+"/"+v.ID), []byte(v.Worker)); err != nil {
			return err
		}
		if err := tx.AddObjectEntry(archiveObjPrefix+v.Household, e); err != nil {
			return err
		}
	}
	if err := tx.Bucket(bucketVisitGroup).Put([]byte(v.Group+"/"+when+"/"+v.ID), []byte(v.Worker)); err != nil {
		return err
	}
	return tx.AddCounter(bucketVisitDays, v.Worker+"/"+v.Date, 1)
}
