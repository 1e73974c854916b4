package ui

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// caseFilterOf reads list filters from the query string.
func caseFilterOf(c *fiber.Ctx) bolt.CaseFilter {
	var f bolt.CaseFilter
	opt := func(name string) *string {
		if v := strings.TrimSpace(c.Query(name)); v != "" {
			return &v
		}
		return nil
	}
	f.Status, f.Level, f.Category, f.Group, f.Village, f.Query = opt("status"), opt("level"), opt("category"), opt("group"), opt("village"), opt("q")
	if c.Query("open") == "1" {
		f.Open = ptr(true)
	}
	f.Before = c.Query("after")
	return f
}

func (u *caseUI) showCaseList(c *fiber.Ctx) error {
	data := fiber.Map{"Title": "问题办理", "L": u.caseLabels(), "Q": c.Queries(), "Statuses": appliance.CaseStatuses,
		"Levels": appliance.CaseLevels, "Categories": u.s.Config.Cases.Categories}
	if ok, err := u.caseListMode(c, data); ok || err != nil {
		if err != nil {
			return err
		}
		due, _ := data["Due"].([]bolt.DueCase)
		cases := make([]*appliance.Case, len(due))
		for i, d := range due {
			cases[i] = d.Case
		}
		if err := u.villageNames(data, cases); err != nil {
			return err
		}
		return u.s.render(c, "case_list", data)
	}
	f := caseFilterOf(c)
	f.Limit = 50
	scopeCases(c, &f)
	cases, next, err := u.cases.FindCases(f)
	if err != nil {
		return err
	}
	data["Cases"], data["Next"] = cases, next
	if err := u.villageNames(data, cases); err != nil {
		return err
	}
	return u.s.render(c, "case_list", data)
}

// villageNames names the village of each case on a town's or city's list,
// which mixes its villages' cases.
func (u *caseUI) villageNames(data fiber.Map, cases []*appliance.Case) error {
	if u.s.Config.Node.Role == appliance.NodeVillage {
		return nil
	}
	ens, err := u.s.Store.Enrolments()
	if err != nil {
		return err
	}
	names := map[string]string{}
	var villages []appliance.Enrolment
	for _, en := range ens {
		if en.Role == appliance.NodeVillage {
			names[en.Code] = en.Name
			villages = append(villages, en)
		}
	}
	for _, c := range cases {
		// Not enrolled here (a city's view): the village's own grid
		// record, if its feed is held, names it.
		if _, ok := names[c.Village]; !ok && c.Village != "" {
			if g, err := u.s.Store.Grid(c.Village); err == nil {
				names[c.Village] = g.Name
			}
		}
	}
	data["VillageNames"], data["Villages"], data["ShowVillage"] = names, villages, true
	return nil
}

func (u *caseUI) showCaseNew(c *fiber.Ctx) error {
	src := c.Query("source", appliance.SourceWalkIn)
	return u.renderCaseNew(c, nil, bolt.CaseIntake{Source: src, Group: c.Query("group")})
}

func (u *caseUI) renderCaseNew(c *fiber.Ctx, formErr error, in bolt.CaseIntake) error {
	groups, err := u.groups()
	if err != nil {
		return err
	}
	data := fiber.Map{"Title": "登记问题", "Form": in, "Groups": groups, "Categories": u.categoryButtons(),
		"Sources": []string{appliance.SourceWalkIn, appliance.SourcePhone, appliance.SourceBox, appliance.SourcePatrol},
		"L":       u.caseLabels(), "Patrol": in.Source == appliance.SourcePatrol, "Phone": in.Source == appliance.SourcePhone,
		"MaxPhotos": appliance.MaxCasePhotos, "HouseholdQ": c.FormValue("household_q"), "PickLabel": "反映人所在户"}
	if in.Source == appliance.SourcePhone {
		data["Title"] = "来电登记"
	}
	// The household picker, for those who may see the archive.
	if in.Source != appliance.SourcePhone {
		if err := u.s.addHouseholdPicker(c, data); err != nil {
			return err
		}
	}
	setFormError(c, data, formErr)
	return u.s.render(c, "case_new", data)
}

