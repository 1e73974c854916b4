// Package print renders gridbox's paper documents as PDF (service cards,
// notices, open letters, receipts, visit diaries, registers, work manuals)
// and sends them to a CUPS queue.
//
// Its inputs are plain view-model structs owned by this package, so it
// depends on no other gridbox package. Every document kind is one file that
// draws with the small layout toolkit in this file and registers itself in
// kinds.go.
package print

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/jung-kurt/gofpdf"
	qrcode "github.com/skip2/go-qrcode"

	"gridbox/print/internal/ttc"
)

// A Document is one printable thing. Only this package implements it: a new
// kind is a new file here with a struct, its draw method and a register call.
type Document interface {
	// Kind is the registry name, e.g. "card".
	Kind() string
	draw(d *doc) error
}

// Options tune rendering; the zero value is fine.
type Options struct {
	// Created is written as the PDF's creation date. Zero gives a fixed
	// date, so that the same input gives byte-identical output.
	Created time.Time
	// NoCompress leaves page streams uncompressed (for debugging).
	NoCompress bool
}

var fixedDate = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Render draws doc as a PDF onto w.
func Render(w io.Writer, doc Document, opt *Options) error {
	_, err := render(w, doc, opt)
	return err
}

// RenderForPrinter is RenderBytes with the paper the document is to be
// printed on, for the lp options of its job.
func RenderForPrinter(doc Document, opt *Options) ([]byte, Media, error) {
	var b bytes.Buffer
	m, err := render(&b, doc, opt)
	if err != nil {
		return nil, Media{}, err
	}
	return b.Bytes(), m, nil
}

func render(w io.Writer, doc Document, opt *Options) (m Media, err error) {
	if doc == nil || reflect.ValueOf(doc).Kind() == reflect.Pointer && reflect.ValueOf(doc).IsNil() {
		return m, errors.New("print: nil document")
	}
	// gofpdf panics on some input (characters above U+FFFF were the known
	// case; they now reach it as 16-bit codes of a fallback subset);
	// printing must never take the box down.
	// gofpdf writes to w only once the whole file is built.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("print %s: gofpdf panic: %v", doc.Kind(), r)
		}
	}()
	if opt == nil {
		opt = &Options{}
	}
	font, err := loadFont()
	if err != nil {
		return m, fmt.Errorf("print: load font: %w", err)
	}
	// Embed subsets holding the document's characters and the package's
	// own texts; should anything else be drawn, draw again with it added.
	set := baseRunes.clone()
	collectRunes(&set, reflect.ValueOf(doc))
	d, err := drawWith(opt, font, &set, doc)
	if err == nil && !d.pad.missed.empty() {
		redraws.Add(1)
		set.addSet(&d.pad.missed)
		d, err = drawWith(opt, font, &set, doc)
	}
	if err != nil {
		return m, err
	}
	if d.pdf.PageCount() == 0 { // an empty PDF is not a valid file
		d.addPage(pageA4, false)
	}
	if err := d.pdf.Error(); err != nil {
		return m, fmt.Errorf("print %s: %w", doc.Kind(), err)
	}
	wd, ht, _ := d.pdf.PageSize(1)
	m = mediaOf(wd, ht)
	if err := d.pdf.Output(w); err != nil {
		return m, fmt.Errorf("print %s: output: %w", doc.Kind(), err)
	}
	if qrDrawn != nil {
		for _, b := range d.qrs {
			qrDrawn(b.page, b.x, b.y, b.size, b.pageH)
		}
	}
	return m, nil
}

// drawWith draws a document with subsets of the fonts holding set.
func drawWith(opt *Options, font *ttc.Font, set *runeSet, dc Document) (*doc, error) {
	fonts, err := subsetFonts(font, set)
	if err != nil {
		return nil, fmt.Errorf("print: font subset: %w", err)
	}
	d := newDoc(opt, fonts)
	if err := dc.draw(d); err != nil {
		return nil, fmt.Errorf("print %s: %w", dc.Kind(), err)
	}
	d.finishPage()
	return d, nil
}

