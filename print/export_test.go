package print

import (
	"fmt"
	"testing"
)

// Redraws exposes how many documents were drawn twice because their font
// subsets lacked a character.
func Redraws() int64 { return redraws.Load() }

// OnQR sets a function told where each QR code of every rendered document
// is drawn (page, top-left corner and side, page height, in mm); nil stops it.
func OnQR(f func(page int, x, y, size, pageH float64)) { qrDrawn = f }

// BookletPages is a document of n A5 pages, each marked "Pnn" at its top
// left, imposed as a booklet like the diary.
func BookletPages(n int) Document { return bookletPages(n) }

type bookletPages int

func (bookletPages) Kind() string { return "booklet-pages" }
func (n bookletPages) draw(d *doc) error {
	return d.imposeBooklet(func(d *doc) error {
		for i := 1; i <= int(n); i++ {
			d.addPage(pageA5, false)
			d.textAt(d.ml, d.y, 40, fmt.Sprintf("P%02d", i), left)
		}
		return nil
	})
}

// FallbackFontsIn makes print search dirs for fallback fonts until the
// test ends (an empty folder: none).
func FallbackFontsIn(tb testing.TB, dirs ...string) {
	SetFontDirs(dirs)
	tb.Cleanup(func() { SetFontDirs(nil) })
}
