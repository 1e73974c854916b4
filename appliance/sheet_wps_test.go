package appliance_test

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"gridbox/appliance"
)

// Real files saved by WPS Office (testdata/wps, sources in SOURCES.md
// there): every cell the reader gives must be what the sheet's XML holds,
// read here without excelize, and its kind what the XML says it is.
func TestReadWPSFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/wps/*.xlsx")
	if len(files) < 10 {
		t.Fatalf("testdata/wps has %d .xlsx files, want the 10 or more listed in SOURCES.md", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := sheetsFromXML(t, data)
			if app := wpsApplication(t, data); !strings.Contains(app, "WPS") {
				t.Fatalf("docProps/app.xml names %q, not WPS: not a WPS file", app)
			}
			tables, err := appliance.ReadWorkbook(filepath.Base(file), data)
			if err != nil {
				t.Fatal(err)
			}
			if len(tables) != len(want) {
				t.Fatalf("%d tables, the workbook has %d sheets", len(tables), len(want))
			}
			for i, tb := range tables {
				w := want[i]
				if tb.Name != w.name {
					t.Errorf("table %d named %q, sheet is %q", i, tb.Name, w.name)
				}
				for ref, c := range w.cells {
					col, row, err := excelize.CellNameToCoordinates(ref)
					if err != nil {
						t.Fatal(err)
					}
					got := tb.Cell(row-1, col-1)
					if merged, ok := w.mergedInto[ref]; ok {
						c = w.cells[merged] // the reader fills a merge from its top-left cell
					}
					if got.Text != c.text || got.Kind != c.kind {
						t.Errorf("%s!%s: read %q kind %d, the XML holds %q kind %d", w.name, ref, got.Text, got.Kind, c.text, c.kind)
					}
				}
				// Nothing read that the XML does not hold.
				for r, cells := range tb.Rows {
					for c, cell := range cells {
						ref, _ := excelize.CoordinatesToCellName(c+1, r+1)
						if _, ok := w.cells[ref]; !ok && cell.Text != "" {
							if m, ok := w.mergedInto[ref]; !ok || w.cells[m].text != cell.Text {
								t.Errorf("%s!%s: read %q, the XML has no such cell", w.name, ref, cell.Text)
							}
						}
					}
				}
			}
		})
	}
}

// The .xls and .et (WPS's own name for the same Excel 97–2003 format)
// files WPS saved of the same books read as their .xlsx twins, whose cells
// TestReadWPSFiles checks against their XML; so do the formula cells of
// xls_formulas.xls (made by LibreOffice from a sheet whose 序号, 性别 and
// 出生日期 are formulas over the ID), which the .xls reader drops; so
// does lo_small.xls, a household sheet of four people that LibreOffice
// saved with its 2,655-byte Workbook stream in the mini stream (under
// 4 KiB), which was refused as damaged.
func TestReadXLSAsItsXLSXTwin(t *testing.T) {
	for _, tc := range [][2]string{
		{"wps/sj_write.xls", "wps/sj_write.xlsx"},
		{"wps/sj_write.et", "wps/sj_write.xlsx"},
		{"wps/sj_fn.xls", "wps/sj_fn.xlsx"},
		{"wps/sj_fn.et", "wps/sj_fn.xlsx"},
		{"xls_formulas.xls", "xls_formulas.xlsx"},
		{"lo_small.xls", "lo_small.xlsx"},
	} {
		t.Run(tc[0], func(t *testing.T) {
			read := func(name string) appliance.Table {
				data, err := os.ReadFile(filepath.Join("testdata", name))
				must(t, err)
				tables, err := appliance.ReadWorkbook(filepath.Base(name), data)
				must(t, err)
				if len(tables) == 0 {
					t.Fatalf("%s: no tables", name)
				}
				return tables[0]
			}
			xls, xlsx := read(tc[0]), read(tc[1])
			n := 0
			for r := 0; r < max(len(xls.Rows), len(xlsx.Rows)); r++ {
				for c := 0; c < maxImportColumnsInTest; c++ {
					a, b := xls.Cell(r, c), xlsx.Cell(r, c)
					if a != b {
						t.Errorf("row %d col %d: .xls %+v, .xlsx %+v", r+1, c+1, a, b)
					}
					if a.Text != "" {
						n++
					}
				}
			}
			if n == 0 {
				t.Fatal("no cells read")
			}
		})
	}
	// The formulas' results, not only the same in both.
	data, err := os.ReadFile("testdata/xls_formulas.xls")
	must(t, err)
	tables, err := appliance.ReadWorkbook("xls_formulas.xls", data)
	must(t, err)
	tb := tables[0]
	for _, w := range []struct {
		row, col int
		want     appliance.Cell
	}{
		{1, 0, appliance.Cell{Text: "1", Kind: appliance.CellNumber}},
		{1, 3, appliance.Cell{Text: "男", Kind: appliance.CellText}},
		{2, 3, appliance.Cell{Text: "女", Kind: appliance.CellText}},
		{1, 4, appliance.Cell{Text: "1950-01-01", Kind: appliance.CellText}},
		{1, 5, appliance.Cell{Text: "1", Kind: appliance.CellText}},
		{1, 6, appliance.Cell{Text: "#DIV/0!", Kind: appliance.CellText}},
		{2, 6, appliance.Cell{}},
		{40, 0, appliance.Cell{Text: "40", Kind: appliance.CellNumber}},
	} {
		if got := tb.Cell(w.row, w.col); got != w.want {
			t.Errorf("row %d col %d: %+v, want %+v", w.row+1, w.col+1, got, w.want)
		}
	}
}

const maxImportColumnsInTest = 30

type xmlCell struct {
	text string
	kind appliance.CellKind
}

type xmlSheet struct {
	name       string
	cells      map[string]xmlCell
	mergedInto map[string]string // cell → top-left cell of its merge
}

func wpsApplication(t *testing.T, data []byte) string {
	t.Helper()
	var app struct {
		Application string `xml:"Application"`
	}
	if err := xml.Unmarshal(zipPart(t, data, "docProps/app.xml"), &app); err != nil {
		t.Fatal(err)
	}
	return app.Application
}

// sheetsFromXML reads the worksheets' cells straight from the package's
// XML, as unzip -p shows them.
func sheetsFromXML(t *testing.T, data []byte) []xmlSheet {
	t.Helper()
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	must(t, xml.Unmarshal(zipPart(t, data, "xl/workbook.xml"), &wb))
	var rels struct {
		Rel []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	must(t, xml.Unmarshal(zipPart(t, data, "xl/_rels/workbook.xml.rels"), &rels))
	var sst []string
	if b := zipPartMaybe(t, data, "xl/sharedStrings.xml"); b != nil {
		var s struct {
			SI []struct {
				T string `xml:"t"`
				R []struct {
					T string `xml:"t"`
				} `xml:"r"`
			} `xml:"si"`
		}
		must(t, xml.Unmarshal(b, &s))
		for _, si := range s.SI {
			text := si.T
			for _, r := range si.R {
				text += r.T
			}
			sst = append(sst, text)
		}
	}
	var out []xmlSheet
	for _, s := range wb.Sheets {
		target := ""
		for _, r := range rels.Rel {
			if r.ID == s.RID {
				target = r.Target
			}
		}
		if strings.HasPrefix(target, "/") {
			target = target[1:]
		} else {
			target = path.Join("xl", target)
		}
		var ws struct {
			Rows []struct {
				C []struct {
					R  string `xml:"r,attr"`
					T  string `xml:"t,attr"`
					V  string `xml:"v"`
					F  string `xml:"f"`
					IS struct {
						T string `xml:"t"`
					} `xml:"is"`
				} `xml:"c"`
			} `xml:"sheetData>row"`
			Merges []struct {
				Ref string `xml:"ref,attr"`
			} `xml:"mergeCells>mergeCell"`
		}
		must(t, xml.Unmarshal(zipPart(t, data, target), &ws))
		x := xmlSheet{name: s.Name, cells: map[string]xmlCell{}, mergedInto: map[string]string{}}
		for _, r := range ws.Rows {
			for _, c := range r.C {
				var cell xmlCell
				switch c.T {
				case "s":
					i, err := strconv.Atoi(strings.TrimSpace(c.V))
					if err != nil || i >= len(sst) {
						t.Fatalf("%s: shared string %q", c.R, c.V)
					}
					cell = xmlCell{sst[i], appliance.CellText}
				case "inlineStr":
					cell = xmlCell{c.IS.T, appliance.CellText}
				case "", "n":
					cell = xmlCell{c.V, appliance.CellNumber}
				default: // str, b, e, d
					cell = xmlCell{c.V, appliance.CellText}
				}
				if strings.HasPrefix(strings.TrimPrefix(c.F, "_xlfn."), "DISPIMG(") {
					cell = xmlCell{} // a picture in the cell: it shows no text
				}
				if cell.text == "" {
					cell.kind = appliance.CellEmpty
				}
				x.cells[c.R] = cell
			}
		}
		for _, m := range ws.Merges {
			first, last, _ := strings.Cut(m.Ref, ":")
			c1, r1, _ := excelize.CellNameToCoordinates(first)
			c2, r2, _ := excelize.CellNameToCoordinates(last)
			for r := r1; r <= r2; r++ {
				for c := c1; c <= c2; c++ {
					if ref, _ := excelize.CoordinatesToCellName(c, r); ref != first {
						x.mergedInto[ref] = first
					}
				}
			}
		}
		out = append(out, x)
	}
	return out
}

func zipPartMaybe(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	must(t, err)
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			must(t, err)
			defer rc.Close()
			b, err := io.ReadAll(rc)
			must(t, err)
			return b
		}
	}
	return nil
}

func zipPart(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	b := zipPartMaybe(t, data, name)
	if b == nil {
		t.Fatalf("no %s in the package", name)
	}
	return b
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// An .xls with a password (WPS and Excel both offer one) is refused with
// what to do, not read as garbage: here the WINDOW1 record of a real file
// renamed FILEPASS, as an encrypted file has among its first records.
func TestReadXLSWithPassword(t *testing.T) {
	data, err := os.ReadFile("testdata/xls_formulas.xls")
	must(t, err)
	window1 := []byte{0x3D, 0x00, 0x12, 0x00}
	if bytes.Count(data, window1) != 1 {
		t.Fatal("the file's WINDOW1 record is not where the test expects")
	}
	data = bytes.Replace(data, window1, []byte{0x2F, 0x00, 0x12, 0x00}, 1)
	_, err = appliance.ReadWorkbook("a.xls", data)
	if appliance.ErrorCode(err) != appliance.EINVALID || !strings.Contains(appliance.ErrorMessage(err), "密码") {
		t.Fatalf("err = %v, want the refusal naming the password", err)
	}
}
