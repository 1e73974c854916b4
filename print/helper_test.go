package print_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gridbox/print"
)

// requireTool fails the test on CI (CI=true) and skips it elsewhere when an
// external program is missing.
func requireTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is required (CI=true): %v", name, err)
	}
	tb.Skipf("%s not installed: %v", name, err)
	return ""
}

// mustRender renders doc and checks it is a non-empty PDF.
func mustRender(tb testing.TB, doc print.Document) []byte {
	tb.Helper()
	b, err := print.RenderBytes(doc, nil)
	if err != nil {
		tb.Fatalf("render %s: %v", doc.Kind(), err)
	}
	if !bytes.HasPrefix(b, []byte("%PDF-")) || len(b) < 1000 {
		tb.Fatalf("render %s: not a PDF (%d bytes)", doc.Kind(), len(b))
	}
	// PRINT_DUMP_DIR=/tmp/pdfs keeps every rendered PDF for a human to look at.
	if dir := os.Getenv("PRINT_DUMP_DIR"); dir != "" {
		name := strings.NewReplacer("/", "_", "=", "").Replace(tb.Name()) + ".pdf"
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return b
}

func writeTemp(tb testing.TB, b []byte) string {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), "doc.pdf")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	return p
}

// pdfText is pdftotext of pages first..last (0 means to the end).
func pdfText(tb testing.TB, pdf []byte, first, last int) string {
	tb.Helper()
	requireTool(tb, "pdftotext")
	args := []string{"-layout", "-enc", "UTF-8"}
	if first > 0 {
		args = append(args, "-f", strconv.Itoa(first))
	}
	if last > 0 {
		args = append(args, "-l", strconv.Itoa(last))
	}
	args = append(args, writeTemp(tb, pdf), "-")
	out, err := exec.Command("pdftotext", args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("pdftotext: %v: %s", err, out)
	}
	return string(out)
}

// flat removes all white space, since pdftotext puts spaces and line
// breaks where the layout wraps.
func flat(s string) string {
	return strings.Join(strings.Fields(s), "")
}

func wantText(tb testing.TB, text string, want ...string) {
	tb.Helper()
	f := flat(text)
	for _, w := range want {
		if !strings.Contains(f, flat(w)) {
			tb.Errorf("PDF text lacks %q\n--- text ---\n%s", w, text)
		}
	}
}

func pageCount(tb testing.TB, pdf []byte) int {
	tb.Helper()
	requireTool(tb, "pdfinfo")
	out, err := exec.Command("pdfinfo", writeTemp(tb, pdf)).CombinedOutput()
	if err != nil {
		tb.Fatalf("pdfinfo: %v: %s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "Pages:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	tb.Fatalf("pdfinfo: no page count: %s", out)
	return 0
}

// qrCodes renders one page at 150 dpi and decodes every QR code on it,
// sorted.
func qrCodes(tb testing.TB, pdfPath string, page int) []string {
	tb.Helper()
	requireTool(tb, "pdftoppm")
	requireTool(tb, "zbarimg")
	dir := tb.TempDir()
	p := strconv.Itoa(page)
	out, err := exec.Command("pdftoppm", "-r", "150", "-png", "-f", p, "-l", p, "-singlefile", pdfPath, filepath.Join(dir, "page")).CombinedOutput()
	if err != nil {
		tb.Fatalf("pdftoppm: %v: %s", err, out)
	}
	cmd := exec.Command("zbarimg", "-q", "--raw", filepath.Join(dir, "page.png"))
	var stdout bytes.Buffer
	cmd.Stdout = &stdout // stderr carries a harmless D-Bus complaint
	if err := cmd.Run(); err != nil {
		tb.Fatalf("zbarimg (exit 4 is no code found): %v", err)
	}
	var codes []string
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if l != "" {
			codes = append(codes, l)
		}
	}
	sort.Strings(codes)
	return codes
}

func wantCodes(tb testing.TB, pdf []byte, page int, want ...string) {
	tb.Helper()
	got := qrCodes(tb, writeTemp(tb, pdf), page)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		tb.Fatalf("QR codes on page %d = %q, want %q", page, got, want)
	}
}

