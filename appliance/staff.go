package appliance

import (
	"regexp"
	"strings"
	"unicode"
)

// Duties of people on the grid.
const (
	DutyFirstResponsible = "first_responsible" // 第一责任人
	DutyGridLeader       = "grid_leader"       // 网格长
	DutyGridWorker       = "grid_worker"       // 网格员
	DutyMassWorkTeam     = "mass_work_team"    // 群众工作队
	DutyCommittee        = "committee"         // 村“三委”成员
	DutyDutyStaff        = "duty_staff"        // 值班人员
)

// DutyLabels are the Chinese names of duties.
var DutyLabels = map[string]string{
	DutyFirstResponsible: "第一责任人",
	DutyGridLeader:       "网格长",
	DutyGridWorker:       "网格员",
	DutyMassWorkTeam:     "群众工作队队员",
	DutyCommittee:        "村“三委”成员",
	DutyDutyStaff:        "值班人员",
}

// StaffMember is a person working on the grid: cadres, grid leaders,
// grid workers, mass-work-team members. Their phones are public work phones.
type StaffMember struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Duty    string `json:"duty"`
	Grid    string `json:"grid"`            // code of the grid they serve
	Title   string `json:"title,omitempty"` // e.g. 村党支部书记
	UserID  string `json:"user_id,omitempty"`
	Retired bool   `json:"retired,omitempty"`
}

func (m *StaffMember) Validate() error {
	if !idRE.MatchString(m.ID) {
		return FieldError("id", "编号只能包含字母、数字和 -_，最长32位")
	}
	if err := requireText("name", "姓名", m.Name, 30); err != nil {
		return err
	}
	if err := ValidatePhone("phone", m.Phone, true); err != nil {
		return err
	}
	if _, ok := DutyLabels[m.Duty]; !ok {
		return FieldError("duty", "请选择职责")
	}
	if strings.TrimSpace(m.Grid) == "" {
		return FieldError("grid", "请选择所在网格")
	}
	return optionalText("title", "职务", m.Title, 40)
}

var idRE = regexp.MustCompile(`^[A-Za-z0-9_\-]{1,32}$`)

// ValidID reports whether s can be an identifier of a record.
func ValidID(s string) bool { return idRE.MatchString(s) }

var (
	mobileRE   = regexp.MustCompile(`^1[3-9][0-9]{9}$`)
	landlineRE = regexp.MustCompile(`^0[1-9][0-9]{1,2}-?[2-9][0-9]{6,7}$`)
)

// phoneParens is built once: a replacer builds its tables on first use (an
// import normalises thousands of phones).
var phoneParens = strings.NewReplacer("(", "", ")", "-")

// NormalizePhone removes spaces of any kind and a +86 prefix and reads
// full-width digits (Chinese input methods type them) as ASCII.
func NormalizePhone(s string) string {
	s = strings.Map(func(r rune) rune {
		if r = narrow(r); unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "+86"), "0086")
	return phoneParens.Replace(s)
}

// ValidatePhone checks a mobile number (11 digits, 1[3-9]…) or a landline
// with area code (0371-12345678). An empty value is refused only if required.
func ValidatePhone(field, phone string, required bool) error {
	if phone == "" {
		if required {
			return FieldError(field, "请填写联系电话")
		}
		return nil
	}
	if mobileRE.MatchString(phone) || landlineRE.MatchString(phone) {
		return nil
	}
	if len(phone) == 11 && phone[0] == '1' {
		return FieldError(field, "手机号码第二位应为3到9")
	}
	return FieldError(field, "电话号码格式错误：手机为11位数字，座机为区号加号码，如 0371-12345678")
}

// MaskPhone shows the first 3 and last 4 digits of a phone.
func MaskPhone(p string) string {
	if len(p) < 8 {
		return strings.Repeat("*", len(p))
	}
	return p[:3] + strings.Repeat("*", len(p)-7) + p[len(p)-4:]
}

// StaffFilter selects staff.
type StaffFilter struct {
	Grid *string // exactly this grid
	Duty *string
}
