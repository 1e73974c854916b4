package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"

	"gridbox/appliance"
)

// View buckets of cases.
const (
	bucketCases         = "v_cases"          // id → appliance.Case
	bucketCaseReporters = "v_case_reporters" // id → appliance.CaseReporter (only where the sealed part is held)
	bucketCaseStats     = "v_case_stats"     // counters, keys in appliance/case_stats.go
	bucketCaseDue       = "v_case_due"       // "L" level "|" due "|" id → "" for open cases with a deadline
	bucketCaseOrder     = "v_case_order"     // reported HLC (8 bytes) + id → level "|" status
	bucketCaseRegister  = "v_case_register"  // village "|" day → stamp + RegisterClose (earliest close wins)
	bucketCaseCity      = "v_case_city"      // id → "" for cases that reached the city (relayed by towns)
	bucketCaseCallback  = "v_case_callback"  // as v_case_order, for cases whose reporter waits for a call back
	bucketCaseOpen      = "v_case_open"      // as v_case_order, for open cases → openRef (what scopes and deadlines need)
)

// bucketCasePhotos holds photos and bucketCaseVoice voice messages by
// content address. They are not views (no entry carries the bytes) and are
// not replicated by the ledger.
var (
	bucketCasePhotos = []byte("case_photos")
	bucketCaseVoice  = []byte("case_voice")
)

type caseView struct{}

func (caseView) Name() string { return "cases" }

// Version 2: statistics by department, subcategory and category × outcome
// (the API for integrators) and the callback queue's index. Version 3: the
// open cases' index (v_case_open). Version 5: statistics as cells and
// day records (case_cells.go). A file folded by an older version is
// refolded at open.
func (caseView) Version() int { return 5 }

func (caseView) Buckets() []string {
	return []string{bucketCases, bucketCaseReporters, bucketCaseStats, bucketCaseCells, bucketCaseDays, bucketCaseDue, bucketCaseOrder, bucketCaseRegister, bucketCaseCity, bucketCaseCallback, bucketCaseOpen}
}

func init() { RegisterView(caseView{}) }

func (caseView) Apply(tx *Tx, e *appliance.Entry) error {
	if e.Kind == appliance.KindRegisterClose {
		return applyRegisterClose(tx, e)
	}
	if e.Kind == appliance.KindCaseRelay {
		var r appliance.CaseRelay
		if !decodeOK(e, &r) {
			return nil
		}
		if err := tx.AddObjectEntry("case/"+r.Step.Case, e); err != nil {
			return err
		}
		return tx.refoldCaseLater(r.Step.Case, false)
	}
	action := appliance.CaseActionOf(e.Kind)
	if action == "" {
		return nil
	}
	var st appliance.CaseStep
	if err := json.Unmarshal(e.Body, &st); err != nil || st.Case == "" || st.Action != action {
		slog.Warn("skip undecodable case entry", "feed", e.Feed.Short(), "seq", e.Seq)
		return nil
	}
	obj := "case/" + st.Case
	if err := tx.AddObjectEntry(obj, e); err != nil {
		return err
	}
	return tx.refoldCaseLater(st.Case, action == appliance.CaseRegister)
}

// refoldCaseLater refolds the case now, or once at the end of a batch of
// folds (Tx.batched).
func (tx *Tx) refoldCaseLater(id string, reporter bool) error {
	if tx.batch == nil {
		return refoldCase(tx, id, reporter)
	}
	tx.batch.cases[id] = tx.batch.cases[id] || reporter
	return nil
}

