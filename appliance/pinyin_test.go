package appliance_test

import (
	"slices"
	"strings"
	"testing"

	"gridbox/appliance"
)

func TestPinyinKeys(t *testing.T) {
	for _, tc := range []struct {
		name  string
		first string   // the likeliest full reading
		want  []string // among the keys
		not   []string // not among the keys
	}{
		{"张秀菊", "zhangxiuju", []string{"zhangxiuju", "zxj"}, nil},
		{"单丽", "shanli", []string{"shanli", "sl", "danli", "dl"}, nil},
		{"曾国强", "zengguoqiang", []string{"zengguoqiang", "zgq", "cengguoqiang", "cgq"}, nil},
		{"重庆", "chongqing", []string{"chongqing", "cq", "zhongqing", "zq"}, nil},
		{"区志刚", "ouzhigang", []string{"ouzhigang", "ozg", "quzhigang", "qzg"}, nil},
		{"仇大海", "qiudahai", []string{"qdh"}, nil},
		{"解放", "xiefang", []string{"xf", "jiefang"}, nil},
		{"朴正熙", "piaozhengxi", []string{"pzx"}, nil},
		{"查良镛", "zhaliangyong", []string{"zly", "chaliangyong"}, nil},
		{"盖伟", "gewei", []string{"gw", "gaiwei"}, nil},
		{"覃明", "qinming", []string{"qm", "tanming"}, nil},
		{"尉小红", "yuxiaohong", []string{"yxh", "weixiaohong"}, nil},
		{"秘书华", "bishuhua", []string{"bsh", "mishuhua"}, nil},
		{"万俟卨", "moqixie", []string{"mqx", "wanqixie"}, nil},
		{"尉迟恭", "yuchigong", []string{"ycg"}, nil},
		{"王𠇔", "wang", []string{"wang", "w"}, []string{"𠇔"}},
		{"李 A2", "lia2", []string{"lia2", "la2"}, nil},
		{"李Ａ２", "lia2", []string{"la2"}, nil},
		{"阿依古丽·买买提", "ayigulimaimaiti", []string{"aygl" + "mmt"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			keys := appliance.PinyinKeys(tc.name)
			if len(keys) == 0 || keys[0] != tc.first {
				t.Fatalf("PinyinKeys(%q)=%q, want first %q", tc.name, keys, tc.first)
			}
			for _, w := range tc.want {
				if !slices.Contains(keys, w) {
					t.Fatalf("PinyinKeys(%q)=%q, want %q among them", tc.name, keys, w)
				}
			}
			for _, k := range keys {
				for _, n := range tc.not {
					if strings.Contains(k, n) {
						t.Fatalf("key %q contains %q", k, n)
					}
				}
				if k != strings.ToLower(k) || strings.ContainsAny(k, " ·") {
					t.Fatalf("key %q not normalised", k)
				}
			}
		})
	}

	t.Run("Empty", func(t *testing.T) {
		for _, s := range []string{"", "  ", "𠇔", "·", "\xff"} {
			if keys := appliance.PinyinKeys(s); len(keys) != 0 {
				t.Fatalf("PinyinKeys(%q)=%q, want none", s, keys)
			}
		}
	})

	t.Run("Capped", func(t *testing.T) {
		// Every character has several readings: 2^10 combinations uncapped.
		keys := appliance.PinyinKeys("重重重重重重重重重重")
		if len(keys) > 32 {
			t.Fatalf("%d keys, want at most 32", len(keys))
		}
		if got, want := keys[0], strings.Repeat("chong", 1)+strings.Repeat("zhong", 9); got != want {
			t.Fatalf("first key %q, want %q", got, want)
		}
	})

	t.Run("LikeliestFirst", func(t *testing.T) {
		// 解 has 3 readings, 长 2, 重 3: the cap cuts the unlikeliest.
		keys := appliance.PinyinKeys("解长重")
		for _, w := range []string{"xiezhangzhong", "xiechangzhong", "xiezhangchong", "jiezhangzhong"} {
			if !slices.Contains(keys, w) {
				t.Fatalf("keys %q, want %q", keys, w)
			}
		}
	})
}

func TestNormalizeQuery(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{" Zhang XJ ", "zhangxj"},
		{"ＺＸＪ", "zxj"},
		{"xi'an", "xian"},
		{"张　秀菊", "张秀菊"},
		{"４１０１８４", "410184"},
		{"", ""},
	} {
		if got := appliance.NormalizeQuery(tc.in); got != tc.want {
			t.Fatalf("NormalizeQuery(%q)=%q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzPinyinKeys(f *testing.F) {
	for _, s := range []string{"张秀菊", "万俟", "重重重重重重重重重重重重重重重重重重", "𠇔\xff a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if keys := appliance.PinyinKeys(s); len(keys) > 32 {
			t.Fatalf("%d keys", len(keys))
		}
		_ = appliance.NormalizeQuery(s)
	})
}

func BenchmarkPinyinKeys(b *testing.B) {
	for b.Loop() {
		appliance.PinyinKeys("曾秀菊")
	}
}

func BenchmarkPinyinKeys_Long(b *testing.B) {
	name := strings.Repeat("重乐解", 3000)
	for b.Loop() {
		if keys := appliance.PinyinKeys(name); len(keys) == 0 {
			b.Fatal("no keys")
		}
	}
}
