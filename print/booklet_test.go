package print_test

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gridbox/print"
)

// bboxPages is pdftotext -bbox of a whole PDF: each page's words with
// their boxes, and the page width.
func bboxPages(tb testing.TB, pdf []byte) (pages [][]word, width float64) {
	tb.Helper()
	requireTool(tb, "pdftotext")
	out, err := exec.Command("pdftotext", "-bbox", writeTemp(tb, pdf), "-").CombinedOutput()
	if err != nil {
		tb.Fatalf("pdftotext -bbox: %v: %s", err, out)
	}
	for _, p := range strings.Split(string(out), "<page ")[1:] {
		if m := pageRE.FindStringSubmatch("<page " + p); m != nil {
			fmt.Sscan(m[1], &width)
		}
		var ws []word
		for _, m := range wordRE.FindAllStringSubmatch(p, -1) {
			var w word
			fmt.Sscan(m[1], &w.xMin)
			fmt.Sscan(m[2], &w.yMin)
			fmt.Sscan(m[3], &w.xMax)
			fmt.Sscan(m[4], &w.yMax)
			w.text = m[5]
			ws = append(ws, w)
		}
		pages = append(pages, ws)
	}
	return pages, width
}

var pageMark = regexp.MustCompile(`^P(\d\d)$`)

// Booklets of 1 to 40 A5 pages keep every page, each once, on the sheet
// side and half that saddle-stitch order puts it on (FINDINGS: imposing by
// going back to earlier sheets lost every page after the current one).
func TestBookletKeepsEveryPage(t *testing.T) {
	for n := 1; n <= 40; n++ {
		pdf := mustRender(t, print.BookletPages(n))
		sides, w := bboxPages(t, pdf)
		sheets := (n + 3) / 4
		if len(sides) != 2*sheets || w < 800 {
			t.Fatalf("%d pages: %d sides %.0f pt wide, want %d A4 landscape sides", n, len(sides), w, 2*sheets)
		}
		N := 4 * sheets
		// want[side] = {left page, right page}, 0 for blank.
		seen := map[string]bool{}
		for s := 0; s < sheets; s++ {
			for k, want := range [][2]int{{N - 2*s, 2*s + 1}, {2*s + 2, N - 1 - 2*s}} {
				side := 2*s + k
				var got [2]int
				for _, wd := range sides[side] {
					m := pageMark.FindStringSubmatch(wd.text)
					if m == nil {
						continue
					}
					half := 0
					if wd.xMin > w/2 {
						half = 1
					}
					if got[half] != 0 {
						t.Fatalf("%d pages: side %d half %d holds two marks", n, side+1, half)
					}
					got[half], _ = strconv.Atoi(m[1])
					seen[wd.text] = true
				}
				for h := range want {
					if want[h] > n {
						want[h] = 0 // past the last page: blank
					}
				}
				if got != want {
					t.Fatalf("%d pages: side %d holds pages %v (left, right), want %v", n, side+1, got, want)
				}
			}
		}
		if len(seen) != n {
			t.Fatalf("%d pages: %d found", n, len(seen))
		}
	}
}
