package print

import (
	"embed"
	"math/bits"
	"reflect"
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

// StandIn replaces every character the font cannot draw: characters above
// U+FFFF (CJK Extension B names such as 𠇔, emoji), which make gofpdf panic,
// and BMP characters without a glyph. 〓 (geta mark) is the typesetter's
// customary mark for a missing character and cannot be mistaken for a
// checkbox, which □ could.
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
			baseRunes.addString(printable(fontParsed, string(b)))
		}
	})
	return fontParsed, fontErr
}

// runeSet is a set of BMP characters.
type runeSet [65536 / 64]uint64

func (s *runeSet) add(r rune) {
	if r >= 0 && r <= 0xFFFF {
		s[r>>6] |= 1 << (uint(r) & 63)
	}
}

func (s *runeSet) has(r rune) bool {
	return r >= 0 && r <= 0xFFFF && s[r>>6]&(1<<(uint(r)&63)) != 0
}

func (s *runeSet) addString(str string) {
	for _, r := range str {
		s.add(r)
	}
}

func (s *runeSet) runes() []rune {
	var rs []rune
	for i, w := range s {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			rs = append(rs, rune(i<<6|b))
			w &^= 1 << b
		}
	}
	return rs
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

// Printable returns s as it will be printed: characters the font lacks
// become StandIn, control characters other than newline and tab are
// dropped, tabs become spaces, and CR LF becomes LF.
func Printable(s string) string {
	font, _ := loadFont()
	return printable(font, s)
}

// printable is Printable with the font given; nil means none is usable.
func printable(font *ttc.Font, s string) string {
	ok := true
	for _, r := range s {
		if r == '\n' || (r >= 0x20 && r < 0x7F) {
			continue
		}
		if font == nil || !font.Has(r) || unicode.IsControl(r) {
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
		case font == nil || !font.Has(r):
			b.WriteString(StandIn)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
