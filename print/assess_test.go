package print_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/print"
)

// The printed 公示 of last week, read back: the groups ranked with their
// points, the period, where and until when to object; nothing of the
// findings behind the points nor the inspector's name.
func TestAssessNotice(t *testing.T) {
	ctx := context.Background()
	vs, vcfg, _ := village(t)
	ts, _ := openNode(t, appliance.Node{Role: appliance.NodeTown, Code: "410184104000", Name: "龙湖镇"})
	const v = "410184104201"
	if err := ts.Enrol(ctx, "u-admin", appliance.Enrolment{Key: vs.Feed().String(), Code: v, Name: "杏花村", Role: appliance.NodeVillage}); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"第一村民组", "第二村民组", "第三村民组"} {
		if err := vs.SetGrid(ctx, "u-admin", appliance.Grid{Code: appliance.GroupCode(v, i+1), Level: appliance.LevelGroup, Name: name, Parent: v}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().In(vcfg.Location())
	last, _ := appliance.PeriodOf(appliance.PeriodWeek, now.AddDate(0, 0, -7).Format(time.DateOnly))
	for _, f := range []appliance.Finding{
		{Village: v, Way: appliance.WayScheduled, Date: last.From, Subject: appliance.SubjectGroup, SubjectID: v + "-01", Rule: "g-f-praise", Units: 1, Text: "帮助孤寡老人修缮房屋", Inspector: "赵督查"},
		{Village: v, Way: appliance.WayRandom, Date: last.To, Subject: appliance.SubjectGroup, SubjectID: v + "-02", Rule: "g-f-false", Units: 1, Text: "走访记录与实际不符", Inspector: "赵督查"},
	} {
		if _, err := ts.AddFinding(ctx, "u-insp", f, now.Format(time.DateOnly)); err != nil {
			t.Fatal(err)
		}
	}
	copyDown(t, ts, vs, v, now)
	ps, err := print.NewService(vs, vcfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, pdf, err := ps.Render(ctx, appliance.PrintRequest{Kind: "assess_notice"})
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, pdf, 0, 0)
	wantText(t, text, "杏花村考核结果公示", last.Label(), "1 第一村民组 102 +2 -0", "2 第三村民组 100 +0 -0", "3 第二村民组 97 +0 -3",
		"公示期："+dateText(now)+"至"+dateText(now.AddDate(0, 0, 5)), "村委会一楼值班室", "每项结果可提出一次")
	for _, never := range []string{"赵督查", "走访记录与实际不符", "帮助孤寡老人"} {
		if strings.Contains(text, never) {
			t.Errorf("the notice shows %q", never)
		}
	}
	this, _ := appliance.PeriodOf(appliance.PeriodWeek, now.Format(time.DateOnly))
	if _, _, err := ps.Render(ctx, appliance.PrintRequest{Kind: "assess_notice", Record: this.ID}); appliance.ErrorField(err) != "record" {
		t.Errorf("notice of a week not over: err=%v", err)
	}
	if _, _, err := ps.Render(ctx, appliance.PrintRequest{Kind: "assess_notice", Record: "2026-W99"}); appliance.ErrorField(err) != "record" {
		t.Errorf("notice of no period: err=%v", err)
	}
}

func dateText(t time.Time) string {
	return t.Format("2006年1月2日")
}

// A seconded cadre's appraisal: first a draft from the year's evidence,
// then the village's edited, graded and signed letter, read back.
func TestAppraisalLetter(t *testing.T) {
	ctx := context.Background()
	s, cfg, _ := village(t)
	const v = "410184104201"
	if err := s.SetStaff(ctx, "u-lead", appliance.StaffMember{ID: v + "-s07", Name: "王建军", Phone: "13800000007", Duty: appliance.DutyGridWorker, Grid: v}); err != nil {
		t.Fatal(err)
	}
	team := appliance.WorkTeam{Village: v, Name: "镇派驻杏花村群众工作队", Members: []appliance.TeamMember{{ID: "p1", Name: "王建军", Unit: "龙湖镇农业服务中心", Leader: true, Days: 2, StaffID: v + "-s07"}}}
	if err := s.SetTeam(ctx, "u-lead", team); err != nil {
		t.Fatal(err)
	}
	// Two days every month of 2026 (the days owed: no month is short,
	// whenever the test runs) and one of the year before.
	days := []string{"2025-12-30"}
	for m := 1; m <= 12; m++ {
		days = append(days, fmt.Sprintf("2026-%02d-02", m), fmt.Sprintf("2026-%02d-03", m))
	}
	for _, d := range days {
		if err := s.SignTeam(ctx, "u-duty", appliance.TeamSign{Village: v, Member: "p1", Name: "王建军", Date: d, At: "08:30"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddJournal(ctx, "u-lead", appliance.Journal{Village: v, Member: "p1", Date: "2026-03-02", Text: "走访三组，听取修路意见。"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordVisit(ctx, "u-lead", appliance.Visit{Worker: v + "-s07", Name: "王建军", Group: v + "-01", Kind: appliance.VisitPatrol, Place: "村东水渠", Date: "2026-03-03", Time: "10:00", Seen: "水渠畅通"}); err != nil {
		t.Fatal(err)
	}
	ps, err := print.NewService(s, cfg, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, pdf, err := ps.Render(ctx, appliance.PrintRequest{Kind: "appraisal", Record: v + ".2026.p1"})
	if err != nil {
		t.Fatal(err)
	}
	wantText(t, pdfText(t, pdf, 0, 0), "2026年度下沉干部驻村工作鉴定（草稿）", "龙湖镇农业服务中心人事部门：", "24天（应24天）", "1篇", "1次",
		"王建军同志2026年在村驻村工作期间，全年在村签到24天（应驻村24天），撰写驻村工作心得1篇，走访巡查1次，年度考核积分100.1分，未被督查发现问题。")

	a, err := s.SetAppraisal(ctx, "u-lead", appliance.Appraisal{Village: v, Year: 2026, Member: "p1", Grade: "称职",
		Text: "驻村天数不足，工作心得偏少。\n走访认真，群众反映较好。", Signer: "村党支部书记 李国强", Date: "2026-12-07"}, "2026-12-08")
	if err != nil {
		t.Fatal(err)
	}
	if a.Writer != v || a.Facts.DaysIn != 24 || a.Name != "王建军" {
		t.Fatalf("saved %+v", a)
	}
	_, pdf, err = ps.Render(ctx, appliance.PrintRequest{Kind: "appraisal", Record: v + ".2026.p1"})
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, pdf, 0, 0)
	wantText(t, text, "2026年度下沉干部驻村工作鉴定", "鉴定等次 称职", "驻村天数不足，工作心得偏少。", "走访认真，群众反映较好。", "杏花村（盖章）", "签署人：村党支部书记 李国强", "2026年12月7日")
	if strings.Contains(text, "草稿") {
		t.Error("the signed letter still says draft")
	}
	if _, err := s.SetAppraisal(ctx, "u-lead", appliance.Appraisal{Village: v, Year: 2026, Member: "p1", Grade: "很好", Text: "x", Signer: "y"}, "2026-12-08"); appliance.ErrorField(err) != "grade" {
		t.Errorf("unknown grade: err=%v", err)
	}
	if _, err := s.SetAppraisal(ctx, "u-lead", appliance.Appraisal{Village: "410184104202", Year: 2026, Member: "p1", Grade: "称职", Text: "x", Signer: "y"}, "2026-12-08"); appliance.ErrorCode(err) != appliance.EFORBIDDEN {
		t.Errorf("another village's cadre: err=%v", err)
	}
	if _, _, err := ps.Render(ctx, appliance.PrintRequest{Kind: "appraisal", Record: v + ".2026.nobody"}); appliance.ErrorField(err) != "record" {
		t.Errorf("no such member: err=%v", err)
	}
}