// RenderBytes is Render into memory.
func RenderBytes(doc Document, opt *Options) ([]byte, error) {
	var b bytes.Buffer
	if err := Render(&b, doc, opt); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Paper sizes in millimetres (portrait).
type paper struct{ w, h float64 }

// Media is the paper a document is printed on, as CUPS names it. Printed
// with its options, a page comes out at 100 % on the paper it was made
// for: an A3 notice is not shrunk to A4, a card not turned in the middle
// of an A4 sheet.
type Media struct {
	Name      string `json:"name"`                // A4, A3, A5, or Custom.WxHmm (a card, a roll's length)
	Landscape bool   `json:"landscape,omitempty"` // a landscape page of a standard size
}

// mediaOf names the paper of a page of wd × ht mm.
func mediaOf(wd, ht float64) Media {
	short, long := min(wd, ht), max(wd, ht)
	for _, p := range []struct {
		name string
		paper
	}{{"A3", pageA3}, {"A4", pageA4}, {"A5", pageA5}} {
		if math.Abs(short-p.w) < 1 && math.Abs(long-p.h) < 1 {
			return Media{Name: p.name, Landscape: wd > ht}
		}
	}
	// A card or a roll: the size as it is fed, in tenths of millimetres.
	mm := func(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }
	return Media{Name: "Custom." + mm(wd) + "x" + mm(ht) + "mm"}
}

// Options are the lp options printing on m at 100 %: its size, its
// orientation, and no fitting or scaling to another paper.
func (m Media) Options() []string {
	if m.Name == "" {
		return nil
	}
	o := []string{"media=" + m.Name}
	if m.Landscape {
		o = append(o, "orientation-requested=4")
	}
	return append(o, "fit-to-page=false", "print-scaling=none")
}

var (
	pageA3 = paper{297, 420}
	pageA4 = paper{210, 297}
	pageA5 = paper{148, 210}
)

const ptMM = 25.4 / 72 // one point in millimetres

// doc is the shared layout toolkit: a gofpdf document with its own cursor,
// page breaks and text fitting, so no text ever runs outside its box.
type doc struct {
	pdf *gofpdf.Fpdf

	pw, ph         float64 // current page size
	ml, mt, mr, mb float64 // margins
	y              float64 // cursor, from the top of the page
	scale          float64 // font scale, >1 on A3 so one layout serves both

	// header runs after every new page (running heads, page numbers); it
	// may draw and move the cursor.
	header func(d *doc)

	size float64 // current font size in points (before scale)

	fonts   *docFonts // the fonts embedded
	standIn bool      // StandIn was drawn on this page: say what it means

	freshTpl bool // drawing into a template whose first page is not yet used

	pad  *scratchPad // shared by a rendering's scratch documents
	base int         // pages of pdf before this document's first (scratch documents)

	qrs []qrBox // where QR codes were drawn, for qrDrawn
}

// qrBox is where a QR code was drawn: page, top-left corner and side, and
// the page's height, in mm.
type qrBox struct {
	page              int
	x, y, size, pageH float64
}

// qrDrawn, when set (by tests), is told where every QR code of each
// rendered document is, so that tests can image each code on its own.
var qrDrawn func(page int, x, y, size, pageH float64)

// redraws counts documents drawn twice because the subsets lacked a
// character; tests expect none.
var redraws atomic.Int64

// docFonts are the fonts a document embeds: a subset of the built-in font
// and of each fallback font it needs, together holding its characters.
type docFonts struct {
	main  []byte
	mainR runeSet        // characters drawn with the built-in font
	fb    []fbFamily     // fallback subsets
	of    map[rune]fbRef // characters drawn with a fallback font
}

// fbFamily is a fallback font's subset as the document embeds it.
type fbFamily struct {
	family string
	ttf    []byte
}

// fbRef is where a character is in a fallback subset: gofpdf writes text
// as 16-bit codes, so characters above U+FFFF get codes of the Private Use
// Area there, and the real character goes with them as ActualText.
type fbRef struct {
	font int // index in docFonts.fb
	code rune
}

// subsetFonts cuts the subsets holding set's characters: those the
// built-in font has from it, each other from the first fallback font that
// has it.
func subsetFonts(main *ttc.Font, set *runeSet) (*docFonts, error) {
	f := &docFonts{of: map[rune]fbRef{}}
	var mainRunes []rune
	perFont := map[int][]rune{}
	for _, r := range set.runes() {
		switch i := -1; {
		case main.Has(r) || r < 0x80:
			mainRunes = append(mainRunes, r)
			f.mainR.add(r)
		default:
			if i = fallbackFor(r); i >= 0 {
				perFont[i] = append(perFont[i], r)
			}
		}
	}
	var err error
	if f.main, err = main.Subset(mainRunes); err != nil {
		return nil, err
	}
	if len(perFont) == 0 {
		return f, nil
	}
	fonts := fallbackFonts()
	for i := range fonts {
		rs := perFont[i]
		if len(rs) == 0 {
			continue
		}
		codes := make([]rune, len(rs))
		pua := rune(0xE000)
		for j, r := range rs {
			codes[j] = r
			if r > 0xFFFF {
				codes[j] = pua
				pua++
			}
			f.of[r] = fbRef{len(f.fb), codes[j]}
		}
		ttf, err := fonts[i].font.SubsetAs(rs, codes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", fonts[i].name, err)
		}
		f.fb = append(f.fb, fbFamily{fmt.Sprintf("fb%d", len(f.fb)), ttf})
	}
	return f, nil
}

func newDoc(opt *Options, fonts *docFonts) *doc {
	pdf := gofpdf.NewCustom(&gofpdf.InitType{
		UnitStr: "mm",
		Size:    gofpdf.SizeType{Wd: pageA4.w, Ht: pageA4.h},
	})
	pdf.SetCatalogSort(true)
	created := opt.Created
	if created.IsZero() {
		created = fixedDate
	}
	pdf.SetCreationDate(created)
	pdf.SetModificationDate(created)
	pdf.SetCompression(!opt.NoCompress)
	pdf.SetAutoPageBreak(false, 0) // the toolkit breaks pages itself
	pdf.SetCreator("gridbox", false)
	for _, fb := range fonts.fb {
		pdf.AddUTF8FontFromBytes(fb.family, "", fb.ttf)
	}
	pdf.AddUTF8FontFromBytes(fontFamily, "", fonts.main)
	pdf.SetFont(fontFamily, "", 10)
	pdf.SetDrawColor(0, 0, 0)
	pdf.SetTextColor(0, 0, 0)
	return &doc{pdf: pdf, fonts: fonts, pad: &scratchPad{}, scale: 1, size: 10, ml: 15, mr: 15, mt: 15, mb: 15}
}

func (d *doc) setTitle(s string) { d.pdf.SetTitle(Printable(s), true) }

// addPage starts a new page of the given paper and runs the page header.
func (d *doc) addPage(p paper, landscape bool) {
	d.finishPage()
	w, h := p.w, p.h
	orient := "P"
	if landscape {
		w, h = h, w
		orient = "L"
	}
	if d.freshTpl { // a template starts with its first page added
		d.freshTpl = false
	} else {
		d.pdf.AddPageFormat(orient, gofpdf.SizeType{Wd: p.w, Ht: p.h})
	}
	d.pw, d.ph = w, h
	d.y = d.mt
	d.setSize(d.size)
	if d.header != nil {
		d.header(d)
	}
}

// imposeBooklet draws A5 pages two per A4 landscape sheet in saddle-stitch
// order: printed on both sides (flip on the short edge), the sheets are
// folded together and stapled. The A5 pages are drawn in their own order
// into a template, a page of which is then placed on each half sheet, sheet
// side by sheet side, so the output is written strictly in order: gofpdf
// writes only the pages up to the current one, so going back with SetPage
// to fill an earlier sheet lost every page after it (FINDINGS).
func (d *doc) imposeBooklet(draw func(*doc) error) error {
	var err error
	tpl := d.pdf.CreateTemplateCustom(gofpdf.PointType{}, gofpdf.SizeType{Wd: pageA5.w, Ht: pageA5.h}, func(t *gofpdf.Tpl) {
		sub := *d
		sub.pdf = &t.Fpdf
		sub.freshTpl = true
		// A template shares the document's fonts but not its font
		// state: without SetFont it writes text as single bytes.
		sub.pdf.SetFont(fontFamily, "", d.size*d.scale)
		sub.standIn = false
		err = draw(&sub)
		sub.finishPage()
		if err == nil {
			err = sub.pdf.Error()
		}
		d.qrs = append(d.qrs, sub.qrs...)
	})
	if err != nil {
		return err
	}
	pages := tpl.FromPages()
	n := (len(pages) + 3) / 4 * 4
	place := func(logical int, x float64) {
		if logical <= len(pages) { // pages past the last stay blank
			d.pdf.UseTemplateScaled(pages[logical-1], gofpdf.PointType{X: x}, gofpdf.SizeType{Wd: pageA5.w, Ht: pageA5.h})
		}
	}
	mid := pageA4.h / 2
	for s := 0; s < n/4; s++ {
		// Front: the last pages not yet placed on the left, the first on
		// the right; back: the next ones, mirrored.
		for _, side := range [][2]int{{n - 2*s, 2*s + 1}, {2*s + 2, n - 1 - 2*s}} {
			// Landscape given as its width and height: UseTemplateScaled
			// places templates wrongly on pages added as "L" (it takes the
			// unrotated height).
			d.pdf.AddPageFormat("P", gofpdf.SizeType{Wd: pageA4.h, Ht: pageA4.w})
			d.pw, d.ph = pageA4.h, pageA4.w
			place(side[0], mid-pageA5.w)
			place(side[1], mid)
			// Fold marks.
			d.pdf.SetLineWidth(0.2)
			d.pdf.Line(mid, 0, mid, 5)
			d.pdf.Line(mid, pageA4.w-5, mid, pageA4.w)
		}
	}
	return nil
}

// scratchPad is what a rendering's documents share: one throw-away PDF
// that every measuring draw writes its pages to (a new gofpdf document
// costs milliseconds: it parses its fonts; a page on an old one almost
// nothing), and the characters drawn that the subsets lack.
type scratchPad struct {
	pdf    *gofpdf.Fpdf
	missed runeSet
}

// scratch is a document like d (font, margins, type scale, page header)
// for measuring: what is drawn on it is thrown away. Its pages() start at 0.
func (d *doc) scratch() *doc {
	if d.pad.pdf == nil {
		d.pad.pdf = newDoc(&Options{}, d.fonts).pdf
	}
	s := &doc{pdf: d.pad.pdf, pad: d.pad, fonts: d.fonts, base: d.pad.pdf.PageCount(),
		ml: d.ml, mr: d.mr, mt: d.mt, mb: d.mb, scale: d.scale, header: d.header}
	s.setSize(d.size)
	return s
}

// pages is how many pages d has.
func (d *doc) pages() int { return d.pdf.PageCount() - d.base }

// measureDraw is the height draw takes at the top of a page like the
// current one, or +Inf when it takes more than a page.
func (d *doc) measureDraw(draw func(*doc) error) (float64, error) {
	s := d.scratch()
	s.header = nil
	s.addPage(paper{d.pw, d.ph}, false)
	y0 := s.y
	if err := draw(s); err != nil {
		return 0, err
	}
	if s.pages() > 1 {
		return math.Inf(1), nil
	}
	return s.y - y0, nil
}

// pageNo is the number of the current page as the reader sees it.
func (d *doc) pageNo() int { return d.pdf.PageNo() - d.base }

// samePage adds another page like the current one.
func (d *doc) samePage() {
	if d.pw > d.ph {
		d.addPage(paper{d.ph, d.pw}, true)
	} else {
		d.addPage(paper{d.pw, d.ph}, false)
	}
}

func (d *doc) contentW() float64 { return d.pw - d.ml - d.mr }
func (d *doc) bottom() float64   { return d.ph - d.mb }

// ensure breaks the page unless h millimetres fit below the cursor.
// It reports whether it broke the page.
func (d *doc) ensure(h float64) bool {
	if d.y+h <= d.bottom()+0.01 {
		return false
	}
	d.samePage()
	return true
}

// setSize sets the font size in points; the page's scale is applied here.
func (d *doc) setSize(pt float64) {
	d.size = pt
	d.pdf.SetFontSize(pt * d.scale)
}

// lineH is the line height of the current size in millimetres.
func (d *doc) lineH() float64 { return d.size * d.scale * ptMM * 1.35 }

// width is the width of s (already Printable) at the current size.
func (d *doc) width(s string) float64 {
	w := 0.0
	for _, r := range d.runs(s) {
		w += r.w
	}
	return w
}

// A textRun is a piece of a line drawn with one font.
type textRun struct {
	font   int    // 0: the built-in font; i: fallback subset i-1
	text   string // as written: fallback characters by their codes there
	actual string // the real characters, when text holds stand-in codes
	w      float64
}

// runs cuts s into runs of one font each, measured at the current size.
// A character no subset holds is noted for the redraw.
func (d *doc) runs(s string) []textRun {
	var out []textRun
	var text, actual strings.Builder
	cur, astral := 0, false
	flush := func() {
		if text.Len() == 0 {
			return
		}
		r := textRun{font: cur, text: text.String()}
		if astral {
			r.actual = actual.String()
		}
		if cur > 0 {
			d.pdf.SetFont(d.fonts.fb[cur-1].family, "", d.size*d.scale)
		}
		r.w = d.pdf.GetStringWidth(r.text)
		if cur > 0 {
			d.pdf.SetFont(fontFamily, "", d.size*d.scale)
		}
		out = append(out, r)
		text.Reset()
		actual.Reset()
		astral = false
	}
	for _, c := range s {
		font, code := 0, c
		if c == '〓' {
			d.standIn = true
		}
		if c >= 0x80 && !d.fonts.mainR.has(c) {
			if ref, ok := d.fonts.of[c]; ok {
				font, code = ref.font+1, ref.code
			} else {
				d.pad.missed.add(c)
			}
		}
		if font != cur {
			flush()
			cur = font
		}
		text.WriteRune(code)
		actual.WriteRune(c)
		astral = astral || code != c
	}
	flush()
	return out
}

// runeW is the width of one character at the current size.
func (d *doc) runeW(c rune) float64 {
	if c < 0x80 || d.fonts.mainR.has(c) {
		return float64(d.pdf.GetStringSymbolWidth(string(c))) * d.size * d.scale * ptMM / 1000
	}
	return d.width(string(c))
}

// Line breaking: CJK text breaks between any two characters, Latin words
// and numbers (phone numbers!) stay whole unless longer than a line, and
// closing punctuation never starts a line, opening never ends one.
const (
	noStart = "，。、；：！？）》」』】〕”’%…·,.;:!?)]}-"
	noEnd   = "（《「『【〔“‘([{"
)

func isWide(r rune) bool {
	return r >= 0x2E80 || unicode.Is(unicode.Han, r)
}

func canBreak(a, b rune) bool {
	if strings.ContainsRune(noStart, b) || strings.ContainsRune(noEnd, a) {
		return false
	}
	return a == ' ' || b == ' ' || isWide(a) || isWide(b)
}

// wrap splits s (already Printable) into lines no wider than w at the
// current font size. Newlines in s start new lines.
func (d *doc) wrap(s string, w float64) []string {
	var lines []string
	for _, para := range strings.Split(s, "\n") {
		lines = append(lines, d.wrapPara(para, w)...)
	}
	return lines
}

func (d *doc) wrapPara(s string, w float64) []string {
	rs := []rune(s)
	if len(rs) == 0 || d.width(s) <= w {
		return []string{s}
	}
	var lines []string
	start := 0
	for start < len(rs) {
		x := 0.0
		brk := -1 // last allowed break index in (start, i]
		i := start
		for ; i < len(rs); i++ {
			cw := d.runeW(rs[i])
			if x+cw > w && i > start {
				break
			}
			x += cw
			if i+1 < len(rs) && canBreak(rs[i], rs[i+1]) {
				brk = i + 1
			}
		}
		end := i
		if i < len(rs) && brk > start {
			end = brk
		}
		lines = append(lines, strings.TrimRight(string(rs[start:end]), " "))
		start = end
		for start < len(rs) && rs[start] == ' ' {
			start++
		}
	}
	return lines
}

// align values for text.
type align int

const (
	left align = iota
	center
	right
)

// textAt writes one line with its top-left corner at x, y, clipped to
// width w by shrinking the font down to half; whatever is still too wide is
// cut with an ellipsis. It never writes outside [x, x+w].
func (d *doc) textAt(x, y, w float64, s string, al align) {
	s = Printable(strings.ReplaceAll(s, "\n", " "))
	saved := d.size
	defer d.setSize(saved)
	for d.width(s) > w && d.size > saved/2 {
		d.setSize(d.size * 0.92)
	}
	if d.width(s) > w {
		s = d.ellipsize(s, w)
	}
	d.put(x, y, w, s, al)
}

// put writes a line whose top is at y.
func (d *doc) put(x, y, w float64, s string, al align) {
	if s == "" {
		return
	}
	runs := d.runs(s)
	sw := 0.0
	for _, r := range runs {
		sw += r.w
	}
	switch al {
	case center:
		x += (w - sw) / 2
	case right:
		x += w - sw
	}
	// Baseline: the ascent of this font is about 0.8 em; centre in the line.
	base := y + d.lineH()/2 + d.size*d.scale*ptMM*0.33
	for _, r := range runs {
		if r.font > 0 {
			d.pdf.SetFont(d.fonts.fb[r.font-1].family, "", d.size*d.scale)
		}
		if r.actual != "" {
			// Text extraction and search read the real characters, not
			// the codes of the subset (pdftotext, copy and paste).
			d.pdf.RawWriteStr("/Span <</ActualText <FEFF" + utf16Hex(r.actual) + ">>> BDC")
		}
		d.pdf.Text(x, base, r.text)
		if r.actual != "" {
			d.pdf.RawWriteStr("EMC")
		}
		if r.font > 0 {
			d.pdf.SetFont(fontFamily, "", d.size*d.scale)
		}
		x += r.w
	}
}

// utf16Hex is s in UTF-16BE as hex digits, for a PDF text string.
func utf16Hex(s string) string {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&b, "%04X", u)
	}
	return b.String()
}

