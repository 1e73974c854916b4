package print

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// Documents made for the households of a village or group: their service
// cards (明白卡) and the open letter (致村民的一封信), and a grid worker's
// work manual (工作手册).

func init() {
	addSource(source{
		doc: appliance.PrintDoc{Kind: "card", Title: "服务明白卡", Fields: []string{"grid", "household", "paper"}, Papers: []string{"a4", "single"}, Perm: appliance.PermViewArchive},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			sheet := &CardSheet{}
			switch req.Paper {
			case "", "a4":
			case "single":
				sheet.Layout = CardSingle
			default:
				return nil, appliance.FieldError("paper", "明白卡只能每张A4排8张，或单张卡片打印")
			}
			hs, err := s.householdsFor(req)
			if err != nil {
				return nil, err
			}
			services := s.cardServices()
			code, kioskOnly, err := s.qrCodes()
			if err != nil {
				return nil, err
			}
			for _, h := range hs.list {
				l := hs.leader(h)
				// The QR code carries only the signed opaque record id; the
				// label is the door number, as on the door.
				sheet.Cards = append(sheet.Cards, Card{Village: s.cfg.Node.Name, Group: hs.groupName(h), Household: h.HouseNo,
					GridLeader: l.Name, LeaderPhone: l.Phone, DutyPhone: s.cfg.DutyPhone, Services: services,
					Token: code(bolt.TokenHousehold, h.ID), KioskOnly: kioskOnly})
			}
			if len(sheet.Cards) == 0 {
				return nil, appliance.FieldError("grid", "这个网格还没有登记农户")
			}
			return sheet, nil
		},
	})
	addSource(source{
		doc: appliance.PrintDoc{Kind: "letter", Title: "致村民的一封信（每户一份）", Fields: []string{"grid", "household"}, Perm: appliance.PermViewArchive},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			hs, err := s.householdsFor(req)
			if err != nil {
				return nil, err
			}
			ids := make([]string, len(hs.list))
			for i, h := range hs.list {
				ids[i] = h.ID
			}
			heads, err := s.store.HeadNames(ids)
			if err != nil {
				return nil, err
			}
			l := &Letter{Village: s.cfg.Node.Name, DutyPhone: s.cfg.DutyPhone, Date: time.Now().In(s.loc),
				Signature: s.cfg.Node.Name + "党支部　" + s.cfg.Node.Name + "村民委员会"}
			for _, h := range hs.list {
				ld := hs.leader(h)
				name := ""
				if n := heads[h.ID]; n != "" {
					name = n + "户"
				}
				// The head's name addresses the copy delivered to that house;
				// no ID numbers or villagers' phones are printed.
				l.Households = append(l.Households, LetterHousehold{Name: name, Group: hs.groupName(h), GridLeader: ld.Name, LeaderPhone: ld.Phone})
			}
			if len(l.Households) == 0 {
				return nil, appliance.FieldError("grid", "这个网格还没有登记农户")
			}
			return l, nil
		},
	})
	addSource(source{
		doc: appliance.PrintDoc{Kind: "manual", Title: "网格员工作手册", Fields: []string{"staff"}, Perm: appliance.PermViewArchive},
		build: func(ctx context.Context, s *PrintService, req appliance.PrintRequest) (Document, error) {
			if req.Staff == "" {
				return nil, appliance.FieldError("staff", "请选择网格员")
			}
			m, err := s.store.Staff(req.Staff)
			if err != nil {
				return nil, appliance.FieldError("staff", "没有这个网格员")
			}
			if err := inScope(req, m.Grid); err != nil {
				return nil, err
			}
			now := time.Now().In(s.loc)
			man := &Manual{Worker: m.Name, Phone: m.Phone, Village: s.cfg.Node.Name, Year: now.Year(), Checklists: manualChecklists}
			hs, err := s.householdsOf(m.Grid)
			if err != nil {
				return nil, err
			}
			for _, g := range hs.groups {
				if appliance.InScope(appliance.ScopePrefix(m.Grid), g.Code) {
					man.Groups = append(man.Groups, g.Name)
				}
			}
			duty := appliance.DutyLabels[m.Duty]
			if m.Title != "" {
				duty = m.Title + "（" + duty + "）"
			}
			man.Duties = append([]string{fmt.Sprintf("本人职责：%s，负责%s。", duty, joinCN(man.Groups))}, manualDuties...)
			shifts, err := s.store.FindDuty(s.cfg.Node.Code, fmt.Sprintf("%d-01-01", now.Year()), fmt.Sprintf("%d-12-31", now.Year()))
			if err != nil {
				return nil, err
			}
			for _, sh := range shifts {
				if sh.StaffID == m.ID && !sh.Removed {
					if d, err := time.ParseInLocation("2006-01-02", sh.Date, s.loc); err == nil {
						man.DutyDays = append(man.DutyDays, d)
					}
				}
			}
			for _, h := range hs.list {
				hh, members, err := s.store.Household(h.ID)
				if err != nil {
					return nil, err
				}
				mh := ManualHousehold{Group: hs.groupName(h), Address: hh.Address, Phone: hh.Phone}
				n := 0
				for _, p := range members {
					if !p.Active() {
						continue
					}
					n++
					if p.ID == hh.Head {
						mh.Head = p.Name
					}
				}
				mh.Members = n
				man.Households = append(man.Households, mh)
			}
			return man, nil
		},
	})
}

