package bolt_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

const hhVillage = "410184104201"

// hhOpen opens a store in a temporary folder with a fresh key.
func hhOpen(tb testing.TB) *bolt.Store {
	tb.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := bolt.Open(filepath.Join(tb.TempDir(), "gridbox.db"), key, &bolt.Options{NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// hhGrid writes a town, a village and its groups 1..n.
func hhGrid(tb testing.TB, s *bolt.Store, n int) {
	tb.Helper()
	ctx := context.Background()
	must(tb, s.SetGrid(ctx, "u-admin", appliance.Grid{Code: "410184104000", Level: 1, Name: "龙湖镇"}))
	must(tb, s.SetGrid(ctx, "u-admin", appliance.Grid{Code: hhVillage, Level: 2, Name: "杏花村", Parent: "410184104000"}))
	for i := 1; i <= n; i++ {
		must(tb, s.SetGrid(ctx, "u-admin", appliance.Grid{Code: appliance.GroupCode(hhVillage, i), Level: 3, Name: fmt.Sprintf("第%d村民组", i), Parent: hhVillage}))
	}
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

func hhPerson(name, relation string, birth time.Time, male bool, seq int) appliance.Person {
	id := appliance.MakeCitizenID("410184", birth, seq, male)
	return appliance.Person{Name: name, Relation: relation, Residence: appliance.ResidenceHere,
		Sensitive: &appliance.Sensitive{IDNumber: id}}
}

func ymd(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

func hhFind(tb testing.TB, s *bolt.Store, f appliance.PersonFilter) []string {
	tb.Helper()
	hits, _, err := s.FindPeople(f)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, h := range hits {
		names = append(names, h.Person.Name)
	}
	return names
}

func TestArchive_CreateAndSearch(t *testing.T) {
	ctx := context.Background()
	s := hhOpen(t)
	hhGrid(t, s, 2)
	g1 := appliance.GroupCode(hhVillage, 1)
	head := hhPerson("张秀菊", "户主", ymd(1950, 3, 7), false, 12)
	head.Phone = "13812345678"
	head.Dibao = true
	head.Sensitive.KeyCategories = []string{"空巢老人"}
	rare := hhPerson("李𠇔", "子", ymd(1980, 5, 1), true, 34)
	rare.Residence, rare.ResidenceWhere = appliance.ResidenceAway, "郑州"
	hid, err := s.CreateHousehold(ctx, "u-leader", appliance.Household{Group: g1, Address: "杏花村一组12号"}, []appliance.Person{head, rare})
	must(t, err)
	shan := hhPerson("单国强", "户主", ymd(1940, 1, 2), true, 56)
	shan.Sensitive.Health, shan.Sensitive.DisabilityGrade = appliance.HealthDisabled, "二级"
	_, err = s.CreateHousehold(ctx, "u-leader", appliance.Household{Group: appliance.GroupCode(hhVillage, 2), Address: "二组3号"}, []appliance.Person{shan})
	must(t, err)

	on := ymd(2026, 11, 28)
	for _, tc := range []struct {
		name string
		f    appliance.PersonFilter
		want string
	}{
		{"Initials", appliance.PersonFilter{Query: "zxj"}, "张秀菊"},
		{"FullPinyin", appliance.PersonFilter{Query: "Zhang Xiu"}, "张秀菊"},
		{"SurnameShan", appliance.PersonFilter{Query: "shanguo"}, "单国强"},
		{"Name", appliance.PersonFilter{Query: "张秀"}, "张秀菊"},
		{"GivenName", appliance.PersonFilter{Query: "秀菊"}, "张秀菊"},
		{"RareName", appliance.PersonFilter{Query: "李𠇔"}, "李𠇔"},
		{"FullID", appliance.PersonFilter{Query: head.Sensitive.IDNumber}, "张秀菊"},
		{"Last4", appliance.PersonFilter{Query: head.Sensitive.IDNumber[14:]}, "张秀菊"},
		{"Last6", appliance.PersonFilter{Query: head.Sensitive.IDNumber[12:]}, "张秀菊"},
		{"Phone", appliance.PersonFilter{Query: "13812345678"}, "张秀菊"},
		{"Dibao", appliance.PersonFilter{Dibao: true}, "张秀菊"},
		{"Away", appliance.PersonFilter{Away: true}, "李𠇔"},
		{"Disabled", appliance.PersonFilter{Disabled: true}, "单国强"},
		{"Alone80", appliance.PersonFilter{Alone80: true, On: on}, "单国强"},
		{"Key", appliance.PersonFilter{KeyCategory: "空巢老人"}, "张秀菊"},
		{"GroupScope", appliance.PersonFilter{Scope: appliance.GroupCode(hhVillage, 2)}, "单国强"},
		{"QueryOutOfScope", appliance.PersonFilter{Query: "zxj", Scope: appliance.GroupCode(hhVillage, 2)}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strings.Join(hhFind(t, s, tc.f), ","); got != tc.want {
				t.Fatalf("found %q, want %q", got, tc.want)
			}
		})
	}

	h, ms, err := s.Household(hid)
	must(t, err)
	if got, want := len(ms), 2; got != want {
		t.Fatalf("members=%d, want %d", got, want)
	}
	if ms[0].ID != h.Head || ms[0].Name != "张秀菊" {
		t.Fatalf("head first: got %s", ms[0].Name)
	}
	if ms[1].Name != "李𠇔" {
		t.Fatalf("rare name changed: %q", ms[1].Name)
	}
	if m := ms[0].Masked(); m.Phone != "138****5678" || m.IDNumber() != appliance.MaskCitizenID(head.Sensitive.IDNumber) || strings.Contains(m.IDNumber(), head.Sensitive.IDNumber[6:14]) {
		t.Fatalf("masked: %q %q", m.Phone, m.IDNumber())
	}
	st, err := s.ArchiveStats(hhVillage, on)
	must(t, err)
	if len(st) != 2 || st[0].Households != 1 || st[0].People != 2 || st[0].Dibao != 1 || st[0].Away != 1 || st[1].Disabled != 1 || st[1].Alone != 1 {
		t.Fatalf("stats: %+v", st)
	}
}

func TestArchive_RevealIsLogged(t *testing.T) {
	ctx := context.Background()
	s := hhOpen(t)
	hhGrid(t, s, 1)
	p := hhPerson("王建国", "户主", ymd(1970, 1, 1), true, 1)
	hid, err := s.CreateHousehold(ctx, "u-leader", appliance.Household{Group: appliance.GroupCode(hhVillage, 1), Address: "一组1号"}, []appliance.Person{p})
	must(t, err)
	_, ms, _ := s.Household(hid)
	got, err := s.RevealPersonal(ctx, "u-lead", ms[0].ID, "办理低保")
	must(t, err)
	if got.IDNumber() != p.Sensitive.IDNumber {
		t.Fatalf("revealed %q", got.IDNumber())
	}
	hist, err := s.HouseholdHistory(hid)
	must(t, err)
	last := hist[len(hist)-1]
	if last.Kind != appliance.KindArchiveReveal || !strings.Contains(last.Detail, "王建国") {
		t.Fatalf("history last = %+v", last)
	}
	heads, _ := s.Heads()
	es, _ := s.Entries(heads[0].Feed, heads[0].Seq, 1)
	if es[0].Author != "u-lead" || es[0].Kind != appliance.KindArchiveReveal {
		t.Fatalf("last entry %s by %s", es[0].Kind, es[0].Author)
	}
}

func TestArchive_Events(t *testing.T) {
	ctx := context.Background()
	s := hhOpen(t)
	hhGrid(t, s, 2)
	g1, g2 := appliance.GroupCode(hhVillage, 1), appliance.GroupCode(hhVillage, 2)
	members := []appliance.Person{
		hhPerson("刘德厚", "户主", ymd(1948, 2, 3), true, 1),
		hhPerson("陈淑芬", "配偶", ymd(1950, 6, 7), false, 2),
		hhPerson("刘建军", "子", ymd(1975, 8, 9), true, 3),
		hhPerson("孙丽", "儿媳", ymd(1978, 1, 9), false, 4),
	}
	hid, err := s.CreateHousehold(ctx, "u", appliance.Household{Group: g1, Address: "一组5号"}, members)
	must(t, err)
	_, ms, _ := s.Household(hid)
	byName := map[string]appliance.Person{}
	for _, m := range ms {
		byName[m.Name] = m
	}

	t.Run("ErrDuplicateID", func(t *testing.T) {
		dup := hhPerson("刘建军", "户主", ymd(1975, 8, 9), true, 3)
		_, err := s.CreateHousehold(ctx, "u", appliance.Household{Group: g2, Address: "二组1号"}, []appliance.Person{dup})
		if appliance.ErrorCode(err) != appliance.ECONFLICT || appliance.ErrorField(err) != "id_number" {
			t.Fatalf("err=%v", err)
		}
	})
	t.Run("ErrMemberOfAnotherHousehold", func(t *testing.T) {
		other, err := s.CreateHousehold(ctx, "u", appliance.Household{Group: g2, Address: "二组9号"}, []appliance.Person{hhPerson("外人", "户主", ymd(1980, 1, 1), true, 9)})
		must(t, err)
		if err := s.MemberLeaves(ctx, "u", other, byName["陈淑芬"].ID, appliance.LeftDied, "2026-11-01", "", "", nil); appliance.ErrorField(err) != "member" {
			t.Fatalf("err=%v", err)
		}
		if err := s.MoveMembers(ctx, "u", other, []string{byName["陈淑芬"].ID}, other, "", nil); appliance.ErrorField(err) != "members" {
			t.Fatalf("err=%v", err)
		}
		must(t, s.MoveHouseholdAway(ctx, "u", other, "外地", "2026-11-01"))
	})
	t.Run("ErrHeadLeavesWithoutNewHead", func(t *testing.T) {
		err := s.MemberLeaves(ctx, "u", hid, byName["刘德厚"].ID, appliance.LeftDied, "2026-11-01", "", "", nil)
		if appliance.ErrorField(err) != "new_head" {
			t.Fatalf("err=%v", err)
		}
	})
	t.Run("HeadDies", func(t *testing.T) {
		must(t, s.MemberLeaves(ctx, "u", hid, byName["刘德厚"].ID, appliance.LeftDied, "2026-11-01", "", byName["刘建军"].ID, nil))
		h, ms, _ := s.Household(hid)
		if h.Head != byName["刘建军"].ID || ms[0].Relation != "户主" {
			t.Fatalf("head=%s", h.Head)
		}
		// Succession by the son: his mother is 母亲, his wife 配偶.
		if got := relationsOf(ms); got != "刘建军:户主 陈淑芬:母亲 孙丽:配偶 刘德厚:户主" {
			t.Fatalf("relations after succession: %s", got)
		}
		if ms[len(ms)-1].Left != appliance.LeftDied {
			t.Fatalf("the one who died is kept last: %+v", ms[len(ms)-1])
		}
	})
	var newID string
	t.Run("Split", func(t *testing.T) {
		var err error
		newID, err = s.SplitHousehold(ctx, "u", hid, []string{byName["陈淑芬"].ID}, byName["陈淑芬"].ID, "一组6号", "", nil)
		must(t, err)
		h, ms, _ := s.Household(newID)
		if h.Head != byName["陈淑芬"].ID || len(ms) != 1 || h.Address != "一组6号" {
			t.Fatalf("split: %+v %d", h, len(ms))
		}
		if got := hhFind(t, s, appliance.PersonFilter{Alone80: true, On: ymd(2026, 11, 28)}); strings.Join(got, ",") != "" {
			t.Fatalf("alone80: %v (陈淑芬 is 76)", got)
		}
		if got := hhFind(t, s, appliance.PersonFilter{Query: "csf"}); len(got) != 1 {
			t.Fatalf("search after split: %v", got)
		}
	})
	t.Run("Birth", func(t *testing.T) {
		child := appliance.Person{Name: "刘小宝", Gender: "男", Birth: "2026-10-01", Relation: "孙子", Residence: appliance.ResidenceHere}
		_, err := s.RecordBirth(ctx, "u", hid, child, byName["孙丽"].ID)
		must(t, err)
		mother, _ := s.Person(byName["孙丽"].ID)
		if len(mother.Births) != 1 || mother.Births[0].Child != "刘小宝" {
			t.Fatalf("births: %+v", mother.Births)
		}
	})
	t.Run("Merge", func(t *testing.T) {
		err := s.MergeHouseholds(ctx, "u", hid, newID, nil)
		var need *appliance.RelationsNeeded
		if !errors.As(err, &need) || len(need.Questions) != 1 || need.Questions[0].Name != "陈淑芬" {
			t.Fatalf("merge without the heads' link: %v", err)
		}
		must(t, s.MergeHouseholds(ctx, "u", hid, newID, map[string]string{byName["陈淑芬"].ID: "母亲"}))
		h, _, _ := s.Household(newID)
		if h.Closed == "" {
			t.Fatal("merged household still open")
		}
		_, ms, _ := s.Household(hid)
		active := 0
		for _, m := range ms {
			if m.Active() {
				active++
			}
		}
		if active != 4 {
			t.Fatalf("active after merge=%d", active)
		}
	})
	t.Run("MoveGroup", func(t *testing.T) {
		h, _, _ := s.Household(hid)
		h.Group = g2
		must(t, s.UpdateHousehold(ctx, "u", h))
		if got := hhFind(t, s, appliance.PersonFilter{Query: "ljj", Scope: g2}); len(got) != 1 {
			t.Fatalf("after move: %v", got)
		}
		hist, _ := s.HouseholdHistory(hid)
		if last := hist[len(hist)-1]; last.Label != "迁移" || !strings.Contains(last.Detail, "第2村民组") {
			t.Fatalf("history: %+v", last)
		}
	})
	t.Run("MoveAway", func(t *testing.T) {
		must(t, s.MoveHouseholdAway(ctx, "u", hid, "郑州市金水区", "2026-11-20"))
		if got := hhFind(t, s, appliance.PersonFilter{Query: "ljj"}); len(got) != 0 {
			t.Fatalf("moved away still found: %v", got)
		}
		st, _ := s.ArchiveStats(hhVillage, ymd(2026, 11, 28))
		for _, g := range st {
			if g.People != 0 || g.Households != 0 {
				t.Fatalf("stats after all left: %+v", g)
			}
		}
	})
}

func TestArchive_DuplicateReview(t *testing.T) {
	ctx := context.Background()
	s := hhOpen(t)
	hhGrid(t, s, 5)
	g1, g5 := appliance.GroupCode(hhVillage, 1), appliance.GroupCode(hhVillage, 5)
	a := appliance.Person{Name: "赵红", Gender: "女", Birth: "1990-01-01", Relation: "户主", Residence: appliance.ResidenceHere}
	h1, err := s.CreateHousehold(ctx, "u", appliance.Household{Group: g1, Address: "1号"}, []appliance.Person{a})
	must(t, err)
	h2, err := s.CreateHousehold(ctx, "u", appliance.Household{Group: g1, Address: "2号"}, []appliance.Person{a})
	must(t, err)
	dups, err := s.Duplicates(hhVillage)
	must(t, err)
	if len(dups) != 1 || len(dups[0].People) != 2 || dups[0].Decided != "" {
		t.Fatalf("dups=%+v", dups)
	}
	key := dups[0].Key
	t.Run("ErrNoNote", func(t *testing.T) {
		if err := s.DecideDuplicate(ctx, "u-lead", hhVillage, appliance.DupDecision{Key: key, Decision: "distinct"}); appliance.ErrorField(err) != "note" {
			t.Fatalf("err=%v", err)
		}
	})
	must(t, s.DecideDuplicate(ctx, "u-lead", hhVillage, appliance.DupDecision{Key: key, Decision: "distinct", Note: "已电话核实，是两个人"}))
	dups, _ = s.Duplicates(hhVillage)
	if d := dups[0]; d.Decided != "distinct" || d.DecidedBy != "u-lead" || d.DecidedNote != "已电话核实，是两个人" || d.DecidedAt == 0 {
		t.Fatalf("decided=%+v", d)
	}
	t.Run("ErrDecidedAgain", func(t *testing.T) {
		// Posting the same form again does not flip it.
		err := s.DecideDuplicate(ctx, "u-lead", hhVillage, appliance.DupDecision{Key: key, Decision: "merged", Note: "x"})
		if appliance.ErrorCode(err) != appliance.ECONFLICT {
			t.Fatalf("err=%v", err)
		}
	})
	t.Run("InBothHistories", func(t *testing.T) {
		for _, hid := range []string{h1, h2} {
			hist, err := s.HouseholdHistory(hid)
			must(t, err)
			last := hist[len(hist)-1]
			if last.Kind != appliance.KindArchiveDup || last.Author != "u-lead" || !strings.Contains(last.Detail, "已电话核实") || !strings.Contains(last.Label, "确认不是同一人") {
				t.Fatalf("history of %s: %+v", hid, last)
			}
		}
	})
	t.Run("Reversal", func(t *testing.T) {
		must(t, s.DecideDuplicate(ctx, "u-lead", hhVillage, appliance.DupDecision{Key: key, Decision: "reopened", Note: "户籍所来电，可能是同一人"}))
		dups, _ := s.Duplicates(hhVillage)
		if dups[0].Decided != "" {
			t.Fatalf("after reversal: %+v", dups[0])
		}
		if err := s.DecideDuplicate(ctx, "u-lead", hhVillage, appliance.DupDecision{Key: key, Decision: "reopened", Note: "x"}); appliance.ErrorCode(err) != appliance.ECONFLICT {
			t.Fatalf("reopening an open pair: %v", err)
		}
	})
	t.Run("ScopedByGrid", func(t *testing.T) {
		// The same name and birth in group 5: a group-1 leader sees that a
		// record exists elsewhere, not whose, and cannot decide the pair.
		b := appliance.Person{Name: "钱明", Gender: "男", Birth: "1980-02-02", Relation: "户主", Residence: appliance.ResidenceHere}
		_, err := s.CreateHousehold(ctx, "u", appliance.Household{Group: g1, Address: "3号"}, []appliance.Person{b})
		must(t, err)
		_, err = s.CreateHousehold(ctx, "u", appliance.Household{Group: g5, Address: "五组1号", Phone: "13900000005"}, []appliance.Person{b})
		must(t, err)
		dups, err := s.Duplicates(g1)
		must(t, err)
		var d appliance.Duplicate
		for _, x := range dups {
			if strings.Contains(x.Key, "钱明") {
				d = x
			}
		}
		if d.Hidden != 1 || len(d.People) != 2 {
			t.Fatalf("group-1 view: %+v", d)
		}
		for _, p := range d.People {
			if p.Household != "" && p.Birth == "" || p.Household == "" && (p.Birth != "" || p.Sensitive != nil || !strings.Contains(p.Name, "第5村民组")) {
				t.Fatalf("a group-5 person's details reached group 1: %+v", p)
			}
		}
		err = s.DecideDuplicate(ctx, "u-leader", g1, appliance.DupDecision{Key: d.Key, Decision: "distinct", Note: "不是一个人"})
		if appliance.ErrorCode(err) != appliance.EFORBIDDEN {
			t.Fatalf("group-1 decided a group-5 pair: %v", err)
		}
		if dups, _ := s.Duplicates(appliance.GroupCode(hhVillage, 2)); len(dups) != 0 {
			t.Fatalf("group 2 sees %+v", dups)
		}
		must(t, s.DecideDuplicate(ctx, "u-lead", hhVillage, appliance.DupDecision{Key: d.Key, Decision: "distinct", Note: "村里核实"}))
	})
}

func TestArchive_Validation(t *testing.T) {
	ctx := context.Background()
	s := hhOpen(t)
	hhGrid(t, s, 1)
	g1 := appliance.GroupCode(hhVillage, 1)
	good := func() appliance.Person { return hhPerson("周敏", "户主", ymd(1985, 4, 5), false, 8) }
	for _, tc := range []struct {
		name, field, msg string
		edit             func(*appliance.Household, *appliance.Person)
	}{
		{"ErrBadChecksum", "id_number", "校验位", func(_ *appliance.Household, p *appliance.Person) {
			n := p.Sensitive.IDNumber
			p.Sensitive.IDNumber = n[:17] + map[bool]string{true: "1", false: "2"}[n[17] != '1']
		}},
		{"ErrGender", "gender", "性别", func(_ *appliance.Household, p *appliance.Person) { p.Gender = "男" }},
		{"ErrBirth", "birth_date", "出生日期", func(_ *appliance.Household, p *appliance.Person) { p.Birth = "1985-04-06" }},
		{"ErrPhone", "phone", "手机号码", func(_ *appliance.Household, p *appliance.Person) { p.Phone = "12345678901" }},
		{"ErrName", "name", "姓名", func(_ *appliance.Household, p *appliance.Person) { p.Name = " " }},
		{"ErrGroup", "group", "村民组", func(h *appliance.Household, _ *appliance.Person) { h.Group = appliance.GroupCode(hhVillage, 9) }},
		{"ErrAddress", "address", "住址", func(h *appliance.Household, _ *appliance.Person) { h.Address = strings.Repeat("长", 81) }},
		{"ErrAwayWhere", "residence_where", "外出地点", func(_ *appliance.Household, p *appliance.Person) { p.Residence = appliance.ResidenceAway }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, p := appliance.Household{Group: g1, Address: "1号"}, good()
			tc.edit(&h, &p)
			_, err := s.CreateHousehold(ctx, "u", h, []appliance.Person{p})
			if appliance.ErrorField(err) != tc.field || !strings.Contains(appliance.ErrorMessage(err), tc.msg) {
				t.Fatalf("err=%v, want field %s with %q", err, tc.field, tc.msg)
			}
		})
	}
	st, _ := s.Stats()
	if kinds, _ := s.KindCounts(); kinds[appliance.KindArchiveChange] != 0 {
		t.Fatalf("refused input wrote %d entries (ledger %d)", kinds[appliance.KindArchiveChange], st.Entries)
	}
}

// TestArchive_FoldOrder folds the entries of two nodes that both change the
// same households in shuffled interleavings (each feed in its own order) and
// compares every view bucket byte for byte; a copy of the second feed
// travels without its sealed parts and must still fold.
func TestArchive_FoldOrder(t *testing.T) {
	ctx := context.Background()
	a, b := hhOpen(t), hhOpen(t)
	hhGrid(t, a, 3)
	g := func(n int) string { return appliance.GroupCode(hhVillage, n) }
	var hids []string
	for i := 0; i < 6; i++ {
		ms := []appliance.Person{
			hhPerson(fmt.Sprintf("王%s", []string{"伟", "芳", "磊", "静", "勇", "敏"}[i]), "户主", ymd(1940+i*5, 1+i, 2), i%2 == 0, i*10),
			hhPerson("陈"+[]string{"秀英", "建国", "丽", "军", "红", "涛"}[i], "配偶", ymd(1942+i*5, 3, 4), i%2 == 1, i*10+1),
		}
		ms[0].Dibao = i%3 == 0
		hid, err := a.CreateHousehold(ctx, "u-a", appliance.Household{Group: g(1 + i%3), Address: fmt.Sprintf("%d号", i)}, ms)
		must(t, err)
		hids = append(hids, hid)
	}
	feedA := allEntries(t, a, a.Feed())
	if _, err := b.Ingest(feedA); err != nil {
		t.Fatal(err)
	}
	// Both nodes change the same records concurrently.
	for i, hid := range hids[:4] {
		h, ms, _ := a.Household(hid)
		hhEdit(t, a, ms[1], func(p *appliance.Person) { p.Phone = fmt.Sprintf("1390000000%d", i) })
		h2, ms2, _ := b.Household(hid)
		h2.Address = "乙" + h2.Address
		must(t, b.UpdateHousehold(ctx, "u-b", h2))
		hhEdit(t, b, ms2[1], func(p *appliance.Person) {
			p.Residence, p.ResidenceWhere = appliance.ResidenceAway, "广州"
			p.Sensitive.KeyCategories = []string{"留守老人"}
		})
		_ = h
	}
	must(t, a.MemberLeaves(ctx, "u-a", hids[4], mustMembers(t, a, hids[4])[1].ID, appliance.LeftMarriedOut, "2026-11-02", "", "", nil))
	must(t, b.MergeHouseholds(ctx, "u-b", hids[5], hids[4], map[string]string{mustMembers(t, b, hids[4])[0].ID: "兄"}))
	_, err := b.SplitHousehold(ctx, "u-b", hids[0], []string{mustMembers(t, b, hids[0])[1].ID}, mustMembers(t, b, hids[0])[1].ID, "新1号", "", nil)
	must(t, err)
	v := appliance.Visit{Worker: "s1", Name: "王组长", Group: g(1), Kind: appliance.VisitHome, Household: hids[1], Date: "2026-11-20", Time: "09:30", Seen: "老人身体好"}
	_, err = b.RecordVisit(ctx, "u-b", v)
	must(t, err)

	feedA = allEntries(t, a, a.Feed())
	feedB := allEntries(t, b, b.Feed())
	var redactedB []*appliance.Entry
	for _, e := range feedB {
		redactedB = append(redactedB, e.Redacted())
	}
	for _, tc := range []struct {
		name string
		b    []*appliance.Entry
	}{{"Sealed", feedB}, {"Redacted", redactedB}} {
		t.Run(tc.name, func(t *testing.T) {
			var want map[string][]byte
			rng := mrand.New(mrand.NewPCG(1, 2))
			for round := 0; round < 6; round++ {
				s := hhOpen(t)
				i, j := 0, 0
				for i < len(feedA) || j < len(tc.b) {
					var e *appliance.Entry
					if j >= len(tc.b) || i < len(feedA) && rng.IntN(2) == 0 {
						e, i = feedA[i], i+1
					} else {
						e, j = tc.b[j], j+1
					}
					if _, err := s.Ingest([]*appliance.Entry{e}); err != nil {
						t.Fatal(err)
					}
				}
				got := archiveBuckets(t, s)
				if want == nil {
					want = got
					if len(got["v_person"]) == 0 {
						t.Fatal("empty view")
					}
					continue
				}
				if d := diffBuckets(want, got); d != "" {
					t.Fatalf("round %d: views differ: %s", round, d)
				}
			}
			if tc.name == "Redacted" {
				s := hhOpen(t)
				s.Ingest(feedA)
				s.Ingest(tc.b)
				_, ms, _ := s.Household(hids[2])
				for _, m := range ms {
					if m.Residence == appliance.ResidenceAway && m.Known() {
						t.Fatalf("member changed by a redacted entry keeps a sensitive part: %+v", m)
					}
				}
			}
		})
	}
}

func hhEdit(tb testing.TB, s *bolt.Store, p appliance.Person, fn func(*appliance.Person)) {
	tb.Helper()
	fn(&p)
	_, err := s.SaveMember(context.Background(), "u-edit", p)
	must(tb, err)
}

func mustMembers(tb testing.TB, s *bolt.Store, hid string) []appliance.Person {
	_, ms, err := s.Household(hid)
	must(tb, err)
	return ms
}

func allEntries(tb testing.TB, s *bolt.Store, feed appliance.FeedID) []*appliance.Entry {
	es, err := s.Entries(feed, 1, 1<<30)
	must(tb, err)
	return es
}

// archiveBuckets dumps every view bucket of the store.
func archiveBuckets(tb testing.TB, s *bolt.Store) map[string][]byte {
	out := map[string][]byte{}
	err := s.DB().View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			if !bytes.HasPrefix(name, []byte("v_")) {
				return nil
			}
			var buf bytes.Buffer
			b.ForEach(func(k, v []byte) error {
				fmt.Fprintf(&buf, "%q=%q\n", k, v)
				return nil
			})
			out[string(name)] = buf.Bytes()
			return nil
		})
	})
	must(tb, err)
	return out
}

