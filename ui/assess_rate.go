package ui

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// The village's ratings of the town departments that handled its
// escalated cases (双向评议, docs/assessment.md "Two-way"): a page for the
// village lead; the town sees what its villages said.
func init() {
	registerRoutes(func(s *Server) {
		rate := s.require(appliance.PermManageMeetings)
		s.app.Get("/staff/assess/departments", rate, s.showDeptRatings)
		s.app.Post("/staff/assess/departments", rate, s.submitDeptRating)
	})
}

func (s *Server) showDeptRatings(c *fiber.Ctx) error {
	return s.renderDeptRatings(c, appliance.DeptRating{}, nil)
}

// renderDeptRatings shows the cases to rate; a refused form (failed) is
// shown again with its values and the reason.
func (s *Server) renderDeptRatings(c *fiber.Ctx, failed appliance.DeptRating, formErr error) error {
	data := fiber.Map{"Title": "评议乡镇职能部门", "Labels": appliance.RatingLabels,
		"Levels": []string{appliance.RatingSatisfied, appliance.RatingBasic, appliance.RatingUnsatisfied}, "Me": currentUser(c).Name}
	switch s.Config.Node.Role {
	case appliance.NodeVillage:
		cases, err := s.Store.RatableCases(s.Config.Node.Code)
		if err != nil {
			return err
		}
		data["Cases"] = cases
	case appliance.NodeTown:
		rs, err := s.Store.DeptRatings(s.Config.Node.Code[:9])
		if err != nil {
			return err
		}
		names := map[string]string{}
		if vs, err := s.Store.EnrolledVillages(); err == nil {
			for _, v := range vs {
				names[v.Code] = v.Name
			}
		}
		data["Received"], data["VillageNames"], data["Town"] = rs, names, true
	default:
		data["Unavailable"] = "职能部门由村里评议，在村和乡镇节点上查看"
	}
	if formErr != nil {
		data["Failed"] = failed.Case + "/" + failed.Department
		data["Form"] = failed
	}
	setFormError(c, data, formErr)
	return s.render(c, "staff_dept_ratings", data)
}

func (s *Server) submitDeptRating(c *fiber.Ctx) error {
	r := appliance.DeptRating{Case: c.FormValue("case"), Department: c.FormValue("department"), Timeliness: c.FormValue("timeliness"),
		Result: c.FormValue("result"), Text: strings.TrimSpace(c.FormValue("text")), By: c.FormValue("by"), Date: s.today()}
	if err := s.Store.RateDepartment(c.UserContext(), actor(c), r); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderDeptRatings(c, r, err)
	}
	return c.Redirect("/staff/assess/departments#rated", fiber.StatusSeeOther)
}
