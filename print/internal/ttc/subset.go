package ttc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
	"unicode"
)

// Font is a parsed .ttf that can cut small subsets of itself quickly.
//
// Why: gofpdf parses the whole font for every document and walks its whole
// cmap again when it writes the PDF; for a 4.6 MB CJK font that is most of
// the time spent on a one-page document. Handing gofpdf a font that holds
// only the characters a document uses makes both steps nearly free.
//
// A font opened from a file (Open) keeps only its small tables in memory
// and reads the outlines it needs when it cuts a subset: the fallback
// fonts for rare characters are 20–30 MB each.
type Font struct {
	tables    map[string][]byte // every table but glyf
	mem       []byte            // the whole file, when parsed from memory
	file      io.ReaderAt       // else the file
	glyfAt    int64             // offset of glyf in the file
	glyfLen   int64
	loca      []uint32 // glyph g's outline is glyf[loca[g]:loca[g+1]]
	advance   []uint16 // by glyph id
	lsb       []int16  // by glyph id
	gid       [65536]uint16
	astral    []cmapGroup // characters above U+FFFF, sorted
	numGlyphs int
}

// cmapGroup maps the characters start..end to glyphs glyph, glyph+1, ….
type cmapGroup struct {
	start, end rune
	glyph      uint32
}

// Parse reads a TrueType (glyf) font held in memory; its outlines are
// used in place.
func Parse(ttf []byte) (*Font, error) {
	f, err := open(bytes.NewReader(ttf), int64(len(ttf)))
	if err != nil {
		return nil, err
	}
	f.mem, f.file = ttf, nil
	return f, nil
}

// Open reads the tables of a TrueType (glyf) font file of the given size
// but its outlines, which Subset reads from r as it needs them. r must stay
// open while the font is used.
func Open(r io.ReaderAt, size int64) (*Font, error) { return open(r, size) }

func open(r io.ReaderAt, size int64) (*Font, error) {
	f := &Font{tables: map[string][]byte{}, file: r}
	hdr := make([]byte, 12)
	if _, err := r.ReadAt(hdr, 0); err != nil {
		return nil, errors.New("ttc: short font")
	}
	switch string(hdr[:4]) {
	case "\x00\x01\x00\x00", "true":
	default:
		return nil, errors.New("ttc: not a TrueType font with glyf outlines")
	}
	n := int(binary.BigEndian.Uint16(hdr[4:]))
	dir := make([]byte, 16*n)
	if _, err := r.ReadAt(dir, 12); err != nil {
		return nil, errors.New("ttc: short table directory")
	}
	for i := 0; i < n; i++ {
		rec := dir[16*i:]
		tag := string(rec[:4])
		off, l := int64(binary.BigEndian.Uint32(rec[8:])), int64(binary.BigEndian.Uint32(rec[12:]))
		if off+l > size {
			return nil, fmt.Errorf("ttc: table %q out of range", tag)
		}
		if tag == "glyf" {
			f.glyfAt, f.glyfLen = off, l
			f.tables["glyf"] = nil
			continue
		}
		switch tag {
		case "head", "hhea", "maxp", "hmtx", "loca", "cmap", "name", "post", "OS/2", "cvt ", "fpgm", "prep", "gasp":
		default:
			continue // not carried into subsets
		}
		b := make([]byte, l)
		if _, err := r.ReadAt(b, off); err != nil {
			return nil, fmt.Errorf("ttc: read %s: %w", tag, err)
		}
		f.tables[tag] = b
	}
	for _, t := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf", "cmap", "name", "post", "OS/2"} {
		if _, ok := f.tables[t]; !ok {
			return nil, fmt.Errorf("ttc: no %s table", t)
		}
	}
	head, maxp, hhea := f.tables["head"], f.tables["maxp"], f.tables["hhea"]
	if len(head) < 54 || len(maxp) < 6 || len(hhea) < 36 {
		return nil, errors.New("ttc: short head, hhea or maxp")
	}
	f.numGlyphs = int(binary.BigEndian.Uint16(maxp[4:]))
	longLoca := binary.BigEndian.Uint16(head[50:]) == 1
	loca := f.tables["loca"]
	f.loca = make([]uint32, f.numGlyphs+1)
	for i := range f.loca {
		switch {
		case longLoca && 4*i+4 <= len(loca):
			f.loca[i] = binary.BigEndian.Uint32(loca[4*i:])
		case !longLoca && 2*i+2 <= len(loca):
			f.loca[i] = 2 * uint32(binary.BigEndian.Uint16(loca[2*i:]))
		default:
			return nil, errors.New("ttc: short loca")
		}
		if int64(f.loca[i]) > f.glyfLen || i > 0 && f.loca[i] < f.loca[i-1] {
			return nil, fmt.Errorf("ttc: glyph %d out of range", i)
		}
	}
	nh := int(binary.BigEndian.Uint16(hhea[34:]))
	hmtx := f.tables["hmtx"]
	if nh < 1 || 4*nh > len(hmtx) {
		return nil, errors.New("ttc: bad hmtx")
	}
	f.advance = make([]uint16, f.numGlyphs)
	f.lsb = make([]int16, f.numGlyphs)
	for i := 0; i < f.numGlyphs; i++ {
		switch {
		case i < nh:
			f.advance[i] = binary.BigEndian.Uint16(hmtx[4*i:])
			f.lsb[i] = int16(binary.BigEndian.Uint16(hmtx[4*i+2:]))
		default:
			f.advance[i] = f.advance[nh-1]
			if p := 4*nh + 2*(i-nh); p+2 <= len(hmtx) {
				f.lsb[i] = int16(binary.BigEndian.Uint16(hmtx[p:]))
			}
		}
	}
	if err := f.readCmap(); err != nil {
		return nil, err
	}
	return f, nil
}