// refoldCase recomputes a case from all its entries in (HLC, feed, seq)
// order with the state machine, then moves counters and indexes by the
// difference between the stored state and the new one.
func refoldCase(tx *Tx, id string, reporter bool) error {
	entries, err := tx.ObjectEntries("case/" + id)
	if err != nil {
		return err
	}
	type ref struct {
		feed string
		seq  uint64
	}
	held := map[ref]bool{} // originals held: their relays are skipped
	for _, e := range entries {
		if e.Kind != appliance.KindCaseRelay {
			held[ref{e.Feed.String(), e.Seq}] = true
		}
	}
	roles := map[appliance.FeedID]string{}
	derived := map[appliance.FeedID]bool{}
	var c *appliance.Case
	for _, e := range entries {
		role, ok := roles[e.Feed]
		if !ok {
			role, derived[e.Feed] = feedRoleOf(tx, e.Feed)
			roles[e.Feed] = role
		}
		var st appliance.CaseStep
		var m appliance.StepMeta
		if e.Kind == appliance.KindCaseRelay {
			var r appliance.CaseRelay
			if json.Unmarshal(e.Body, &r) != nil || r.Validate() != nil || !derived[e.Feed] || role == "" {
				continue // relays count only from a parent's downward or upward feed
			}
			if r.Role == appliance.NodeCity && role != appliance.NodeTown {
				continue // the city's steps are relayed by a town, down to a village
			}
			if r.Role == appliance.NodeCity && upFeed(tx, e.Feed) {
				continue // a town cannot speak for the city on its upward feed
			}
			if held[ref{r.Feed, r.Seq}] {
				continue
			}
			held[ref{r.Feed, r.Seq}] = true
			st = r.Step
			m = appliance.StepMeta{At: r.At, NodeRole: r.Role, Feed: r.Feed, Seq: r.Seq, Author: r.Author}
		} else {
			if json.Unmarshal(e.Body, &st) != nil {
				continue
			}
			m = appliance.StepMeta{At: e.Time.Time(), NodeRole: role, Feed: e.Feed.String(), Seq: e.Seq, Author: e.Author}
		}
		n, err := appliance.NextCase(c, st, m)
		if err != nil {
			if c != nil {
				c.VoidEvent(st, m, appliance.ErrorMessage(err))
			}
			continue
		}
		c = n
	}
	var old *appliance.Case
	var o appliance.Case
	if ok, err := tx.GetJSON(bucketCases, id, &o); err != nil {
		return err
	} else if ok {
		old = &o
	}
	op, np := appliance.CaseStatParts(old), appliance.CaseStatParts(c)
	if err := putCaseDay(tx, id, op, np); err != nil {
		return err
	}
	// In a run of folds (Tx.batched) the sums are added once at its end;
	// alone, now.
	stats := statBatch{}
	if tx.batch != nil {
		stats = tx.batch.stats
	}
	stats.add(op, -1)
	stats.add(np, 1)
	if tx.batch == nil {
		if err := stats.flush(tx); err != nil {
			return err
		}
	}
	for k, n := range diffContributions(op.CounterKeys(), np.CounterKeys()) {
		if err := tx.AddCounter(bucketCaseStats, k, n); err != nil {
			return err
		}
	}
	due, order := tx.Bucket(bucketCaseDue), tx.Bucket(bucketCaseOrder)
	if old != nil {
		for _, k := range dueKeys(old) {
			if err := due.Delete(k); err != nil {
				return err
			}
		}
		if err := order.Delete(orderKey(old)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketCaseCallback).Delete(orderKey(old)); err != nil {
			return err
		}
		if err := tx.Bucket(bucketCaseOpen).Delete(orderKey(old)); err != nil {
			return err
		}
	}
	if c != nil && c.TopLevel == appliance.CaseLevelCity {
		err = tx.Bucket(bucketCaseCity).Put([]byte(id), nil)
	} else {
		err = tx.Bucket(bucketCaseCity).Delete([]byte(id))
	}
	if err != nil {
		return err
	}
	if c == nil {
		if err := tx.Bucket(bucketCaseReporters).Delete([]byte(id)); err != nil {
			return err
		}
		return tx.Bucket(bucketCases).Delete([]byte(id))
	}
	for _, k := range dueKeys(c) {
		if err := due.Put(k, nil); err != nil {
			return err
		}
	}
	if err := order.Put(orderKey(c), []byte(c.Level+"|"+c.Status)); err != nil {
		return err
	}
	if c.Callback == appliance.CallbackWanted {
		if err := tx.Bucket(bucketCaseCallback).Put(orderKey(c), []byte(c.Level+"|"+c.Status)); err != nil {
			return err
		}
	}
	if appliance.CaseOpen(c.Status) {
		if err := tx.Bucket(bucketCaseOpen).Put(orderKey(c), openRefOf(c).encode()); err != nil {
			return err
		}
	}
	if reporter {
		if err := putReporter(tx, c); err != nil {
			return err
		}
	}
	return tx.PutJSON(bucketCases, id, c)
}

