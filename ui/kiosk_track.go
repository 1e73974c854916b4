package ui

import (
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
)

// showTrack asks for the receipt code and PIN, on keypads of their own (the
// kiosk has no keyboard). The lookup is a POST so the PIN never lands in a
// URL or the kiosk browser's history.
func (u *caseUI) showTrack(c *fiber.Ctx) error {
	return u.renderTrack(c, nil, strings.TrimSpace(c.Query("code")))
}

func (u *caseUI) renderTrack(c *fiber.Ctx, formErr error, code string) error {
	var keys []string
	for _, r := range appliance.ReceiptCodeChars() {
		keys = append(keys, string(r))
	}
	data := fiber.Map{"Title": "查询办理进度", "Code": code, "CodeKeys": keys, "Tries": u.s.Config.Cases.PINTries}
	if formErr != nil && code != "" {
		if left := u.cases.TriesLeft(code); left < u.s.Config.Cases.PINTries {
			data["TriesLeft"] = left
		}
	}
	setFormError(c, data, formErr)
	return u.s.render(c, "kiosk_track", data)
}

func (u *caseUI) submitTrack(c *fiber.Ctx) error {
	code, pin := strings.TrimSpace(c.FormValue("code")), strings.TrimSpace(c.FormValue("pin"))
	cc, err := u.cases.Track(code, pin)
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		return u.renderTrack(c, err, code)
	}
	return u.renderProgress(c, cc, pin, "")
}

func (u *caseUI) renderProgress(c *fiber.Ctx, cc *appliance.Case, pin, msg string) error {
	p := cc.Progress(u.categoryName(cc.Category))
	return u.s.render(c, "kiosk_track_result", fiber.Map{"Title": "办理进度", "P": p, "PIN": pin, "Message": msg, "Ratings": []string{appliance.RatingSatisfied, appliance.RatingBasic, appliance.RatingUnsatisfied}, "L": u.caseLabels()})
}

// submitRate records the reporter's rating (the follow-up) from the kiosk.
func (u *caseUI) submitRate(c *fiber.Ctx) error {
	code, pin := c.FormValue("code"), c.FormValue("pin")
	cc, err := u.cases.Rate(c.UserContext(), code, pin, c.FormValue("rating"), c.FormValue("words"))
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		if cc, terr := u.cases.Track(code, pin); terr == nil {
			c.Status(statusOf[appliance.ErrorCode(err)])
			return u.renderProgress(c, cc, pin, appliance.ErrorMessage(err))
		}
		return err
	}
	return u.renderProgress(c, cc, pin, "感谢您的评价！")
}

// submitScan takes what a USB QR scanner typed into the kiosk home's scan
// field: a receipt token (or a URL holding one). Holding the receipt is
// enough to see progress; rating still needs the PIN.
func (u *caseUI) submitScan(c *fiber.Ctx) error {
	switch token := scannedToken(c.Query("token")); {
	case u.isHouseholdToken(token): // a service card (明白卡): ui/kiosk_household.go
		return u.showHouseholdScan(c, token)
	case u.s.isStaffCardToken(token): // a staff card (工作证): ui/staff_card.go
		return c.Redirect("/signin?token="+url.QueryEscape(token), fiber.StatusSeeOther)
	}
	cc, err := u.cases.ByToken(u.tokens, scannedToken(c.Query("token")))
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		c.Status(fiber.StatusNotFound)
		return u.s.render(c, "kiosk_scan", fiber.Map{"Title": "扫码查询", "Error": "未能识别这张卡片上的二维码，请到值班室询问"})
	}
	return u.renderProgress(c, cc, "", "")
}

func scannedToken(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "token="); i >= 0 {
		if q, err := url.ParseQuery(s[i:]); err == nil {
			return q.Get("token")
		}
	}
	return s
}
