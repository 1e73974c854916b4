package ui

import (
	"bytes"
	"encoding/base64"
	"html/template"
	"image/png"
	"io"
	"mime/multipart"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	qrcode "github.com/skip2/go-qrcode"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// categoryButton is a picture button of the kiosk.
type categoryButton struct {
	appliance.Category
	Picture template.HTML
}

func (u *caseUI) categoryButtons() []categoryButton {
	var out []categoryButton
	for _, c := range u.s.Config.Cases.Categories {
		out = append(out, categoryButton{Category: c, Picture: caseIcon(c.Icon)})
	}
	return out
}

// showReportStart: the villager picks what kind of problem it is.
func (u *caseUI) showReportStart(c *fiber.Ctx) error {
	return u.s.render(c, "kiosk_report", fiber.Map{"Title": "我要反映问题", "Categories": u.categoryButtons(), "DutyRoom": u.s.Config.DutyRoom})
}

func (u *caseUI) groups() ([]appliance.Grid, error) {
	code := u.s.Config.Node.Code
	return u.s.Store.FindGrids(appliance.GridFilter{Parent: &code})
}

func (u *caseUI) showReportForm(c *fiber.Ctx) error {
	return u.renderReportForm(c, nil, bolt.CaseIntake{Category: c.Params("category")})
}

func (u *caseUI) renderReportForm(c *fiber.Ctx, formErr error, in bolt.CaseIntake) error {
	cat, ok := u.s.Config.Category(in.Category)
	if !ok {
		return appliance.Errorf(appliance.ENOTFOUND, "没有这个问题类别")
	}
	groups, err := u.groups()
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "反映问题：" + cat.Name, "Category": categoryButton{cat, caseIcon(cat.Icon)}, "Form": in, "Groups": groups}
	setFormError(c, data, formErr)
	return u.s.render(c, "kiosk_report_form", data)
}

// submitReport stores a kiosk report and shows its receipt at once: the
// PIN is shown only on this answer, never in a URL.
func (u *caseUI) submitReport(c *fiber.Ctx) error {
	in := bolt.CaseIntake{
		Category:    c.Params("category"),
		Description: strings.TrimSpace(c.FormValue("description")),
		Source:      appliance.SourceKiosk,
		Group:       c.FormValue("group"),
		Name:        strings.TrimSpace(c.FormValue("name")),
		Phone:       strings.TrimSpace(c.FormValue("phone")),
	}
	r, err := u.cases.RegisterCase(c.UserContext(), actor(c), in)
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return u.renderReportForm(c, err, in)
	}
	return u.renderReceipt(c, r, false)
}

// pngBuffers keeps the PNG encoder's buffers (its zlib writer is ~1 MB)
// from one receipt to the next: under a crowd at the kiosk they were two
// thirds of all the memory the server allocated.
var pngBuffers = &pngPool{}

type pngPool struct{ p sync.Pool }

func (pp *pngPool) Get() *png.EncoderBuffer {
	b, _ := pp.p.Get().(*png.EncoderBuffer)
	return b
}

func (pp *pngPool) Put(b *png.EncoderBuffer) { pp.p.Put(b) }

// receiptQR is the receipt's QR code as a PNG data URI; it carries only an
// opaque signed token, which the kiosk's scanner turns into /scan?token=….
func (u *caseUI) receiptQR(code string) (template.URL, string, error) {
	token := u.tokens.Sign(bolt.TokenCase, code)
	q, err := qrcode.New(token, qrcode.Medium)
	if err != nil {
		return "", "", err
	}
	// 5 px a module and the fastest compression: the receipt is on the
	// kiosk's critical path; CSS scales it up sharp.
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed, BufferPool: pngBuffers}
	if err := enc.Encode(&buf, q.Image(-5)); err != nil {
		return "", "", err
	}
	return template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())), token, nil
}

func (u *caseUI) renderReceipt(c *fiber.Ctx, r bolt.Receipt, staff bool) error {
	qr, _, err := u.receiptQR(r.Code)
	if err != nil {
		return err
	}
	return u.s.render(c, "kiosk_report_receipt", fiber.Map{"Title": "问题回执", "Receipt": r, "QR": qr, "StaffDesk": staff,
		"PrintToken": u.s.receiptPrintToken(c, r.Code)}) // ui/print_receipt.go
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
		fh, err := f.Open()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(fh, appliance.MaxPhotoBytes+1))
		fh.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, data)
	}
	return out, nil
}
