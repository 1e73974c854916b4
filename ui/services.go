package ui

import (
	"cmp"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// Services (docs/week.md, "Services"): the catalogue the village lead
// keeps, shown on the kiosk by touch; requests asked at the kiosk with a
// callback phone or entered by staff; scheduled, papers taken and given
// back, done, the villager's feedback.
func init() {
	weekHubs = append(weekHubs, NavItem{Href: "/staff/services", Label: "便民服务（上门、代办、预约、咨询）", Perm: appliance.PermViewDashboard})
	registerRoutes(func(s *Server) {
		a := s.app
		view, desk, lead := s.require(appliance.PermViewDashboard), s.require(appliance.PermRegisterCase), s.require(appliance.PermManageKiosk)
		a.Get("/services/ask", s.showServiceAsk)
		a.Post("/services/ask", s.limitReports, s.submitServiceAsk)
		a.Get("/staff/services", view, s.showServiceDesk)
		a.Post("/staff/services", desk, s.submitServiceNew)
		a.Get("/staff/services/households", s.require(appliance.PermViewArchive), s.showServiceHouseholds)
		a.Get("/staff/services/catalogue", lead, s.showCatalog)
		a.Post("/staff/services/catalogue", lead, s.submitCatalog)
		a.Get("/staff/services/:id", view, s.showServiceRequest)
		a.Post("/staff/services/:id", desk, s.submitServiceStep)
	})
}

// catalog is what the kiosk shows: the catalogue the lead keeps, or the
// configuration's services until the lead has kept one.
func (s *Server) catalog() ([]appliance.ServiceItem, error) {
	items, kept, err := s.Store.Catalog(s.Config.Node.Code)
	if err != nil || !kept {
		return s.Config.Services, err
	}
	out := make([]appliance.ServiceItem, len(items))
	for i, it := range items {
		out[i] = it.ServiceItem
	}
	return out, nil
}

func (s *Server) showServiceAsk(c *fiber.Ctx) error {
	return s.renderServiceAsk(c, nil, appliance.ServiceRequest{Item: c.Query("item")}, "")
}

func (s *Server) renderServiceAsk(c *fiber.Ctx, formErr error, r appliance.ServiceRequest, phone string) error {
	items, err := s.catalog()
	if err != nil {
		return err
	}
	kinds := appliance.RequestKinds
	for _, it := range items {
		if it.Name == r.Item && len(it.Kinds) > 0 {
			kinds = it.Kinds
		}
	}
	if r.Kind == "" {
		r.Kind = kinds[0]
	}
	data := fiber.Map{"Title": "申请服务", "Items": items, "Form": r, "Phone": phone, "Kinds": kinds}
	setFormError(c, data, formErr)
	return s.render(c, "kiosk_service_ask", data)
}

func (s *Server) submitServiceAsk(c *fiber.Ctx) error {
	r := appliance.ServiceRequest{Grid: s.Config.Node.Code, Item: strings.TrimSpace(c.FormValue("item")), Kind: c.FormValue("kind"),
		Summary: strings.TrimSpace(c.FormValue("summary")), Source: "kiosk", Asked: s.today()}
	phone := strings.TrimSpace(c.FormValue("phone"))
	items, err := s.catalog()
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(items, func(it appliance.ServiceItem) bool { return it.Name == r.Item }) && r.Item != "其他服务" {
		return s.renderServiceAsk(c, appliance.FieldError("item", "请选择要办的事"), r, phone)
	}
	got, err := s.Store.AskService(c.UserContext(), "", r, appliance.ServiceContact{Phone: phone})
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderServiceAsk(c, err, r, phone)
	}
	return s.render(c, "kiosk_service_done", fiber.Map{"Title": "已收到您的申请", "R": got})
}

func (s *Server) showServiceDesk(c *fiber.Ctx) error {
	return s.renderServiceDesk(c, nil, appliance.ServiceRequest{}, appliance.ServiceContact{})
}

