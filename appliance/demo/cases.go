package demo

import (
	"context"
	"fmt"
	"sort"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// The demo's cases: a month of problems across categories and channels.
// Most are solved by the group's grid leader, some by the village, a few go
// to the town (with a joint meeting for one), one to the city, one is
// reopened after an unsatisfied follow-up, some merged or invalid, and the
// latest are still open; one, reported two days before the end, waits at the
// town since yesterday. The village closes its register every evening. The
// town's steps are written as town.go says; the village holds them on the
// town's downward feed, as replication would bring them down.

func init() { Register(Step{Name: "cases", Run: demoCases}) }

var caseTexts = map[string][]string{
	"illegal_production":   {"村北废弃砖窑夜里有人偷偷生产，烟很大", "有人在自家院里私设小作坊加工塑料颗粒，气味刺鼻", "河滩有人私自挖沙"},
	"illegal_business":     {"村口小卖部向未成年人卖烟酒", "有人在路边无证贩卖散装白酒", "流动摊贩占道经营，堵了上学的路", "有人上门推销“保健品”，老人被骗买了很多"},
	"illegal_construction": {"有人在耕地上盖房子", "邻居加盖二层，挡了采光", "有人在河道边私搭彩钢棚"},
	"work_safety":          {"村里废弃机井没有盖板，有安全隐患", "加油站旁边有人卖散装汽油", "小作坊电线乱拉，怕着火"},
	"petition":             {"征地补偿款一直没有发到位", "对低保评定结果有意见，希望重新评议"},
	"grassroots":           {"村务公开栏好久没更新了", "希望村里定期召开村民代表会议"},
	"public_opinion":       {"广场舞音乐太吵，晚上十点还没停", "希望村里增设垃圾桶", "养狗不拴绳，孩子被吓到"},
	"public_affairs":       {"村东头路灯坏了一个星期", "自来水这两天发黄", "村道有个大坑，晚上容易摔跤", "杨树上发现美国白蛾幼虫", "邻村猪场有死猪没有处理"},
	"livelihood":           {"家里老人行动不便，想办残疾人证", "孩子上学需要开证明", "独居老人家里没人照看，希望上门看看", "医保缴费不会在手机上操作"},
}

// Weights of categories: illegal business and public affairs come most often.
var caseWeights = []struct {
	key string
	w   int
}{
	{"illegal_production", 4}, {"illegal_business", 12}, {"illegal_construction", 7}, {"work_safety", 4},
	{"petition", 2}, {"grassroots", 2}, {"public_opinion", 8}, {"public_affairs", 14}, {"livelihood", 10},
}

// caseEvent is one planned step.
type caseEvent struct {
	at     time.Time
	idx    int // case number in registration order
	town   bool
	author string
	levels []string
	step   appliance.CaseStep
}

func demoCases(ctx context.Context, v *Village) error {
	cs, err := bolt.NewCases(v.Store, v.Config)
	if err != nil {
		return err
	}
	cs.Now, cs.Rand = v.Now, v.Rand2()
	tcs, done, err := v.town.cases(v)
	if err != nil {
		return err
	}
	defer done()

	G, Vl, T := []string{appliance.CaseLevelGroup}, []string{appliance.CaseLevelGroup, appliance.CaseLevelVillage}, []string{appliance.CaseLevelTown}
	leader, lead, duty := v.Users[appliance.RoleGridLeader].ID, v.Users[appliance.RoleVillageLead].ID, v.Users[appliance.RoleDutyStaff].ID
	var events []caseEvent
	var intakes [][]bolt.CaseIntake // per day
	var authors [][]string
	var codes []string
	n := 0
	days := int(v.End.Sub(v.Start).Hours()/24) + 1
	special := map[int]string{12: "meeting", 20: "city", 5: "reopen"}
	for d := 0; d < days; d++ {
		base := v.Start.AddDate(0, 0, d)
		var ins []bolt.CaseIntake
		var aus []string
		for k := 0; k < 3+v.Rand.IntN(5); k++ {
			cat := pickCategory(v)
			in := bolt.CaseIntake{Category: cat, Description: caseTexts[cat][v.Rand.IntN(len(caseTexts[cat]))]}
			author := duty
			switch r := v.Rand.IntN(100); {
			case r < 40:
				in.Source, author = appliance.SourcePatrol, leader
			case r < 60:
				in.Source = appliance.SourceWalkIn
			case r < 78:
				in.Source = appliance.SourcePhone
			case r < 88:
				in.Source = appliance.SourceBox
			default:
				in.Source, author = appliance.SourceKiosk, ""
			}
			if v.Rand.IntN(10) < 8 {
				in.Group = v.Groups[v.Rand.IntN(len(v.Groups))].Code
			}
			if in.Source != appliance.SourceBox && v.Rand.IntN(10) < 6 {
				in.Name, in.Phone = v.Name(v.Rand.IntN(2) == 0), v.Mobile()
			}
			kind := special[n]
			if kind == "" && d == days-3 && k == 0 {
				kind = "waiting" // at the town since yesterday (the demo ends today)
			}
			if kind == "" {
				switch r := v.Rand.IntN(100); {
				case r < 55:
					kind = "group"
				case r < 72:
					kind = "village"
				case r < 78:
					kind = "town"
				case r < 83:
					kind = "merge"
				case r < 87:
					kind = "invalid"
				default:
					kind = "open"
				}
			}
			if kind != "open" && kind != "merge" && kind != "invalid" && in.Group == "" {
				in.Group = v.Groups[n%len(v.Groups)].Code // plans start at the group
			}
			events = append(events, planCase(v, n, kind, base, leader, lead, G, Vl, T)...)
			ins, aus = append(ins, in), append(aus, author)
			n++
		}
		if d == days-1 {
			// This morning at the kiosk, still open: a villager who asked to
			// be called back (其他 / 说不清) and one who tapped phrases — the
			// duty staff's queue (no steps are planned for them).
			ins = append(ins,
				bolt.CaseIntake{Category: appliance.CategoryOther, Source: appliance.SourceKiosk, Callback: true, Phone: v.Mobile(), Group: v.Groups[0].Code},
				bolt.CaseIntake{Category: "public_affairs", Source: appliance.SourceKiosk, Phrases: []string{"路灯坏了", "路坏了或积水"}, Group: v.Groups[len(v.Groups)-1].Code})
			aus = append(aus, "", "")
		}
		intakes, authors = append(intakes, ins), append(authors, aus)
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].at.Before(events[j].at) })

	// Walk the month: each day's reports in one write, then the day's
	// steps in rounds (one write per round, each case at most once).
	ei := 0
	for d := range intakes {
		dayEnd := v.Start.AddDate(0, 0, d+1)
		// The village lead closes yesterday's register first thing in the
		// morning: a day is closed only once it has ended.
		if at := v.Start.AddDate(0, 0, d).Add(8 * time.Hour); d > 0 && at.Before(v.End) {
			v.At(at)
			if _, err := cs.CloseRegister(ctx, lead, v.Start.AddDate(0, 0, d-1).Format("2006-01-02")); err != nil {
				return err
			}
		}
		if at := v.Start.AddDate(0, 0, d).Add(9 * time.Hour); at.Before(v.End) {
			v.At(at)
			byAuthor := map[string][]int{}
			var order []string
			for i, a := range authors[d] {
				if _, ok := byAuthor[a]; !ok {
					order = append(order, a)
				}
				byAuthor[a] = append(byAuthor[a], i)
			}
			dayCodes := make([]string, len(intakes[d]))
			for _, a := range order {
				var batch []bolt.CaseIntake
				for _, i := range byAuthor[a] {
					batch = append(batch, intakes[d][i])
				}
				rs, err := cs.RegisterMany(ctx, a, batch)
				if err != nil {
					return err
				}
				for k, i := range byAuthor[a] {
					dayCodes[i] = rs[k].Code
				}
			}
			codes = append(codes, dayCodes...)
		} else {
			codes = append(codes, make([]string, len(intakes[d]))...)
		}
		for ei < len(events) && events[ei].at.Before(dayEnd) {
			round := []caseEvent{}
			seen := map[int]bool{}
			for ei < len(events) && events[ei].at.Before(dayEnd) && !seen[events[ei].idx] &&
				(len(round) == 0 || round[0].town == events[ei].town && round[0].author == events[ei].author) {
				seen[events[ei].idx] = true
				round = append(round, events[ei])
				ei++
			}
			if err := runRound(ctx, v, cs, tcs, round, codes); err != nil {
				return err
			}
		}
	}
	return nil
}

