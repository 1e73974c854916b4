package ui

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

func init() {
	registerRoutes(func(s *Server) {
		api := s.app.Group("/api/v1")
		view, edit := s.require(appliance.PermViewArchive), s.require(appliance.PermEditArchive)
		rec := s.require(appliance.PermRecordVisit)
		api.Get("/households", view, s.apiHouseholds)
		api.Post("/households", edit, s.apiCreateHousehold)
		api.Get("/households/:id", view, s.apiHousehold)
		api.Put("/households/:id", edit, s.apiUpdateHousehold)
		api.Get("/households/:id/history", view, s.apiHouseholdHistory)
		api.Post("/households/:id/events", edit, s.apiHouseholdEvent)
		api.Post("/households/:id/members", edit, s.apiAddMember)
		api.Put("/members/:pid", edit, s.apiUpdateMember)
		api.Post("/members/:pid/reveal", s.require(appliance.PermRevealPersonal), s.apiReveal)
		api.Get("/search", view, s.apiSearch)
		api.Get("/duplicates", view, s.apiDuplicates)
		api.Post("/duplicates", edit, s.apiDecideDuplicate)
		api.Get("/stats/groups", view, s.apiGroupStats)
		api.Get("/visits", rec, s.apiVisits)
		api.Post("/visits", rec, s.apiRecordVisit)
		api.Get("/visits/coverage", rec, s.apiVisitCoverage)
		api.Get("/visits/diary", rec, s.apiVisitDiary)
	})
}

func maskAll(ms []appliance.Person) []appliance.Person {
	out := make([]appliance.Person, len(ms))
	for i, m := range ms {
		out[i] = m.Masked()
	}
	return out
}

func (s *Server) apiHouseholds(c *fiber.Ctx) error {
	scope := scopeOf(currentUser(c))
	if g := c.Query("group"); g != "" && appliance.InScope(scope, g) {
		scope = g
	}
	hhs, err := s.Store.Households(scope, 0, "")
	if err != nil {
		return err
	}
	for i := range hhs {
		hhs[i] = hhs[i].Masked()
	}
	p, err := paginate(c, hhs, func(h appliance.Household) string { return h.Group + "/" + h.ID })
	if err != nil {
		return err
	}
	return c.JSON(p)
}

type householdJSON struct {
	Household appliance.Household `json:"household"`
	Members   []appliance.Person  `json:"members"`
}

