package appliance

import (
	"strings"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// maxPinyinCombos caps the reading combinations of one name: each
// heteronym multiplies them, and long names would blow up the index.
const maxPinyinCombos = 16

// surnameReadings are how characters read as a family name where that differs
// from (or is not the first of) their usual readings.
var surnameReadings = map[rune]string{
	'单': "shan", '曾': "zeng", '区': "ou", '仇': "qiu", '解': "xie", '朴': "piao",
	'查': "zha", '盖': "ge", '覃': "qin", '尉': "yu", '秘': "bi", '重': "chong",
	'缪': "miao", '翟': "zhai", '乐': "yue", '柏': "bai", '华': "hua", '种': "chong",
	'折': "she", '句': "gou", '员': "yun", '繁': "po", '过': "guo", '召': "shao",
	'长': "chang", '卜': "bu", '薄': "bo", '曲': "qu", '能': "nai", '祭': "zhai",
	'厍': "she", '阚': "kan", '隗': "wei", '洗': "xian", '冼': "xian", '蕃': "pi",
	'那': "na", '都': "du", '藏': "zang", '宿': "su", '万': "wan", '贾': "jia",
	'沈': "shen", '石': "shi", '殷': "yin", '燕': "yan", '盛': "sheng", '纪': "ji",
	'任': "ren", '宁': "ning", '谌': "chen", '郇': "huan", '应': "ying", '阿': "a",
	'车': "che",
}

// compoundSurnames are two-character family names whose surname reading is
// not their characters' first reading.
var compoundSurnames = map[string][2]string{
	"万俟": {"mo", "qi"}, "尉迟": {"yu", "chi"}, "单于": {"chan", "yu"},
	"长孙": {"zhang", "sun"}, "澹台": {"tan", "tai"}, "乐正": {"yue", "zheng"},
}

// maxNameRunes bounds the characters read: names are short, and keys for
// anything longer would only bloat the index.
const maxNameRunes = 32

var pinyinArgs = func() pinyin.Args {
	a := pinyin.NewArgs()
	a.Style = pinyin.Normal
	a.Heteronym = true
	a.Fallback = func(rune, pinyin.Args) []string { return nil }
	return a
}()

// PinyinKeys returns search keys for a person's name: for each reading
// combination (at most 16, likeliest first) the full pinyin without tones
// ("zhangxiuju") and its initials ("zxj"). The first character, or a known
// two-character family name, is read as a surname first; its other readings
// are kept, since a table cannot know every family. Latin letters and digits
// are kept lowercased; characters without pinyin (rare ones like 𠇔,
// punctuation) are left out, and so is anything past 32 characters.
func PinyinKeys(name string) []string {
	rs := []rune(strings.TrimSpace(name))
	if len(rs) > maxNameRunes {
		rs = rs[:maxNameRunes]
	}
	readings := nameReadings(rs)
	if len(readings) == 0 {
		return nil
	}
	var keys []string
	seen := map[string]bool{}
	add := func(k string) {
		if k != "" && !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	for _, combo := range pinyinCombos(readings, maxPinyinCombos) {
		var full, initials strings.Builder
		for i, r := range combo {
			s := readings[i][r]
			full.WriteString(s)
			initials.WriteByte(s[0])
		}
		add(full.String())
		add(initials.String())
	}
	return keys
}

// nameReadings returns, for each character that has any, its readings,
// likeliest first.
func nameReadings(rs []rune) [][]string {
	var out [][]string
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		var first string // reading to put first, if any
		if i == 0 && len(rs) > 2 {
			if cs, ok := compoundSurnames[string(rs[:2])]; ok {
				out = append(out, withFirst(cs[0], readingsOf(rs[0])))
				out = append(out, withFirst(cs[1], readingsOf(rs[1])))
				i++
				continue
			}
		}
		if i == 0 {
			first = surnameReadings[r]
		}
		rd := withFirst(first, readingsOf(r))
		if len(rd) > 0 {
			out = append(out, rd)
		}
	}
	return out
}

// readingsOf returns the toneless readings of one character, deduplicated;
// ASCII letters and digits read as themselves.
func readingsOf(r rune) []string {
	r = narrow(r)
	if r < unicode.MaxASCII {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return []string{string(unicode.ToLower(r))}
		}
		return nil
	}
	var out []string
	for _, p := range pinyin.SinglePinyin(r, pinyinArgs) {
		if p != "" && !contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// withFirst moves (or adds) first to the front of rd.
func withFirst(first string, rd []string) []string {
	if first == "" {
		return rd
	}
	out := []string{first}
	for _, s := range rd {
		if s != first {
			out = append(out, s)
		}
	}
	return out
}

// pinyinCombos enumerates index combinations over readings in order of the
// sum of their indices, so that the likeliest (all-first) readings come first
// and the cap cuts off only the unlikeliest, whichever position they are in.
func pinyinCombos(readings [][]string, limit int) [][]int {
	maxSum := 0
	for _, rd := range readings {
		maxSum += len(rd) - 1
	}
	// rest[i] is the largest index sum positions i.. can still add.
	rest := make([]int, len(readings)+1)
	for i := len(readings) - 1; i >= 0; i-- {
		rest[i] = rest[i+1] + len(readings[i]) - 1
	}
	var out [][]int
	cur := make([]int, len(readings))
	var walk func(i, left int)
	walk = func(i, left int) {
		if len(out) >= limit {
			return
		}
		if i == len(readings) {
			if left == 0 {
				out = append(out, append([]int(nil), cur...))
			}
			return
		}
		for k := 0; k < len(readings[i]) && k <= left; k++ {
			if left-k > rest[i+1] {
				continue
			}
			cur[i] = k
			walk(i+1, left-k)
		}
	}
	for sum := 0; sum <= maxSum && len(out) < limit; sum++ {
		walk(0, sum)
	}
	return out
}

// NormalizeQuery prepares search input: full-width letters and digits folded
// to ASCII, lowercased, spaces and apostrophes (xi'an) removed.
func NormalizeQuery(q string) string {
	var b strings.Builder
	for _, r := range q {
		r = narrow(r)
		switch {
		case unicode.IsSpace(r), r == '\'', r == '’':
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// narrow folds a full-width ASCII character (Ｘ, ４, －) to ASCII: Chinese
// input methods type them easily.
func narrow(r rune) rune {
	if r >= '！' && r <= '～' {
		return r - '！' + '!'
	}
	return r
}
