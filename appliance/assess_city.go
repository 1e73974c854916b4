package appliance

import (
	"math"
	"sort"
	"time"
)

// KindTownScores is a town's scores of its villages for one quarter or
// year (季考核、年考评), written on the town's upward feed for its city:
// the city holds none of the villages' records, so it ranks what its towns
// computed. No person is in it: villages only.
const KindTownScores = "assess.town_scores"

// CityPeriods are the period kinds towns send up.
var CityPeriods = []string{PeriodQuarter, PeriodYear}

// VillageScore is a village's line of a town's report.
type VillageScore struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Total    int    `json:"total_x10"`
	Added    int    `json:"added_x10"`
	Deducted int    `json:"deducted_x10"`
}

// TownScores is the body of a KindTownScores entry.
type TownScores struct {
	Town     string         `json:"town"`
	Name     string         `json:"name"`
	Day      string         `json:"day"` // as of
	Period   Period         `json:"period"`
	Villages []VillageScore `json:"villages"`
}

func (t *TownScores) Validate() error {
	if err := ValidateDivisionCode(t.Town, NodeTown); err != nil {
		return err
	}
	if _, err := time.Parse(time.DateOnly, t.Day); err != nil {
		return FieldError("day", "日期格式应为 年-月-日")
	}
	p, err := ParsePeriod(t.Period.ID)
	if err != nil || p != t.Period || !contains(CityPeriods, p.Kind) {
		return FieldError("period", "考核周期应为季度或年度")
	}
	if len(t.Villages) > 500 {
		return FieldError("villages", "村太多")
	}
	for _, v := range t.Villages {
		if TownOf(v.Code) != t.Town || len(v.Code) != 12 {
			return FieldError("villages", "%s 不是本乡镇的村", v.Code)
		}
	}
	return nil
}

// TownRank is a town's line of the city's ranking: the mean of its
// villages' scores.
type TownRank struct {
	Town     string `json:"town"`
	Name     string `json:"name"`
	Day      string `json:"day"`
	Villages int    `json:"villages"`
	Mean     int    `json:"mean_x10"`
	Rank     int    `json:"rank"`
}

// CityVillageRank is a village's line of the city's ranking of all its
// towns' villages.
type CityVillageRank struct {
	VillageScore
	Town     string `json:"town"`
	TownName string `json:"town_name"`
	Rank     int    `json:"rank"`
}

// RankCity ranks the towns (by the mean of their villages' scores, in
// tenths rounded half away from zero) and all their villages (by score),
// best first; equal figures share a rank, then by code.
func RankCity(reports []TownScores) ([]TownRank, []CityVillageRank) {
	towns := []TownRank{}
	villages := []CityVillageRank{}
	for _, r := range reports {
		tr := TownRank{Town: r.Town, Name: r.Name, Day: r.Day, Villages: len(r.Villages), Mean: 1000}
		if n := len(r.Villages); n > 0 {
			sum := 0
			for _, v := range r.Villages {
				sum += v.Total
				villages = append(villages, CityVillageRank{VillageScore: v, Town: r.Town, TownName: r.Name})
			}
			tr.Mean = int(math.Round(float64(sum) / float64(n)))
		}
		towns = append(towns, tr)
	}
	sort.Slice(towns, func(i, j int) bool {
		if towns[i].Mean != towns[j].Mean {
			return towns[i].Mean > towns[j].Mean
		}
		return towns[i].Town < towns[j].Town
	})
	shareRanks(towns, func(t *TownRank) int { return t.Mean }, func(t *TownRank) *int { return &t.Rank })
	sort.Slice(villages, func(i, j int) bool {
		if villages[i].Total != villages[j].Total {
			return villages[i].Total > villages[j].Total
		}
		return villages[i].Code < villages[j].Code
	})
	shareRanks(villages, func(v *CityVillageRank) int { return v.Total }, func(v *CityVillageRank) *int { return &v.Rank })
	return towns, villages
}

// MeanText and TotalText are the figures as pages show them.
func (t TownRank) MeanText() string         { return Points(t.Mean) }
func (v CityVillageRank) TotalText() string { return Points(v.Total) }

// shareRanks ranks s, sorted best first: equal totals share a rank (1, 2,
// 2, 4).
func shareRanks[T any](s []T, total func(*T) int, rank func(*T) *int) {
	for i := range s {
		*rank(&s[i]) = i + 1
		if i > 0 && total(&s[i]) == total(&s[i-1]) {
			*rank(&s[i]) = *rank(&s[i-1])
		}
	}
}
