package ttc

import (
	"encoding/binary"
	"errors"
)

// Coverage is a set of BMP code points that a font maps to a glyph.
type Coverage [65536 / 64]uint64

// Has reports whether r has a glyph. Runes above U+FFFF never do.
func (c *Coverage) Has(r rune) bool {
	if r < 0 || r > 0xFFFF {
		return false
	}
	return c[r>>6]&(1<<(uint(r)&63)) != 0
}

func (c *Coverage) set(r int) { c[r>>6] |= 1 << (uint(r) & 63) }

// BMPCoverage reads the Windows Unicode BMP (3,1) format 4 cmap subtable of
// a .ttf, the one gofpdf itself uses.
func BMPCoverage(ttf []byte) (*Coverage, error) {
	cmap, err := table(ttf, "cmap")
	if err != nil {
		return nil, err
	}
	if len(cmap) < 4 {
		return nil, errors.New("ttc: short cmap")
	}
	n := int(binary.BigEndian.Uint16(cmap[2:]))
	sub := -1
	for i := 0; i < n && 4+8*i+8 <= len(cmap); i++ {
		r := cmap[4+8*i:]
		pid, eid := binary.BigEndian.Uint16(r), binary.BigEndian.Uint16(r[2:])
		if pid == 3 && eid == 1 {
			sub = int(binary.BigEndian.Uint32(r[4:]))
			break
		}
	}
	if sub < 0 || sub+14 > len(cmap) || binary.BigEndian.Uint16(cmap[sub:]) != 4 {
		return nil, errors.New("ttc: no (3,1) format 4 cmap")
	}
	t := cmap[sub:]
	segX2 := int(binary.BigEndian.Uint16(t[6:]))
	ends, starts, deltas, ranges := 14, 16+segX2, 16+2*segX2, 16+3*segX2
	if ranges+segX2 > len(t) {
		return nil, errors.New("ttc: truncated cmap")
	}
	u16 := func(at int) int {
		if at+2 > len(t) {
			return 0
		}
		return int(binary.BigEndian.Uint16(t[at:]))
	}
	var c Coverage
	for s := 0; s < segX2; s += 2 {
		end, start := u16(ends+s), u16(starts+s)
		delta, ro := u16(deltas+s), u16(ranges+s)
		for ch := start; ch <= end && ch < 0xFFFF; ch++ {
			g := 0
			if ro == 0 {
				g = (ch + delta) & 0xFFFF
			} else if gi := u16(ranges + s + ro + 2*(ch-start)); gi != 0 {
				g = (gi + delta) & 0xFFFF
			}
			if g != 0 {
				c.set(ch)
			}
		}
	}
	return &c, nil
}

// table returns the bytes of the named table of a .ttf.
func table(ttf []byte, tag string) ([]byte, error) {
	if len(ttf) < 12 {
		return nil, errors.New("ttc: short font")
	}
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	for i := 0; i < n && 12+16*i+16 <= len(ttf); i++ {
		r := ttf[12+16*i:]
		if string(r[:4]) == tag {
			off, l := binary.BigEndian.Uint32(r[8:]), binary.BigEndian.Uint32(r[12:])
			if uint64(off)+uint64(l) > uint64(len(ttf)) {
				break
			}
			return ttf[off : off+l], nil
		}
	}
	return nil, errors.New("ttc: no " + tag + " table")
}
