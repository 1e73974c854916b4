package appliance_test

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"gridbox/appliance"
)

func TestRelationCode(t *testing.T) {
	for _, tc := range []struct {
		rel, code string
		family    int
	}{
		{"户主", "02", 0}, {"本人", "01", 0}, {"妻", "12", 1}, {"妻子", "12", 1}, {"配偶", "10", 1},
		{"长子", "22", 2}, {"次子", "23", 2}, {"女婿", "28", 2}, {"长女", "32", 3}, {"儿媳", "38", 3},
		{"孙子", "41", 4}, {"外孙女", "44", 4}, {"父亲", "51", 5}, {"婆婆", "54", 5}, {"祖母", "62", 6},
		{"兄", "71", 7}, {"弟媳", "74", 7}, {"侄子", "93", 9}, {"其他", "80", 8}, {"兄弟", "70", 7},
	} {
		code, ok := appliance.RelationCode(tc.rel)
		if !ok || code != tc.code || appliance.RelationFamily(tc.rel) != tc.family {
			t.Errorf("%s: code %q %v family %d, want %s %d", tc.rel, code, ok, appliance.RelationFamily(tc.rel), tc.code, tc.family)
		}
	}
	if _, ok := appliance.RelationCode("邻居家的"); ok {
		t.Error("an unknown relation got a code")
	}
	for _, r := range appliance.Relations {
		if _, ok := appliance.RelationCode(r); !ok {
			t.Errorf("form relation %q has no code", r)
		}
	}
}

// relations formats a relation map by name for comparison.
func relations(m map[string]string, people []appliance.Kin) string {
	var out []string
	for _, p := range people {
		if r, ok := m[p.ID]; ok {
			out = append(out, p.ID+":"+r)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestRelationsToNewHead(t *testing.T) {
	father := appliance.Kin{ID: "父", Relation: "户主", Gender: "男", Birth: "1950-01-01"}
	mother := appliance.Kin{ID: "母", Relation: "妻", Gender: "女", Birth: "1952-01-01"}
	son := appliance.Kin{ID: "长子", Relation: "长子", Gender: "男", Birth: "1975-01-01"}
	son2 := appliance.Kin{ID: "次子", Relation: "次子", Gender: "男", Birth: "1978-01-01"}
	daughter := appliance.Kin{ID: "女", Relation: "女", Gender: "女", Birth: "1980-01-01"}
	dil := appliance.Kin{ID: "儿媳", Relation: "儿媳", Gender: "女", Birth: "1976-01-01"}
	grandson := appliance.Kin{ID: "孙子", Relation: "孙子", Gender: "男", Birth: "2000-01-01"}
	grandpa := appliance.Kin{ID: "祖", Relation: "父亲", Gender: "男", Birth: "1925-01-01"}
	for _, tc := range []struct {
		name    string
		old     appliance.Kin
		members []appliance.Kin
		head    string
		want    string
	}{
		// Succession by the son: his mother is 母亲, not 配偶; his wife
		// is his 配偶, his son his 子, his sister his 妹妹, his
		// grandfather 祖父.
		{"SuccessionBySon", father, []appliance.Kin{father, mother, son, dil, grandson, daughter, grandpa}, "长子",
			"儿媳:配偶 女:妹妹 孙子:子 母:母亲 父:父亲 祖:祖父 长子:户主"},
		// Split: the son leaves with wife and son; they are his 配偶 and 子.
		{"SplitSonWithFamily", father, []appliance.Kin{son, dil, grandson}, "长子",
			"儿媳:配偶 孙子:子 长子:户主"},
		// Succession by the widow: the children stay 子/女, his father
		// becomes her 公公.
		{"SuccessionBySpouse", father, []appliance.Kin{mother, son, daughter, grandpa}, "母",
			"女:女 母:户主 祖:公公 长子:长子"},
		// Two sons and one daughter-in-law: whose wife she is and whose son
		// the grandson is cannot be told; the clerk is asked.
		{"UnclearLine", father, []appliance.Kin{mother, son, son2, dil, grandson}, "长子",
			"儿媳: 孙子: 次子:弟 母:母亲 长子:户主"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := appliance.RelationsToNewHead(tc.old, tc.members, tc.head)
			if s := relations(got, tc.members); s != tc.want {
				t.Fatalf("\n got %s\nwant %s", s, tc.want)
			}
		})
	}
}

func TestRelationsUnderMerge(t *testing.T) {
	head := appliance.Kin{ID: "户主", Relation: "户主", Gender: "男", Birth: "1950-01-01"}
	sonHead := appliance.Kin{ID: "儿子", Relation: "户主", Gender: "男", Birth: "1975-01-01"}
	wife := appliance.Kin{ID: "儿子之妻", Relation: "妻", Gender: "女", Birth: "1976-01-01"}
	kid := appliance.Kin{ID: "孙", Relation: "女", Gender: "女", Birth: "2001-01-01"}
	members := []appliance.Kin{sonHead, wife, kid}
	// The son's household joins his father's: his wife becomes 儿媳 (not
	// a second 配偶), his daughter 孙女.
	got := appliance.RelationsUnder(head, "长子", sonHead, members)
	if s := relations(got, members); s != "儿子:长子 儿子之妻:儿媳 孙:孙女" {
		t.Fatalf("merge: %s", s)
	}
	// Without the heads' link nothing can be told.
	got = appliance.RelationsUnder(head, "", sonHead, members)
	if s := relations(got, members); s != "儿子: 儿子之妻: 孙:" {
		t.Fatalf("merge without link: %s", s)
	}
}

func TestSettleRelations(t *testing.T) {
	people := []appliance.Kin{{ID: "a", Relation: "户主"}, {ID: "b", Relation: "儿媳"}, {ID: "c", Relation: "孙子"}}
	names := map[string]string{"a": "甲", "b": "乙", "c": "丙"}
	computed := map[string]string{"a": "户主", "b": "", "c": "子"}
	_, err := appliance.SettleRelations(computed, nil, people, names)
	var need *appliance.RelationsNeeded
	if !errors.As(err, &need) || len(need.Questions) != 2 || need.Questions[0].Suggested != "" || need.Questions[1].Suggested != "子" {
		t.Fatalf("questions: %v %+v", err, need)
	}
	if appliance.ErrorReason(err) != "relations_needed" || !strings.Contains(appliance.ErrorMessage(err), "乙") {
		t.Fatalf("error: %v", err)
	}
	got, err := appliance.SettleRelations(computed, map[string]string{"b": "弟媳"}, people, names)
	if err != nil || got["b"] != "弟媳" || got["c"] != "子" || got["a"] != "户主" {
		t.Fatalf("settled: %v %v", got, err)
	}
	if _, err := appliance.SettleRelations(computed, map[string]string{"b": "户主"}, people, names); appliance.ErrorField(err) != "relations" {
		t.Fatalf("a second head accepted: %v", err)
	}
}
