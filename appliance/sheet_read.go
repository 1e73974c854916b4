package appliance

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/extrame/xls"
	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// CellKind is what a spreadsheet cell held, as the program that saved it
// stored it: an ID number in a number cell has lost digits, whatever it
// looks like now.
type CellKind uint8

const (
	CellEmpty CellKind = iota
	CellText
	CellNumber
	CellDate // an ISO date cell (t="d"); number cells with a date format are CellNumber
	CellBool
)

// Cell is one cell: its text as stored (for numbers the plain value,
// e.g. 4.10184198703141E+17 or 31850) and its kind.
type Cell struct {
	Text string
	Kind CellKind
}

// Table is one sheet of a workbook (a CSV file is one table).
type Table struct {
	Name string
	Rows [][]Cell
	// Date1904 is set for workbooks counting dates from 1904 (old Mac Excel).
	Date1904 bool
	// kindOf tells, for a number-looking cell, how it was stored; asked
	// only for the columns where it matters (ID numbers, dates, phones).
	kindOf func(row, col int) CellKind
}

// cellMaybeNumber marks a number-looking .xlsx cell whose stored type is
// asked lazily (Table.kindOf).
const cellMaybeNumber CellKind = 255

// Cell returns a cell with its stored kind settled.
func (t *Table) Cell(row, col int) Cell {
	if row >= len(t.Rows) || col >= len(t.Rows[row]) || col < 0 {
		return Cell{}
	}
	c := t.Rows[row][col]
	if c.Kind == cellMaybeNumber {
		c.Kind = CellText
		if t.kindOf != nil {
			c.Kind = t.kindOf(row, col)
		}
		t.Rows[row][col] = c
	}
	return c
}

// Sheet-reading limits: a village has a few thousand people; anything far
// beyond is not a household ledger, and bounding it bounds memory.
const (
	maxImportRows    = 50000
	maxImportColumns = 200
)

// ErrXLSUnreadable is the refusal of an .xls file the reader cannot take.
const msgSaveAsXLSX = "请用Excel或WPS另存为.xlsx后再导入"

// ReadWorkbook reads the tables of an .xlsx, .xls or .csv file. Merged
// cells of .xlsx files are filled from their top-left cell; .xls and CSV
// files carry no merges (the importer carries blanks forward instead).
func ReadWorkbook(filename string, data []byte) ([]Table, error) {
	tables, done, err := readWorkbook(filename, data)
	if err != nil {
		return nil, err
	}
	defer done()
	for i := range tables {
		for r := range tables[i].Rows {
			for c := range tables[i].Rows[r] {
				tables[i].Cell(r, c)
			}
		}
	}
	return tables, nil
}

// readWorkbook is ReadWorkbook with the stored kinds of number-looking
// .xlsx cells left to ask; done releases the workbook.
func readWorkbook(filename string, data []byte) ([]Table, func(), error) {
	none := func() {}
	switch strings.ToLower(path.Ext(filename)) {
	case ".xlsx", ".xlsm":
		return readXLSX(data)
	case ".xls", ".et":
		if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
			return readXLSX(data) // an .xlsx renamed .xls
		}
		t, err := readXLS(data)
		return t, none, err
	case ".csv", ".txt":
		t, err := readCSV(data)
		if err != nil {
			return nil, none, err
		}
		t.Name = strings.TrimSuffix(path.Base(filename), path.Ext(filename))
		return []Table{t}, none, nil
	}
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return readXLSX(data)
	}
	return nil, none, Errorf(EINVALID, "只能导入 .xlsx、.xls 或 .csv 文件；其他格式%s", msgSaveAsXLSX)
}

