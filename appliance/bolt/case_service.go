package bolt

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"gridbox/appliance"
)

// Cases is the case service of a node: commands that check a step with the
// state machine and append it, and the queries behind the pages. It needs
// the configuration (deadlines, calendar, time zone), hence its own type.
type Cases struct {
	Store  *Store
	Config appliance.Config
	cal    atomic.Pointer[appliance.Calendar] // rebuilt when a year arrives (Calendar)
	Loc    *time.Location
	Now    func() time.Time // wall clock; tests and the demo set it
	Rand   io.Reader        // receipt codes and PINs; crypto/rand when nil
	// Clock judges the wall clock (the node's clock watch); nil trusts Now.
	Clock func() appliance.ClockState
}

// NewCases returns the case service of store.
func NewCases(store *Store, cfg appliance.Config) (*Cases, error) {
	cs := &Cases{Store: store, Config: cfg, Loc: cfg.Location(), Now: time.Now}
	if err := cs.loadCalendar(); err != nil {
		return nil, err
	}
	store.OnCommit(func(es []*appliance.Entry) {
		for _, e := range es {
			if e.Kind == appliance.KindCalendarSet || e.Kind == appliance.KindDownCopy {
				if err := cs.loadCalendar(); err != nil {
					slog.Error("load the working-day calendar", "err", err)
				}
				return
			}
		}
	})
	return cs, nil
}

// loadCalendar builds the calendar from the built-in table, the years
// entered as data and the configuration.
func (cs *Cases) loadCalendar() error {
	years, err := cs.Store.CalendarYears()
	if err != nil {
		return err
	}
	cal, err := appliance.NewCalendarWith(cs.Config.Calendar, years)
	if err != nil {
		return err
	}
	cs.cal.Store(cal)
	return nil
}

// Calendar is the working-day calendar deadlines count by now.
func (cs *Cases) Calendar() *appliance.Calendar { return cs.cal.Load() }

// now is the time deadlines and register days count from. A clock known
// to be wrong is never used: the parent's time when it was measured, else
// the latest time the ledger has seen (the register day then stays at or
// after the last day the box knew), and no deadline is set (clockUnknown).
func (cs *Cases) now() time.Time {
	if cs.Clock != nil {
		if st := cs.Clock(); st.Wrong {
			if !st.ParentChecked.IsZero() {
				return st.Now().In(cs.Loc)
			}
			if st.Ledger.After(st.Wall) {
				return st.Ledger.In(cs.Loc)
			}
		}
	}
	return cs.Now().In(cs.Loc)
}

// CountNow is the time deadlines count from now (see now).
func (cs *Cases) CountNow() time.Time { return cs.now() }

// clockUnknown reports a wall clock known to be wrong with no parent's
// time to correct it.
func (cs *Cases) clockUnknown() bool {
	if cs.Clock == nil {
		return false
	}
	st := cs.Clock()
	return st.Wrong && st.ParentChecked.IsZero()
}

func (cs *Cases) rand() io.Reader {
	if cs.Rand != nil {
		return cs.Rand
	}
	return rand.Reader
}

// dueFor is the deadline of a case of category arriving at level now.
func (cs *Cases) dueFor(category, level string, from time.Time) string {
	n := cs.Config.CaseDeadlineDays(category, level)
	if n <= 0 || cs.clockUnknown() {
		return ""
	}
	return cs.Calendar().AddWorkdays(from, n).Format("2006-01-02")
}

// CaseIntake is a new problem from any channel.
type CaseIntake struct {
	Category    string   `json:"category"`
	Subcategory string   `json:"subcategory,omitempty"` // one of the category's (cases.categories.subcategories)
	Description string   `json:"description"`
	Source      string   `json:"source"`
	Group       string   `json:"group,omitempty"`
	Household   string   `json:"household,omitempty"`
	Person      string   `json:"person,omitempty"`
	Name        string   `json:"name,omitempty"`  // sealed
	Phone       string   `json:"phone,omitempty"` // sealed
	Photos      [][]byte `json:"-"`
	// From the kiosk for villagers who cannot type (docs/cases.md, "Kiosk"):
	Phrases  []string `json:"phrases,omitempty"`  // tapped common problems, written into the description
	Callback bool     `json:"callback,omitempty"` // "请值班人员给我回电话": needs Phone
	Voice    []byte   `json:"-"`                  // a recorded voice message (WebM/Opus)
}

// Receipt is what the reporter takes home.
type Receipt struct {
	Code     string `json:"code"`
	PIN      string `json:"pin"`
	Category string `json:"category"`
	Day      string `json:"day"`
	Due      string `json:"due,omitempty"`
}

// RegisterCase takes in a problem: photos are prepared first (slow), then
// stored in the same transaction as the register entry.
func (cs *Cases) RegisterCase(ctx context.Context, author string, in CaseIntake) (Receipt, error) {
	rs, err := cs.RegisterMany(ctx, author, []CaseIntake{in})
	if err != nil {
		return Receipt{}, err
	}
	return rs[0], nil
}

// intake is a checked CaseIntake with its photos and voice prepared.
type intake struct {
	step   appliance.CaseStep
	rep    appliance.CaseReporter
	cat    appliance.Category
	photos map[string][]byte
	voice  map[string][]byte
}

// Descriptions of reports made without typing: the register step needs a
// description of at least four characters (older nodes check it too).
const (
	phrasesPrefix    = "点选："
	voiceOnlyText    = "（语音留言，请在问题页收听）"
	callbackOnlyText = "（请值班人员回电话）"
)