func (s *Server) apiHousehold(c *fiber.Ctx) error {
	h, ms, err := s.householdInScope(c, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(householdJSON{h.Masked(), maskAll(ms)})
}

func (s *Server) apiCreateHousehold(c *fiber.Ctx) error {
	var in householdJSON
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if !appliance.InScope(scopeOf(currentUser(c)), in.Household.Group) {
		return appliance.FieldError("group", "只能在自己负责的网格中建户")
	}
	id, err := s.Store.CreateHousehold(c.UserContext(), actor(c), in.Household, in.Members)
	if err != nil {
		return err
	}
	h, ms, err := s.Store.Household(id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(householdJSON{h.Masked(), maskAll(ms)})
}

func (s *Server) apiUpdateHousehold(c *fiber.Ctx) error {
	old, _, err := s.householdInScope(c, c.Params("id"))
	if err != nil {
		return err
	}
	var h appliance.Household
	if err := bindJSON(c, &h); err != nil {
		return err
	}
	h.ID = old.ID
	if !appliance.InScope(scopeOf(currentUser(c)), h.Group) {
		return appliance.FieldError("group", "只能迁往自己负责的网格")
	}
	if err := s.Store.UpdateHousehold(c.UserContext(), actor(c), h); err != nil {
		return err
	}
	return s.apiHousehold(c)
}

func (s *Server) apiHouseholdHistory(c *fiber.Ctx) error {
	if _, _, err := s.householdInScope(c, c.Params("id")); err != nil {
		return err
	}
	hist, err := s.Store.HouseholdHistory(c.Params("id"))
	if err != nil {
		return err
	}
	type item struct {
		Time   string `json:"time"`
		Author string `json:"author"`
		Kind   string `json:"kind"`
		Label  string `json:"label"`
		Detail string `json:"detail"`
	}
	out := []item{}
	for _, h := range hist {
		out = append(out, item{h.Time.Time().In(s.loc).Format("2006-01-02T15:04:05-07:00"), h.Author, h.Kind, h.Label, h.Detail})
	}
	return c.JSON(page[item]{Items: out})
}

// eventJSON is the body of POST /households/:id/events.
type eventJSON struct {
	Kind        string            `json:"kind"` // leave, new_head, birth, split, merge, move, away
	Member      string            `json:"member,omitempty"`
	Members     []string          `json:"members,omitempty"`
	Reason      string            `json:"reason,omitempty"`
	Date        string            `json:"date,omitempty"`
	Note        string            `json:"note,omitempty"`
	NewHead     string            `json:"new_head,omitempty"`
	SplitHead   string            `json:"split_head,omitempty"`
	OldRelation string            `json:"old_relation,omitempty"` // the former head's relation to the new head (also relations[id])
	Other       string            `json:"other,omitempty"`
	To          string            `json:"to,omitempty"`
	Address     string            `json:"address,omitempty"`
	Mother      string            `json:"mother,omitempty"`
	Child       *appliance.Person `json:"child,omitempty"`
	// Relations are the clerk's answers: person id → relation to the
	// (new) head, for the members the rules cannot settle.
	Relations map[string]string `json:"relations,omitempty"`
}

func (s *Server) apiHouseholdEvent(c *fiber.Ctx) error {
	h, _, err := s.householdInScope(c, c.Params("id"))
	if err != nil {
		return err
	}
	var ev eventJSON
	if err := bindJSON(c, &ev); err != nil {
		return err
	}
	ctx, who, dest := c.UserContext(), actor(c), h.ID
	answers := map[string]string{}
	for k, v := range ev.Relations {
		answers[k] = v
	}
	if ev.OldRelation != "" && answers[h.Head] == "" {
		answers[h.Head] = ev.OldRelation
	}
	inScope := func(id string) error {
		if _, _, err := s.householdInScope(c, id); err != nil {
			return appliance.FieldError("other", "该户不存在")
		}
		return nil
	}
	switch ev.Kind {
	case "leave":
		err = s.Store.MemberLeaves(ctx, who, h.ID, ev.Member, ev.Reason, ev.Date, ev.Note, ev.NewHead, answers)
	case "new_head":
		err = s.Store.ChangeHead(ctx, who, h.ID, ev.NewHead, answers)
	case "birth":
		if ev.Child == nil {
			return appliance.FieldError("child", "请填写新生儿信息")
		}
		dest = h.ID
		_, err = s.Store.RecordBirth(ctx, who, h.ID, *ev.Child, ev.Mother)
	case "split":
		dest, err = s.Store.SplitHousehold(ctx, who, h.ID, ev.Members, ev.SplitHead, ev.Address, ev.NewHead, answers)
	case "merge":
		if err = inScope(ev.Other); err == nil {
			err = s.Store.MergeHouseholds(ctx, who, h.ID, ev.Other, answers)
		}
	case "move":
		if err = inScope(ev.Other); err == nil {
			err = s.Store.MoveMembers(ctx, who, h.ID, ev.Members, ev.Other, ev.NewHead, answers)
		}
	case "away":
		err = s.Store.MoveHouseholdAway(ctx, who, h.ID, ev.To, ev.Date)
	default:
		err = appliance.FieldError("kind", "未知的变动类型")
	}
	var need *appliance.RelationsNeeded
	if errors.As(err, &need) {
		// The same step asks: the client posts again with relations.
		return c.Status(statusOf[appliance.EINVALID]).JSON(fiber.Map{
			"error":     fiber.Map{"code": appliance.EINVALID, "reason": "relations_needed", "field": "relations", "message": appliance.ErrorMessage(err)},
			"questions": need.Questions})
	}
	if err != nil {
		return err
	}
	nh, ms, err := s.Store.Household(dest)
	if err != nil {
		return err
	}
	return c.JSON(householdJSON{nh.Masked(), maskAll(ms)})
}

func (s *Server) apiAddMember(c *fiber.Ctx) error {
	h, _, err := s.householdInScope(c, c.Params("id"))
	if err != nil {
		return err
	}
	var p appliance.Person
	if err := bindJSON(c, &p); err != nil {
		return err
	}
	p.ID, p.Household = "", h.ID
	id, err := s.Store.SaveMember(c.UserContext(), actor(c), p)
	if err != nil {
		return err
	}
	got, err := s.Store.Person(id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(got.Masked())
}

func (s *Server) apiUpdateMember(c *fiber.Ctx) error {
	old, err := s.Store.Person(c.Params("pid"))
	if err != nil {
		return err
	}
	if _, _, err := s.householdInScope(c, old.Household); err != nil {
		return err
	}
	var p appliance.Person
	if err := bindJSON(c, &p); err != nil {
		return err
	}
	p.ID, p.Household = old.ID, old.Household
	// A masked or empty ID number in the body keeps the stored one.
	if p.Sensitive != nil && old.Sensitive != nil && (p.Sensitive.IDNumber == "" || p.Sensitive.IDNumber == appliance.MaskCitizenID(old.Sensitive.IDNumber)) {
		p.Sensitive.IDNumber = old.Sensitive.IDNumber
	}
	if p.Phone == appliance.MaskPhone(old.Phone) {
		p.Phone = old.Phone
	}
	if _, err := s.Store.SaveMember(c.UserContext(), actor(c), p); err != nil {
		return err
	}
	got, err := s.Store.Person(p.ID)
	if err != nil {
		return err
	}
	return c.JSON(got.Masked())
}

func (s *Server) apiReveal(c *fiber.Ctx) error {
	p, err := s.Store.Person(c.Params("pid"))
	if err != nil {
		return err
	}
	if _, _, err := s.householdInScope(c, p.Household); err != nil {
		return err
	}
	p, err = s.Store.RevealPersonal(c.UserContext(), actor(c), p.ID, c.Query("purpose"))
	if err != nil {
		return err
	}
	return c.JSON(p)
}

type hitJSON struct {
	Person    appliance.Person    `json:"person"`
	Household appliance.Household `json:"household"`
}

func (s *Server) apiSearch(c *fiber.Ctx) error {
	f := personFilterOf(c, currentUser(c))
	f.On = s.now()
	var err error
	if f.Limit, err = queryLimit(c, 50); err != nil {
		return err
	}
	hits, more, err := s.Store.FindPeople(f)
	if err != nil {
		return err
	}
	out := struct {
		Items []hitJSON `json:"items"`
		More  bool      `json:"more"`
	}{Items: []hitJSON{}, More: more}
	for _, h := range hits {
		out.Items = append(out.Items, hitJSON{h.Person.Masked(), h.Household.Masked()})
	}
	return c.JSON(out)
}

func (s *Server) apiDuplicates(c *fiber.Ctx) error {
	dups, err := s.Store.Duplicates(scopeOf(currentUser(c)))
	if err != nil {
		return err
	}
	type dupJSON struct {
		Key         string             `json:"key"`
		Reason      string             `json:"reason"`
		Decided     string             `json:"decided,omitempty"`
		DecidedBy   string             `json:"decided_by,omitempty"`
		DecidedAt   string             `json:"decided_at,omitempty"`
		DecidedNote string             `json:"decided_note,omitempty"`
		Hidden      int                `json:"hidden,omitempty"`
		People      []appliance.Person `json:"people"`
	}
	out := []dupJSON{}
	for _, d := range dups {
		j := dupJSON{Key: d.Key, Reason: d.Reason, Decided: d.Decided, DecidedBy: d.DecidedBy, DecidedNote: d.DecidedNote, Hidden: d.Hidden, People: maskAll(d.People)}
		if d.Decided != "" {
			j.DecidedAt = d.DecidedAt.Time().In(s.loc).Format("2006-01-02T15:04:05-07:00")
		}
		out = append(out, j)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(page[dupJSON]{Items: out})
}

// apiDecideDuplicate records a decision (distinct, merged) or its reversal
// (reopened), with a note.
func (s *Server) apiDecideDuplicate(c *fiber.Ctx) error {
	var d appliance.DupDecision
	if err := bindJSON(c, &d); err != nil {
		return err
	}
	if d.People != nil || d.Households != nil {
		return appliance.FieldError("people", "people 和 households 由系统填写")
	}
	if err := s.Store.DecideDuplicate(c.UserContext(), actor(c), scopeOf(currentUser(c)), d); err != nil {
		return err
	}
	return s.apiDuplicates(c)
}

func (s *Server) apiGroupStats(c *fiber.Ctx) error {
	st, err := s.Store.ArchiveStats(scopeOf(currentUser(c)), s.now())
	if err != nil {
		return err
	}
	type statJSON struct {
		Group      string           `json:"group"`
		Households int64            `json:"households"`
		People     int64            `json:"people"`
		Dibao      int64            `json:"dibao"`
		Key        int64            `json:"key_persons"`
		Away       int64            `json:"working_away"`
		Disabled   int64            `json:"disabled"`
		Alone      int64            `json:"living_alone"`
		Ages       map[string]int64 `json:"ages"`
	}
	out := []statJSON{}
	for _, g := range st {
		ages := map[string]int64{}
		for i, l := range appliance.AgeBandLabels {
			ages[l] = g.Ages[i]
		}
		out = append(out, statJSON{g.Group, g.Households, g.People, g.Dibao, g.Key, g.Away, g.Disabled, g.Alone, ages})
	}
	return c.JSON(page[statJSON]{Items: out})
}

func (s *Server) apiVisits(c *fiber.Ctx) error {
	worker := c.Query("worker")
	if _, err := s.workerInScope(currentUser(c), worker); err != nil {
		return err
	}
	vs, err := s.Store.Visits(worker, c.Query("from", "0000-00-00"), c.Query("to", "9999-99-99"))
	if err != nil {
		return err
	}
	p, err := paginate(c, vs, func(v appliance.Visit) string { return v.Date + " " + v.Time + "/" + v.ID })
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) apiRecordVisit(c *fiber.Ctx) error {
	var v appliance.Visit
	if err := bindJSON(c, &v); err != nil {
		return err
	}
	if err := s.checkVisit(c, currentUser(c), &v); err != nil {
		return err
	}
	if v.Date == "" {
		v.Date, v.Time = s.today(), s.now().Format("15:04")
	}
	v.ID = ""
	got, err := s.cases.RecordVisit(c.UserContext(), actor(c), v)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(got)
}

func (s *Server) apiVisitCoverage(c *fiber.Ctx) error {
	u := currentUser(c)
	target, days := s.Config.Archive.VisitRule()
	cov, err := s.Store.VisitCoverage(scopeOf(u), s.today(), days)
	if err != nil {
		return err
	}
	prog, err := s.Store.WorkerProgress(scopeOf(u), c.Query("from", s.now().AddDate(0, 0, -6).Format("2006-01-02")), s.today(), target, s.workdayFunc())
	if err != nil {
		return err
	}
	type workerJSON struct {
		Staff  string `json:"staff"`
		Name   string `json:"name"`
		Grid   string `json:"grid"`
		Today  int    `json:"today"`
		Visits int    `json:"visits"`
		Target int    `json:"target"`
		Behind bool   `json:"behind"`
	}
	ws := []workerJSON{}
	for _, p := range prog {
		ws = append(ws, workerJSON{p.Staff.ID, p.Staff.Name, p.Staff.Grid, p.Today, p.Visits, p.Target, p.Behind})
	}
	type groupJSON struct {
		Group      string   `json:"group"`
		Households int      `json:"households"`
		Covered    int      `json:"covered"`
		Unvisited  []string `json:"unvisited"`
	}
	gs := []groupJSON{}
	for _, g := range cov {
		gs = append(gs, groupJSON{g.Group, g.Households, g.Covered, append([]string{}, g.Unvisited...)})
	}
	return c.JSON(fiber.Map{"daily_target": target, "coverage_days": days, "workers": ws, "groups": gs})
}

func (s *Server) apiVisitDiary(c *fiber.Ctx) error {
	worker := c.Query("worker")
	if _, err := s.workerInScope(currentUser(c), worker); err != nil {
		return err
	}
	d, err := s.Store.VisitDiary(worker, c.Query("from", s.now().AddDate(0, -1, 0).Format("2006-01-02")), c.Query("to", s.today()), s.loc)
	if err != nil {
		return err
	}
	type entry struct {
		Time      string `json:"time"`
		Kind      string `json:"kind"`
		Household string `json:"household"`
		Content   string `json:"content"`
		Problems  string `json:"problems,omitempty"`
		Handling  string `json:"handling,omitempty"`
	}
	es := []entry{}
	for _, e := range d.Entries {
		es = append(es, entry{e.Date.Format("2006-01-02 15:04"), e.Kind, e.Household, e.Content, e.Problems, e.Handling})
	}
	return c.JSON(fiber.Map{"worker": d.Worker, "village": d.Village, "group": d.Group,
		"from": d.From.Format("2006-01-02"), "to": d.To.Format("2006-01-02"), "entries": es})
}