func diffBuckets(a, b map[string][]byte) string {
	for name, v := range a {
		if !bytes.Equal(v, b[name]) {
			la, lb := strings.Split(string(v), "\n"), strings.Split(string(b[name]), "\n")
			for i := 0; i < len(la) && i < len(lb); i++ {
				if la[i] != lb[i] {
					return fmt.Sprintf("bucket %s line %d: %s vs %s", name, i, la[i], lb[i])
				}
			}
			return fmt.Sprintf("bucket %s: %d vs %d lines", name, len(la), len(lb))
		}
	}
	return ""
}

func TestVisits_CoverageOverAMonth(t *testing.T) {
	ctx := context.Background()
	s := hhOpen(t)
	hhGrid(t, s, 1)
	g1 := appliance.GroupCode(hhVillage, 1)
	must(t, s.SetStaff(ctx, "u", appliance.StaffMember{ID: "s1", Name: "王组长", Phone: "13900000001", Duty: appliance.DutyGridLeader, Grid: g1}))
	must(t, s.SetStaff(ctx, "u", appliance.StaffMember{ID: "s2", Name: "李网格员", Phone: "13900000002", Duty: appliance.DutyGridWorker, Grid: g1}))
	var hids []string
	for i := 0; i < 10; i++ {
		hid, err := s.CreateHousehold(ctx, "u", appliance.Household{Group: g1, Address: fmt.Sprintf("%d号", i)},
			[]appliance.Person{hhPerson(fmt.Sprintf("户主%c", '甲'+rune(i)), "户主", ymd(1960, 1, 1+i), true, i)})
		must(t, err)
		hids = append(hids, hid)
	}
	// s1 visits household i on day 3i of November (households 0..9, days 1..28);
	// s2 visits household 0 every day.
	for i, hid := range hids {
		d := ymd(2026, 11, 1+3*i%30)
		_, err := s.RecordVisit(ctx, "u-s1", appliance.Visit{Worker: "s1", Name: "王组长", Group: g1, Kind: appliance.VisitHome, Household: hid, Date: d.Format("2006-01-02"), Time: "10:00", Seen: "正常"})
		must(t, err)
	}
	for d := 1; d <= 30; d++ {
		_, err := s.RecordVisit(ctx, "u-s2", appliance.Visit{Worker: "s2", Name: "李网格员", Group: g1, Kind: appliance.VisitHome, Household: hids[0], Date: ymd(2026, 11, d).Format("2006-01-02"), Time: "08:00", Seen: "正常"})
		must(t, err)
	}
	_, err := s.RecordVisit(ctx, "u-s1", appliance.Visit{Worker: "s1", Name: "王组长", Group: g1, Kind: appliance.VisitPatrol, Place: "西岭水渠", Date: "2026-11-15", Time: "16:00", Seen: "水渠畅通"})
	must(t, err)

	for _, tc := range []struct {
		today     string
		days      int
		covered   int
		unvisited string // first unvisited
	}{
		{"2026-11-30", 30, 10, ""},
		{"2026-11-30", 7, 3, hids[1]},  // days 24..30: household 0 (s2), 8 (day 25), 9 (day 28)
		{"2026-11-10", 10, 4, hids[4]}, // days 1..10: 0,1,2,3
	} {
		cv, err := s.VisitCoverage(hhVillage, tc.today, tc.days)
		must(t, err)
		if len(cv) != 1 || cv[0].Households != 10 {
			t.Fatalf("coverage %+v", cv)
		}
		if cv[0].Covered != tc.covered {
			t.Fatalf("%s/%d: covered=%d, want %d", tc.today, tc.days, cv[0].Covered, tc.covered)
		}
		if tc.unvisited != "" && cv[0].Unvisited[0] != tc.unvisited {
			t.Fatalf("%s/%d: first unvisited=%s", tc.today, tc.days, cv[0].Unvisited[0])
		}
	}
	prog, err := s.WorkerProgress(hhVillage, "2026-11-01", "2026-11-30", 1, nil)
	must(t, err)
	if len(prog) != 2 || !prog[0].Behind || prog[0].Staff.ID != "s1" || prog[1].Behind || prog[1].Visits != 30 || prog[1].Days != 21 {
		t.Fatalf("progress: %+v", prog)
	}
	di, err := s.VisitDiary("s1", "2026-11-01", "2026-11-30", time.UTC)
	must(t, err)
	if len(di.Entries) != 11 || di.Entries[0].Household != "户主甲户" || di.Entries[5].Kind != "巡查" || di.Group != "第1村民组" {
		t.Fatalf("diary: %d entries, first %+v, sixth %+v", len(di.Entries), di.Entries[0], di.Entries[5])
	}
	for i := 1; i < len(di.Entries); i++ {
		if di.Entries[i].Date.Before(di.Entries[i-1].Date) {
			t.Fatal("diary out of order")
		}
	}
	vs, _ := s.HouseholdVisits(hids[0], 3)
	if len(vs) != 3 || vs[0].Date != "2026-11-30" {
		t.Fatalf("household visits: %+v", vs)
	}
}

