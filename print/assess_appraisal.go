package print

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gridbox/appliance"
)

// The yearly appraisal (鉴定) of a seconded cadre, for their home unit's
// personnel office: the year's evidence, the opinion, the grade and who
// signs. Unsaved, it prints as a draft from the evidence.
func init() {
	register(Kind{Name: "appraisal", Title: "下沉干部年度鉴定", New: func() Document { return &AppraisalLetter{} }})
	addSource(source{
		doc: appliance.PrintDoc{Kind: "appraisal", Title: "下沉干部年度鉴定", Fields: []string{"record"}, Perm: appliance.PermManageMeetings},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			return s.appraisal(req.Record)
		},
	})
}

// AppraisalLetter is the printed appraisal.
type AppraisalLetter struct {
	appliance.Appraisal
	Village string `json:"village_name,omitempty"` // the village's name
	Issuer  string `json:"issuer,omitempty"`       // who issues it: the village or the town, by name
	Draft   bool   `json:"draft,omitempty"`
}

func (*AppraisalLetter) Kind() string { return "appraisal" }

func (a *AppraisalLetter) draw(d *doc) error {
	d.header = func(d *doc) { d.pageNumber() }
	d.addPage(pageA4, false)
	title := fmt.Sprintf("%d年度下沉干部驻村工作鉴定", a.Year)
	if a.Draft {
		title += "（草稿）"
	}
	d.setTitle(title)
	d.heading(title, 18, center)
	d.gap(4)
	d.para(a.Unit+"人事部门：", 12, 0)
	d.gap(1)
	d.para(fmt.Sprintf("贵单位%s同志%d年派驻%s群众工作队，现将其驻村工作鉴定如下。", a.Name, a.Year, a.Village), 12, 8)
	d.gap(3)
	f := a.Facts
	score := or(f.Score, "—")
	d.table("", []column{{"", 2, left}, {"", 2.5, left}, {"", 2, left}, {"", 2.5, left}}, [][]string{
		{"姓名", a.Name, "派出单位", a.Unit},
		{"驻村天数", fmt.Sprintf("%d天（应%d天）", f.DaysIn, f.DaysRequired), "工作心得", fmt.Sprintf("%d篇", f.Journals)},
		{"走访巡查", fmt.Sprintf("%d次", f.Visits), "年度积分", score},
		{"督查发现", fmt.Sprintf("%d次", f.Findings), "鉴定等次", or(a.Grade, blank)},
	}, 11)
	d.gap(4)
	d.heading("鉴定意见", 13, left)
	d.gap(1)
	for _, p := range strings.Split(strings.ReplaceAll(a.Text, "\r\n", "\n"), "\n") {
		d.para(p, 12, 8)
	}
	d.gap(12)
	d.lines(a.Issuer+"（盖章）", 12, right)
	d.lines("签署人："+or(a.Signer, blank), 12, right)
	day, _ := time.Parse(time.DateOnly, a.Date)
	d.lines(or(dateCN(day), blank), 12, right)
	return nil
}

// appraisal builds the letter for record village.year.member: the saved
// appraisal, or a draft from the year's evidence.
func (s *PrintService) appraisal(record string) (Document, error) {
	parts := strings.Split(record, ".")
	bad := appliance.FieldError("record", "请填写 村代码.年度.队员编号")
	if len(parts) != 3 {
		return nil, bad
	}
	village, member := parts[0], parts[2]
	year, err := strconv.Atoi(parts[1])
	if err != nil || len(village) != 12 || !appliance.ValidID(member) {
		return nil, bad
	}
	if s.cfg.Node.Code != village && s.cfg.Node.Code != appliance.TownOf(village) {
		return nil, appliance.FieldError("record", "鉴定由驻村的村或其乡镇出具")
	}
	names := map[string]string{s.cfg.Node.Code: s.cfg.Node.Name}
	vname := s.cfg.Node.Name
	if s.cfg.Node.Code != village {
		if g, err := s.store.Grid(village); err == nil {
			vname = g.Name
		} else {
			vname = village
		}
	}
	now := time.Now().In(s.loc)
	a, err := s.store.Appraisal(village, year, member)
	if err == nil {
		return &AppraisalLetter{Appraisal: a, Village: vname, Issuer: or(names[a.Writer], a.Writer)}, nil
	}
	if appliance.ErrorCode(err) != appliance.ENOTFOUND {
		return nil, err
	}
	m, facts, err := s.store.AppraisalFacts(village, year, member, now.Format(time.DateOnly))
	if err != nil {
		if appliance.ErrorCode(err) == appliance.ENOTFOUND || appliance.ErrorField(err) == "member" {
			return nil, appliance.FieldError("record", "%s", appliance.ErrorMessage(err))
		}
		return nil, err
	}
	return &AppraisalLetter{Appraisal: appliance.Appraisal{Village: village, Year: year, Member: m.ID, Name: m.Name, Unit: m.Unit, Writer: s.cfg.Node.Code,
		Facts: facts, Text: appliance.DraftAppraisal(m.Name, year, facts)}, Village: vname, Issuer: s.cfg.Node.Name, Draft: true}, nil
}
