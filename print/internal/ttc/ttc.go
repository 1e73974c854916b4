// Package ttc extracts one face of a TrueType collection (.ttc) into a
// standalone .ttf, because gofpdf cannot read collections.
package ttc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

type tableRecord struct {
	tag            [4]byte
	checksum       uint32
	offset, length uint32
	newOffset      uint32
}

// Extract returns face number face of the collection data as a .ttf file.
// Table contents are copied unchanged; only offsets and the head table's
// checkSumAdjustment are rewritten.
func Extract(data []byte, face int) ([]byte, error) {
	if len(data) < 12 || string(data[:4]) != "ttcf" {
		return nil, errors.New("ttc: not a TrueType collection")
	}
	n := int(binary.BigEndian.Uint32(data[8:12]))
	if face < 0 || face >= n {
		return nil, fmt.Errorf("ttc: face %d out of range (%d faces)", face, n)
	}
	if len(data) < 12+4*n {
		return nil, errors.New("ttc: truncated header")
	}
	off := int(binary.BigEndian.Uint32(data[12+4*face:]))
	if off+12 > len(data) {
		return nil, errors.New("ttc: face offset out of range")
	}
	sfntVersion := data[off : off+4]
	numTables := int(binary.BigEndian.Uint16(data[off+4:]))
	dir := off + 12
	if dir+16*numTables > len(data) {
		return nil, errors.New("ttc: truncated table directory")
	}
	tables := make([]tableRecord, numTables)
	for i := range tables {
		r := data[dir+16*i:]
		copy(tables[i].tag[:], r[:4])
		tables[i].checksum = binary.BigEndian.Uint32(r[4:])
		tables[i].offset = binary.BigEndian.Uint32(r[8:])
		tables[i].length = binary.BigEndian.Uint32(r[12:])
		if uint64(tables[i].offset)+uint64(tables[i].length) > uint64(len(data)) {
			return nil, fmt.Errorf("ttc: table %q out of range", tables[i].tag[:])
		}
	}
	// Table records must be sorted by tag.
	sort.Slice(tables, func(i, j int) bool { return string(tables[i].tag[:]) < string(tables[j].tag[:]) })

	pos := uint32(12 + 16*numTables)
	for i := range tables {
		tables[i].newOffset = pos
		pos += (tables[i].length + 3) &^ 3
	}
	out := make([]byte, pos)
	copy(out[0:4], sfntVersion)
	copy(out[4:12], data[off+4:off+12]) // numTables, searchRange, entrySelector, rangeShift
	headAt := -1
	for i, t := range tables {
		r := out[12+16*i:]
		copy(r[:4], t.tag[:])
		binary.BigEndian.PutUint32(r[4:], t.checksum)
		binary.BigEndian.PutUint32(r[8:], t.newOffset)
		binary.BigEndian.PutUint32(r[12:], t.length)
		copy(out[t.newOffset:], data[t.offset:t.offset+t.length])
		if string(t.tag[:]) == "head" && t.length >= 12 {
			headAt = int(t.newOffset)
		}
	}
	if headAt >= 0 {
		binary.BigEndian.PutUint32(out[headAt+8:], 0)
		binary.BigEndian.PutUint32(out[headAt+8:], 0xB1B0AFBA-checksum(out))
	}
	return out, nil
}

func checksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i+4 <= len(b); i += 4 {
		sum += binary.BigEndian.Uint32(b[i:])
	}
	return sum // len(b) is a multiple of 4: every table is padded
}