// TestArchive_SealedLeftBehind: a town node gets the village's entries
// without their sealed parts; the people's sensitive fields are unknown
// there. An edit made at the town carries no sealed part, and the village,
// which holds the ID numbers, keeps them.
func TestArchive_SealedLeftBehind(t *testing.T) {
	ctx := context.Background()
	village, town := hhOpen(t), hhOpen(t)
	hhGrid(t, village, 1)
	p := hhPerson("孟德", "户主", ymd(1966, 6, 6), true, 71)
	hid, err := village.CreateHousehold(ctx, "u", appliance.Household{Group: appliance.GroupCode(hhVillage, 1), Address: "1号"}, []appliance.Person{p})
	must(t, err)
	var redacted []*appliance.Entry
	for _, e := range allEntries(t, village, village.Feed()) {
		redacted = append(redacted, e.Redacted())
	}
	if _, err := town.Ingest(redacted); err != nil {
		t.Fatal(err)
	}
	ms := mustMembers(t, town, hid)
	if ms[0].Known() || ms[0].Name != "孟德" || ms[0].Birth != "1966-06-06" {
		t.Fatalf("town view: %+v", ms[0])
	}
	if got := hhFind(t, town, appliance.PersonFilter{Query: p.Sensitive.IDNumber}); len(got) != 0 {
		t.Fatal("town finds a person by an ID number it does not hold")
	}
	hhEdit(t, town, ms[0], func(q *appliance.Person) { q.Phone = "13900001234" })
	if _, err := village.Ingest(allEntries(t, town, town.Feed())); err != nil {
		t.Fatal(err)
	}
	got := mustMembers(t, village, hid)[0]
	if got.Phone != "13900001234" || got.IDNumber() != p.Sensitive.IDNumber {
		t.Fatalf("village after the town's edit: phone %q id %q", got.Phone, got.IDNumber())
	}
	if hits := hhFind(t, village, appliance.PersonFilter{Query: p.Sensitive.IDNumber[14:]}); len(hits) != 1 {
		t.Fatal("village lost the ID index")
	}
}

