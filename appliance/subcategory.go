package appliance

import (
	"fmt"
	"strings"
)

// Subcategory narrows a case category: 公共事务 → 林木病虫害, 畜禽疫情 (the
// seed's own examples). Configured per category; a case names at most one
// of its category's, and statistics count cases by them.
type Subcategory struct {
	Key  string `toml:"key" json:"key"`
	Name string `toml:"name" json:"name"`
}

func defaultPublicAffairs() []Subcategory {
	return []Subcategory{
		{Key: "tree_pests", Name: "林木病虫害"},
		{Key: "animal_epidemic", Name: "畜禽疫情"},
		{Key: "roads", Name: "道路交通"},
		{Key: "water", Name: "供水用水"},
		{Key: "power_lighting", Name: "电力照明"},
	}
}

func validateSubcategories(cat Category) error {
	seen := map[string]bool{}
	for _, s := range cat.Subcategories {
		if !idRE.MatchString(s.Key) || s.Name == "" || seen[s.Key] {
			return fmt.Errorf("cases.categories %s: bad or repeated subcategory key %q", cat.Key, s.Key)
		}
		seen[s.Key] = true
	}
	return nil
}

// Subcategory returns the subcategory key of category cat ("" is none).
func (cat Category) Subcategory(key string) (Subcategory, bool) {
	for _, s := range cat.Subcategories {
		if s.Key == key {
			return s, true
		}
	}
	return Subcategory{}, false
}

// CheckSubcategory refuses a subcategory that category cat does not have,
// naming the field and the ones it has.
func CheckSubcategory(cat Category, key string) error {
	if key == "" {
		return nil
	}
	if _, ok := cat.Subcategory(key); ok {
		return nil
	}
	if len(cat.Subcategories) == 0 {
		return FieldError("subcategory", "问题类别“%s”没有细分类别", cat.Name)
	}
	var keys []string
	for _, s := range cat.Subcategories {
		keys = append(keys, s.Key+"（"+s.Name+"）")
	}
	return FieldError("subcategory", "问题类别“%s”没有细分类别 %s；可选：%s", cat.Name, key, strings.Join(keys, "、"))
}