// submitCaseNew registers a walk-in, phone call, suggestion-box note or a
// grid leader's patrol report (with photos) and shows its receipt.
func (u *caseUI) submitCaseNew(c *fiber.Ctx) error {
	in := bolt.CaseIntake{
		Category:    c.FormValue("category"),
		Description: strings.TrimSpace(c.FormValue("description")),
		Source:      c.FormValue("source"),
		Group:       c.FormValue("group"),
		Household:   strings.TrimSpace(c.FormValue("household")),
		Person:      strings.TrimSpace(c.FormValue("person")),
		Name:        strings.TrimSpace(c.FormValue("name")),
		Phone:       strings.TrimSpace(c.FormValue("phone")),
	}
	if in.Source == appliance.SourceKiosk {
		return u.renderCaseNew(c, appliance.FieldError("source", "请选择问题来源"), in)
	}
	if in.Household == "" {
		id, err := u.s.householdOfForm(c, "household", c.FormValue("household_q"))
		if err != nil {
			if appliance.ErrorCode(err) == appliance.EINTERNAL {
				return err
			}
			return u.renderCaseNew(c, err, in)
		}
		in.Household = id
	}
	photos, err := readPhotos(c)
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return u.renderCaseNew(c, err, in)
	}
	in.Photos = photos
	r, err := u.cases.RegisterCase(c.UserContext(), actor(c), in)
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		in.Photos = nil
		return u.renderCaseNew(c, err, in)
	}
	return u.renderReceipt(c, r, true)
}

// caseEventView is a timeline line with the author's name.
type caseEventView struct {
	appliance.CaseEvent
	AuthorName string
}

func (u *caseUI) showCase(c *fiber.Ctx) error {
	return u.renderCase(c, nil, "")
}

func (u *caseUI) renderCase(c *fiber.Ctx, formErr error, action string) error {
	cc, err := u.caseFor(c, c.Params("id"))
	if err != nil {
		return err
	}
	usr := currentUser(c)
	var events []caseEventView
	for _, e := range cc.Steps {
		events = append(events, caseEventView{e, u.cases.AuthorName(e.Feed, e.Author)})
	}
	// The actions this person may take now.
	var actions []string
	role := u.s.Config.Node.Role
	mine := intersect(userLevels(usr), appliance.LevelsOf(role))
	level := ""
	if contains(mine, cc.Level) {
		level = cc.Level
	} else if len(mine) > 0 {
		level = mine[0]
	}
	if level != "" {
		for _, a := range appliance.CaseActionsAllowed(cc, level) {
			if usr.Can(actionPerm(a, cc.Level)) {
				actions = append(actions, a)
			}
		}
	} else if usr.Can(appliance.PermRegisterCase) && len(appliance.LevelsOf(role)) > 0 {
		// The duty staff: notes, callbacks, and sorting out at the village.
		for _, a := range appliance.CaseActionsAllowed(cc, cc.Level) {
			lv := dutyLevels(usr, a, role)
			if len(lv) > 0 && (a == appliance.CaseNote || a == appliance.CaseCallback || contains(lv, cc.Level)) {
				actions = append(actions, a)
			}
		}
	}
	data := fiber.Map{"Title": "问题 " + cc.ID, "Case": cc, "Events": events, "Actions": actions, "L": u.caseLabels(),
		"Departments": u.s.Config.Cases.Departments, "FeedbackWays": appliance.FeedbackWays,
		"Ratings": []string{appliance.RatingSatisfied, appliance.RatingBasic, appliance.RatingUnsatisfied},
		"Lower":   lowerLevels(cc.Level), "Next": appliance.NextCaseLevel(cc.Level), "Open": action, "Today": u.s.today(),
		"PrintReceipt":     u.s.canPrintReceipt(c), // ui/print_receipt.go
		"CallbackOutcomes": appliance.CallbackOutcomes, "CallbackLabels": appliance.CallbackOutcomeLabels,
		"Categories": u.s.Config.Cases.Categories}
	if action == "" {
		action = c.Query("act")
	}
	data["Open"] = action
	if contains(actions, appliance.CaseClassify) {
		groups, err := u.groups()
		if err != nil {
			return err
		}
		data["Groups"] = groups
	}
	if usr.Can(appliance.PermRevealPersonal) || usr.Can(appliance.PermRegisterCase) {
		if r, err := u.cases.Reporter(cc.ID); err == nil {
			data["Reporter"] = r
		}
	}
	if cc.Group != "" {
		if g, err := u.s.Store.Grid(cc.Group); err == nil {
			data["GroupName"] = g.Name
		}
	}
	// A town's or city's case names its village (its groups' names repeat).
	names := fiber.Map{}
	if err := u.villageNames(names, []*appliance.Case{cc}); err != nil {
		return err
	}
	if vn, ok := names["VillageNames"].(map[string]string); ok {
		data["VillageName"] = vn[cc.Village]
	} else if g, err := u.s.Store.Grid(cc.Village); err == nil {
		data["VillageName"] = g.Name
	}
	if cc.Household != "" && usr.Can(appliance.PermViewArchive) {
		if heads, err := u.s.Store.HeadNames([]string{cc.Household}); err == nil {
			data["HouseholdHead"] = heads[cc.Household]
		}
	}
	data["Printed"] = c.Query("printed") == "1"
	// A town sees its villages' own cases for information only.
	data["InfoOnly"] = role != appliance.NodeVillage && !contains(appliance.LevelsOf(role), cc.Level)
	setFormError(c, data, formErr)
	return u.s.render(c, "case_detail", data)
}