func readXLSX(data []byte) (out []Table, done func(), err error) {
	done = func() {}
	defer func() {
		// A damaged file must not take the server down.
		if r := recover(); r != nil {
			out, err = nil, Errorf(EINVALID, "无法读取该 Excel 文件（文件可能已损坏），%s", msgSaveAsXLSX)
		}
	}()
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{UnzipSizeLimit: 200 << 20, UnzipXMLSizeLimit: 100 << 20})
	if err != nil {
		return nil, done, Errorf(EINVALID, "无法读取该 Excel 文件，请确认是 .xlsx 格式；%s", msgSaveAsXLSX)
	}
	done = func() { f.Close() }
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	date1904 := false
	if wp, err := f.GetWorkbookProps(); err == nil && wp.Date1904 != nil {
		date1904 = *wp.Date1904
	}
	for _, name := range f.GetSheetList() {
		raw, err := f.GetRows(name, excelize.Options{RawCellValue: true})
		if err != nil {
			continue // chart sheets and the like
		}
		if len(raw) > maxImportRows+100 {
			return nil, done, Errorf(EINVALID, "工作表“%s”超过%d行，请分开导入", name, maxImportRows)
		}
		sheet := name
		t := Table{Name: name, Date1904: date1904, Rows: make([][]Cell, len(raw)), kindOf: func(r, c int) (kind CellKind) {
			defer func() {
				if recover() != nil {
					kind = CellText
				}
			}()
			axis, _ := excelize.CoordinatesToCellName(c+1, r+1)
			switch ct, _ := f.GetCellType(sheet, axis); ct {
			case excelize.CellTypeUnset, excelize.CellTypeNumber:
				return CellNumber
			}
			return CellText
		}}
		for i, r := range raw {
			if len(r) > maxImportColumns {
				r = r[:maxImportColumns]
			}
			row := make([]Cell, len(r))
			for j, v := range r {
				row[j] = Cell{Text: v}
				if v == "" {
					continue
				}
				row[j].Kind = CellText
				if looksNumeric(v) {
					row[j].Kind = cellMaybeNumber // only a number-looking value may have been a number
				}
				if strings.HasPrefix(v, "=DISPIMG(") && wpsPicture(f, name, i, j) {
					row[j] = Cell{}
				}
			}
			t.Rows[i] = row
		}
		merged, _ := f.GetMergeCells(name)
		for _, m := range merged {
			c1, r1, err1 := excelize.CellNameToCoordinates(m.GetStartAxis())
			c2, r2, err2 := excelize.CellNameToCoordinates(m.GetEndAxis())
			if err1 != nil || err2 != nil || r1 < 1 || c1 < 1 || r1 > len(t.Rows) || c2 > maxImportColumns {
				continue
			}
			// The rows a merge reaches below the last row with a value of
			// its own are not in GetRows' answer (WPS keeps them as styled
			// empty cells), yet the sheet shows the merged value there.
			for len(t.Rows) < min(r2, maxImportRows+100) {
				t.Rows = append(t.Rows, nil)
			}
			top := Cell{}
			if c1-1 < len(t.Rows[r1-1]) {
				top = t.Rows[r1-1][c1-1]
			}
			for r := r1; r <= r2 && r <= len(t.Rows); r++ {
				for c := c1; c <= c2; c++ {
					for len(t.Rows[r-1]) < c {
						t.Rows[r-1] = append(t.Rows[r-1], Cell{})
					}
					t.Rows[r-1][c-1] = top
				}
			}
		}
		out = append(out, t)
	}
	return out, done, nil
}

// wpsPicture reports whether a cell holds a picture placed in the cell by
// WPS (嵌入单元格图片, common in rosters with a 照片 column): WPS saves it
// as the formula DISPIMG("ID_…",1) whose saved value is that formula's own
// text. The cell shows a picture, no text, so it reads as empty; the text
// is no value of the person's.
func wpsPicture(f *excelize.File, sheet string, r, c int) bool {
	axis, err := excelize.CoordinatesToCellName(c+1, r+1)
	if err != nil {
		return false
	}
	formula, err := f.GetCellFormula(sheet, axis)
	return err == nil && strings.HasPrefix(strings.TrimPrefix(formula, "_xlfn."), "DISPIMG(")
}