// finishPage ends the current page: a page showing StandIn says what it
// means at its foot, since the paper must not pass off a wrong name.
func (d *doc) finishPage() {
	if !d.standIn || d.pdf.PageNo() == 0 {
		d.standIn = false
		return
	}
	d.standIn = false
	saved := d.size
	d.setSize(6 / d.scale)
	ml, mr := max(d.ml, 2), max(d.mr, 2)
	d.textAt(ml, d.ph-d.lineH()-0.8, d.pw-ml-mr, "注：“〓”处是本机字体无法印出的字（请安装生僻字字体），请核对后手写补正。", center)
	d.standIn = false // the note's own 〓
	d.setSize(saved)
}

func (d *doc) ellipsize(s string, w float64) string {
	rs := []rune(s)
	for len(rs) > 0 && d.width(string(rs)+"…") > w {
		rs = rs[:len(rs)-1]
	}
	if len(rs) == 0 {
		return ""
	}
	return string(rs) + "…"
}

// box fits s into the rectangle x, y, w, h: it wraps, and shrinks the font
// step by step down to minPt until all lines fit; at minPt it cuts the last
// line with an ellipsis. It returns the height used.
func (d *doc) box(x, y, w, h float64, s string, pt, minPt float64, al align) float64 {
	s = Printable(s)
	saved := d.size
	defer d.setSize(saved)
	size := pt
	var lines []string
	for {
		d.setSize(size)
		lines = d.wrap(s, w)
		if float64(len(lines))*d.lineH() <= h+0.01 || size <= minPt {
			break
		}
		size = maxf(minPt, size*0.92)
	}
	n := int((h + 0.01) / d.lineH())
	if n < 1 {
		n = 1
	}
	if len(lines) > n {
		lines = lines[:n]
		lines[n-1] = d.ellipsize(lines[n-1]+"…", w)
	}
	for i, l := range lines {
		d.put(x, y+float64(i)*d.lineH(), w, l, al)
	}
	return float64(len(lines)) * d.lineH()
}