// feedRoleOf is the role of the node that writes feed: from its node.init
// entry when this node holds it (a node's own feed), else from the first
// entry of a downward feed (node.down: a feed for a village is a town's, a
// feed for a town is a city's) or an upward feed (node.up: a town's),
// checked against the proof it carries. A village never holds its town's
// own feed, only the town's downward feed for it, so the town's steps fold
// there with the town's role. "" when unknown: the feed's steps are void.
//
// derived reports a downward or upward feed (which alone may carry relays:
// appliance.KindCaseRelay). Which of them a node holds is decided by
// replication's admission: a village takes only its parent's downward feed
// for it, a city only its towns' upward feeds.
func feedRoleOf(tx *Tx, feed appliance.FeedID) (role string, derived bool) {
	var n appliance.Node
	if ok, _ := tx.LWWJSON(bucketNodes, feed.String(), &n); ok {
		return n.Role, false
	}
	first, err := tx.Entry(feed, 1)
	if err != nil || first == nil || (first.Kind != appliance.KindNodeDown && first.Kind != appliance.KindNodeUp) {
		return "", false
	}
	h := first.Hash()
	key := string(feed[:]) + string(h[:])
	if r, ok := derivedRoles.Load(key); ok {
		return r.(string), r.(string) != ""
	}
	role = derivedRole(feed, first)
	derivedRoles.Store(key, role)
	return role, role != ""
}

// upFeed reports whether feed starts with node.up (a town's upward feed).
func upFeed(tx *Tx, feed appliance.FeedID) bool {
	first, err := tx.Entry(feed, 1)
	return err == nil && first.Kind == appliance.KindNodeUp
}

// derivedRoles caches derivedRole by feed and first entry's hash: the
// answer depends on nothing else, and checking the proof costs a signature
// verification per refold otherwise.
var derivedRoles sync.Map

func derivedRole(feed appliance.FeedID, first *appliance.Entry) string {
	var d appliance.DownFeed
	if first.DecodeBody(&d) != nil || d.Validate() != nil {
		return ""
	}
	parent, err := appliance.ParseFeedID(d.Parent)
	if err != nil || !appliance.VerifyDown(parent, d.Child, feed, d) {
		return ""
	}
	switch {
	case first.Kind == appliance.KindNodeUp && d.Child == appliance.UpClaim:
		return appliance.NodeTown
	case first.Kind != appliance.KindNodeDown:
		return ""
	case appliance.ValidateDivisionCode(d.Child, appliance.NodeVillage) == nil:
		return appliance.NodeTown
	case appliance.ValidateDivisionCode(d.Child, appliance.NodeTown) == nil:
		return appliance.NodeCity
	}
	return ""
}

