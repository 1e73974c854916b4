package main_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// demoFacts is what the print tests need to know of the demo village, read
// from its store before the node starts.
type demoFacts struct {
	village, villageName string
	group, groupName     string
	leader               appliance.StaffMember
	first                appliance.Household // first household of group
	other                appliance.Household // a household of another group
	groupHouseholds      int                 // open households of group
	head                 string              // its head's name
	caseCode, category   string              // an open case of first
	pin                  string              // its lookup PIN
	categoryKey          string
	households           int      // open households of the village
	private              []string // every member name, ID number and phone of the village
	tokens               *appliance.TokenSigner
}

func demoPrintFacts(t *testing.T, data string) demoFacts {
	t.Helper()
	s, cfg, err := bolt.OpenDataDir(data, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	f := demoFacts{village: cfg.Node.Code, villageName: cfg.Node.Name}
	if f.tokens, err = appliance.NewTokenSigner(s.Secret()); err != nil {
		t.Fatal(err)
	}
	groups, err := s.FindGrids(appliance.GridFilter{Parent: &f.village})
	if err != nil || len(groups) == 0 {
		t.Fatal(err, len(groups))
	}
	f.group, f.groupName = groups[0].Code, groups[0].Name
	leaders, err := s.FindStaff(appliance.StaffFilter{Grid: &f.group, Duty: ptr(appliance.DutyGridLeader)})
	if err != nil || len(leaders) == 0 {
		t.Fatal(err, len(leaders))
	}
	f.leader = leaders[0]
	all, err := s.Households(appliance.ScopePrefix(f.village), 0, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range all {
		if h.Closed != "" {
			continue
		}
		f.households++
		if h.Group == f.group {
			f.groupHouseholds++
		} else if f.other.ID == "" {
			f.other = h
		}
		_, ms, err := s.Household(h.ID)
		if err != nil {
			t.Fatal(err)
		}
		if h.Group == f.group && f.first.ID == "" {
			f.first = h
			for _, m := range ms {
				if m.ID == h.Head {
					f.head = m.Name
				}
			}
		}
		for _, m := range ms {
			f.private = append(f.private, m.Name, m.Phone, m.IDNumber())
		}
		f.private = append(f.private, h.Phone)
	}
	if f.first.ID == "" || f.head == "" {
		t.Fatal("no household in the first group")
	}
	// A case reported for that household, as a grid worker would.
	cs, err := bolt.NewCases(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cat := cfg.Cases.Categories[0]
	r, err := cs.RegisterCase(context.Background(), "", bolt.CaseIntake{Category: cat.Key, Description: "院墙裂缝需要查看",
		Source: appliance.SourcePatrol, Group: f.group, Household: f.first.ID})
	if err != nil {
		t.Fatal(err)
	}
	f.caseCode, f.category, f.categoryKey, f.pin = r.Code, cat.Name, cat.Key, r.PIN
	return f
}

func ptr[T any](v T) *T { return &v }

// pdfText writes pdf to a file and reads its text back with pdftotext.
func pdfText(t *testing.T, name, pdf string) (string, string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), name+".pdf")
	if err := os.WriteFile(f, []byte(pdf), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext %s: %v", name, err)
	}
	return string(out), f
}

// pdfPages is pdfinfo's page count of a PDF file.
func pdfPages(t *testing.T, file string) int {
	t.Helper()
	out, err := exec.Command("pdfinfo", file).Output()
	if err != nil {
		t.Fatalf("pdfinfo %s: %v", file, err)
	}
	m := regexp.MustCompile(`Pages:\s+(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("pdfinfo %s: no page count", file)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// pdfQR renders the first page at 150 dpi and decodes its QR codes.
func pdfQR(t *testing.T, file string) []string {
	t.Helper()
	prefix := filepath.Join(t.TempDir(), "page")
	if out, err := exec.Command("pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", file, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	pngs, _ := filepath.Glob(prefix + "*.png")
	if len(pngs) != 1 {
		t.Fatalf("pdftoppm made %v", pngs)
	}
	out, err := exec.Command("zbarimg", "-q", "--raw", pngs[0]).Output()
	if err != nil {
		t.Fatalf("zbarimg %s: %v", file, err)
	}
	return strings.Fields(string(out))
}

func kioskGet(t *testing.T, base, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// TestPrintDocumentsFromDemo makes every document the node prints from its
// own data, reads them back, decodes the QR codes of a card and a receipt and
// scans them at the kiosk.
func TestPrintDocumentsFromDemo(t *testing.T) {
	for _, tool := range []string{"pdftotext", "pdftoppm", "pdfinfo", "zbarimg"} {
		requireTool(t, tool)
	}
	data := filepath.Join(t.TempDir(), "demo")
	if out, code := gridbox(t, "demo", "--data", data); code != 0 {
		t.Fatal(out)
	}
	f := demoPrintFacts(t, data)
	// Phones reach this box at its address: QR codes are links to it.
	addr := freePort(t)
	editConfig(t, data, "public_url = \"\"", "public_url = \"http://"+addr+"\"")
	n := startNode(t, data, addr)
	s := login(t, n.url, "lead", "demo1234")

	resp, page := s.get("/staff/print")
	for _, title := range []string{"服务明白卡", "致村民的一封信（每户一份）", "问题受理回执", "民情日记", "网格化管理台账", "网格员工作手册"} {
		if resp.StatusCode != 200 || !strings.Contains(page, title) {
			t.Fatalf("print page lacks %s: %d", title, resp.StatusCode)
		}
	}
	if !strings.Contains(page, `<option value="`+f.leader.ID+`">`+f.leader.Name) {
		t.Errorf("print page does not offer grid leader %s for the diary and manual", f.leader.Name)
	}
	// fonts-hanazono (installed by .ci/install-deps, as by the image)
	// prints rare name characters; the page names it.
	if _, err := os.Stat("/usr/share/fonts/truetype/hanazono/HanaMinB.ttf"); err == nil || os.Getenv("CI") == "true" {
		if !strings.Contains(page, "生僻字字体：") || !strings.Contains(page, "HanaMinB.ttf") {
			t.Error("the print page does not name the font for rare characters")
		}
	}
	pdf := func(name string, q url.Values) (string, string) {
		t.Helper()
		start := time.Now()
		resp, body := s.get("/staff/print/pdf?" + q.Encode())
		if resp.StatusCode != 200 || !strings.HasPrefix(body, "%PDF-") {
			t.Fatalf("%s: %d %.300s", name, resp.StatusCode, body)
		}
		t.Logf("%s: %d bytes in %v", name, len(body), time.Since(start))
		return pdfText(t, name, body)
	}
	want := func(name, text string, words ...string) {
		t.Helper()
		for _, w := range words {
			if !strings.Contains(text, w) {
				t.Errorf("%s lacks %q:\n%.2000s", name, w, text)
			}
		}
	}

	// Cards of the whole village, 8 per A4, in one PDF (how fast:
	// BenchmarkCards1000 in print/, docs/performance.md).
	text, file := pdf("cards-village", url.Values{"kind": {"card"}, "paper": {"a4"}})
	want("cards", text, "网格服务明白卡", f.leader.Name, f.leader.Phone, f.groupName)
	info, _ := exec.Command("pdfinfo", file).Output()
	if !strings.Contains(string(info), "Pages:") || !strings.Contains(strings.Join(strings.Fields(string(info)), " "), "Pages: "+strconv.Itoa((f.households+7)/8)) {
		t.Errorf("%d households on 8-up sheets: %s", f.households, info)
	}

	// One group's cards, single: the first card's QR code is a link to this
	// box holding that household's token.
	_, file = pdf("cards-group", url.Values{"kind": {"card"}, "grid": {f.group}, "paper": {"single"}})
	codes := pdfQR(t, file)
	if len(codes) != 1 || codes[0] != n.url+"/scan?token="+f.tokens.Sign(bolt.TokenHousehold, f.first.ID) {
		t.Fatalf("card QR %v", codes)
	}
	// A phone opens the link (no login): the household's open case and its
	// grid leader's phone, nothing personal; the kiosk's scanner types the
	// link into its scan field and gets the same.
	st, view := kioskGet(t, codes[0], "")
	want("household view", view, "我家的服务信息", f.groupName, f.leader.Phone, f.category, "正在办理")
	if st != 200 {
		t.Fatalf("scan card: %d", st)
	}
	if st, kiosk := kioskGet(t, n.url, "/scan?token="+url.QueryEscape(codes[0])); st != 200 || !strings.Contains(kiosk, f.groupName) {
		t.Fatalf("kiosk scan of the link: %d", st)
	}
	for _, p := range f.private {
		if len([]rune(p)) >= 2 && p != f.leader.Phone && p != f.leader.Name && strings.Contains(view, p) {
			t.Errorf("household view shows personal data %q", p)
		}
	}
	for _, p := range []string{f.head, "院墙裂缝", f.first.ID, f.first.Address} {
		if p != "" && strings.Contains(view, p) {
			t.Errorf("household view shows %q", p)
		}
	}

	// One household's card, as its page's link asks for it: one card, its
	// token. group= names a group as grid= does.
	_, file = pdf("card-household", url.Values{"kind": {"card"}, "household": {f.first.ID}, "paper": {"single"}})
	if n := pdfPages(t, file); n != 1 {
		t.Errorf("one household's card: %d pages", n)
	}
	if codes := pdfQR(t, file); len(codes) != 1 || !strings.HasSuffix(codes[0], "="+f.tokens.Sign(bolt.TokenHousehold, f.first.ID)) {
		t.Errorf("one household's card QR %v", codes)
	}
	if _, page := s.get("/staff/households/" + f.first.ID); !strings.Contains(page, "/staff/print/pdf?kind=card&amp;household="+f.first.ID) {
		t.Error("the household page has no link to print its card")
	}
	// On 打印 the household is picked by name, not by its code: the
	// datalist's choice prints that household's card; a name that finds
	// none is said on the page.
	_, printPage := s.get("/staff/print")
	choice := regexp.MustCompile(`<option value="(` + regexp.QuoteMeta(f.head) + `户 · [^"]*)">`).FindStringSubmatch(printPage)
	if choice == nil || !strings.Contains(printPage, `<input name="household" list="household-list"`) {
		t.Fatalf("no household picker with %s户 on 打印", f.head)
	}
	_, file = pdf("card-household-picked", url.Values{"kind": {"card"}, "household": {html.UnescapeString(choice[1])}, "paper": {"single"}})
	if codes := pdfQR(t, file); len(codes) != 1 || !strings.HasSuffix(codes[0], "="+f.tokens.Sign(bolt.TokenHousehold, f.first.ID)) {
		t.Errorf("the picked household's card QR %v", codes)
	}
	if resp, body := s.get("/staff/print/pdf?kind=card&household=" + url.QueryEscape("查无此人")); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "没有找到“查无此人”所在的户") {
		t.Errorf("an unknown name on 打印: %d %.300s", resp.StatusCode, body)
	}
	_, file = pdf("cards-group-alias", url.Values{"kind": {"card"}, "group": {f.group}, "paper": {"a4"}})
	if got, want := pdfPages(t, file), (f.groupHouseholds+7)/8; got != want {
		t.Errorf("cards of group=%s: %d pages, want %d for %d households", f.group, got, want, f.groupHouseholds)
	}
	if resp, body := s.get("/api/v1/print/pdf?kind=card&household=nosuchhousehold"); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"field":"household"`) {
		t.Errorf("unknown household: %d %s", resp.StatusCode, body)
	}
	// A grid leader prints the cards of their own group, not the village's
	// nor another group's household.
	gl := login(t, n.url, "leader", "demo1234")
	resp, body := gl.get("/staff/print/pdf?kind=card&paper=a4")
	if resp.StatusCode != 200 {
		t.Fatalf("grid leader's cards: %d %.200s", resp.StatusCode, body)
	}
	_, file = pdfText(t, "cards-leader", body)
	if got, want := pdfPages(t, file), (f.groupHouseholds+7)/8; got != want {
		t.Errorf("grid leader's cards: %d pages, want %d (own group only)", got, want)
	}
	if resp, _ := gl.get("/staff/print/pdf?kind=card&household=" + f.other.ID); resp.StatusCode != http.StatusForbidden {
		t.Errorf("grid leader printing another group's household: %d", resp.StatusCode)
	}

	// Open letter of the group: each copy addressed to its household.
	text, _ = pdf("letter", url.Values{"kind": {"letter"}, "grid": {f.group}})
	want("letter", text, f.head+"户", f.leader.Name, f.leader.Phone, f.villageName)

	// Receipt on the roll: its QR code opens the case's progress.
	text, file = pdf("receipt", url.Values{"kind": {"receipt"}, "case": {f.caseCode}, "paper": {"roll"}})
	want("receipt", text, "问题受理回执", f.caseCode, f.category, "查询密码", f.pin, "只给自己用")
	codes = pdfQR(t, file)
	if len(codes) != 1 || !strings.HasPrefix(codes[0], n.url+"/scan?token=") {
		t.Fatalf("receipt QR %v", codes)
	}
	st, view = kioskGet(t, codes[0], "")
	want("receipt scan", view, f.caseCode)
	if st != 200 {
		t.Fatalf("scan receipt: %d", st)
	}
	text, _ = pdf("receipt-a5", url.Values{"kind": {"receipt"}, "case": {f.caseCode}, "paper": {"a5"}})
	want("receipt a5", text, f.caseCode)

	// Visit diary of the grid leader for the last month, register of this
	// month, work manual.
	today := time.Now().Format("2006-01-02")
	text, _ = pdf("diary", url.Values{"kind": {"diary"}, "staff": {f.leader.ID}, "from": {time.Now().AddDate(0, -1, 0).Format("2006-01-02")}, "to": {today}})
	want("diary", text, "民情日记", f.leader.Name, "走访")
	text, _ = pdf("register", url.Values{"kind": {"register"}, "span": {"month"}, "from": {today}})
	want("register", text, "月台账", f.caseCode, f.category)
	text, _ = pdf("manual", url.Values{"kind": {"manual"}, "staff": {f.leader.ID}})
	want("manual", text, "网格员工作手册", f.leader.Name, f.groupName, f.head, "入户走访")

	// Each document has its own permission: the administrator may print
	// the notice board, but nothing from the archive — not the work manual
	// (households' phones), the diary, nor the households' cards and letters.
	a := login(t, n.url, "admin", "demo1234")
	if _, page := a.get("/staff/print"); strings.Contains(page, "网格员工作手册") || strings.Contains(page, "服务明白卡") || !strings.Contains(page, "便民服务公开栏") {
		t.Error("admin's print page lists archive documents, or not the notice board")
	}
	for _, kind := range []string{"manual", "diary", "card", "letter"} {
		if resp, _ := a.get("/staff/print/pdf?kind=" + kind + "&staff=" + f.leader.ID); resp.StatusCode != http.StatusForbidden {
			t.Errorf("admin %s: %d", kind, resp.StatusCode)
		}
	}
}

// TestPrintReceiptButtons: with a printer, the kiosk's receipt page prints
// that receipt without a login through a short-lived permit; a forged or
// altered permit prints nothing; the staff case page offers the button.
func TestPrintReceiptButtons(t *testing.T) {
	data, queue := demoWithPrinter(t)
	// And no font for rare characters: the print page says so.
	editConfig(t, data, "[print]\n  printer = \""+queue+"\"", "[print]\n  printer = \""+queue+"\"\n  font_dirs = [\""+t.TempDir()+"\"]")
	f := demoPrintFacts(t, data)
	n := startNode(t, data, freePort(t))

	// The kiosk: no login.
	jar, _ := cookiejar.New(nil)
	k := &session{t: t, base: n.url, c: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	k.get("/report")
	reported := time.Now()
	resp, err := k.c.PostForm(n.url+"/report/"+f.categoryKey, url.Values{"_csrf": {k.csrf()}, "description": {"路灯不亮了"}, "group": {f.group}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	m := regexp.MustCompile(`name="token" value="([A-Z2-7]+)"`).FindStringSubmatch(page)
	// With a printer the receipt prints at once, and the page says so.
	if resp.StatusCode != 200 || !strings.Contains(page, "回执正在打印") || !strings.Contains(page, "再打印一张") || m == nil {
		t.Fatalf("receipt page without the print at once or the button: %d %s", resp.StatusCode, page)
	}
	code := regexp.MustCompile(`id="receipt-code">([^<]+)<`).FindStringSubmatch(page)[1]
	if !printedQR(t, reported, f.tokens.Sign(bolt.TokenCase, code)) {
		t.Error("the receipt printed at once was not found in cups-pdf's output")
	}
	printReceipt := func(token string) (int, string) {
		resp, err := k.c.PostForm(n.url+"/report/receipt/print", url.Values{"_csrf": {k.csrf()}, "token": {token}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	printed := time.Now()
	if st, page := printReceipt(m[1]); st != 200 || !strings.Contains(page, "回执正在打印") {
		t.Fatalf("kiosk print: %d %s", st, page)
	}
	// cups-pdf wrote it: its QR code is the receipt's token.
	if !printedQR(t, printed, f.tokens.Sign(bolt.TokenCase, code)) {
		t.Error("the printed receipt's QR code was not found in cups-pdf's output")
	}
	// A permit prints a few copies (a jam, a spare), not a stack.
	for i := 2; i <= 3; i++ {
		if st, _ := printReceipt(m[1]); st != 200 {
			t.Fatalf("copy %d: %d", i, st)
		}
	}
	if st, page := printReceipt(m[1]); st != http.StatusBadRequest || !strings.Contains(page, "已经打印过") {
		t.Errorf("fourth copy: %d", st)
	}
	// Neither a receipt's QR token nor a forged permit for another case prints.
	for _, bad := range []string{f.tokens.Sign(bolt.TokenCase, f.caseCode), f.tokens.Sign(bolt.TokenHousehold, f.first.ID), m[1][:len(m[1])-2] + "AA", "ABC"} {
		if st, _ := printReceipt(bad); st != http.StatusBadRequest {
			t.Errorf("print with %s: %d", bad, st)
		}
	}
	// An expired permit (signed here with the node's secret) is refused.
	old := f.tokens.Sign('P', f.caseCode+"."+strconv.FormatInt(time.Now().Add(-time.Minute).Unix(), 36))
	if st, page := printReceipt(old); st != http.StatusBadRequest || !strings.Contains(page, "已过期") {
		t.Errorf("expired permit: %d", st)
	}

	// Staff: the case page prints the receipt through the print page.
	s := login(t, n.url, "lead", "demo1234")
	if _, page := s.get("/staff/cases/" + code); !strings.Contains(page, "打印回执") {
		t.Fatal("case page without a print button")
	}
	if resp := s.post("/staff/print", url.Values{"kind": {"receipt"}, "case": {code}, "paper": {"a5"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("staff print receipt: %d", resp.StatusCode)
	}
	_, page = s.get("/staff/print")
	if strings.Count(page, "问题受理回执</td>") < 2 {
		t.Fatalf("receipt jobs not listed: %s", page)
	}
	if !strings.Contains(page, `id="no-rare-font"`) || !strings.Contains(page, "会印成“〓”") {
		t.Error("the print page does not say that rare characters will print as 〓")
	}
}

// editConfig replaces old by new in a node's configuration file.
func editConfig(t *testing.T, data, old, new string) {
	t.Helper()
	conf := filepath.Join(data, "gridbox.toml")
	b, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	with := strings.Replace(string(b), old, new, 1)
	if with == string(b) {
		t.Fatalf("no %q in the configuration", old)
	}
	if err := os.WriteFile(conf, []byte(with), 0o640); err != nil {
		t.Fatal(err)
	}
}

// printedQR looks for a cups-pdf output written since from whose first page
// holds the QR code want (other tests may print at the same time).
func printedQR(t *testing.T, from time.Time, want string) bool {
	t.Helper()
	requireTool(t, "pdftoppm")
	requireTool(t, "zbarimg")
	dir := filepath.Join("/var/spool/cups-pdf", os.Getenv("USER"))
	if os.Getenv("USER") == "" {
		dir = "/var/spool/cups-pdf/root"
	}
	deadline := time.Now().Add(60 * time.Second) // CUPS is shared by the packages tested at once
	seen := map[string]bool{}
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(dir, "*-job_*.pdf"))
		for _, f := range files {
			st, err := os.Stat(f)
			if err != nil || seen[f] || st.ModTime().Before(from.Add(-time.Second)) || time.Since(st.ModTime()) < 300*time.Millisecond {
				continue
			}
			seen[f] = true
			prefix := filepath.Join(t.TempDir(), "p")
			if exec.Command("pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", f, prefix).Run() != nil {
				continue
			}
			pngs, _ := filepath.Glob(prefix + "*.png")
			for _, png := range pngs {
				out, _ := exec.Command("zbarimg", "-q", "--raw", png).Output()
				if strings.Contains(string(out), want) {
					return true
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}
