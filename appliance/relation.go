package appliance

import "strings"

// Relations to the head of household follow GB/T 4761-2008 家庭关系代码.
// A member's relation is kept as the register writes it (长子, 妻, 孙女…)
// and carries its two-digit code; the household events reason with the
// code's family (spouse, child, child-in-law, parent…).

// RelationCodes maps each GB/T 4761 name to its two-digit code.
var RelationCodes = map[string]string{
	"本人": "01", "户主": "02",
	"配偶": "10", "夫": "11", "妻": "12",
	"子": "20", "独生子": "21", "长子": "22", "次子": "23", "三子": "24", "四子": "25", "五子": "26", "养子或继子": "27", "女婿": "28", "其他儿子": "29",
	"女": "30", "独生女": "31", "长女": "32", "次女": "33", "三女": "34", "四女": "35", "五女": "36", "养女或继女": "37", "儿媳": "38", "其他女儿": "39",
	"孙子、孙女或外孙子、外孙女": "40", "孙子": "41", "孙女": "42", "外孙子": "43", "外孙女": "44", "孙媳妇或外孙媳妇": "45", "孙女婿或外孙女婿": "46", "曾孙子或外曾孙子": "47", "曾孙女或外曾孙女": "48", "其他孙子、孙女或外孙子、外孙女": "49",
	"父母": "50", "父亲": "51", "母亲": "52", "公公": "53", "婆婆": "54", "岳父": "55", "岳母": "56", "继父或养父": "57", "继母或养母": "58", "其他父母关系": "59",
	"祖父母或外祖父母": "60", "祖父": "61", "祖母": "62", "外祖父": "63", "外祖母": "64", "配偶的祖父母或外祖父母": "65", "曾祖父": "66", "曾祖母": "67", "配偶的曾祖父母或外曾祖父母": "68", "其他祖父母或外祖父母关系": "69",
	"兄弟姐妹": "70", "兄": "71", "嫂": "72", "弟": "73", "弟媳": "74", "姐姐": "75", "姐夫": "76", "妹妹": "77", "妹夫": "78", "其他兄弟姐妹": "79",
	"其他": "80", "伯父": "81", "伯母": "82", "叔父": "83", "婶母": "84", "舅父": "85", "舅母": "86", "姨父": "87", "姨母": "88", "姑父": "89", "姑母": "90",
	"堂兄弟、堂姐妹": "91", "表兄弟、表姐妹": "92", "侄子": "93", "侄女": "94", "外甥": "95", "外甥女": "96", "其他亲属": "97", "非亲属": "99",
}

// relationSynonyms are how registers also write a relation: the text is
// kept, the code is the standard one's.
var relationSynonyms = map[string]string{
	"户主本人": "01", "自己": "01",
	"丈夫": "11", "老公": "11", "妻子": "12", "老婆": "12", "爱人": "10", "夫妻": "10", "老伴": "10",
	"儿子": "20", "二子": "23", "小儿子": "29", "养子": "27", "继子": "27",
	"女儿": "30", "二女": "33", "小女儿": "39", "养女": "37", "继女": "37", "儿媳妇": "38", "媳妇": "38",
	"孙": "41", "长孙": "41", "次孙": "41", "长孙女": "42", "次孙女": "42", "孙媳": "45", "孙媳妇": "45", "孙女婿": "46", "曾孙": "47", "曾孙子": "47", "曾孙女": "48",
	"父": "51", "母": "52", "继父": "57", "养父": "57", "继母": "58", "养母": "58",
	"爷爷": "61", "奶奶": "62", "外公": "63", "姥爷": "63", "外婆": "64", "姥姥": "64",
	"兄弟": "70", "姐妹": "70", "哥哥": "71", "哥": "71", "嫂子": "72", "弟弟": "73", "弟妹": "74", "姐": "75", "妹": "77",
	"伯伯": "81", "叔叔": "83", "婶婶": "84", "舅舅": "85", "舅妈": "86", "姨": "88", "姑姑": "90",
	"侄儿": "93", "侄孙": "97", "外甥女婿": "97", "亲属": "97", "非亲": "99", "保姆": "99",
}

