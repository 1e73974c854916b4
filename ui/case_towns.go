package ui

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// reportPeriods are the periods of the towns' reports a city chooses from.
var reportPeriods = []struct{ Key, Label, Now string }{
	{"week", "按周", "本周"}, {"month", "按月", "本月"}, {"quarter", "按季", "本季度"}, {"year", "按年", "本年"}, {"all", "全部", "全部"},
}

// rankSort is a measure towns are ranked by: higher first, unless low
// (fewer is better).
type rankSort struct {
	Key, Label string
	low        bool
	of         func(r townRank) float64
}

var rankSorts = []rankSort{
	{"ontime", "按期办结率", false, func(r townRank) float64 { return r.Stats.OnTimeRate() }},
	{"rate", "办结率", false, func(r townRank) float64 { return r.Stats.Rate }},
	{"total", "问题总数", false, func(r townRank) float64 { return float64(r.Stats.Total) }},
	{"late", "超期办结（少者在前）", true, func(r townRank) float64 { return float64(r.Stats.ResolvedLate) }},
	{"overdue", "当前超期（少者在前）", true, func(r townRank) float64 { return float64(r.Overdue) }},
}

// townRank is a line of the ranking: a town's report for the period and
// its current overdue count (from its latest all-time report).
type townRank struct {
	appliance.TownStats
	Rank                  int
	Rate, OnTime, Satisfy string
	Overdue               int64
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", x*100) }

// periodLabel names a period by its first day: 2026年11月, 2026年第4季度…
func periodLabel(period, from string) string {
	t, err := time.Parse("2006-01-02", from)
	if err != nil {
		return "全部"
	}
	switch period {
	case "week":
		return fmt.Sprintf("%s 至 %s", t.Format("2006年1月2日"), t.AddDate(0, 0, 6).Format("1月2日"))
	case "month":
		return t.Format("2006年1月")
	case "quarter":
		return fmt.Sprintf("%d年第%d季度", t.Year(), (int(t.Month())+2)/3)
	case "year":
		return fmt.Sprintf("%d年", t.Year())
	}
	return "全部"
}

// rankTowns orders reports by a measure (ties share a rank, listed by
// code).
func rankTowns(reps []appliance.TownStats, overdue map[string]int64, by rankSort) []townRank {
	rows := make([]townRank, 0, len(reps))
	for _, r := range reps {
		rows = append(rows, townRank{TownStats: r, Rate: pct(r.Stats.Rate), OnTime: pct(r.Stats.OnTimeRate()), Satisfy: pct(r.Stats.SatisfiedRate()), Overdue: overdue[r.Town]})
	}
	key := func(r townRank) float64 {
		if by.low {
			return -by.of(r)
		}
		return by.of(r)
	}
	slices.SortStableFunc(rows, func(a, b townRank) int {
		return cmp.Or(cmp.Compare(key(b), key(a)), cmp.Compare(a.Town, b.Town))
	})
	for i := range rows {
		rows[i].Rank = i + 1
		if i > 0 && key(rows[i]) == key(rows[i-1]) {
			rows[i].Rank = rows[i-1].Rank
		}
	}
	return rows
}

// showTownRanking is the city's page of the towns' reports for one period
// (this week by default, or any past period a town sent), ranked.
func (u *caseUI) showTownRanking(c *fiber.Ctx) error {
	period, date, sort := c.Query("period", "week"), c.Query("date", u.s.today()), c.Query("sort", "ontime")
	data := fiber.Map{"Title": "乡镇统计排名", "Period": period, "Date": date, "Sort": sort, "Periods": reportPeriods, "Sorts": rankSorts}
	i := slices.IndexFunc(rankSorts, func(s rankSort) bool { return s.Key == sort })
	reps, err := u.cases.TownPeriodReports(period, date)
	if err == nil && i < 0 {
		err = appliance.FieldError("sort", "排序方式应为 按期办结率、办结率、问题总数、超期办结 或 当前超期")
	}
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		setFormError(c, data, err)
		return u.s.render(c, "case_towns", data)
	}
	label := "全部时间（截至各乡镇最近一次上报）"
	if period != "all" {
		from, _, _ := appliance.RegisterSpan(period, date)
		label = periodLabel(period, from)
		starts, err := u.cases.TownReportStarts(period)
		if err != nil {
			return err
		}
		type link struct{ Label, Date string }
		var past []link
		for _, s := range starts {
			past = append(past, link{periodLabel(period, s), s})
		}
		data["Past"], data["From"] = past, from
	}
	latest, err := u.cases.TownReports()
	if err != nil {
		return err
	}
	overdue := map[string]int64{}
	for _, r := range latest {
		overdue[r.Town] = r.Stats.Overdue
	}
	rows := rankTowns(reps, overdue, rankSorts[i])
	data["Label"], data["Rows"] = label, rows
	// Enrolled towns that sent nothing for this period.
	ens, err := u.s.Store.Enrolments()
	if err != nil {
		return err
	}
	var missing []string
	for _, en := range ens {
		if en.Role == appliance.NodeTown && !en.Revoked && !slices.ContainsFunc(rows, func(r townRank) bool { return r.Town == en.Code }) {
			missing = append(missing, cmp.Or(en.Name, en.Code))
		}
	}
	data["Missing"] = missing
	return u.s.render(c, "case_towns", data)
}
