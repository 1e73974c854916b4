package ui_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/ui/internal/uitest"
)

// postFindingForm posts a multipart form with files (field "photos") as the
// client, with its CSRF token; it returns status, Location and body.
func postFindingForm(t *testing.T, c *uitest.Client, base, path string, fields url.Values, photos ...[]byte) (int, string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("_csrf", c.CSRF())
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for i, p := range photos {
		fw, _ := mw.CreateFormFile("photos", "p"+string(rune('0'+i))+".png")
		fw.Write(p)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", base+path, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := c.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Location"), string(body)
}

// withValue is a copy of form with k set to v (a form posted gets its
// CSRF token added: the original stays untouched).
func withValue(form url.Values, k, v string) url.Values {
	f := url.Values{}
	for kk, vv := range form {
		f[kk] = append([]string(nil), vv...)
	}
	f.Set(k, v)
	return f
}

func pngOf(w, h int) []byte {
	var b bytes.Buffer
	png.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h)))
	return b.Bytes()
}

// hugePNG is a small PNG whose header claims 30000 × 30000 pixels: only
// the header is read before it is refused.
func hugePNG() []byte {
	b := pngOf(4, 4)
	binary.BigEndian.PutUint32(b[16:], 30000)
	binary.BigEndian.PutUint32(b[20:], 30000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	return b
}

// photosDown moves the photos the village lacks from the town, as the
// replicator does (store calls only: what it asks for, what the town may
// give for that entry, what the village takes).
func (p *assessPair) photosDown(t *testing.T) int {
	t.Helper()
	refs, err := p.village.Store.WantedPhotos(100, func(bolt.PhotoRef) bool { return true })
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range refs {
		data, ok, err := p.town.Store.PhotoFor(r)
		if err != nil || !ok {
			t.Fatalf("town has no photo %s for its entry: %v", r.Sum, err)
		}
		if stored, err := p.village.Store.PutPhoto(r.Sum, data); err != nil || !stored {
			t.Fatalf("village takes photo: %v %v", stored, err)
		}
		n++
	}
	return n
}

// The inspection group's pages over HTTP: a random draw planned on the
// page and shown with its seed, refusals that name the field and write
// nothing, a finding with a photo (downscaled; a bad or oversized one
// refused), the photo down at the village for its staff only as a
// finding's photo, the objection and the town's decision on the page.
func TestInspectionPagesHTTP(t *testing.T) {
	p := mustAssessPair(t)
	v := p.village.Config.Node.Code
	today := time.Now().In(p.town.Config.Location()).Format(time.DateOnly)
	insp := p.town.Client(t)
	insp.Login("inspector")
	if code, body := insp.Get("/staff/assess/inspections"); code != 200 || !strings.Contains(body, "杏花村") || !strings.Contains(body, `value="group:`+v+`-01"`) {
		t.Fatalf("inspections page: %d %s", code, uitest.Text(body))
	}
	plans := func() int {
		ps, err := p.town.Store.Inspections(p.town.Config.Node.Code)
		if err != nil {
			t.Fatal(err)
		}
		return len(ps)
	}
	groups := []string{v + "-01", v + "-02", v + "-03"}
	for _, bad := range []struct {
		form  url.Values
		field string
		says  string
	}{
		{url.Values{"way": {"random"}, "date": {today}, "subject": {"group"}, "topic": {"走访记录"}, "grids": groups}, "n", "抽取数量"},
		{url.Values{"way": {"random"}, "date": {today}, "subject": {"group"}, "topic": {"走访记录"}, "grids": groups, "n": {"2"}, "seed": {"不是种子"}}, "seed", "抽签种子"},
		{url.Values{"way": {"random"}, "date": {today}, "subject": {"group"}, "topic": {"走访记录"}, "grids": groups, "n": {"4"}}, "n", "抽取数量应在1到3之间"},
		{url.Values{"way": {"scheduled"}, "date": {today}, "subject": {"village"}, "topic": {"台账"}}, "grids", "请选择要督查的村或村民组"},
		{url.Values{"way": {"scheduled"}, "date": {"2020-01-01"}, "subject": {"village"}, "topic": {"台账"}, "grids": {v}}, "date", "不能早于今天"},
		{url.Values{"way": {"unannounced"}, "date": {today}, "subject": {"village"}, "topic": {""}, "grids": {v}}, "topic", "督查内容"},
	} {
		code, _, body := insp.Post("/staff/assess/inspections", bad.form)
		if code != 400 || !strings.Contains(body, bad.says) || !strings.Contains(body, `name="`+bad.field+`"`) {
			t.Errorf("plan %v: %d %s", bad.form, code, uitest.Text(body))
		}
		if strings.Count(body, `aria-invalid="true"`)+strings.Count(body, `invalid"`) == 0 {
			t.Errorf("plan %v: no field marked", bad.form)
		}
	}
	if n := plans(); n != 0 {
		t.Fatalf("refused plans wrote %d", n)
	}
	code, loc, _ := insp.Post("/staff/assess/inspections", url.Values{"way": {"random"}, "date": {today}, "subject": {"group"}, "topic": {"走访记录"},
		"grids": groups, "n": {"2"}, "seed": {"2a"}})
	if code != 303 || !strings.HasPrefix(loc, "/staff/assess/inspections#plan-") {
		t.Fatalf("random plan: %d %s", code, loc)
	}
	want := appliance.DrawInspection(groups, 2, 42)
	_, body := insp.Get("/staff/assess/inspections")
	text := uitest.Text(body)
	if !strings.Contains(text, "种子 000000000000002a ，从 3 个中抽取 2 个") || !strings.Contains(text, "已按种子复核一致") {
		t.Fatalf("the draw on the page: %s", text)
	}
	names := map[string]string{v + "-01": "杏花村第一村民组", v + "-02": "杏花村第二村民组", v + "-03": "杏花村第三村民组"}
	if !strings.Contains(text, "督查村民组："+names[want[0]]+"、"+names[want[1]]) {
		t.Fatalf("picks %v not on the page: %s", want, text)
	}
	if code, _, _ := insp.Post("/staff/assess/inspections", url.Values{"way": {"unannounced"}, "date": {today}, "subject": {"village"}, "topic": {"值班在岗"}, "grids": {v}}); code != 303 {
		t.Fatalf("unannounced visit: %d", code)
	}
	ps, _ := p.town.Store.Inspections(p.town.Config.Node.Code)
	if len(ps) != 2 {
		t.Fatalf("plans: %+v", ps)
	}

	// Findings: refusals write nothing.
	findings := func() int {
		fs, err := p.town.Store.Findings("")
		if err != nil {
			t.Fatal(err)
		}
		return len(fs)
	}
	ok := url.Values{"way": {"unannounced"}, "date": {today}, "target": {"village:" + v}, "rule": {"v-f-absent"}, "units": {"1"},
		"text": {"暗访时值班室无人"}, "inspector": {"赵督查"}}
	with := func(k, val string) url.Values { return withValue(ok, k, val) }
	for _, bad := range []struct {
		form   url.Values
		photos [][]byte
		field  string
		says   string
	}{
		{with("rule", "g-f-false"), nil, "rule", "没有适用于二级网格的这条督查规则"},
		{with("target", ""), nil, "target", "请选择被督查的"},
		{with("target", "person:nobody"), nil, "target", "请选择被督查的"},
		{with("units", "两次"), nil, "units", "次数"},
		{with("text", " "), nil, "text", "督查发现的问题"},
		{with("date", "2099-01-01"), nil, "date", "不能晚于今天"},
		{ok, [][]byte{[]byte("GIF89a not a photo")}, "photos", "只能上传 JPG 或 PNG"},
		{ok, [][]byte{hugePNG()}, "photos", "照片尺寸太大"},
		{ok, [][]byte{pngOf(2, 2), pngOf(2, 3), pngOf(2, 4), pngOf(2, 5), pngOf(2, 6), pngOf(2, 7), pngOf(2, 8)}, "photos", "照片最多6张"},
	} {
		code, _, body := postFindingForm(t, insp, p.town.URL, "/staff/assess/findings", bad.form, bad.photos...)
		if code != 400 || !strings.Contains(body, bad.says) || !strings.Contains(body, `name="`+bad.field+`"`) {
			t.Errorf("finding %v: %d %s", bad.form, code, uitest.Text(body))
		}
	}
	if n := findings(); n != 0 {
		t.Fatalf("refused findings wrote %d", n)
	}
	code, loc, _ = postFindingForm(t, insp, p.town.URL, "/staff/assess/findings", with("plan", ps[1].ID), pngOf(2000, 1000))
	if code != 303 || loc != "/staff/assess#findings" {
		t.Fatalf("finding with a photo: %d %s", code, loc)
	}
	fs, _ := p.town.Store.Findings("")
	if len(fs) != 1 || len(fs[0].Photos) != 1 || fs[0].Inspection == "" || fs[0].Subject != appliance.SubjectVillage {
		t.Fatalf("finding: %+v", fs)
	}
	photo := "/staff/assess/photos/" + fs[0].Photos[0]
	if code, size := jpegAt(t, insp, p.town.URL+photo); code != 200 || size != (image.Point{1600, 800}) {
		t.Fatalf("the photo at the town: %d %v", code, size)
	}

	// Down at the village: the finding, then its photo, for its staff.
	p.down()
	lead, leader := p.village.Client(t), p.village.Client(t)
	lead.Login("villagelead")
	leader.Login("gridleader")
	if code, _ := jpegAt(t, lead, p.village.URL+photo); code != 404 {
		t.Fatalf("photo before it came down: %d", code)
	}
	if n := p.photosDown(t); n != 1 {
		t.Fatalf("photos down: %d", n)
	}
	for _, c := range []*uitest.Client{lead, leader} {
		if code, body := c.Get("/staff/assess"); code != 200 || !strings.Contains(body, "暗访时值班室无人") || !strings.Contains(body, `src="`+photo+`"`) {
			t.Fatalf("village's findings: %d %s", code, uitest.Text(body))
		}
		if code, size := jpegAt(t, c, p.village.URL+photo); code != 200 || size != (image.Point{1600, 800}) {
			t.Fatalf("the photo at the village: %d %v", code, size)
		}
	}
	if code, _ := jpegAt(t, p.village.Client(t), p.village.URL+photo); code == 200 {
		t.Fatal("the photo without a login")
	}
	// A case photo is not a finding's: not served on this path.
	cs := mustCases(t, p.village)
	r, err := cs.RegisterCase(t.Context(), "u-gridleader", bolt.CaseIntake{Category: "public_affairs", Description: "路灯坏了", Source: appliance.SourcePatrol, Group: v + "-01", Photos: [][]byte{pngOf(30, 20)}})
	if err != nil {
		t.Fatal(err)
	}
	cc, _ := cs.Case(r.Code)
	if code, _ := jpegAt(t, lead, p.village.URL+"/staff/assess/photos/"+cc.Photos[0]); code != 404 {
		t.Fatalf("a case photo through the findings' path: %d", code)
	}

	// The objection on the village's page, the decision on the town's.
	key := fs[0].Key()
	if code, _, _ := lead.Post("/staff/assess/objection", url.Values{"finding": {key}, "text": {"当天值班员在村口处理纠纷"}, "by": {"村支书"}}); code != 303 {
		t.Fatalf("objection: %d", code)
	}
	p.up()
	if _, body := insp.Get("/staff/assess"); !strings.Contains(body, `action="/staff/assess/findings/decision"`) || !strings.Contains(body, "当天值班员在村口处理纠纷") {
		t.Fatalf("the inspector's findings: %s", uitest.Text(body))
	}
	if code, _, body := insp.Post("/staff/assess/findings/decision", url.Values{"finding": {key}, "decision_text": {"核实属实"}}); code != 400 || !strings.Contains(body, "请选择异议处理结果") {
		t.Fatalf("decision without one: %d %s", code, uitest.Text(body))
	}
	if f, _ := p.town.Store.Finding(key); f.Decision != "" {
		t.Fatalf("a refused decision wrote %q", f.Decision)
	}
	if code, _, body := insp.Post("/staff/assess/findings/decision", url.Values{"finding": {key}, "decision": {"upheld"}, "decision_text": {""}}); code != 400 || !strings.Contains(body, "处理意见") {
		t.Fatalf("decision without a text: %d %s", code, uitest.Text(body))
	}
	if code, loc, _ := insp.Post("/staff/assess/findings/decision", url.Values{"finding": {key}, "decision": {"upheld"}, "decision_text": {"核实属实，撤销"}}); code != 303 || loc != "/staff/assess#findings" {
		t.Fatalf("decision: %d %s", code, loc)
	}
	p.down()
	if _, body := lead.Get("/staff/assess"); !strings.Contains(body, "异议成立，撤销扣分") || !strings.Contains(body, "核实属实，撤销") {
		t.Fatalf("the decision at the village: %s", uitest.Text(body))
	}
	// At the village the pages for planning say where they are.
	vi := p.village.Client(t)
	vi.Login("inspector")
	if code, body := vi.Get("/staff/assess/inspections"); code != 200 || !strings.Contains(body, "在乡镇节点上安排") {
		t.Fatalf("inspections at a village: %d %s", code, uitest.Text(body))
	}
}

// jpegAt fetches url as the client: status and, for a JPEG, its size.
func jpegAt(t *testing.T, c *uitest.Client, u string) (int, image.Point) {
	t.Helper()
	res, err := c.HTTP.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		return res.StatusCode, image.Point{}
	}
	size, err := jpegSize(res.Body)
	if err != nil {
		t.Fatalf("%s: %v", u, err)
	}
	return res.StatusCode, size
}

