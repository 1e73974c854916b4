package replicate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"sort"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/appliance/demo"
	"gridbox/appliance/voicetest"
)

// A village's real ledger for the replication benchmarks: the demo
// village (grid tree, staff, accounts, ~400 households with their people,
// a month of visits and cases) and then `cases` more cases over the days
// after it, written through the services the pages use (bolt.Cases,
// Store.RecordVisit, Store.SaveMember, Cases.CloseRegister) with their
// sealed parts, every step a village writes, photos, voice messages, visits and archive
// changes in the proportions below. docs/performance.md describes it.

// mix are the proportions of what a village writes, per case.
type mix struct {
	Name          string
	CasesPerDay   int
	Steps         bool    // each case goes up its ladder (else reports only)
	VisitsPerCase float64 // the demo's month has ~10: see docs/performance.md
	ArchivePer    int     // one archive change (a member's phone, health) per this many cases; 0 none
	PhotoPer      int     // one case in this many comes with a photo
	VoicePer      int     // one kiosk report in this many comes with a voice message; 0 none
	NotePer       int     // one case in this many gets a note; 0 none
}

// villageMix is the benchmark's mix: GRIDBOX_BENCH_MIX=reports gives case
// reports only (the issue's own measurement), else a village's.
var villageMix = func() mix {
	if os.Getenv("GRIDBOX_BENCH_MIX") == "reports" {
		return mix{Name: "reports", CasesPerDay: 50, PhotoPer: 50}
	}
	return mix{Name: "village2", CasesPerDay: 50, Steps: true, VisitsPerCase: 1, ArchivePer: 20, PhotoPer: 50, VoicePer: 8, NotePer: 10}
}()

// villageStats says what the generator wrote.
type villageStats struct {
	Cases, Steps, Visits, Archive, Closes, Photos, Voices int
	Kinds                                                 map[string]int
}

// planned is one step of a case, on a day after its report, at an hour.
type planned struct {
	day, hour int
	idx       int // the case
	author    string
	levels    []string
	step      appliance.CaseStep
}