var manualDuties = []string{
	"每月走访网格内每户至少一次，独居老人、困难户、重病户每周走访，记入民情日记。",
	"及时发现并上报矛盾纠纷、安全隐患、违法建设、环境卫生等问题，能在组内解决的当场解决。",
	"帮助群众代办低保、医保、高龄补贴等事项，把办理结果告诉群众。",
	"掌握网格内人口、房屋变动情况，及时更新户籍档案。",
	"按排班到村值班室值班，接待来访群众，登记问题。",
}

var manualChecklists = []Checklist{
	{Title: "入户走访", Items: []string{"家庭成员有无变动（出生、死亡、迁入迁出、外出务工）", "有无困难需要帮助（低保、医疗、就学、住房）", "有无矛盾纠纷", "用火用电用气是否安全", "对村里工作的意见建议"}},
	{Title: "网格巡查", Items: []string{"道路、桥梁、水渠有无损坏", "有无违法建设、乱堆乱放", "河塘、水库周边安全警示是否完好", "垃圾是否及时清运", "有无可疑人员和情况"}},
	{Title: "值班", Items: []string{"按时到岗，填写值班记录", "来访来电登记受理并出具回执", "急事及时报告带班领导", "交接班说明未办结事项"}},
}

func joinCN(xs []string) string {
	out := ""
	for i, x := range xs {
		if i > 0 {
			out += "、"
		}
		out += x
	}
	return out
}

// households is the open households of a scope with their groups and leaders.
type households struct {
	list    []appliance.Household
	groups  []appliance.Grid
	names   map[string]string
	leaders map[string]appliance.StaffMember
}

func (hs households) groupName(h appliance.Household) string { return hs.names[h.Group] }
func (hs households) leader(h appliance.Household) appliance.StaffMember {
	return hs.leaders[h.Group]
}

// householdsFor returns the households a request names: one household
// (req.Household, a record id), a group (req.Grid), or without either all
// of the user's scope: the village for a village lead, their group for a
// grid leader.
func (s *PrintService) householdsFor(req appliance.PrintRequest) (households, error) {
	grid := req.Grid
	if grid == "" && strings.Contains(req.Scope, "-") {
		grid = req.Scope
	}
	if req.Household == "" {
		if err := inScope(req, or(grid, s.cfg.Node.Code)); err != nil {
			return households{}, err
		}
		return s.householdsOf(grid)
	}
	h, _, err := s.store.Household(req.Household)
	if err != nil || h.Closed != "" || !appliance.InScope(appliance.ScopePrefix(s.cfg.Node.Code), h.Group) {
		return households{}, appliance.FieldError("household", "没有这一户，或已注销")
	}
	if err := inScope(req, h.Group); err != nil {
		return households{}, err
	}
	if req.Grid != "" && !appliance.InScope(appliance.ScopePrefix(req.Grid), h.Group) {
		return households{}, appliance.FieldError("household", "这一户不在所选网格")
	}
	hs, err := s.householdsOf(h.Group)
	if err != nil {
		return hs, err
	}
	hs.list = []appliance.Household{h}
	return hs, nil
}

// householdsOf returns the open households of a group, or of the whole
// village when grid is empty or the village, in group order.
func (s *PrintService) householdsOf(grid string) (households, error) {
	village := s.cfg.Node.Code
	scope := appliance.ScopePrefix(village)
	if grid != "" && grid != village {
		if g, err := s.store.Grid(grid); err != nil || !appliance.InScope(scope, g.Code) {
			return households{}, appliance.FieldError("grid", "没有这个网格")
		}
		scope = grid
	}
	hs := households{names: map[string]string{}, leaders: map[string]appliance.StaffMember{}}
	var err error
	if hs.groups, err = s.store.FindGrids(appliance.GridFilter{Parent: &village}); err != nil {
		return hs, err
	}
	staff, err := s.store.FindStaff(appliance.StaffFilter{})
	if err != nil {
		return hs, err
	}
	for _, g := range hs.groups {
		hs.names[g.Code] = g.Name
		for _, m := range staff {
			if m.Grid == g.Code && m.Duty == appliance.DutyGridLeader && !m.Retired {
				hs.leaders[g.Code] = m
				break
			}
		}
	}
	all, err := s.store.Households(scope, 0, "")
	if err != nil {
		return hs, err
	}
	for _, h := range all {
		if h.Closed == "" {
			hs.list = append(hs.list, h)
		}
	}
	return hs, nil
}

// cardServices are the service items as a card shows them: names and where
// to ask, without the procedures (those are on the notice board).
func (s *PrintService) cardServices() []Service {
	out := make([]Service, 0, len(s.cfg.Services))
	for _, it := range s.cfg.Services {
		out = append(out, Service{Name: it.Name, Where: it.Where})
	}
	return out
}
