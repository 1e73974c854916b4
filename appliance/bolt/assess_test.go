package bolt_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// assessWorld is a village and its town after November 2026 (docs/assessment.md,
// "The scenario"): every number the scores of it give is worked out by
// hand in TestAssessScenario.
type assessWorld struct {
	clk       *simClock
	v, tw     *testNode
	c1, c2    string // group cases of week 46
	c3        string // resolved, reopened by an unsatisfied follow-up, resolved again
	c4, c5    string // escalated: returned by the town; dispatched to a department
	f1, f2    string // findings: objection upheld; objection rejected
	household map[string][]string
}

// Staff ids of the village in the scenario.
const (
	sid1 = villageCode + "-s01" // 张伟, group 1's grid leader
	sid2 = villageCode + "-s02" // 李娜, group 2's
	sid3 = villageCode + "-s03" // 王强, the duty room's grid worker
	sid4 = villageCode + "-s04" // 王建军, a cadre of the city's work team
)

func mustDo(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// exchange is replication between the two: the village's feed up, the
// town's downward feed for it down.
func (w *assessWorld) exchange(t *testing.T) {
	t.Helper()
	copyFeed(t, w.v, w.tw, w.v.Store.Feed())
	if _, err := w.tw.Store.CopyDown(context.Background(), w.clk.t); err != nil {
		t.Fatal(err)
	}
	if d := downFeed(t, w.tw, villageCode); hasFeed(t, w.tw, d) {
		copyFeed(t, w.tw, w.v, d)
	}
}

func runAssessMonth(t *testing.T) *assessWorld {
	ctx := context.Background()
	w := &assessWorld{clk: &simClock{t: day(1, 8)}, household: map[string][]string{}}
	clk := w.clk
	w.v = mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	w.tw = mustNode(t, appliance.NodeTown, townCode, "龙湖镇", clk, true)
	v, tw := w.v, w.tw
	enrol(t, tw, v, villageCode)
	g1, g2 := villageCode+"-01", villageCode+"-02"
	for _, m := range []appliance.StaffMember{
		{ID: sid1, Name: "张伟", Phone: "13800000001", Duty: appliance.DutyGridLeader, Grid: g1, UserID: "u-zhang"},
		{ID: sid2, Name: "李娜", Phone: "13800000002", Duty: appliance.DutyGridLeader, Grid: g2, UserID: "u-li"},
		{ID: sid3, Name: "王强", Phone: "13800000003", Duty: appliance.DutyGridWorker, Grid: villageCode, UserID: "u-wang"},
		{ID: sid4, Name: "王建军", Phone: "13800000004", Duty: appliance.DutyGridWorker, Grid: villageCode},
	} {
		mustDo(t, v.Store.SetStaff(ctx, "u-admin", m))
	}
	// The work team: 王建军 (linked to his staff record) owes 4 days a
	// month, 刘芳 2.
	mustDo(t, v.Store.SetTeam(ctx, "u-admin", appliance.WorkTeam{Village: villageCode, Members: []appliance.TeamMember{
		{ID: "p1", Name: "王建军", Unit: "市自然资源局", Days: 4, StaffID: sid4}, {ID: "p2", Name: "刘芳", Unit: "龙湖镇农业服务中心", Days: 2}}}))
	// Households: four in group 1, five in group 2, none in group 3. Data
	// missing: no phone for the 4th, 7th and 8th; no address for the 9th.
	for i, g := range []string{g1, g1, g1, g1, g2, g2, g2, g2, g2} {
		h := appliance.Household{Group: g, Address: fmt.Sprintf("%d号", i+1), Phone: fmt.Sprintf("1390000000%d", i)}
		switch i {
		case 3, 6, 7:
			h.Phone = ""
		case 8:
			h.Address = ""
		}
		hid, err := v.Store.CreateHousehold(ctx, "u-admin", h,
			[]appliance.Person{hhPerson(fmt.Sprintf("户主%c", '甲'+rune(i)), "户主", ymd(1960, 1, 1+i), true, 10+i)})
		mustDo(t, err)
		w.household[g] = append(w.household[g], hid)
	}
	for _, d := range []string{"2026-11-10", "2026-11-20"} {
		mustDo(t, v.Store.SetDuty(ctx, "u-admin", appliance.DutyShift{Grid: villageCode, Date: d, Shift: "全天", StaffID: sid3, Name: "王强", Phone: "13800000003"}))
	}
	visit := func(worker, name, g string, i int, date string) {
		t.Helper()
		_, err := v.Store.RecordVisit(ctx, "u-x", appliance.Visit{Worker: worker, Name: name, Group: g, Kind: appliance.VisitHome, Household: w.household[g][i], Date: date, Time: "10:00", Seen: "家中一切正常"})
		mustDo(t, err)
	}
	meeting := func(date, minutes string) {
		t.Helper()
		_, err := v.Store.SetMeeting(ctx, "u-wang", appliance.Meeting{Grid: villageCode, Kind: appliance.MeetingWeekly, Title: "工作碰头会", Date: date, State: appliance.MeetingHeld, Minutes: minutes})
		mustDo(t, err)
	}
	S := func(id, a string) appliance.CaseStep { return appliance.CaseStep{Case: id, Action: a} }
	step := func(n *testNode, author string, levels []string, s appliance.CaseStep) *appliance.Case {
		t.Helper()
		c, err := n.Cases.Act(ctx, author, levels, s)
		if err != nil {
			t.Fatalf("%s %s: %v", s.Action, s.Case, err)
		}
		return c
	}
	register := func(author, src, group, by string) string {
		t.Helper()
		r, err := v.Cases.RegisterCase(ctx, author, bolt.CaseIntake{Category: "public_affairs", Source: src, Group: group, Description: "村道路灯损坏需要维修"})
		mustDo(t, err)
		return r.Code
	}
	resolve := func(author, id string) *appliance.Case {
		s := S(id, appliance.CaseResolve)
		s.Text = "已修好"
		return step(v, author, villageLevels, s)
	}
	followUp := func(id, rating string) {
		s := S(id, appliance.CaseFeedback)
		s.How, s.Text = "电话", "已修好"
		step(v, "u-wang", villageLevels, s)
		s = S(id, appliance.CaseFollowUp)
		s.Rating, s.Text = rating, "回访"
		step(v, "u-wang", villageLevels, s)
	}
	assign := func(id, name string) {
		s := S(id, appliance.CaseAssign)
		s.Assignee = name
		step(v, "u-wang", villageLevels, s)
	}
	var v1 appliance.RuleTable
	for d := 2; d <= 30; d++ {
		date := fmt.Sprintf("2026-11-%02d", d)
		clk.t = day(d, 7)
		// The register of yesterday, except three days.
		if d > 2 && d-1 != 13 && d-1 != 14 && d-1 != 25 {
			_, err := v.Cases.CloseRegister(ctx, "u-wang", fmt.Sprintf("2026-11-%02d", d-1))
			mustDo(t, err)
		}
		clk.t = day(d, 8)
		// Duty: nobody on the 11th and the 26th; no handover note on the
		// 12th; on the 20th 张伟 instead of the rostered 王强.
		if d != 11 && d != 26 {
			who, name := sid3, "王强"
			if d == 20 {
				who, name = sid1, "张伟"
			}
			_, err := v.Store.LogDuty(ctx, "u-wang", appliance.DutyLog{Grid: villageCode, Date: date, At: "08:00", Kind: appliance.LogSignIn, StaffID: who, Name: name})
			mustDo(t, err)
			if d != 12 {
				_, err := v.Store.LogDuty(ctx, "u-wang", appliance.DutyLog{Grid: villageCode, Date: date, At: "17:30", Kind: appliance.LogHandover, StaffID: who, Name: name, Text: "无特殊情况"})
				mustDo(t, err)
			}
		}
		clk.t = day(d, 9)
		// The work team's days: 王建军 the 9th, 10th and 23rd (one short of
		// four), 刘芳 the 16th and 17th (her two).
		for _, sg := range []struct {
			member string
			day    int
		}{{"p1", 9}, {"p1", 10}, {"p1", 23}, {"p2", 16}, {"p2", 17}} {
			if sg.day == d {
				mustDo(t, v.Store.SignTeam(ctx, "u-wang", appliance.TeamSign{Village: villageCode, Member: sg.member, Date: date, At: "08:40"}))
			}
		}
		switch d {
		case 2:
			w.c3 = register("u-li", appliance.SourcePatrol, g2, "")
		case 3:
			assign(w.c3, "李娜")
			resolve("u-li", w.c3)
		case 9:
			w.c1 = register("u-zhang", appliance.SourcePatrol, g1, "")
			w.c2 = register("u-wang", appliance.SourceWalkIn, g2, "")
			assign(w.c1, "张伟")
			assign(w.c2, "李娜")
			visit(sid1, "张伟", g1, 0, date)
			visit(sid2, "李娜", g2, 0, date)
			meeting(date, "议定本周走访重点。")
		case 10:
			// Reopened: back to the group.
			s := S(w.c3, appliance.CaseFeedback)
			s.How, s.Text = "电话", "已修好"
			step(v, "u-wang", villageLevels, s)
			s = S(w.c3, appliance.CaseFollowUp)
			s.Rating, s.Text = appliance.RatingUnsatisfied, "灯还是不亮"
			step(v, "u-wang", villageLevels, s)
			visit(sid1, "张伟", g1, 1, date)
			visit(sid2, "李娜", g2, 1, date)
			r, err := v.Store.AskService(ctx, "u-wang", appliance.ServiceRequest{Grid: villageCode, Item: "代办医保缴费", Kind: "代办服务", Source: "staff", Asked: date}, appliance.ServiceContact{})
			mustDo(t, err)
			r.State, r.Staff, r.Date, r.Outcome, r.Feedback = appliance.RequestDone, sid2, date, "已代缴", "poor"
			_, err = v.Store.UpdateService(ctx, "u-wang", r)
			mustDo(t, err)
		case 11:
			resolve("u-zhang", w.c1)
			visit(sid1, "张伟", g1, 2, date)
		case 12:
			assign(w.c3, "李娜")
			resolve("u-li", w.c3)
			f, err := tw.Store.AddFinding(ctx, "u-insp", appliance.Finding{Village: villageCode, Way: appliance.WayUnannounced, Date: date,
				Subject: appliance.SubjectVillage, SubjectID: villageCode, Rule: "v-f-register", Units: 2, Text: "台账缺两条来电记录", Inspector: "赵督查"}, date)
			mustDo(t, err)
			w.f1 = f.Key()
			w.exchange(t)
		case 13:
			followUp(w.c1, appliance.RatingSatisfied)
			mustDo(t, v.Store.ObjectFinding(ctx, "u-lead", appliance.Objection{Finding: w.f1, Date: date, Text: "两条来电已转为问题登记，见问题编号", By: "村支书"}))
			w.exchange(t)
		case 14:
			_, err := tw.Store.DecideObjection(ctx, "u-insp", w.f1, appliance.DecisionUpheld, "核实来电均已登记为问题，撤销扣分", date)
			mustDo(t, err)
			w.exchange(t)
		case 16:
			meeting(date, "") // held, no minutes: no points
			// The town's new rules, in force from today.
			v1 = appliance.DefaultRuleTable(townCode)
			v1.From, v1.Note = date, "加重值班、台账扣分"
			v1.Rule("v-duty").Points = -3
			v1.Rule("v-register").Points = -2
			_, err := tw.Store.SetRuleTable(ctx, "u-insp", v1, date)
			mustDo(t, err)
			w.c4 = register("u-wang", appliance.SourceWalkIn, "", "")
			s := S(w.c4, appliance.CaseEscalate)
			s.Text = "请乡镇协调"
			step(v, "u-wang", villageLevels, s)
			w.exchange(t)
		case 17:
			s := S(w.c4, appliance.CaseReturn)
			s.To, s.Text = appliance.CaseLevelVillage, "村里可以自行解决"
			step(tw, "u-town", townLevels, s)
			assign(w.c2, "李娜")
			resolve("u-li", w.c2)
			visit(sid1, "张伟", g1, 3, date)
			// A service 李娜 did, the villager satisfied.
			r, err := v.Store.AskService(ctx, "u-wang", appliance.ServiceRequest{Grid: villageCode, Item: "代办养老认证", Kind: "代办服务", Source: "staff", Asked: date}, appliance.ServiceContact{})
			mustDo(t, err)
			r.State, r.Staff, r.Date, r.Outcome, r.Feedback = appliance.RequestDone, sid2, date, "已认证", "good"
			_, err = v.Store.UpdateService(ctx, "u-wang", r)
			mustDo(t, err)
			w.exchange(t)
		case 18:
			resolve("u-wang", w.c4)
			w.c5 = register("u-wang", appliance.SourceWalkIn, "", "")
			s := S(w.c5, appliance.CaseEscalate)
			s.Text = "需交通运输所维修"
			step(v, "u-wang", villageLevels, s)
			w.exchange(t)
			s = S(w.c5, appliance.CaseDispatch)
			s.Departments, s.Due = []string{"交通运输所"}, "2026-11-20"
			step(tw, "u-town", townLevels, s)
			w.exchange(t)
		case 19:
			f, err := tw.Store.AddFinding(ctx, "u-insp", appliance.Finding{Village: villageCode, Way: appliance.WayRandom, Date: date,
				Subject: appliance.SubjectVillage, SubjectID: villageCode, Rule: "v-f-absent", Units: 1, Text: "抽查时值班室无人", Inspector: "赵督查"}, date)
			mustDo(t, err)
			w.f2 = f.Key()
			w.exchange(t)
		case 20:
			mustDo(t, v.Store.ObjectFinding(ctx, "u-lead", appliance.Objection{Finding: w.f2, Date: date, Text: "值班人员外出处理来访", By: "村支书"}))
			w.exchange(t)
		case 21:
			_, err := tw.Store.DecideObjection(ctx, "u-insp", w.f2, appliance.DecisionRejected, "外出未留人值守，维持扣分", date)
			mustDo(t, err)
			w.exchange(t)
		case 23:
			meeting(date, "议定冬季防火安排。")
		case 26:
			// The village rates the department that handled c5.
			rate := appliance.DeptRating{Case: w.c5, Department: "交通运输所", Date: date, Timeliness: appliance.RatingUnsatisfied, Result: appliance.RatingSatisfied, Text: "超期四天，路修得好", By: "村支书"}
			mustDo(t, v.Store.RateDepartment(ctx, "u-lead", rate))
			if err := v.Store.RateDepartment(ctx, "u-lead", rate); appliance.ErrorCode(err) != appliance.ECONFLICT {
				t.Fatalf("rated twice: err=%v", err)
			}
			other := rate
			other.Department = "水利站"
			if err := v.Store.RateDepartment(ctx, "u-lead", other); appliance.ErrorField(err) != "department" {
				t.Fatalf("rated a department the case never went to: err=%v", err)
			}
			w.exchange(t)
		case 24:
			s := S(w.c5, appliance.CaseResolve)
			s.Text = "路面已修复"
			step(tw, "u-town", townLevels, s)
			w.exchange(t)
		}
	}
	clk.t = day(30, 20)
	clk.t = clk.t.AddDate(0, 0, 1) // December 1st
	_, err := v.Cases.CloseRegister(ctx, "u-wang", "2026-11-30")
	mustDo(t, err)
	w.exchange(t)
	return w
}

// lineOf is the score's line of rule (the zero line when it has none).
func lineOf(s appliance.Score, rule string) appliance.ScoreLine {
	for _, l := range s.Lines {
		if l.Rule == rule {
			return l
		}
	}
	return appliance.ScoreLine{}
}

func scoreMap(scores []appliance.Score) map[string]appliance.Score {
	m := map[string]appliance.Score{}
	for _, s := range scores {
		m[s.Subject+"|"+s.ID] = s
	}
	return m
}

// TestAssessScenario: a month of a village and its town scored by hand
// (docs/assessment.md, "The scenario"), at the village and at the town.
func TestAssessScenario(t *testing.T) {
	w := runAssessMonth(t)
	ctx := context.Background()
	g1, g2, g3 := villageCode+"-01", villageCode+"-02", villageCode+"-03"

	// The deadlines the hand count rests on: three working days at a group.
	for id, due := range map[string]string{w.c1: "2026-11-12", w.c2: "2026-11-12"} {
		c, err := w.v.Cases.Case(id)
		mustDo(t, err)
		if c.Steps[0].Due != due {
			t.Fatalf("case %s registered with due %s, want %s", id, c.Steps[0].Due, due)
		}
	}

	// A rule change may not reach back.
	back := appliance.DefaultRuleTable(townCode)
	back.From = "2026-11-20"
	if _, err := w.tw.Store.SetRuleTable(ctx, "u-insp", back, "2026-12-01"); appliance.ErrorField(err) != "from" {
		t.Fatalf("rule table from a past day: err=%v", err)
	}
	mine := appliance.DefaultRuleTable(townCode)
	mine.From = "2026-12-01"
	if _, err := w.v.Store.SetRuleTable(ctx, "u-lead", mine, "2026-12-01"); appliance.ErrorCode(err) != appliance.EFORBIDDEN {
		t.Fatalf("a village set rules: err=%v", err)
	}
	if err := w.v.Store.ObjectFinding(ctx, "u-lead", appliance.Objection{Finding: w.f2, Date: "2026-12-01", Text: "再次申诉", By: "村支书"}); appliance.ErrorCode(err) != appliance.ECONFLICT {
		t.Fatalf("second objection: err=%v", err)
	}
	tables, err := w.v.Store.RuleTables(townCode)
	if err != nil || len(tables) != 1 || tables[0].Version != 1 || tables[0].From != "2026-11-16" {
		t.Fatalf("village's copy of the town's rules: %+v err %v", tables, err)
	}

	want := map[string]map[string]string{
		// Week 46 (9–15 November).
		"2026-W46": {
			// duty nobody 11th −2, no handover 12th −0.5, register 13th and
			// 14th −2, meeting 9th +1, service 10th +0.5 and its poor
			// feedback −1; finding of the 12th void (objection upheld).
			"village|" + villageCode: "96",
			// c1 found on patrol +0.5, on time +1, satisfied +0.5;
			// 3 of 4 households = 75% < 80%: −1. (The data missing
			// counts from November 16th, under the town's table: the
			// built-in one of a day before 2026-12-08 has no such rule.)
			"group|" + g1: "101",
			// c2 overdue 13th −2; c3 reopened 10th −2, resolved again on
			// time +1; 2 of 5 households visited (40%): 40 short, −4.
			"group|" + g2: "93",
			"group|" + g3: "100",
			// c1 on time +1, 3 visits +0.3.
			"person|" + sid1: "101.3",
			// c2 overdue −2 (assignee), c3 reopened −2, on time +1,
			// 2 visits +0.2, service +0.5, its poor feedback −1.
			"person|" + sid2: "96.7",
			"person|" + sid3: "100",
			// No month of the team ended in the week.
			"person|" + sid4: "100",
		},
		// November.
		"2026-11": {
			// duty 11th −2 (rules v0), 26th −3 (v1); handover −0.5;
			// register 13th, 14th −1 each (v0), 25th −2 (v1); meetings 9th
			// and 23rd +2 (16th: no minutes); service +0.5; c4 returned
			// by the town −1; finding of the 19th −5 (objection rejected);
			// the service's poor feedback −1; the service of the 17th
			// +0.5 and its good feedback +0.5; the work team in
			// November: 王建军 3 of 4 days, −0.5 (刘芳 2 of 2).
			"village|" + villageCode: "86.5",
			// 4 of 4 households visited: no deduction; one without a
			// phone: −0.5 (dated the 30th, under the town's table).
			"group|" + g1: "101.5",
			// c3 found +0.5, on time 3rd +1, reopened −2, on time 12th
			// +1; c2 overdue −2; 2 of 5 households (40%): −4; 3
			// households missing data −1.5.
			"group|" + g2:    "93",
			"person|" + sid1: "101.4",
			// as in week 46, and c3's first resolution on time +1, the
			// service of the 17th +0.5 and its good feedback +0.5.
			"person|" + sid2: "98.7",
			// a day short in the village in November: −0.5.
			"person|" + sid4: "99.5",
			// rostered on the 20th, 张伟 signed in instead: −2; c4,
			// back from the town, resolved by him on time: +1.
			"person|" + sid3: "99",
			// c5 due the 20th, resolved the 24th: overdue −2; the
			// village's rating: not timely −1, result good +0.5.
			"department|交通运输所": "97.5",
		},
	}
	for pid, subjects := range want {
		p, err := appliance.ParsePeriod(pid)
		mustDo(t, err)
		atVillage, err := w.v.Store.Scores(villageCode, p, "2026-12-01")
		mustDo(t, err)
		atTown, err := w.tw.Store.Scores(villageCode, p, "2026-12-01")
		mustDo(t, err)
		if !reflect.DeepEqual(atVillage, atTown) {
			t.Errorf("%s: village and town differ:\nvillage %+v\ntown    %+v", pid, atVillage, atTown)
		}
		got := scoreMap(atVillage)
		if pid == "2026-W46" {
			// Every point names what it came from: a click lists them.
			lines := map[string]appliance.ScoreLine{}
			for _, l := range got["person|"+sid2].Lines {
				lines[l.Rule] = l
			}
			if l := lines["p-overdue"]; l.Units != 1 || l.Points != -20 || len(l.Refs) != 1 || l.Refs[0] != w.c2 {
				t.Errorf("李娜's overdue line: %+v", l)
			}
			if l := lines["p-reopened"]; len(l.Refs) != 1 || l.Refs[0] != w.c3 {
				t.Errorf("李娜's reopened line: %+v", l)
			}
			if g := got["group|"+g1]; g.Rank != 1 || got["group|"+g2].Rank != 3 {
				t.Errorf("group ranks: %d %d", g.Rank, got["group|"+g2].Rank)
			}
			if l := lineOf(got["group|"+g2], "g-data"); l.Rule != "" {
				t.Errorf("week 46 scored by a rule the built-in table gained later: %+v", l)
			}
		}
		if pid == "2026-11" {
			if l := lineOf(got["group|"+g2], "g-data"); l.Units != 3 || l.Points != -15 || l.Version != 1 || len(l.Refs) != 3 || !strings.Contains(strings.Join(l.Refs, " "), "户 "+w.household[g2][4]+"（缺住址或门牌号）") {
				t.Errorf("group 2's data line: %+v", l)
			}
			if l := lineOf(got["village|"+villageCode], "v-team"); l.Units != 1 || l.Points != -5 || len(l.Refs) != 1 || l.Refs[0] != "驻村 2026-11 王建军 3/4天" {
				t.Errorf("the village's work-team line: %+v", l)
			}
			if l := lineOf(got["person|"+sid2], "p-service-good"); l.Units != 1 || l.Points != 5 {
				t.Errorf("李娜's satisfied service: %+v", l)
			}
		}
		for k, total := range subjects {
			s, ok := got[k]
			if !ok {
				t.Errorf("%s: no score for %s", pid, k)
				continue
			}
			if appliance.Points(s.Total) != total {
				t.Errorf("%s %s = %s, want %s; lines %+v", pid, k, appliance.Points(s.Total), total, s.Lines)
			}
		}
	}
}

// The inspection group's plans: a random draw recorded with its seed and
// redone from the entry; an unannounced visit that never reaches the
// village before it happens (plans do not go down).
func TestInspectionPlans(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: day(30, 9)}
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	tw := mustNode(t, appliance.NodeTown, townCode, "龙湖镇", clk, true)
	enrol(t, tw, v, villageCode)
	copyFeed(t, v, tw, v.Store.Feed())
	const today = "2026-11-30"

	seed := uint64(20261130)
	p, err := tw.Store.PlanInspection(ctx, "u-insp", appliance.Inspection{Way: appliance.WayRandom, Date: "2026-12-03", Subject: appliance.SubjectGroup, Topic: "走访记录与实际是否相符"}, 2, &seed, today)
	if err != nil {
		t.Fatal(err)
	}
	pool := []string{villageCode + "-01", villageCode + "-02", villageCode + "-03"}
	if got := p.Draw.Pool; !reflect.DeepEqual(got, pool) {
		t.Fatalf("pool %v, want the town's groups %v", got, pool)
	}
	plans, err := tw.Store.Inspections(townCode)
	if err != nil || len(plans) != 1 {
		t.Fatalf("plans %+v err %v", plans, err)
	}
	d := plans[0].Draw
	if d.Seed != "000000000135290a" || !reflect.DeepEqual(appliance.DrawInspection(d.Pool, d.N, seed), plans[0].Grids) || len(plans[0].Grids) != 2 {
		t.Fatalf("stored draw %+v grids %v", d, plans[0].Grids)
	}
	// Another node holding the entry verifies the same draw.
	copyFeed(t, tw, v, tw.Store.Feed())
	if ps, _ := v.Store.Inspections(townCode); len(ps) != 1 || !reflect.DeepEqual(ps[0].Grids, plans[0].Grids) {
		t.Fatalf("the draw at another node: %+v", ps)
	}
	// A fresh seed when none is given; too many picks refused.
	if p2, err := tw.Store.PlanInspection(ctx, "u-insp", appliance.Inspection{Way: appliance.WayRandom, Date: "2026-12-03", Subject: appliance.SubjectGroup, Topic: "台账"}, 1, nil, today); err != nil || p2.Draw.Seed == p.Draw.Seed {
		t.Fatalf("fresh seed: %+v err %v", p2.Draw, err)
	}
	if _, err := tw.Store.PlanInspection(ctx, "u-insp", appliance.Inspection{Way: appliance.WayRandom, Date: "2026-12-03", Subject: appliance.SubjectGroup, Topic: "台账"}, 4, nil, today); appliance.ErrorField(err) != "n" {
		t.Fatalf("4 of 3: err=%v", err)
	}
	if _, err := tw.Store.PlanInspection(ctx, "u-insp", appliance.Inspection{Way: appliance.WayScheduled, Date: "2026-11-29", Subject: appliance.SubjectVillage, Grids: []string{villageCode}, Topic: "台账"}, 0, nil, today); appliance.ErrorField(err) != "date" {
		t.Fatalf("planned in the past: err=%v", err)
	}
	if _, err := v.Store.PlanInspection(ctx, "u-lead", appliance.Inspection{Way: appliance.WayScheduled, Date: "2026-12-01", Subject: appliance.SubjectVillage, Grids: []string{villageCode}, Topic: "台账"}, 0, nil, today); appliance.ErrorCode(err) != appliance.EFORBIDDEN {
		t.Fatalf("a village plans inspections: err=%v", err)
	}
	// Unannounced: planned at the town, nothing of it on the village's
	// downward feed.
	if _, err := tw.Store.PlanInspection(ctx, "u-insp", appliance.Inspection{Way: appliance.WayUnannounced, Date: "2026-12-02", Subject: appliance.SubjectVillage, Grids: []string{villageCode}, Topic: "夜间值班"}, 0, nil, today); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Store.CopyDown(ctx, clk.t); err != nil {
		t.Fatal(err)
	}
	if d := downFeed(t, tw, villageCode); hasFeed(t, tw, d) {
		es, err := tw.Store.Entries(d, 1, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			if e.Kind == appliance.KindAssessPlan || strings.Contains(string(e.Body), "夜间值班") {
				t.Fatalf("the downward feed carries a plan: %s %s", e.Kind, e.Body)
			}
		}
	}
}

