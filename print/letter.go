package print

import (
	"strings"
	"time"
)

func init() {
	register(Kind{Name: "letter", Title: "致村民的一封信", New: func() Document { return &Letter{} }})
}

// LetterHousehold is one addressee of an open letter.
type LetterHousehold struct {
	Name        string `json:"name,omitempty"` // how to address them, e.g. "刘建国户"
	Group       string `json:"group,omitempty"`
	GridLeader  string `json:"grid_leader,omitempty"`
	LeaderPhone string `json:"leader_phone,omitempty"`
	Token       string `json:"token,omitempty"` // optional QR code
}

// Letter is an open letter to every household of a village, one copy per
// household with its own grid leader filled in.
type Letter struct {
	Village    string            `json:"village,omitempty"`
	Title      string            `json:"title,omitempty"`     // default "致全村群众的一封信"
	Body       []string          `json:"body,omitempty"`      // paragraphs; a default text on grid management when empty
	Signature  string            `json:"signature,omitempty"` // e.g. "中共刘沟村支部委员会　刘沟村村民委员会"
	Date       time.Time         `json:"date,omitempty"`
	DutyPhone  string            `json:"duty_phone,omitempty"`
	Households []LetterHousehold `json:"households,omitempty"`
}

func (*Letter) Kind() string { return "letter" }

var defaultLetterBody = []string{
	"为了把服务送到家门口，让大家的事有人管、有人办，我村实行网格化管理：全村按村民小组划分为若干网格，每个网格由一名网格长负责，定期走访每家每户，了解大家的困难和意见，帮助办理低保、医保、高龄补贴等事项，及时调解矛盾纠纷。",
	"您家遇到困难、有意见建议，或发现安全隐患、违法建设、环境卫生等问题，请随时联系您户的网格长，也可以拨打村值班电话或到村值班室反映。我们将及时受理，能在村里解决的马上解决，需要上级处理的按时上报，并把办理结果告诉您。",
	"网格化管理离不开大家的支持和参与。让我们携起手来，共同建设平安、和谐、美丽的家园！",
}

func (l *Letter) draw(d *doc) error {
	title := or(l.Title, "致全村群众的一封信")
	d.setTitle(title)
	d.ml, d.mr, d.mt, d.mb = 25, 25, 25, 20
	body := l.Body
	if len(body) == 0 {
		body = defaultLetterBody
	}
	hs := l.Households
	if len(hs) == 0 { // one copy with blanks to fill in by hand
		hs = []LetterHousehold{{}}
	}
	for _, h := range hs {
		d.addPage(pageA4, false)
		d.heading(title, 20, center)
		d.gap(6)
		d.para("尊敬的"+or(h.Name, "村民朋友")+"：", 12, 0)
		d.gap(2)
		for _, p := range body {
			d.para("　　"+strings.TrimSpace(p), 12, 0)
			d.gap(1.5)
		}
		d.gap(6)
		if l.Signature != "" {
			d.lines(l.Signature, 12, right)
		}
		if !l.Date.IsZero() {
			d.lines(dateCN(l.Date), 12, right)
		}
		d.gap(8)
		if err := d.contactBox(l.Village, h, l.DutyPhone); err != nil {
			return err
		}
	}
	return nil
}

// contactBox is the framed "your grid leader" box at the foot of a letter.
func (d *doc) contactBox(village string, h LetterHousehold, dutyPhone string) error {
	const pad = 4.0
	qr := 0.0
	if h.Token != "" {
		qr = 28
	}
	lines := []string{
		"您户所在网格：" + or(strings.TrimSpace(village+" "+h.Group), blank),
		"您户的网格长：" + or(h.GridLeader, blank) + "　　联系电话：" + or(h.LeaderPhone, blank),
		"村值班电话：" + or(dutyPhone, blank),
	}
	w := d.contentW() - 2*pad - qr
	if qr > 0 {
		w -= pad
	}
	th := 0.0
	for _, s := range lines {
		th += d.measure(s, 12, w) + 1
	}
	bh := maxf(th, qr) + 2*pad
	d.ensure(bh)
	d.pdf.SetLineWidth(0.4)
	d.pdf.Rect(d.ml, d.y, d.contentW(), bh, "D")
	y := d.y + pad
	for _, s := range lines {
		y += d.box(d.ml+pad, y, w, d.bottom()-y, s, 12, 12, left) + 1
	}
	if qr > 0 {
		if err := d.qr(h.Token, d.ml+d.contentW()-pad-qr, d.y+pad, qr); err != nil {
			return err
		}
	}
	d.y += bh
	return nil
}