// makeRealVillage builds the village in dir (a fresh folder): the demo
// village ending `cases/CasesPerDay` days ago, then the cases.
func makeRealVillage(tb testing.TB, dir string, cases int) villageStats {
	tb.Helper()
	ctx := context.Background()
	days := (cases + villageMix.CasesPerDay - 1) / villageMix.CasesPerDay
	start := time.Now().AddDate(0, 0, -days-1).Truncate(24 * time.Hour)
	v, _, err := demo.Generate(ctx, dir, demo.Options{Now: start})
	if err != nil {
		tb.Fatal(err)
	}
	sim := v.End
	clock := &appliance.Clock{Now: func() time.Time { return sim }}
	s, cfg, err := bolt.OpenDataDir(dir, &bolt.Options{NoSync: true, Clock: clock})
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	r := rand.New(rand.NewPCG(7, 11))
	cs, err := bolt.NewCases(s, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	cs.Now = func() time.Time { return sim }
	leader, lead, duty := v.Users[appliance.RoleGridLeader].ID, v.Users[appliance.RoleVillageLead].ID, v.Users[appliance.RoleDutyStaff].ID
	G, Vl := []string{appliance.CaseLevelGroup}, []string{appliance.CaseLevelGroup, appliance.CaseLevelVillage}
	var groups []string
	for _, g := range v.Groups {
		groups = append(groups, g.Code)
	}
	hh, err := s.Households(cfg.Node.Code, 10000, "")
	if err != nil || len(hh) == 0 {
		tb.Fatalf("households of the demo: %d, %v", len(hh), err)
	}
	var workers []appliance.StaffMember
	for _, m := range v.Staff {
		if m.Duty == appliance.DutyGridLeader || m.Duty == appliance.DutyGridWorker {
			workers = append(workers, m)
		}
	}
	st := villageStats{Kinds: map[string]int{}}
	var codes []string
	plans := map[int][]planned{} // day → steps
	first := sim.In(cfg.Location())
	base := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, cfg.Location()).AddDate(0, 0, 1)
	at := func(day, hour int) time.Time {
		return base.AddDate(0, 0, day).Add(time.Duration(hour)*time.Hour + time.Duration(r.IntN(50))*time.Minute)
	}
	S := func(a, text string) appliance.CaseStep { return appliance.CaseStep{Action: a, Text: text} }
	texts := []string{"网格长现场协调，已处理完毕", "已联系相关户主，当面说明情况并达成一致", "组织人员清理，恢复原状", "已上门核实并登记，按政策办理"}
	for day := 0; len(codes) < cases; day++ {
		// The lead closes yesterday's register first thing.
		if day > 0 {
			sim = at(day, 8)
			if _, err := cs.CloseRegister(ctx, lead, base.AddDate(0, 0, day-1).Format("2006-01-02")); err != nil {
				tb.Fatal(err)
			}
			st.Closes++
		}
		// The day's reports, each author's in one write.
		sim = at(day, 9)
		byAuthor := map[string][]bolt.CaseIntake{}
		idxOf := map[string][]int{}
		var authors []string
		for k := 0; k < villageMix.CasesPerDay && len(codes)+k < cases; k++ {
			n := len(codes) + k
			cat := benchCats2[r.IntN(len(benchCats2))]
			in := bolt.CaseIntake{Category: cat, Description: realText(r)}
			author := duty
			switch x := r.IntN(100); {
			case x < 40:
				in.Source, author = appliance.SourcePatrol, leader
			case x < 60:
				in.Source = appliance.SourceWalkIn
			case x < 78:
				in.Source = appliance.SourcePhone
			case x < 88:
				in.Source = appliance.SourceBox
			default:
				in.Source, author = appliance.SourceKiosk, ""
			}
			if in.Source != appliance.SourceBox && r.IntN(10) < 6 {
				in.Name, in.Phone = realName(r), realMobile(r)
			}
			if n%villageMix.PhotoPer == 0 {
				in.Photos = [][]byte{benchPhoto(n)}
				st.Photos++
			}
			// One kiosk report in eight is spoken (a 3-17 s recording at
			// the kiosk's 24 kbit/s; random bytes, as Opus packets nearly are).
			if villageMix.VoicePer > 0 && in.Source == appliance.SourceKiosk && n%villageMix.VoicePer == 1 {
				in.Voice = voicetest.WebM(time.Duration(3+n%15)*time.Second, 24000, uint64(n))
				st.Voices++
			}
			kind := caseKind(r)
			if kind != "open" && kind != "merge" && kind != "invalid" || r.IntN(10) < 8 {
				in.Group = groups[n%len(groups)]
			}
			if in.Group == "" && kind != "merge" && kind != "invalid" {
				kind = "open"
			}
			for _, p := range planSteps(r, n, kind, leader, lead, G, Vl, S, texts) {
				if villageMix.Steps {
					plans[day+p.day] = append(plans[day+p.day], p)
				}
			}
			if villageMix.NotePer > 0 && n%villageMix.NotePer == 3 {
				note := S(appliance.CaseNote, "已电话联系反映人，说明办理进度")
				plans[day] = append(plans[day], planned{hour: 10, idx: n, author: lead, levels: Vl, step: note})
			}
			if _, ok := byAuthor[author]; !ok {
				authors = append(authors, author)
			}
			byAuthor[author] = append(byAuthor[author], in)
			idxOf[author] = append(idxOf[author], n)
		}
		dayCodes := make([]string, len(codes)+villageMix.CasesPerDay)
		copy(dayCodes, codes)
		added := 0
		for _, a := range authors {
			rs, err := cs.RegisterMany(ctx, a, byAuthor[a])
			if err != nil {
				tb.Fatal(err)
			}
			for k, i := range idxOf[a] {
				dayCodes[i] = rs[k].Code
			}
			added += len(rs)
		}
		codes = dayCodes[:len(codes)+added]
		st.Cases += added
		// The day's steps, by hour; each case at most once per write.
		todays := plans[day]
		delete(plans, day)
		sort.SliceStable(todays, func(i, j int) bool { return todays[i].hour < todays[j].hour })
		for len(todays) > 0 {
			var rest []planned
			round := map[string][]appliance.CaseStep{}
			levels := map[string][]string{}
			seen := map[int]bool{}
			hour := todays[0].hour
			for _, p := range todays {
				if p.hour != hour || seen[p.idx] || p.idx >= len(codes) {
					rest = append(rest, p)
					continue
				}
				seen[p.idx] = true
				step := p.step
				step.Case = codes[p.idx]
				if step.Action == appliance.CaseMerge {
					step.DuplicateOf = codes[p.idx-1]
				}
				round[p.author] = append(round[p.author], step)
				levels[p.author] = p.levels
			}
			sim = at(day, hour)
			for a, steps := range round {
				if err := cs.ActMany(ctx, a, levels[a], steps); err != nil {
					tb.Fatalf("day %d hour %d: %v", day, hour, err)
				}
				st.Steps += len(steps)
			}
			for i := range rest {
				if rest[i].hour == hour {
					rest[i].hour++ // the same case twice in an hour: the next hour
				}
			}
			todays = rest
		}
		// Visits and patrols of the day, in one write per the demo.
		sim = at(day, 18)
		nv := int(float64(villageMix.CasesPerDay) * villageMix.VisitsPerCase)
		_, err := s.Write(ctx, func(tx *bolt.Tx) ([]appliance.Draft, error) {
			if nv == 0 {
				return nil, nil
			}
			var drafts []appliance.Draft
			for k := 0; k < nv; k++ {
				w := workers[r.IntN(len(workers))]
				h := hh[r.IntN(len(hh))]
				vis := appliance.Visit{ID: s.NewRecordID("v"), Worker: w.ID, Name: w.Name, Group: h.Group, Kind: appliance.VisitHome,
					Household: h.ID, Date: sim.Format("2006-01-02"), Time: fmt.Sprintf("%02d:%02d", 8+k%10, r.IntN(60)),
					Seen: visitTexts[r.IntN(len(visitTexts))]}
				if r.IntN(12) == 0 {
					vis.Problems, vis.FollowUp = "门前排水沟堵塞，雨天积水。", "已告知村委会，安排清理。"
				}
				drafts = append(drafts, appliance.Draft{Author: leader, Kind: appliance.KindVisitAdd, Version: 1, Body: vis})
			}
			return drafts, nil
		})
		if err != nil {
			tb.Fatal(err)
		}
		st.Visits += nv
		// Archive changes: a member's phone or health, sealed where sensitive.
		for k := 0; villageMix.ArchivePer > 0 && k < villageMix.CasesPerDay/villageMix.ArchivePer; k++ {
			_, ms, err := s.Household(hh[r.IntN(len(hh))].ID)
			if err != nil || len(ms) == 0 {
				continue
			}
			p := ms[r.IntN(len(ms))]
			if p.Sensitive == nil {
				continue
			}
			p.Phone = realMobile(r)
			if r.IntN(3) == 0 {
				p.Sensitive.Health = appliance.HealthChronic
			}
			if _, err := s.SaveMember(ctx, leader, p); err != nil {
				tb.Fatalf("save member: %v", err)
			}
			st.Archive++
		}
	}
	if err := s.DB().Sync(); err != nil {
		tb.Fatal(err)
	}
	es, err := s.Entries(s.Feed(), 1, 1<<30)
	if err != nil {
		tb.Fatal(err)
	}
	for _, e := range es {
		st.Kinds[e.Kind]++
	}
	return st
}

