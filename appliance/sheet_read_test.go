package appliance_test

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"gridbox/appliance"
)

func TestReadCSVEncodings(t *testing.T) {
	text := "姓名,身份证号\n李𠇔,=\"410184198703141236\"\n"
	gb18030, _ := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(text))
	gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("姓名;身份证号\n张三;410184198703141236\n"))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"UTF8", []byte(text), "李𠇔"},
		{"UTF8BOM", append([]byte("\ufeff"), text...), "李𠇔"},
		{"GB18030", gb18030, "李𠇔"}, // GB18030 has 𠇔; GBK does not
		{"GBKSemicolon", gbk, "张三"},
		{"Tabs", []byte("姓名\t身份证号\n王五\t410184198703141236\n"), "王五"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tables, err := appliance.ReadWorkbook("a.csv", tc.data)
			if err != nil {
				t.Fatal(err)
			}
			rows := tables[0].Rows
			if len(rows) != 2 || rows[0][0].Text != "姓名" || rows[1][0].Text != tc.want || rows[1][1].Text != "410184198703141236" || rows[1][1].Kind != appliance.CellText {
				t.Fatalf("rows: %+v", rows)
			}
		})
	}
	if _, err := appliance.ParseImportSheet("a.csv", []byte{0x81, 0x20, 0xff, 0xff, 0xfe}, appliance.ImportOptions{}); appliance.ErrorCode(err) != appliance.EINVALID {
		t.Fatalf("garbage: %v", err)
	}
	if _, err := appliance.ReadWorkbook("a.csv", []byte("PK\x03\x04\x00\x00")); appliance.ErrorCode(err) != appliance.EINVALID {
		t.Fatalf("binary: %v", err)
	}
}

// Number cells keep their kind: an ID typed into one is known as such.
func TestReadXLSXCellKinds(t *testing.T) {
	tables, err := appliance.ReadWorkbook("a.xlsx", xlsxBytes(t, [][]any{{"身份证号", "出生日期"}, {"410184198703141236", 31850}, {4.10184198703141e17, "1987.03.14"}}))
	if err != nil {
		t.Fatal(err)
	}
	r := tables[0].Rows
	if r[1][0].Kind != appliance.CellText || r[1][1].Kind != appliance.CellNumber || r[2][0].Kind != appliance.CellNumber || r[2][1].Kind != appliance.CellText {
		t.Fatalf("kinds: %+v", r)
	}
}

func xlsxBytes(tb testing.TB, rows [][]any) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &r); err != nil {
			tb.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