// glyph returns glyph g's outline.
func (f *Font) glyph(g int) ([]byte, error) {
	a, b := int64(f.loca[g]), int64(f.loca[g+1])
	if f.mem != nil {
		return f.mem[f.glyfAt+a : f.glyfAt+b], nil
	}
	out := make([]byte, b-a)
	if _, err := f.file.ReadAt(out, f.glyfAt+a); err != nil {
		return nil, fmt.Errorf("ttc: read glyph %d: %w", g, err)
	}
	return out, nil
}

// readCmap reads the Unicode cmap: the full repertoire (format 12) where
// the font has one, else the BMP (format 4).
func (f *Font) readCmap() error {
	cmap := f.tables["cmap"]
	if len(cmap) < 4 {
		return errors.New("ttc: short cmap")
	}
	n := int(binary.BigEndian.Uint16(cmap[2:]))
	bmp, full := -1, -1
	for i := 0; i < n && 4+8*i+8 <= len(cmap); i++ {
		r := cmap[4+8*i:]
		platform, enc := binary.BigEndian.Uint16(r), binary.BigEndian.Uint16(r[2:])
		off := int(binary.BigEndian.Uint32(r[4:]))
		if off+2 > len(cmap) {
			continue
		}
		format := binary.BigEndian.Uint16(cmap[off:])
		switch {
		case format == 12 && (platform == 3 && enc == 10 || platform == 0 && (enc == 4 || enc == 6)):
			full = off
		case format == 4 && (platform == 3 && enc == 1 || platform == 0 && enc == 3):
			bmp = off
		}
	}
	switch {
	case full >= 0:
		return f.readCmap12(cmap[full:])
	case bmp >= 0:
		return f.readCmap4(cmap[bmp:])
	}
	return errors.New("ttc: no Unicode cmap (format 4 or 12)")
}