// para writes flowing text at the cursor across the content width (less
// indent), breaking pages as needed, and moves the cursor below it.
func (d *doc) para(s string, pt, indent float64) {
	d.setSize(pt)
	w := d.contentW() - indent
	for _, l := range d.wrap(Printable(s), w) {
		d.ensure(d.lineH())
		d.put(d.ml+indent, d.y, w, l, left)
		d.y += d.lineH()
	}
}

// lines writes flowing text at the cursor like para, aligned.
func (d *doc) lines(s string, pt float64, al align) {
	d.setSize(pt)
	w := d.contentW()
	for _, l := range d.wrap(Printable(s), w) {
		d.ensure(d.lineH())
		d.put(d.ml, d.y, w, l, al)
		d.y += d.lineH()
	}
}

// measure is the height lines would take at pt across width w.
func (d *doc) measure(s string, pt, w float64) float64 {
	saved := d.size
	defer d.setSize(saved)
	d.setSize(pt)
	return float64(len(d.wrap(Printable(s), w))) * d.lineH()
}

// heading writes a line of larger text at the cursor, keeping room for at
// least two lines after it so a heading never ends a page.
func (d *doc) heading(s string, pt float64, al align) {
	d.setSize(pt)
	h := d.lineH()
	d.setSize(10)
	d.ensure(h + 2*d.lineH())
	d.setSize(pt)
	d.textAt(d.ml, d.y, d.contentW(), s, al)
	d.y += h
}

