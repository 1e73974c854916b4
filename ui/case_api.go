package ui

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// receiptJSON is a receipt with its QR token (the QR code itself is
// made by whoever prints it).
type receiptJSON struct {
	bolt.Receipt
	Token string `json:"token"`
}

func (u *caseUI) receiptJSON(r bolt.Receipt) receiptJSON {
	return receiptJSON{Receipt: r, Token: u.tokens.Sign(bolt.TokenCase, r.Code)}
}

// apiKioskReport takes a kiosk report as JSON, or as a multipart form
// when it carries a voice message (field voice, WebM/Opus).
func (u *caseUI) apiKioskReport(c *fiber.Ctx) error {
	var in bolt.CaseIntake
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEMultipartForm) {
		in = bolt.CaseIntake{Category: c.FormValue("category"), Description: c.FormValue("description"), Group: c.FormValue("group"),
			Name: c.FormValue("name"), Phone: c.FormValue("phone"), Phrases: formList(c, "phrases"), Callback: c.FormValue("callback") == "1" || c.FormValue("callback") == "true"}
		voice, err := readVoice(c)
		if err != nil {
			return err
		}
		in.Voice = voice
	} else if err := bindJSON(c, &in); err != nil {
		return err
	}
	in.Source, in.Household, in.Person = appliance.SourceKiosk, "", ""
	r, err := u.cases.RegisterCase(c.UserContext(), "", in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(u.receiptJSON(r))
}

func (u *caseUI) apiRegisterCase(c *fiber.Ctx) error {
	var in bolt.CaseIntake
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.Source == appliance.SourceKiosk {
		return appliance.FieldError("source", "请选择问题来源")
	}
	r, err := u.cases.RegisterCase(c.UserContext(), actor(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(u.receiptJSON(r))
}

type trackRequest struct {
	Code   string `json:"code"`
	PIN    string `json:"pin"`
	Rating string `json:"rating,omitempty"`
	Words  string `json:"words,omitempty"`
}

func (u *caseUI) apiTrack(c *fiber.Ctx) error {
	var req trackRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	cc, err := u.cases.Track(req.Code, req.PIN)
	if err != nil {
		return err
	}
	return c.JSON(cc.Progress(u.categoryName(cc.Category)))
}

func (u *caseUI) apiScan(c *fiber.Ctx) error {
	cc, err := u.cases.ByToken(u.tokens, scannedToken(c.Query("token")))
	if err != nil {
		return err
	}
	return c.JSON(cc.Progress(u.categoryName(cc.Category)))
}

func (u *caseUI) apiRate(c *fiber.Ctx) error {
	var req trackRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	cc, err := u.cases.Rate(c.UserContext(), req.Code, req.PIN, req.Rating, req.Words)
	if err != nil {
		return err
	}
	return c.JSON(cc.Progress(u.categoryName(cc.Category)))
}

func (u *caseUI) apiCases(c *fiber.Ctx) error {
	f := caseFilterOf(c)
	scopeCases(c, &f)
	var err error
	if f.Limit, err = queryLimit(c, 100); err != nil {
		return err
	}
	cases, next, err := u.cases.FindCases(f)
	if err != nil {
		return err
	}
	if cases == nil {
		cases = []*appliance.Case{}
	}
	return c.JSON(page[*appliance.Case]{Items: cases, Next: next})
}

func (u *caseUI) apiCase(c *fiber.Ctx) error {
	cc, err := u.caseFor(c, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(cc)
}

// apiCaseAction takes a step as JSON: the fields of appliance.CaseStep
// that the action uses (case, action, by and day are filled in).
func (u *caseUI) apiCaseAction(c *fiber.Ctx) error {
	var st appliance.CaseStep
	if len(c.Body()) > 0 {
		if err := bindJSON(c, &st); err != nil {
			return err
		}
	}
	cc, err := u.caseFor(c, c.Params("id"))
	if err != nil {
		return err
	}
	st.Case, st.Action = cc.ID, c.Params("action")
	n, err := u.act(c, st)
	if err != nil {
		return err
	}
	return c.JSON(n)
}

func (u *caseUI) apiDue(c *fiber.Ctx) error {
	due, err := u.cases.DueCases(appliance.LevelsOf(u.s.Config.Node.Role), time.Now())
	if err != nil {
		return err
	}
	if due = scopeDue(c, due); due == nil {
		due = []bolt.DueCase{}
	}
	return c.JSON(page[bolt.DueCase]{Items: due})
}

func (u *caseUI) apiStats(c *fiber.Ctx) error {
	st, err := u.cases.Stats(statsFilterOf(c), time.Now())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"stats": st, "sentence": st.Sentence()})
}

func (u *caseUI) apiRegister(c *fiber.Ctx) error {
	days, _, _, err := u.registerDays(c)
	if err != nil {
		return err
	}
	return c.JSON(page[bolt.RegisterDay]{Items: days})
}

func (u *caseUI) apiRegisterClose(c *fiber.Ctx) error {
	var req struct {
		Day string `json:"day"`
	}
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	rd, err := u.cases.CloseRegister(c.UserContext(), actor(c), req.Day)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(rd)
}
