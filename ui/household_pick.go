package ui

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// Pickers, not codes (docs/staff-pages.md): a form that needs a household
// takes what a person knows — a member's name, its pinyin initials, the
// door number — and finds the household in the user's grids; the datalist
// of choices helps where a browser shows it, and the server resolves the
// typed text, so the form works without JavaScript too.

// householdChoice is a household as a picker offers it.
type householdChoice struct {
	ID, Label string
}

// householdChoices are the open households of scope, labelled with their
// head, group and door number.
func (s *Server) householdChoices(u *appliance.User, scope string) ([]householdChoice, error) {
	choices, _, err := s.householdsOf(u, scope)
	return choices, err
}

// householdsOf returns the choices of scope and its households by id.
func (s *Server) householdsOf(u *appliance.User, scope string) ([]householdChoice, map[string]appliance.Household, error) {
	hhs, err := s.Store.Households(scope, 5000, "")
	if err != nil {
		return nil, nil, err
	}
	heads, err := s.headsOf(hhs)
	if err != nil {
		return nil, nil, err
	}
	groups, err := s.groupsInScope(u)
	if err != nil {
		return nil, nil, err
	}
	names := groupNames(groups)
	out := make([]householdChoice, 0, len(hhs))
	byID := make(map[string]appliance.Household, len(hhs))
	for _, h := range hhs {
		if h.Closed != "" {
			continue
		}
		byID[h.ID] = h
		label := heads[h.ID] + "户 · " + names[h.Group]
		if h.HouseNo != "" {
			label += " · " + strings.TrimSuffix(h.HouseNo, "号") + "号" // written 3 or 3号
		}
		out = append(out, householdChoice{ID: h.ID, Label: label})
	}
	return out, byID, nil
}

// findHouseholds returns the households of scope that q names: a choice's
// label as the datalist gives it, a member's name, pinyin or pinyin
// initials, phone or ID tail (the archive's person search), or a door
// number or address containing q.
func (s *Server) findHouseholds(u *appliance.User, scope, q string) ([]householdChoice, error) {
	q = strings.TrimSpace(q)
	all, byID, err := s.householdsOf(u, scope)
	if err != nil || q == "" {
		return nil, err
	}
	for _, ch := range all {
		if ch.Label == q || ch.ID == q {
			return []householdChoice{ch}, nil
		}
	}
	want := map[string]bool{}
	hits, _, err := s.Store.FindPeople(appliance.PersonFilter{Query: q, Scope: scope, Limit: 50, On: s.now()})
	if err != nil {
		return nil, err
	}
	for _, h := range hits {
		want[h.Household.ID] = true
	}
	door := strings.TrimSuffix(q, "号")
	for _, h := range byID {
		if door != "" && (h.HouseNo == door || strings.Contains(h.Address, q)) {
			want[h.ID] = true
		}
	}
	var out []householdChoice
	for _, ch := range all {
		if want[ch.ID] {
			out = append(out, ch)
		}
	}
	return out, nil
}

// pickHousehold resolves a picker's text to one household of scope, or
// says in Chinese, naming the field, why it cannot.
func (s *Server) pickHousehold(u *appliance.User, scope, field, q string) (string, error) {
	found, err := s.findHouseholds(u, scope, q)
	if err != nil {
		return "", err
	}
	switch len(found) {
	case 0:
		return "", appliance.FieldError(field, "没有找到“%s”所在的户，请检查姓名、拼音首字母或门牌号", q)
	case 1:
		return found[0].ID, nil
	}
	return "", appliance.FieldError(field, "“%s”找到%d户，请写全姓名或门牌号，或从列表中选一户", q, len(found))
}

// householdOfForm resolves what a form's picker says: a household's id
// (a link from its page, the old forms) or the text typed in it, within
// the user's grids. "" when nothing was typed.
func (s *Server) householdOfForm(c *fiber.Ctx, field, q string) (string, error) {
	q = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(q), "/staff/households/"))
	if q == "" {
		return "", nil
	}
	u := currentUser(c)
	if h, _, err := s.Store.Household(q); err == nil {
		if !appliance.InScope(scopeOf(u), h.Group) {
			return "", appliance.Errorf(appliance.EFORBIDDEN, "该户不在您负责的网格内")
		}
		return q, nil
	}
	if !u.Can(appliance.PermViewArchive) {
		return "", appliance.FieldError(field, "您不能查找户籍档案")
	}
	return s.pickHousehold(u, scopeOf(u), field, q)
}

// addHouseholdPicker gives a form's page the picker's choices (the
// "householdpick" and "householdlist" templates), for those who may see
// the archive.
func (s *Server) addHouseholdPicker(c *fiber.Ctx, data fiber.Map) error {
	u := currentUser(c)
	if !u.Can(appliance.PermViewArchive) {
		return nil
	}
	hhs, err := s.householdChoices(u, scopeOf(u))
	if err != nil {
		return err
	}
	data["Households"], data["Picker"] = hhs, true
	return nil
}
