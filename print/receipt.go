package print

import (
	"fmt"
	"time"
)

func init() {
	register(Kind{Name: "receipt", Title: "问题受理回执", New: func() Document { return &Receipt{} }})
}

// ReceiptPaper is the paper a receipt is printed on.
type ReceiptPaper int

const (
	// Roll80 is an 80 mm thermal roll; the page is as long as the content.
	Roll80 ReceiptPaper = iota
	// ReceiptA5 is an A5 sheet.
	ReceiptA5
)

// Receipt is handed to whoever reported a case, to track it later.
type Receipt struct {
	Village   string       `json:"village,omitempty"`
	Code      string       `json:"code,omitempty"`     // receipt code the villager types at the kiosk
	PIN       string       `json:"pin,omitempty"`      // the 4-digit lookup PIN that goes with the code
	Next      string       `json:"next,omitempty"`     // what happens now, e.g. "将在2026-11-05前办理；…"
	Token     string       `json:"token,omitempty"`    // encoded as the QR code; made by the caller
	Category  string       `json:"category,omitempty"` // e.g. "公共事务"
	Date      time.Time    `json:"date,omitempty"`
	DutyPhone string       `json:"duty_phone,omitempty"`
	Paper     ReceiptPaper `json:"paper,omitempty"`
	KioskOnly bool         `json:"kiosk_only,omitempty"` // the QR code is read only by the kiosk's scanner
}

func (*Receipt) Kind() string { return "receipt" }

func (r *Receipt) draw(d *doc) error {
	d.setTitle("问题受理回执")
	type block struct {
		text string
		pt   float64
		al   align
		gap  float64 // space after, mm
	}
	when := ""
	if !r.Date.IsZero() {
		when = fmt.Sprintf("%s %02d:%02d", dateCN(r.Date), r.Date.Hour(), r.Date.Minute())
	}
	// Without its PIN (a node that does not hold the reporter's part) the
	// receipt says where to ask, rather than leave a blank to fill in.
	pin := []block{{"查询密码", 8, center, 0}, {r.PIN, 15, center, 1}}
	if r.PIN == "" {
		pin = []block{{"查询密码请到受理问题的村值班室询问", 8, center, 1}}
	}
	head := append([]block{
		{or(r.Village, ""), 11, center, 0.5},
		{"问题受理回执", 15, center, 2},
		{"回执编号", 8, center, 0},
		{or(r.Code, blank), 15, center, 1},
	}, pin...)
	tail := []block{
		{"在村自助终端输入回执编号和查询密码，或扫描二维码，可查询办理进度、评价办理结果。", 8, center, 2},
		{"问题类别：" + or(r.Category, blank), 9.5, left, 0.5},
		{"受理时间：" + or(when, blank), 9.5, left, 0.5},
	}
	if r.Next != "" {
		tail = append(tail, block{r.Next, 9.5, left, 0.5})
	}
	tail = append(tail,
		block{"值班电话：" + or(r.DutyPhone, blank), 9.5, left, 2},
		block{"请妥善保管本回执。查询密码只给自己用，不要告诉他人。", 8, center, 0})
	switch {
	case r.Token == "":
		tail[0].text = "在村自助终端输入回执编号和查询密码，可查询办理进度、评价办理结果。"
	case r.KioskOnly:
		tail[0].text = "在村便民服务终端扫描二维码，或输入回执编号和查询密码，可查询办理进度、评价办理结果。"
	}
	p, qrSize := paper{80, 0}, 36.0
	d.ml, d.mr, d.mt, d.mb = 5, 5, 5, 8
	if r.Paper == ReceiptA5 {
		p, qrSize = pageA5, 50
		d.ml, d.mr, d.mt, d.mb = 18, 18, 20, 15
		d.scale = 1.3
	}
	if r.Token == "" {
		qrSize = 0
	}
	if p.h == 0 { // roll: measure first, then cut the page to length
		w := p.w - d.ml - d.mr
		h := d.mt + d.mb + qrSize + 2
		for _, bs := range [][]block{head, tail} {
			for _, b := range bs {
				h += d.measure(b.text, b.pt, w) + b.gap*d.scale
			}
		}
		p.h = h
	}
	d.addPage(p, false)
	for _, b := range head {
		d.lines(b.text, b.pt, b.al)
		d.gap(b.gap)
	}
	if qrSize > 0 {
		if err := d.qr(r.Token, (d.pw-qrSize)/2, d.y, qrSize); err != nil {
			return err
		}
		d.y += qrSize + 2
	}
	for _, b := range tail {
		d.lines(b.text, b.pt, b.al)
		d.gap(b.gap)
	}
	return nil
}
