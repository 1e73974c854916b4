package print_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/print"
)

// A generated month's roster and a day's duty log, printed from the
// store, read back: February of a leap year with the leader's 15th, the
// log's lines with the case a call became, the handover and who
// confirmed it; and a blank log page to fill in by hand.
func TestDutyPrints(t *testing.T) {
	ctx := context.Background()
	s, cfg, cs := village(t)
	people := []appliance.StaffMember{
		{ID: "410184104201-s1", Name: "张守田", Phone: "13800000001", Duty: appliance.DutyDutyStaff, Grid: "410184104201"},
		{ID: "410184104201-s2", Name: "李秀兰", Phone: "13800000002", Duty: appliance.DutyDutyStaff, Grid: "410184104201"},
	}
	leader := appliance.StaffMember{ID: "410184104201-t1", Name: "王建军", Phone: "13900000009", Duty: appliance.DutyMassWorkTeam, Title: "群众工作队队长", Grid: "410184104201"}
	for _, m := range append(people, leader) {
		if err := s.SetStaff(ctx, "u-admin", m); err != nil {
			t.Fatal(err)
		}
	}
	r, err := appliance.GenerateRoster(appliance.RosterPlan{Grid: "410184104201", Month: "2028-02", People: people, LeaderDay: 15, Leader: &leader})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetRoster(ctx, "u-lead", "410184104201", "2028-02", "全天", r); err != nil {
		t.Fatal(err)
	}
	ps, err := print.NewService(s, cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, pdf, err := ps.Render(ctx, appliance.PrintRequest{Kind: "duty_roster", From: "2028-02-10"})
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, pdf, 0, 0)
	wantText(t, text, "杏花村2028年2月值班表", "2月1日", "2月29日", "张守田 13800000001", "李秀兰 13800000002", "王建军 13900000009", "每月15日为群众工作队队长值班日")
	if n := pageCount(t, pdf); n != 1 {
		t.Errorf("roster on %d pages, want one sheet", n)
	}
	if strings.Contains(flat(text), "3月1日") {
		t.Error("February's roster runs into March")
	}

	// A day's log.
	day := "2028-02-03"
	rec, err := cs.RegisterCase(ctx, "u-duty", bolt.CaseIntake{Category: "livelihood", Source: appliance.SourcePhone, Description: "二组水渠堵塞"})
	if err != nil {
		t.Fatal(err)
	}
	lines := []appliance.DutyLog{
		{Kind: appliance.LogSignIn, At: "08:02", StaffID: people[0].ID, Name: people[0].Name},
		{Kind: appliance.LogCall, At: "09:15", StaffID: people[0].ID, Name: people[0].Name, Text: "二组水渠堵塞", Case: rec.Code},
		{Kind: appliance.LogBroadcast, At: "10:00", StaffID: people[0].ID, Name: people[0].Name, Text: "明日停电检修"},
		{Kind: appliance.LogHandover, At: "17:30", StaffID: people[0].ID, Name: people[0].Name, Text: "水渠明早回访"},
	}
	for _, l := range lines {
		l.Grid, l.Date = "410184104201", day
		if _, err := s.LogDuty(ctx, "u-duty", l); err != nil {
			t.Fatal(err)
		}
	}
	note, _, err := s.PendingHandover("410184104201", day)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.LogDuty(ctx, "u-duty2", appliance.DutyLog{Grid: "410184104201", Date: "2028-02-04", At: "08:00", Kind: appliance.LogRead, StaffID: people[1].ID, Name: people[1].Name, Ref: note.ID}); err != nil {
		t.Fatal(err)
	}
	_, pdf, err = ps.Render(ctx, appliance.PrintRequest{Kind: "duty_log", From: day})
	if err != nil {
		t.Fatal(err)
	}
	wantText(t, pdfText(t, pdf, 0, 0), "杏花村值班记录", "2028年2月3日", "值班人员：张守田", "08:02", "到岗签到", "二组水渠堵塞", rec.Code, "明日停电检修", "水渠明早回访", "接班人确认：李秀兰")

	_, pdf, err = ps.Render(ctx, appliance.PrintRequest{Kind: "duty_log_blank"})
	if err != nil {
		t.Fatal(err)
	}
	blankText := pdfText(t, pdf, 0, 0)
	wantText(t, blankText, "杏花村值班记录", "日期：______年____月____日", "转为问题编号", "交班留言", "接班人确认：______________")
	if strings.Contains(blankText, "张守田") {
		t.Error("the blank page names someone")
	}
}

