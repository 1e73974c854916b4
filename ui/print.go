package ui

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

func init() {
	staffNav = append(staffNav, NavItem{Href: "/staff/print", Label: "打印", Perm: appliance.PermPrint, Section: "村务", Printing: true})
	registerRoutes(func(s *Server) {
		p := s.require(appliance.PermPrint)
		s.app.Get("/staff/print", p, s.showPrint)
		s.app.Get("/staff/print/pdf", p, s.downloadPrint)
		s.app.Post("/staff/print", p, s.submitPrint)
		s.app.Get("/staff/print/jobs/:id.pdf", p, s.downloadJob)
		s.app.Post("/staff/print/jobs/:id/retry", p, s.submitRetry)
		api := s.app.Group("/api/v1/print", p)
		api.Get("/documents", s.apiPrintDocuments)
		api.Get("/pdf", s.downloadPrint)
		api.Post("/", s.apiPrint)
		api.Get("/jobs", s.apiPrintJobs)
		api.Post("/jobs/:id/retry", s.apiRetry)
	})
}

func (s *Server) printing() (appliance.Printing, error) {
	if s.Printing == nil {
		return nil, appliance.Errorf(appliance.ENOTFOUND, "本机未启用打印功能")
	}
	return s.Printing, nil
}

func printRequest(c *fiber.Ctx) appliance.PrintRequest {
	get := func(k string) string {
		if c.Method() == fiber.MethodPost {
			return strings.TrimSpace(c.FormValue(k))
		}
		return strings.TrimSpace(c.Query(k))
	}
	return appliance.PrintRequest{Kind: get("kind"), Grid: get("grid"), Group: get("group"), From: get("from"), To: get("to"), Span: get("span"),
		Paper: get("paper"), Staff: get("staff"), Case: get("case"), Household: get("household"), Record: get("record"), Scope: printScope(c)}
}

// printScope is the grid scope of the user: what they may print of the
// archive (a grid leader their groups).
func printScope(c *fiber.Ctx) string {
	if u := currentUser(c); u != nil {
		return scopeOf(u)
	}
	return ""
}

// paperLabels name paper choices for people.
var paperLabels = map[string]string{"a4": "A4", "a3": "A3", "a5": "A5", "roll": "80毫米热敏纸", "single": "单张卡片", "booklet": "A4对折小册"}

func (s *Server) showPrint(c *fiber.Ctx) error {
	return s.renderPrint(c, nil, appliance.PrintRequest{}, "")
}

func (s *Server) renderPrint(c *fiber.Ctx, formErr error, req appliance.PrintRequest, notice string) error {
	p, err := s.printing()
	if err != nil {
		return err
	}
	jobs, err := p.Jobs(c.UserContext())
	if err != nil {
		return err
	}
	u := currentUser(c)
	grids, err := s.groupsInScope(u)
	if err != nil {
		return err
	}
	all, err := s.nodeStaff()
	if err != nil {
		return err
	}
	var staff []appliance.StaffMember // those whose manual and diary the user may print
	for _, m := range all {
		if appliance.InScope(scopeOf(u), m.Grid) {
			staff = append(staff, m)
		}
	}
	var docs []appliance.PrintDoc
	for _, d := range p.Documents() {
		if u.Can(d.Perm) {
			docs = append(docs, d)
		}
	}
	// Names for the printers' kinds (kind, kind-paper, * for the default)
	// and the jobs' paper.
	kinds := map[string]string{"*": "默认：其余全部文档"}
	for _, d := range p.Documents() {
		kinds[d.Kind] = d.Title
		for _, paper := range d.Papers {
			kinds[d.Kind+"-"+paper] = d.Title + "（" + paperLabels[paper] + "）"
		}
	}
	media := map[string]string{}
	for _, j := range jobs {
		media[j.Media] = mediaLabel(j.Media)
	}
	data := fiber.Map{"Title": "打印", "Docs": docs, "Jobs": jobs, "Printer": p.Printer(c.UserContext()), "Printers": p.Printers(c.UserContext()),
		"KindTitles": kinds, "Media": media, "Grids": grids, "Staff": staff,
		"Scoped": strings.Contains(scopeOf(u), "-"), "Fonts": p.FallbackFonts(),
		"Req": req, "Today": s.today(), "Papers": paperLabels, "States": appliance.PrintStateLabels, "Notice": notice}
	if err := s.addHouseholdPicker(c, data); err != nil {
		return err
	}
	setFormError(c, data, formErr)
	return s.render(c, "staff_print", data)
}

// mediaLabel names a job's lp media for people: A4, 86×54毫米.
func mediaLabel(m string) string {
	if rest, ok := strings.CutPrefix(m, "Custom."); ok {
		return strings.Replace(strings.TrimSuffix(rest, "mm"), "x", "×", 1) + "毫米"
	}
	return m
}