func pickCategory(v *Village) string {
	total := 0
	for _, c := range caseWeights {
		total += c.w
	}
	r := v.Rand.IntN(total)
	for _, c := range caseWeights {
		if r < c.w {
			return c.key
		}
		r -= c.w
	}
	return caseWeights[0].key
}

// planCase returns the steps of case n, reported on day base.
func planCase(v *Village, n int, kind string, base time.Time, leader, lead string, G, Vl, T []string) []caseEvent {
	var out []caseEvent
	hour := 10
	add := func(day int, town bool, author string, levels []string, st appliance.CaseStep) {
		hour++
		out = append(out, caseEvent{at: base.AddDate(0, 0, day).Add(time.Duration(hour)*time.Hour + time.Duration(v.Rand.IntN(50))*time.Minute), idx: n, town: town, author: author, levels: levels, step: st})
	}
	S := func(a, text string) appliance.CaseStep { return appliance.CaseStep{Action: a, Text: text} }
	rating := func() appliance.CaseStep {
		st := S(appliance.CaseFollowUp, "")
		st.Rating = appliance.RatingSatisfied
		if v.Rand.IntN(5) == 0 {
			st.Rating = appliance.RatingBasic
		}
		return st
	}
	feedback := func(how string) appliance.CaseStep { st := S(appliance.CaseFeedback, ""); st.How = how; return st }
	assign := func(who string) appliance.CaseStep { st := S(appliance.CaseAssign, ""); st.Assignee = who; return st }
	d := v.Rand.IntN(2)
	switch kind {
	case "group", "reopen":
		add(0, false, leader, G, assign(v.Name(true)))
		add(d, false, leader, G, S(appliance.CaseResolve, "网格长现场协调，已处理完毕"))
		add(d+1, false, leader, G, feedback("电话"))
		if kind == "reopen" {
			st := S(appliance.CaseFollowUp, "问题又出现了")
			st.Rating = appliance.RatingUnsatisfied
			add(d+2, false, leader, G, st)
			add(d+3, false, leader, G, assign(v.Name(false)))
			add(d+5, false, leader, G, S(appliance.CaseResolve, "再次上门处理，并约定每周回看"))
			add(d+6, false, leader, G, rating())
		} else {
			add(d+2, false, leader, G, rating())
		}
	case "village":
		add(0, false, leader, G, S(appliance.CaseEscalate, "涉及多户，网格内协调不了"))
		add(1, false, lead, Vl, assign("村委会"))
		add(2+d, false, lead, Vl, S(appliance.CaseResolve, "村两委研究后已解决"))
		add(3+d, false, lead, Vl, feedback("上门"))
		add(4+d, false, lead, Vl, rating())
	case "town", "meeting", "city", "waiting":
		add(0, false, leader, G, S(appliance.CaseEscalate, "需要上级处理"))
		add(1, false, lead, Vl, S(appliance.CaseEscalate, "超出村级职权，报乡镇"))
		if kind == "waiting" {
			return out
		}
		disp := S(appliance.CaseDispatch, "请限期办理")
		disp.Departments = []string{"镇自然资源所"}
		if kind == "meeting" {
			disp.Departments = []string{"镇安监站", "派出所", "市场监管所"}
		}
		if kind == "city" {
			add(2, true, "u-town", T, S(appliance.CaseEscalate, "涉及跨县，报市平台"))
			return out
		}
		add(2, true, "u-town", T, disp)
		if kind == "meeting" {
			m := S(appliance.CaseMeeting, "三部门联合执法，分步整改：停产、拆除设备、复查")
			m.Attendees = []string{"镇安监站", "派出所", "市场监管所", "村党支部书记"}
			add(4, true, "u-town", T, m)
			add(5, true, "u-town", T, S(appliance.CaseMilestone, "第一步：已责令停产"))
			add(9, true, "u-town", T, S(appliance.CaseMilestone, "第二步：生产设备已拆除"))
			return out
		}
		add(5+d, true, "u-dept", T, S(appliance.CaseResolve, "部门已依法处理"))
		add(6+d, false, lead, Vl, feedback("电话"))
		add(7+d, false, lead, Vl, rating())
	case "merge":
		if n > 0 {
			st := S(appliance.CaseMerge, "")
			st.DuplicateOf = fmt.Sprint(n - 1) // resolved to a code when it runs
			add(0, false, lead, Vl, st)
		}
	case "invalid":
		add(1, false, lead, Vl, S(appliance.CaseInvalid, "经核实反映情况不属实"))
	case "open":
		if v.Rand.IntN(2) == 0 {
			add(0, false, lead, Vl, assign(v.Name(true)))
		}
	}
	return out
}