func (f *Font) readCmap4(t []byte) error {
	if len(t) < 14 {
		return errors.New("ttc: short cmap format 4")
	}
	segX2 := int(binary.BigEndian.Uint16(t[6:]))
	u16 := func(at int) int {
		if at+2 > len(t) {
			return 0
		}
		return int(binary.BigEndian.Uint16(t[at:]))
	}
	ends, starts, deltas, ranges := 14, 16+segX2, 16+2*segX2, 16+3*segX2
	for s := 0; s < segX2; s += 2 {
		end, start, delta, ro := u16(ends+s), u16(starts+s), u16(deltas+s), u16(ranges+s)
		for ch := start; ch <= end && ch < 0xFFFF; ch++ {
			g := 0
			if ro == 0 {
				g = (ch + delta) & 0xFFFF
			} else if gi := u16(ranges + s + ro + 2*(ch-start)); gi != 0 {
				g = (gi + delta) & 0xFFFF
			}
			if g < f.numGlyphs {
				f.gid[ch] = uint16(g)
			}
		}
	}
	return nil
}

func (f *Font) readCmap12(t []byte) error {
	if len(t) < 16 {
		return errors.New("ttc: short cmap format 12")
	}
	n := int(binary.BigEndian.Uint32(t[12:]))
	if 16+12*n > len(t) {
		return errors.New("ttc: short cmap format 12")
	}
	for i := 0; i < n; i++ {
		g := t[16+12*i:]
		start, end, glyph := rune(binary.BigEndian.Uint32(g)), rune(binary.BigEndian.Uint32(g[4:])), binary.BigEndian.Uint32(g[8:])
		if end < start || end > unicode.MaxRune {
			continue
		}
		for ch := start; ch <= end && ch < 0xFFFF; ch++ {
			if gl := glyph + uint32(ch-start); gl < uint32(f.numGlyphs) {
				f.gid[ch] = uint16(gl)
			}
		}
		if end > 0xFFFF {
			if start <= 0xFFFF {
				glyph += uint32(0x10000 - start)
				start = 0x10000
			}
			f.astral = append(f.astral, cmapGroup{start, end, glyph})
		}
	}
	sort.Slice(f.astral, func(i, j int) bool { return f.astral[i].start < f.astral[j].start })
	return nil
}

// glyphOf is r's glyph id, 0 when the font lacks it.
func (f *Font) glyphOf(r rune) int {
	if r >= 0 && r <= 0xFFFF {
		return int(f.gid[r])
	}
	i := sort.Search(len(f.astral), func(i int) bool { return f.astral[i].end >= r })
	if i < len(f.astral) && f.astral[i].start <= r {
		if g := f.astral[i].glyph + uint32(r-f.astral[i].start); g < uint32(f.numGlyphs) {
			return int(g)
		}
	}
	return 0
}

// Has reports whether r has a glyph.
func (f *Font) Has(r rune) bool { return f.glyphOf(r) != 0 }

// Count is how many of the characters lo..hi have glyphs.
func (f *Font) Count(lo, hi rune) int {
	n := 0
	for r := lo; r <= hi; r++ {
		if f.Has(r) {
			n++
		}
	}
	return n
}

// Subset returns a .ttf holding only the glyphs of runes (and the glyphs
// their composite glyphs use), renumbered, with a matching cmap. Runes the
// font lacks are left out.
func (f *Font) Subset(runes []rune) ([]byte, error) { return f.SubsetAs(runes, nil) }