func (s *Server) downloadPrint(c *fiber.Ctx) error {
	p, err := s.printing()
	if err != nil {
		return err
	}
	req := printRequest(c)
	if err := docAllowed(c, p, req); err != nil {
		return err
	}
	name, pdf, err := s.renderDoc(c, p, &req)
	if err != nil {
		if appliance.ErrorCode(err) != appliance.EINTERNAL && !isAPI(c) {
			return s.renderPrint(c, err, req, "")
		}
		return err
	}
	return sendPDF(c, name, pdf)
}

// renderDoc renders req, the household picked by name or door number.
func (s *Server) renderDoc(c *fiber.Ctx, p appliance.Printing, req *appliance.PrintRequest) (string, []byte, error) {
	hh, err := s.pickedHousehold(c, *req)
	if err != nil {
		return "", nil, err
	}
	req.Household = hh
	return p.Render(c.UserContext(), *req)
}

// pickedHousehold is the household a print form names: its id, or a name,
// initials or door number typed in the picker (ui/household_pick.go).
func (s *Server) pickedHousehold(c *fiber.Ctx, req appliance.PrintRequest) (string, error) {
	if req.Household == "" || isAPI(c) {
		return req.Household, nil
	}
	return s.householdOfForm(c, "household", req.Household)
}

func sendPDF(c *fiber.Ctx, name string, pdf []byte) error {
	c.Set(fiber.HeaderContentType, "application/pdf")
	c.Set(fiber.HeaderContentDisposition, "attachment; filename*=UTF-8''"+url.PathEscape(name))
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Send(pdf)
}

func (s *Server) submitPrint(c *fiber.Ctx) error {
	p, err := s.printing()
	if err != nil {
		return err
	}
	req := printRequest(c)
	if err := docAllowed(c, p, req); err != nil {
		return err
	}
	hh, err := s.pickedHousehold(c, req)
	if err == nil {
		req.Household = hh
		_, err = p.Print(c.UserContext(), req)
	}
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderPrint(c, err, req, "")
	}
	// One click from a case's page or receipt: back there, not to 打印.
	if back := c.FormValue("back"); strings.HasPrefix(back, "/staff/cases/") && !strings.ContainsAny(back, "?#\\") && !strings.Contains(back, "//") {
		return c.Redirect(back+"?printed=1", fiber.StatusSeeOther)
	}
	return c.Redirect("/staff/print?sent=1", fiber.StatusSeeOther)
}

func (s *Server) downloadJob(c *fiber.Ctx) error {
	p, err := s.printing()
	if err != nil {
		return err
	}
	pdf, err := p.JobPDF(c.Params("id"))
	if err != nil {
		return err
	}
	return sendPDF(c, c.Params("id")+".pdf", pdf)
}

func (s *Server) submitRetry(c *fiber.Ctx) error {
	p, err := s.printing()
	if err != nil {
		return err
	}
	if _, err := p.Retry(c.UserContext(), c.Params("id")); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderPrint(c, err, appliance.PrintRequest{}, "")
	}
	return c.Redirect("/staff/print", fiber.StatusSeeOther)
}

func (s *Server) apiPrintDocuments(c *fiber.Ctx) error {
	p, err := s.printing()
	if err != nil {
		return err
	}
	printers := append([]appliance.PrinterStatus{}, p.Printers(c.UserContext())...)
	fonts := append([]string{}, p.FallbackFonts()...)
	return c.JSON(fiber.Map{"items": p.Documents(), "printer": p.Printer(c.UserContext()), "printers": printers, "fallback_fonts": fonts})
}

func (s *Server) apiPrint(c *fiber.Ctx) error {
	p, err := s.printing()
	if err != nil {
		return err
	}
	var req appliance.PrintRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	req.Scope = printScope(c)
	if err := docAllowed(c, p, req); err != nil {
		return err
	}
	j, err := p.Print(c.UserContext(), req)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(j)
}

func (s *Server) apiPrintJobs(c *fiber.Ctx) error {
	p, err := s.printing()
	if err != nil {
		return err
	}
	jobs, err := p.Jobs(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": append([]appliance.PrintJob{}, jobs...)})
}

func (s *Server) apiRetry(c *fiber.Ctx) error {
	p, err := s.printing()
	if err != nil {
		return err
	}
	j, err := p.Retry(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(j)
}

// docAllowed checks the user may make the requested document: each kind has
// its own permission (a work manual lists households' phones), beyond the
// print permission every print route needs.
func docAllowed(c *fiber.Ctx, p appliance.Printing, req appliance.PrintRequest) error {
	u := currentUser(c)
	for _, d := range p.Documents() {
		if d.Kind == req.Kind && (u == nil || !u.Can(d.Perm)) {
			return appliance.Errorf(appliance.EFORBIDDEN, "您没有打印“%s”的权限", d.Title)
		}
	}
	return nil
}