func runRound(ctx context.Context, v *Village, cs, tcs *bolt.Cases, round []caseEvent, codes []string) error {
	var steps []appliance.CaseStep
	last := round[0].at
	for _, e := range round {
		if e.at.After(v.End) || e.idx >= len(codes) || codes[e.idx] == "" {
			continue // planned after the demo's end
		}
		st := e.step
		st.Case = codes[e.idx]
		if st.Action == appliance.CaseMerge {
			var i int
			fmt.Sscan(st.DuplicateOf, &i)
			st.DuplicateOf = codes[i]
		}
		steps = append(steps, st)
		if e.at.After(last) {
			last = e.at
		}
	}
	if len(steps) == 0 {
		return nil
	}
	v.At(last)
	if !round[0].town {
		return cs.ActMany(ctx, round[0].author, round[0].levels, steps)
	}
	// Up to the town, the town's steps, and back down.
	if err := copyFeeds(v.Store, tcs.Store); err != nil {
		return err
	}
	if err := tcs.ActMany(ctx, round[0].author, round[0].levels, steps); err != nil {
		return err
	}
	// Back down: the town's steps are on its downward feed for this
	// village, the only feed of the town's the village receives.
	down, err := tcs.Store.DownFeed(v.Code)
	if err != nil {
		return err
	}
	es, err := tcs.Store.Entries(down, 1, 1<<30)
	if err != nil {
		return err
	}
	_, err = v.Store.Ingest(es)
	return err
}

