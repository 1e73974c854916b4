package ui

import (
	"path/filepath"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// The kiosk's tap phrases are configuration (cases.categories.phrases in
// gridbox.toml): the village lead edits them here, the file is rewritten
// and the kiosk shows the new ones at once, without a restart.

func init() {
	staffNav = append(staffNav, NavItem{Href: "/staff/kiosk/phrases", Label: "自助终端常见问题", Perm: appliance.PermManageKiosk})
}

// configPath is the node's configuration file, beside its database.
func (s *Server) configPath() string {
	return filepath.Join(filepath.Dir(s.Store.Path()), appliance.ConfigFile)
}

// setPhrases replaces the phrases of the categories in set, in the file
// and on the kiosk; a bad list changes nothing.
func (u *caseUI) setPhrases(c *fiber.Ctx, set map[string][]string) error {
	for key, ps := range set {
		if _, ok := u.s.Config.Category(key); !ok {
			return appliance.FieldError("category", "没有这个问题类别：%s", key)
		}
		if err := appliance.ValidatePhrases(ps); err != nil {
			return err
		}
	}
	u.phrases.Lock()
	defer u.phrases.Unlock()
	// Read the file again: whatever else it says stays as written there.
	path := u.s.configPath()
	cfg, err := appliance.LoadConfig(path)
	if err != nil {
		return err
	}
	for i, cat := range cfg.Cases.Categories {
		if ps, ok := set[cat.Key]; ok {
			cfg.Cases.Categories[i].Phrases = ps
		}
	}
	if err := appliance.ReplaceConfig(path, cfg); err != nil {
		return err
	}
	for key, ps := range set {
		u.phrases.m[key] = ps
	}
	u.s.Log.Info("kiosk phrases changed", "user", actor(c), "categories", len(set))
	return nil
}

// phraseRow is a category with its phrases, for the editor.
type phraseRow struct {
	Category categoryButton
	Phrases  []string
	Text     string // as typed, after an error
}

func (u *caseUI) phraseRows(typed map[string]string) []phraseRow {
	var rows []phraseRow
	for _, b := range u.categoryButtons() {
		rows = append(rows, phraseRow{Category: b, Phrases: u.phrases.of(b.Key), Text: typed[b.Key]})
	}
	return rows
}

func (u *caseUI) showPhrases(c *fiber.Ctx) error {
	return u.s.render(c, "staff_phrases", fiber.Map{"Title": "自助终端常见问题", "Rows": u.phraseRows(nil),
		"Saved": c.Query("saved") == "1", "Max": appliance.MaxPhrases, "MaxRunes": appliance.MaxPhraseRunes})
}

// submitPhrases takes one textarea per category, a phrase a line.
func (u *caseUI) submitPhrases(c *fiber.Ctx) error {
	set, typed := map[string][]string{}, map[string]string{}
	var bad error
	for _, cat := range u.s.Config.Cases.Categories {
		text := c.FormValue("phrases_" + cat.Key)
		typed[cat.Key] = text
		ps, err := appliance.ParsePhrases(text)
		if err != nil && bad == nil {
			bad = appliance.FieldError("phrases_"+cat.Key, "%s：%s", cat.Name, appliance.ErrorMessage(err))
		}
		set[cat.Key] = ps
	}
	if bad == nil {
		bad = u.setPhrases(c, set)
	}
	if bad != nil {
		if appliance.ErrorCode(bad) == appliance.EINTERNAL {
			return bad
		}
		data := fiber.Map{"Title": "自助终端常见问题", "Rows": u.phraseRows(typed), "Typed": true, "Max": appliance.MaxPhrases, "MaxRunes": appliance.MaxPhraseRunes}
		setFormError(c, data, bad)
		return u.s.render(c, "staff_phrases", data)
	}
	return c.Redirect("/staff/kiosk/phrases?saved=1", fiber.StatusSeeOther)
}

// apiPhrases lists the tap phrases per category (public: the kiosk's own).
func (u *caseUI) apiPhrases(c *fiber.Ctx) error {
	out := map[string][]string{}
	for _, cat := range u.s.Config.Cases.Categories {
		out[cat.Key] = u.phrases.of(cat.Key)
	}
	return c.JSON(fiber.Map{"phrases": out})
}

// apiSetPhrases replaces the phrases of the categories given.
func (u *caseUI) apiSetPhrases(c *fiber.Ctx) error {
	var in struct {
		Phrases map[string][]string `json:"phrases"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if len(in.Phrases) == 0 {
		return appliance.FieldError("phrases", "请给出要修改的类别和常见问题")
	}
	if err := u.setPhrases(c, in.Phrases); err != nil {
		return err
	}
	return u.apiPhrases(c)
}
