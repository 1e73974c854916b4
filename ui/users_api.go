package ui

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// Accounts for admins and village leads (manage_users), as JSON: the same
// rules as the page 账号管理 (/staff/users). One-time passwords are in the
// answer only; the account must change it before anything else.

func init() {
	registerRoutes(func(s *Server) {
		api := s.app.Group("/api/v1")
		api.Get("/users", s.require(appliance.PermManageUsers), s.apiUsers)
		api.Post("/users", s.require(appliance.PermManageUsers), s.apiCreateUser)
		api.Post("/users/:id/:action", s.require(appliance.PermManageUsers), s.apiUserAction)
	})
}

// newAccount creates u with a one-time password and returns it.
func (s *Server) newAccount(c *fiber.Ctx, u appliance.User) (appliance.User, string, error) {
	u.Username = strings.ToLower(strings.TrimSpace(u.Username))
	u.Name, u.Grid, u.Department = strings.TrimSpace(u.Name), strings.TrimSpace(u.Grid), strings.TrimSpace(u.Department)
	if u.Grid == "" {
		u.Grid = s.Config.Node.Code
	}
	if u.Role == appliance.RoleAdmin && currentUser(c).Role != appliance.RoleAdmin {
		return u, "", appliance.FieldError("role", "只有系统管理员可以创建管理员账号")
	}
	u.ID, u.Disabled = "u-"+u.Username, false
	pw := bolt.RandomPassword()
	return u, pw, s.Store.CreateUser(c.UserContext(), actor(c), u, pw, true)
}

// accountAction resets a password (the new one-time password is returned),
// disables or enables an account, unlocks its username or revokes its API
// tokens.
func (s *Server) accountAction(c *fiber.Ctx, id, action string) (appliance.User, string, error) {
	u, err := s.Store.User(id)
	if err != nil {
		return u, "", err
	}
	me := currentUser(c)
	if u.Role == appliance.RoleAdmin && me.Role != appliance.RoleAdmin {
		return u, "", appliance.Errorf(appliance.EFORBIDDEN, "只有系统管理员可以管理管理员账号")
	}
	switch action {
	case "reset":
		pw := bolt.RandomPassword()
		// SetPassword also lifts the lock and ends sessions and tokens.
		return u, pw, s.Store.SetPassword(u.ID, pw, true, "")
	case "disable", "enable":
		if u.ID == me.ID {
			return u, "", appliance.Errorf(appliance.EINVALID, "不能停用自己的账号")
		}
		u.Disabled = action == "disable"
		return u, "", s.Store.UpdateUser(c.UserContext(), actor(c), u)
	case "unlock":
		return u, "", s.Store.UnlockLogin(u.Username)
	case "revoke_tokens":
		if err := s.Store.RevokeAPITokens(u.ID); err != nil {
			return u, "", err
		}
		s.Log.Info("api tokens revoked", "user", u.ID, "by", me.ID)
		return u, "", nil
	}
	return u, "", appliance.FieldError("action", "未知操作：应为 reset、disable、enable、unlock 或 revoke_tokens")
}

// accountJSON is an account in the API's answers; Password only right
// after it was made.
type accountJSON struct {
	appliance.User
	Password string `json:"password,omitempty"`
}

func (s *Server) apiUsers(c *fiber.Ctx) error {
	users, err := s.Store.Users()
	if err != nil {
		return err
	}
	p, err := paginate(c, users, func(u appliance.User) string { return u.ID })
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) apiCreateUser(c *fiber.Ctx) error {
	var in struct {
		Username   string         `json:"username"`
		Name       string         `json:"name"`
		Role       appliance.Role `json:"role"`
		Grid       string         `json:"grid,omitempty"`
		Department string         `json:"department,omitempty"`
	}
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	u, pw, err := s.newAccount(c, appliance.User{Username: in.Username, Name: in.Name, Role: in.Role, Grid: in.Grid, Department: in.Department})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(accountJSON{User: u, Password: pw})
}

func (s *Server) apiUserAction(c *fiber.Ctx) error {
	if len(c.Body()) > 0 {
		var none struct{}
		if err := bindJSON(c, &none); err != nil {
			return err
		}
	}
	u, pw, err := s.accountAction(c, c.Params("id"), c.Params("action"))
	if err != nil {
		return err
	}
	return c.JSON(accountJSON{User: u, Password: pw})
}
