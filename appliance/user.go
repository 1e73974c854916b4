package appliance

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// Role is what an account may do (DESIGN.md, "People and what they may do").
type Role string

const (
	RoleDutyStaff    Role = "duty_staff"
	RoleGridLeader   Role = "grid_leader"
	RoleVillageLead  Role = "village_lead"
	RoleTownOperator Role = "town_operator"
	RoleDepartment   Role = "department"
	RoleCityOperator Role = "city_operator"
	RoleInspector    Role = "inspector"
	RoleAdmin        Role = "admin"
)

// Roles lists every role in display order.
var Roles = []Role{RoleDutyStaff, RoleGridLeader, RoleVillageLead, RoleTownOperator, RoleDepartment, RoleCityOperator, RoleInspector, RoleAdmin}

// RoleLabels are the Chinese names of roles.
var RoleLabels = map[Role]string{
	RoleDutyStaff:    "值班人员",
	RoleGridLeader:   "网格长",
	RoleVillageLead:  "村负责人",
	RoleTownOperator: "乡镇平台操作员",
	RoleDepartment:   "职能部门",
	RoleCityOperator: "市平台操作员",
	RoleInspector:    "督查人员",
	RoleAdmin:        "系统管理员",
}

func (r Role) Label() string { return RoleLabels[r] }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := RoleLabels[r]; return ok }

// Permissions. Each is granted to roles in rolePerms; checks name a
// permission, never a role, so the table is the one place to change.
type Permission string

const (
	PermViewDashboard  Permission = "view_dashboard"
	PermManageUsers    Permission = "manage_users"
	PermManageGrid     Permission = "manage_grid"
	PermManageDuty     Permission = "manage_duty"
	PermManageNotices  Permission = "manage_notices"
	PermRegisterCase   Permission = "register_case"
	PermHandleCase     Permission = "handle_case"
	PermNoteCase       Permission = "note_case" // add a note to a case: everyone who works cases, not inspectors or admins
	PermEscalateCase   Permission = "escalate_case"
	PermDispatchCase   Permission = "dispatch_case"
	PermEditArchive    Permission = "edit_archive"
	PermViewArchive    Permission = "view_archive"
	PermRevealPersonal Permission = "reveal_personal"
	PermRecordVisit    Permission = "record_visit"
	PermPrint          Permission = "print"
	PermViewCases      Permission = "view_cases" // read cases: villagers' words, photos and voice (not the admin's)
	PermAssess         Permission = "assess"
	PermAdmin          Permission = "admin"
	PermManageKiosk    Permission = "manage_kiosk"    // the kiosk's tap phrases
	PermKeepDuty       Permission = "keep_duty"       // take duty shifts: sign the duty log, ask and accept swaps
	PermManageMeetings Permission = "manage_meetings" // schedule meetings, keep their minutes and action items
)

var rolePerms = map[Role][]Permission{
	RoleDutyStaff:    {PermViewDashboard, PermViewCases, PermKeepDuty, PermRegisterCase, PermNoteCase, PermPrint},
	RoleGridLeader:   {PermViewDashboard, PermViewCases, PermKeepDuty, PermRegisterCase, PermHandleCase, PermNoteCase, PermEditArchive, PermViewArchive, PermRecordVisit, PermPrint},
	RoleVillageLead:  {PermViewDashboard, PermViewCases, PermKeepDuty, PermRegisterCase, PermHandleCase, PermNoteCase, PermEscalateCase, PermEditArchive, PermViewArchive, PermRevealPersonal, PermRecordVisit, PermManageDuty, PermManageMeetings, PermManageNotices, PermManageUsers, PermManageGrid, PermPrint, PermManageKiosk},
	RoleTownOperator: {PermViewDashboard, PermViewCases, PermKeepDuty, PermHandleCase, PermNoteCase, PermEscalateCase, PermDispatchCase, PermViewArchive, PermManageDuty, PermManageMeetings, PermManageNotices, PermPrint},
	RoleDepartment:   {PermViewDashboard, PermViewCases, PermHandleCase, PermNoteCase},
	RoleCityOperator: {PermViewDashboard, PermViewCases, PermHandleCase, PermNoteCase, PermDispatchCase},
	RoleInspector:    {PermViewDashboard, PermViewCases, PermAssess},
	RoleAdmin:        {PermViewDashboard, PermManageUsers, PermManageGrid, PermManageDuty, PermManageNotices, PermAdmin, PermPrint, PermManageKiosk},
}

// Can reports whether the role has the permission.
func (r Role) Can(p Permission) bool {
	for _, q := range rolePerms[r] {
		if q == p {
			return true
		}
	}
	return false
}

// User is a staff account on this node. Its password lives only in the
// node's local credential store, never in the ledger.
type User struct {
	ID         string `json:"id"`
	Username   string `json:"username"`
	Name       string `json:"name"`
	Role       Role   `json:"role"`
	Grid       string `json:"grid,omitempty"`       // grid the account is scoped to
	Department string `json:"department,omitempty"` // for RoleDepartment
	Disabled   bool   `json:"disabled,omitempty"`
}

// Can reports whether the user may do p.
func (u *User) Can(p Permission) bool { return u != nil && !u.Disabled && u.Role.Can(p) }

var usernameRE = regexp.MustCompile(`^[a-z][a-z0-9_.\-]{2,31}$`)

func (u *User) Validate() error {
	if !idRE.MatchString(u.ID) {
		return FieldError("id", "账号编号格式错误")
	}
	if !usernameRE.MatchString(u.Username) {
		return FieldError("username", "用户名须以小写字母开头，3到32位小写字母、数字或 ._-")
	}
	if err := requireText("name", "姓名", u.Name, 30); err != nil {
		return err
	}
	if !u.Role.Valid() {
		return FieldError("role", "请选择角色")
	}
	if u.Role == RoleDepartment && strings.TrimSpace(u.Department) == "" {
		return FieldError("department", "职能部门账号须填写部门名称")
	}
	return optionalText("department", "部门", u.Department, 40)
}

// ValidatePassword checks a new password.
func ValidatePassword(pw string) error {
	if n := utf8.RuneCountInString(pw); n < 8 {
		return FieldError("password", "密码至少8位")
	} else if n > 128 {
		return FieldError("password", "密码不能超过128位")
	}
	var letter, digit bool
	for _, r := range pw {
		switch {
		case r >= '0' && r <= '9':
			digit = true
		case r > ' ':
			letter = true
		}
	}
	if !letter || !digit {
		return FieldError("password", "密码须同时包含字母和数字")
	}
	return nil
}

// Session is a logged-in browser.
type Session struct {
	Token    string
	UserID   string
	Kiosk    bool  // started on the kiosk screen: ends after a short idle time
	Created  int64 // unix seconds
	LastSeen int64
	CSRF     string
}