func (d *doc) gap(mm float64) { d.y += mm * d.scale }

func (d *doc) hline(x1, x2, y, width float64) {
	d.pdf.SetLineWidth(width)
	d.pdf.Line(x1, y, x2, y)
}

// A column of a table: its title, its relative width and alignment.
type column struct {
	title  string
	weight float64
	al     align
}

// table draws rows at the cursor across the content width. Cells wrap; a
// row that does not fit goes to the next page, where the header row is
// repeated (under caption+"（续）" when there is a caption). A cell taller
// than a whole page is cut with an ellipsis.
func (d *doc) table(caption string, cols []column, rows [][]string, pt float64) {
	total := 0.0
	for _, c := range cols {
		total += c.weight
	}
	ws := make([]float64, len(cols))
	for i, c := range cols {
		ws[i] = d.contentW() * c.weight / total
	}
	const pad = 1.2
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = c.title
	}
	drawRow := func(cells []string, fill bool, maxH float64) {
		d.setSize(pt)
		lh := d.lineH()
		wrapped := make([][]string, len(cols))
		n := 1
		for i := range cols {
			var s string
			if i < len(cells) {
				s = Printable(cells[i])
			}
			wrapped[i] = d.wrap(s, ws[i]-2*pad)
			if len(wrapped[i]) > n {
				n = len(wrapped[i])
			}
		}
		if limit := int((maxH - 2*pad) / lh); n > limit && limit >= 1 {
			n = limit
			for i, ls := range wrapped {
				if len(ls) > n {
					ls = ls[:n]
					ls[n-1] = d.ellipsize(ls[n-1]+"…", ws[i]-2*pad)
					wrapped[i] = ls
				}
			}
		}
		h := float64(n)*lh + 2*pad
		x := d.ml
		d.pdf.SetLineWidth(0.2)
		for i := range cols {
			style := "D"
			if fill {
				d.pdf.SetFillColor(230, 230, 230)
				style = "FD"
			}
			d.pdf.Rect(x, d.y, ws[i], h, style)
			al := cols[i].al
			if fill {
				al = center
			}
			for j, l := range wrapped[i] {
				d.put(x+pad, d.y+pad+float64(j)*lh, ws[i]-2*pad, l, al)
			}
			x += ws[i]
		}
		d.y += h
	}
	rowH := func(cells []string) float64 {
		d.setSize(pt)
		n := 1
		for i := range cols {
			if i < len(cells) {
				if k := len(d.wrap(Printable(cells[i]), ws[i]-2*pad)); k > n {
					n = k
				}
			}
		}
		return float64(n)*d.lineH() + 2*pad
	}
	capH := 0.0
	if caption != "" {
		d.setSize(pt + 2)
		capH = d.lineH() + 1
	}
	var headerEnd float64
	start := func(cont bool) {
		if caption != "" {
			d.setSize(pt + 2)
			t := caption
			if cont {
				t += "（续）"
			}
			d.textAt(d.ml, d.y, d.contentW(), t, left)
			d.y += capH
		}
		drawRow(header, true, d.bottom()-d.y)
		headerEnd = d.y
	}
	hh := rowH(header)
	first := 0.0
	if len(rows) > 0 {
		first = rowH(rows[0])
	}
	d.ensure(capH + hh + minf(first, 3*d.lineH()))
	start(false)
	hs := make([]float64, len(rows))
	for i, r := range rows {
		hs[i] = rowH(r)
	}
	for i, r := range rows {
		// Break unless the header is the only thing on this page: then the
		// row is taller than a page and is cut to fit instead. The last
		// row never goes alone to a new page: the one before goes with it.
		brk := d.y+hs[i] > d.bottom()+0.01
		if !brk && i == len(rows)-2 && d.y+hs[i]+hs[i+1] > d.bottom()+0.01 {
			brk = true
		}
		if brk && d.y > headerEnd+0.01 {
			d.samePage()
			start(true)
		}
		drawRow(r, false, d.bottom()-d.y)
	}
}