// caseKind draws where a case ends, as the demo does.
func caseKind(r *rand.Rand) string {
	switch x := r.IntN(100); {
	case x < 50:
		return "group"
	case x < 53:
		return "reopen"
	case x < 67:
		return "village"
	case x < 70:
		return "returned"
	case x < 76:
		return "town"
	case x < 81:
		return "merge"
	case x < 85:
		return "invalid"
	}
	return "open"
}

// planSteps is the ladder of case n: every step a village writes
// (the town's dispatch and meetings are on its downward feed).
func planSteps(r *rand.Rand, n int, kind, leader, lead string, G, Vl []string, S func(a, text string) appliance.CaseStep, texts []string) []planned {
	var out []planned
	hour := 10
	add := func(day int, author string, levels []string, st appliance.CaseStep) {
		hour++
		out = append(out, planned{day: day, hour: hour, idx: n, author: author, levels: levels, step: st})
	}
	rating := func(x string) appliance.CaseStep {
		st := S(appliance.CaseFollowUp, "")
		st.Rating = x
		return st
	}
	feedback := func(how string) appliance.CaseStep { st := S(appliance.CaseFeedback, ""); st.How = how; return st }
	assign := func(who string) appliance.CaseStep { st := S(appliance.CaseAssign, ""); st.Assignee = who; return st }
	d := r.IntN(3)
	text := texts[r.IntN(len(texts))]
	switch kind {
	case "group", "reopen":
		add(0, leader, G, assign(realName(r)))
		add(d, leader, G, S(appliance.CaseResolve, text))
		add(d+1, leader, G, feedback("电话"))
		if kind == "reopen" {
			add(d+2, leader, G, rating(appliance.RatingUnsatisfied))
			add(d+3, leader, G, assign(realName(r)))
			add(d+4, leader, G, S(appliance.CaseResolve, "再次上门处理，并约定每周回看"))
			add(d+5, leader, G, rating(appliance.RatingSatisfied))
		} else {
			add(d+2, leader, G, rating([]string{appliance.RatingSatisfied, appliance.RatingSatisfied, appliance.RatingBasic}[r.IntN(3)]))
		}
	case "village":
		add(0, leader, G, S(appliance.CaseEscalate, "涉及多户，网格内协调不了"))
		add(1, lead, Vl, assign("村委会"))
		if r.IntN(3) == 0 {
			add(2, lead, Vl, S(appliance.CaseMilestone, "第一步：已召集相关户协商"))
		}
		add(2+d, lead, Vl, S(appliance.CaseResolve, "村两委研究后已解决"))
		add(3+d, lead, Vl, feedback("上门"))
		add(4+d, lead, Vl, rating(appliance.RatingSatisfied))
	case "returned":
		add(0, leader, G, S(appliance.CaseEscalate, "请村里协调"))
		ret := S(appliance.CaseReturn, "属网格职责范围，请网格长先行处理，必要时再上报")
		ret.To = appliance.CaseLevelGroup
		add(1, lead, Vl, ret)
		add(2+d, leader, G, S(appliance.CaseResolve, text))
		add(3+d, leader, G, feedback("当面"))
		add(4+d, leader, G, rating(appliance.RatingSatisfied))
	case "town":
		add(0, leader, G, S(appliance.CaseEscalate, "需要上级处理"))
		add(1, lead, Vl, S(appliance.CaseEscalate, "超出村级职权，报乡镇"))
	case "merge":
		if n > 0 {
			add(0, lead, Vl, S(appliance.CaseMerge, ""))
		}
	case "invalid":
		add(1, lead, Vl, S(appliance.CaseInvalid, "经核实反映情况不属实"))
	case "open":
		if r.IntN(2) == 0 {
			add(0, lead, Vl, assign(realName(r)))
		}
	}
	return out
}

