package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// The grid page: the groups of this village (or the villages of this town)
// and the people on them, with forms to add and change both.

func (s *Server) showGridEdit(c *fiber.Ctx) error {
	return s.renderGridEdit(c, fiber.Map{})
}

func (s *Server) renderGridEdit(c *fiber.Ctx, data fiber.Map) error {
	root, _, err := s.gridTree()
	if err != nil {
		return err
	}
	grids, err := s.Store.FindGrids(appliance.GridFilter{})
	if err != nil {
		return err
	}
	data["Title"] = "网格与人员"
	data["Tree"] = root
	data["Grids"] = grids
	data["Duties"] = dutyOptions()
	data["Kinds"] = appliance.GroupKinds
	data["ChildLevel"] = s.childLevel()
	data["CanEdit"] = currentUser(c).Can(appliance.PermManageGrid)
	if _, ok := data["GridForm"]; !ok {
		data["GridForm"] = appliance.Grid{Kind: "村组"}
	}
	if _, ok := data["StaffForm"]; !ok {
		data["StaffForm"] = appliance.StaffMember{}
	}
	return s.render(c, "staff_grid", data)
}

type option struct{ Value, Label string }

func dutyOptions() []option {
	var out []option
	for _, d := range []string{appliance.DutyFirstResponsible, appliance.DutyCommittee, appliance.DutyMassWorkTeam, appliance.DutyGridLeader, appliance.DutyGridWorker, appliance.DutyDutyStaff} {
		out = append(out, option{d, appliance.DutyLabels[d]})
	}
	return out
}

// childLevel is the level of the grids this node adds below itself.
func (s *Server) childLevel() int {
	if s.Config.Node.Role == appliance.NodeTown {
		return appliance.LevelVillage
	}
	return appliance.LevelGroup
}

func (s *Server) formError(c *fiber.Ctx, data fiber.Map, err error) error {
	if appliance.ErrorCode(err) == appliance.EINTERNAL {
		return err
	}
	setFormError(c, data, err)
	return s.renderGridEdit(c, data)
}

func (s *Server) submitGrid(c *fiber.Ctx) error {
	g := appliance.Grid{
		Code:   strings.TrimSpace(c.FormValue("code")),
		Name:   strings.TrimSpace(c.FormValue("name")),
		Kind:   c.FormValue("kind"),
		Note:   strings.TrimSpace(c.FormValue("note")),
		Level:  s.childLevel(),
		Parent: s.Config.Node.Code,
	}
	data := fiber.Map{"GridForm": g}
	if g.Level == appliance.LevelGroup {
		// Groups are numbered within the village: the form asks for the number.
		n, err := strconv.Atoi(strings.TrimSpace(c.FormValue("number")))
		if err != nil || n < 1 || n > 99 {
			return s.formError(c, data, appliance.FieldError("number", "组号应为1到99之间的数字"))
		}
		g.Code = appliance.GroupCode(s.Config.Node.Code, n)
		g.Kind = c.FormValue("kind")
		data["GridForm"] = g
	}
	if err := s.Store.SetGrid(c.UserContext(), actor(c), g); err != nil {
		return s.formError(c, data, err)
	}
	return c.Redirect("/staff/grid", fiber.StatusSeeOther)
}

func (s *Server) submitStaff(c *fiber.Ctx) error {
	m := appliance.StaffMember{
		ID:    strings.TrimSpace(c.FormValue("id")),
		Name:  strings.TrimSpace(c.FormValue("name")),
		Phone: strings.TrimSpace(c.FormValue("phone")),
		Duty:  c.FormValue("duty"),
		Grid:  c.FormValue("grid"),
		Title: strings.TrimSpace(c.FormValue("title")),
	}
	if c.FormValue("retire") == "1" {
		old, err := s.Store.Staff(m.ID)
		if err != nil {
			return err
		}
		old.Retired = true
		m = old
	} else if m.ID == "" {
		m.ID = fmt.Sprintf("%s-s%d", s.Config.Node.Code, s.Store.Clock().Next()%1000000000)
	}
	if err := s.Store.SetStaff(c.UserContext(), actor(c), m); err != nil {
		return s.formError(c, fiber.Map{"StaffForm": m}, err)
	}
	return c.Redirect("/staff/grid", fiber.StatusSeeOther)
}

func (s *Server) apiSetGrid(c *fiber.Ctx) error {
	var g appliance.Grid
	if err := bindJSON(c, &g); err != nil {
		return err
	}
	if err := s.Store.SetGrid(c.UserContext(), actor(c), g); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(g)
}

func (s *Server) apiSetStaff(c *fiber.Ctx) error {
	var m appliance.StaffMember
	if err := bindJSON(c, &m); err != nil {
		return err
	}
	if m.ID == "" {
		m.ID = fmt.Sprintf("%s-s%d", s.Config.Node.Code, s.Store.Clock().Next()%1000000000)
	}
	m.Phone = appliance.NormalizePhone(m.Phone)
	if err := s.Store.SetStaff(c.UserContext(), actor(c), m); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(m)
}
