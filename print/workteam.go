package print

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gridbox/appliance"
)

func init() {
	register(Kind{Name: "team_journal", Title: "驻村工作心得", New: func() Document { return &TeamJournal{} }})
	register(Kind{Name: "rules_board", Title: "制度上墙", New: func() Document { return &RulesBoard{} }})
	addSource(source{
		doc: appliance.PrintDoc{Kind: "team_journal", Title: "驻村工作心得（小册）", Fields: []string{"record"}, Perm: appliance.PermPrint},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			village := s.cfg.Node.Code
			team, err := s.store.Team(village)
			if err != nil {
				return nil, err
			}
			member := req.Record // a member's id; empty: the whole team
			doc := &TeamJournal{Village: s.cfg.Node.Name, Team: team.Name, Booklet: true}
			if member != "" {
				m, ok := team.Member(member)
				if !ok {
					return nil, appliance.FieldError("record", "没有这名队员")
				}
				doc.Member, doc.Unit = m.Name, m.Unit
			}
			js, err := s.store.Journals(village, member)
			if err != nil {
				return nil, err
			}
			for _, j := range js {
				day, _ := time.ParseInLocation("2006-01-02", j.Date, s.loc)
				doc.Entries = append(doc.Entries, JournalEntry{Date: day, Name: j.Name, Text: j.Text})
			}
			return doc, nil
		},
	})
	addSource(source{
		doc: appliance.PrintDoc{Kind: "rules_board", Title: "制度上墙（职责清单）", Fields: []string{"paper"}, Papers: []string{"a4", "a3"}, Perm: appliance.PermPrint},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			lists, err := s.store.Rules(s.cfg.Node.Code)
			if err != nil {
				return nil, err
			}
			if req.Paper != "" && req.Paper != "a4" && req.Paper != "a3" {
				return nil, appliance.FieldError("paper", "制度上墙只能用 A4 或 A3 纸")
			}
			b := &RulesBoard{Village: s.cfg.Node.Name, A3: req.Paper == "a3"}
			for _, l := range lists {
				b.Lists = append(b.Lists, RulesList{Title: l.Title, Items: l.Items})
			}
			return b, nil
		},
	})
}

// JournalEntry is one entry of a work journal.
type JournalEntry struct {
	Date time.Time `json:"date,omitempty"`
	Name string    `json:"name,omitempty"`
	Text string    `json:"text,omitempty"`
}

// TeamJournal is the work journal (驻村工作心得) of a team member or a
// whole team, as A5 pages, a folded booklet when Booklet is set.
type TeamJournal struct {
	Village string         `json:"village,omitempty"`
	Team    string         `json:"team,omitempty"`
	Member  string         `json:"member,omitempty"` // empty: the whole team
	Unit    string         `json:"unit,omitempty"`
	Entries []JournalEntry `json:"entries,omitempty"`
	Booklet bool           `json:"booklet,omitempty"`
}

func (*TeamJournal) Kind() string { return "team_journal" }

func (tj *TeamJournal) draw(d *doc) error {
	d.setTitle("驻村工作心得")
	if tj.Booklet {
		return d.imposeBooklet(tj.pages)
	}
	return tj.pages(d)
}

func (tj *TeamJournal) pages(d *doc) error {
	d.ml, d.mr, d.mt, d.mb = 14, 14, 14, 14
	d.header = nil
	d.addPage(pageA5, false)
	d.y = 50
	d.heading("驻村工作心得", 26, center)
	d.gap(18)
	for _, l := range [][2]string{{"驻村", tj.Village}, {"工作队", tj.Team}, {"队员", tj.Member}, {"派出单位", tj.Unit}} {
		if l[1] != "" {
			d.lines(l[0]+"："+l[1], 12, center)
			d.gap(3)
		}
	}
	d.header = func(d *doc) {
		d.setSize(8)
		d.textAt(d.ml, d.mt-8, d.contentW(), "驻村工作心得　"+or(tj.Member, tj.Team), left)
		d.hline(d.ml, d.pw-d.mr, d.mt-2.5, 0.2)
		d.pageNumber()
	}
	d.addPage(pageA5, false)
	if len(tj.Entries) == 0 {
		d.para("尚无心得。", 10.5, 0)
	}
	for i, e := range tj.Entries {
		if i > 0 {
			d.gap(3)
		}
		head := dateCN(e.Date) + "　" + weekdayCN(e.Date)
		if tj.Member == "" {
			head += "　" + e.Name
		}
		d.heading(head, 11, left)
		d.gap(1)
		for _, p := range strings.Split(e.Text, "\n") {
			d.para(strings.TrimSpace(p), 10.5, 7)
		}
	}
	return nil
}

// RulesList is one list of the rules board.
type RulesList struct {
	Title string   `json:"title,omitempty"`
	Items []string `json:"items,omitempty"`
}

// RulesBoard is the duties printed for the wall (制度上墙).
type RulesBoard struct {
	Village string      `json:"village,omitempty"`
	Lists   []RulesList `json:"lists,omitempty"`
	A3      bool        `json:"a3,omitempty"`
}

func (*RulesBoard) Kind() string { return "rules_board" }

func (b *RulesBoard) draw(d *doc) error {
	title := b.Village + "网格化管理工作制度"
	d.setTitle(title)
	p := pageA4
	if b.A3 {
		p, d.scale = pageA3, noticeA3
	}
	d.header = func(d *doc) {
		if d.pageNo() > 1 {
			d.pageNumber()
		}
	}
	d.addPage(p, false)
	d.heading(title, 22, center)
	d.gap(4)
	for i, l := range b.Lists {
		if i > 0 {
			d.gap(5)
		}
		d.heading(l.Title, 15, left)
		d.gap(1)
		for k, it := range l.Items {
			d.para(fmt.Sprintf("%d. %s", k+1, it), 12, 0)
		}
	}
	return nil
}
