package bolt_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// townSheet is a 5,000-person sheet as a township keeps it: 12 groups,
// ~1,670 households of three, the clerk's fifteen columns, 户号, 组别 and
// 户主姓名 merged over each household, one row in fifty with a fault.
func townSheet(tb testing.TB, people int) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	const sh = "Sheet1"
	sw, err := f.NewStreamWriter(sh)
	must(tb, err)
	must(tb, sw.SetRow("A1", []any{"龙湖镇户籍台账"}))
	must(tb, sw.SetRow("A2", []any{"序号", "组别", "户号", "户主姓名", "姓名", "与户主关系", "性别", "身份证号码", "出生日期", "联系电话", "是否低保", "医保类型", "健康状况", "外出务工地点", "备注"}))
	rels := []string{"户主", "妻", "长子"}
	row := 3
	for i := 0; i < people; i++ {
		h, k := i/3, i%3
		male := k != 1
		birth := ymd(1940+h%60, 1+i%12, 1+i%28)
		id := appliance.MakeCitizenID("410184", birth, i%1000, male)
		if i%50 == 49 {
			id = id[:17] + map[bool]string{true: "1", false: "2"}[id[17] != '1'] // a typing error
		}
		group, no, head := "", "", ""
		if k == 0 {
			group, no, head = fmt.Sprintf("%d组", 1+h%12), strconv.Itoa(h+1), fmt.Sprintf("%c%s", benchSurnames[h%len(benchSurnames)], benchGiven[h%len(benchGiven)])
		}
		name := head
		if k > 0 {
			name = fmt.Sprintf("%c%s", benchSurnames[(h+k*7)%len(benchSurnames)], benchGiven[(i*3)%len(benchGiven)])
		}
		away := ""
		if k == 2 && h%4 == 0 {
			away = "广东东莞"
		}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		must(tb, sw.SetRow(cell, []any{i + 1, group, no, head, name, rels[k], map[bool]string{true: "男", false: "女"}[male], id,
			birth.Format("2006.01.02"), fmt.Sprintf("139%08d", i), "否", "城乡居民医保", []string{"健康", "良好", "一般"}[i%3], away, ""}))
		if k == 2 {
			for _, col := range []string{"B", "C", "D"} {
				must(tb, sw.MergeCell(fmt.Sprintf("%s%d", col, row-2), fmt.Sprintf("%s%d", col, row)))
			}
		}
		row++
	}
	must(tb, sw.Flush())
	var buf bytes.Buffer
	must(tb, f.Write(&buf))
	return buf.Bytes()
}

// peakRSS resets the process's peak resident size, runs fn and returns the
// peak in MiB while it ran (Linux: /proc/self/clear_refs, VmHWM).
func peakRSS(tb testing.TB, fn func()) float64 {
	runtime.GC()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		tb.Skipf("cannot reset peak RSS: %v", err)
	}
	fn()
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		tb.Skip(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	tb.Skip("no VmHWM")
	return 0
}

// BenchmarkImportTown: a 5,000-person sheet, parsed and planned (the dry
// run), and parsed, planned and written in one transaction (the commit,
// into an empty archive with fsync), with the peak resident memory.
func BenchmarkImportTown(b *testing.B) {
	const people = 5000
	data := townSheet(b, people)
	b.Logf("sheet: %d people, %.1f MB", people, float64(len(data))/1e6)
	setup := func(b *testing.B) (*bolt.Store, appliance.ImportOptions) {
		_, key, _ := ed25519.GenerateKey(nil)
		s, err := bolt.Open(filepath.Join(b.TempDir(), "gridbox.db"), key, nil) // fsync on, as on the box
		must(b, err)
		b.Cleanup(func() { s.Close() })
		ctx := context.Background()
		must(b, s.SetGrid(ctx, "u-admin", appliance.Grid{Code: "410184104000", Level: 1, Name: "龙湖镇"}))
		must(b, s.SetGrid(ctx, "u-admin", appliance.Grid{Code: hhVillage, Level: 2, Name: "杏花村", Parent: "410184104000"}))
		for i := 1; i <= 12; i++ {
			must(b, s.SetGrid(ctx, "u-admin", appliance.Grid{Code: appliance.GroupCode(hhVillage, i), Level: 3, Name: fmt.Sprintf("第%d村民组", i), Parent: hhVillage}))
		}
		return s, appliance.ImportOptions{Groups: groupsOf(b, s)}
	}
	b.Run("DryRun", func(b *testing.B) {
		s, opt := setup(b)
		peak := 0.0
		for i := 0; i < b.N; i++ {
			peak = max(peak, peakRSS(b, func() {
				sheet, err := appliance.ParseImportSheet("town.xlsx", data, opt)
				must(b, err)
				plan, err := s.DryRunImport(sheet, hhVillage)
				must(b, err)
				if t := plan.Totals; t.People+t.RefusedRows+t.HeldRows != people || t.RefusedRows != people/50 {
					b.Fatalf("totals: %+v", plan.Totals)
				}
			}))
		}
		b.ReportMetric(peak, "peak-RSS-MiB")
	})
	b.Run("Commit", func(b *testing.B) {
		peak := 0.0
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			s, opt := setup(b)
			b.StartTimer()
			peak = max(peak, peakRSS(b, func() {
				sheet, err := appliance.ParseImportSheet("town.xlsx", data, opt)
				must(b, err)
				plan, err := s.CommitImport(context.Background(), "u-clerk", sheet, hhVillage)
				must(b, err)
				if t := plan.Totals; t.NewPeople+t.RefusedRows+t.HeldRows != people || t.RefusedRows != people/50 {
					b.Fatalf("totals: %+v", plan.Totals)
				}
			}))
		}
		b.ReportMetric(peak, "peak-RSS-MiB")
	})
}
