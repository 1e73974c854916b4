package print

import (
	"context"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// The staff card (工作证): name, duty and village, and a QR code the kiosk
// screen's scanner reads to sign the holder in at duty or a meeting. The
// code is a signed token of the staff record and the card's serial (no
// password, nothing personal); a new card (补办) makes the old one void.

func init() {
	register(Kind{Name: "staff_card", Title: "工作证", New: func() Document { return &StaffCardDoc{} }})
	addSource(source{
		doc: appliance.PrintDoc{Kind: "staff_card", Title: "工作证（扫码签到）", Fields: []string{"staff"}, Perm: appliance.PermManageUsers},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			m, err := s.store.Staff(req.Staff)
			if err != nil || !appliance.InScope(req.Scope, m.Grid) {
				return nil, appliance.FieldError("staff", "请选择人员")
			}
			cards, err := s.store.StaffCards()
			if err != nil {
				return nil, err
			}
			c, ok := cards[m.ID]
			if !ok || c.Revoked != "" {
				return nil, appliance.FieldError("staff", "%s 还没有在用的工作证，请先在“账号管理”发证", m.Name)
			}
			title := appliance.DutyLabels[m.Duty]
			if m.Title != "" {
				title = m.Title
			}
			// The kiosk's scanner reads the bare token (no address: a phone
			// has nothing to do with it).
			return &StaffCardDoc{Village: s.cfg.Node.Name, Name: m.Name, Role: title, Issued: c.Issued,
				Token: s.tokens.Sign(bolt.TokenStaffCard, bolt.StaffCardTokenID(c))}, nil
		},
	})
}

// StaffCardDoc is one staff card on its own 86 × 54 mm page.
type StaffCardDoc struct {
	Village string `json:"village,omitempty"`
	Name    string `json:"name,omitempty"`
	Role    string `json:"role,omitempty"` // e.g. 值班人员, 村党支部书记
	Issued  string `json:"issued,omitempty"`
	Token   string `json:"token,omitempty"` // the QR code; made by the caller
}

func (*StaffCardDoc) Kind() string { return "staff_card" }

func (c *StaffCardDoc) draw(d *doc) error {
	d.setTitle("工作证")
	d.ml, d.mr, d.mt, d.mb = 0, 0, 0, 0
	d.addPage(paper{cardH, cardW}, true)
	const pad = 3.5
	d.pdf.SetFillColor(228, 228, 228)
	d.pdf.Rect(0, 0, cardW, 10, "F")
	d.setSize(12)
	d.textAt(pad, 1.5, cardW-2*pad, or(c.Village, "")+"工作证", center)
	const qrSize = 30.0
	qx, qy := cardW-pad-qrSize, 12.0
	if err := d.qr(c.Token, qx, qy, qrSize); err != nil {
		return err
	}
	d.setSize(6.5)
	if c.Token != "" {
		d.textAt(qx-2, qy+qrSize, qrSize+4, "在村便民服务终端扫码签到", center)
	}
	tw := cardW - 2*pad - qrSize - 2
	d.box(pad, 13, tw, 12, or(c.Name, blank), 16, 9, left)
	d.box(pad, 26, tw, 8, or(c.Role, blank), 10, 6, left)
	d.box(pad, 35, tw, 6, or(c.Village, blank), 9, 6, left)
	d.box(pad, 44, tw, 8, "发证日期："+or(c.Issued, blank)+"\n遗失请告知村负责人停用", 6.5, 5, left)
	return nil
}
