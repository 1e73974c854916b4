package ui

import (
	"errors"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

func init() {
	staffNav = append(staffNav,
		NavItem{Href: "/staff/visits/new", Label: "记走访", Perm: appliance.PermRecordVisit, Section: "户籍与走访", Primary: []appliance.Role{appliance.RoleGridLeader}, Rank: -2},
		NavItem{Href: "/staff/households", Label: "户籍档案", Perm: appliance.PermViewArchive, Section: "户籍与走访", Primary: []appliance.Role{appliance.RoleGridLeader}},
		NavItem{Href: "/staff/visits", Label: "走访巡查", Perm: appliance.PermRecordVisit, Section: "户籍与走访"},
		NavItem{Href: "/staff/visits/diary", Label: "民情日记", Perm: appliance.PermRecordVisit, Section: "户籍与走访"},
		NavItem{Href: "/staff/population", Label: "人口概况", Perm: appliance.PermViewArchive, Section: "户籍与走访"},
	)
	dashboardCounters = append(dashboardCounters, archiveCounters)
	registerRoutes(func(s *Server) {
		a := s.app
		view, edit := s.require(appliance.PermViewArchive), s.require(appliance.PermEditArchive)
		a.Get("/staff/households", view, s.showHouseholdList)
		a.Get("/staff/households/new", edit, s.showHouseholdNew)
		a.Post("/staff/households", edit, s.submitHouseholdNew)
		a.Get("/staff/households/import", edit, s.showHouseholdImport)
		a.Post("/staff/households/import", edit, s.submitHouseholdImport)
		a.Get("/staff/households/export.xlsx", view, s.exportHouseholds)
		a.Get("/staff/households/duplicates", view, s.showDuplicates)
		a.Post("/staff/households/duplicates", edit, s.submitDuplicate)
		a.Get("/staff/population", view, s.showPopulation)
		a.Get("/staff/population/:group.svg", view, s.servePyramid)
		a.Get("/staff/households/:id", view, s.showHousehold)
		a.Get("/staff/households/:id/edit", edit, s.showHouseholdEdit)
		a.Post("/staff/households/:id/edit", edit, s.submitHouseholdEdit)
		a.Get("/staff/households/:id/members/new", edit, s.showMemberNew)
		a.Post("/staff/households/:id/members/new", edit, s.submitMemberNew)
		a.Get("/staff/households/:id/event", edit, s.showHouseholdEvent)
		a.Post("/staff/households/:id/event", edit, s.submitHouseholdEvent)
		a.Get("/staff/members/:pid/edit", edit, s.showMemberEdit)
		a.Post("/staff/members/:pid/edit", edit, s.submitMemberEdit)
		a.Post("/staff/members/:pid/reveal", s.require(appliance.PermRevealPersonal), s.submitReveal)
	})
}

// scopeOf is the prefix of group codes the user may see in the archive.
func scopeOf(u *appliance.User) string { return appliance.ScopePrefix(u.Grid) }

// groupsInScope lists the level-3 grids the user may see.
func (s *Server) groupsInScope(u *appliance.User) ([]appliance.Grid, error) {
	lvl := appliance.LevelGroup
	grids, err := s.Store.FindGrids(appliance.GridFilter{Level: &lvl})
	if err != nil {
		return nil, err
	}
	scope := scopeOf(u)
	var out []appliance.Grid
	for _, g := range grids {
		if appliance.InScope(scope, g.Code) {
			out = append(out, g)
		}
	}
	return out, nil
}

func groupNames(gs []appliance.Grid) map[string]string {
	m := map[string]string{}
	for _, g := range gs {
		m[g.Code] = g.Name
	}
	return m
}

// householdInScope loads a household the user may see, or fails as not found
// (not forbidden: whether it exists elsewhere is not the user's business).
func (s *Server) householdInScope(c *fiber.Ctx, id string) (appliance.Household, []appliance.Person, error) {
	h, ms, err := s.Store.Household(id)
	if err != nil {
		return h, nil, err
	}
	if !appliance.InScope(scopeOf(currentUser(c)), h.Group) {
		return h, nil, appliance.Errorf(appliance.ENOTFOUND, "该户不存在")
	}
	return h, ms, nil
}

func archiveCounters(s *Server, u *appliance.User) ([]Counter, error) {
	if !u.Can(appliance.PermViewArchive) {
		return nil, nil
	}
	st, err := s.Store.ArchiveStats(scopeOf(u), s.now())
	if err != nil {
		return nil, err
	}
	var total appliance.GroupStats
	for _, g := range st {
		total.Add(g)
	}
	old, _, err := s.Store.FindPeople(appliance.PersonFilter{Scope: scopeOf(u), Alone80: true, Limit: 1000, On: s.now()})
	if err != nil {
		return nil, err
	}
	out := []Counter{
		{Label: "户数", Value: total.Households, Href: "/staff/households"},
		{Label: "人口", Value: total.People, Href: "/staff/population"},
		{Label: "80岁以上独居", Value: int64(len(old)), Href: "/staff/households?alone80=1"},
	}
	if u.Can(appliance.PermRecordVisit) {
		target, days := s.Config.Archive.VisitRule()
		cv, err := s.Store.VisitCoverage(scopeOf(u), s.today(), days)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, g := range cv {
			n += len(g.Unvisited)
		}
		out = append(out, Counter{Label: strconv.Itoa(days) + "天内未走访户", Value: int64(n), Href: "/staff/visits"})
		prog, err := s.Store.WorkerProgress(scopeOf(u), s.now().AddDate(0, 0, -6).Format("2006-01-02"), s.today(), target, s.workdayFunc())
		if err != nil {
			return nil, err
		}
		behind := 0
		for _, p := range prog {
			if p.Behind {
				behind++
			}
		}
		out = append(out, Counter{Label: "近7天走访落后人员", Value: int64(behind), Href: "/staff/visits"})
	}
	return out, nil
}

// personFilterOf reads search and filters from the query string.
func personFilterOf(c *fiber.Ctx, u *appliance.User) appliance.PersonFilter {
	return appliance.PersonFilter{
		Query:       strings.TrimSpace(c.Query("q")),
		Scope:       scopeOf(u),
		Group:       c.Query("group"),
		Dibao:       c.Query("dibao") == "1",
		Away:        c.Query("away") == "1",
		Disabled:    c.Query("disabled") == "1",
		Alone80:     c.Query("alone80") == "1",
		KeyCategory: c.Query("key"),
	}
}

func (s *Server) showHouseholdList(c *fiber.Ctx) error {
	u := currentUser(c)
	groups, err := s.groupsInScope(u)
	if err != nil {
		return err
	}
	f := personFilterOf(c, u)
	f.Limit = 100
	f.On = s.now()
	data := fiber.Map{"Title": "户籍档案", "Groups": groups, "GroupNames": groupNames(groups), "F": f,
		"KeyCats": s.Config.Archive.KeyPersonCategories, "CanEdit": u.Can(appliance.PermEditArchive)}
	searching := f.Query != "" || f.Dibao || f.Away || f.Disabled || f.Alone80 || f.KeyCategory != ""
	if searching {
		hits, more, err := s.Store.FindPeople(f)
		if err != nil {
			return err
		}
		for i := range hits {
			hits[i].Person = hits[i].Person.Masked()
		}
		data["Hits"], data["More"], data["Searching"] = hits, more, true
	} else {
		scope := scopeOf(u)
		if f.Group != "" && appliance.InScope(scope, f.Group) {
			scope = f.Group
		}
		after := c.Query("after")
		hhs, err := s.Store.Households(scope, 101, after)
		if err != nil {
			return err
		}
		if len(hhs) > 100 {
			data["Next"] = hhs[99].Group + "/" + hhs[99].ID
			hhs = hhs[:100]
		}
		heads, err := s.headsOf(hhs)
		if err != nil {
			return err
		}
		data["Households"], data["Heads"] = hhs, heads
	}
	return s.render(c, "household_list", data)
}

// householdPage is everything the household page shows.
func (s *Server) householdPage(c *fiber.Ctx, id string, revealed *appliance.Person) error {
	u := currentUser(c)
	h, ms, err := s.householdInScope(c, id)
	if err != nil {
		return err
	}
	for i := range ms {
		if revealed != nil && ms[i].ID == revealed.ID {
			continue
		}
		ms[i] = ms[i].Masked()
	}
	hist, err := s.Store.HouseholdHistory(id)
	if err != nil {
		return err
	}
	for i, j := 0, len(hist)-1; i < j; i, j = i+1, j-1 {
		hist[i], hist[j] = hist[j], hist[i]
	}
	visits, err := s.Store.HouseholdVisits(id, 5)
	if err != nil {
		return err
	}
	g, _ := s.Store.Grid(h.Group)
	title := "户"
	for _, m := range ms {
		if m.ID == h.Head {
			title = m.Name + "户"
		}
	}
	data := fiber.Map{"Title": title, "H": h, "Members": ms, "History": hist, "Visits": visits,
		"GroupName": g.Name, "CanEdit": u.Can(appliance.PermEditArchive), "CanReveal": u.Can(appliance.PermRevealPersonal), "RevealPurposes": appliance.RevealPurposes,
		"CanVisit": u.Can(appliance.PermRecordVisit), "CanPrint": u.Can(appliance.PermPrint) && s.Printing != nil, "Revealed": revealed, "Today": s.now()}
	if err := s.householdAppointments(c, id, data); err != nil {
		return err
	}
	return s.render(c, "household_show", data)
}

func (s *Server) showHousehold(c *fiber.Ctx) error { return s.householdPage(c, c.Params("id"), nil) }

func (s *Server) submitReveal(c *fiber.Ctx) error {
	p, err := s.Store.Person(c.Params("pid"))
	if err != nil {
		return err
	}
	if _, _, err := s.householdInScope(c, p.Household); err != nil {
		return err
	}
	p, err = s.Store.RevealPersonal(c.UserContext(), actor(c), p.ID, strings.TrimSpace(c.FormValue("purpose")))
	if err != nil {
		return err
	}
	return s.householdPage(c, p.Household, &p)
}

// householdForm reads the household fields of a form.
func householdForm(c *fiber.Ctx) appliance.Household {
	num := func(k string) float64 {
		f, _ := strconv.ParseFloat(strings.TrimSpace(c.FormValue(k)), 64)
		return f
	}
	return appliance.Household{
		Group: c.FormValue("group"), Address: strings.TrimSpace(c.FormValue("address")), HouseNo: strings.TrimSpace(c.FormValue("house_no")),
		SheetNo:     strings.TrimSpace(c.FormValue("sheet_no")),
		HousingKind: c.FormValue("housing_kind"), FloorArea: num("floor_area"), Safety: c.FormValue("safety"),
		Phone: c.FormValue("hh_phone"), Lat: num("lat"), Lng: num("lng"), Note: strings.TrimSpace(c.FormValue("hh_note")),
	}
}

// memberForm reads a member's fields; an empty ID number on an edit keeps
// the stored one (the form never shows it unmasked).
func memberForm(c *fiber.Ctx) appliance.Person {
	amount, _ := strconv.ParseFloat(strings.TrimSpace(c.FormValue("dibao_amount")), 64)
	p := appliance.Person{
		Name: c.FormValue("name"), Gender: c.FormValue("gender"), Birth: c.FormValue("birth_date"), Relation: c.FormValue("relation"),
		Phone: c.FormValue("phone"), Employment: strings.TrimSpace(c.FormValue("employment")), Residence: c.FormValue("residence"),
		ResidenceWhere: strings.TrimSpace(c.FormValue("residence_where")), ResidenceSince: c.FormValue("residence_since"),
		Dibao: c.FormValue("dibao") == "1", Insured: c.FormValue("insured") == "1", InsuranceScheme: strings.TrimSpace(c.FormValue("insurance_scheme")),
		NoID: c.FormValue("no_id") == "1",
		Sensitive: &appliance.Sensitive{
			IDNumber: c.FormValue("id_number"), DibaoSince: c.FormValue("dibao_since"), DibaoCategory: strings.TrimSpace(c.FormValue("dibao_category")),
			DibaoAmount: amount, Health: c.FormValue("health"), DisabilityGrade: strings.TrimSpace(c.FormValue("disability_grade")),
			Note: strings.TrimSpace(c.FormValue("note")),
		},
	}
	if args := c.Context().PostArgs(); args != nil {
		for _, v := range args.PeekMulti("key_categories") {
			p.Sensitive.KeyCategories = append(p.Sensitive.KeyCategories, string(v))
		}
	}
	if mf, err := c.MultipartForm(); err == nil && mf != nil {
		p.Sensitive.KeyCategories = append(p.Sensitive.KeyCategories, mf.Value["key_categories"]...)
	}
	return p
}

// formData is the common data of the household and member forms.
func (s *Server) formData(c *fiber.Ctx, title string, formErr error) (fiber.Map, error) {
	groups, err := s.groupsInScope(currentUser(c))
	if err != nil {
		return nil, err
	}
	data := fiber.Map{"Title": title, "Groups": groups, "Relations": appliance.Relations, "HousingKinds": appliance.HousingKinds,
		"Safety": appliance.SafetyRatings, "Residences": appliance.ResidenceLabels, "Health": appliance.HealthLabels,
		"KeyCats": s.Config.Archive.KeyPersonCategories, "LeftLabels": appliance.LeftLabels}
	setFormError(c, data, formErr)
	return data, nil
}

func (s *Server) showHouseholdNew(c *fiber.Ctx) error {
	data, err := s.formData(c, "新建户", nil)
	if err != nil {
		return err
	}
	data["H"] = appliance.Household{Group: c.Query("group")}
	data["P"] = appliance.Person{Relation: appliance.RelationHead, Residence: appliance.ResidenceHere, Insured: true, Sensitive: &appliance.Sensitive{}}
	data["Mode"], data["Action"] = "new", "/staff/households"
	return s.render(c, "household_form", data)
}

func (s *Server) submitHouseholdNew(c *fiber.Ctx) error {
	h, p := householdForm(c), memberForm(c)
	p.Relation = appliance.RelationHead
	fail := func(err error) error {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		data, derr := s.formData(c, "新建户", err)
		if derr != nil {
			return derr
		}
		data["H"], data["P"] = h, p
		data["Mode"], data["Action"] = "new", "/staff/households"
		return s.render(c, "household_form", data)
	}
	if !appliance.InScope(scopeOf(currentUser(c)), h.Group) {
		return fail(appliance.FieldError("group", "只能在自己负责的网格中建户"))
	}
	id, err := s.Store.CreateHousehold(c.UserContext(), actor(c), h, []appliance.Person{p})
	if err != nil {
		return fail(err)
	}
	return c.Redirect("/staff/households/"+id, fiber.StatusSeeOther)
}

func (s *Server) showHouseholdEdit(c *fiber.Ctx) error {
	h, _, err := s.householdInScope(c, c.Params("id"))
	if err != nil {
		return err
	}
	data, err := s.formData(c, "修改户信息", nil)
	if err != nil {
		return err
	}
	data["H"] = h
	data["Mode"], data["Action"] = "edit", "/staff/households/"+h.ID+"/edit"
	return s.render(c, "household_form", data)
}

func (s *Server) submitHouseholdEdit(c *fiber.Ctx) error {
	old, _, err := s.householdInScope(c, c.Params("id"))
	if err != nil {
		return err
	}
	h := householdForm(c)
	h.ID = old.ID
	err = nil
	if !appliance.InScope(scopeOf(currentUser(c)), h.Group) {
		err = appliance.FieldError("group", "只能迁往自己负责的网格；迁往外村请用“整户迁出”")
	} else {
		err = s.Store.UpdateHousehold(c.UserContext(), actor(c), h)
	}
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		data, derr := s.formData(c, "修改户信息", err)
		if derr != nil {
			return derr
		}
		data["H"] = h
		data["Mode"], data["Action"] = "edit", "/staff/households/"+h.ID+"/edit"
		return s.render(c, "household_form", data)
	}
	return c.Redirect("/staff/households/"+h.ID, fiber.StatusSeeOther)
}

