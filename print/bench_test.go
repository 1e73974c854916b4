package print_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"gridbox/print"
)

func cards(n int) *print.CardSheet {
	s := &print.CardSheet{}
	for i := 0; i < n; i++ {
		s.Cards = append(s.Cards, sampleCard(i))
	}
	return s
}

// countWriter counts bytes, so big PDFs are not kept in memory.
type countWriter struct{ n int64 }

func (w *countWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func BenchmarkCard(b *testing.B) {
	benchCard(b, sampleCard(7))
}

// benchCard renders one single card per op and reports the PDF's size.
func benchCard(b *testing.B, c print.Card) {
	doc := &print.CardSheet{Cards: []print.Card{c}, Layout: print.CardSingle}
	var w countWriter
	for i := 0; i < b.N; i++ {
		w.n = 0
		if err := print.Render(&w, doc, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(w.n)/1e3, "kB/pdf")
}

func BenchmarkCards1000(b *testing.B) {
	doc := cards(1000)
	var w countWriter
	for i := 0; i < b.N; i++ {
		w.n = 0
		if err := print.Render(&w, doc, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(w.n)/1e6, "MB/pdf")
}

// BenchmarkCards1000PeakRSS renders 1,000 cards in a fresh process (this
// test binary, re-run) and reports that process's peak resident memory.
func BenchmarkCards1000PeakRSS(b *testing.B) {
	peak := 0.0
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.count=1")
		cmd.Env = append(os.Environ(), "PRINT_RSS_CHILD=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("child: %v: %s", err, out)
		}
		_, v, ok := strings.Cut(string(out), "VmHWM_kB=")
		if !ok {
			b.Fatalf("child printed no VmHWM: %s", out)
		}
		kb, _ := strconv.Atoi(strings.Fields(v)[0])
		peak = max(peak, float64(kb)/1024)
	}
	b.ReportMetric(peak, "peak-RSS-MiB")
}

// peakRSSChild is the child of BenchmarkCards1000PeakRSS, run by TestMain
// when PRINT_RSS_CHILD=1: it renders the cards and prints its peak memory.
func peakRSSChild() int {
	if err := print.Render(io.Discard, cards(1000), nil); err != nil {
		fmt.Println("render:", err)
		return 1
	}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			fmt.Printf("VmHWM_kB=%s\n", strings.Fields(v)[0])
		}
	}
	return 0
}

// BenchmarkCardSheetDecode is the heavy form of TestCardSheetThousand, run
// on demand (PRINT_DECODE_BENCH=1 go test ./print -run '^$' -bench
// CardSheetDecode -benchtime 1x; some ten minutes): every card of the
// 1,000-household sheet must decode at 150, 300 and 600 dpi from poppler
// and Ghostscript. It reports the time per renderer and resolution; a code
// that does not decode fails it.
func BenchmarkCardSheetDecode(b *testing.B) {
	if os.Getenv("PRINT_DECODE_BENCH") == "" {
		b.Skip("set PRINT_DECODE_BENCH=1 to decode the 1,000-card sheet at every resolution")
	}
	cards, tokens := thousandCards()
	pdf := mustRender(b, &print.CardSheet{Cards: cards})
	for _, r := range renderers {
		for _, dpi := range resolutions {
			b.Run(fmt.Sprintf("%s/%d", r, dpi), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					wantEveryCode(b, pdf, 1, 125, tokens, r, dpi)
				}
			})
		}
	}
}

// BenchmarkCardRareName is BenchmarkCard with a grid leader whose name has
// a character of Extension B, drawn from the fallback font (fonts-hanazono).
func BenchmarkCardRareName(b *testing.B) {
	requireFallbackFont(b)
	c := sampleCard(7)
	c.GridLeader = "李𠇔琳"
	benchCard(b, c)
}

// BenchmarkNoticeA4Week is a week's notice board of a village of 12 groups
// on one A4 sheet: the type is fitted by drawing it several times.
func BenchmarkNoticeA4Week(b *testing.B) {
	doc := noticeOf(12, 6, 7, true, false)
	for i := 0; i < b.N; i++ {
		if err := print.Render(io.Discard, doc, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBooklet40 is 40 A5 pages imposed as a booklet on 20
// A4 sides, as a long visit diary is.
func BenchmarkBooklet40(b *testing.B) {
	doc := print.BookletPages(40)
	for i := 0; i < b.N; i++ {
		if err := print.Render(io.Discard, doc, nil); err != nil {
			b.Fatal(err)
		}
	}
}
