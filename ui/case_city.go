package ui

import (
	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// apiTownReports lists the statistics each town sent up (a city node; on
// a town, its own reports): ?period=all (default: the latest all-time
// report of each) or week, month, quarter, year with ?date= a day in the
// period (today by default).
func (u *caseUI) apiTownReports(c *fiber.Ctx) error {
	reps, err := u.cases.TownPeriodReports(c.Query("period", "all"), c.Query("date", u.s.today()))
	if err != nil {
		return err
	}
	if reps == nil {
		reps = []appliance.TownStats{}
	}
	return c.JSON(page[appliance.TownStats]{Items: reps})
}
