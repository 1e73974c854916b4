package ttc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// Font is a parsed .ttf that can cut small subsets of itself quickly.
//
// Why: gofpdf parses the whole font for every document and walks its whole
// cmap again when it writes the PDF; for a 4.6 MB CJK font that is most of
// the time spent on a one-page document. Handing gofpdf a font that holds
// only the characters a document uses makes both steps nearly free.
type Font struct {
	tables    map[string][]byte
	glyphs    [][]byte // glyph outlines by glyph id
	advance   []uint16 // by glyph id
	lsb       []int16  // by glyph id
	gid       [65536]uint16
	numGlyphs int
}

// Parse reads a TrueType (glyf) font.
func Parse(ttf []byte) (*Font, error) {
	f := &Font{tables: map[string][]byte{}}
	if len(ttf) < 12 {
		return nil, errors.New("ttc: short font")
	}
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	for i := 0; i < n && 12+16*i+16 <= len(ttf); i++ {
		r := ttf[12+16*i:]
		off, l := binary.BigEndian.Uint32(r[8:]), binary.BigEndian.Uint32(r[12:])
		if uint64(off)+uint64(l) > uint64(len(ttf)) {
			return nil, fmt.Errorf("ttc: table %q out of range", r[:4])
		}
		f.tables[string(r[:4])] = ttf[off : off+l]
	}
	for _, t := range []string{"head", "hhea", "maxp", "hmtx", "loca", "glyf", "cmap", "name", "post", "OS/2"} {
		if f.tables[t] == nil {
			return nil, fmt.Errorf("ttc: no %s table", t)
		}
	}
	head, maxp, hhea := f.tables["head"], f.tables["maxp"], f.tables["hhea"]
	if len(head) < 54 || len(maxp) < 6 || len(hhea) < 36 {
		return nil, errors.New("ttc: short head, hhea or maxp")
	}
	f.numGlyphs = int(binary.BigEndian.Uint16(maxp[4:]))
	longLoca := binary.BigEndian.Uint16(head[50:]) == 1
	loca, glyf := f.tables["loca"], f.tables["glyf"]
	at := func(i int) (int, error) {
		if longLoca {
			if 4*i+4 > len(loca) {
				return 0, errors.New("ttc: short loca")
			}
			return int(binary.BigEndian.Uint32(loca[4*i:])), nil
		}
		if 2*i+2 > len(loca) {
			return 0, errors.New("ttc: short loca")
		}
		return 2 * int(binary.BigEndian.Uint16(loca[2*i:])), nil
	}
	f.glyphs = make([][]byte, f.numGlyphs)
	for i := range f.glyphs {
		a, err := at(i)
		if err != nil {
			return nil, err
		}
		b, err := at(i + 1)
		if err != nil {
			return nil, err
		}
		if a > b || b > len(glyf) {
			return nil, fmt.Errorf("ttc: glyph %d out of range", i)
		}
		f.glyphs[i] = glyf[a:b]
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

func (f *Font) readCmap() error {
	cmap := f.tables["cmap"]
	n := int(binary.BigEndian.Uint16(cmap[2:]))
	sub := -1
	for i := 0; i < n && 4+8*i+8 <= len(cmap); i++ {
		r := cmap[4+8*i:]
		if binary.BigEndian.Uint16(r) == 3 && binary.BigEndian.Uint16(r[2:]) == 1 {
			sub = int(binary.BigEndian.Uint32(r[4:]))
		}
	}
	if sub < 0 || sub+14 > len(cmap) || binary.BigEndian.Uint16(cmap[sub:]) != 4 {
		return errors.New("ttc: no (3,1) format 4 cmap")
	}
	t := cmap[sub:]
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

// Has reports whether r has a glyph.
func (f *Font) Has(r rune) bool { return r >= 0 && r <= 0xFFFF && f.gid[r] != 0 }

// Subset returns a .ttf holding only the glyphs of runes (and the glyphs
// their composite glyphs use), renumbered, with a matching cmap. Runes the
// font lacks are left out.
func (f *Font) Subset(runes []rune) ([]byte, error) {
	rs := make([]rune, 0, len(runes))
	for _, r := range runes {
		if f.Has(r) {
			rs = append(rs, r)
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i] < rs[j] })
	// Glyph 0 (.notdef) stays glyph 0.
	order := []int{0}
	newID := map[int]int{0: 0}
	var add func(g int) error
	add = func(g int) error {
		if _, ok := newID[g]; ok {
			return nil
		}
		newID[g] = len(order)
		order = append(order, g)
		glyph := f.glyphs[g]
		return components(glyph, func(at int) error {
			c := int(binary.BigEndian.Uint16(glyph[at:]))
			if c >= f.numGlyphs {
				return fmt.Errorf("ttc: component %d out of range", c)
			}
			return add(c)
		})
	}
	cm := make([]cmapEntry, 0, len(rs))
	for i, r := range rs {
		if i > 0 && rs[i-1] == r {
			continue
		}
		g := int(f.gid[r])
		if err := add(g); err != nil {
			return nil, err
		}
		cm = append(cm, cmapEntry{r, newID[g]})
	}

	// glyf and loca (long offsets), with component ids rewritten.
	var glyf []byte
	loca := make([]byte, 4*(len(order)+1))
	for i, g := range order {
		binary.BigEndian.PutUint32(loca[4*i:], uint32(len(glyf)))
		start := len(glyf)
		glyf = append(glyf, f.glyphs[g]...)
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
	r   rune
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
