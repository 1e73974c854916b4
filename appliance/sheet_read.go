package appliance

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	xlsr "github.com/shakinm/xlsReader/xls"
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
	wb, err := xlsr.OpenReader(bytes.NewReader(data))
	if err != nil {
		return nil, Errorf(EINVALID, "无法读取该 .xls 文件（%s），%s", shortErr(err), msgSaveAsXLSX)
	}
	for i := 0; i < wb.GetNumberSheets(); i++ {
		s, err := wb.GetSheet(i)
		if err != nil {
			return nil, Errorf(EINVALID, "无法读取该 .xls 文件的第%d个工作表，%s", i+1, msgSaveAsXLSX)
		}
		n := s.GetNumberRows()
		if n > maxImportRows+100 {
			return nil, Errorf(EINVALID, "工作表“%s”超过%d行，请分开导入", s.GetName(), maxImportRows)
		}
		t := Table{Name: s.GetName(), Rows: make([][]Cell, n)}
		for r := 0; r < n; r++ {
			row, err := s.GetRow(r)
			if err != nil {
				continue
			}
			cols := row.GetCols()
			if len(cols) > maxImportColumns {
				cols = cols[:maxImportColumns]
			}
			cells := make([]Cell, len(cols))
			for j, c := range cols {
				if c == nil {
					continue
				}
				v := c.GetString()
				kind := CellText
				switch strings.TrimPrefix(c.GetType(), "*record.") {
				case "Blank", "FakeBlank", "MulBlank":
					kind, v = CellEmpty, ""
				case "Number", "Rk", "MulRk":
					kind = CellNumber
					v = strconv.FormatFloat(c.GetFloat64(), 'G', -1, 64)
					if f := c.GetFloat64(); f == math.Trunc(f) && math.Abs(f) < 1e15 {
						v = strconv.FormatFloat(f, 'f', -1, 64)
					}
				case "BoolErr":
					kind = CellBool
				}
				if v == "" {
					kind = CellEmpty
				}
				cells[j] = Cell{Text: v, Kind: kind}
			}
			t.Rows[r] = cells
		}
		out = append(out, t)
	}
	return out, nil
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