// Relations are the names offered on forms, in code order.
var Relations = []string{"户主", "配偶", "夫", "妻", "子", "独生子", "长子", "次子", "三子", "四子", "五子", "养子或继子", "其他儿子",
	"女", "独生女", "长女", "次女", "三女", "四女", "五女", "养女或继女", "其他女儿", "儿媳", "女婿",
	"孙子", "孙女", "外孙子", "外孙女", "孙媳妇或外孙媳妇", "孙女婿或外孙女婿", "曾孙子或外曾孙子", "曾孙女或外曾孙女",
	"父亲", "母亲", "公公", "婆婆", "岳父", "岳母", "继父或养父", "继母或养母",
	"祖父", "祖母", "外祖父", "外祖母", "曾祖父", "曾祖母",
	"兄", "嫂", "弟", "弟媳", "姐姐", "姐夫", "妹妹", "妹夫",
	"伯父", "伯母", "叔父", "婶母", "舅父", "舅母", "姨父", "姨母", "姑父", "姑母", "堂兄弟、堂姐妹", "表兄弟、表姐妹",
	"侄子", "侄女", "外甥", "外甥女", "其他亲属", "非亲属", "其他"}

// RelationHead is the relation of the head of household as the box writes it.
const RelationHead = "户主"

// RelationCode returns the GB/T 4761 code of a relation as written: a
// standard name or a common synonym. ok is false for anything else.
func RelationCode(rel string) (string, bool) {
	rel = strings.TrimSpace(rel)
	if c, ok := RelationCodes[rel]; ok {
		return c, true
	}
	c, ok := relationSynonyms[rel]
	return c, ok
}

// IsHead reports whether a relation marks the head (本人 or 户主, codes 01/02).
func IsHead(rel string) bool {
	c, _ := RelationCode(rel)
	return c == "01" || c == "02"
}

// Kin families: how a relation's code places a member around the head.
const (
	kinUnknown = iota
	kinSelf
	kinSpouse
	kinChild
	kinChildInLaw
	kinGrandchild
	kinGrandchildInLaw
	kinGreatGrandchild
	kinParent
	kinParentInLaw
	kinGrandparent
	kinSibling
	kinSiblingInLaw
	kinOther
)

// kinOf returns a code's family and the sex it implies ("男", "女" or "").
func kinOf(code string) (int, string) {
	if len(code) != 2 {
		return kinUnknown, ""
	}
	switch code {
	case "01", "02":
		return kinSelf, ""
	case "10":
		return kinSpouse, ""
	case "11":
		return kinSpouse, "男"
	case "12":
		return kinSpouse, "女"
	case "28":
		return kinChildInLaw, "男"
	case "38":
		return kinChildInLaw, "女"
	case "45":
		return kinGrandchildInLaw, "女"
	case "46":
		return kinGrandchildInLaw, "男"
	case "47":
		return kinGreatGrandchild, "男"
	case "48":
		return kinGreatGrandchild, "女"
	case "41", "43":
		return kinGrandchild, "男"
	case "42", "44":
		return kinGrandchild, "女"
	case "51", "57":
		return kinParent, "男"
	case "52", "58":
		return kinParent, "女"
	case "53", "55":
		return kinParentInLaw, "男"
	case "54", "56":
		return kinParentInLaw, "女"
	case "61", "63", "66":
		return kinGrandparent, "男"
	case "62", "64", "67":
		return kinGrandparent, "女"
	case "71", "73":
		return kinSibling, "男"
	case "75", "77":
		return kinSibling, "女"
	case "72", "74":
		return kinSiblingInLaw, "女"
	case "76", "78":
		return kinSiblingInLaw, "男"
	}
	switch code[0] {
	case '2':
		return kinChild, "男"
	case '3':
		return kinChild, "女"
	case '4':
		return kinGrandchild, ""
	case '5':
		return kinParent, ""
	case '6':
		return kinGrandparent, ""
	case '7':
		return kinSibling, ""
	case '8', '9':
		return kinOther, ""
	}
	return kinUnknown, ""
}

