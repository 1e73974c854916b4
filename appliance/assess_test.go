package appliance_test

import (
	"fmt"
	"strings"
	"testing"

	"gridbox/appliance"
)

func TestParsePeriod(t *testing.T) {
	for _, tc := range []struct{ in, id, from, to string }{
		{"2026-W46", "2026-W46", "2026-11-09", "2026-11-15"},
		{"2026-w01", "2026-W01", "2025-12-29", "2026-01-04"}, // ISO week 1 starts in the old year
		{"2025-W53", "", "", ""},                             // 2025 has 52 weeks
		{"2026-W53", "2026-W53", "2026-12-28", "2027-01-03"},
		{"2020-W53", "2020-W53", "2020-12-28", "2021-01-03"},
		{"2026-11", "2026-11", "2026-11-01", "2026-11-30"},
		{"2028-02", "2028-02", "2028-02-01", "2028-02-29"},
		{"2026-Q4", "2026-Q4", "2026-10-01", "2026-12-31"},
		{"2026", "2026", "2026-01-01", "2026-12-31"},
		{"2026-Q5", "", "", ""},
		{"26-11", "", "", ""},
		{"", "", "", ""},
	} {
		p, err := appliance.ParsePeriod(tc.in)
		if tc.id == "" {
			if appliance.ErrorField(err) != "period" {
				t.Errorf("ParsePeriod(%q) = %+v, want an error on period", tc.in, p)
			}
			continue
		}
		if err != nil || p.ID != tc.id || p.From != tc.from || p.To != tc.to {
			t.Errorf("ParsePeriod(%q) = %+v, %v; want %s %s..%s", tc.in, p, err, tc.id, tc.from, tc.to)
		}
	}
	if p, _ := appliance.ParsePeriod("2026-W46"); p.Label() != "2026年第46周（2026-11-09至2026-11-15）" {
		t.Errorf("label %q", p.Label())
	}
}

func TestTableOn(t *testing.T) {
	const town = "410184104000"
	v1, v2, v3 := appliance.DefaultRuleTable(town), appliance.DefaultRuleTable(town), appliance.DefaultRuleTable(town)
	v1.Version, v1.From = 1, "2026-11-16"
	v2.Version, v2.From = 2, "2026-12-01"
	v3.Version, v3.From = 3, "2026-12-01" // the same day: the later version
	tables := []appliance.RuleTable{v3, v1, v2}
	for day, want := range map[string]int{"2026-11-15": 0, "2026-11-16": 1, "2026-11-30": 1, "2026-12-01": 3, "2027-01-01": 3} {
		if got := appliance.TableOn(tables, town, day).Version; got != want {
			t.Errorf("table on %s: version %d, want %d", day, got, want)
		}
	}
	d := appliance.DefaultRuleTable(town)
	d.Version = 1
	if err := d.Validate(); err != nil {
		t.Fatalf("default table: %v", err)
	}
	bad := d
	bad.Rules = append([]appliance.AssessRule(nil), d.Rules...)
	bad.Rules[0].Points = 0.25
	if appliance.ErrorField(bad.Validate()) != "rules" {
		t.Error("points in hundredths accepted")
	}
	bad.Rules[0].Points, bad.Rules[1].ID = 1, bad.Rules[0].ID
	if appliance.ErrorField(bad.Validate()) != "rules" {
		t.Error("duplicate rule id accepted")
	}
}

