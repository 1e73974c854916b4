package appliance

// Staff cards (工作证, docs/week.md "Staff cards"): a printed card whose QR
// code signs its holder in at the kiosk screen, to the day's duty or to a
// meeting. The code is a signed token naming the staff record and the
// card's serial, never a password; issuing a new card (补办) changes the
// serial, so the old card is refused, and a revoked card is refused too.

// KindStaffCard sets a staff member's current card (last writer wins).
const KindStaffCard = "staff.card"

// StaffCard is a staff member's current card.
type StaffCard struct {
	Staff   string `json:"staff"`             // the staff record's id
	Serial  string `json:"serial"`            // random; printed into the QR token
	Issued  string `json:"issued"`            // YYYY-MM-DD
	Revoked string `json:"revoked,omitempty"` // YYYY-MM-DD when stopped; "" while valid
}

func (c *StaffCard) Validate() error {
	if !idRE.MatchString(c.Staff) {
		return FieldError("staff", "人员编号格式错误")
	}
	if !idRE.MatchString(c.Serial) {
		return FieldError("serial", "工作证编号格式错误")
	}
	if !dateRE.MatchString(c.Issued) || c.Revoked != "" && !dateRE.MatchString(c.Revoked) {
		return FieldError("issued", "日期格式应为 YYYY-MM-DD")
	}
	return nil
}