func (s *Server) showMemberNew(c *fiber.Ctx) error {
	h, _, err := s.householdInScope(c, c.Params("id"))
	if err != nil {
		return err
	}
	data, err := s.formData(c, "增加成员", nil)
	if err != nil {
		return err
	}
	data["H"], data["P"] = h, appliance.Person{Residence: appliance.ResidenceHere, Insured: true, Sensitive: &appliance.Sensitive{}}
	data["Mode"], data["Action"] = "member", "/staff/households/"+h.ID+"/members/new"
	return s.render(c, "household_form", data)
}

func (s *Server) submitMemberNew(c *fiber.Ctx) error {
	h, _, err := s.householdInScope(c, c.Params("id"))
	if err != nil {
		return err
	}
	p := memberForm(c)
	p.Household = h.ID
	if _, err := s.Store.SaveMember(c.UserContext(), actor(c), p); err != nil {
		return s.memberFormFail(c, "增加成员", h, p, true, err)
	}
	return c.Redirect("/staff/households/"+h.ID, fiber.StatusSeeOther)
}

func (s *Server) memberFormFail(c *fiber.Ctx, title string, h appliance.Household, p appliance.Person, isNew bool, err error) error {
	if appliance.ErrorCode(err) == appliance.EINTERNAL {
		return err
	}
	data, derr := s.formData(c, title, err)
	if derr != nil {
		return derr
	}
	if p.Sensitive != nil && !isNew {
		p.Sensitive.IDNumber = ""
	}
	data["H"], data["P"] = h, p
	data["Mode"], data["Action"] = "member", "/staff/households/"+h.ID+"/members/new"
	if !isNew {
		data["Action"] = "/staff/members/" + p.ID + "/edit"
	}
	return s.render(c, "household_form", data)
}