var (
	benchCats2 = []string{"illegal_production", "illegal_business", "illegal_business", "illegal_construction", "work_safety", "petition", "grassroots",
		"public_opinion", "public_opinion", "public_affairs", "public_affairs", "public_affairs", "livelihood", "livelihood"}
	surnames2  = []rune("王李张刘陈杨黄赵周吴徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	given2     = []string{"秀英", "桂英", "秀兰", "玉兰", "桂兰", "建国", "建华", "国强", "志强", "伟", "军", "勇", "磊", "洋", "艳", "娟", "霞", "敏", "静", "丽", "强", "平", "刚", "桂芳", "红梅", "海燕", "春生", "来福", "金凤", "小燕"}
	visitTexts = []string{"家中一切正常，老人身体尚好，了解了冬季取暖准备情况。", "宣传了医保集中缴费政策，户主表示近期到值班室缴费。", "子女在外务工，老人独自在家，叮嘱注意用电和防滑。",
		"了解到家中种植的小麦已播种，希望村里统一组织病虫害防治。", "家中有慢性病人，询问了用药和家庭医生签约情况。", "宣传了防范电信诈骗知识，发放了明白卡。", "反映门前道路有坑洼，雨天积水，已记录。", "低保户，了解了收入变化情况，暂无变化。"}
)

func realName(r *rand.Rand) string {
	return string(surnames2[r.IntN(len(surnames2))]) + given2[r.IntN(len(given2))]
}

func realMobile(r *rand.Rand) string {
	return fmt.Sprintf("1%d%d%08d", 3+r.IntN(6), r.IntN(10), r.IntN(100000000))
}

// realText is a villager's report: a place, what is wrong, what is asked.
func realText(r *rand.Rand) string {
	var b bytes.Buffer
	b.WriteString(benchPlaces[r.IntN(len(benchPlaces))])
	b.WriteString(benchWhat[r.IntN(len(benchWhat))])
	if r.IntN(2) == 0 {
		fmt.Fprintf(&b, "，已经%d天了", 2+r.IntN(20))
	}
	b.WriteString("，")
	b.WriteString(benchAsk[r.IntN(len(benchAsk))])
	return b.String()
}

// benchPhoto is a 640×480 JPEG, different for each n.
func benchPhoto(n int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	r := rand.New(rand.NewPCG(uint64(n), 3))
	for y := 0; y < 480; y++ {
		for x := 0; x < 640; x++ {
			img.Set(x, y, color.RGBA{uint8(x/3 + n), uint8(y / 2), uint8(r.IntN(40) + 100), 255})
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: 80})
	return b.Bytes()
}

// ledgerNDJSON is the village's own feed as a document store would hold
// it: one JSON object a line with id, time, author, kind, the body's
// fields and the sealed part's fields (what the town receives): its
// first n entries.
func ledgerNDJSON(tb testing.TB, s *bolt.Store, n int) []byte {
	tb.Helper()
	es, err := s.Entries(s.Feed(), 1, n)
	if err != nil {
		tb.Fatal(err)
	}
	var out bytes.Buffer
	for _, e := range es {
		doc := map[string]any{}
		json.Unmarshal(e.Body, &doc)
		var sealed map[string]any
		if ok, _ := e.DecodeSealed(&sealed); ok {
			doc["sealed"] = sealed
		}
		doc["_id"] = fmt.Sprintf("%s-%d", e.Feed.Short(), e.Seq)
		doc["time"] = e.Time.Time().UTC().Format(time.RFC3339Nano)
		doc["author"] = e.Author
		doc["kind"] = e.Kind
		line, _ := json.Marshal(doc)
		out.Write(line)
		out.WriteByte('\n')
	}
	return out.Bytes()
}