// A rule's cap per period: evidence in date order fills it, the rest is
// listed but moves nothing; a finding voided by an upheld objection
// counts nothing.
func TestComputeScoresCap(t *testing.T) {
	const village = "410184104201"
	in := &appliance.AssessInput{Town: "410184104000", AsOf: "2027-01-01",
		Villages:  []appliance.Grid{{Code: village, Level: appliance.LevelVillage, Name: "杏花村"}},
		Registers: map[string][]string{village: {"2026-11-30"}}, // first day used: the 30th; December never closed
		DutyLogs:  nil,
		Findings: []appliance.Finding{
			{ID: "f1", Town: "410184104000", Village: village, Way: appliance.WayScheduled, Date: "2026-12-02", Subject: appliance.SubjectVillage, SubjectID: village, Rule: "v-f-absent", Units: 1, Text: "x", Inspector: "赵"},
			{ID: "f2", Town: "410184104000", Village: village, Way: appliance.WayScheduled, Date: "2026-12-03", Subject: appliance.SubjectVillage, SubjectID: village, Rule: "v-f-absent", Units: 1, Text: "x", Inspector: "赵", Decision: appliance.DecisionUpheld, DecisionText: "撤销"},
		},
	}
	p, _ := appliance.ParsePeriod("2026-12")
	s := appliance.ComputeScores(in, p)
	if len(s) != 1 {
		t.Fatalf("scores: %+v", s)
	}
	lines := map[string]appliance.ScoreLine{}
	for _, l := range s[0].Lines {
		lines[l.Rule] = l
	}
	// 31 days: register −1 each capped at −10; duty −2 each capped at −10.
	if l := lines["v-register"]; l.Units != 31 || l.Points != -100 || !l.Capped || len(l.Refs) != 31 {
		t.Errorf("register line %+v", l)
	}
	if l := lines["v-duty"]; l.Units != 31 || l.Points != -100 || !l.Capped {
		t.Errorf("duty line %+v", l)
	}
	if l := lines["v-f-absent"]; l.Units != 1 || l.Points != -50 || l.Refs[0] != "督查 f1" {
		t.Errorf("finding line %+v", l)
	}
	if got := appliance.Points(s[0].Total); got != "75" {
		t.Errorf("total %s, want 75", got)
	}
	// The same input gives the same scores.
	if again := appliance.ComputeScores(in, p); appliance.Points(again[0].Total) != "75" || len(again[0].Lines) != len(s[0].Lines) {
		t.Error("not deterministic")
	}
}