func (s *Server) showMemberEdit(c *fiber.Ctx) error {
	p, err := s.Store.Person(c.Params("pid"))
	if err != nil {
		return err
	}
	h, _, err := s.householdInScope(c, p.Household)
	if err != nil {
		return err
	}
	data, err := s.formData(c, "修改成员信息", nil)
	if err != nil {
		return err
	}
	masked := p.Masked()
	data["MaskedID"] = masked.IDNumber()
	if p.Sensitive != nil {
		sens := *p.Sensitive
		sens.IDNumber = ""
		p.Sensitive = &sens
	} else {
		p.Sensitive = &appliance.Sensitive{}
		data["Unknown"] = true
	}
	data["H"], data["P"] = h, p
	data["Mode"], data["Action"] = "member", "/staff/members/"+p.ID+"/edit"
	return s.render(c, "household_form", data)
}

func (s *Server) submitMemberEdit(c *fiber.Ctx) error {
	old, err := s.Store.Person(c.Params("pid"))
	if err != nil {
		return err
	}
	h, _, err := s.householdInScope(c, old.Household)
	if err != nil {
		return err
	}
	p := memberForm(c)
	p.ID, p.Household = old.ID, old.Household
	if old.Sensitive == nil {
		p.Sensitive = nil // not held here: the edit leaves the sealed part alone
	} else if strings.TrimSpace(p.Sensitive.IDNumber) == "" {
		p.Sensitive.IDNumber = old.Sensitive.IDNumber
	}
	if _, err := s.Store.SaveMember(c.UserContext(), actor(c), p); err != nil {
		return s.memberFormFail(c, "修改成员信息", h, p, false, err)
	}
	return c.Redirect("/staff/households/"+h.ID, fiber.StatusSeeOther)
}

