package print

import (
	"fmt"
	"strings"
)

func init() {
	register(Kind{Name: "card", Title: "服务明白卡", New: func() Document { return &CardSheet{} }})
}

// Service is one service item offered to villagers.
type Service struct {
	Name  string   `json:"name,omitempty"`  // e.g. "低保申请"
	Steps []string `json:"steps,omitempty"` // procedure, printed on the notice board
	Where string   `json:"where,omitempty"` // where or whom to ask, e.g. "村便民服务室"
}

// Card is the service card (明白卡) of one household.
type Card struct {
	Village     string    `json:"village,omitempty"`   // e.g. "刘沟村"
	Group       string    `json:"group,omitempty"`     // e.g. "第三村民小组"
	Household   string    `json:"household,omitempty"` // optional label, e.g. door number "刘沟村3组15号"
	GridLeader  string    `json:"grid_leader,omitempty"`
	LeaderPhone string    `json:"leader_phone,omitempty"`
	DutyPhone   string    `json:"duty_phone,omitempty"`
	Services    []Service `json:"services,omitempty"`
	Token       string    `json:"token,omitempty"` // encoded as the QR code; made by the caller
	// KioskOnly says the QR code is read only by the village kiosk's
	// scanner (no address for phones is configured): the card says so.
	KioskOnly bool `json:"kiosk_only,omitempty"`
}

// CardLayout says how cards are put on paper.
type CardLayout int

const (
	// CardsA4 puts 8 cards on an A4 sheet with cut marks.
	CardsA4 CardLayout = iota
	// CardSingle gives each card its own 86×54 mm page (card printers).
	CardSingle
)

// CardSheet is a set of service cards, e.g. every household of a group or
// village.
type CardSheet struct {
	Cards  []Card     `json:"cards,omitempty"`
	Layout CardLayout `json:"layout,omitempty"`
}

func (*CardSheet) Kind() string { return "card" }

const cardW, cardH = 86.0, 54.0

func (s *CardSheet) draw(d *doc) error {
	d.setTitle("服务明白卡")
	if s.Layout == CardSingle {
		d.ml, d.mr, d.mt, d.mb = 0, 0, 0, 0
		for i := range s.Cards {
			d.addPage(paper{cardH, cardW}, true)
			if err := d.card(&s.Cards[i], 0, 0); err != nil {
				return err
			}
		}
		return nil
	}
	// 2 × 4 cards, abutting, so one cut serves two cards.
	const cols, rows = 2, 4
	x0 := (pageA4.w - cols*cardW) / 2
	y0 := (pageA4.h - rows*cardH) / 2
	pages := (len(s.Cards) + cols*rows - 1) / (cols * rows)
	for i := range s.Cards {
		slot := i % (cols * rows)
		if slot == 0 {
			d.addPage(pageA4, false)
			d.setSize(8)
			d.pdf.SetTextColor(110, 110, 110)
			d.textAt(x0, y0-16, cols*cardW, fmt.Sprintf("服务明白卡　沿裁切线裁开　第 %d/%d 页", i/(cols*rows)+1, pages), center)
			d.pdf.SetTextColor(0, 0, 0)
			cutMarks(d, x0, y0, cols, rows)
		}
		x := x0 + float64(slot%cols)*cardW
		y := y0 + float64(slot/cols)*cardH
		if err := d.card(&s.Cards[i], x, y); err != nil {
			return err
		}
	}
	return nil
}

// cutMarks draws short lines outside the block of cards on every cut line.
func cutMarks(d *doc, x0, y0 float64, cols, rows int) {
	const gap, l = 3.0, 6.0
	x1, y1 := x0+float64(cols)*cardW, y0+float64(rows)*cardH
	d.pdf.SetLineWidth(0.2)
	for c := 0; c <= cols; c++ {
		x := x0 + float64(c)*cardW
		d.pdf.Line(x, y0-gap-l, x, y0-gap)
		d.pdf.Line(x, y1+gap, x, y1+gap+l)
	}
	for r := 0; r <= rows; r++ {
		y := y0 + float64(r)*cardH
		d.pdf.Line(x0-gap-l, y, x0-gap, y)
		d.pdf.Line(x1+gap, y, x1+gap+l, y)
	}
}

// card draws one card with its top-left corner at x, y.
func (d *doc) card(c *Card, x, y float64) error {
	const pad = 3.5
	// Title band.
	d.pdf.SetFillColor(228, 228, 228)
	d.pdf.Rect(x, y, cardW, 10, "F")
	d.setSize(12)
	d.textAt(x+pad, y+1.5, cardW-2*pad, or(c.Village, "")+"网格服务明白卡", center)

	const qrSize = 24.0
	qx, qy := x+cardW-pad-qrSize, y+11.5
	if err := d.qr(c.Token, qx, qy, qrSize); err != nil {
		return err
	}
	d.setSize(6.5)
	switch {
	case c.Token != "" && c.KioskOnly:
		d.textAt(qx-1, qy+qrSize, qrSize+2, "请到村便民服务终端扫码", center)
	case c.Token != "":
		d.textAt(qx, qy+qrSize, qrSize, "扫码查询·报事", center)
	}
	if c.Household != "" {
		d.box(qx, qy+qrSize+3, qrSize, 54-11.5-qrSize-3-1.5, c.Household, 6.5, 4.5, center)
	}

	tw := cardW - 2*pad - qrSize - 2
	tx, ty := x+pad, y+12
	field := func(label, value string, h float64) {
		d.box(tx, ty, tw, h, label+or(value, blank), 8.5, 5.5, left)
		ty += h
	}
	d.setSize(8.5)
	one := d.lineH()
	field("网格：", strings.TrimSpace(c.Village+" "+c.Group), 2*one*0.85)
	field("网格长：", c.GridLeader, one)
	field("电　话：", c.LeaderPhone, one)
	field("值班电话：", c.DutyPhone, one)
	ty += 0.8
	names := make([]string, 0, len(c.Services))
	for _, s := range c.Services {
		if n := strings.TrimSpace(s.Name); n != "" {
			names = append(names, n)
		}
	}
	svc := "服务事项：" + or(strings.Join(names, "、"), "请咨询网格长")
	d.box(tx, ty, tw, y+cardH-2.5-ty, svc, 7.5, 4.5, left)
	return nil
}
