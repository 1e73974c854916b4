package ui

import (
	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// apiTownReports lists the latest statistics each town sent up (a city
// node; on a town, its own last report).
func (u *caseUI) apiTownReports(c *fiber.Ctx) error {
	reps, err := u.cases.TownReports()
	if err != nil {
		return err
	}
	if reps == nil {
		reps = []appliance.TownStats{}
	}
	return c.JSON(page[appliance.TownStats]{Items: reps})
}