// householdEvents are the one-step events offered on the event page.
var householdEvents = []struct{ Key, Label string }{
	{"leave", "成员减少（死亡、迁出、婚出、误登）"},
	{"new_head", "变更户主"},
	{"birth", "出生入户"},
	{"split", "分户"},
	{"merge", "合户（把另一户并入本户）"},
	{"move", "成员迁入本村其他户"},
	{"away", "整户迁往外村"},
}

func (s *Server) showHouseholdEvent(c *fiber.Ctx) error {
	return s.renderHouseholdEvent(c, c.Query("kind", "leave"), nil)
}

func (s *Server) renderHouseholdEvent(c *fiber.Ctx, kind string, formErr error) error {
	h, ms, err := s.householdInScope(c, c.Params("id"))
	if err != nil {
		return err
	}
	var active []appliance.Person
	for _, m := range ms {
		if m.Active() {
			active = append(active, m.Masked())
		}
	}
	data, err := s.formData(c, "户变动", formErr)
	if err != nil {
		return err
	}
	data["H"], data["Members"], data["Kind"], data["Events"], data["Today"] = h, active, kind, householdEvents, s.today()
	if kind == "merge" || kind == "move" {
		if err := s.addHouseholdPicker(c, data); err != nil {
			return err
		}
	}
	data["P"] = appliance.Person{Residence: appliance.ResidenceHere, Insured: true, Sensitive: &appliance.Sensitive{}}
	var need *appliance.RelationsNeeded
	if errors.As(formErr, &need) {
		// Ask in the same step: the form again, with what was posted kept
		// and a relation to choose for each member concerned.
		type field struct{ Name, Value string }
		var carry []field
		c.Context().PostArgs().VisitAll(func(k, v []byte) {
			if key := string(k); key != "_csrf" && !strings.HasPrefix(key, "rel.") {
				carry = append(carry, field{key, string(v)})
			}
		})
		data["Questions"], data["Carry"] = need.Questions, carry
	}
	return s.render(c, "household_event", data)
}

