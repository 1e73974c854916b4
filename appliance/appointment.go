package appliance

import (
	"regexp"
	"time"
)

// KindAppointmentSet records an appointment (预约) or a change to it.
const KindAppointmentSet = "appointment.set"

// ServiceKinds are the ways a service is delivered (上门 / 代办 / 预约).
var ServiceKinds = []string{"上门服务", "代办服务", "预约服务"}

// Appointment statuses.
const (
	ApptScheduled = "scheduled"
	ApptDone      = "done"
	ApptCancelled = "cancelled"
)

// ApptStatusLabels are the Chinese names of appointment statuses.
var ApptStatusLabels = map[string]string{ApptScheduled: "已预约", ApptDone: "已办结", ApptCancelled: "已取消"}

// Appointment is a service booked for a household: a home visit, a proxy
// errand or an appointment at the duty room. Its Note may be personal and is
// never shown on public pages; the kiosk shows only service, kind and time.
type Appointment struct {
	ID        string `json:"id"`
	Household string `json:"household"`
	Service   string `json:"service"` // e.g. 残疾人证办理
	Kind      string `json:"kind"`    // one of ServiceKinds
	Date      string `json:"date"`    // YYYY-MM-DD
	Time      string `json:"time,omitempty"`
	Staff     string `json:"staff,omitempty"` // staff id of who will serve
	Note      string `json:"note,omitempty"`
	Status    string `json:"status"`
}

var hhmmRE = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

func (a *Appointment) Validate() error {
	if !idRE.MatchString(a.ID) {
		return FieldError("id", "预约编号格式错误")
	}
	if !idRE.MatchString(a.Household) {
		return FieldError("household", "请选择预约的户")
	}
	if err := requireText("service", "服务事项", a.Service, 40); err != nil {
		return err
	}
	if !contains(ServiceKinds, a.Kind) {
		return FieldError("kind", "服务方式应为 上门服务、代办服务 或 预约服务")
	}
	if _, err := time.Parse("2006-01-02", a.Date); err != nil {
		return FieldError("date", "预约日期格式应为 年-月-日，如 2026-12-01")
	}
	if a.Time != "" && !hhmmRE.MatchString(a.Time) {
		return FieldError("time", "预约时间格式应为 时:分，如 09:30")
	}
	if a.Staff != "" && !idRE.MatchString(a.Staff) {
		return FieldError("staff", "请选择服务人员")
	}
	if _, ok := ApptStatusLabels[a.Status]; !ok {
		return FieldError("status", "预约状态错误")
	}
	return optionalText("note", "备注", a.Note, 200)
}