// A meeting's agenda with its sign-in sheet, and its minutes, read back.
func TestMeetingPrints(t *testing.T) {
	ctx := context.Background()
	s, cfg, _ := village(t)
	m, err := s.SetMeeting(ctx, "u-lead", appliance.Meeting{Grid: "410184104201", Kind: appliance.MeetingCouncil, Title: "12月村级议事会", Date: "2026-12-15", Time: "09:00",
		Place: "村委会会议室", Chair: "王建军", Agenda: []appliance.AgendaItem{{Text: "二组水渠清理", Case: "3K4V-HPQW"}, {Text: "冬季防火"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, sg := range []appliance.MeetingSign{{Name: "王建军", Unit: "群众工作队队长", At: "08:55"}, {Name: "刘桂芳", Unit: "三组村民代表", At: "09:01"}} {
		sg.Meeting = m.Key()
		if err := s.SignMeeting(ctx, "u-lead", sg); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SetAction(ctx, "u-lead", appliance.ActionItem{Grid: "410184104201", Meeting: m.Key(), Text: "组织清理二组水渠", Owner: "李秀兰", Due: "2026-12-20", Case: "3K4V-HPQW"}); err != nil {
		t.Fatal(err)
	}
	m.State, m.Minutes, m.Decisions = appliance.MeetingHeld, "王建军通报水渠情况。\n代表同意出工清理。", []string{"12月20日前清理完毕"}
	if _, err := s.SetMeeting(ctx, "u-lead", m); err != nil {
		t.Fatal(err)
	}
	ps, err := print.NewService(s, cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ref := "410184104201." + m.ID
	_, pdf, err := ps.Render(ctx, appliance.PrintRequest{Kind: "meeting_agenda", Record: ref})
	if err != nil {
		t.Fatal(err)
	}
	if n := pageCount(t, pdf); n != 2 {
		t.Errorf("agenda and sign-in sheet on %d pages, want 2", n)
	}
	wantText(t, pdfText(t, pdf, 1, 1), "杏花村12月村级议事会", "会议议程", "村级议事会", "2026年12月15日", "村委会会议室", "1. 二组水渠清理（问题 3K4V-HPQW）", "2. 冬季防火")
	wantText(t, pdfText(t, pdf, 2, 2), "签到表", "本人签名", "王建军", "群众工作队队长", "08:55", "刘桂芳", "三组村民代表", "14")
	_, pdf, err = ps.Render(ctx, appliance.PrintRequest{Kind: "meeting_minutes", Record: ref})
	if err != nil {
		t.Fatal(err)
	}
	wantText(t, pdfText(t, pdf, 0, 0), "会议纪要", "到会人员：王建军、刘桂芳（共 2 人）", "王建军通报水渠情况。", "代表同意出工清理。", "1. 12月20日前清理完毕",
		"组织清理二组水渠", "李秀兰", "2026-12-20", "3K4V-HPQW", "办理中", "记录人")
	if _, _, err := ps.Render(ctx, appliance.PrintRequest{Kind: "meeting_minutes", Record: "410184104201.nothing"}); appliance.ErrorField(err) != "record" {
		t.Errorf("unknown meeting: err=%v", err)
	}
}

// The receipt slip of a proxy service's papers, read back: the papers,
// when taken and given back, and no villager's name or phone.
func TestServiceSlip(t *testing.T) {
	ctx := context.Background()
	s, cfg, _ := village(t)
	r, err := s.AskService(ctx, "", appliance.ServiceRequest{Grid: "410184104201", Item: "低保申请", Kind: "代办服务", Source: "kiosk", Asked: "2026-12-07"},
		appliance.ServiceContact{Name: "刘桂芳", Phone: "13912345678"})
	if err != nil {
		t.Fatal(err)
	}
	r.Papers = []appliance.Paper{{Name: "户口簿", Taken: "2026-12-08", Returned: "2026-12-15"}, {Name: "身份证复印件", Taken: "2026-12-08"}}
	if _, err := s.UpdateService(ctx, "u-duty", r); err != nil {
		t.Fatal(err)
	}
	ps, err := print.NewService(s, cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, pdf, err := ps.Render(ctx, appliance.PrintRequest{Kind: "service_slip", Record: "410184104201." + r.ID})
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, pdf, 0, 0)
	wantText(t, text, "杏花村代办材料收取回执", r.ID, "低保申请", "户口簿", "2026-12-08", "2026-12-15", "身份证复印件", "未退还", "村民签字")
	if strings.Contains(flat(text), "刘桂芳") || strings.Contains(flat(text), "13912345678") {
		t.Error("the slip names the villager")
	}
}

// A work team's journal as a folded booklet, and the duty lists for the
// wall with one edited, read back.
func TestTeamPrints(t *testing.T) {
	ctx := context.Background()
	s, cfg, _ := village(t)
	team := appliance.WorkTeam{Village: "410184104201", Name: "市派驻杏花村群众工作队", Members: []appliance.TeamMember{{ID: "p1", Name: "王建军", Unit: "市自然资源局", Leader: true, Days: 20}}}
	if err := s.SetTeam(ctx, "u-lead", team); err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"走访三组，听取修路意见。", "参加碰头会，议定清理水渠。", "回访王家，水渠已通。"} {
		if _, err := s.AddJournal(ctx, "u-lead", appliance.Journal{Village: "410184104201", Member: "p1", Date: fmt.Sprintf("2026-12-0%d", i+1), Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := print.NewService(s, cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, pdf, err := ps.Render(ctx, appliance.PrintRequest{Kind: "team_journal", Record: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	wantText(t, pdfText(t, pdf, 0, 0), "驻村工作心得", "王建军", "市自然资源局", "2026年12月1日", "走访三组，听取修路意见。", "回访王家，水渠已通。")
	if _, _, err := ps.Render(ctx, appliance.PrintRequest{Kind: "team_journal", Record: "nobody"}); appliance.ErrorField(err) != "record" {
		t.Errorf("journal of no member: err=%v", err)
	}

	if err := s.SetRules(ctx, "u-lead", appliance.RuleList{ID: "village_systems", Grid: "410184104201", Title: "杏花村十项制度", Items: []string{"日走访巡查制度", "值班制度", "例会制度"}}); err != nil {
		t.Fatal(err)
	}
	_, pdf, err = ps.Render(ctx, appliance.PrintRequest{Kind: "rules_board", Paper: "a3"})
	if err != nil {
		t.Fatal(err)
	}
	wantText(t, pdfText(t, pdf, 0, 0), "杏花村网格化管理工作制度", "职能部门四项责任", "群众工作队十项任务", "10. 写好驻村工作心得", "杏花村十项制度", "3. 例会制度")
	if strings.Contains(flat(pdfText(t, pdf, 0, 0)), "首问负责制度") {
		t.Error("the edited list still prints the default")
	}
}
