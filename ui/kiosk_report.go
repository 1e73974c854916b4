package ui

import (
	"encoding/base64"
	"html/template"
	"io"
	"mime/multipart"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/skip2/go-qrcode"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// A kiosk report is a few simple screens, one question each, for villagers
// who cannot type (docs/cases.md, "Kiosk"): what kind of problem (picture
// buttons in plain words), which group (or skip), how to tell it (speak,
// tap phrases, ask to be called back, or type), then the receipt. Every
// screen is a plain link or form: without JavaScript the typed forms work.

// categoryButton is a picture button of the kiosk.
type categoryButton struct {
	appliance.Category
	Picture template.HTML
}

// Label is what the kiosk shows big: the plain words, else the name.
func (b categoryButton) Label() string {
	if b.Plain != "" {
		return b.Plain
	}
	return b.Name
}

func (u *caseUI) categoryButtons() []categoryButton {
	var out []categoryButton
	for _, c := range u.s.Config.Cases.Categories {
		out = append(out, categoryButton{Category: c, Picture: caseIcon(c.Icon)})
	}
	return out
}

// reportWay is one way to tell the problem.
type reportWay struct {
	Key, Label, Hint string
	Picture          template.HTML
}

// reportWays in the order the kiosk offers them.
var reportWays = []reportWay{
	{"voice", "说话留言", "按一下就能说，最长60秒", caseIcon("mic")},
	{"phrases", "点选常见问题", "点一点，不用写字", caseIcon("tap")},
	{"callback", "请给我回电话", "留下电话，值班人员打给您", caseIcon("phone")},
	{"type", "自己写", "会写字的可以写下来", caseIcon("pen")},
}

// phraseBook holds the tap phrases per category: from the configuration
// at start, changed by the village lead at /staff/kiosk/phrases.
type phraseBook struct {
	sync.RWMutex
	m map[string][]string
}

func newPhraseBook(cfg appliance.Config) *phraseBook {
	b := &phraseBook{m: map[string][]string{}}
	for _, c := range cfg.Cases.Categories {
		b.m[c.Key] = c.Phrases
	}
	return b
}

func (b *phraseBook) of(category string) []string {
	b.RLock()
	defer b.RUnlock()
	return b.m[category]
}

// showReportStart: the villager picks what kind of problem it is.
func (u *caseUI) showReportStart(c *fiber.Ctx) error {
	return u.s.render(c, "kiosk_report", fiber.Map{"Title": "我要反映问题", "Categories": u.categoryButtons(), "DutyRoom": u.s.Config.DutyRoom})
}

func (u *caseUI) groups() ([]appliance.Grid, error) {
	code := u.s.Config.Node.Code
	return u.s.Store.FindGrids(appliance.GridFilter{Parent: &code})
}

// reportStep is what every screen after the category shows.
type reportStep struct {
	Category  categoryButton
	Group     string // "" when skipped or unknown
	GroupName string
	Groups    []appliance.Grid
	Way       reportWay
}

func (u *caseUI) reportStep(categoryKey, group, way string) (reportStep, error) {
	cat, ok := u.s.Config.Category(categoryKey)
	if !ok {
		return reportStep{}, appliance.Errorf(appliance.ENOTFOUND, "没有这个问题类别")
	}
	groups, err := u.groups()
	if err != nil {
		return reportStep{}, err
	}
	st := reportStep{Category: categoryButton{cat, caseIcon(cat.Icon)}, Groups: groups}
	for _, g := range groups {
		if g.Code == group {
			st.Group, st.GroupName = g.Code, g.Name
		}
	}
	for _, w := range reportWays {
		if w.Key == way {
			st.Way = w
		}
	}
	return st, nil
}

// showReportGroup asks which group (村民组) the problem is in.
func (u *caseUI) showReportGroup(c *fiber.Ctx) error {
	st, err := u.reportStep(c.Params("category"), "", "")
	if err != nil {
		return err
	}
	if len(st.Groups) == 0 {
		return c.Redirect("/report/"+st.Category.Key+"/how", fiber.StatusSeeOther)
	}
	return u.s.render(c, "kiosk_report_group", fiber.Map{"Title": "反映问题：" + st.Category.Label(), "Step": st})
}

// showReportWay shows how to tell the problem (way "how"), or the screen of
// one way.
func (u *caseUI) showReportWay(c *fiber.Ctx) error {
	return u.renderReportWay(c, c.Params("way"), nil, bolt.CaseIntake{Category: c.Params("category"), Group: c.Query("group")})
}

func (u *caseUI) renderReportWay(c *fiber.Ctx, way string, formErr error, in bolt.CaseIntake) error {
	st, err := u.reportStep(in.Category, in.Group, way)
	if err != nil {
		return err
	}
	if way != "how" && st.Way.Key == "" {
		return appliance.Errorf(appliance.ENOTFOUND, "页面不存在")
	}
	phrases := u.phrases.of(st.Category.Key)
	chosen := map[string]bool{}
	for _, p := range in.Phrases {
		chosen[p] = true
	}
	var ways []reportWay
	for _, w := range reportWays {
		if w.Key != st.Way.Key && (w.Key != "phrases" || len(phrases) > 0) {
			ways = append(ways, w)
		}
	}
	title := "反映问题：" + st.Category.Label()
	if st.Way.Key != "" {
		title += "（" + st.Way.Label + "）"
	}
	data := fiber.Map{"Title": title, "Step": st, "Ways": ways, "Form": in, "Phrases": phrases, "Chosen": chosen,
		"MaxVoice": appliance.MaxVoiceSeconds}
	setFormError(c, data, formErr)
	name := "kiosk_report_how"
	if st.Way.Key != "" {
		name = "kiosk_report_" + st.Way.Key
	}
	return u.s.render(c, name, data)
}

// showReportForm keeps the address of the old one-page form: it is the
// first screen after the category now.
func (u *caseUI) showReportForm(c *fiber.Ctx) error { return u.showReportGroup(c) }

// submitReport stores a kiosk report made any way and shows its receipt at
// once (printing it when the kiosk has a receipt printer): the PIN is
// shown only on this answer, never in a URL.
func (u *caseUI) submitReport(c *fiber.Ctx) error {
	way := c.FormValue("way")
	if way == "" {
		way = "type"
	}
	in := bolt.CaseIntake{
		Category:    c.Params("category"),
		Description: strings.TrimSpace(c.FormValue("description")),
		Source:      appliance.SourceKiosk,
		Group:       c.FormValue("group"),
		Name:        strings.TrimSpace(c.FormValue("name")),
		Phone:       strings.TrimSpace(c.FormValue("phone")),
		Phrases:     formList(c, "phrases"),
		Callback:    c.FormValue("callback") == "1",
	}
	voice, err := readVoice(c)
	if err == nil {
		in.Voice = voice
		var r bolt.Receipt
		if r, err = u.cases.RegisterCase(c.UserContext(), actor(c), in); err == nil {
			return u.renderReceipt(c, r, false)
		}
	}
	if appliance.ErrorCode(err) == appliance.EINTERNAL {
		return err
	}
	in.Voice = nil
	return u.renderReportWay(c, way, err, in)
}

// formList returns every value of a form field, urlencoded or multipart.
func formList(c *fiber.Ctx, name string) []string {
	var out []string
	if form, err := c.MultipartForm(); err == nil {
		out = append(out, form.Value[name]...)
	} else {
		for _, v := range c.Context().PostArgs().PeekMulti(name) {
			out = append(out, string(v))
		}
	}
	return out
}

// readVoice reads the recorded voice message of a multipart form, if any.
func readVoice(c *fiber.Ctx) ([]byte, error) {
	form, err := c.MultipartForm()
	if err != nil || len(form.File["voice"]) == 0 {
		return nil, nil
	}
	if len(form.File["voice"]) > appliance.MaxCaseVoices {
		return nil, appliance.FieldError("voice", "语音留言最多%d段", appliance.MaxCaseVoices)
	}
	f := form.File["voice"][0]
	if f.Size == 0 {
		return nil, nil
	}
	if f.Size > appliance.MaxVoiceBytes {
		return nil, appliance.FieldError("voice", "录音文件太大（不能超过%dKB）", appliance.MaxVoiceBytes>>10)
	}
	return readPart(f, appliance.MaxVoiceBytes)
}

// readPart reads an uploaded file of at most limit bytes.
func readPart(f *multipart.FileHeader, limit int64) ([]byte, error) {
	fh, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return io.ReadAll(io.LimitReader(fh, limit+1))
}

// receiptQR is the receipt's QR code as an SVG data URI; it carries only
// an opaque signed token, which the kiosk's scanner turns into
// /scan?token=….
func (u *caseUI) receiptQR(code string) (template.URL, string, error) {
	token := u.tokens.Sign(bolt.TokenCase, code)
	q, err := qrcode.New(token, qrcode.Medium)
	if err != nil {
		return "", "", err
	}
	return qrSVG(q), token, nil
}

// qrSVG draws a QR code as one SVG path, a run of dark modules per
// subpath, quiet zone included: the receipt is on the kiosk's critical
// path, and the PNG it replaced (image, deflate, base64) was a fifth of the
// box's CPU under a crowd of reports. crispEdges keeps module edges on
// whole pixels at any size, so no seam opens between rows.
func qrSVG(q *qrcode.QRCode) template.URL {
	bits := q.Bitmap()
	n := strconv.Itoa(len(bits))
	b := make([]byte, 0, 4096)
	b = append(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 `+n+` `+n+`" shape-rendering="crispEdges"><rect width="`+n+`" height="`+n+`" fill="#fff"/><path fill="#000" d="`...)
	for y, row := range bits {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			end := x
			for end < len(row) && row[end] {
				end++
			}
			b = append(b, 'M')
			b = strconv.AppendInt(b, int64(x), 10)
			b = append(b, ' ')
			b = strconv.AppendInt(b, int64(y), 10)
			b = append(b, 'h')
			b = strconv.AppendInt(b, int64(end-x), 10)
			b = append(b, "v1h-"...)
			b = strconv.AppendInt(b, int64(end-x), 10)
			b = append(b, 'z')
			x = end
		}
	}
	b = append(b, `"/></svg>`...)
	return template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(b))
}