// describe writes the description of an intake: tapped phrases, then what
// was typed; a report with only a voice message or a callback request says
// so.
func describe(in CaseIntake) (string, error) {
	var parts []string
	if len(in.Phrases) > 0 {
		if err := appliance.ValidatePhrases(in.Phrases); err != nil {
			return "", err
		}
		parts = append(parts, phrasesPrefix+strings.Join(in.Phrases, "；"))
	}
	if t := strings.TrimSpace(in.Description); t != "" {
		parts = append(parts, t)
	}
	switch {
	case len(parts) > 0:
		return strings.Join(parts, "\n"), nil
	case len(in.Voice) > 0:
		return voiceOnlyText, nil
	case in.Callback:
		return callbackOnlyText, nil
	}
	return "", nil
}

func (cs *Cases) checkIntake(in CaseIntake, now time.Time) (intake, error) {
	node := cs.Config.Node
	cat, ok := cs.Config.Category(in.Category)
	if !ok {
		return intake{}, appliance.FieldError("category", "请选择问题类别")
	}
	if err := appliance.CheckSubcategory(cat, in.Subcategory); err != nil {
		return intake{}, err
	}
	in.Phone = appliance.NormalizePhone(in.Phone)
	if in.Callback && in.Phone == "" {
		return intake{}, appliance.FieldError("phone", "请输入您的电话号码，值班人员好给您回电话")
	}
	if err := appliance.ValidatePhone("phone", in.Phone, false); err != nil {
		return intake{}, err
	}
	text, err := describe(in)
	if err != nil {
		return intake{}, err
	}
	if len([]rune(in.Name)) > 30 {
		return intake{}, appliance.FieldError("name", "姓名不能超过30个字")
	}
	if len(in.Photos) > appliance.MaxCasePhotos {
		return intake{}, appliance.FieldError("photos", "照片最多%d张", appliance.MaxCasePhotos)
	}
	levels := appliance.LevelsOf(node.Role)
	if len(levels) == 0 {
		return intake{}, appliance.Errorf(appliance.EINTERNAL, "节点类型未知")
	}
	by := levels[len(levels)-1]
	if node.Role == appliance.NodeVillage && in.Group != "" && !cat.Triage {
		// The grid leader of the group handles it first; 其他 / 说不清
		// goes to the duty room (the village) to be sorted out.
		by = appliance.CaseLevelGroup
	}
	it := intake{cat: cat, photos: map[string][]byte{}, voice: map[string][]byte{}}
	it.step = appliance.CaseStep{
		Action: appliance.CaseRegister, By: by, Day: now.Format("2006-01-02"), Text: text,
		Category: cat.Key, Subcategory: in.Subcategory, Source: in.Source, Village: node.Code, Group: in.Group, Household: in.Household, Person: in.Person,
		Due: cs.dueFor(cat.Key, by, now), Callback: in.Callback,
	}
	if len(in.Voice) > 0 {
		data, sum, _, err := appliance.PrepareVoice(in.Voice)
		if err != nil {
			return intake{}, err
		}
		it.step.Voice = []string{sum}
		it.voice[sum] = data
	}
	for _, p := range in.Photos {
		data, sum, err := appliance.PreparePhoto(p)
		if err != nil {
			return intake{}, err
		}
		if _, dup := it.photos[sum]; !dup {
			it.step.Photos = append(it.step.Photos, sum)
		}
		it.photos[sum] = data
	}
	it.rep = appliance.CaseReporter{Name: strings.TrimSpace(in.Name), Phone: in.Phone, PIN: appliance.NewPIN(cs.rand())}
	return it, nil
}

// RegisterMany takes in several problems in one transaction (the demo and
// imports); each gets its own receipt.
func (cs *Cases) RegisterMany(ctx context.Context, author string, ins []CaseIntake) ([]Receipt, error) {
	now := cs.now()
	its := make([]intake, len(ins))
	for i, in := range ins {
		var err error
		if its[i], err = cs.checkIntake(in, now); err != nil {
			return nil, err
		}
	}
	village := cs.Config.Node.Code
	// Reports come in crowds (the kiosk, a patrol's photos): they share
	// commits. The function may run more than once; only its last run counts.
	_, err := cs.Store.WriteGrouped(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		taken := map[string]bool{}
		drafts := make([]appliance.Draft, 0, len(its))
		for i := range its {
			it := &its[i]
			it.step.Day = tx.openRegisterDay(village, it.step.Day)
			if g := it.step.Group; g != "" {
				if grid, ok, err := tx.Grid(g); err != nil {
					return nil, err
				} else if !ok || grid.Level != appliance.LevelGroup || grid.Parent != village {
					return nil, appliance.FieldError("group", "所在村组不存在")
				}
			}
			for n := 0; ; n++ { // a fresh code: collisions are rare but possible
				it.step.Case = appliance.NewReceiptCode(cs.rand())
				if !taken[it.step.Case] && tx.Bucket(bucketCases).Get([]byte(it.step.Case)) == nil {
					break
				} else if n > 10 {
					return nil, fmt.Errorf("no free receipt code")
				}
			}
			taken[it.step.Case] = true
			if _, err := appliance.NextCase(nil, it.step, appliance.StepMeta{At: now, NodeRole: cs.Config.Node.Role}); err != nil {
				return nil, err
			}
			if err := putBlobs(tx, bucketCasePhotos, it.photos); err != nil {
				return nil, err
			}
			if err := putBlobs(tx, bucketCaseVoice, it.voice); err != nil {
				return nil, err
			}
			drafts = append(drafts, appliance.Draft{Author: author, Kind: appliance.CaseKind(appliance.CaseRegister), Version: 1, Body: it.step, Sealed: it.rep})
		}
		return drafts, nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Receipt, len(its))
	for i, it := range its {
		out[i] = Receipt{Code: it.step.Case, PIN: it.rep.PIN, Category: it.cat.Name, Day: it.step.Day, Due: it.step.Due}
	}
	return out, nil
}