// relationAnswers reads rel.<person id> fields: the clerk's relations.
func relationAnswers(c *fiber.Ctx) map[string]string {
	out := map[string]string{}
	c.Context().PostArgs().VisitAll(func(k, v []byte) {
		if key := string(k); strings.HasPrefix(key, "rel.") && strings.TrimSpace(string(v)) != "" {
			out[strings.TrimPrefix(key, "rel.")] = strings.TrimSpace(string(v))
		}
	})
	return out
}

func (s *Server) submitHouseholdEvent(c *fiber.Ctx) error {
	h, _, err := s.householdInScope(c, c.Params("id"))
	if err != nil {
		return err
	}
	ctx, who := c.UserContext(), actor(c)
	kind := c.FormValue("kind")
	pids := formValues(c, "members")
	answers := relationAnswers(c)
	dest := h.ID
	switch kind {
	case "leave":
		err = s.Store.MemberLeaves(ctx, who, h.ID, c.FormValue("member"), c.FormValue("left"), c.FormValue("left_date"), strings.TrimSpace(c.FormValue("left_note")), c.FormValue("new_head"), answers)
	case "new_head":
		err = s.Store.ChangeHead(ctx, who, h.ID, c.FormValue("new_head"), answers)
	case "birth":
		p := memberForm(c)
		_, err = s.Store.RecordBirth(ctx, who, h.ID, p, c.FormValue("mother"))
	case "split":
		dest, err = s.Store.SplitHousehold(ctx, who, h.ID, pids, c.FormValue("split_head"), c.FormValue("address"), c.FormValue("new_head"), answers)
	case "merge":
		var other string
		if other, err = s.householdOfForm(c, "other", c.FormValue("other")); err == nil {
			err = s.Store.MergeHouseholds(ctx, who, h.ID, other, answers)
		}
	case "move":
		var other string
		if other, err = s.householdOfForm(c, "other", c.FormValue("other")); err == nil {
			err = s.Store.MoveMembers(ctx, who, h.ID, pids, other, c.FormValue("new_head"), answers)
		}
	case "away":
		err = s.Store.MoveHouseholdAway(ctx, who, h.ID, strings.TrimSpace(c.FormValue("to")), c.FormValue("left_date"))
	default:
		err = appliance.FieldError("kind", "请选择变动类型")
	}
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderHouseholdEvent(c, kind, err)
	}
	if dest == "" {
		dest = h.ID
	}
	return c.Redirect("/staff/households/"+dest, fiber.StatusSeeOther)
}

