package print_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/print"
)

// openNode makes a node folder (like gridbox init) and opens it.
func openNode(t *testing.T, node appliance.Node) (*bolt.Store, appliance.Config) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), node.Code)
	if _, err := bolt.InitDataDir(context.Background(), dir, node, bolt.InitOptions{AdminPassword: "admin-pass-1"}); err != nil {
		t.Fatal(err)
	}
	s, cfg, err := bolt.OpenDataDir(dir, &bolt.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, cfg
}

// A village's notice board prints its town's duty roster too, as the
// town's downward feed brought it.
func TestNoticeBoardTownDuty(t *testing.T) {
	ctx := context.Background()
	vs, vcfg := openNode(t, appliance.Node{Role: appliance.NodeVillage, Code: "410184104201", Name: "杏花村"})
	ts, _ := openNode(t, appliance.Node{Role: appliance.NodeTown, Code: "410184104000", Name: "龙湖镇"})
	if err := ts.Enrol(ctx, "u-admin", appliance.Enrolment{Key: vs.Feed().String(), Code: "410184104201", Name: "杏花村", Role: appliance.NodeVillage}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(vcfg.Location())
	today := now.Format("2006-01-02")
	if err := ts.SetDuty(ctx, "u-admin", appliance.DutyShift{Grid: "410184104000", Date: today, Shift: "全天", StaffID: "410184104000-s01", Name: "钱守信", Phone: "13900003333"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.CopyDown(ctx, now); err != nil {
		t.Fatal(err)
	}
	down, err := ts.DownFeed("410184104201")
	if err != nil {
		t.Fatal(err)
	}
	es, err := ts.Entries(down, 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vs.IngestBatch(es); err != nil {
		t.Fatal(err)
	}
	ps, err := print.NewService(vs, vcfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, pdf, err := ps.Render(ctx, appliance.PrintRequest{Kind: "notice", Span: "week", From: today})
	if err != nil {
		t.Fatal(err)
	}
	wantText(t, pdfText(t, pdf, 0, 0), "杏花村便民服务公开栏", "乡镇值班", "钱守信 13900003333")

}
