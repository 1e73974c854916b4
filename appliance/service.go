package appliance

import (
	"strings"
	"time"
)

// Entry kinds of the service desk (便民服务, docs/week.md "Services").
const (
	KindServiceItem    = "service.item"    // the village lead's catalogue entry (last writer wins)
	KindServiceRequest = "service.request" // a request and each change to it (last writer wins); the first carries the contact sealed
)

// RequestKinds are the kinds of service a villager may ask for.
var RequestKinds = []string{"上门服务", "代办服务", "预约服务", "咨询服务"}

// CatalogItem is one service of the catalogue the village lead keeps.
type CatalogItem struct {
	ID        string `json:"id"`
	Grid      string `json:"grid"`
	Withdrawn bool   `json:"withdrawn,omitempty"`
	ServiceItem
}

func (c *CatalogItem) Validate() error {
	if !idRE.MatchString(c.ID) {
		return FieldError("id", "服务事项编号格式错误")
	}
	if c.Grid == "" {
		return FieldError("grid", "请选择网格")
	}
	if err := requireText("name", "服务事项", c.Name, 40); err != nil {
		return err
	}
	if err := optionalText("procedure", "办理流程", c.Procedure, 1000); err != nil {
		return err
	}
	if len(c.Materials) > 20 {
		return FieldError("materials", "所需材料最多20项")
	}
	for _, m := range c.Materials {
		if err := requireText("materials", "所需材料", m, 40); err != nil {
			return err
		}
	}
	for _, f := range []struct{ field, label, v string }{{"where", "办理地点", c.Where}, {"who", "服务对象", c.Who}, {"time_limit", "办理时限", c.TimeLimit}} {
		if err := optionalText(f.field, f.label, f.v, 60); err != nil {
			return err
		}
	}
	if len(c.Kinds) == 0 {
		return FieldError("kinds", "请至少选择一种服务方式")
	}
	for _, k := range c.Kinds {
		if !contains(RequestKinds, k) {
			return FieldError("kinds", "服务方式应为 上门服务、代办服务、预约服务 或 咨询服务")
		}
	}
	return nil
}

// Request states.
const (
	RequestAsked     = "asked"     // 待安排
	RequestScheduled = "scheduled" // 已安排
	RequestDone      = "done"      // 已办结
	RequestCancelled = "cancelled" // 已取消
)

// RequestStateLabels are the Chinese names of request states.
var RequestStateLabels = map[string]string{RequestAsked: "待安排", RequestScheduled: "已安排", RequestDone: "已办结", RequestCancelled: "已取消"}

// Feedback is what the villager said of a service done.
var FeedbackLabels = map[string]string{"good": "满意", "fair": "基本满意", "poor": "不满意"}

// Paper is one paper a proxy service took from the villager and gives back.
type Paper struct {
	Name     string `json:"name"`               // e.g. 户口簿
	Taken    string `json:"taken"`              // YYYY-MM-DD
	Returned string `json:"returned,omitempty"` // YYYY-MM-DD, once given back
}

// ServiceRequest is one request for a service: asked at the kiosk or
// entered by staff, scheduled with who is responsible, done with its
// outcome, and the villager's feedback. The contact (name, callback phone)
// is sealed on the first entry and never on a page without a login.
type ServiceRequest struct {
	ID        string  `json:"id"` // short code the villager is given (like a receipt)
	Grid      string  `json:"grid"`
	Item      string  `json:"item"` // the service asked for
	Kind      string  `json:"kind"` // one of RequestKinds
	Summary   string  `json:"summary,omitempty"`
	Household string  `json:"household,omitempty"`
	Source    string  `json:"source"`          // "kiosk" or "staff"
	Asked     string  `json:"asked"`           // YYYY-MM-DD
	State     string  `json:"state"`           // RequestAsked…
	Staff     string  `json:"staff,omitempty"` // responsible staff id
	StaffName string  `json:"staff_name,omitempty"`
	Date      string  `json:"date,omitempty"` // scheduled day
	Time      string  `json:"time,omitempty"`
	Outcome   string  `json:"outcome,omitempty"`
	Feedback  string  `json:"feedback,omitempty"` // a FeedbackLabels key
	Papers    []Paper `json:"papers,omitempty"`
}

// ServiceContact is the sealed part of a request.
type ServiceContact struct {
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone"`
}

func (r *ServiceRequest) Validate() error {
	if !idRE.MatchString(r.ID) {
		return FieldError("id", "服务申请编号格式错误")
	}
	if r.Grid == "" {
		return FieldError("grid", "请选择网格")
	}
	if err := requireText("item", "服务事项", r.Item, 40); err != nil {
		return err
	}
	if !contains(RequestKinds, r.Kind) {
		return FieldError("kind", "请选择服务方式：上门服务、代办服务、预约服务或咨询服务")
	}
	if err := optionalText("summary", "需要办的事", r.Summary, 500); err != nil {
		return err
	}
	if r.Household != "" && !idRE.MatchString(r.Household) {
		return FieldError("household", "户编号格式错误")
	}
	if r.Source != "kiosk" && r.Source != "staff" {
		return FieldError("source", "申请来源错误")
	}
	if _, err := time.Parse("2006-01-02", r.Asked); err != nil {
		return FieldError("asked", "申请日期格式错误")
	}
	if _, ok := RequestStateLabels[r.State]; !ok {
		return FieldError("state", "服务状态错误")
	}
	if r.Staff != "" && !idRE.MatchString(r.Staff) {
		return FieldError("staff", "请选择负责人")
	}
	if r.State == RequestScheduled || r.State == RequestDone {
		if r.Staff == "" {
			return FieldError("staff", "请选择负责人")
		}
		if _, err := time.Parse("2006-01-02", r.Date); err != nil {
			return FieldError("date", "请填写服务日期，如 2026-12-09")
		}
	}
	if r.Time != "" && !hhmmRE.MatchString(r.Time) {
		return FieldError("time", "时间格式应为 时:分，如 09:30")
	}
	if r.State == RequestDone && strings.TrimSpace(r.Outcome) == "" {
		return FieldError("outcome", "办结时请填写办理结果")
	}
	if r.State == RequestDone && r.PapersOut() {
		return FieldError("papers", "还有代办材料没有退还，退还后才能办结")
	}
	if err := optionalText("outcome", "办理结果", r.Outcome, 1000); err != nil {
		return err
	}
	if _, ok := FeedbackLabels[r.Feedback]; r.Feedback != "" && !ok {
		return FieldError("feedback", "请选择满意、基本满意或不满意")
	}
	if r.Feedback != "" && r.State != RequestDone {
		return FieldError("feedback", "办结以后才能评价")
	}
	if len(r.Papers) > 20 {
		return FieldError("papers", "材料最多20项")
	}
	for _, p := range r.Papers {
		if err := requireText("papers", "材料名称", p.Name, 40); err != nil {
			return err
		}
		if _, err := time.Parse("2006-01-02", p.Taken); err != nil {
			return FieldError("papers", "材料收取日期格式错误")
		}
		if p.Returned != "" {
			if _, err := time.Parse("2006-01-02", p.Returned); err != nil || p.Returned < p.Taken {
				return FieldError("papers", "材料退还日期错误")
			}
		}
	}
	return nil
}

// PapersOut reports whether some paper taken is not back yet.
func (r ServiceRequest) PapersOut() bool {
	for _, p := range r.Papers {
		if p.Returned == "" {
			return true
		}
	}
	return false
}