func (s *Server) renderServiceDesk(c *fiber.Ctx, formErr error, form appliance.ServiceRequest, contact appliance.ServiceContact) error {
	u := currentUser(c)
	prefix := s.Config.Node.Code + "/"
	if s.Config.Node.Role == appliance.NodeTown {
		prefix = s.Config.Node.Code[:9]
	}
	year := s.now().Format("2006") + "-01-01"
	reqs, err := s.Store.FindServiceRequests(prefix, year)
	if err != nil {
		return err
	}
	items, err := s.catalog()
	if err != nil {
		return err
	}
	// By village at a town; done this year by kind.
	byKind := map[string]int{}
	for _, r := range reqs {
		if r.State == appliance.RequestDone && r.Asked >= year {
			byKind[r.Kind]++
		}
	}
	data := fiber.Map{"Title": "便民服务", "Requests": reqs, "Items": items, "Kinds": appliance.RequestKinds, "States": appliance.RequestStateLabels,
		"Form": form, "Contact": contact, "CanDesk": u.Can(appliance.PermRegisterCase) && s.Config.Node.Role == appliance.NodeVillage,
		"CanCatalog": u.Can(appliance.PermManageKiosk), "ByKind": byKind, "Town": s.Config.Node.Role == appliance.NodeTown, "Villages": s.villageNames(),
		"Household": c.Query("household"), "HouseholdQ": c.FormValue("household_q"), "PickLabel": "为哪一户办（可不填）"}
	if data["CanDesk"] == true {
		if err := s.addHouseholdPicker(c, data); err != nil {
			return err
		}
	}
	if h := c.Query("household"); h != "" {
		var mine []appliance.ServiceRequest
		for _, r := range reqs {
			if r.Household == h {
				mine = append(mine, r)
			}
		}
		data["Requests"] = mine
	}
	setFormError(c, data, formErr)
	return s.render(c, "staff_services", data)
}

func (s *Server) submitServiceNew(c *fiber.Ctx) error {
	r := appliance.ServiceRequest{Grid: s.Config.Node.Code, Item: strings.TrimSpace(c.FormValue("item")), Kind: c.FormValue("kind"),
		Summary: strings.TrimSpace(c.FormValue("summary")), Source: "staff", Asked: s.today()}
	ct := appliance.ServiceContact{Name: c.FormValue("name"), Phone: c.FormValue("phone")}
	hh, err := s.householdOfForm(c, "household", cmp.Or(c.FormValue("household_q"), c.FormValue("household")))
	var got appliance.ServiceRequest
	if err == nil {
		r.Household = hh
		got, err = s.Store.AskService(c.UserContext(), actor(c), r, ct)
	}
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderServiceDesk(c, err, r, ct)
	}
	return c.Redirect("/staff/services/"+got.Grid+"."+got.ID, fiber.StatusSeeOther)
}

func (s *Server) serviceOf(ref string) (appliance.ServiceRequest, error) {
	grid, id, ok := strings.Cut(ref, ".")
	if !ok || !strings.HasPrefix(grid, s.Config.Node.Code[:9]) || !appliance.ValidID(id) {
		return appliance.ServiceRequest{}, appliance.Errorf(appliance.ENOTFOUND, "没有这个服务申请")
	}
	return s.Store.ServiceRequest(grid, id)
}

func (s *Server) showServiceRequest(c *fiber.Ctx) error { return s.renderServiceRequest(c, nil) }

func (s *Server) renderServiceRequest(c *fiber.Ctx, formErr error) error {
	r, err := s.serviceOf(c.Params("id"))
	if err != nil {
		return err
	}
	u := currentUser(c)
	staff, err := s.nodeStaff()
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "服务申请 " + r.ID, "R": r, "Ref": r.Grid + "." + r.ID, "States": appliance.RequestStateLabels, "Feedback": appliance.FeedbackLabels,
		"Staff": staff, "CanDesk": u.Can(appliance.PermRegisterCase) && r.Grid == s.Config.Node.Code, "Today": s.today(),
		"CanPrint": u.Can(appliance.PermPrint)}
	if u.Can(appliance.PermRegisterCase) {
		// Those who call back see the number; the view is logged.
		if ct, err := s.Store.ServiceContact(r.Grid, r.ID); err == nil {
			data["Contact"] = ct
			s.Log.Info("service contact shown", "user", u.ID, "request", r.ID)
		}
	}
	setFormError(c, data, formErr)
	return s.render(c, "staff_service", data)
}