// The town sends its villages' quarterly and yearly scores up; the city
// ranks what it receives. Figures from TestAssessScenario: 杏花村 scored
// 86.5 in November and nothing else in the fourth quarter or the year
// (the month's evidence is all there is); the third quarter, before the
// village used the box, is 100. A village cannot report for its town.
func TestTownScoresUp(t *testing.T) {
	w := runAssessMonth(t)
	ctx := context.Background()
	city := mustNode(t, appliance.NodeCity, cityCode, "郑州市", w.clk, true)
	up, err := w.tw.Store.UpFeed()
	mustDo(t, err)
	// A village's entry claiming to be its town's report.
	_, err = w.v.Store.Append(ctx, appliance.Draft{Author: "u-lead", Kind: appliance.KindTownScores, Version: 1, Body: appliance.TownScores{Town: townCode, Name: "龙湖镇", Day: "2026-12-01",
		Period: mustPeriod(t, "2026-Q4"), Villages: []appliance.VillageScore{{Code: villageCode, Name: "杏花村", Total: 1200}}}})
	mustDo(t, err)
	copyFeed(t, w.v, w.tw, w.v.Store.Feed())
	if reps, _ := w.tw.Store.TownScoreReports("2026-Q4"); len(reps) != 0 {
		t.Fatalf("a village's claim folded at the town: %+v", reps)
	}
	wrote, err := w.tw.Store.SendScoresUp(ctx, w.clk.t)
	if err != nil || !wrote {
		t.Fatalf("sent: %v %v", wrote, err)
	}
	if wrote, err := w.tw.Store.SendScoresUp(ctx, w.clk.t); err != nil || wrote {
		t.Fatalf("unchanged scores sent again: %v %v", wrote, err)
	}
	copyFeed(t, w.tw, city, up)
	for id, want := range map[string]int{"2026-Q4": 865, "2026": 865, "2026-Q3": 1000, "2025": 1000} {
		reps, err := city.Store.TownScoreReports(id)
		mustDo(t, err)
		if len(reps) != 1 || len(reps[0].Villages) != 1 || reps[0].Villages[0].Code != villageCode || reps[0].Villages[0].Total != want {
			t.Errorf("%s at the city: %+v", id, reps)
			continue
		}
		towns, villages := appliance.RankCity(reps)
		if towns[0].Town != townCode || towns[0].Mean != want || towns[0].Rank != 1 || villages[0].Rank != 1 || villages[0].TownName != "龙湖镇" {
			t.Errorf("%s ranked: %+v %+v", id, towns, villages)
		}
	}
	if reps, _ := city.Store.TownScoreReports("2026-W49"); len(reps) != 0 {
		t.Errorf("a week sent up: %+v", reps)
	}
}

func mustPeriod(t *testing.T, id string) appliance.Period {
	t.Helper()
	p, err := appliance.ParsePeriod(id)
	mustDo(t, err)
	return p
}
