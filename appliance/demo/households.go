package demo

import (
	"context"
	"fmt"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

func init() {
	Register(Step{Name: "households", Run: households})
}

var (
	awayPlaces = []string{"郑州", "广州", "深圳", "上海", "北京", "杭州", "苏州", "新郑"}
	housing    = []string{"砖混", "砖混", "砖混", "框架楼房", "砖木", "土木"}
	jobs       = []string{"务农", "务农", "务工", "个体经营", "务农", "无"}
	visitSeen  = []string{
		"家中一切正常，老人身体尚好，了解了冬季取暖准备情况。",
		"宣传了医保集中缴费政策，户主表示近期到值班室缴费。",
		"子女在外务工，老人独自在家，叮嘱注意用电和防滑。",
		"了解到家中种植的小麦已播种，希望村里统一组织病虫害防治。",
		"家中有慢性病人，询问了用药和家庭医生签约情况。",
		"宣传了防范电信诈骗知识，发放了明白卡。",
		"反映门前道路有坑洼，雨天积水，已记录。",
		"低保户，了解了收入变化情况，暂无变化。",
	}
	patrolPlaces = []string{"西岭水渠", "村东河道", "村委会广场", "小学门口", "北坡林地", "村西养殖场"}
	patrolSeen   = []string{"巡查一遍，未发现异常。", "林地未发现火情和病虫害。", "河道水位正常，护栏完好。", "发现有人焚烧秸秆，已当场劝阻。"}
)

// households builds ~50 households per group with their members, then a
// month of visits and patrols by each group's grid leader and workers.
func households(ctx context.Context, v *Village) error {
	s := v.Store
	cats := v.Config.Archive.KeyPersonCategories
	used := map[string]bool{}
	seq := 0
	person := func(name, rel string, birth time.Time, male bool) appliance.Person {
		var id string
		for {
			seq++
			id = appliance.MakeCitizenID("410184", birth, (seq*7+v.Rand.IntN(7))%1000, male)
			if !used[id] {
				used[id] = true
				break
			}
		}
		p := appliance.Person{Name: name, Relation: rel, Residence: appliance.ResidenceHere, Insured: v.Rand.IntN(20) > 0,
			InsuranceScheme: "城乡居民医保", Employment: jobs[v.Rand.IntN(len(jobs))],
			Sensitive: &appliance.Sensitive{IDNumber: id, Health: appliance.HealthGood}}
		p.Normalize()
		if age := v.End.Year() - birth.Year(); age < 18 {
			p.Employment = "学生"
		} else if age >= 18 && age <= 50 && v.Rand.IntN(10) < 3 {
			p.Residence, p.ResidenceWhere, p.Employment = appliance.ResidenceAway, awayPlaces[v.Rand.IntN(len(awayPlaces))], "务工"
			since := v.End.AddDate(-1-v.Rand.IntN(age-17), -v.Rand.IntN(12), 0)
			p.ResidenceSince = time.Date(since.Year(), since.Month(), 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02")
		} else if age >= 65 && v.Rand.IntN(10) < 3 {
			p.Sensitive.Health = appliance.HealthChronic
		}
		if v.Rand.IntN(60) == 0 {
			p.Sensitive.Health, p.Sensitive.DisabilityGrade = appliance.HealthDisabled, []string{"一级", "二级", "三级", "四级"}[v.Rand.IntN(4)]
		}
		if age := v.End.Year() - birth.Year(); age >= 16 && v.Rand.IntN(5) > 0 {
			p.Phone = v.Mobile()
		}
		if v.Rand.IntN(40) == 0 {
			p.Sensitive.KeyCategories = []string{cats[v.Rand.IntN(len(cats))]}
		}
		return p
	}
	date := func(y int) time.Time {
		return time.Date(y, time.Month(1+v.Rand.IntN(12)), 1+v.Rand.IntN(28), 0, 0, 0, 0, time.UTC)
	}
	surname := func() string { return string(surnames[v.Rand.IntN(len(surnames))]) }
	given := func(male bool) string {
		if male {
			return maleGiven[v.Rand.IntN(len(maleGiven))]
		}
		return femaleGiven[v.Rand.IntN(len(femaleGiven))]
	}
	year := v.End.Year()
	type house struct {
		h  appliance.Household
		ms []appliance.Person
	}
	var all []house
	for gi, g := range v.Groups {
		n := 46 + v.Rand.IntN(10)
		for i := 0; i < n; i++ {
			fam := surname()
			switch {
			case gi == 0 && i == 0:
				fam = "单"
			case gi == 1 && i == 0:
				fam = "曾"
			}
			h := appliance.Household{ID: s.NewRecordID("h"), Group: g.Code, Address: fmt.Sprintf("%s%s%d号", v.Config.Node.Name, g.Name, i+1),
				HouseNo: fmt.Sprintf("%d-%03d", gi+1, i+1), HousingKind: housing[v.Rand.IntN(len(housing))],
				FloorArea: float64(60 + v.Rand.IntN(180)), Safety: "A"}
			if r := v.Rand.IntN(40); r == 0 {
				h.Safety = "C"
			} else if r == 1 {
				h.Safety = "D"
			} else if r < 12 {
				h.Safety = "B"
			}
			var ms []appliance.Person
			kind := v.Rand.IntN(100)
			headMale := v.Rand.IntN(6) > 0
			switch {
			case kind < 9: // elderly living alone
				ms = append(ms, person(fam+given(headMale), "户主", date(year-80-v.Rand.IntN(12)), headMale))
			case kind < 22: // elderly couple
				hb := date(year - 66 - v.Rand.IntN(18))
				ms = append(ms, person(fam+given(true), "户主", hb, true),
					person(surname()+given(false), "配偶", date(hb.Year()+v.Rand.IntN(4)), false))
			default: // family
				hb := date(year - 30 - v.Rand.IntN(35))
				ms = append(ms, person(fam+given(headMale), "户主", hb, headMale),
					person(surname()+given(!headMale), "配偶", date(hb.Year()-2+v.Rand.IntN(5)), !headMale))
				kids := v.Rand.IntN(3)
				if year-hb.Year() < 70 {
					kids++
				}
				for k := 0; k < kids; k++ {
					kb := date(hb.Year() + 22 + v.Rand.IntN(14))
					if kb.Year() > year-1 {
						continue
					}
					male := v.Rand.IntN(2) == 0
					rel := "女"
					if male {
						rel = "子"
					}
					name := fam + given(male)
					for _, m := range ms {
						if m.Name == name { // siblings do not share a name
							name = fam + given(male) + given(male)[:3]
						}
					}
					ms = append(ms, person(name, rel, kb, male))
				}
				if year-hb.Year() < 50 && v.Rand.IntN(4) == 0 {
					ms = append(ms, person(fam+given(false), "母亲", date(hb.Year()-25-v.Rand.IntN(6)), false))
				}
			}
			if gi == 2 && i == 3 && len(ms) > 2 {
				ms[2].Name = fam + "𠇔" // a rare character outside the BMP, kept exactly
			}
			if v.Rand.IntN(18) == 0 {
				ms[0].Dibao = true
				ms[0].Sensitive.DibaoSince = fmt.Sprintf("%d-%02d-01", year-1-v.Rand.IntN(6), 1+v.Rand.IntN(12))
				ms[0].Sensitive.DibaoCategory = []string{"一类", "二类", "三类"}[v.Rand.IntN(3)]
				ms[0].Sensitive.DibaoAmount = float64(300 + 50*v.Rand.IntN(8))
			}
			if ms[0].Phone != "" {
				h.Phone = ms[0].Phone
			}
			for k := range ms {
				ms[k].ID = s.NewRecordID("p")
				ms[k].Household = h.ID
			}
			h.Head = ms[0].ID
			all = append(all, house{h, ms})
		}
	}
	// One possible duplicate for the review list: the same name and birth
	// date registered in two groups' sheets (a daughter married into group 5).
	if len(all) > 240 {
	find:
		for _, x := range all[12:] {
			for _, m := range x.ms {
				if m.Gender == "女" && m.Relation == "配偶" {
					dup := person(m.Name, "儿媳", m.BirthDate(), false)
					dup.ID, dup.Household = s.NewRecordID("p"), all[240].h.ID
					all[240].ms = append(all[240].ms, dup)
					break find
				}
			}
		}
	}
	// All households in one transaction: the archive as the village took it in.
	_, err := s.Write(ctx, func(tx *bolt.Tx) ([]appliance.Draft, error) {
		var drafts []appliance.Draft
		for _, x := range all {
			d, err := tx.ArchiveDraft("u-leader", appliance.ArchiveChange{Event: appliance.EventCreate, Households: []appliance.Household{x.h}, Members: x.ms})
			if err != nil {
				return nil, fmt.Errorf("household %s: %w", x.h.Address, err)
			}
			drafts = append(drafts, d)
		}
		return drafts, nil
	})
	if err != nil {
		return err
	}
	byGroup := map[string][]string{}
	for _, x := range all {
		byGroup[x.h.Group] = append(byGroup[x.h.Group], x.h.ID)
	}
	return visits(ctx, v, byGroup)
}

// visits writes a month of visits and patrols, one transaction a day. Most
// workers keep to the target; one in each few falls behind, and some
// households at the far end of each group are not reached.
func visits(ctx context.Context, v *Village, byGroup map[string][]string) error {
	cal, err := appliance.NewCalendar(v.Config.Calendar)
	if err != nil {
		return err
	}
	target, _ := v.Config.Archive.VisitRule()
	type worker struct {
		m    appliance.StaffMember
		next int // next household index in the group
		pace int // visits per working day
	}
	var ws []*worker
	for i, m := range v.Staff {
		if m.Duty == appliance.DutyGridLeader || m.Duty == appliance.DutyGridWorker {
			pace := target + v.Rand.IntN(2)
			if i%5 == 0 {
				pace = 1 // behind the target
			}
			ws = append(ws, &worker{m: m, pace: pace})
		}
	}
	s := v.Store
	for d := v.Start.AddDate(0, 0, 1); d.Before(v.End); d = d.AddDate(0, 0, 1) {
		if !cal.IsWorkday(d) {
			continue
		}
		v.At(d.Add(18 * time.Hour))
		_, err := s.Write(ctx, func(tx *bolt.Tx) ([]appliance.Draft, error) {
			var drafts []appliance.Draft
			for wi, w := range ws {
				hh := byGroup[w.m.Grid]
				// Workers of a group share it: each walks its own part.
				reach := len(hh) * 9 / 10
				for k := 0; k < w.pace; k++ {
					idx := (w.next + wi*7) % reach
					w.next++
					vis := appliance.Visit{ID: s.NewRecordID("v"), Worker: w.m.ID, Name: w.m.Name, Group: w.m.Grid, Kind: appliance.VisitHome,
						Household: hh[idx], Date: d.Format("2006-01-02"), Time: fmt.Sprintf("%02d:%02d", 8+k*2, v.Rand.IntN(60)),
						Seen: visitSeen[v.Rand.IntN(len(visitSeen))]}
					if v.Rand.IntN(12) == 0 {
						vis.Problems = "门前排水沟堵塞，雨天积水。"
						vis.FollowUp = "已告知村委会，安排清理。"
					}
					drafts = append(drafts, appliance.Draft{Author: "u-leader", Kind: appliance.KindVisitAdd, Version: 1, Body: vis})
				}
				if wi%2 == 0 && v.Rand.IntN(3) == 0 {
					vis := appliance.Visit{ID: s.NewRecordID("v"), Worker: w.m.ID, Name: w.m.Name, Group: w.m.Grid, Kind: appliance.VisitPatrol,
						Place: patrolPlaces[v.Rand.IntN(len(patrolPlaces))], Date: d.Format("2006-01-02"), Time: "16:30",
						Seen: patrolSeen[v.Rand.IntN(len(patrolSeen))]}
					drafts = append(drafts, appliance.Draft{Author: "u-leader", Kind: appliance.KindVisitAdd, Version: 1, Body: vis})
				}
			}
			return drafts, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