// relationsOf lists "name:relation" of members, active first as Members orders them.
func relationsOf(ms []appliance.Person) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, m.Name+":"+m.Relation)
	}
	return strings.Join(parts, " ")
}

// TestArchive_ClosedHouseholdKeepsIDs: a closed household takes no member
// here; a member that reaches it from another node (added there before the
// close arrived) still holds its ID number, which cannot be registered again.
func TestArchive_ClosedHouseholdKeepsIDs(t *testing.T) {
	ctx := context.Background()
	a, b := hhOpen(t), hhOpen(t)
	hhGrid(t, a, 1)
	g1 := appliance.GroupCode(hhVillage, 1)
	hid, err := a.CreateHousehold(ctx, "u-a", appliance.Household{Group: g1}, []appliance.Person{hhPerson("独老", "户主", ymd(1930, 1, 1), true, 1)})
	must(t, err)
	if _, err := b.Ingest(allEntries(t, a, a.Feed())); err != nil {
		t.Fatal(err)
	}
	must(t, a.MemberLeaves(ctx, "u-a", hid, mustMembers(t, a, hid)[0].ID, appliance.LeftDied, "2026-11-01", "", "", nil))
	late := hhPerson("后来", "子", ymd(1960, 2, 2), true, 2)
	_, err = a.SaveMember(ctx, "u-a", appliance.Person{Name: late.Name, Relation: "子", Household: hid, Residence: appliance.ResidenceHere, Sensitive: late.Sensitive})
	if appliance.ErrorCode(err) != appliance.ECONFLICT || appliance.ErrorReason(err) != "household_closed" {
		t.Fatalf("member into a closed household: %v", err)
	}
	// On b the household is still open: the member is added there.
	_, err = b.SaveMember(ctx, "u-b", appliance.Person{Name: late.Name, Relation: "子", Household: hid, Residence: appliance.ResidenceHere, Sensitive: late.Sensitive})
	must(t, err)
	if _, err := a.Ingest(allEntries(t, b, b.Feed())); err != nil {
		t.Fatal(err)
	}
	if h, _, _ := a.Household(hid); h.Closed == "" {
		t.Fatal("household reopened")
	}
	_, err = a.CreateHousehold(ctx, "u-a", appliance.Household{Group: g1}, []appliance.Person{hhPerson("后来", "户主", ymd(1960, 2, 2), true, 2)})
	if appliance.ErrorCode(err) != appliance.ECONFLICT || appliance.ErrorField(err) != "id_number" {
		t.Fatalf("an ID held in a closed household registered again: %v", err)
	}
}
