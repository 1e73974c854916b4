package print_test

import (
	"fmt"
	"testing"

	qrcode "github.com/skip2/go-qrcode"

	"gridbox/print"
)

// Dark modules that touch must render as one dark area: no lighter hairline
// where two rows meet, at any resolution, from either renderer (FINDINGS:
// rectangles of one module's height left seams in poppler at 300 dpi).
func TestQRNoSeams(t *testing.T) {
	c := sampleCard(3)
	c.Token = "https://xhc.example.cn/scan?token=HQ3ZK7M2Q9XDPL4W8RTB6YNC5JFG100003"
	pdf := mustRender(t, &print.CardSheet{Cards: []print.Card{c}, Layout: print.CardSingle})
	path := writeTemp(t, pdf)
	q, err := qrcode.New(c.Token, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	q.DisableBorder = true
	n := len(q.Bitmap())
	// card.go: a 24 mm square at the card's top right, two modules of quiet
	// zone inside it.
	const qx, qy, size = 86 - 3.5 - 24, 11.5, 24.0
	m := size / float64(n+4)
	for _, r := range renderers {
		for _, dpi := range resolutions {
			t.Run(fmt.Sprintf("%s/%d", r, dpi), func(t *testing.T) {
				img := readPGM(t, renderPage(t, path, 1, r, dpi))
				px := func(mm float64) int { return int(mm * float64(dpi) / 25.4) }
				// Check the middle half of a module column from the top of row
				// j0 to the bottom of row j1: every pixel must be dark.
				column := func(name string, i, j0, j1 int) {
					x0, x1 := px(qx+(2+float64(i)+0.25)*m), px(qx+(2+float64(i)+0.75)*m)
					y0, y1 := px(qy+(2+float64(j0)+0.25)*m), px(qy+(2+float64(j1)+0.75)*m)
					for y := y0; y <= y1; y++ {
						for x := x0; x <= x1; x++ {
							if v := img.pix[y*img.w+x]; v > 32 {
								t.Fatalf("%s: pixel (%d,%d) = %d, want dark: a seam", name, x, y, v)
							}
						}
					}
				}
				// The finder patterns' outer columns (rows 0–6, where a 7-wide
				// run meets 1-wide ones) and their 3×3 centres.
				for _, f := range [][2]int{{0, 0}, {n - 7, 0}, {0, n - 7}} {
					column("finder left", f[0], f[1], f[1]+6)
					column("finder right", f[0]+6, f[1], f[1]+6)
					for i := 2; i <= 4; i++ {
						column("finder centre", f[0]+i, f[1]+2, f[1]+4)
					}
				}
				if got := decodeQR(t, renderPage(t, path, 1, r, dpi)); len(got) != 1 || got[0] != c.Token {
					t.Fatalf("decoded %q, want %q", got, c.Token)
				}
			})
		}
	}
}