// submitServiceStep takes one step of a request: schedule, take a paper,
// give papers back, done, feedback, cancel.
func (s *Server) submitServiceStep(c *fiber.Ctx) error {
	r, err := s.serviceOf(c.Params("id"))
	if err != nil {
		return err
	}
	if r.Grid != s.Config.Node.Code {
		return appliance.Errorf(appliance.EFORBIDDEN, "这个服务申请由村里办理")
	}
	today := s.today()
	switch c.FormValue("step") {
	case "schedule":
		r.State, r.Staff, r.Date, r.Time = appliance.RequestScheduled, c.FormValue("staff"), strings.TrimSpace(c.FormValue("date")), strings.TrimSpace(c.FormValue("time"))
	case "take":
		for _, name := range lines(strings.NewReplacer("、", "\n", "，", "\n", ",", "\n").Replace(c.FormValue("papers"))) {
			r.Papers = append(r.Papers, appliance.Paper{Name: name, Taken: today})
		}
		if len(r.Papers) == 0 {
			return s.renderServiceRequest(c, appliance.FieldError("papers", "请填写收取的材料，如 户口簿、身份证复印件"))
		}
	case "return":
		args := c.Context().PostArgs()
		for _, v := range args.PeekMulti("paper") {
			if i, err := strconv.Atoi(string(v)); err == nil && i >= 0 && i < len(r.Papers) && r.Papers[i].Returned == "" {
				r.Papers[i].Returned = today
			}
		}
	case "done":
		r.State, r.Outcome = appliance.RequestDone, strings.TrimSpace(c.FormValue("outcome"))
	case "feedback":
		r.Feedback = c.FormValue("feedback")
		if r.Feedback == "" {
			return s.renderServiceRequest(c, appliance.FieldError("feedback", "请选择满意、基本满意或不满意"))
		}
	case "cancel":
		r.State = appliance.RequestCancelled
		if r.PapersOut() {
			return s.renderServiceRequest(c, appliance.FieldError("papers", "还有代办材料没有退还，退还后才能取消"))
		}
	default:
		return s.renderServiceRequest(c, appliance.FieldError("step", "请选择要做的事"))
	}
	if _, err := s.Store.UpdateService(c.UserContext(), actor(c), r); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderServiceRequest(c, err)
	}
	return c.Redirect("/staff/services/"+url.PathEscape(c.Params("id")), fiber.StatusSeeOther)
}

func (s *Server) showCatalog(c *fiber.Ctx) error {
	return s.renderCatalog(c, nil, appliance.CatalogItem{})
}

func (s *Server) renderCatalog(c *fiber.Ctx, formErr error, form appliance.CatalogItem) error {
	items, kept, err := s.Store.Catalog(s.Config.Node.Code)
	if err != nil {
		return err
	}
	if id := c.Query("edit"); id != "" && form.ID == "" {
		for _, it := range items {
			if it.ID == id {
				form = it
			}
		}
	}
	data := fiber.Map{"Title": "服务事项目录", "Items": items, "Kept": kept, "Defaults": s.Config.Services, "Form": form, "Kinds": appliance.RequestKinds,
		"MaterialsText": strings.Join(form.Materials, "、")}
	setFormError(c, data, formErr)
	return s.render(c, "staff_service_catalog", data)
}