var cst = time.FixedZone("CST", 8*3600)

func day(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, cst) }

// Fictional village data.
var services = []print.Service{
	{Name: "低保申请", Steps: []string{"向网格长提出申请并提交户口簿、身份证复印件", "村民代表评议并公示7天", "报乡镇民政所审核审批"}, Where: "村便民服务室"},
	{Name: "医保缴费", Steps: []string{"携带身份证到村便民服务室或手机缴费", "领取缴费凭证"}, Where: "村便民服务室"},
	{Name: "高龄补贴", Steps: []string{"年满80周岁老人由家属代为申请", "网格长上门核实"}, Where: "网格长代办"},
	{Name: "矛盾纠纷调解", Steps: []string{"拨打值班电话或找网格长反映", "村调解委员会三日内组织调解"}, Where: "村调解室"},
	{Name: "代办服务", Steps: []string{"网格长上门收取材料", "办结后送达到户"}, Where: "网格长"},
}

func sampleCard(i int) print.Card {
	return print.Card{
		Village:     "刘沟村",
		Group:       "第" + strconv.Itoa(i%12+1) + "村民小组",
		Household:   "刘沟村" + strconv.Itoa(i%12+1) + "组" + strconv.Itoa(i+1) + "号",
		GridLeader:  "王秀兰",
		LeaderPhone: "13803710" + strconv.Itoa(100+i%900),
		DutyPhone:   "0371-64551234",
		Services:    services,
		Token:       "hc-" + strconv.Itoa(100000+i) + "-Zk3q",
	}
}

type word struct {
	text                   string
	xMin, yMin, xMax, yMax float64 // points
}

var wordRE = regexp.MustCompile(`<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>`)
var pageRE = regexp.MustCompile(`<page width="([\d.]+)" height="([\d.]+)">`)

// words returns the words of one page with their boxes, and the page size.
func words(tb testing.TB, pdf []byte, page int) (ws []word, w, h float64) {
	tb.Helper()
	requireTool(tb, "pdftotext")
	p := strconv.Itoa(page)
	out, err := exec.Command("pdftotext", "-bbox", "-f", p, "-l", p, writeTemp(tb, pdf), "-").CombinedOutput()
	if err != nil {
		tb.Fatalf("pdftotext -bbox: %v: %s", err, out)
	}
	if m := pageRE.FindSubmatch(out); m != nil {
		w, _ = strconv.ParseFloat(string(m[1]), 64)
		h, _ = strconv.ParseFloat(string(m[2]), 64)
	}
	for _, m := range wordRE.FindAllSubmatch(out, -1) {
		f := func(i int) float64 { v, _ := strconv.ParseFloat(string(m[i]), 64); return v }
		ws = append(ws, word{string(m[5]), f(1), f(2), f(3), f(4)})
	}
	return ws, w, h
}

const mmPt = 72 / 25.4

// wantInside fails for any word of the page outside the rectangle (in mm)
// that inside returns for it; nil means the whole page.
func wantInside(tb testing.TB, pdf []byte, page int, inside func(w word) (x, y, wd, ht float64)) {
	tb.Helper()
	ws, pw, ph := words(tb, pdf, page)
	if len(ws) == 0 {
		tb.Fatalf("page %d: no words", page)
	}
	const tol = 0.6 // points
	for _, w := range ws {
		x, y, wd, ht := 0.0, 0.0, pw/mmPt, ph/mmPt
		if inside != nil {
			x, y, wd, ht = inside(w)
		}
		if w.xMin < x*mmPt-tol || w.xMax > (x+wd)*mmPt+tol || w.yMin < y*mmPt-tol || w.yMax > (y+ht)*mmPt+tol {
			tb.Errorf("page %d: %q at (%.1f,%.1f)-(%.1f,%.1f) pt runs outside (%.1f,%.1f)-(%.1f,%.1f) pt",
				page, w.text, w.xMin, w.yMin, w.xMax, w.yMax, x*mmPt, y*mmPt, (x+wd)*mmPt, (y+ht)*mmPt)
		}
	}
}
