package ui

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// Staff cards (docs/week.md, "Staff cards"): issued, reissued and stopped
// on 账号管理 and printed from there (print/staff_card.go); at the kiosk
// screen the scanner types a card's code into 扫码签到 (/signin), which
// signs the holder in to today's duty (a duty.log line via "kiosk") or to
// today's meeting (meeting.sign), as the staff pages do.

func init() {
	registerRoutes(func(s *Server) {
		signer, err := appliance.NewTokenSigner(s.Store.Secret())
		if err != nil {
			panic(err) // the store's secret is 32 bytes
		}
		s.cards = signer
		a := s.app
		a.Post("/staff/users/cards/:id", s.require(appliance.PermManageUsers), s.submitStaffCard)
		a.Get("/signin", s.showSignIn)
		a.Post("/signin", s.submitSignIn)
	})
}

// staffCardRow is a staff member with their card on 账号管理.
type staffCardRow struct {
	appliance.StaffMember
	Card appliance.StaffCard
	Has  bool // a card was ever issued
}

// addStaffCards gives 账号管理 the node's staff and their cards.
func (s *Server) addStaffCards(c *fiber.Ctx, data fiber.Map) error {
	staff, err := s.villageStaff(s.Config.Node.Code)
	if err != nil {
		return err
	}
	cards, err := s.Store.StaffCards()
	if err != nil {
		return err
	}
	var rows []staffCardRow
	for _, m := range staff {
		if m.Retired {
			continue
		}
		card, ok := cards[m.ID]
		rows = append(rows, staffCardRow{StaffMember: m, Card: card, Has: ok})
	}
	data["Cards"], data["CardIssued"] = rows, c.Query("card")
	return nil
}

// submitStaffCard issues (or reissues: the old card stops working) or
// stops a staff member's card.
func (s *Server) submitStaffCard(c *fiber.Ctx) error {
	id := c.Params("id")
	m, err := s.Store.Staff(id)
	if err != nil || !strings.HasPrefix(m.Grid, s.Config.Node.Code) {
		return appliance.Errorf(appliance.ENOTFOUND, "人员不存在")
	}
	switch c.FormValue("action") {
	case "issue":
		_, err = s.Store.IssueStaffCard(c.UserContext(), actor(c), id, s.today())
	case "revoke":
		err = s.Store.RevokeStaffCard(c.UserContext(), actor(c), id, s.today())
	default:
		err = appliance.FieldError("action", "请选择发证或停用")
	}
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderUsers(c, err, appliance.User{})
	}
	return c.Redirect("/staff/users?card="+url.QueryEscape(id)+"#cards", fiber.StatusSeeOther)
}

// signInMode is what a scan at the kiosk signs the holder in to.
type signInMode struct{ Key, Label string }

// signInModes are duty arrival and departure, and each of today's meetings
// of this node that is not cancelled.
func (s *Server) signInModes() ([]signInMode, error) {
	modes := []signInMode{{"duty_in", "值班到岗签到"}, {"duty_out", "值班离岗签退"}}
	today := s.today()
	ms, err := s.Store.FindMeetings(s.Config.Node.Code+"/", today, today)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.State != appliance.MeetingCancelled {
			modes = append(modes, signInMode{"meeting:" + m.Key(), "会议签到：" + m.Title})
		}
	}
	return modes, nil
}

func (s *Server) showSignIn(c *fiber.Ctx) error { return s.renderSignIn(c, nil, "") }

// renderSignIn shows 扫码签到: the modes, the scan field for the mode
// chosen, and the answer to the last scan. A card scanned on the kiosk's
// home screen comes here with its token: one tap on the mode signs in.
func (s *Server) renderSignIn(c *fiber.Ctx, scanErr error, done string) error {
	modes, err := s.signInModes()
	if err != nil {
		return err
	}
	mode := c.FormValue("for", c.Query("for"))
	known := false
	for _, m := range modes {
		known = known || m.Key == mode
	}
	if !known {
		mode = modes[0].Key
	}
	data := fiber.Map{"Title": "扫码签到", "Modes": modes, "Mode": mode, "Done": done}
	if t := c.Query("token"); t != "" && scanErr == nil && done == "" {
		// From the home screen's scan: who it is, and a button per mode.
		m, err := s.Store.StaffByCard(s.cards, scannedToken(t))
		if err != nil {
			scanErr = err
		} else {
			data["Holder"], data["Token"] = m.Name, scannedToken(t)
		}
	}
	if scanErr != nil {
		c.Status(statusOf[appliance.ErrorCode(scanErr)])
		data["Error"] = appliance.ErrorMessage(scanErr)
	}
	return s.render(c, "kiosk_signin", data)
}

// submitSignIn signs the holder of the scanned card in, at the box's own
// screen only (a card read elsewhere proves nobody is in the duty room).
func (s *Server) submitSignIn(c *fiber.Ctx) error {
	if !s.isKioskScreen(c) {
		// Not a 403: nobody may, whoever they are (the route table's note).
		return s.renderSignIn(c, appliance.FieldError("token", "只能在村便民服务终端上扫码签到"), "")
	}
	m, err := s.Store.StaffByCard(s.cards, scannedToken(c.FormValue("token")))
	if err == nil && !strings.HasPrefix(m.Grid, s.Config.Node.Code) {
		err = appliance.FieldError("token", "这不是本村的工作证")
	}
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderSignIn(c, err, "")
	}
	now := s.now()
	at := now.Format("15:04")
	mode := c.FormValue("for")
	done := ""
	switch {
	case mode == "duty_in" || mode == "duty_out":
		kind := appliance.LogSignIn
		if mode == "duty_out" {
			kind = appliance.LogSignOut
		}
		_, err = s.Store.LogDuty(c.UserContext(), "", appliance.DutyLog{Grid: s.Config.Node.Code, Date: now.Format("2006-01-02"), At: at,
			Kind: kind, StaffID: m.ID, Name: m.Name, Via: "kiosk"})
		done = m.Name + " " + appliance.DutyLogLabels[kind] + " " + at
	case strings.HasPrefix(mode, "meeting:"):
		key := strings.TrimPrefix(mode, "meeting:")
		err = appliance.FieldError("for", "今天没有这个会议")
		modes, merr := s.signInModes()
		if merr != nil {
			return merr
		}
		for _, md := range modes {
			if md.Key == mode {
				err = s.Store.SignMeeting(c.UserContext(), "", appliance.MeetingSign{Meeting: key, StaffID: m.ID, Name: m.Name, Unit: appliance.DutyLabels[m.Duty], At: at})
				done = m.Name + " " + md.Label + " " + at
			}
		}
	default:
		err = appliance.FieldError("for", "请选择签到什么")
	}
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return s.renderSignIn(c, err, "")
	}
	return s.renderSignIn(c, nil, done+" 已记录")
}

// isStaffCardToken says whether a scanned token is a staff card's (valid
// or not: the sign-in page says what is wrong with it).
func (s *Server) isStaffCardToken(token string) bool {
	kind, _, err := s.cards.Verify(token)
	return err == nil && kind == bolt.TokenStaffCard
}