// RelationFamily is the one-digit GB/T 4761 family of a relation (0 本人或户主,
// 1 配偶, 2 子, 3 女, 4 孙辈, 5 父母, 6 祖辈, 7 兄弟姐妹, 8 其他), or -1.
func RelationFamily(rel string) int {
	c, ok := RelationCode(rel)
	if !ok {
		return -1
	}
	return int(c[0] - '0')
}

// Kin is one member as the relation rules see them.
type Kin struct {
	ID       string
	Relation string // to the current head
	Gender   string // 男 / 女 / ""
	Birth    string // YYYY-MM-DD or ""
}

func (k Kin) sex() string {
	if k.Gender != "" {
		return k.Gender
	}
	_, s := kinOf(codeOf(k.Relation))
	return s
}

func codeOf(rel string) string {
	c, _ := RelationCode(rel)
	return c
}

// RelationsToNewHead recomputes the relations of members (each given by
// its relation to the old head) to newHead, one of them. oldHead is the
// former head; it gets a relation only when it is among members. A
// relation the rules cannot be sure of comes back as "": the clerk must
// say it. The members considered are those given: for a split, the ones
// moving; for a new head, everyone who stays.
func RelationsToNewHead(oldHead Kin, members []Kin, newHead string) map[string]string {
	out := map[string]string{}
	var n Kin
	found := false
	for _, m := range members {
		if m.ID == newHead {
			n, found = m, true
		}
	}
	if !found {
		for _, m := range members {
			out[m.ID] = ""
		}
		return out
	}
	out[n.ID] = RelationHead
	a, aSex := kinOf(codeOf(n.Relation))
	if n.Gender == "" {
		n.Gender = aSex
	}
	// Which line each descendant belongs to is clear only when the new
	// head is the one child (or child-in-law) of that sex among members.
	sameSexChildren, oppositeInLaws, children := 0, 0, 0
	for _, m := range members {
		k, _ := kinOf(codeOf(m.Relation))
		switch k {
		case kinChild:
			children++
			if m.sex() == n.Gender {
				sameSexChildren++
			}
		case kinChildInLaw:
			if m.sex() != n.Gender {
				oppositeInLaws++
			}
		}
	}
	uniqueLine := sameSexChildren == 1 && oppositeInLaws <= 1
	for _, y := range members {
		switch {
		case y.ID == n.ID:
		case y.ID == oldHead.ID:
			out[y.ID] = inverseRelation(a, n, oldHead)
		default:
			out[y.ID] = composeRelation(a, n, oldHead, y, uniqueLine, children)
		}
	}
	return out
}

// RelationQuestion is one member whose new relation the clerk confirms.
type RelationQuestion struct {
	Person    string `json:"person"`
	Name      string `json:"name"`
	Was       string `json:"was"`       // relation before the event
	Suggested string `json:"suggested"` // what the rules give; "" where they cannot tell
}

// RelationsNeeded is the answer to an event whose relations the rules
// cannot all settle: the questions, asked in the same step.
type RelationsNeeded struct {
	Questions []RelationQuestion
	err       *Error
}

func (e *RelationsNeeded) Error() string { return e.err.Error() }
func (e *RelationsNeeded) Unwrap() error { return e.err }

// SettleRelations combines the rules' relations with the clerk's answers
// (person id → relation). Every answer must be a GB/T 4761 relation other
// than the head's. When a relation stays unknown it returns a
// *RelationsNeeded listing every member concerned, with suggestions.
func SettleRelations(computed map[string]string, answers map[string]string, people []Kin, names map[string]string) (map[string]string, error) {
	out := map[string]string{}
	var open []string
	for _, k := range people {
		rel, ok := computed[k.ID]
		if !ok {
			continue
		}
		if a := strings.TrimSpace(answers[k.ID]); a != "" && rel != RelationHead {
			if _, known := RelationCode(a); !known || IsHead(a) {
				return nil, FieldError("relations", "%s的关系“%s”不是可选的家庭关系", names[k.ID], a)
			}
			rel = a
		}
		if rel == "" {
			open = append(open, names[k.ID])
		}
		out[k.ID] = rel
	}
	if len(open) == 0 {
		return out, nil
	}
	var qs []RelationQuestion
	for _, k := range people {
		if rel, ok := computed[k.ID]; ok && rel != RelationHead {
			qs = append(qs, RelationQuestion{Person: k.ID, Name: names[k.ID], Was: k.Relation, Suggested: rel})
		}
	}
	return nil, &RelationsNeeded{Questions: qs, err: &Error{Code: EINVALID, Field: "relations", Reason: "relations_needed",
		Message: "请确认与新户主的关系：" + strings.Join(open, "、") + " 的关系无法自动推算，请选择"}}
}