func lowerLevels(l string) []string {
	var out []string
	for _, x := range appliance.CaseLevels {
		if appliance.CaseLevelBelow(x, l) {
			out = append(out, x)
		}
	}
	return out
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// stepFromForm reads an action's fields from a form or JSON-less request.
func stepFromForm(c *fiber.Ctx, id, action string) appliance.CaseStep {
	split := func(s string) []string {
		var out []string
		for _, x := range strings.FieldsFunc(s, func(r rune) bool { return r == '、' || r == ',' || r == '，' || r == '\n' || r == ';' || r == '；' }) {
			if x = strings.TrimSpace(x); x != "" {
				out = append(out, x)
			}
		}
		return out
	}
	st := appliance.CaseStep{
		Case: id, Action: action, Text: strings.TrimSpace(c.FormValue("text")),
		Assignee: strings.TrimSpace(c.FormValue("assignee")), To: c.FormValue("to"),
		Due: strings.TrimSpace(c.FormValue("due")), How: c.FormValue("how"), Rating: c.FormValue("rating"),
		DuplicateOf: strings.TrimSpace(c.FormValue("duplicate_of")),
		Outcome:     c.FormValue("outcome"), Category: c.FormValue("category"), Group: c.FormValue("group"),
	}
	for _, d := range formList(c, "departments") {
		st.Departments = append(st.Departments, split(d)...)
	}
	st.Departments = append(st.Departments, split(c.FormValue("more_departments"))...)
	st.Attendees = split(c.FormValue("attendees"))
	return st
}

// act checks the person's permission for the action and appends the step.
func (u *caseUI) act(c *fiber.Ctx, st appliance.CaseStep) (*appliance.Case, error) {
	usr := currentUser(c)
	if appliance.CaseActionOf("case."+st.Action) == "" || st.Action == appliance.CaseRegister {
		return nil, appliance.Errorf(appliance.ENOTFOUND, "没有这个办理步骤")
	}
	cc, err := u.caseFor(c, st.Case)
	if err != nil {
		return nil, err
	}
	if !usr.Can(actionPerm(st.Action, cc.Level)) {
		return nil, appliance.Errorf(appliance.EFORBIDDEN, "您的账号（%s）不能%s", usr.Role.Label(), appliance.CaseActionLabels[st.Action])
	}
	levels := dutyLevels(usr, st.Action, u.s.Config.Node.Role)
	return u.cases.Act(c.UserContext(), actor(c), levels, st)
}

// dutyLevels are the levels a person acts for in action: their own, or
// for the duty staff (who have none) the node's for notes and callbacks,
// and the village for sorting out what the duty room received.
func dutyLevels(usr *appliance.User, action, nodeRole string) []string {
	if levels := userLevels(usr); len(levels) > 0 {
		return levels
	}
	switch action {
	case appliance.CaseNote, appliance.CaseCallback:
		return appliance.LevelsOf(nodeRole)
	case appliance.CaseClassify:
		if nodeRole == appliance.NodeVillage {
			return []string{appliance.CaseLevelVillage}
		}
	}
	return nil
}

func (u *caseUI) submitCaseAction(c *fiber.Ctx) error {
	id, action := c.Params("id"), c.Params("action")
	cc, err := u.caseFor(c, id)
	if err != nil {
		return err
	}
	if _, err := u.act(c, stepFromForm(c, cc.ID, action)); err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return u.renderCase(c, err, action)
	}
	return c.Redirect("/staff/cases/"+cc.ID, fiber.StatusSeeOther)
}

func (u *caseUI) servePhoto(c *fiber.Ctx) error {
	data, err := u.cases.Photo(c.Params("sum"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "image/jpeg")
	c.Set(fiber.HeaderCacheControl, "private, max-age=31536000, immutable")
	return c.Send(data)
}