// The inspector in Chromium: a random draw on the page, then a finding
// with a photo chosen in the file picker; the village lead sees it.
func TestInspectionBrowser(t *testing.T) {
	p := mustAssessPair(t)
	v := p.village.Config.Node.Code
	file := filepath.Join(t.TempDir(), "现场.png")
	if err := os.WriteFile(file, pngOf(1200, 900), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := uitest.Browser(t)
	do(t, ctx, chromedp.EmulateViewport(390, 844))
	browserLogin(t, ctx, p.town.URL, "inspector")
	do(t, ctx,
		chromedp.Navigate(p.town.URL+"/staff/assess/inspections"),
		chromedp.WaitVisible(chromedp.CSS(`#plan-form`)),
		chromedp.SetValue(chromedp.CSS(`#plan-form select[name="way"]`), "random"),
		chromedp.SetValue(chromedp.CSS(`#plan-form select[name="subject"]`), "village"),
		chromedp.SendKeys(chromedp.CSS(`#plan-form input[name="topic"]`), "台账日结"),
		chromedp.SendKeys(chromedp.CSS(`#plan-form input[name="n"]`), "1"),
		clickLoad(`#plan-form button[type="submit"]`),
	)
	got := pageText(t, ctx)
	if !strings.Contains(got, "从 1 个中抽取 1 个") || !strings.Contains(got, "已按种子复核一致") || !strings.Contains(got, "督查村：杏花村") {
		t.Fatalf("the draw in Chromium: %s", got)
	}
	do(t, ctx,
		clickTo(`#plans a[href*="?plan="]`, `#finding-form p.plan`),
		chromedp.SetValue(chromedp.CSS(`#finding-form select[name="target"]`), "group:"+v+"-02"),
		chromedp.SetValue(chromedp.CSS(`#finding-form select[name="rule"]`), "g-f-false"),
		chromedp.SendKeys(chromedp.CSS(`#finding-form textarea[name="text"]`), "走访记录与入户情况不符"),
		chromedp.SetUploadFiles(chromedp.CSS(`#finding-form input[type="file"]`), []string{file}),
		clickTo(`#finding-form button[type="submit"]`, `#findings`),
	)
	width, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`(async () => { const i = document.querySelector("#findings img"); await i.decode(); return i.naturalWidth })()`, chromedp.EvalAwaitPromise))
	if err != nil || width != 1200 {
		t.Fatalf("the photo on the inspector's page: %v %v", width, err)
	}
	p.down()
	p.photosDown(t)
	lead := uitest.Browser(t)
	browserLogin(t, lead, p.village.URL, "villagelead")
	do(t, lead, chromedp.Navigate(p.village.URL+"/staff/assess#findings"), chromedp.WaitVisible(chromedp.CSS(`#findings img`)))
	if got := pageText(t, lead); !strings.Contains(got, "走访记录与入户情况不符") || !strings.Contains(got, "提出异议") {
		t.Fatalf("the village's page: %s", got)
	}
	width, err = chromedp.Run(lead, chromedp.Evaluate[float64](`(async () => { const i = document.querySelector("#findings img"); await i.decode(); return i.naturalWidth })()`, chromedp.EvalAwaitPromise))
	if err != nil || width != 1200 {
		t.Fatalf("the photo at the village: %v %v", width, err)
	}
}