// SubsetAs is Subset with the characters renamed in the subset's cmap:
// runes[i] is found there as as[i] (nil: as itself). gofpdf writes text as
// 16-bit codes, so characters above U+FFFF are given codes of the Private
// Use Area. Every code must be at most U+FFFF.
func (f *Font) SubsetAs(runes, as []rune) ([]byte, error) {
	type pair struct{ code, r rune }
	ps := make([]pair, 0, len(runes))
	for i, r := range runes {
		code := r
		if as != nil {
			code = as[i]
		}
		if !f.Has(r) {
			continue
		}
		if code > 0xFFFF {
			return nil, fmt.Errorf("ttc: code %U above U+FFFF", code)
		}
		ps = append(ps, pair{code, r})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].code < ps[j].code })
	// Glyph 0 (.notdef) stays glyph 0.
	order := []int{0}
	newID := map[int]int{0: 0}
	outlines := map[int][]byte{}
	var add func(g int) error
	add = func(g int) error {
		if _, ok := newID[g]; ok {
			return nil
		}
		newID[g] = len(order)
		order = append(order, g)
		glyph, err := f.glyph(g)
		if err != nil {
			return err
		}
		outlines[g] = glyph
		return components(glyph, func(at int) error {
			c := int(binary.BigEndian.Uint16(glyph[at:]))
			if c >= f.numGlyphs {
				return fmt.Errorf("ttc: component %d out of range", c)
			}
			return add(c)
		})
	}
	if g, err := f.glyph(0); err == nil {
		outlines[0] = g
	} else {
		return nil, err
	}
	cm := make([]cmapEntry, 0, len(ps))
	for i, p := range ps {
		if i > 0 && ps[i-1].code == p.code {
			continue
		}
		g := f.glyphOf(p.r)
		if err := add(g); err != nil {
			return nil, err
		}
		cm = append(cm, cmapEntry{p.code, newID[g]})
	}

	// glyf and loca (long offsets), with component ids rewritten.
	var glyf []byte
	loca := make([]byte, 4*(len(order)+1))
	for i, g := range order {
		binary.BigEndian.PutUint32(loca[4*i:], uint32(len(glyf)))
		start := len(glyf)
		glyf = append(glyf, outlines[g]...)
		g := glyf[start:]
		if err := components(g, func(at int) error {
			binary.BigEndian.PutUint16(g[at:], uint16(newID[int(binary.BigEndian.Uint16(g[at:]))]))
			return nil
		}); err != nil {
			return nil, err
		}
		for len(glyf)%4 != 0 {
			glyf = append(glyf, 0)
		}
	}
	binary.BigEndian.PutUint32(loca[4*len(order):], uint32(len(glyf)))

	hmtx := make([]byte, 4*len(order))
	for i, g := range order {
		binary.BigEndian.PutUint16(hmtx[4*i:], f.advance[g])
		binary.BigEndian.PutUint16(hmtx[4*i+2:], uint16(f.lsb[g]))
	}
	head := append([]byte(nil), f.tables["head"]...)
	binary.BigEndian.PutUint32(head[8:], 0)  // checkSumAdjustment, set below
	binary.BigEndian.PutUint16(head[50:], 1) // long loca
	hhea := append([]byte(nil), f.tables["hhea"]...)
	binary.BigEndian.PutUint16(hhea[34:], uint16(len(order)))
	maxp := append([]byte(nil), f.tables["maxp"]...)
	binary.BigEndian.PutUint16(maxp[4:], uint16(len(order)))
	post := append([]byte(nil), f.tables["post"][:32]...)
	binary.BigEndian.PutUint32(post, 0x00030000) // no glyph names

	out := map[string][]byte{
		"head": head, "hhea": hhea, "maxp": maxp, "hmtx": hmtx, "loca": loca, "glyf": glyf,
		"cmap": buildCmap(cm), "post": post, "name": f.tables["name"], "OS/2": f.tables["OS/2"],
	}
	for _, t := range []string{"cvt ", "fpgm", "prep", "gasp"} {
		if b := f.tables[t]; b != nil {
			out[t] = b
		}
	}
	return assemble(out), nil
}

type cmapEntry struct {
	r   rune // the code in the subset's cmap
	gid int
}