// looksNumeric reports whether a raw cell value could be a stored number.
func looksNumeric(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func readXLS(data []byte) (out []Table, err error) {
	defer func() {
		// The .xls reader is young; whatever it trips on becomes the
		// clerk's instruction to save as .xlsx, never a crash.
		if r := recover(); r != nil {
			out, err = nil, Errorf(EINVALID, "无法读取该 .xls 文件，%s", msgSaveAsXLSX)
		}
	}()
	if !bytes.HasPrefix(data, []byte{0xD0, 0xCF, 0x11, 0xE0}) {
		return nil, Errorf(EINVALID, "该文件不是 Excel 97–2003 (.xls) 表格，%s", msgSaveAsXLSX)
	}
	book, small, err := checkCompoundFile(data)
	if err != nil {
		return nil, err
	}
	formulas, err := xlsFormulas(book)
	if err != nil {
		return nil, err
	}
	if small {
		// The reader's small-stream table is not trusted (it reads only
		// its first sector, over and over): it gets the checked Workbook
		// stream in a container of our own, in ordinary sectors.
		data = compoundFileOf(book)
	}
	wb, err := xls.OpenReader(bytes.NewReader(data), "utf-8")
	if err != nil || wb == nil {
		return nil, Errorf(EINVALID, "无法读取该 .xls 文件，%s", msgSaveAsXLSX)
	}
	for i := 0; i < wb.NumSheets(); i++ {
		s := wb.GetSheet(i)
		if s == nil {
			return nil, Errorf(EINVALID, "无法读取该 .xls 文件的第%d个工作表，%s", i+1, msgSaveAsXLSX)
		}
		if int(s.MaxRow) > maxImportRows+100 {
			return nil, Errorf(EINVALID, "工作表“%s”超过%d行，请分开导入", s.Name, maxImportRows)
		}
		t := Table{Name: s.Name}
		for r := 0; r <= int(s.MaxRow); r++ {
			cells, err := xlsRow(s, r)
			if err != nil {
				return nil, err
			}
			t.Rows = append(t.Rows, cells)
		}
		if i < len(formulas) {
			for _, fc := range formulas[i] {
				for len(t.Rows) <= fc.row {
					t.Rows = append(t.Rows, nil)
				}
				for len(t.Rows[fc.row]) <= fc.col {
					t.Rows[fc.row] = append(t.Rows[fc.row], Cell{})
				}
				t.Rows[fc.row][fc.col] = fc.cell
			}
		}
		out = append(out, t)
	}
	return out, nil
}

// xlsRow reads one row of an .xls sheet. The reader formats numbers its own
// way (a number with a custom format becomes a date), so each cell's record
// is looked at for its kind and raw value; the reader has no other way to
// tell them. Formula cells the reader drops; xlsFormulas reads them.
func xlsRow(s *xls.WorkSheet, r int) ([]Cell, error) {
	row := func() (row *xls.Row) {
		defer func() {
			if recover() != nil {
				row = nil // a row with no cells: the reader has no record of it
			}
		}()
		return s.Row(r)
	}()
	if row == nil {
		return nil, nil
	}
	cols := reflect.ValueOf(row).Elem().FieldByName("cols")
	if !cols.IsValid() || cols.Kind() != reflect.Map {
		return nil, Errorf(EINVALID, "无法读取该 .xls 文件，%s", msgSaveAsXLSX)
	}
	var cells []Cell
	set := func(c int, cell Cell) {
		if c < 0 || c >= maxImportColumns {
			return
		}
		for len(cells) <= c {
			cells = append(cells, Cell{})
		}
		if strings.TrimSpace(cell.Text) == "" {
			cell = Cell{}
		}
		cells[c] = cell
	}
	number := func(f float64) Cell {
		return Cell{Text: strconv.FormatFloat(f, 'f', -1, 64), Kind: CellNumber}
	}
	iter := cols.MapRange()
	for iter.Next() {
		first := int(iter.Key().Uint())
		h := iter.Value().Elem() // *xls.SomeCol
		if h.Kind() != reflect.Pointer || h.IsNil() {
			continue
		}
		v := h.Elem()
		switch h.Type().String() {
		case "*xls.NumberCol":
			set(first, number(v.FieldByName("Float").Float()))
		case "*xls.RkCol":
			set(first, number(rkValue(uint32(v.FieldByName("Xfrk").FieldByName("Rk").Uint()))))
		case "*xls.MulrkCol":
			rks := v.FieldByName("Xfrks")
			for k := 0; k < rks.Len(); k++ {
				set(first+k, number(rkValue(uint32(rks.Index(k).FieldByName("Rk").Uint()))))
			}
		case "*xls.LabelsstCol", "*xls.labelCol":
			set(first, Cell{Text: row.Col(first), Kind: CellText})
		}
	}
	return cells, nil
}

// xlsFormula is a formula or TRUE/FALSE cell of an .xls sheet, with the
// formula's saved result.
type xlsFormula struct {
	row, col int
	cell     Cell
}

// xlsFormulas reads the formula cells of each sheet (in the workbook's
// sheet order) from the Workbook stream, since the .xls reader drops them:
// a 序号, 性别 or 出生日期 column computed by formula (as clerks and WPS
// templates do) would otherwise come out empty. Each formula's saved
// result is kept as the .xlsx reader gives it: a number as a number cell;
// a text (in the STRING record after the formula), TRUE/FALSE (1/0) and an
// error (#VALUE!) as text; an empty result as an empty cell. TRUE/FALSE
// and error cells, which the reader drops too, come with them.
func xlsFormulas(book []byte) ([][]xlsFormula, error) {
	bad := Errorf(EINVALID, "该 .xls 文件已损坏，%s", msgSaveAsXLSX)
	// record returns the id and body of the record at offset o.
	record := func(o int) (uint16, []byte, bool) {
		if o+4 > len(book) {
			return 0, nil, false
		}
		id, n := binary.LittleEndian.Uint16(book[o:]), int(binary.LittleEndian.Uint16(book[o+2:]))
		if o+4+n > len(book) {
			return 0, nil, false
		}
		return id, book[o+4 : o+4+n], true
	}
	const (
		recBOF, recEOF, recFormula, recString, recBoundSheet, recBoolErr, recFilePass = 0x0809, 0x000A, 0x0006, 0x0207, 0x0085, 0x0205, 0x002F
	)
	id, body, ok := record(0)
	if !ok || id != recBOF || len(body) < 2 {
		return nil, bad
	}
	biff8 := binary.LittleEndian.Uint16(body) == 0x0600
	// The workbook globals: one BOUNDSHEET per sheet, giving its offset.
	var starts []int
	for o := 0; ; {
		id, body, ok := record(o)
		if !ok {
			return nil, bad
		}
		o += 4 + len(body)
		if id == recBoundSheet && len(body) >= 4 {
			starts = append(starts, int(binary.LittleEndian.Uint32(body)))
		}
		if id == recFilePass { // the rest is encrypted: the reader would read garbage
			return nil, Errorf(EINVALID, "该 .xls 文件设有密码，请在Excel或WPS中取消密码，另存为.xlsx后再导入")
		}
		if id == recEOF {
			break
		}
	}
	out := make([][]xlsFormula, len(starts))
	for i, o := range starts {
		if id, _, ok := record(o); !ok || id != recBOF {
			return nil, bad
		}
		pending := -1 // the formula whose text result follows in a STRING record
		for {
			id, body, ok := record(o)
			if !ok {
				return nil, bad
			}
			o += 4 + len(body)
			if id == recEOF {
				break
			}
			switch {
			case id == recFormula && len(body) >= 14:
				row, col := int(binary.LittleEndian.Uint16(body)), int(binary.LittleEndian.Uint16(body[2:]))
				if row >= maxImportRows+100 || col >= maxImportColumns {
					continue
				}
				res := body[6:14]
				f := xlsFormula{row: row, col: col}
				if res[6] != 0xFF || res[7] != 0xFF {
					v := math.Float64frombits(binary.LittleEndian.Uint64(res))
					f.cell = Cell{Text: strconv.FormatFloat(v, 'f', -1, 64), Kind: CellNumber}
				} else {
					switch res[0] {
					case 0: // text: in the STRING record that follows
						if !biff8 {
							return nil, Errorf(EINVALID, "表中第%d行有公式算出的文字，这种旧版 .xls 文件读不出；%s", row+1, msgSaveAsXLSX)
						}
						out[i] = append(out[i], f)
						pending = len(out[i]) - 1
						continue
					case 1:
						f.cell = xlsBool(res[2])
					case 2:
						f.cell = xlsError(res[2])
					}
				}
				out[i] = append(out[i], f)
			case id == recBoolErr && len(body) >= 8:
				row, col := int(binary.LittleEndian.Uint16(body)), int(binary.LittleEndian.Uint16(body[2:]))
				cell := xlsBool(body[6])
				if body[7] != 0 {
					cell = xlsError(body[6])
				}
				if row < maxImportRows+100 && col < maxImportColumns {
					out[i] = append(out[i], xlsFormula{row: row, col: col, cell: cell})
				}
			case id == recString && pending >= 0:
				if len(body) < 3 {
					return nil, bad
				}
				cch, chars := int(binary.LittleEndian.Uint16(body)), body[3:]
				// A text too long for one record (it goes on in CONTINUE
				// records) is no ledger value.
				long := Errorf(EINVALID, "表中第%d行有公式算出的过长文字，%s", out[i][pending].row+1, msgSaveAsXLSX)
				var text string
				if body[2]&1 != 0 { // UTF-16LE
					if len(chars) < 2*cch {
						return nil, long
					}
					u := make([]uint16, cch)
					for k := range u {
						u[k] = binary.LittleEndian.Uint16(chars[2*k:])
					}
					text = string(utf16.Decode(u))
				} else { // one byte a character: Latin-1
					if len(chars) < cch {
						return nil, long
					}
					r := make([]rune, cch)
					for k := range r {
						r[k] = rune(chars[k])
					}
					text = string(r)
				}
				if strings.TrimSpace(text) != "" {
					out[i][pending].cell = Cell{Text: text, Kind: CellText}
				}
				pending = -1
			}
		}
	}
	return out, nil
}

// xlsError is an error value (#N/A…) as the .xlsx reader gives it.
func xlsError(code byte) Cell {
	text, ok := map[byte]string{0x00: "#NULL!", 0x07: "#DIV/0!", 0x0F: "#VALUE!", 0x17: "#REF!", 0x1D: "#NAME?", 0x24: "#NUM!", 0x2A: "#N/A"}[code]
	if !ok {
		return Cell{}
	}
	return Cell{Text: text, Kind: CellText}
}

// xlsBool is a TRUE/FALSE cell as the .xlsx reader gives it.
func xlsBool(b byte) Cell {
	if b != 0 {
		return Cell{Text: "1", Kind: CellText}
	}
	return Cell{Text: "0", Kind: CellText}
}

// checkCompoundFile checks the container of an .xls file (MS-CFB) before
// the reader sees it: the reader follows sector chains without bounds (a
// loop in a damaged file never ends) and stops the whole program on a
// sector number past its table. Only what a real Excel 97–2003 file has
// passes: 512-byte sectors, chains that end, and a Workbook stream, which
// it returns. small reports a Workbook stream under 4 KiB, kept in the
// file's mini stream (LibreOffice saves a sheet of a few rows so).
func checkCompoundFile(data []byte) (book []byte, small bool, err error) {
	bad := Errorf(EINVALID, "该 .xls 文件已损坏或不是 Excel 97–2003 格式，%s", msgSaveAsXLSX)
	if len(data) < 1024 || len(data)%512 != 0 && len(data) < 4096 {
		return nil, false, bad
	}
	u16 := func(o int) uint32 { return uint32(binary.LittleEndian.Uint16(data[o:])) }
	u32 := func(o int) uint32 { return binary.LittleEndian.Uint32(data[o:]) }
	const endOfChain, freeSect = 0xFFFFFFFE, 0xFFFFFFFF
	if u16(0x1C) != 0xFFFE || u16(0x1E) != 9 || u16(0x20) != 6 {
		return nil, false, bad // byte order, 512-byte sectors, 64-byte mini sectors
	}
	sectors := uint32((len(data) - 512 + 511) / 512)
	sector := func(id uint32) []byte {
		start := 512 + int(id)*512
		end := min(start+512, len(data))
		return data[start:end]
	}
	nFAT, firstDir, cutoff := u32(0x2C), u32(0x30), u32(0x38)
	firstDIFAT, nDIFAT := u32(0x44), u32(0x48)
	if nFAT == 0 || nFAT > sectors || nDIFAT > sectors || cutoff != 4096 {
		return nil, false, bad
	}
	var fatSectors []uint32
	for i := uint32(0); i < min(nFAT, 109); i++ {
		fatSectors = append(fatSectors, u32(0x4C+4*int(i)))
	}
	// The reader walks the DIFAT chain to its end and reads every entry.
	seen := map[uint32]bool{}
	for id, n := firstDIFAT, uint32(0); id != endOfChain; n++ {
		if id >= sectors || seen[id] || n >= nDIFAT {
			return nil, false, bad
		}
		seen[id] = true
		sec := sector(id)
		if len(sec) < 512 {
			return nil, false, bad
		}
		for k := 0; k < 127; k++ {
			if v := binary.LittleEndian.Uint32(sec[4*k:]); v != freeSect {
				fatSectors = append(fatSectors, v)
			}
		}
		id = binary.LittleEndian.Uint32(sec[508:])
	}
	var fat []uint32
	for _, id := range fatSectors {
		if id >= sectors {
			return nil, false, bad
		}
		sec := sector(id)
		for k := 0; k+4 <= len(sec); k += 4 {
			fat = append(fat, binary.LittleEndian.Uint32(sec[k:]))
		}
	}
	// chain checks that a chain ends, stays in the file and the table, and
	// holds at least size bytes.
	chain := func(start, size uint32) bool {
		seen := map[uint32]bool{}
		n := uint32(0)
		for id := start; id != endOfChain; id = fat[id] {
			if id >= sectors || int(id) >= len(fat) || seen[id] {
				return false
			}
			seen[id] = true
			n++
		}
		return uint64(n)*512 >= uint64(size)
	}
	if !chain(firstDir, 0) {
		return nil, false, bad
	}
	var dir []byte
	for id := firstDir; id != endOfChain; id = fat[id] {
		dir = append(dir, sector(id)...)
	}
	var mini []byte // the root entry's stream: the mini sectors
	for o := 0; o+128 <= len(dir); o += 128 {
		e := dir[o : o+128]
		typ := e[66]
		if typ == 0 {
			break
		}
		nameLen := int(binary.LittleEndian.Uint16(e[64:]))
		if nameLen < 2 || nameLen > 64 {
			return nil, false, bad
		}
		name := string(utf16.Decode(func() []uint16 {
			u := make([]uint16, nameLen/2-1)
			for k := range u {
				u[k] = binary.LittleEndian.Uint16(e[2*k:])
			}
			return u
		}()))
		start, size := binary.LittleEndian.Uint32(e[116:]), binary.LittleEndian.Uint32(e[120:])
		if o == 0 && typ == 5 && size > 0 { // the root entry
			if size > uint32(len(data)) || !chain(start, size) {
				return nil, false, bad
			}
			for id := start; id != endOfChain && uint32(len(mini)) < size; id = fat[id] {
				mini = append(mini, sector(id)...)
			}
			if uint32(len(mini)) < size {
				return nil, false, bad
			}
			mini = mini[:size]
		}
		if typ == 2 && (name == "Workbook" || name == "Book") {
			if size < cutoff {
				book, err := miniStream(data, fat, chain, sector, mini, start, size)
				if err != nil {
					return nil, false, bad
				}
				return book, true, nil
			}
			if !chain(start, size) {
				return nil, false, bad
			}
			book = make([]byte, 0, size)
			for id := start; id != endOfChain && uint32(len(book)) < size; id = fat[id] {
				book = append(book, sector(id)...)
			}
			if uint32(len(book)) < size {
				return nil, false, bad // the file ends inside its last sector
			}
			return book[:size], false, nil
		}
	}
	return nil, false, bad
}

// miniStream reads a stream of fewer than 4096 bytes from the mini stream:
// 64-byte mini sectors chained by the mini FAT (whose own sectors are
// chained by the FAT), every number checked against its table.
func miniStream(data []byte, fat []uint32, chain func(start, size uint32) bool, sector func(uint32) []byte, mini []byte, start, size uint32) ([]byte, error) {
	const endOfChain = 0xFFFFFFFE
	bad := errors.New("bad mini stream")
	first, count := binary.LittleEndian.Uint32(data[0x3C:]), binary.LittleEndian.Uint32(data[0x40:])
	if count == 0 || count > uint32(len(fat)) || !chain(first, count*512) {
		return nil, bad
	}
	var minifat []uint32
	for id := first; id != endOfChain; id = fat[id] {
		sec := sector(id)
		for k := 0; k+4 <= len(sec); k += 4 {
			minifat = append(minifat, binary.LittleEndian.Uint32(sec[k:]))
		}
	}
	n := uint32(len(mini) / 64)
	var out []byte
	seen := map[uint32]bool{}
	for id := start; id != endOfChain && uint32(len(out)) < size; id = minifat[id] {
		if id >= n || int(id) >= len(minifat) || seen[id] {
			return nil, bad
		}
		seen[id] = true
		out = append(out, mini[64*id:64*id+64]...)
	}
	if uint32(len(out)) < size {
		return nil, bad
	}
	return out[:size], nil
}

// compoundFileOf is the smallest MS-CFB file holding book as its Workbook
// stream, padded to 4096 bytes so it lies in ordinary sectors: sector 0
// the FAT, 1 the directory (root and Workbook), 2… the stream. The BIFF
// reader takes the zero padding as empty records after the last EOF.
func compoundFileOf(book []byte) []byte {
	const endOfChain, freeSect, fatSect, noStream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
	size := max(len(book), 4096)
	n := (size + 511) / 512
	out := make([]byte, 512*(3+n))
	le := binary.LittleEndian
	copy(out, []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1})
	le.PutUint16(out[0x18:], 0x3E)
	le.PutUint16(out[0x1A:], 3)
	le.PutUint16(out[0x1C:], 0xFFFE)
	le.PutUint16(out[0x1E:], 9)
	le.PutUint16(out[0x20:], 6)
	le.PutUint32(out[0x2C:], 1) // FAT sectors
	le.PutUint32(out[0x30:], 1) // first directory sector
	le.PutUint32(out[0x38:], 4096)
	le.PutUint32(out[0x3C:], endOfChain) // no mini FAT
	le.PutUint32(out[0x44:], endOfChain) // no DIFAT sectors
	for k := 0; k < 109; k++ {
		le.PutUint32(out[0x4C+4*k:], freeSect)
	}
	le.PutUint32(out[0x4C:], 0)
	fat := out[512:1024]
	for k := 0; k < 128; k++ {
		v := uint32(freeSect)
		switch {
		case k == 0:
			v = fatSect
		case k == 1 || k == 1+n:
			v = endOfChain
		case k > 1 && k < 1+n:
			v = uint32(k + 1)
		}
		le.PutUint32(fat[4*k:], v)
	}
	entry := func(e []byte, name string, typ byte, child, start uint32, size int) {
		u := utf16.Encode([]rune(name))
		for k, c := range u {
			le.PutUint16(e[2*k:], c)
		}
		le.PutUint16(e[64:], uint16(2*len(u)+2))
		e[66], e[67] = typ, 1 // black
		le.PutUint32(e[68:], noStream)
		le.PutUint32(e[72:], noStream)
		le.PutUint32(e[76:], child)
		le.PutUint32(e[116:], start)
		le.PutUint32(e[120:], uint32(size))
	}
	dir := out[1024:1536]
	entry(dir[0:128], "Root Entry", 5, 1, endOfChain, 0)
	entry(dir[128:256], "Workbook", 2, noStream, 2, size)
	copy(out[1536:], book)
	return out
}