func (s *Server) submitCatalog(c *fiber.Ctx) error {
	grid := s.Config.Node.Code
	if c.FormValue("copy_defaults") == "1" {
		items, kept, err := s.Store.Catalog(grid)
		if err != nil {
			return err
		}
		if !kept || len(items) == 0 {
			for _, it := range s.Config.Services {
				if _, err := s.Store.SetCatalogItem(c.UserContext(), actor(c), appliance.CatalogItem{Grid: grid, ServiceItem: it}); err != nil {
					return s.renderCatalog(c, err, appliance.CatalogItem{})
				}
			}
		}
		return c.Redirect("/staff/services/catalogue", fiber.StatusSeeOther)
	}
	it := appliance.CatalogItem{ID: c.FormValue("id"), Grid: grid, Withdrawn: c.FormValue("withdraw") == "1", ServiceItem: appliance.ServiceItem{
		Name: strings.TrimSpace(c.FormValue("name")), Procedure: strings.TrimSpace(c.FormValue("procedure")), Where: strings.TrimSpace(c.FormValue("where")),
		Who: strings.TrimSpace(c.FormValue("who")), TimeLimit: strings.TrimSpace(c.FormValue("time_limit")),
		Materials: lines(strings.NewReplacer("、", "\n", "，", "\n", ",", "\n").Replace(c.FormValue("materials")))}}
	args := c.Context().PostArgs()
	for _, v := range args.PeekMulti("kinds") {
		it.Kinds = append(it.Kinds, string(v))
	}
	if it.Withdrawn {
		old, _, err := s.Store.Catalog(grid)
		if err != nil {
			return err
		}
		for _, o := range old {
			if o.ID == it.ID {
				o.Withdrawn = true
				it = o
			}
		}
	}
	if _, err := s.Store.SetCatalogItem(c.UserContext(), actor(c), it); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderCatalog(c, err, it)
	}
	return c.Redirect("/staff/services/catalogue", fiber.StatusSeeOther)
}

// difficultyRow is a household in difficulty with the services it received
// this year.
type difficultyRow struct {
	ID, Head, Group string
	Why             []string // 低保, 残疾, 独居老人
	Services        []appliance.ServiceRequest
}

// elderAlone is the age from which a one-person household counts as an
// old person living alone.
const elderAlone = 60

// showServiceHouseholds lists the households in difficulty (dibao, a
// disabled member, an old person living alone) of the user's scope with
// the services done for them this year.
func (s *Server) showServiceHouseholds(c *fiber.Ctx) error {
	u := currentUser(c)
	now := s.now()
	year := now.Format("2006") + "-01-01"
	reqs, err := s.Store.FindServiceRequests(s.Config.Node.Code+"/", year)
	if err != nil {
		return err
	}
	byHH := map[string][]appliance.ServiceRequest{}
	for _, r := range reqs {
		if r.Household != "" && r.State == appliance.RequestDone && r.Asked >= year {
			byHH[r.Household] = append(byHH[r.Household], r)
		}
	}
	hhs, err := s.Store.Households(scopeOf(u), 5000, "")
	if err != nil {
		return err
	}
	heads, err := s.headsOf(hhs)
	if err != nil {
		return err
	}
	var rows []difficultyRow
	for _, h := range hhs {
		_, members, err := s.Store.Household(h.ID)
		if err != nil {
			return err
		}
		var why []string
		if slices.ContainsFunc(members, func(p appliance.Person) bool { return p.Dibao }) {
			why = append(why, "低保")
		}
		if slices.ContainsFunc(members, func(p appliance.Person) bool { return p.Disabled() }) {
			why = append(why, "残疾")
		}
		if len(members) == 1 && members[0].Birth != "" && members[0].Birth <= now.AddDate(-elderAlone, 0, 0).Format("2006-01-02") {
			why = append(why, "独居老人")
		}
		if len(why) > 0 {
			rows = append(rows, difficultyRow{ID: h.ID, Head: heads[h.ID], Group: h.Group, Why: why, Services: byHH[h.ID]})
		}
	}
	return s.render(c, "staff_service_households", fiber.Map{"Title": "困难群众服务", "Rows": rows, "Year": now.Format("2006")})
}
