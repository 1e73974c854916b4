package ui

import (
	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// GET /api/v1/categories: the case categories with their subcategories
// and deadlines, and the departments a town dispatches to, as configured
// on this node: what an integrator needs to register cases and read the
// statistics. Public: the kiosk shows the same categories.

type categoryJSON struct {
	Key           string                  `json:"key"`
	Name          string                  `json:"name"`
	Plain         string                  `json:"plain,omitempty"`
	Triage        bool                    `json:"triage,omitempty"`
	AutoEscalate  bool                    `json:"auto_escalate,omitempty"`
	Deadlines     map[string]int          `json:"deadlines"` // working days per level, the category's own or the default
	Subcategories []appliance.Subcategory `json:"subcategories"`
}

type categoriesJSON struct {
	Items       []categoryJSON `json:"items"`
	Departments []string       `json:"departments"`
}

func init() {
	registerRoutes(func(s *Server) {
		s.app.Get("/api/v1/categories", s.apiCategories)
	})
}

func (s *Server) apiCategories(c *fiber.Ctx) error {
	out := categoriesJSON{Items: []categoryJSON{}, Departments: append([]string{}, s.Config.Cases.Departments...)}
	for _, cat := range s.Config.Cases.Categories {
		j := categoryJSON{Key: cat.Key, Name: cat.Name, Plain: cat.Plain, Triage: cat.Triage, AutoEscalate: cat.AutoEscalate,
			Deadlines: map[string]int{}, Subcategories: append([]appliance.Subcategory{}, cat.Subcategories...)}
		for _, l := range appliance.CaseLevels {
			j.Deadlines[l] = s.Config.CaseDeadlineDays(cat.Key, l)
		}
		out.Items = append(out.Items, j)
	}
	return c.JSON(out)
}