func formValues(c *fiber.Ctx, key string) []string {
	var out []string
	for _, v := range c.Context().PostArgs().PeekMulti(key) {
		out = append(out, string(v))
	}
	return out
}

func (s *Server) showDuplicates(c *fiber.Ctx) error {
	return s.renderDuplicates(c, nil)
}

func (s *Server) renderDuplicates(c *fiber.Ctx, formErr error) error {
	dups, err := s.Store.Duplicates(scopeOf(currentUser(c)))
	if err != nil {
		return err
	}
	for i := range dups {
		for j := range dups[i].People {
			dups[i].People[j] = dups[i].People[j].Masked()
		}
	}
	data := fiber.Map{"Title": "疑似重复人员", "Dups": dups, "CanEdit": currentUser(c).Can(appliance.PermEditArchive), "Labels": appliance.DupLabels, "Loc": s.loc}
	if formErr != nil {
		c.Status(statusOf[appliance.ErrorCode(formErr)])
		data["Error"] = appliance.ErrorMessage(formErr)
	}
	return s.render(c, "household_duplicates", data)
}

func (s *Server) submitDuplicate(c *fiber.Ctx) error {
	d := appliance.DupDecision{Key: c.FormValue("key"), Decision: c.FormValue("decision"), Note: strings.TrimSpace(c.FormValue("note"))}
	if err := s.Store.DecideDuplicate(c.UserContext(), actor(c), scopeOf(currentUser(c)), d); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderDuplicates(c, err)
	}
	return c.Redirect("/staff/households/duplicates", fiber.StatusSeeOther)
}