// inverseRelation is what the old head h is of n, where n is of kind a to h.
func inverseRelation(a int, n, h Kin) string {
	hs := h.sex()
	switch a {
	case kinSpouse:
		return "配偶"
	case kinChild:
		return pick(hs, "父亲", "母亲")
	case kinChildInLaw:
		if n.Gender == "女" {
			return pick(hs, "公公", "婆婆")
		}
		return pick(hs, "岳父", "岳母")
	case kinParent:
		return pick(hs, "子", "女")
	case kinParentInLaw:
		return pick(hs, "女婿", "儿媳")
	case kinGrandchild:
		switch codeOf(n.Relation) {
		case "41", "42":
			return pick(hs, "祖父", "祖母")
		case "43", "44":
			return pick(hs, "外祖父", "外祖母")
		}
	case kinGrandparent:
		switch codeOf(n.Relation) {
		case "61", "62":
			return pick(hs, "孙子", "孙女")
		case "63", "64":
			return pick(hs, "外孙子", "外孙女")
		}
	case kinSibling:
		return sibling(h, n)
	}
	return ""
}

// composeRelation is what y is of n, given that n is of kind a to the old
// head h and y's relation to h.
func composeRelation(a int, n, h, y Kin, uniqueLine bool, children int) string {
	b, _ := kinOf(codeOf(y.Relation))
	ys, hs := y.sex(), h.sex()
	switch a {
	case kinSpouse:
		switch b {
		case kinChild, kinChildInLaw, kinGrandchild, kinGrandchildInLaw, kinGreatGrandchild:
			return y.Relation // the couple's children stay theirs
		case kinParent:
			if n.Gender == "女" {
				return pick(ys, "公公", "婆婆")
			} else if n.Gender == "男" {
				return pick(ys, "岳父", "岳母")
			}
		case kinParentInLaw:
			return pick(ys, "父亲", "母亲")
		case kinGrandparent:
			return "配偶的祖父母或外祖父母"
		}
	case kinChild:
		switch b {
		case kinSpouse:
			return pick(ys, "父亲", "母亲")
		case kinChild:
			return sibling(y, n)
		case kinChildInLaw:
			if uniqueLine && ys != n.Gender {
				return "配偶"
			}
		case kinGrandchild:
			if uniqueLine && lineOf(y.Relation, n.Gender) {
				return pick(ys, "子", "女")
			}
		case kinGrandchildInLaw:
			if uniqueLine && lineOf(y.Relation, n.Gender) {
				return pick(ys, "女婿", "儿媳")
			}
		case kinParent:
			if hs == "男" {
				return pick(ys, "祖父", "祖母")
			} else if hs == "女" {
				return pick(ys, "外祖父", "外祖母")
			}
		case kinParentInLaw:
			if hs == "男" {
				return pick(ys, "外祖父", "外祖母")
			} else if hs == "女" {
				return pick(ys, "祖父", "祖母")
			}
		case kinSibling:
			older := olderThan(y, h)
			switch {
			case hs == "男" && ys == "男" && older != 0:
				return map[int]string{1: "伯父", -1: "叔父"}[older]
			case hs == "男" && ys == "女":
				return "姑母"
			case hs == "女" && ys == "男":
				return "舅父"
			case hs == "女" && ys == "女":
				return "姨母"
			}
		}
	case kinChildInLaw:
		switch b {
		case kinChild:
			if uniqueLine && ys != n.Gender {
				return "配偶"
			}
		case kinSpouse:
			if n.Gender == "女" {
				return pick(ys, "公公", "婆婆")
			} else if n.Gender == "男" {
				return pick(ys, "岳父", "岳母")
			}
		case kinGrandchild:
			if uniqueLine {
				return pick(ys, "子", "女")
			}
		}
	case kinParent:
		switch b {
		case kinSpouse:
			return pick(ys, "女婿", "儿媳")
		case kinChild:
			if hs == "男" {
				return pick(ys, "孙子", "孙女")
			} else if hs == "女" {
				return pick(ys, "外孙子", "外孙女")
			}
		case kinParent:
			return "配偶"
		case kinSibling:
			return pick(ys, "子", "女")
		}
	case kinSibling:
		switch b {
		case kinParent:
			return pick(ys, "父亲", "母亲")
		case kinSibling:
			return sibling(y, n)
		case kinSpouse:
			older := olderThan(h, n)
			switch {
			case hs == "男" && older == 1:
				return "嫂"
			case hs == "男" && older == -1:
				return "弟媳"
			case hs == "女" && older == 1:
				return "姐夫"
			case hs == "女" && older == -1:
				return "妹夫"
			}
		case kinChild:
			if hs == "男" {
				return pick(ys, "侄子", "侄女")
			} else if hs == "女" {
				return pick(ys, "外甥", "外甥女")
			}
		}
	case kinGrandchild:
		if b == kinSpouse {
			switch codeOf(n.Relation) {
			case "41", "42":
				return pick(ys, "祖父", "祖母")
			case "43", "44":
				return pick(ys, "外祖父", "外祖母")
			}
		}
	}
	return ""
}