// The draw is the same for the same pool, number and seed, whatever the
// pool's order, and pinned: a release that changed it would make old
// draws unverifiable.
func TestDrawInspection(t *testing.T) {
	pool := []string{"410184104201", "410184104202", "410184104203", "410184104204", "410184104205", "410184104206", "410184104207", "410184104208"}
	got := appliance.DrawInspection(pool, 3, 42)
	rev := append([]string(nil), pool...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	if again := appliance.DrawInspection(rev, 3, 42); strings.Join(again, ",") != strings.Join(got, ",") {
		t.Fatalf("draw depends on the pool's order: %v vs %v", got, again)
	}
	if want := "410184104202,410184104204,410184104205"; strings.Join(got, ",") != want {
		t.Fatalf("draw(42) = %s, want %s", strings.Join(got, ","), want)
	}
	if other := appliance.DrawInspection(pool, 3, 43); strings.Join(other, ",") == strings.Join(got, ",") {
		t.Logf("seeds 42 and 43 draw the same (possible, unlikely)")
	}
	p := appliance.Inspection{ID: "i1", Town: "410184104000", Way: appliance.WayRandom, Date: "2026-12-10", Subject: appliance.SubjectVillage, Topic: "台账", State: appliance.InspectionPlanned,
		Grids: got, Draw: &appliance.Draw{Seed: appliance.SeedText(42), Pool: pool, N: 3, Picked: got}}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	forged := p
	forged.Draw = &appliance.Draw{Seed: appliance.SeedText(42), Pool: pool, N: 3, Picked: []string{pool[0], pool[1], pool[2]}}
	forged.Grids = forged.Draw.Picked
	if strings.Join(forged.Grids, ",") != strings.Join(got, ",") && appliance.ErrorField(forged.Validate()) != "draw" {
		t.Error("a draw whose picks the seed does not give was accepted")
	}
}

func TestMissingHouseholdData(t *testing.T) {
	h := appliance.Household{ID: "h1", Group: "410184104201-01", Head: "p1"}
	head := appliance.Person{ID: "p1", Name: "张三", Relation: "户主", Birth: "1960-01-01"}
	for _, c := range []struct {
		h    appliance.Household
		ms   []appliance.Person
		want string
	}{
		{h, []appliance.Person{head}, "住址或门牌号 联系电话"},
		{appliance.Household{ID: "h1", HouseNo: "12", Phone: "13800000000"}, []appliance.Person{head}, "户主"},
		// A member's phone reaches the household; one who left counts
		// for nothing, whatever is missing of them.
		{appliance.Household{ID: "h1", Head: "p1", Address: "东街3号"}, []appliance.Person{head, {Name: "李四", Relation: "妻", Birth: "1962-02-02", Phone: "13900000000"}, {Name: "王五", Left: "moved"}}, ""},
		// 无证 members may lack a birth date in the archive; it is still
		// required data.
		{appliance.Household{ID: "h1", Head: "p1", Address: "东街3号", Phone: "13800000000"}, []appliance.Person{head, {Name: "小明", NoID: true, Relation: " "}}, "成员出生日期 与户主关系"},
	} {
		if got := strings.Join(appliance.MissingHouseholdData(&c.h, c.ms), " "); got != c.want {
			t.Errorf("%+v: %q, want %q", c.h, got, c.want)
		}
	}
}

// The work team's shortfall is counted per month that has ended, from the
// month of its first day, dated the month's last day.
func TestTeamEvidence(t *testing.T) {
	in := &appliance.AssessInput{Town: "410184104000", AsOf: "2026-12-01",
		Teams:     []appliance.WorkTeam{{Village: "410184104201", Members: []appliance.TeamMember{{ID: "m1", Name: "甲", Days: 3, StaffID: "s1"}, {ID: "m2", Name: "乙", Days: 0}}}},
		TeamSigns: []appliance.TeamSign{{Village: "410184104201", Member: "m1", Date: "2026-10-20"}, {Village: "410184104201", Member: "m1", Date: "2026-11-02"}, {Village: "410184104201", Member: "m1", Date: "2026-11-03"}}}
	var got []string
	for _, id := range []string{"2026-Q4", "2026-W44", "2026-W49", "2026-11", "2026-09"} {
		p, _ := appliance.ParsePeriod(id)
		for _, e := range appliance.AssessEvidence(in, p) {
			got = append(got, fmt.Sprintf("%s %s/%s %s %d %s", id, e.Subject, e.SubjectID, e.Date, e.Units, e.Ref))
		}
	}
	want := []string{
		// October: one day of three; November: two; December not over.
		"2026-Q4 person/s1 2026-10-31 2 驻村 2026-10 甲 1/3天", "2026-Q4 village/410184104201 2026-10-31 2 驻村 2026-10 甲 1/3天",
		"2026-Q4 person/s1 2026-11-30 1 驻村 2026-11 甲 2/3天", "2026-Q4 village/410184104201 2026-11-30 1 驻村 2026-11 甲 2/3天",
		// The week holding October 31st.
		"2026-W44 person/s1 2026-10-31 2 驻村 2026-10 甲 1/3天", "2026-W44 village/410184104201 2026-10-31 2 驻村 2026-10 甲 1/3天",
		"2026-W49 person/s1 2026-11-30 1 驻村 2026-11 甲 2/3天", "2026-W49 village/410184104201 2026-11-30 1 驻村 2026-11 甲 2/3天",
		"2026-11 person/s1 2026-11-30 1 驻村 2026-11 甲 2/3天", "2026-11 village/410184104201 2026-11-30 1 驻村 2026-11 甲 2/3天",
		// September: before the team's first day.
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestRankCity(t *testing.T) {
	q, _ := appliance.ParsePeriod("2026-Q4")
	towns, villages := appliance.RankCity([]appliance.TownScores{
		{Town: "410184104000", Name: "龙湖镇", Period: q, Villages: []appliance.VillageScore{{Code: "410184104201", Name: "杏花村", Total: 965}, {Code: "410184104202", Name: "桃园村", Total: 1000}}},
		{Town: "410184105000", Name: "孟庄镇", Period: q, Villages: []appliance.VillageScore{{Code: "410184105201", Name: "东村", Total: 983}}},
		{Town: "410184106000", Name: "新村镇", Period: q, Villages: []appliance.VillageScore{{Code: "410184106201", Name: "西村", Total: 982}, {Code: "410184106202", Name: "南村", Total: 983}}},
		{Town: "410184107000", Name: "薛店镇", Period: q},
	})
	// Means: 982.5 → 983 (half away from zero), 983, 982.5 → 983, none: 1000.
	var got []string
	for _, tr := range towns {
		got = append(got, fmt.Sprintf("%d %s %s", tr.Rank, tr.Name, tr.MeanText()))
	}
	for _, v := range villages {
		got = append(got, fmt.Sprintf("%d %s %s", v.Rank, v.Name, v.TotalText()))
	}
	want := "1 薛店镇 100|2 龙湖镇 98.3|2 孟庄镇 98.3|2 新村镇 98.3|1 桃园村 100|2 东村 98.3|2 南村 98.3|4 西村 98.2|5 杏花村 96.5"
	if strings.Join(got, "|") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
}
