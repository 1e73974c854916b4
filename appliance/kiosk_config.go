package appliance

import (
	"strings"
	"unicode/utf8"
)

// Tap phrases: short common problems per category that a villager who
// cannot type taps on the kiosk (docs/cases.md, "Kiosk").
const (
	MaxPhrases     = 12 // per category
	MaxPhraseRunes = 30
)

// CategoryOther is the key of the default triage category 其他 / 说不清.
const CategoryOther = "other"

// defaultCategories are the categories of DESIGN.md in plain words, with
// a few tap phrases each, and 其他 / 说不清 for the duty room to sort out.
func defaultCategories() []Category {
	return []Category{
		{Key: "illegal_production", Name: "非法生产", Plain: "黑作坊、偷排污", Icon: "factory",
			Phrases: []string{"有人开黑作坊", "工厂偷排污水", "烧垃圾冒黑烟", "半夜机器噪音大"}},
		{Key: "illegal_business", Name: "非法经营", Plain: "无证经营、卖假货", Icon: "shop",
			Phrases: []string{"无证开店", "卖假货或过期食品", "有人聚众赌博", "占道摆摊"}},
		{Key: "illegal_construction", Name: "非法建设", Plain: "乱搭乱建", Icon: "house",
			Phrases: []string{"有人乱搭乱建", "占用耕地盖房", "违章建房挡路"}},
		{Key: "work_safety", Name: "安全生产", Plain: "安全隐患", Icon: "helmet", Deadlines: map[string]int{"group": 1, "village": 2, "town": 5, "city": 10}, AutoEscalate: true,
			Phrases: []string{"房子有裂缝，可能是危房", "电线老化或乱拉电线", "闻到煤气（液化气）味", "河边或井口没有护栏"}},
		{Key: "petition", Name: "信访稳定", Plain: "矛盾纠纷", Icon: "letter", AutoEscalate: true,
			Phrases: []string{"邻里吵架闹纠纷", "土地或宅基地纠纷", "工钱被拖欠", "家庭矛盾需要调解"}},
		{Key: "grassroots", Name: "基层组织建设", Plain: "对村干部的意见", Icon: "flag",
			Phrases: []string{"村务没有公开", "办事找不到人", "对村干部有意见"}},
		{Key: "public_opinion", Name: "社情民意", Plain: "建议和想法", Icon: "people",
			Phrases: []string{"我有一个建议", "希望村里办一件事"}},
		{Key: "public_affairs", Name: "公共事务", Plain: "路、水、电、树、牲畜", Icon: "tree", Note: "林木病虫害、畜禽疫情、道路、用水等",
			Phrases: []string{"路灯坏了", "路坏了或积水", "停水或水管漏水", "树木生虫或倒了", "牲畜生病或死亡"}},
		{Key: "livelihood", Name: "民生服务", Plain: "低保、看病、养老", Icon: "heart",
			Phrases: []string{"低保的问题", "看病或医保的问题", "老人没人照顾", "残疾人需要帮助"}},
		{Key: CategoryOther, Name: "其他", Plain: "其他 / 说不清", Icon: "other", Triage: true, Phrases: []string{}},
	}
}

// fillCategoryDefaults gives categories from an older configuration file
// what later versions added: the plain words and tap phrases of a default
// category with the same key, and 其他 / 说不清 when no category is a
// triage one (the kiosk must always offer it).
func (c *Config) fillCategoryDefaults() {
	defs := defaultCategories()
	triage := false
	for i := range c.Cases.Categories {
		cat := &c.Cases.Categories[i]
		triage = triage || cat.Triage
		for _, d := range defs {
			if d.Key != cat.Key {
				continue
			}
			if cat.Plain == "" {
				cat.Plain = d.Plain
			}
			if cat.Phrases == nil {
				cat.Phrases = d.Phrases
			}
		}
	}
	if !triage {
		other := defs[len(defs)-1]
		if _, taken := c.Category(other.Key); !taken {
			c.Cases.Categories = append(c.Cases.Categories, other)
		}
	}
}

// ValidatePhrases checks a category's tap phrases.
func ValidatePhrases(phrases []string) error {
	if len(phrases) > MaxPhrases {
		return FieldError("phrases", "每一类最多%d条常见问题", MaxPhrases)
	}
	seen := map[string]bool{}
	for _, p := range phrases {
		switch {
		case strings.TrimSpace(p) != p || p == "":
			return FieldError("phrases", "常见问题不能为空，前后不能有空格")
		case utf8.RuneCountInString(p) > MaxPhraseRunes:
			return FieldError("phrases", "常见问题“%s”超过%d个字", p, MaxPhraseRunes)
		case seen[p]:
			return FieldError("phrases", "常见问题“%s”重复了", p)
		case strings.ContainsAny(p, "\r\n"):
			return FieldError("phrases", "每条常见问题占一行")
		}
		seen[p] = true
	}
	return nil
}

// ParsePhrases reads phrases written one a line (the staff form), trimming
// spaces and dropping empty lines.
func ParsePhrases(text string) ([]string, error) {
	out := []string{}
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out, ValidatePhrases(out)
}

// TriageCategory reports whether category key goes to the duty room.
func (c *Config) TriageCategory(key string) bool {
	cat, ok := c.Category(key)
	return ok && cat.Triage
}
