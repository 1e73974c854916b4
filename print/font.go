package print

import (
	_ "embed"
	"strings"
	"sync"
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
	fontOnce  sync.Once
	fontCover *ttc.Coverage
	fontErr   error
)

// loadFont reads the glyph coverage of the embedded font once per process.
// gofpdf still parses the font's metrics for each document (it keeps them in
// the document), but the bytes are shared, never copied or read from disk.
func loadFont() (*ttc.Coverage, error) {
	fontOnce.Do(func() {
		fontCover, fontErr = ttc.BMPCoverage(fontTTF)
	})
	return fontCover, fontErr
}

// Printable returns s as it will be printed: characters the font lacks
// become StandIn, control characters other than newline and tab are
// dropped, tabs become spaces, and CR LF becomes LF.
func Printable(s string) string {
	cover, err := loadFont()
	ok := true
	for _, r := range s {
		if r == '\n' || (r >= 0x20 && r < 0x7F) {
			continue
		}
		if err != nil || !cover.Has(r) || unicode.IsControl(r) {
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
		case err != nil || !cover.Has(r):
			b.WriteString(StandIn)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
