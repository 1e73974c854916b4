package print_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
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

// village opens a village node with its case service.
func village(t *testing.T) (*bolt.Store, appliance.Config, *bolt.Cases) {
	t.Helper()
	s, cfg := openNode(t, appliance.Node{Role: appliance.NodeVillage, Code: "410184104201", Name: "杏花村"})
	cs, err := bolt.NewCases(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, cfg, cs
}

// copyDown gives the village what the town's downward feed for it
// carries, as replication would.
func copyDown(t *testing.T, ts, vs *bolt.Store, village string, now time.Time) {
	t.Helper()
	if _, err := ts.CopyDown(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	down, err := ts.DownFeed(village)
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
}

// kioskCase registers a case as the kiosk does and returns its receipt.
func kioskCase(t *testing.T, cs *bolt.Cases) bolt.Receipt {
	t.Helper()
	r, err := cs.RegisterCase(context.Background(), "", bolt.CaseIntake{Category: "livelihood", Source: appliance.SourceKiosk, Description: "村口路灯不亮"})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A village's notice board prints its town's duty roster too, as the
// town's downward feed brought it.
func TestNoticeBoardTownDuty(t *testing.T) {
	ctx := context.Background()
	vs, vcfg, _ := village(t)
	ts, _ := openNode(t, appliance.Node{Role: appliance.NodeTown, Code: "410184104000", Name: "龙湖镇"})
	if err := ts.Enrol(ctx, "u-admin", appliance.Enrolment{Key: vs.Feed().String(), Code: "410184104201", Name: "杏花村", Role: appliance.NodeVillage}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(vcfg.Location())
	today := now.Format("2006-01-02")
	if err := ts.SetDuty(ctx, "u-admin", appliance.DutyShift{Grid: "410184104000", Date: today, Shift: "全天", StaffID: "410184104000-s01", Name: "钱守信", Phone: "13900003333"}); err != nil {
		t.Fatal(err)
	}
	copyDown(t, ts, vs, "410184104201", now)
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

// The register names each case's responsible person: the one it was given
// to when accepted (承办人), or the departments it was dispatched to.
func TestRegisterAssignees(t *testing.T) {
	ctx := context.Background()
	s, cfg, cs := village(t)
	var codes []string
	for _, who := range []string{"张海涛", ""} {
		r, err := cs.RegisterCase(ctx, "u-admin", bolt.CaseIntake{Category: "livelihood", Source: appliance.SourcePhone, Description: "村口路灯不亮，晚上出行不便"})
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, r.Code)
		if who != "" {
			if _, err := cs.Act(ctx, "u-admin", appliance.LevelsOf(appliance.NodeVillage), appliance.CaseStep{Case: r.Code, Action: appliance.CaseAssign, Assignee: who}); err != nil {
				t.Fatal(err)
			}
		}
	}
	ps, err := print.NewService(s, cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, pdf, err := ps.Render(ctx, appliance.PrintRequest{Kind: "register", Span: "day"})
	if err != nil {
		t.Fatal(err)
	}
	// The assigned case's row holds the name; the other's responsible cell is
	// empty, and the day is not closed.
	text := pdfText(t, pdf, 0, 0)
	wantText(t, text, "责任人", "张海涛", "合计 2 件", "本台账尚未关账。")
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, codes[0]) && !strings.Contains(l, "张海涛") {
			t.Errorf("row of %s lacks its assignee: %q", codes[0], l)
		}
	}
}

// A case's receipt carries its lookup PIN, the one the kiosk asks for.
func TestReceiptPIN(t *testing.T) {
	ctx := context.Background()
	s, cfg, cs := village(t)
	r := kioskCase(t, cs)
	ps, err := print.NewService(s, cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, paper := range []string{"roll", "a5"} {
		_, pdf, err := ps.Render(ctx, appliance.PrintRequest{Kind: "receipt", Case: r.Code, Paper: paper})
		if err != nil {
			t.Fatal(err)
		}
		wantText(t, pdfText(t, pdf, 0, 0), r.Code, "查询密码"+r.PIN, "不要告诉他人")
	}
	// The PIN printed opens the case at the kiosk's lookup.
	if c, err := cs.Track(r.Code, r.PIN); err != nil || c.ID != r.Code {
		t.Fatalf("Track(code, printed PIN) = %v, %v", c, err)
	}
}

// Each document kind goes to its own printer: receipts to the thermal
// printer (A5 receipts to the laser), the rest to the laser; the print page
// sees each printer's state.
func TestPrintersByKind(t *testing.T) {
	mustCUPS(t)
	laser, thermal := testQueue+"_laser", testQueue+"_thermal"
	mustQueue(t, laser)
	mustQueue(t, thermal)
	ctx := context.Background()
	s, cfg, cs := village(t)
	r := kioskCase(t, cs)
	cfg.Print.Printer = laser
	cfg.Print.Printers = map[string]string{"receipt": thermal, "receipt-a5": laser}
	ps, err := print.NewService(s, cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		req          appliance.PrintRequest
		queue, media string
	}{
		{appliance.PrintRequest{Kind: "receipt", Case: r.Code}, thermal, "Custom.80x"},
		{appliance.PrintRequest{Kind: "receipt", Case: r.Code, Paper: "a5"}, laser, "A5"},
		{appliance.PrintRequest{Kind: "notice", Paper: "a3"}, laser, "A3"},
		{appliance.PrintRequest{Kind: "register", Span: "day"}, laser, "A4"},
	} {
		j, err := ps.Print(ctx, tt.req)
		if err != nil {
			t.Fatal(err)
		}
		if j.Queue != tt.queue || !strings.HasPrefix(j.CUPSID, tt.queue+"-") || !strings.HasPrefix(j.Media, tt.media) {
			t.Errorf("%s %s: job on %s (%s) with media %q, want %s and %s", tt.req.Kind, tt.req.Paper, j.Queue, j.CUPSID, j.Media, tt.queue, tt.media)
		}
	}
	for _, d := range ps.Documents() {
		if want := map[string]string{"receipt": thermal}[d.Kind]; d.Queue != or(want, laser) {
			t.Errorf("document %s prints to %q", d.Kind, d.Queue)
		}
	}
	// A printer stopped: the page sees it, the other goes on.
	sh(t, "cupsdisable", "-r", "缺纸", thermal)
	t.Cleanup(func() { exec.Command("cupsenable", thermal).Run() })
	got := map[string]appliance.PrinterStatus{}
	for _, p := range ps.Printers(ctx) {
		got[p.Queue] = p
	}
	if p := got[thermal]; p.Ready || !strings.Contains(p.Reason, "打印机已停用") || strings.Join(p.Kinds, ",") != "receipt" {
		t.Errorf("thermal printer = %+v", p)
	}
	if p := got[laser]; !p.Ready || strings.Join(p.Kinds, ",") != "*,receipt-a5" {
		t.Errorf("laser printer = %+v", p)
	}
	if p := ps.PrinterFor(ctx, "receipt", "roll"); p.Queue != thermal || p.Ready {
		t.Errorf("receipts' printer = %+v", p)
	}
	// A printer for a kind the node does not print is refused at start.
	cfg.Print.Printers = map[string]string{"recipt": thermal}
	if _, err := print.NewService(s, cfg, t.TempDir()); err == nil || !strings.Contains(err.Error(), "recipt") {
		t.Errorf("a misspelt document kind: %v", err)
	}
}

func or(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// The QR codes on cards and receipts work at the kiosk and on a phone: a
// link to the box's public address, or to its town's, holding the signed
// token the kiosk reads from it; with no address configured the bare token,
// and the paper says to scan at the village's kiosk.
func TestQRContent(t *testing.T) {
	ctx := context.Background()
	vs, vcfg, cs := village(t)
	ts, _ := openNode(t, appliance.Node{Role: appliance.NodeTown, Code: "410184104000", Name: "龙湖镇"})
	group := appliance.GroupCode(vcfg.Node.Code, 1)
	if err := vs.SetGrid(ctx, "u-admin", appliance.Grid{Code: group, Level: appliance.LevelGroup, Name: "第一村民组", Parent: vcfg.Node.Code}); err != nil {
		t.Fatal(err)
	}
	hid, err := vs.CreateHousehold(ctx, "u-admin", appliance.Household{Group: group, Address: "杏花村1组", HouseNo: "1号"},
		[]appliance.Person{{Name: "王建国", Relation: appliance.RelationHead, Gender: "男", Birth: "1960-03-01"}})
	if err != nil {
		t.Fatal(err)
	}
	r := kioskCase(t, cs)
	local, err := appliance.NewTokenSigner(vs.Secret())
	if err != nil {
		t.Fatal(err)
	}
	townSecret, err := ts.Signer().QRSecret(vs.Feed())
	if err != nil {
		t.Fatal(err)
	}
	town, _ := appliance.NewTokenSigner(townSecret)
	render := func(cfg appliance.Config, req appliance.PrintRequest) ([]byte, error) {
		ps, err := print.NewService(vs, cfg, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		_, pdf, err := ps.Render(ctx, req)
		return pdf, err
	}
	card := appliance.PrintRequest{Kind: "card", Household: hid, Paper: "single"}
	receipt := appliance.PrintRequest{Kind: "receipt", Case: r.Code}
	decode := func(pdf []byte) string {
		t.Helper()
		got := qrCodes(t, writeTemp(t, pdf), 1)
		if len(got) != 1 {
			t.Fatalf("QR codes %q", got)
		}
		return got[0]
	}

	t.Run("KioskOnly", func(t *testing.T) {
		pdf, err := render(vcfg, card)
		if err != nil {
			t.Fatal(err)
		}
		if got := decode(pdf); got != local.Sign(bolt.TokenHousehold, hid) {
			t.Errorf("card QR %q, want the bare token", got)
		}
		wantText(t, pdfText(t, pdf, 0, 0), "请到村便民服务终端扫码")
		pdf, err = render(vcfg, receipt)
		if err != nil {
			t.Fatal(err)
		}
		wantText(t, pdfText(t, pdf, 0, 0), "在村便民服务终端扫描二维码")
	})
	t.Run("PublicURL", func(t *testing.T) {
		cfg := vcfg
		cfg.Print.PublicURL = "https://xinghua.example.cn"
		for _, tt := range []struct {
			req  appliance.PrintRequest
			kind byte
			id   string
		}{{card, bolt.TokenHousehold, hid}, {receipt, bolt.TokenCase, r.Code}} {
			pdf, err := render(cfg, tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := decode(pdf), "https://xinghua.example.cn/scan?token="+local.Sign(tt.kind, tt.id); got != want {
				t.Errorf("%s QR %q, want %q", tt.req.Kind, got, want)
			}
			if strings.Contains(pdfText(t, pdf, 0, 0), "请到村便民服务终端扫码") {
				t.Errorf("%s: a phone's code says to go to the kiosk", tt.req.Kind)
			}
		}
		cfg.Print.PublicURL = ""
	})
	t.Run("TownURL", func(t *testing.T) {
		cfg := vcfg
		cfg.Print.TownURL = "https://longhu.example.cn"
		if _, err := render(cfg, card); appliance.ErrorCode(err) != appliance.EINVALID || !strings.Contains(err.Error(), "parent_key") {
			t.Fatalf("town link without the town's key: %v", err)
		}
		cfg.Replicate.ParentKey = ts.Feed().String()
		pdf, err := render(cfg, card)
		if err != nil {
			t.Fatal(err)
		}
		got := decode(pdf)
		token, ok := strings.CutPrefix(got, "https://longhu.example.cn/scan?token=")
		if !ok {
			t.Fatalf("card QR %q, want a link to the town", got)
		}
		// The town checks it with its own key and the village's public one.
		if k, id, err := town.Verify(token); err != nil || k != bolt.TokenHousehold || id != hid {
			t.Fatalf("town verify = %c %q %v", k, id, err)
		}
		if _, _, err := local.Verify(token); err == nil {
			t.Fatal("a code for the town verifies with the village's own secret")
		}
	})
}
