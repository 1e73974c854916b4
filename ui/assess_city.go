package ui

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// Quarterly and yearly rankings at the city (docs/assessment.md, "At the
// city"): what the towns sent up, ranked; a city computes no scores.
func init() {
	registerRoutes(func(s *Server) {
		s.app.Get("/api/v1/assess/towns", s.require(appliance.PermViewDashboard), s.apiTownRanking)
	})
}

// cityRankingDoc is the city's ranking of a period.
type cityRankingDoc struct {
	Period   appliance.Period            `json:"period"`
	Towns    []appliance.TownRank        `json:"towns"`
	Villages []appliance.CityVillageRank `json:"villages"`
}

// cityRanking ranks the reports of ?period= (a quarter or year; this
// quarter when absent).
func (s *Server) cityRanking(c *fiber.Ctx) (cityRankingDoc, error) {
	p, _ := appliance.PeriodOf(appliance.PeriodQuarter, s.today())
	if q := c.Query("period"); q != "" {
		var err error
		if p, err = appliance.ParsePeriod(q); err != nil {
			return cityRankingDoc{Period: p}, err
		}
		if p.Kind != appliance.PeriodQuarter && p.Kind != appliance.PeriodYear {
			return cityRankingDoc{Period: p}, appliance.FieldError("period", "市里按季度和年度排名，如 2026-Q4、2026")
		}
	}
	reps, err := s.Store.TownScoreReports(p.ID)
	if err != nil {
		return cityRankingDoc{Period: p}, err
	}
	towns, villages := appliance.RankCity(reps)
	return cityRankingDoc{Period: p, Towns: towns, Villages: villages}, nil
}

func (s *Server) apiTownRanking(c *fiber.Ctx) error {
	doc, err := s.cityRanking(c)
	if err != nil {
		return err
	}
	return c.JSON(doc)
}

// renderCityAssess is 考核积分 on a city node.
func (s *Server) renderCityAssess(c *fiber.Ctx) error {
	doc, err := s.cityRanking(c)
	data := fiber.Map{"Title": "考核积分", "Doc": doc}
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		setFormError(c, data, err)
	}
	now := s.now()
	var choices []periodChoice
	for _, d := range []struct {
		kind string
		at   time.Time
	}{{appliance.PeriodQuarter, now}, {appliance.PeriodQuarter, now.AddDate(0, -3, 0)}, {appliance.PeriodYear, now}, {appliance.PeriodYear, now.AddDate(-1, 0, 0)}} {
		if p, err := appliance.PeriodOf(d.kind, d.at.Format(time.DateOnly)); err == nil {
			choices = append(choices, periodChoice{p.ID, p.Label(), p.ID == doc.Period.ID})
		}
	}
	data["Periods"] = choices
	return s.render(c, "staff_assess_city", data)
}