// putReporter keeps the sealed part of the register entry that took effect,
// if this node holds it.
func putReporter(tx *Tx, c *appliance.Case) error {
	b := tx.Bucket(bucketCaseReporters)
	reg := c.Steps[0]
	feed, err := appliance.ParseFeedID(reg.Feed)
	if err != nil {
		return nil
	}
	e, err := tx.Entry(feed, reg.Seq)
	if appliance.ErrorCode(err) == appliance.ENOTFOUND {
		return b.Delete([]byte(c.ID)) // registered elsewhere, relayed here
	} else if err != nil {
		return err
	}
	var r appliance.CaseReporter
	if ok, err := e.DecodeSealed(&r); err != nil || !ok {
		return b.Delete([]byte(c.ID))
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return b.Put([]byte(c.ID), data)
}

func diffContributions(old, new map[string]int64) map[string]int64 {
	d := map[string]int64{}
	for k, n := range new {
		d[k] += n
	}
	for k, n := range old {
		d[k] -= n
	}
	for k, n := range d {
		if n == 0 {
			delete(d, k)
		}
	}
	return d
}

// dueKeys index an open case with a deadline by its level, for the lists of
// near and overdue cases and auto-escalation (counts use counters).
func dueKeys(c *appliance.Case) [][]byte {
	if !appliance.CaseOpen(c.Status) || c.Due == "" {
		return nil
	}
	return [][]byte{[]byte("L" + c.Level + "|" + c.Due + "|" + c.ID)}
}

// openRef is what counting and ordering the open cases of a scope needs,
// kept beside the order so that a dashboard decodes none of them: reading
// and decoding every open case on each load was half the box's CPU under
// load (docs/performance.md, issue 12).
type openRef struct {
	Level, Due, Group, Village string
	Departments                []string
	RegFeed, RegAuthor         string // of the register step, when the case has one
}

func openRefOf(c *appliance.Case) openRef {
	r := openRef{Level: c.Level, Due: c.Due, Group: c.Group, Village: c.Village, Departments: c.Departments}
	if len(c.Steps) > 0 && c.Steps[0].Action == appliance.CaseRegister {
		r.RegFeed, r.RegAuthor = c.Steps[0].Feed, c.Steps[0].Author
	}
	return r
}

// Fields are split by the unit separator, departments by the record
// separator: neither can be typed into a code, a date or an account id.
const (
	openSep     = 0x1f
	openDeptSep = 0x1e
)

func (r openRef) encode() []byte {
	return []byte(strings.Join([]string{r.Level, r.Due, r.Group, r.Village, r.RegFeed, r.RegAuthor, strings.Join(r.Departments, string(rune(openDeptSep)))}, string(rune(openSep))))
}

// openFields is an encoded openRef split in place (a scan over ten
// thousand open cases allocates nothing).
type openFields [7][]byte

const (
	ofLevel = iota
	ofDue
	ofGroup
	ofVillage
	ofRegFeed
	ofRegAuthor
	ofDepartments
)

func splitOpenRef(v []byte) (f openFields, ok bool) {
	for i := range f {
		if i == len(f)-1 {
			f[i] = v
			return f, bytes.IndexByte(v, openSep) < 0
		}
		j := bytes.IndexByte(v, openSep)
		if j < 0 {
			return f, false
		}
		f[i], v = v[:j], v[j+1:]
	}
	return f, true
}

func (f *openFields) hasDepartment(d string) bool {
	for v := f[ofDepartments]; len(v) > 0; {
		j := bytes.IndexByte(v, openDeptSep)
		if j < 0 {
			return string(v) == d
		}
		if string(v[:j]) == d {
			return true
		}
		v = v[j+1:]
	}
	return false
}

func orderKey(c *appliance.Case) []byte {
	k := binary.BigEndian.AppendUint64(nil, uint64(c.Reported.UnixMilli()))
	return append(k, c.ID...)
}

// applyRegisterClose keeps the earliest close of a day by (HLC, feed, seq):
// a second close cannot replace the first, whatever the arrival order.
func applyRegisterClose(tx *Tx, e *appliance.Entry) error {
	var r appliance.RegisterClose
	if !decodeOK(e, &r) {
		return nil
	}
	b := tx.Bucket(bucketCaseRegister)
	key := []byte(r.Village + "|" + r.Day)
	st := stampOf(e)
	if old := b.Get(key); len(old) >= stampSize && bytes.Compare(old[:stampSize], st) <= 0 {
		return nil
	}
	return b.Put(key, append(st, e.Body...))
}