// receiptNext says in plain words what happens to the case now.
func (u *caseUI) receiptNext(cc *appliance.Case) []string {
	var out []string
	who := "村里"
	if cc.Level == appliance.CaseLevelGroup {
		who = "村民组的网格长"
		if g, err := u.s.Store.Grid(cc.Group); err == nil {
			who = g.Name + "的网格长"
		}
	}
	switch {
	case cc.Callback == appliance.CallbackWanted:
		out = append(out, "值班人员会尽快给您回电话。")
	case u.s.Config.TriageCategory(cc.Category) || len(cc.Voice) > 0:
		out = append(out, "村值班室会先听您的留言，再交给该办的人。")
	}
	if cc.Due != "" {
		out = append(out, who+"会在"+cc.Due+"前办理。")
	}
	return append(out, "办好以后，凭回执编号和查询密码可以查看结果、给个评价。")
}

func (u *caseUI) renderReceipt(c *fiber.Ctx, r bolt.Receipt, staff bool) error {
	qr, _, err := u.receiptQR(r.Code)
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "问题回执", "Receipt": r, "QR": qr, "StaffDesk": staff}
	if cc, err := u.cases.Case(r.Code); err == nil {
		data["Next"] = u.receiptNext(cc)
		data["Caller"] = staff && cc.Source == appliance.SourcePhone
	}
	if staff {
		data["PrintReceipt"] = u.s.canPrintReceipt(c) // ui/print_receipt.go
	}
	if !staff {
		data["Printed"], data["PrintError"] = u.s.printReceiptAtOnce(c, r.Code) // ui/print_receipt.go
		data["PrintToken"] = u.s.receiptPrintToken(c, r.Code)
		c.Locals(localIdle, u.s.Config.Kiosk.ReceiptIdle.Duration) // the villager copies the code
	}
	return u.s.render(c, "kiosk_report_receipt", data)
}

// readPhotos reads up to MaxCasePhotos uploaded files of a multipart form.
func readPhotos(c *fiber.Ctx) ([][]byte, error) {
	form, err := c.MultipartForm()
	if err != nil {
		return nil, nil // not multipart: no photos
	}
	var files []*multipart.FileHeader
	for _, f := range form.File["photos"] {
		if f.Size > 0 {
			files = append(files, f)
		}
	}
	if len(files) > appliance.MaxCasePhotos {
		return nil, appliance.FieldError("photos", "照片最多%d张", appliance.MaxCasePhotos)
	}
	var out [][]byte
	for _, f := range files {
		if f.Size > appliance.MaxPhotoBytes {
			return nil, appliance.FieldError("photos", "照片“%s”超过10MB", f.Filename)
		}
		data, err := readPart(f, appliance.MaxPhotoBytes)
		if err != nil {
			return nil, err
		}
		out = append(out, data)
	}
	return out, nil
}
