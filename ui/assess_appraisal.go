package ui

import (
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// The yearly appraisal (鉴定) of a seconded cadre on a page
// (docs/assessment.md, "Appraisals"): the draft from the year's evidence,
// edited, signed by the village or its town, printed as kind appraisal.
func init() {
	registerRoutes(func(s *Server) {
		write := s.require(appliance.PermManageMeetings)
		s.app.Get("/staff/assess/appraisals", write, s.showAppraisals)
		s.app.Post("/staff/assess/appraisals", write, s.submitAppraisal)
	})
}

// appraisalRow is a team member and their appraisal of the year, if saved.
type appraisalRow struct {
	appliance.TeamMember
	Saved *appliance.Appraisal
}

func (s *Server) showAppraisals(c *fiber.Ctx) error {
	year, _ := strconv.Atoi(c.Query("year"))
	a := appliance.Appraisal{Village: c.Query("village"), Year: year, Member: c.Query("member")}
	return s.renderAppraisals(c, a, nil)
}

// renderAppraisals shows the village's team for the year and, for a.Member,
// the form: the saved appraisal or the draft; after a refusal (formErr)
// what was typed.
func (s *Server) renderAppraisals(c *fiber.Ctx, a appliance.Appraisal, formErr error) error {
	data := fiber.Map{"Title": "下沉干部年度鉴定", "Grades": appliance.AppraisalGrades}
	node := s.Config.Node
	var villages []gridChoice
	switch node.Role {
	case appliance.NodeVillage:
		a.Village = node.Code
	case appliance.NodeTown:
		vs, err := s.Store.EnrolledVillages()
		if err != nil {
			return err
		}
		for _, v := range vs {
			if appliance.TownOf(v.Code) == node.Code {
				villages = append(villages, gridChoice{v.Code, v.Name})
			}
		}
		if a.Village == "" && len(villages) > 0 {
			a.Village = villages[0].Value
		}
	default:
		data["Unavailable"] = "鉴定由驻村的村或其乡镇出具"
		setFormError(c, data, formErr)
		return s.render(c, "staff_appraisals", data)
	}
	if a.Year < 2000 || a.Year > 2200 {
		a.Year = s.now().Year()
	}
	data["Villages"], data["Year"], data["Village"] = villages, a.Year, a.Village
	data["Years"] = []int{s.now().Year(), s.now().Year() - 1}
	team, err := s.Store.Team(a.Village)
	if err != nil && appliance.ErrorCode(err) != appliance.ENOTFOUND {
		return err
	}
	var rows []appraisalRow
	for _, m := range team.Members {
		r := appraisalRow{TeamMember: m}
		if saved, err := s.Store.Appraisal(a.Village, a.Year, m.ID); err == nil {
			r.Saved = &saved
		}
		rows = append(rows, r)
	}
	data["Rows"] = rows
	if a.Member != "" {
		m, facts, err := s.Store.AppraisalFacts(a.Village, a.Year, a.Member, s.today())
		if err != nil {
			if appliance.ErrorCode(err) == appliance.EINTERNAL {
				return err
			}
			formErr = err
		} else {
			form := a
			if formErr == nil { // the saved one, else the draft
				if saved, err := s.Store.Appraisal(a.Village, a.Year, m.ID); err == nil {
					form = saved
					data["Saved"] = true
				} else {
					form.Text = appliance.DraftAppraisal(m.Name, a.Year, facts)
					form.Date = s.today()
					form.Signer = ""
				}
			}
			form.Name, form.Unit, form.Facts = m.Name, m.Unit, facts
			data["Form"] = form
			data["Record"] = a.Village + "." + strconv.Itoa(a.Year) + "." + m.ID
			data["CanPrint"] = currentUser(c).Can(appliance.PermPrint) && s.Printing != nil
		}
	}
	setFormError(c, data, formErr)
	return s.render(c, "staff_appraisals", data)
}

func (s *Server) submitAppraisal(c *fiber.Ctx) error {
	year, err := strconv.Atoi(strings.TrimSpace(c.FormValue("year")))
	a := appliance.Appraisal{Village: c.FormValue("village"), Year: year, Member: c.FormValue("member"), Text: c.FormValue("text"),
		Grade: c.FormValue("grade"), Signer: c.FormValue("signer"), Date: strings.TrimSpace(c.FormValue("date"))}
	if s.Config.Node.Role == appliance.NodeVillage {
		a.Village = s.Config.Node.Code
	}
	if err != nil {
		return s.renderAppraisals(c, a, appliance.FieldError("year", "年度错误"))
	}
	if a.Date == "" {
		return s.renderAppraisals(c, a, appliance.FieldError("date", "请填写签署日期"))
	}
	if _, err := s.Store.SetAppraisal(c.UserContext(), actor(c), a, s.today()); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderAppraisals(c, a, err)
	}
	q := "?village=" + a.Village + "&year=" + strconv.Itoa(a.Year) + "&member=" + a.Member + "&saved=1#form"
	return c.Redirect("/staff/assess/appraisals"+q, fiber.StatusSeeOther)
}