// qrQuiet is the quiet zone inside a code's square, in modules; the
// layouts keep white around the square as well.
const qrQuiet = 2

// qr draws token as a QR code (medium error correction) in a square of side
// size with its top-left corner at x, y. The square includes a white quiet
// zone of two modules. The dark modules are one vector path filled once:
// separate rectangles that merely touch leave white hairline seams where a
// renderer anti-aliases each edge on its own (poppler at 300 dpi: half the
// codes on a card sheet failed to decode); one path has no inner edges.
// Runs of modules in a row become rectangles, and a run repeated in the
// rows below grows into one taller rectangle.

func (d *doc) qr(token string, x, y, size float64) error {
	if token == "" {
		return nil
	}
	q, err := qrcode.New(token, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("qr code: %w", err)
	}
	q.DisableBorder = true
	bm := q.Bitmap()
	d.qrs = append(d.qrs, qrBox{d.pageNo(), x, y, size, d.ph})
	n := len(bm)
	m := size / (float64(n) + 2*qrQuiet)
	d.pdf.SetFillColor(255, 255, 255)
	d.pdf.Rect(x, y, size, size, "F")
	d.pdf.SetFillColor(0, 0, 0)
	ox, oy := x+qrQuiet*m, y+qrQuiet*m
	k := d.pdf.GetConversionRatio()
	_, pageH := d.pdf.GetPageSize()
	var path strings.Builder
	rect := func(i, j, w, h int) {
		// PDF space: origin bottom left, in points.
		fmt.Fprintf(&path, "%.3f %.3f %.3f %.3f re\n", (ox+float64(i)*m)*k, (pageH-oy-float64(j+h)*m)*k, float64(w)*m*k, float64(h)*m*k)
	}
	type run struct{ i, k, j0 int }
	var open []run // runs still growing downwards
	for j := 0; j <= n; j++ {
		var row []run
		for i := 0; j < n && i < n; {
			if !bm[j][i] {
				i++
				continue
			}
			e := i
			for e < n && bm[j][e] {
				e++
			}
			row = append(row, run{i, e, j})
			i = e
		}
		next := row[:0:0]
		for _, r := range row {
			for _, o := range open {
				if o.i == r.i && o.k == r.k {
					r.j0 = o.j0
					break
				}
			}
			next = append(next, r)
		}
		for _, o := range open {
			kept := false
			for _, r := range next {
				if r.i == o.i && r.k == o.k && r.j0 == o.j0 {
					kept = true
					break
				}
			}
			if !kept {
				rect(o.i, o.j0, o.k-o.i, j-o.j0)
			}
		}
		open = next
	}
	path.WriteString("f\n")
	d.pdf.RawWriteStr(path.String())
	return nil
}

// checkbox draws an empty square of side s with its top-left at x, y.
func (d *doc) checkbox(x, y, s float64) {
	d.pdf.SetLineWidth(0.25)
	d.pdf.Rect(x, y, s, s, "D")
}

// pageNumber writes "第 n 页" centred in the bottom margin.
func (d *doc) pageNumber() {
	saved := d.size
	d.setSize(8)
	d.textAt(d.ml, d.ph-d.mb+3, d.contentW(), fmt.Sprintf("第 %d 页", d.pageNo()), center)
	d.setSize(saved)
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

func minf(a, b float64) float64 {
	if a < b {
		return a
	}
	return b
}

// or returns s, or dflt when s is blank: empty fields print as a line to
// fill in by hand rather than vanish.
func or(s, dflt string) string {
	if strings.TrimSpace(s) == "" {
		return dflt
	}
	return s
}

const blank = "________"

// dateCN formats a date the Chinese way in t's own location; the caller
// converts to local time.
func dateCN(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
}

var weekdays = [...]string{"日", "一", "二", "三", "四", "五", "六"}

func weekdayCN(t time.Time) string { return "星期" + weekdays[t.Weekday()] }