// copyFeeds gives to every entry from holds that to lacks.
func copyFeeds(from, to *bolt.Store) error {
	have := map[appliance.FeedID]uint64{}
	heads, err := to.Heads()
	if err != nil {
		return err
	}
	for _, h := range heads {
		have[h.Feed] = h.Seq
	}
	heads, err = from.Heads()
	if err != nil {
		return err
	}
	for _, h := range heads {
		if h.Seq <= have[h.Feed] {
			continue
		}
		es, err := from.Entries(h.Feed, have[h.Feed]+1, 1<<30)
		if err != nil {
			return err
		}
		if _, err := to.Ingest(es); err != nil {
			return err
		}
	}
	return nil
}

// waitingAtTown lists the cases waiting at the town, with their receipts.
func (v *Village) waitingAtTown() ([]Receipt, error) {
	cs, err := bolt.NewCases(v.Store, v.Config)
	if err != nil {
		return nil, err
	}
	signer, err := appliance.NewTokenSigner(v.Store.Secret())
	if err != nil {
		return nil, err
	}
	level, status := appliance.CaseLevelTown, appliance.StatusPending
	cases, _, err := cs.FindCases(bolt.CaseFilter{Level: &level, Status: &status, Limit: 1000})
	if err != nil {
		return nil, err
	}
	var out []Receipt
	for _, c := range cases {
		r, err := cs.Reporter(c.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, Receipt{Code: c.ID, PIN: r.PIN, Token: signer.Sign(bolt.TokenCase, c.ID)})
	}
	return out, nil
}