// rkValue decodes an RK number: an integer or the top of a double, maybe
// multiplied by 100.
func rkValue(rk uint32) float64 {
	var f float64
	if rk&2 != 0 {
		f = float64(int32(rk) >> 2)
	} else {
		f = math.Float64frombits(uint64(rk&^3) << 32)
	}
	if rk&1 != 0 {
		f /= 100
	}
	return f
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

// readCSV reads a CSV file saved by Excel or WPS: UTF-8 with or without a
// byte-order mark, or GBK/GB18030 as Excel on Chinese Windows saves it;
// comma, semicolon or tab separated.
func readCSV(data []byte) (Table, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if bytes.IndexByte(data, 0) >= 0 {
		return Table{}, Errorf(EINVALID, "该文件不是 CSV 文本（可能是改了扩展名的 Excel 文件），%s", msgSaveAsXLSX)
	}
	if !utf8.Valid(data) {
		dec, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
		if err != nil || !utf8.Valid(dec) {
			return Table{}, Errorf(EINVALID, "CSV 文件编码无法识别，请另存为 UTF-8 或 .xlsx")
		}
		data = dec
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = sniffComma(data)
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	var t Table
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		} else if err != nil {
			line, _ := r.FieldPos(0)
			return Table{}, Errorf(EINVALID, "CSV 文件第%d行格式错误，请用Excel打开后另存为 .xlsx", line)
		}
		if len(t.Rows) >= maxImportRows+100 {
			return Table{}, Errorf(EINVALID, "CSV 文件超过%d行，请分开导入", maxImportRows)
		}
		if len(rec) > maxImportColumns {
			rec = rec[:maxImportColumns]
		}
		row := make([]Cell, len(rec))
		for j, v := range rec {
			// Excel writes ="0123" to keep leading zeros in CSV.
			if strings.HasPrefix(v, `="`) && strings.HasSuffix(v, `"`) && len(v) >= 3 {
				v = v[2 : len(v)-1]
			}
			if strings.TrimSpace(v) != "" {
				row[j] = Cell{Text: strings.Clone(v), Kind: CellText}
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

// sniffComma picks the separator from the first lines: the one that
// occurs most of comma, semicolon and tab.
func sniffComma(data []byte) rune {
	head := data
	if len(head) > 4096 {
		head = head[:4096]
	}
	best, n := ',', bytes.Count(head, []byte(","))
	for _, c := range []rune{';', '\t'} {
		if k := bytes.Count(head, []byte(string(c))); k > n {
			best, n = c, k
		}
	}
	return best
}

// columnLetter is the spreadsheet letter of a 0-based column index.
func columnLetter(i int) string {
	s, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return fmt.Sprint(i + 1)
	}
	return s
}
