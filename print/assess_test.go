package print_test

import (
	"context"
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
	if _, err := ts.CopyDown(ctx, now); err != nil {
		t.Fatal(err)
	}
	down, err := ts.DownFeed(v)
	if err != nil {
		t.Fatal(err)
	}
	es, err := ts.Entries(down, 1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vs.IngestBatch(es); err != nil {
		t.Fatal(err)
	}
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