// buildCmap writes a cmap with one (3,1) format 4 subtable; runs of
// consecutive characters with consecutive glyph ids share a segment.
func buildCmap(cm []cmapEntry) []byte {
	type seg struct{ start, end, delta int }
	var segs []seg
	for _, e := range cm {
		if n := len(segs); n > 0 && int(e.r) == segs[n-1].end+1 && e.gid-int(e.r) == segs[n-1].delta {
			segs[n-1].end++
			continue
		}
		segs = append(segs, seg{int(e.r), int(e.r), e.gid - int(e.r)})
	}
	segs = append(segs, seg{0xFFFF, 0xFFFF, 1})
	n := len(segs)
	sub := make([]byte, 16+8*n)
	binary.BigEndian.PutUint16(sub[0:], 4)
	binary.BigEndian.PutUint16(sub[2:], uint16(len(sub)))
	binary.BigEndian.PutUint16(sub[6:], uint16(2*n))
	p2 := 1
	e := 0
	for p2*2 <= n {
		p2 *= 2
		e++
	}
	binary.BigEndian.PutUint16(sub[8:], uint16(2*p2))
	binary.BigEndian.PutUint16(sub[10:], uint16(e))
	binary.BigEndian.PutUint16(sub[12:], uint16(2*n-2*p2))
	for i, s := range segs {
		binary.BigEndian.PutUint16(sub[14+2*i:], uint16(s.end))
		binary.BigEndian.PutUint16(sub[16+2*n+2*i:], uint16(s.start))
		binary.BigEndian.PutUint16(sub[16+4*n+2*i:], uint16(s.delta))
		// idRangeOffset stays 0
	}
	cmap := make([]byte, 12, 12+len(sub))
	binary.BigEndian.PutUint16(cmap[2:], 1)
	binary.BigEndian.PutUint16(cmap[4:], 3)
	binary.BigEndian.PutUint16(cmap[6:], 1)
	binary.BigEndian.PutUint32(cmap[8:], 12)
	return append(cmap, sub...)
}

// Composite glyph flags.
const (
	argWords   = 0x0001
	hasScale   = 0x0008
	moreComps  = 0x0020
	hasXYScale = 0x0040
	has2x2     = 0x0080
)

// components calls fn with the offset in g of each component's glyph id,
// when g is a composite glyph.
func components(g []byte, fn func(at int) error) error {
	if len(g) < 10 || int16(binary.BigEndian.Uint16(g)) >= 0 {
		return nil
	}
	p := 10
	for {
		if p+4 > len(g) {
			return errors.New("ttc: truncated composite glyph")
		}
		flags := binary.BigEndian.Uint16(g[p:])
		if err := fn(p + 2); err != nil {
			return err
		}
		p += 4 + compArgs(flags)
		if flags&moreComps == 0 {
			return nil
		}
	}
}

func compArgs(flags uint16) int {
	n := 2
	if flags&argWords != 0 {
		n = 4
	}
	switch {
	case flags&hasScale != 0:
		n += 2
	case flags&hasXYScale != 0:
		n += 4
	case flags&has2x2 != 0:
		n += 8
	}
	return n
}

// assemble writes a .ttf from its tables, sorted by tag, with checksums.
func assemble(tables map[string][]byte) []byte {
	tags := make([]string, 0, len(tables))
	for t := range tables {
		tags = append(tags, t)
	}
	sort.Strings(tags)
	n := len(tags)
	size := 12 + 16*n
	for _, t := range tags {
		size += (len(tables[t]) + 3) &^ 3
	}
	out := make([]byte, 12+16*n, size)
	binary.BigEndian.PutUint32(out, 0x00010000)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	p2, e := 1, 0
	for p2*2 <= n {
		p2 *= 2
		e++
	}
	binary.BigEndian.PutUint16(out[6:], uint16(16*p2))
	binary.BigEndian.PutUint16(out[8:], uint16(e))
	binary.BigEndian.PutUint16(out[10:], uint16(16*n-16*p2))
	headAt := 0
	for i, t := range tags {
		b := tables[t]
		off := len(out)
		out = append(out, b...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		r := out[12+16*i:]
		copy(r, t)
		binary.BigEndian.PutUint32(r[4:], checksum(out[off:]))
		binary.BigEndian.PutUint32(r[8:], uint32(off))
		binary.BigEndian.PutUint32(r[12:], uint32(len(b)))
		if t == "head" {
			headAt = off
		}
	}
	binary.BigEndian.PutUint32(out[headAt+8:], 0xB1B0AFBA-checksum(out))
	return out
}
