package print_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
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
	var boxes []qrAt
	print.OnQR(func(page int, x, y, size, pageH float64) { boxes = append(boxes, qrAt{page, x, y, size, pageH}) })
	b, err := print.RenderBytes(doc, nil)
	print.OnQR(nil)
	qrBoxes.Lock()
	qrBoxes.m[sha256.Sum256(b)] = boxes
	qrBoxes.Unlock()
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

// qrCodes renders one page at 150 dpi with poppler and decodes every QR
// code on it, sorted.
func qrCodes(tb testing.TB, pdfPath string, page int) []string {
	tb.Helper()
	return qrCodesWith(tb, pdfPath, page, "pdftoppm", 150)
}

// renderers are the rasterisers QR codes must decode from: poppler and
// Ghostscript anti-alias differently (FINDINGS: poppler showed seams that
// Ghostscript did not).
var renderers = []string{"pdftoppm", "gs"}

// resolutions are those QR codes must decode at: a fax-like 150 dpi, an
// office laser's 300 and 600.
var resolutions = []int{150, 300, 600}

// renderPages rasterises pages first..last of a PDF to grey PGM images
// with renderer at dpi and returns their paths in page order.
func renderPages(tb testing.TB, pdfPath string, first, last int, renderer string, dpi int) []string {
	tb.Helper()
	requireTool(tb, renderer)
	dir := tb.TempDir()
	f, l, r := strconv.Itoa(first), strconv.Itoa(last), strconv.Itoa(dpi)
	var cmd *exec.Cmd
	switch renderer {
	case "pdftoppm":
		cmd = exec.Command("pdftoppm", "-r", r, "-gray", "-f", f, "-l", l, pdfPath, filepath.Join(dir, "p"))
	case "gs":
		// Anti-aliased as on screen, which is what shows seams.
		cmd = exec.Command("gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pgmraw", "-r"+r,
			"-dTextAlphaBits=4", "-dGraphicsAlphaBits=4", "-dFirstPage="+f, "-dLastPage="+l, "-o", filepath.Join(dir, "p-%05d.pgm"), pdfPath)
	default:
		tb.Fatalf("unknown renderer %q", renderer)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("%s: %v: %s", renderer, err, out)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "p-*.pgm"))
	sort.Slice(paths, func(i, j int) bool { // p-9 < p-10 whatever the padding
		return len(paths[i]) < len(paths[j]) || len(paths[i]) == len(paths[j]) && paths[i] < paths[j]
	})
	if len(paths) != last-first+1 {
		tb.Fatalf("%s made %d images for pages %d–%d", renderer, len(paths), first, last)
	}
	return paths
}

// renderPage rasterises one page; see renderPages.
func renderPage(tb testing.TB, pdfPath string, page int, renderer string, dpi int) string {
	tb.Helper()
	return renderPages(tb, pdfPath, page, page, renderer, dpi)[0]
}

// pgm is a grey image as pdftoppm -gray and Ghostscript's pgmraw write it.
type pgm struct {
	w, h int
	pix  []byte
}

func readPGM(tb testing.TB, path string) pgm {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	// Header: "P5", width, height, maxval, separated by white space, then
	// one white-space byte and the pixels.
	var f [4]string
	n := 0
	for i := range f {
		for n < len(b) && (b[n] == ' ' || b[n] == '\n' || b[n] == '\r' || b[n] == '\t' || b[n] == '#') {
			if b[n] == '#' { // a comment, to the end of the line
				for n < len(b) && b[n] != '\n' {
					n++
				}
				continue
			}
			n++
		}
		s := n
		for n < len(b) && !(b[n] == ' ' || b[n] == '\n' || b[n] == '\r' || b[n] == '\t') {
			n++
		}
		f[i] = string(b[s:n])
	}
	w, _ := strconv.Atoi(f[1])
	h, _ := strconv.Atoi(f[2])
	if f[0] != "P5" || f[3] != "255" || w <= 0 || h <= 0 || n >= len(b) {
		tb.Fatalf("%s: not an 8-bit PGM: %q", path, f)
	}
	pix := b[n+1:]
	if len(pix) < w*h {
		tb.Fatalf("%s: short PGM", path)
	}
	return pgm{w, h, pix[:w*h]}
}

// crop writes the rectangle x, y, w, h (millimetres) of an image rendered
// at dpi to a new PGM file and returns its path.
func (p pgm) crop(tb testing.TB, dir string, dpi int, x, y, w, h float64) string {
	tb.Helper()
	px := func(mm float64) int { return int(mm * float64(dpi) / 25.4) }
	x0, y0, x1, y1 := max(0, px(x)), max(0, px(y)), min(p.w, px(x+w)), min(p.h, px(y+h))
	var b bytes.Buffer
	fmt.Fprintf(&b, "P5\n%d %d\n255\n", x1-x0, y1-y0)
	for row := y0; row < y1; row++ {
		b.Write(p.pix[row*p.w+x0 : row*p.w+x1])
	}
	f, err := os.CreateTemp(dir, "crop-*.pgm")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b.Bytes()); err != nil {
		tb.Fatal(err)
	}
	return f.Name()
}

