package appliance_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gridbox/appliance"
)

// Seed corpora: testdata/fuzz/Fuzz*/ (sheets of the import corpus and
// hostile shapes). Run one with `go test ./appliance -run '^$' -fuzz FuzzImportCSV -fuzztime 30s`.

var fuzzGroups = []appliance.Grid{
	{Code: "410184104201-01", Name: "第一村民组", Level: appliance.LevelGroup},
	{Code: "410184104201-02", Name: "第二村民组", Level: appliance.LevelGroup},
}

// checkParsed holds what any parse must: rows numbered, every refusal with
// a code, field and message, and every row that is not refused a record
// the archive accepts.
func checkParsed(t *testing.T, sheet *appliance.ImportSheet, err error) {
	if err != nil {
		if appliance.ErrorCode(err) != appliance.EINVALID || appliance.ErrorMessage(err) == "" {
			t.Fatalf("error is not a user's: %v", err)
		}
		return
	}
	for _, r := range sheet.Rows {
		if r.Row < 1 || r.Sheet == "" && len(sheet.Sheets) > 1 {
			t.Fatalf("row without place: %+v", r)
		}
		for _, is := range r.Issues {
			if is.Code == "" || is.Message == "" || is.Level == appliance.LevelError && is.Field == "" {
				t.Fatalf("row %d: issue %+v", r.Row, is)
			}
		}
		if r.Refused() {
			continue
		}
		p := r.Person
		p.ID, p.Household = "x", "x"
		if err := p.Validate(); err != nil {
			t.Fatalf("row %d passed the sheet checks but not the archive's: %v (%+v)", r.Row, err, p)
		}
		if r.Key == "" {
			t.Fatalf("row %d has no household", r.Row)
		}
	}
}

func FuzzImportCSV(f *testing.F) {
	f.Add([]byte("姓名,身份证号,与户主关系,组别\n张三,410184198703141236,户主,1\n李四,无证,妻,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sheet, err := appliance.ParseImportSheet("f.csv", data, appliance.ImportOptions{Groups: fuzzGroups})
		checkParsed(t, sheet, err)
	})
}

func FuzzImportSheet(f *testing.F) {
	// Real WPS files and formula cells in .xls: the reader walks the
	// .xls records itself for these, and a small one's mini stream.
	files, _ := filepath.Glob("testdata/wps/*.*")
	for _, name := range append(files, "testdata/xls_formulas.xls", "testdata/lo_small.xls") {
		if data, err := os.ReadFile(name); err == nil && !strings.HasSuffix(name, ".md") {
			f.Add(data, !strings.HasSuffix(name, ".xlsx"))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, xls bool) {
		name := "f.xlsx"
		if xls {
			name = "f.xls"
		}
		sheet, err := appliance.ParseImportSheet(name, data, appliance.ImportOptions{Groups: fuzzGroups})
		checkParsed(t, sheet, err)
	})
}
