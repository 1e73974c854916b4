package ui

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// A person's account page: their API tokens (made, listed, revoked) and a
// link to change the password. The same through the API for scripts.

type tokenRequest struct {
	Name string `json:"name"`
	Days int    `json:"days"` // 0: the configured lifetime
}

func (s *Server) tokenTTL(days int) time.Duration {
	if days > 0 {
		return time.Duration(days) * 24 * time.Hour
	}
	if d := s.Config.HTTP.TokenTTL.Duration; d > 0 {
		return d
	}
	return bolt.DefaultTokenTTL
}

// apiCreateToken makes a new API token for the logged-in user; it is shown once.
func (s *Server) apiCreateToken(c *fiber.Ctx) error {
	var req tokenRequest
	if len(c.Body()) > 0 {
		if err := bindJSON(c, &req); err != nil {
			return err
		}
	}
	token, t, err := s.Store.CreateNamedAPIToken(currentUser(c).ID, req.Name, s.tokenTTL(req.Days))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"token": token, "id": t.ID, "name": t.Name, "expires": time.Unix(t.Expires, 0).UTC()})
}

type tokenJSON struct {
	ID       string     `json:"id"`
	Name     string     `json:"name"`
	Created  time.Time  `json:"created"`
	Expires  time.Time  `json:"expires"`
	LastUsed *time.Time `json:"last_used,omitempty"`
	Expired  bool       `json:"expired"`
}

func tokenOf(t bolt.APIToken, now time.Time) tokenJSON {
	out := tokenJSON{ID: t.ID, Name: t.Name, Created: time.Unix(t.Created, 0).UTC(), Expires: time.Unix(t.Expires, 0).UTC(), Expired: t.Expires <= now.Unix()}
	if t.LastUsed > 0 {
		lu := time.Unix(t.LastUsed, 0).UTC()
		out.LastUsed = &lu
	}
	return out
}

func (s *Server) apiTokens(c *fiber.Ctx) error {
	ts, err := s.Store.APITokens(currentUser(c).ID)
	if err != nil {
		return err
	}
	now := time.Now()
	out := make([]tokenJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, tokenOf(t, now))
	}
	return c.JSON(page[tokenJSON]{Items: out})
}

func (s *Server) apiRevokeToken(c *fiber.Ctx) error {
	if err := s.Store.RevokeAPIToken(currentUser(c).ID, c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

type passwordRequest struct {
	OldPassword string `json:"old_password"`
	Password    string `json:"password"`
}

// apiChangePassword changes the caller's password; every other session and
// every API token (the one used included) ends.
func (s *Server) apiChangePassword(c *fiber.Ctx) error {
	var req passwordRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if err := s.changePassword(c, currentUser(c), req.OldPassword, req.Password); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) showAccount(c *fiber.Ctx) error {
	return s.renderAccount(c, nil, "")
}

func (s *Server) renderAccount(c *fiber.Ctx, formErr error, newToken string) error {
	ts, err := s.Store.APITokens(currentUser(c).ID)
	if err != nil {
		return err
	}
	now := time.Now()
	var list []tokenJSON
	for _, t := range ts {
		list = append(list, tokenOf(t, now))
	}
	data := fiber.Map{"Title": "我的账号", "Tokens": list, "NewToken": newToken, "Loc": s.loc}
	setFormError(c, data, formErr)
	return s.render(c, "account", data)
}

// submitAccountToken makes (action=create) or revokes (action=revoke) one
// of the person's own API tokens.
func (s *Server) submitAccountToken(c *fiber.Ctx) error {
	u := currentUser(c)
	switch c.FormValue("action") {
	case "create":
		days := 0
		if v := c.FormValue("days"); v != "" {
			var err error
			if days, err = parseDays(v); err != nil {
				return s.renderAccount(c, err, "")
			}
		}
		token, _, err := s.Store.CreateNamedAPIToken(u.ID, c.FormValue("name"), s.tokenTTL(days))
		if err != nil {
			if appliance.ErrorCode(err) == appliance.EINTERNAL {
				return err
			}
			return s.renderAccount(c, err, "")
		}
		s.Log.Info("api token created", "user", u.ID)
		return s.renderAccount(c, nil, token)
	case "revoke":
		if err := s.Store.RevokeAPIToken(u.ID, c.FormValue("id")); err != nil {
			return err
		}
		return c.Redirect("/staff/account", fiber.StatusSeeOther)
	}
	return appliance.FieldError("action", "未知操作")
}

func parseDays(v string) (int, error) {
	n := 0
	for _, r := range v {
		if r < '0' || r > '9' || n > 1000 {
			return 0, appliance.FieldError("days", "有效期应为1到400天")
		}
		n = n*10 + int(r-'0')
	}
	if n < 1 || n > 400 {
		return 0, appliance.FieldError("days", "有效期应为1到400天")
	}
	return n, nil
}