// lineOf reports whether a grandchild's relation may descend from a child
// of sex s: 孙子/孙女 through a son, 外孙子/外孙女 through a daughter.
func lineOf(rel, s string) bool {
	switch codeOf(rel) {
	case "41", "42", "45", "46":
		return s == "男"
	case "43", "44":
		return s == "女"
	}
	return true
}

// sibling is what y is of n when both are children of one parent.
func sibling(y, n Kin) string {
	ys := y.sex()
	switch olderThan(y, n) {
	case 1:
		return pick(ys, "兄", "姐姐")
	case -1:
		return pick(ys, "弟", "妹妹")
	}
	return "兄弟姐妹"
}

// olderThan is 1 when a was born before b, -1 after, 0 when unknown.
func olderThan(a, b Kin) int {
	if a.Birth == "" || b.Birth == "" || a.Birth == b.Birth {
		return 0
	}
	if a.Birth < b.Birth {
		return 1
	}
	return -1
}

// pick chooses the male or female word by sex; "" when the sex is unknown.
func pick(sex, male, female string) string {
	switch sex {
	case "男":
		return male
	case "女":
		return female
	}
	return ""
}

// RelationsUnder recomputes the relations of members who join a head's
// household from another household (合户): link is what the other
// household's head is of this head; the others follow from their
// relations to their old head.
func RelationsUnder(head Kin, link string, otherHead Kin, members []Kin) map[string]string {
	out := map[string]string{}
	if _, ok := RelationCode(link); !ok || IsHead(link) {
		for _, m := range members {
			out[m.ID] = ""
		}
		out[otherHead.ID] = ""
		return out
	}
	out[otherHead.ID] = link
	// What the joining members are of this head: compose through their
	// head, seen as a member of kind link with the old head as pivot.
	pivot := Kin{ID: otherHead.ID, Relation: RelationHead, Gender: otherHead.sex(), Birth: otherHead.Birth}
	self := Kin{ID: head.ID, Relation: inverseRelation(kindOf(link), Kin{Relation: link, Gender: otherHead.sex(), Birth: otherHead.Birth}, head), Gender: head.Gender, Birth: head.Birth}
	if self.Relation == "" {
		for _, m := range members {
			if m.ID != otherHead.ID {
				out[m.ID] = ""
			}
		}
		return out
	}
	all := append([]Kin{self}, members...)
	rel := RelationsToNewHead(pivot, all, head.ID)
	for _, m := range members {
		if m.ID != otherHead.ID {
			out[m.ID] = rel[m.ID]
		}
	}
	return out
}

func kindOf(rel string) int {
	k, _ := kinOf(codeOf(rel))
	return k
}
