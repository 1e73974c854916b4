package print

import "fmt"

// FullFontRedraws exposes how many documents needed the whole font.
func FullFontRedraws() int64 { return fullFontRedraws.Load() }

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
