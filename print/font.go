package print

import (
	"embed"
	"math/bits"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode"

	"gridbox/print/internal/ttc"
)

// The font is built into the binary so the box needs nothing installed.
// WenQuanYi Micro Hei, face 0 of Debian's fonts-wqy-microhei .ttc, made by
// `go run ./print/fontgen`; Apache-2.0 or GPL-3+ with font exception, see
// font/LICENSE.*.
//
//go:embed font/wqy-microhei.ttf
var fontTTF []byte

const fontFamily = "wqy"

// StandIn replaces every character no font can draw: neither the built-in
// font nor a fallback font found on the system (fallback.go). 〓 (geta mark)
// is the typesetter's customary mark for a missing character and cannot be
// mistaken for a checkbox, which □ could. A page that prints it says so.
const StandIn = "〓"

var (
	fontOnce   sync.Once
	fontParsed *ttc.Font
	fontErr    error
	baseRunes  runeSet // printable ASCII and every character of print's own texts
)

// The package's sources, only to know which characters its fixed texts
// (labels, headings, default letters) use.
//
//go:embed *.go
var sources embed.FS

// loadFont parses the embedded font once per process. Each document then
// gets a subset of it holding just its characters (see Render): gofpdf
// parses a font it is given in full for every document, which for the whole
// 4.6 MB font costs tens of milliseconds.
func loadFont() (*ttc.Font, error) {
	fontOnce.Do(func() {
		fontParsed, fontErr = ttc.Parse(fontTTF)
		if fontErr != nil {
			return
		}
		for r := rune(0x20); r < 0x7F; r++ {
			baseRunes.add(r)
		}
		baseRunes.addString(StandIn + "…")
		files, _ := sources.ReadDir(".")
		for _, f := range files {
			b, _ := sources.ReadFile(f.Name())
			baseRunes.addString(printable(fontParsed, nil, string(b)))
		}
	})
	return fontParsed, fontErr
}

// runeSet is a set of characters: a bit set for the BMP, a map above.
type runeSet struct {
	bmp    [65536 / 64]uint64
	astral map[rune]bool
}

func (s *runeSet) add(r rune) {
	switch {
	case r >= 0 && r <= 0xFFFF:
		s.bmp[r>>6] |= 1 << (uint(r) & 63)
	case r <= unicode.MaxRune:
		if s.astral == nil {
			s.astral = map[rune]bool{}
		}
		s.astral[r] = true
	}
}

func (s *runeSet) has(r rune) bool {
	if r >= 0 && r <= 0xFFFF {
		return s.bmp[r>>6]&(1<<(uint(r)&63)) != 0
	}
	return s.astral[r]
}

func (s *runeSet) addString(str string) {
	for _, r := range str {
		s.add(r)
	}
}

func (s *runeSet) addSet(o *runeSet) {
	for i, w := range o.bmp {
		s.bmp[i] |= w
	}
	for r := range o.astral {
		s.add(r)
	}
}

func (s *runeSet) empty() bool {
	for _, w := range s.bmp {
		if w != 0 {
			return false
		}
	}
	return len(s.astral) == 0
}

// clone is a copy that shares nothing with s.
func (s *runeSet) clone() runeSet {
	c := runeSet{bmp: s.bmp}
	for r := range s.astral {
		c.add(r)
	}
	return c
}

// runes lists the set in order.
func (s *runeSet) runes() []rune {
	var rs []rune
	for i, w := range s.bmp {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			rs = append(rs, rune(i<<6|b))
			w &^= 1 << b
		}
	}
	var astral []rune
	for r := range s.astral {
		astral = append(astral, r)
	}
	sort.Slice(astral, func(i, j int) bool { return astral[i] < astral[j] })
	return append(rs, astral...)
}

// collectRunes adds the characters of every string in v, as printed.
func collectRunes(s *runeSet, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		s.addString(Printable(v.String()))
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			collectRunes(s, v.Elem())
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			return // printed as digits and fixed texts
		}
		for i := 0; i < v.NumField(); i++ {
			collectRunes(s, v.Field(i))
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			collectRunes(s, v.Index(i))
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			collectRunes(s, it.Key())
			collectRunes(s, it.Value())
		}
	}
}

// Printable returns s as it will be printed: every character the built-in
// font or a fallback font found on the system draws stays itself (a name
// never changes on paper); any other becomes StandIn. Control characters
// other than newline and tab are dropped, tabs become spaces, and CR LF
// becomes LF.
func Printable(s string) string {
	font, _ := loadFont()
	return printable(font, hasFallback, s)
}

// printable is Printable with the fonts given: font (nil: none is usable)
// and extra, which says whether a fallback font has a character (nil:
// none).
func printable(font *ttc.Font, extra func(rune) bool, s string) string {
	has := func(r rune) bool {
		return font != nil && font.Has(r) || extra != nil && extra(r)
	}
	ok := true
	for _, r := range s {
		if r == '\n' || (r >= 0x20 && r < 0x7F) {
			continue
		}
		if unicode.IsControl(r) || !has(r) {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteRune(r)
		case r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r):
			// dropped
		case r >= 0x20 && r < 0x7F:
			b.WriteRune(r)
		case !has(r):
			b.WriteString(StandIn)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