// putBlobs stores photos or voice messages by content address.
func putBlobs(tx *Tx, bucket []byte, blobs map[string][]byte) error {
	if len(blobs) == 0 {
		return nil
	}
	b, err := tx.tx.CreateBucketIfNotExists(bucket)
	if err != nil {
		return err
	}
	for sum, data := range blobs {
		if err := b.Put([]byte(sum), data); err != nil {
			return err
		}
	}
	return nil
}

// ActMany checks and appends steps on distinct cases: one transaction per
// feed they go to (on a town node, one per village: see write).
func (cs *Cases) ActMany(ctx context.Context, author string, levels []string, steps []appliance.CaseStep) error {
	seen := map[string]bool{}
	for _, st := range steps {
		if seen[st.Case] {
			return fmt.Errorf("act many: case %s twice", st.Case)
		}
		seen[st.Case] = true
	}
	var order []string
	byChild := map[string][]appliance.CaseStep{}
	for _, st := range steps {
		child, err := cs.childOfCase(st.Case)
		if err != nil {
			return err
		}
		if _, ok := byChild[child]; !ok {
			order = append(order, child)
		}
		byChild[child] = append(byChild[child], st)
	}
	for _, child := range order {
		err := cs.write(ctx, child, func(tx *Tx) ([]appliance.Draft, error) {
			var drafts []appliance.Draft
			for _, st := range byChild[child] {
				d, _, err := cs.prepare(tx, author, levels, st)
				if err == nil {
					err = cs.sameChild(tx, d, child)
				}
				if err != nil {
					return nil, fmt.Errorf("%s %s: %w", st.Action, st.Case, err)
				}
				drafts = append(drafts, d)
			}
			return drafts, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Act checks a step against the case's state and appends it. levels are the
// levels the acting person may act for; By is filled with the case's
// current level when it is one of them (for notes: the first of them), and
// Day and the deadline at the level the case moves to are filled in.
func (cs *Cases) Act(ctx context.Context, author string, levels []string, step appliance.CaseStep) (*appliance.Case, error) {
	var id string
	child, err := cs.childOfCase(step.Case)
	if err != nil {
		return nil, err
	}
	err = cs.write(ctx, child, func(tx *Tx) ([]appliance.Draft, error) {
		d, _, err := cs.prepare(tx, author, levels, step)
		if err != nil {
			return nil, err
		}
		if err := cs.sameChild(tx, d, child); err != nil {
			return nil, err
		}
		id = d.Body.(appliance.CaseStep).Case
		return []appliance.Draft{d}, nil
	})
	if err != nil {
		return nil, err
	}
	if err := cs.Relay(ctx, id); err != nil { // a town's step on a case at the city
		slog.Error("case relay", "case", id, "err", err) // RunRelay tries again
	}
	return cs.Case(id) // as folded, with the entry's time and place
}

// ChildFor is the division code of the child node whose downward feed
// carries this node's steps on case c, "" for this node's own feed:
//   - on a town node, a case of one of its villages: that village (the
//     village box folds the town's dispatch, deadlines, meetings, result and
//     feedback and shows them on its kiosk's progress page);
//   - on a city node, a case of a village or town: that town;
//   - otherwise (a village node; a case registered at this node): "".
func (cs *Cases) ChildFor(c *appliance.Case) string {
	node := cs.Config.Node
	if c == nil || c.Village == "" || c.Village == node.Code {
		return ""
	}
	switch node.Role {
	case appliance.NodeTown:
		if appliance.ValidateDivisionCode(c.Village, appliance.NodeVillage) == nil {
			return c.Village
		}
	case appliance.NodeCity:
		if appliance.ValidateDivisionCode(c.Village, appliance.NodeVillage) == nil {
			return c.Village[:9] + "000"
		}
		if appliance.ValidateDivisionCode(c.Village, appliance.NodeTown) == nil {
			return c.Village
		}
	}
	return ""
}

// childOfCase is ChildFor of the stored case id ("" if there is none: the
// command check then says so).
func (cs *Cases) childOfCase(id string) (string, error) {
	code, err := appliance.NormalizeReceiptCode(id)
	if err != nil {
		return "", nil
	}
	var child string
	err = cs.Store.Read(func(tx *Tx) error {
		c, err := tx.Case(code)
		if err == nil {
			child = cs.ChildFor(c)
		}
		return nil
	})
	return child, err
}

// sameChild checks, inside the write, that the case of d still goes to the
// feed chosen before the transaction (a case's village never changes, so
// this fails only for a case that arrived in between).
func (cs *Cases) sameChild(tx *Tx, d appliance.Draft, child string) error {
	c, err := tx.Case(d.Body.(appliance.CaseStep).Case)
	if err != nil {
		return err
	}
	if cs.ChildFor(c) != child {
		return appliance.Errorf(appliance.ECONFLICT, "问题所属村已变化，请重试")
	}
	return nil
}

// write appends with the command check in fn to this node's own feed
// (child "") or to its downward feed for child (Store.WriteDown).
func (cs *Cases) write(ctx context.Context, child string, fn func(tx *Tx) ([]appliance.Draft, error)) error {
	var err error
	if child == "" {
		_, err = cs.Store.Write(ctx, fn)
	} else {
		_, err = cs.Store.WriteDown(ctx, child, fn)
	}
	return err
}

func (cs *Cases) prepare(tx *Tx, author string, levels []string, step appliance.CaseStep) (appliance.Draft, *appliance.Case, error) {
	code, err := appliance.NormalizeReceiptCode(step.Case)
	if err != nil {
		return appliance.Draft{}, nil, appliance.Errorf(appliance.ENOTFOUND, "问题编号格式错误")
	}
	step.Case = code
	c, err := tx.Case(code)
	if err != nil {
		return appliance.Draft{}, nil, err
	}
	now := cs.now()
	mine := appliance.LevelsOf(cs.Config.Node.Role)
	var may []string
	for _, l := range levels {
		if contains(mine, l) {
			may = append(may, l)
		}
	}
	if len(may) == 0 {
		return appliance.Draft{}, nil, appliance.Errorf(appliance.EFORBIDDEN, "您的账号不能办理问题")
	}
	step.By = may[0]
	if contains(may, c.Level) {
		step.By = c.Level
	} else if step.Action != appliance.CaseNote {
		return appliance.Draft{}, nil, appliance.Errorf(appliance.EFORBIDDEN, "该问题目前由%s办理，您只能添加备注", appliance.CaseLevelLabels[c.Level])
	}
	step.Day = tx.openRegisterDay(c.Village, now.Format("2006-01-02"))
	switch step.Action {
	case appliance.CaseEscalate:
		step.To = appliance.NextCaseLevel(c.Level)
		if err := cs.checkLevelAbove(step.To); err != nil {
			return appliance.Draft{}, nil, err
		}
		step.Due = cs.dueFor(c.Category, step.To, now)
	case appliance.CaseReturn:
		step.Due = cs.dueFor(c.Category, step.To, now)
	case appliance.CaseDispatch:
		if step.Due == "" {
			step.Due = cs.dueFor(c.Category, c.Level, now)
		}
		if step.Due != "" && step.Due < step.Day {
			return appliance.Draft{}, nil, appliance.FieldError("due", "办理期限不能早于今天")
		}
	case appliance.CaseFollowUp:
		step.Due = ""
		if step.Rating == appliance.RatingUnsatisfied {
			step.Due = cs.dueFor(c.Category, c.ResolvedLevel, now)
		}
	case appliance.CaseClassify:
		cat, ok := cs.Config.Category(step.Category)
		if !ok {
			return appliance.Draft{}, nil, appliance.FieldError("category", "请选择问题类别")
		}
		if err := appliance.CheckSubcategory(cat, step.Subcategory); err != nil {
			return appliance.Draft{}, nil, err
		}
		level := c.Level
		if step.Group != "" {
			if g, ok, err := tx.Grid(step.Group); err != nil {
				return appliance.Draft{}, nil, err
			} else if !ok || g.Level != appliance.LevelGroup || g.Parent != c.Village {
				return appliance.Draft{}, nil, appliance.FieldError("group", "所在村组不存在")
			}
			level = appliance.CaseLevelGroup
		}
		step.Category, step.Due = cat.Key, cs.dueFor(cat.Key, level, now)
	case appliance.CaseMerge:
		step.Due = ""
		dup, err := appliance.NormalizeReceiptCode(step.DuplicateOf)
		if err != nil {
			return appliance.Draft{}, nil, appliance.FieldError("duplicate_of", "请填写与之重复的另一个问题编号")
		}
		if _, err := tx.Case(dup); err != nil {
			return appliance.Draft{}, nil, appliance.FieldError("duplicate_of", "与之重复的问题 %s 不存在", dup)
		}
		step.DuplicateOf = dup
	default:
		step.Due = ""
	}
	if step.Action == appliance.CaseRegister {
		return appliance.Draft{}, nil, appliance.FieldError("action", "登记请使用问题登记")
	}
	step = step.Trimmed()
	n, err := appliance.NextCase(c, step, appliance.StepMeta{At: now, NodeRole: cs.Config.Node.Role, Author: author})
	if err != nil {
		return appliance.Draft{}, nil, err
	}
	return appliance.Draft{Author: author, Kind: appliance.CaseKind(step.Action), Version: 1, Body: step}, n, nil
}

// checkLevelAbove refuses to send a case up to the city when this town has
// no city configured (node.parent or replicate.parent_key): the case would
// sit at a level no one sees. A village's cases always go to its town,
// which the box reaches when a link exists.
func (cs *Cases) checkLevelAbove(level string) error {
	node := cs.Config.Node
	if level != appliance.CaseLevelCity || node.Role != appliance.NodeTown || node.Parent != "" || cs.Config.Replicate.ParentKey != "" {
		return nil
	}
	return appliance.Errorf(appliance.ECONFLICT, "本镇没有配置上级市平台（配置项 node.parent），不能上报到市；请在本级办理、召开联席会议，或由管理员先配置市平台")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Case reads a case inside a transaction.
func (tx *Tx) Case(id string) (*appliance.Case, error) {
	var c appliance.Case
	ok, err := tx.GetJSON(bucketCases, id, &c)
	if err != nil {
		return nil, err
	} else if !ok {
		return nil, appliance.Errorf(appliance.ENOTFOUND, "问题 %s 不存在", id)
	}
	return &c, nil
}

// Case returns a case by id (its receipt code, in any spelling).
func (cs *Cases) Case(id string) (*appliance.Case, error) {
	code, err := appliance.NormalizeReceiptCode(id)
	if err != nil {
		return nil, appliance.Errorf(appliance.ENOTFOUND, "问题编号格式错误")
	}
	var c *appliance.Case
	err = cs.Store.Read(func(tx *Tx) error {
		c, err = tx.Case(code)
		return err
	})
	return c, err
}

// Reporter returns the sealed part of a case's registration; ENOTFOUND when
// this node does not hold it.
func (cs *Cases) Reporter(id string) (appliance.CaseReporter, error) {
	var r appliance.CaseReporter
	err := cs.Store.Read(func(tx *Tx) error {
		ok, err := tx.GetJSON(bucketCaseReporters, id, &r)
		if err == nil && !ok {
			err = appliance.Errorf(appliance.ENOTFOUND, "本节点没有该问题反映人的信息")
		}
		return err
	})
	return r, err
}

// AuthorName names the author of a case event.
func (cs *Cases) AuthorName(feed, id string) string {
	f, err := appliance.ParseFeedID(feed)
	if err != nil {
		return id
	}
	name := id
	cs.Store.Read(func(tx *Tx) error { name = tx.AuthorName(f, id); return nil })
	return name
}

// CaseFilter selects cases for lists; nil fields are not given.
type CaseFilter struct {
	Status   *string
	Level    *string // current level; "mine" is resolved by the caller
	Levels   []string
	Category *string
	Group    *string
	Village  *string
	Open     *bool
	Callback *bool   // waiting to be called back (appliance.CallbackWanted)
	Query    *string // in the description or the code
	Limit    int
	Before   string // id of the last case of the previous page
}

// FindCases returns cases newest first.
func (cs *Cases) FindCases(f CaseFilter) ([]*appliance.Case, string, error) {
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	var out []*appliance.Case
	next := ""
	err := cs.Store.Read(func(tx *Tx) error {
		// The callback queue has its own index: the dashboard counts it on
		// every load, and a scan of all cases was half the box's CPU.
		index := bucketCaseOrder
		if f.Callback != nil && *f.Callback {
			index = bucketCaseCallback
		}
		c := tx.Bucket(index).Cursor()
		k, v := c.Last()
		if f.Before != "" {
			if b, err := tx.Case(f.Before); err == nil {
				c.Seek(orderKey(b))
				k, v = c.Prev()
			}
		}
		for ; k != nil; k, v = c.Prev() {
			level, status, _ := strings.Cut(string(v), "|")
			if f.Status != nil && status != *f.Status || f.Level != nil && level != *f.Level ||
				len(f.Levels) > 0 && !contains(f.Levels, level) || f.Open != nil && appliance.CaseOpen(status) != *f.Open {
				continue
			}
			cc, err := tx.Case(string(k[8:]))
			if err != nil {
				return err
			}
			if f.Category != nil && cc.Category != *f.Category || f.Group != nil && cc.Group != *f.Group ||
				f.Village != nil && cc.Village != *f.Village || f.Callback != nil && (cc.Callback == appliance.CallbackWanted) != *f.Callback ||
				f.Query != nil && !strings.Contains(cc.Description, *f.Query) && !strings.Contains(cc.ID, strings.ToUpper(*f.Query)) {
				continue
			}
			if len(out) == f.Limit {
				next = out[len(out)-1].ID
				break
			}
			out = append(out, cc)
		}
		return nil
	})
	return out, next, err
}

// DueCase is an open case with where it stands against its deadline.
type DueCase struct {
	Case    *appliance.Case `json:"case"`
	State   string          `json:"state"`        // appliance.DueOverdue, appliance.DueNear or ""
	Overdue bool            `json:"overdue"`      // State is overdue
	Days    int             `json:"working_days"` // left (near) or past (overdue)
}

// CaseScope chooses the open cases a count or list covers. Every page's
// open, near and overdue figures come from OpenCases with a scope, so a
// dashboard, the statistics, a list and a register agree when their scopes
// do.
type CaseScope struct {
	Area         string   // "" everything held; else a town, village or group code
	Levels       []string // only cases now at these levels; none: any level
	Department   string   // only cases dispatched to this department
	RegisteredBy string   // only cases this account of this node registered
}

// covers reports whether an open case lies in the scope; self is this
// node's feed.
func (sc CaseScope) covers(f *openFields, self string) bool {
	if len(sc.Levels) > 0 && !slices.ContainsFunc(sc.Levels, func(l string) bool { return string(f[ofLevel]) == l }) {
		return false
	}
	v := f[ofVillage]
	switch {
	case sc.Area == "":
	case len(sc.Area) == 15:
		if string(f[ofGroup]) != sc.Area {
			return false
		}
	case strings.HasSuffix(sc.Area, "000"):
		// appliance.TownOf without making a string of the village.
		if len(v) == 12 && (string(v[:9]) != sc.Area[:9]) || len(v) != 12 && string(v) != sc.Area {
			return false
		}
	default:
		if string(v) != sc.Area {
			return false
		}
	}
	if sc.Department != "" && !f.hasDepartment(sc.Department) {
		return false
	}
	return sc.RegisteredBy == "" || string(f[ofRegAuthor]) == sc.RegisteredBy && string(f[ofRegFeed]) == self
}

// DueClock is the deadline clock at now, in the node's zone.
func (cs *Cases) DueClock(now time.Time) appliance.DueClock {
	return appliance.NewDueClock(now.In(cs.Loc), cs.Calendar(), cs.Config.Cases.NearDays)
}

// OpenCases returns the open cases in scope, overdue first (longest
// overdue first), then near, then the rest by deadline (those without one
// last), at most limit of them (0: all, -1: none), with the counts of the
// whole scope. It counts from the open cases' index and reads only the
// cases it returns, so a dashboard's eight cost the same among ten
// thousand.
func (cs *Cases) OpenCases(sc CaseScope, now time.Time, limit int) ([]DueCase, appliance.CaseCounts, error) {
	return cs.openCases(sc, now, limit, false)
}

// OpenDueCases is OpenCases of the near and overdue cases only; the counts
// are still those of the whole scope.
func (cs *Cases) OpenDueCases(sc CaseScope, now time.Time) ([]DueCase, appliance.CaseCounts, error) {
	return cs.openCases(sc, now, 0, true)
}

func (cs *Cases) openCases(sc CaseScope, now time.Time, limit int, dueOnly bool) ([]DueCase, appliance.CaseCounts, error) {
	clock := cs.DueClock(now)
	self := cs.Store.Feed().String()
	type ref struct {
		id, due string
		rank    int // overdue, near, the rest
	}
	// beforeDay orders the list (a scanned day against a kept case): by
	// rank, then by deadline (none last); ties keep the index's order,
	// newest first.
	beforeDay := func(rank int, due []byte, b ref) bool {
		if rank != b.rank {
			return rank < b.rank
		}
		if (len(due) == 0) != (b.due == "") {
			return b.due == ""
		}
		return string(due) < b.due
	}
	var refs []ref
	var n appliance.CaseCounts
	var out []DueCase
	err := cs.Store.Read(func(tx *Tx) error {
		c := tx.Bucket(bucketCaseOpen).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			f, ok := splitOpenRef(v)
			if !ok || len(k) <= 8 || !sc.covers(&f, self) {
				continue
			}
			// clock.Of without making a string of the day.
			due, st, rank := f[ofDue], "", 2
			switch {
			case len(due) == 0:
			case string(due) < clock.Today:
				st, rank = appliance.DueOverdue, 0
				n.Overdue++
			case string(due) <= clock.NearEnd:
				st, rank = appliance.DueNear, 1
				n.Near++
			}
			n.Open++
			if dueOnly && st == "" || limit < 0 {
				continue
			}
			r := ref{rank: rank}
			if limit == 0 {
				r.id, r.due = string(k[8:]), string(due)
				refs = append(refs, r)
				continue
			}
			// Only the first limit are kept: a dashboard's eight among
			// thousands; the insertion keeps ties in index order. The
			// strings are made only for a case that gets in.
			i := len(refs)
			for i > 0 && beforeDay(r.rank, due, refs[i-1]) {
				i--
			}
			if i >= limit {
				continue
			}
			r.id, r.due = string(k[8:]), string(due)
			refs = slices.Insert(refs, i, r)
			if len(refs) > limit {
				refs = refs[:limit]
			}
		}
		if limit == 0 {
			// A day is 10 bytes: the conversion stays on the stack.
			sort.SliceStable(refs, func(i, j int) bool { return beforeDay(refs[i].rank, []byte(refs[i].due), refs[j]) })
		}
		out = make([]DueCase, 0, len(refs))
		for _, r := range refs {
			cc, err := tx.Case(r.id)
			if err != nil {
				return err
			}
			d := DueCase{Case: cc, State: clock.Of(r.due)}
			d.Overdue = d.State == appliance.DueOverdue
			if cc.Due != "" {
				due, _ := time.ParseInLocation("2006-01-02", cc.Due, cs.Loc)
				if d.Overdue {
					d.Days = cs.Calendar().WorkdaysBetween(due, clock.Now)
				} else {
					d.Days = cs.Calendar().WorkdaysBetween(clock.Now, due)
				}
			}
			out = append(out, d)
		}
		return nil
	})
	return out, n, err
}

// CountCases returns the open, near and overdue counts of a scope. A scope
// of a place alone is counted from the counters (one per deadline day,
// classified by the same clock as OpenCases), never reading the cases; any
// other scope reads its open cases with OpenCases.
func (cs *Cases) CountCases(sc CaseScope, now time.Time) (appliance.CaseCounts, error) {
	if len(sc.Levels) > 0 || sc.Department != "" || sc.RegisteredBy != "" {
		_, n, err := cs.OpenCases(sc, now, -1)
		return n, err
	}
	key, err := statsScope(sc.Area)
	if err != nil {
		return appliance.CaseCounts{}, err
	}
	clock := cs.DueClock(now)
	var n appliance.CaseCounts
	err = cs.Store.Read(func(tx *Tx) error {
		n.Open = cellDims(tx, "*|"+key)["open"]
		for day, m := range tx.Counters(bucketCaseStats, "due|"+key+"|") {
			n.AddDue(clock, day, m)
		}
		return nil
	})
	return n, err
}

// DueCases lists open cases at the given levels that are past their
// deadline or near it, most urgent first.
func (cs *Cases) DueCases(levels []string, now time.Time) ([]DueCase, error) {
	out, _, err := cs.OpenDueCases(CaseScope{Levels: levels}, now)
	return out, err
}

// EscalateOverdue escalates every open case at a level this node acts for
// whose deadline has passed and whose category is set to auto_escalate. It
// returns how many went up. The server runs it hourly (ui/case_auto.go).
func (cs *Cases) EscalateOverdue(ctx context.Context, now time.Time) (int, error) {
	now = now.In(cs.Loc)
	today := now.Format("2006-01-02")
	auto := map[string]bool{}
	for _, c := range cs.Config.Cases.Categories {
		auto[c.Key] = c.AutoEscalate
	}
	var ids []string
	err := cs.Store.Read(func(tx *Tx) error {
		for _, l := range appliance.LevelsOf(cs.Config.Node.Role) {
			if l == appliance.CaseLevelCity || cs.checkLevelAbove(appliance.NextCaseLevel(l)) != nil {
				continue
			}
			p := []byte("L" + l + "|")
			c := tx.Bucket(bucketCaseDue).Cursor()
			for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
				parts := strings.SplitN(string(k[len(p):]), "|", 2)
				if len(parts) != 2 || parts[0] >= today {
					break
				}
				cc, err := tx.Case(parts[1])
				if err != nil {
					return err
				}
				if auto[cc.Category] && Confirmed(cc) {
					ids = append(ids, cc.ID)
				}
			}
		}
		return nil
	})
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	byChild := map[string][]string{}
	var order []string
	err = cs.Store.Read(func(tx *Tx) error {
		for _, id := range ids {
			c, err := tx.Case(id)
			if err != nil {
				return err
			}
			child := cs.ChildFor(c)
			if _, ok := byChild[child]; !ok {
				order = append(order, child)
			}
			byChild[child] = append(byChild[child], id)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	total := 0
	for _, child := range order {
		n := 0
		err := cs.write(ctx, child, func(tx *Tx) ([]appliance.Draft, error) {
			n = 0
			var drafts []appliance.Draft
			for _, id := range byChild[child] {
				c, err := tx.Case(id)
				if err != nil || cs.ChildFor(c) != child {
					continue
				}
				step := appliance.CaseStep{Case: id, Action: appliance.CaseEscalate,
					Text: fmt.Sprintf("超过%s办理期限（%s）未办结，系统自动上报", appliance.CaseLevelLabels[c.Level], c.Due)}
				d, _, err := cs.prepare(tx, "", appliance.LevelsOf(cs.Config.Node.Role), step)
				if err != nil {
					continue // moved on meanwhile
				}
				drafts = append(drafts, d)
				n++
			}
			return drafts, nil
		})
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// Confirmed reports whether a case's category is more than the reporter's
// own guess: a villager's choice at the kiosk counts only once staff took
// the case up (受理), changed or confirmed its category, or moved it. Until
// then an overdue kiosk case is listed as overdue but not sent up by the
// clock, so a wrong tap never escalates it (docs/cases.md, "Kiosk").
func Confirmed(c *appliance.Case) bool {
	if c.Source != appliance.SourceKiosk {
		return true
	}
	for _, e := range c.Steps {
		if e.Void != "" {
			continue
		}
		switch e.Action {
		case appliance.CaseAssign, appliance.CaseClassify, appliance.CaseEscalate, appliance.CaseReturn, appliance.CaseDispatch:
			return true
		}
	}
	return false
}

// Voice returns a stored voice message by its content address.
func (cs *Cases) Voice(sum string) ([]byte, error) {
	return cs.blob(bucketCaseVoice, sum, "录音不存在（可能还没有从村里传上来）")
}

// Photo returns a stored photo by its content address.
func (cs *Cases) Photo(sum string) ([]byte, error) {
	return cs.blob(bucketCasePhotos, sum, "照片不存在")
}

func (cs *Cases) blob(bucket []byte, sum, missing string) ([]byte, error) {
	var out []byte
	err := cs.Store.Read(func(tx *Tx) error {
		if b := tx.tx.Bucket(bucket); b != nil {
			out = append(out, b.Get([]byte(sum))...)
		}
		if len(out) == 0 {
			return appliance.Errorf(appliance.ENOTFOUND, "%s", missing)
		}
		return nil
	})
	return out, err
}

// pinState is the node-local record of wrong PINs for a receipt code.
type pinState struct {
	Fails int       `json:"fails"`
	Until time.Time `json:"until,omitzero"`
	Last  time.Time `json:"last,omitzero"` // the last wrong PIN
}

// Track returns a case for its receipt code and PIN. Wrong PINs are
// counted per code, for unknown codes too (so the answer says nothing about
// whether a code exists); after pin_tries the code locks for pin_lock, so
// four digits cannot be guessed by trying. The error of a wrong PIN says
// how many tries are left (also TriesLeft). A right PIN only reads: a
// lookup costs no write (and no fsync) unless a wrong PIN is to be counted
// or earlier ones forgotten.
func (cs *Cases) Track(code, pin string) (*appliance.Case, error) {
	code, err := appliance.NormalizeReceiptCode(code)
	if err != nil {
		return nil, err
	}
	if pin, err = appliance.NormalizePIN(pin); err != nil {
		return nil, err
	}
	now := cs.Now()
	var c *appliance.Case
	var out error
	var clear bool
	err = cs.Store.Read(func(tx *Tx) error {
		var right bool
		var st pinState
		c, right, st, out, err = cs.checkPIN(tx, code, pin, now)
		clear = right && st.Fails > 0
		if !right {
			c = nil // counted below, in a write
		}
		return err
	})
	if err != nil || out != nil || c != nil && !clear {
		return c, firstErr(err, out)
	}
	// A wrong PIN to count, or a right one after wrong ones to forget:
	// check again inside the write, so racing guesses all count.
	err = cs.Store.Update(func(tx *Tx) error {
		var right bool
		var st pinState
		c, right, st, out, err = cs.checkPIN(tx, code, pin, now)
		if err != nil || out != nil {
			return err
		}
		key := []byte("casepin/" + code)
		if right {
			return tx.Bucket("local").Delete(key)
		}
		c = nil
		st.Fails++
		left := cs.pinTries() - st.Fails
		if left <= 0 {
			st.Fails, st.Until, left = 0, now.Add(cs.Config.Cases.PINLock.Duration), 0
		}
		st.Last = now
		data, _ := json.Marshal(st)
		if left == 0 {
			out = appliance.FieldError("pin", "回执编号或查询密码不正确；输错次数过多，该回执已暂停查询%d分钟，请到值班室查询", int(cs.Config.Cases.PINLock.Minutes()))
		} else {
			out = appliance.FieldError("pin", "回执编号或查询密码不正确，请核对回执；还可以再试%d次", left)
		}
		return tx.Bucket("local").Put(key, data)
	})
	if err != nil {
		return nil, err
	}
	return c, out
}

// checkPIN reads what Track decides on: the case (nil for an unknown
// code), whether pin is its PIN, the code's wrong-PIN record, and a
// refusal (locked, or no reporter here) if there is one.
func (cs *Cases) checkPIN(tx *Tx, code, pin string, now time.Time) (*appliance.Case, bool, pinState, error, error) {
	st := cs.pinState(tx.Bucket("local").Get([]byte("casepin/"+code)), now)
	if now.Before(st.Until) {
		return nil, false, st, appliance.Errorf(appliance.ELOCKED, "该回执查询密码输错次数过多，已暂停查询，请%d分钟后再试，或到值班室查询", int(st.Until.Sub(now).Minutes())+1), nil
	}
	cc, err := tx.Case(code)
	if err != nil {
		return nil, false, st, nil, nil // an unknown code counts as a wrong PIN
	}
	var r appliance.CaseReporter
	if ok, err := tx.GetJSON(bucketCaseReporters, code, &r); err != nil {
		return nil, false, st, nil, err
	} else if !ok {
		return nil, false, st, appliance.Errorf(appliance.ENOTFOUND, "本机无法核对该回执的查询密码，请到受理问题的村值班室查询"), nil
	}
	return cc, subtle.ConstantTimeCompare([]byte(r.PIN), []byte(pin)) == 1, st, nil, nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func (cs *Cases) pinTries() int { return max(1, cs.Config.Cases.PINTries) }

// pinState reads a code's wrong-PIN record; failures older than pin_lock
// are forgotten.
func (cs *Cases) pinState(v []byte, now time.Time) pinState {
	var st pinState
	if v != nil {
		json.Unmarshal(v, &st)
	}
	if st.Until.IsZero() && !st.Last.IsZero() && now.Sub(st.Last) > cs.Config.Cases.PINLock.Duration {
		st.Fails = 0
	}
	return st
}

// TriesLeft is how many PINs may still be tried for a receipt code before
// it locks (0 while locked).
func (cs *Cases) TriesLeft(code string) int {
	code, err := appliance.NormalizeReceiptCode(code)
	if err != nil {
		return cs.pinTries()
	}
	left := cs.pinTries()
	now := cs.Now()
	cs.Store.Read(func(tx *Tx) error {
		st := cs.pinState(tx.Bucket("local").Get([]byte("casepin/"+code)), now)
		if now.Before(st.Until) {
			left = 0
		} else {
			left -= st.Fails
		}
		return nil
	})
	return max(0, left)
}

// Rate records the reporter's rating from the kiosk as the follow-up.
func (cs *Cases) Rate(ctx context.Context, code, pin, rating, words string) (*appliance.Case, error) {
	c, err := cs.Track(code, pin)
	if err != nil {
		return nil, err
	}
	if c.Status != appliance.StatusResolved && c.Status != appliance.StatusFedBack {
		return nil, appliance.Errorf(appliance.ECONFLICT, "问题办结后才能评价")
	}
	step := appliance.CaseStep{Case: c.ID, Action: appliance.CaseFollowUp, Rating: rating, Text: strings.TrimSpace(words)}
	return cs.Act(ctx, "", appliance.LevelsOf(cs.Config.Node.Role), step)
}

// ByToken returns the case a receipt's QR token names.
func (cs *Cases) ByToken(signer *appliance.TokenSigner, token string) (*appliance.Case, error) {
	kind, id, err := signer.Verify(token)
	if err != nil {
		return nil, err
	}
	if kind != TokenCase {
		return nil, appliance.FieldError("token", "这不是问题回执上的二维码")
	}
	return cs.Case(id)
}

// TokenCase is the token kind of a case receipt's QR code.
const TokenCase = 'C'