var (
	zbarSourceRE = regexp.MustCompile(`(?s)<source href='([^']*)'>(.*?)</source>`)
	zbarDataRE   = regexp.MustCompile(`(?s)<data([^>]*)><!\[CDATA\[(.*?)\]\]></data>`)
)

// decodeQRs decodes the QR codes of many images with one zbarimg run and
// returns each image's codes, sorted.
func decodeQRs(tb testing.TB, images []string) map[string][]string {
	tb.Helper()
	requireTool(tb, "zbarimg")
	out := map[string][]string{}
	for len(images) > 0 {
		chunk := images[:min(len(images), 200)]
		images = images[len(chunk):]
		args := append([]string{"--xml", "--nodbus", "-q", "-Sdisable", "-Sqrcode.enable"}, chunk...)
		cmd := exec.Command("zbarimg", args...)
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		err := cmd.Run()
		// Exit 4: some image had no code; the XML says which.
		if ee, ok := err.(*exec.ExitError); err != nil && !(ok && ee.ExitCode() == 4) {
			tb.Fatalf("zbarimg: %v", err)
		}
		for _, src := range zbarSourceRE.FindAllStringSubmatch(stdout.String(), -1) {
			for _, m := range zbarDataRE.FindAllStringSubmatch(src[2], -1) {
				if strings.Contains(m[1], "base64") {
					// Not ASCII: the XML mangles it, --raw does not.
					out[src[1]] = decodeRaw(tb, src[1])
					break
				}
				out[src[1]] = append(out[src[1]], m[2])
			}
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

// decodeRaw decodes one image with zbarimg --raw, which keeps UTF-8.
func decodeRaw(tb testing.TB, image string) []string {
	tb.Helper()
	cmd := exec.Command("zbarimg", "-q", "--raw", "--nodbus", "-Sdisable", "-Sqrcode.enable", image)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil && stdout.Len() == 0 {
		tb.Fatalf("zbarimg --raw %s: %v", image, err)
	}
	var codes []string
	for _, l := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if l != "" {
			codes = append(codes, l)
		}
	}
	return codes
}

// decodeQR decodes every QR code in an image with zbarimg, sorted.
func decodeQR(tb testing.TB, image string) []string {
	tb.Helper()
	return decodeQRs(tb, []string{image})[image]
}

// qrCodesWith renders one page with renderer at dpi and decodes its QR codes.
func qrCodesWith(tb testing.TB, pdfPath string, page int, renderer string, dpi int) []string {
	tb.Helper()
	return decodeQR(tb, renderPage(tb, pdfPath, page, renderer, dpi))
}

// qrAt is where a document drew a QR code (print.OnQR).
type qrAt struct {
	page              int
	x, y, size, pageH float64 // mm
}

// qrBoxes holds the QR codes' places of every PDF mustRender made.
var qrBoxes = struct {
	sync.Mutex
	m map[[32]byte][]qrAt
}{m: map[[32]byte][]qrAt{}}

func boxesOf(tb testing.TB, pdf []byte) []qrAt {
	tb.Helper()
	qrBoxes.Lock()
	defer qrBoxes.Unlock()
	b, ok := qrBoxes.m[sha256.Sum256(pdf)]
	if !ok {
		tb.Fatal("PDF not made by mustRender: its QR codes' places are unknown")
	}
	return b
}

// decodeBoxes images each QR code with the page around it (4 mm on every
// side, as a phone's camera or a scanner sees a code) from pages rendered
// with renderer at dpi, and returns the codes read from each, "|"-joined.
func decodeBoxes(tb testing.TB, pdfPath string, boxes []qrAt, renderer string, dpi int) []string {
	tb.Helper()
	if len(boxes) == 0 {
		return nil
	}
	dir := tb.TempDir()
	crops := make([]string, len(boxes))
	const margin = 4.0
	if len(boxes) <= 2 || dpi >= 600 && len(boxes) <= 8 {
		// Few codes, or big pages: render just the region around each.
		for i, b := range boxes {
			crops[i] = renderRegion(tb, dir, pdfPath, b.page, b.pageH, b.x-margin, b.y-margin, b.size+2*margin, renderer, dpi)
		}
		return decodeEach(tb, crops)
	}
	// Pages in batches of about 100 MB of pixels: a renderer run per page
	// costs more than the page, and 600 dpi pages must not pile up on disk.
	pageBytes := 210 * 297 * float64(dpi*dpi) / (25.4 * 25.4)
	batch := max(1, int(100e6/pageBytes))
	first, last := boxes[0].page, boxes[0].page
	for _, b := range boxes {
		first, last = min(first, b.page), max(last, b.page)
	}
	for p := first; p <= last; p += batch {
		imgs := renderPages(tb, pdfPath, p, min(last, p+batch-1), renderer, dpi)
		for i, img := range imgs {
			pg := readPGM(tb, img)
			for j, b := range boxes {
				if b.page == p+i {
					crops[j] = pg.crop(tb, dir, dpi, b.x-margin, b.y-margin, b.size+2*margin, b.size+2*margin)
				}
			}
			os.Remove(img)
		}
	}
	return decodeEach(tb, crops)
}

// decodeEach decodes images and gives each one's codes, "|"-joined.
func decodeEach(tb testing.TB, images []string) []string {
	tb.Helper()
	codes := decodeQRs(tb, images)
	out := make([]string, len(images))
	for i, c := range images {
		out[i] = strings.Join(codes[c], "|")
	}
	return out
}

// renderRegion rasterises the square x, y, side (mm from the top left) of a
// page of height pageH with renderer at dpi, into a new PGM in dir.
func renderRegion(tb testing.TB, dir, pdfPath string, page int, pageH, x, y, side float64, renderer string, dpi int) string {
	tb.Helper()
	requireTool(tb, renderer)
	f, err := os.CreateTemp(dir, "region-*.pgm")
	if err != nil {
		tb.Fatal(err)
	}
	f.Close()
	px := func(mm float64) string { return strconv.Itoa(int(mm * float64(dpi) / 25.4)) }
	pt := func(mm float64) string { return strconv.FormatFloat(mm*72/25.4, 'f', 2, 64) }
	p, r := strconv.Itoa(page), strconv.Itoa(dpi)
	var cmd *exec.Cmd
	switch renderer {
	case "pdftoppm":
		cmd = exec.Command("pdftoppm", "-r", r, "-gray", "-f", p, "-l", p, "-x", px(x), "-y", px(y), "-W", px(side), "-H", px(side),
			"-singlefile", pdfPath, strings.TrimSuffix(f.Name(), ".pgm"))
	case "gs":
		// A device of the region's size, the page shifted under it (as
		// measured: left by x, and up by the region's distance from the
		// page's bottom, given as a positive offset).
		cmd = exec.Command("gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pgmraw", "-r"+r,
			"-dTextAlphaBits=4", "-dGraphicsAlphaBits=4", "-dFirstPage="+p, "-dLastPage="+p,
			"-g"+px(side)+"x"+px(side), "-dFIXEDMEDIA", "-sOutputFile="+f.Name(),
			"-c", "<</PageOffset [-"+pt(x)+" "+pt(pageH-y-side)+"]>> setpagedevice", "-f", pdfPath)
	default:
		tb.Fatalf("unknown renderer %q", renderer)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("%s: %v: %s", renderer, err, out)
	}
	return f.Name()
}

// wantCodes checks the QR codes of a page, each imaged on its own, as
// poppler and Ghostscript render it at 150, 300 and 600 dpi.
func wantCodes(tb testing.TB, pdf []byte, page int, want ...string) {
	tb.Helper()
	var boxes []qrAt
	for _, b := range boxesOf(tb, pdf) {
		if b.page == page {
			boxes = append(boxes, b)
		}
	}
	want = append([]string(nil), want...)
	sort.Strings(want)
	path := writeTemp(tb, pdf)
	for _, r := range renderers {
		for _, dpi := range resolutions {
			got := decodeBoxes(tb, path, boxes, r, dpi)
			sort.Strings(got)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				tb.Fatalf("QR codes on page %d (%s, %d dpi) = %q, want %q", page, r, dpi, got, want)
			}
		}
	}
}

// wantCodesQuick is wantCodes at 150 dpi from poppler only, for tests of
// layouts whose QR codes wantCodes already checks elsewhere.
func wantCodesQuick(tb testing.TB, pdf []byte, page int, want ...string) {
	tb.Helper()
	var boxes []qrAt
	for _, b := range boxesOf(tb, pdf) {
		if b.page == page {
			boxes = append(boxes, b)
		}
	}
	got := decodeBoxes(tb, writeTemp(tb, pdf), boxes, "pdftoppm", 150)
	sort.Strings(got)
	want = append([]string(nil), want...)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		tb.Fatalf("QR codes on page %d = %q, want %q", page, got, want)
	}
}

// wantEveryCode checks that the QR codes of pages first..last, in the order
// they were drawn, carry tokens, as renderer draws them at dpi; it reports
// at most a few wrong ones.
func wantEveryCode(tb testing.TB, pdf []byte, first, last int, tokens []string, renderer string, dpi int) {
	tb.Helper()
	var boxes []qrAt
	for _, b := range boxesOf(tb, pdf) {
		if b.page >= first && b.page <= last {
			boxes = append(boxes, b)
		}
	}
	if len(boxes) != len(tokens) {
		tb.Fatalf("%d QR codes on pages %d–%d, want %d", len(boxes), first, last, len(tokens))
	}
	got := decodeBoxes(tb, writeTemp(tb, pdf), boxes, renderer, dpi)
	bad := 0
	for i, g := range got {
		if g != tokens[i] {
			if bad++; bad <= 5 {
				tb.Errorf("%s %d dpi: code %d (page %d) = %q, want %q", renderer, dpi, i+1, boxes[i].page, g, tokens[i])
			}
		}
	}
	if bad > 0 {
		tb.Fatalf("%s %d dpi: %d of %d QR codes wrong", renderer, dpi, bad, len(got))
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
