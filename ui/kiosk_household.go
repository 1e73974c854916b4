package ui

import (
	"github.com/gofiber/fiber/v2"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// householdCase is one case of a household as the kiosk shows it: nothing
// personal (no names, ID numbers, phones or descriptions).
type householdCase struct {
	Category string
	Status   string
	Reported string
	Due      string
}

// householdAppt is an upcoming appointment as the kiosk shows it: the
// service and its time, not the staff's note.
type householdAppt struct{ Service, Kind, Date, Time string }

// showHouseholdScan is the public-safe view of a household whose service
// card (明白卡) was scanned at the kiosk: its group, its open cases and its
// grid leader's work phone. The token has already been checked to be of the
// household kind.
func (u *caseUI) showHouseholdScan(c *fiber.Ctx, token string) error {
	h, err := u.s.Store.HouseholdByToken(u.tokens, token)
	if err != nil {
		if appliance.ErrorCode(err) == appliance.EINTERNAL {
			return err
		}
		c.Status(fiber.StatusNotFound)
		return u.s.render(c, "kiosk_scan", fiber.Map{"Title": "扫码查询", "Error": "未能识别这张卡片上的二维码，请到值班室询问"})
	}
	cases, err := u.cases.HouseholdCases(h, true, 50)
	if err != nil {
		return err
	}
	var rows []householdCase
	for _, cc := range cases {
		rows = append(rows, householdCase{Category: u.categoryName(cc.Category), Status: appliance.CaseStatusLabels[cc.Status], Reported: cc.ReportedDay, Due: cc.Due})
	}
	appts, err := u.s.Store.HouseholdAppointments(h.ID, u.s.today(), true)
	if err != nil {
		return err
	}
	var booked []householdAppt
	for _, a := range appts {
		booked = append(booked, householdAppt{Service: a.Service, Kind: a.Kind, Date: a.Date, Time: a.Time})
	}
	data := fiber.Map{"Title": "我家的服务信息", "Cases": rows, "Appointments": booked, "DutyPhone": u.s.Config.DutyPhone}
	if g, err := u.s.Store.Grid(h.Group); err == nil {
		data["Group"] = g.Name
	}
	group := h.Group
	leaders, err := u.s.Store.FindStaff(appliance.StaffFilter{Grid: &group, Duty: ptr(appliance.DutyGridLeader)})
	if err != nil {
		return err
	}
	for _, m := range leaders {
		if !m.Retired {
			data["Leader"] = m.Name
			data["LeaderPhone"] = m.Phone
			break
		}
	}
	return u.s.render(c, "kiosk_household", data)
}

// isHouseholdToken says whether a scanned token is a service card's.
func (u *caseUI) isHouseholdToken(token string) bool {
	kind, _, err := u.tokens.Verify(token)
	return err == nil && kind == bolt.TokenHousehold
}
