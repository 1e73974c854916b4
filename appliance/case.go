package appliance

import (
	"strings"
	"time"
)

// Entry kinds of cases: one per step of the lifecycle. Every body is a
// CaseStep; its Action is the kind without the "case." prefix.
const (
	CaseRegister  = "register"  // 登记（任何渠道）
	CaseAssign    = "assign"    // 受理 / 指定承办人
	CaseEscalate  = "escalate"  // 上报
	CaseReturn    = "return"    // 退回下级（附指导意见）
	CaseDispatch  = "dispatch"  // 交办部门限期办理（乡镇、市）
	CaseMeeting   = "meeting"   // 联席会议
	CaseMilestone = "milestone" // 分步办理进展
	CaseResolve   = "resolve"   // 办结
	CaseFeedback  = "feedback"  // 反馈给反映人
	CaseFollowUp  = "followup"  // 回访（不满意则重新办理）
	CaseMerge     = "merge"     // 重复问题，合并
	CaseInvalid   = "invalid"   // 无效问题
	CaseNote      = "note"      // 备注：任何级别都可以写，不改变状态
	CaseCallback  = "callback"  // 回电：值班人员给反映人回电话的结果；不改变状态
	CaseClassify  = "classify"  // 改类别：确认或改正问题类别（和所在组），转给该办的人
)

// CaseActions lists every action, in lifecycle order.
var CaseActions = []string{CaseRegister, CaseAssign, CaseEscalate, CaseReturn, CaseDispatch, CaseMeeting, CaseMilestone, CaseResolve, CaseFeedback, CaseFollowUp, CaseMerge, CaseInvalid, CaseNote, CaseCallback, CaseClassify}

// CaseKind is the entry kind of an action.
func CaseKind(action string) string { return "case." + action }

// CaseActionOf returns the action of an entry kind, "" if it is no case kind.
func CaseActionOf(kind string) string {
	a, ok := strings.CutPrefix(kind, "case.")
	if !ok {
		return ""
	}
	for _, x := range CaseActions {
		if x == a {
			return a
		}
	}
	return ""
}

// CaseActionLabels are the Chinese names of actions, for timelines.
var CaseActionLabels = map[string]string{
	CaseRegister: "登记", CaseAssign: "受理", CaseEscalate: "上报", CaseReturn: "退回下级",
	CaseDispatch: "交办部门", CaseMeeting: "联席会议", CaseMilestone: "分步办理进展", CaseResolve: "办结",
	CaseFeedback: "反馈反映人", CaseFollowUp: "回访", CaseMerge: "合并重复问题", CaseInvalid: "认定无效", CaseNote: "备注",
	CaseCallback: "回电", CaseClassify: "改类别",
}

// Outcomes of a callback (CaseCallback). Reached and wrong number end the
// request; no answer leaves it in the duty staff's callback queue.
const (
	CallbackReached     = "reached"
	CallbackNoAnswer    = "no_answer"
	CallbackWrongNumber = "wrong_number"
)

// CallbackOutcomeLabels are the Chinese names of callback outcomes.
var CallbackOutcomeLabels = map[string]string{CallbackReached: "已接通", CallbackNoAnswer: "未接通", CallbackWrongNumber: "号码有误"}

// CallbackOutcomes lists outcomes in display order.
var CallbackOutcomes = []string{CallbackReached, CallbackNoAnswer, CallbackWrongNumber}

// Callback states of a case.
const (
	CallbackWanted = "wanted" // the reporter asked to be called back
	CallbackDone   = "done"
)

// Case statuses.
const (
	StatusPending    = "pending"    // 待受理: new, or just arrived at a level
	StatusHandling   = "handling"   // 办理中
	StatusDispatched = "dispatched" // 已交办部门
	StatusInSteps    = "in_steps"   // 分步办理
	StatusResolved   = "resolved"   // 已办结, waiting for feedback
	StatusFedBack    = "fed_back"   // 已反馈, waiting for follow-up
	StatusClosed     = "closed"     // 已结案
	StatusMerged     = "merged"     // 已合并
	StatusInvalid    = "invalid"    // 无效
)

// CaseStatuses lists statuses in display order.
var CaseStatuses = []string{StatusPending, StatusHandling, StatusDispatched, StatusInSteps, StatusResolved, StatusFedBack, StatusClosed, StatusMerged, StatusInvalid}

// CaseStatusLabels are the Chinese names of statuses.
var CaseStatusLabels = map[string]string{
	StatusPending: "待受理", StatusHandling: "办理中", StatusDispatched: "已交办部门", StatusInSteps: "分步办理中",
	StatusResolved: "已办结", StatusFedBack: "已反馈", StatusClosed: "已结案", StatusMerged: "已合并", StatusInvalid: "无效",
}

// CaseOpen reports whether a case in status st still needs handling (and so
// has a deadline).
func CaseOpen(st string) bool {
	return st == StatusPending || st == StatusHandling || st == StatusDispatched || st == StatusInSteps
}

// CaseDone reports whether a case in status st has been resolved.
func CaseDone(st string) bool {
	return st == StatusResolved || st == StatusFedBack || st == StatusClosed
}

// Case levels: who handles a case. A village box acts for its groups and
// itself; town and city nodes for their own level.
const (
	CaseLevelGroup   = "group"
	CaseLevelVillage = "village"
	CaseLevelTown    = "town"
	CaseLevelCity    = "city"
)

// CaseLevels lists levels from the bottom up.
var CaseLevels = []string{CaseLevelGroup, CaseLevelVillage, CaseLevelTown, CaseLevelCity}

// CaseLevelLabels are the Chinese names of levels.
var CaseLevelLabels = map[string]string{CaseLevelGroup: "村组", CaseLevelVillage: "村", CaseLevelTown: "乡镇", CaseLevelCity: "市"}

func levelRank(l string) int {
	for i, x := range CaseLevels {
		if x == l {
			return i
		}
	}
	return -1
}

// LevelsOf are the case levels a node of role acts for.
func LevelsOf(role string) []string {
	switch role {
	case NodeVillage:
		return []string{CaseLevelGroup, CaseLevelVillage}
	case NodeTown:
		return []string{CaseLevelTown}
	case NodeCity:
		return []string{CaseLevelCity}
	}
	return nil
}

// ActsFor reports whether a node of role may act at level.
func ActsFor(role, level string) bool { return contains(LevelsOf(role), level) }

// Sources of cases.
const (
	SourcePatrol = "patrol"         // 走访巡查
	SourceWalkIn = "walk_in"        // 来访
	SourcePhone  = "phone"          // 来电
	SourceBox    = "suggestion_box" // 意见箱
	SourceKiosk  = "kiosk"          // 自助终端
)

// CaseSources lists sources in display order.
var CaseSources = []string{SourcePatrol, SourceWalkIn, SourcePhone, SourceBox, SourceKiosk}

// CaseSourceLabels are the Chinese names of sources.
var CaseSourceLabels = map[string]string{SourcePatrol: "走访巡查", SourceWalkIn: "来访", SourcePhone: "来电", SourceBox: "意见箱", SourceKiosk: "自助终端"}

// Follow-up ratings.
const (
	RatingSatisfied   = "satisfied"
	RatingBasic       = "basic"
	RatingUnsatisfied = "unsatisfied"
)

// RatingLabels are the Chinese names of ratings.
var RatingLabels = map[string]string{RatingSatisfied: "满意", RatingBasic: "基本满意", RatingUnsatisfied: "不满意"}

// FeedbackWays are how a result reaches the reporter.
var FeedbackWays = []string{"电话", "上门", "短信", "当面", "自助终端查询"}

// MaxCasePhotos bounds the photos of a case.
const MaxCasePhotos = 6

// CaseStep is the body of every case entry. Which fields matter depends on
// Action; Text is the free text of the step: the description (register),
// reason (escalate, invalid), instructions (return), decision (meeting),
// progress (milestone), result (resolve), what was said (feedback),
// the reporter's words (followup) or the note.
type CaseStep struct {
	Case   string `json:"case"`
	Action string `json:"action"`
	By     string `json:"by"`  // acting level
	Day    string `json:"day"` // local date of the step, YYYY-MM-DD (register, statistics)
	Text   string `json:"text,omitempty"`

	// register
	Category  string   `json:"category,omitempty"`
	Source    string   `json:"source,omitempty"`
	Village   string   `json:"village,omitempty"`
	Group     string   `json:"group,omitempty"`
	Household string   `json:"household,omitempty"` // id in the archive, when known
	Person    string   `json:"person,omitempty"`
	Photos    []string `json:"photos,omitempty"`   // sha256 hex of stored photos
	Voice     []string `json:"voice,omitempty"`    // sha256 hex of a stored voice message (case_voice.go)
	Callback  bool     `json:"callback,omitempty"` // the reporter asks the duty staff to call back

	// assign
	Assignee string `json:"assignee,omitempty"` // name of the person handling it

	// escalate, return
	To string `json:"to,omitempty"`

	// dispatch, and every step that moves the case to a level: the deadline there
	Departments []string `json:"departments,omitempty"`
	Due         string   `json:"due,omitempty"`

	// meeting
	Attendees []string `json:"attendees,omitempty"`

	// feedback
	How string `json:"how,omitempty"`

	// followup
	Rating string `json:"rating,omitempty"`

	// callback
	Outcome string `json:"outcome,omitempty"`

	// merge
	DuplicateOf string `json:"duplicate_of,omitempty"`
}

// CaseReporter is the sealed part of a register entry: it may be left
// behind when the entry travels up, so nothing may depend on it but the
// reporter's own lookups.
type CaseReporter struct {
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
	PIN   string `json:"pin"`
}

// Validate checks a step's own fields (not whether it is legal now: that is
// NextCase).
func (s *CaseStep) Validate() error {
	if _, err := NormalizeReceiptCode(s.Case); err != nil || s.Case == "" {
		return FieldError("case", "问题编号格式错误")
	}
	if CaseActionOf("case."+s.Action) == "" {
		return FieldError("action", "未知的办理步骤")
	}
	if levelRank(s.By) < 0 {
		return FieldError("by", "办理级别错误")
	}
	if _, err := time.Parse("2006-01-02", s.Day); err != nil {
		return FieldError("day", "日期格式应为 年-月-日")
	}
	if s.Due != "" {
		if _, err := time.Parse("2006-01-02", s.Due); err != nil {
			return FieldError("due", "办理期限格式应为 年-月-日")
		}
	}
	if err := optionalText("text", "内容", s.Text, 2000); err != nil {
		return err
	}
	switch s.Action {
	case CaseRegister:
		if s.Category == "" || !idRE.MatchString(s.Category) {
			return FieldError("category", "请选择问题类别")
		}
		if _, ok := CaseSourceLabels[s.Source]; !ok {
			return FieldError("source", "请选择问题来源")
		}
		if err := requireText("text", "问题描述", s.Text, 2000); err != nil {
			return err
		}
		if len([]rune(strings.TrimSpace(s.Text))) < 4 {
			return FieldError("text", "问题描述太短，请至少写4个字")
		}
		if s.Village == "" {
			return FieldError("village", "缺少所属村")
		}
		if s.Group != "" && (len(s.Group) != 15 || !strings.HasPrefix(s.Group, s.Village)) {
			return FieldError("group", "所在村组不属于本村")
		}
		if s.Household != "" && !idRE.MatchString(s.Household) {
			return FieldError("household", "户编号格式错误")
		}
		if s.Person != "" && !idRE.MatchString(s.Person) {
			return FieldError("person", "人员编号格式错误")
		}
		if len(s.Photos) > MaxCasePhotos {
			return FieldError("photos", "照片最多%d张", MaxCasePhotos)
		}
		if len(s.Voice) > MaxCaseVoices {
			return FieldError("voice", "语音留言最多%d段", MaxCaseVoices)
		}
		if s.By != CaseLevelGroup && s.By != CaseLevelVillage && s.By != CaseLevelTown && s.By != CaseLevelCity {
			return FieldError("by", "登记级别错误")
		}
	case CaseAssign:
		if err := requireText("assignee", "承办人", s.Assignee, 30); err != nil {
			return err
		}
	case CaseEscalate:
		if err := requireText("text", "上报理由", s.Text, 2000); err != nil {
			return err
		}
	case CaseReturn:
		if err := requireText("text", "指导意见", s.Text, 2000); err != nil {
			return err
		}
		if levelRank(s.To) < 0 {
			return FieldError("to", "请选择退回到哪一级")
		}
	case CaseDispatch:
		var deps []string
		for _, d := range s.Departments {
			if d = strings.TrimSpace(d); d != "" {
				if err := optionalText("departments", "部门名称", d, 30); err != nil {
					return err
				}
				deps = append(deps, d)
			}
		}
		if len(deps) == 0 {
			return FieldError("departments", "请填写承办部门")
		}
		if s.Due == "" {
			return FieldError("due", "请填写办理期限")
		}
	case CaseMeeting:
		if len(s.Attendees) == 0 {
			return FieldError("attendees", "请填写参会单位或人员")
		}
		if err := requireText("text", "会议决定", s.Text, 2000); err != nil {
			return err
		}
	case CaseMilestone:
		if err := requireText("text", "进展情况", s.Text, 2000); err != nil {
			return err
		}
	case CaseResolve:
		if err := requireText("text", "办理结果", s.Text, 2000); err != nil {
			return err
		}
	case CaseFeedback:
		if !contains(FeedbackWays, s.How) {
			return FieldError("how", "请选择反馈方式")
		}
	case CaseFollowUp:
		if _, ok := RatingLabels[s.Rating]; !ok {
			return FieldError("rating", "请选择满意程度")
		}
	case CaseMerge:
		if _, err := NormalizeReceiptCode(s.DuplicateOf); err != nil || s.DuplicateOf == s.Case {
			return FieldError("duplicate_of", "请填写与之重复的另一个问题编号")
		}
	case CaseInvalid:
		if err := requireText("text", "认定无效的理由", s.Text, 2000); err != nil {
			return err
		}
	case CaseNote:
		if err := requireText("text", "备注内容", s.Text, 2000); err != nil {
			return err
		}
	case CaseCallback:
		if _, ok := CallbackOutcomeLabels[s.Outcome]; !ok {
			return FieldError("outcome", "请选择回电结果")
		}
		if s.Outcome == CallbackReached && strings.TrimSpace(s.Text) == "" {
			return FieldError("text", "请记下电话里反映人说了什么")
		}
	case CaseClassify:
		if s.Category == "" || !idRE.MatchString(s.Category) {
			return FieldError("category", "请选择问题类别")
		}
		if s.Group != "" && len(s.Group) != 15 {
			return FieldError("group", "所在村组格式错误")
		}
	}
	return nil
}

// Case is a problem and where it stands, folded from its steps.
type Case struct {
	ID          string   `json:"id"` // the receipt code
	Category    string   `json:"category"`
	Description string   `json:"description"`
	Source      string   `json:"source"`
	Village     string   `json:"village"`
	Group       string   `json:"group,omitempty"`
	Household   string   `json:"household,omitempty"`
	Person      string   `json:"person,omitempty"`
	Photos      []string `json:"photos,omitempty"`
	Voice       []string `json:"voice,omitempty"`

	// Callback is CallbackWanted while the reporter waits to be called
	// back, CallbackDone once reached (or the number was wrong).
	Callback        string `json:"callback,omitempty"`
	CallbackTries   int    `json:"callback_tries,omitempty"`
	CallbackOutcome string `json:"callback_outcome,omitempty"` // of the last try

	Origin      string   `json:"origin"` // level that registered it
	Level       string   `json:"level"`  // level handling it now
	Status      string   `json:"status"`
	Assignee    string   `json:"assignee,omitempty"`
	Departments []string `json:"departments,omitempty"`
	Due         string   `json:"due,omitempty"` // deadline at the current level

	Reported    time.Time `json:"reported"`
	ReportedDay string    `json:"reported_day"`
	Updated     time.Time `json:"updated"`

	ResolvedAt    time.Time `json:"resolved_at,omitzero"`
	ResolvedDay   string    `json:"resolved_day,omitempty"`
	ResolvedLevel string    `json:"resolved_level,omitempty"`
	ResolvedLate  bool      `json:"resolved_late,omitempty"`
	Result        string    `json:"result,omitempty"`
	Reply         string    `json:"reply,omitempty"` // what the reporter was told
	FeedbackHow   string    `json:"feedback_how,omitempty"`
	FeedbackDay   string    `json:"feedback_day,omitempty"`
	Rating        string    `json:"rating,omitempty"`

	Escalations int    `json:"escalations,omitempty"`
	TopLevel    string `json:"top_level"` // highest level it reached
	Reopened    int    `json:"reopened,omitempty"`
	Meetings    int    `json:"meetings,omitempty"`
	Milestones  int    `json:"milestones,omitempty"`
	DuplicateOf string `json:"duplicate_of,omitempty"`
	Reason      string `json:"reason,omitempty"` // why invalid

	Steps []CaseEvent `json:"steps"`
}

// CaseEvent is one step in a case's history as folded: what was asked, and
// whether it took effect there (a step refused by the state machine stays in
// the ledger but changes nothing).
type CaseEvent struct {
	CaseStep
	At     time.Time `json:"at"`
	Feed   string    `json:"feed"`
	Seq    uint64    `json:"seq"`
	Author string    `json:"author,omitempty"`
	From   string    `json:"from,omitempty"` // level before the step
	Void   string    `json:"void,omitempty"` // why it did not take effect
}

// StepMeta is what NextCase needs to know about the entry carrying a step.
type StepMeta struct {
	At       time.Time
	NodeRole string // role of the node whose feed holds the entry
	Feed     string
	Seq      uint64
	Author   string
}

// NextCase is the state machine: the case after step, or an error saying
// in Chinese why the step is not allowed now. The command checks a step
// with it before appending, and the fold applies steps with it in (HLC,
// feed, seq) order, so both follow one rule. c is nil before registration.
func NextCase(c *Case, s CaseStep, m StepMeta) (*Case, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if !ActsFor(m.NodeRole, s.By) {
		return nil, Errorf(EFORBIDDEN, "本节点不能代表%s办理问题", CaseLevelLabels[s.By])
	}
	if s.Action == CaseRegister {
		if c != nil {
			return nil, Errorf(ECONFLICT, "问题编号 %s 已存在", s.Case)
		}
		n := &Case{
			ID: s.Case, Category: s.Category, Description: s.Text, Source: s.Source,
			Village: s.Village, Group: s.Group, Household: s.Household, Person: s.Person,
			Photos: append([]string(nil), s.Photos...), Voice: append([]string(nil), s.Voice...),
			Origin: s.By, Level: s.By, TopLevel: s.By, Status: StatusPending, Due: s.Due,
			Reported: m.At, ReportedDay: s.Day, Updated: m.At,
		}
		if s.Callback {
			n.Callback = CallbackWanted
		}
		n.Steps = []CaseEvent{event(s, m, "")}
		return n, nil
	}
	if c == nil {
		return nil, Errorf(ENOTFOUND, "问题 %s 不存在", s.Case)
	}
	if s.Action == CaseNote || s.Action == CaseCallback { // anyone may add notes or call back, in any status
		n := c.clone()
		n.Steps = append(n.Steps, event(s, m, c.Level))
		n.Updated = m.At
		if s.Action == CaseCallback {
			n.CallbackTries++
			n.CallbackOutcome = s.Outcome
			if n.Callback == CallbackWanted && s.Outcome != CallbackNoAnswer {
				n.Callback = CallbackDone
			}
		}
		return n, nil
	}
	if s.By != c.Level {
		return nil, Errorf(EFORBIDDEN, "该问题目前由%s办理，只有%s可以改变办理状态；其他级别可以添加备注", CaseLevelLabels[c.Level], CaseLevelLabels[c.Level])
	}
	if !allowed(c.Status, s.Action) {
		return nil, Errorf(ECONFLICT, "问题当前状态为“%s”，不能%s", CaseStatusLabels[c.Status], CaseActionLabels[s.Action])
	}
	n := c.clone()
	n.Updated = m.At
	switch s.Action {
	case CaseAssign:
		n.Assignee = s.Assignee
		if n.Status == StatusPending {
			n.Status = StatusHandling
		}
	case CaseEscalate:
		next := levelRank(c.Level) + 1
		if next >= len(CaseLevels) {
			return nil, Errorf(ECONFLICT, "市级已是最高一级，不能再上报")
		}
		if s.To != "" && s.To != CaseLevels[next] {
			return nil, FieldError("to", "只能逐级上报到%s", CaseLevelLabels[CaseLevels[next]])
		}
		n.moveTo(CaseLevels[next], s.Due)
		n.Escalations++
		if levelRank(n.Level) > levelRank(n.TopLevel) {
			n.TopLevel = n.Level
		}
	case CaseReturn:
		if levelRank(s.To) >= levelRank(c.Level) {
			return nil, FieldError("to", "只能退回到下级")
		}
		n.moveTo(s.To, s.Due)
	case CaseDispatch:
		if c.Level != CaseLevelTown && c.Level != CaseLevelCity {
			return nil, Errorf(EFORBIDDEN, "只有乡镇或市平台可以交办部门")
		}
		n.Departments = mergeNames(n.Departments, s.Departments)
		n.Due = s.Due
		if n.Status != StatusInSteps {
			n.Status = StatusDispatched
		}
	case CaseMeeting:
		if c.Level != CaseLevelTown && c.Level != CaseLevelCity {
			return nil, Errorf(EFORBIDDEN, "联席会议由乡镇或市平台召集")
		}
		n.Meetings++
		if n.Status == StatusPending {
			n.Status = StatusHandling
		}
	case CaseMilestone:
		n.Milestones++
		n.Status = StatusInSteps
	case CaseResolve:
		n.Status = StatusResolved
		n.ResolvedAt, n.ResolvedDay, n.ResolvedLevel, n.Result = m.At, s.Day, c.Level, s.Text
		n.ResolvedLate = c.Due != "" && s.Day > c.Due
		n.Reply = s.Text
		// The result goes back down: feedback and follow-up are the work of
		// the level that took the report in.
		n.Level, n.Due = c.Origin, ""
	case CaseFeedback:
		n.Status = StatusFedBack
		n.FeedbackHow, n.FeedbackDay = s.How, s.Day
		if s.Text != "" {
			n.Reply = s.Text
		}
	case CaseFollowUp:
		n.Rating = s.Rating
		if s.Rating == RatingUnsatisfied {
			// Unsatisfied: back to the level that resolved it.
			n.Reopened++
			n.moveTo(c.ResolvedLevel, s.Due)
			n.ResolvedAt, n.ResolvedDay, n.ResolvedLevel, n.Result, n.ResolvedLate = time.Time{}, "", "", "", false
		} else {
			n.Status = StatusClosed
		}
	case CaseMerge:
		n.Status, n.DuplicateOf, n.Due = StatusMerged, s.DuplicateOf, ""
	case CaseInvalid:
		n.Status, n.Reason, n.Due = StatusInvalid, s.Text, ""
	case CaseClassify:
		if c.Level != CaseLevelGroup && c.Level != CaseLevelVillage {
			return nil, Errorf(EFORBIDDEN, "只有村里可以改问题类别")
		}
		if s.Group != "" && !strings.HasPrefix(s.Group, c.Village) {
			return nil, FieldError("group", "所在村组不属于本村")
		}
		n.Category, n.Due = s.Category, s.Due
		if s.Group != "" {
			// A case with a group goes to that group's grid leader.
			n.Group, n.Level, n.Status, n.Assignee = s.Group, CaseLevelGroup, StatusPending, ""
		}
	}
	n.Steps = append(n.Steps, event(s, m, c.Level))
	return n, nil
}

// transitions: which actions each status allows (besides notes, always).
var transitions = map[string][]string{
	StatusPending:    {CaseAssign, CaseClassify, CaseEscalate, CaseReturn, CaseDispatch, CaseMeeting, CaseResolve, CaseMerge, CaseInvalid},
	StatusHandling:   {CaseAssign, CaseClassify, CaseEscalate, CaseReturn, CaseDispatch, CaseMeeting, CaseMilestone, CaseResolve, CaseMerge, CaseInvalid},
	StatusDispatched: {CaseAssign, CaseEscalate, CaseReturn, CaseDispatch, CaseMeeting, CaseMilestone, CaseResolve},
	StatusInSteps:    {CaseAssign, CaseEscalate, CaseReturn, CaseDispatch, CaseMeeting, CaseMilestone, CaseResolve},
	StatusResolved:   {CaseFeedback, CaseFollowUp},
	StatusFedBack:    {CaseFeedback, CaseFollowUp},
}

func allowed(status, action string) bool { return contains(transitions[status], action) }

// CaseActionsAllowed lists the actions a level may take on c now, for the
// forms shown to staff.
func CaseActionsAllowed(c *Case, level string) []string {
	out := []string{}
	if c.Level == level {
		for _, a := range transitions[c.Status] {
			if (a == CaseDispatch || a == CaseMeeting) && level != CaseLevelTown && level != CaseLevelCity {
				continue
			}
			if a == CaseEscalate && level == CaseLevelCity {
				continue
			}
			if a == CaseReturn && level == CaseLevelGroup {
				continue
			}
			if a == CaseClassify && level != CaseLevelGroup && level != CaseLevelVillage {
				continue
			}
			out = append(out, a)
		}
	}
	return append(out, CaseNote, CaseCallback)
}

func (c *Case) moveTo(level, due string) {
	c.Level, c.Status, c.Assignee, c.Due, c.Departments = level, StatusPending, "", due, nil
}

func (c *Case) clone() *Case {
	n := *c
	n.Steps = append([]CaseEvent(nil), c.Steps...)
	n.Departments = append([]string(nil), c.Departments...)
	return &n
}

func event(s CaseStep, m StepMeta, from string) CaseEvent {
	return CaseEvent{CaseStep: s, At: m.At, Feed: m.Feed, Seq: m.Seq, Author: m.Author, From: from}
}

func mergeNames(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, x := range b {
		x = strings.TrimSpace(x)
		if x != "" && !contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// VoidEvent records a step that the state machine refused at its place in
// the order, so the history shows it.
func (c *Case) VoidEvent(s CaseStep, m StepMeta, why string) {
	e := event(s, m, c.Level)
	e.Void = why
	c.Steps = append(c.Steps, e)
}

// CaseProgress is what anyone holding the receipt may see: nothing personal.
type CaseProgress struct {
	ID          string         `json:"id"`
	Category    string         `json:"category"`
	Status      string         `json:"status"`
	StatusLabel string         `json:"status_label"`
	Level       string         `json:"level"`
	LevelLabel  string         `json:"level_label"`
	Reported    string         `json:"reported"`
	Updated     string         `json:"updated"`
	Due         string         `json:"due,omitempty"`
	Result      string         `json:"result,omitempty"`
	Reply       string         `json:"reply,omitempty"`
	Resolved    string         `json:"resolved,omitempty"`
	Rating      string         `json:"rating,omitempty"`
	CanRate     bool           `json:"can_rate"`
	Steps       []ProgressStep `json:"steps"`
}

// ProgressStep is one public line of a case's history.
type ProgressStep struct {
	Day   string `json:"day"`
	Label string `json:"label"`
}

// Progress returns the public view of c; cat names the category.
func (c *Case) Progress(catName string) CaseProgress {
	p := CaseProgress{
		ID: c.ID, Category: catName, Status: c.Status, StatusLabel: CaseStatusLabels[c.Status],
		Level: c.Level, LevelLabel: CaseLevelLabels[c.Level], Reported: c.ReportedDay,
		Due: c.Due, Result: c.Result, Reply: c.Reply, Resolved: c.ResolvedDay, Rating: c.Rating,
		CanRate: c.Status == StatusResolved || c.Status == StatusFedBack,
	}
	p.Updated = c.ReportedDay
	for _, e := range c.Steps {
		if e.Void != "" || e.Action == CaseNote {
			continue
		}
		p.Updated = e.Day
		label := CaseActionLabels[e.Action]
		switch e.Action {
		case CaseRegister:
			label = "已登记，由" + CaseLevelLabels[e.By] + "受理"
		case CaseEscalate:
			label = "上报" + CaseLevelLabels[NextCaseLevel(e.From)]
		case CaseReturn:
			label = "退回" + CaseLevelLabels[e.To] + "办理"
		case CaseDispatch:
			label = "交办" + strings.Join(e.Departments, "、") + "，限" + e.Due + "前办结"
		case CaseResolve:
			label = CaseLevelLabels[e.By] + "办结"
		case CaseFollowUp:
			label = "回访：" + RatingLabels[e.Rating]
		case CaseFeedback:
			label = "已通过" + e.How + "反馈办理结果"
		case CaseClassify:
			label = "工作人员确认问题类别，转交办理"
		case CaseCallback:
			label = map[string]string{CallbackReached: "值班人员已回电联系您", CallbackNoAnswer: "值班人员回电，未接通", CallbackWrongNumber: "回电号码有误，未能联系上您"}[e.Outcome]
		}
		p.Steps = append(p.Steps, ProgressStep{Day: e.Day, Label: label})
	}
	return p
}

// NextCaseLevel is the level above l ("" at the top).
func NextCaseLevel(l string) string {
	if r := levelRank(l); r >= 0 && r+1 < len(CaseLevels) {
		return CaseLevels[r+1]
	}
	return ""
}

// CaseLevelBelow reports whether a is below b.
func CaseLevelBelow(a, b string) bool { return levelRank(a) < levelRank(b) }

// Trimmed returns s with only the fields its action uses, so an entry never
// carries stray input.
func (s CaseStep) Trimmed() CaseStep {
	t := CaseStep{Case: s.Case, Action: s.Action, By: s.By, Day: s.Day, Text: s.Text}
	switch s.Action {
	case CaseRegister:
		t.Category, t.Source, t.Village, t.Group, t.Household, t.Person, t.Photos, t.Due = s.Category, s.Source, s.Village, s.Group, s.Household, s.Person, s.Photos, s.Due
		t.Voice, t.Callback = s.Voice, s.Callback
	case CaseClassify:
		t.Category, t.Group, t.Due = s.Category, s.Group, s.Due
	case CaseCallback:
		t.Outcome = s.Outcome
	case CaseAssign:
		t.Assignee = s.Assignee
	case CaseEscalate, CaseReturn:
		t.To, t.Due = s.To, s.Due
	case CaseDispatch:
		t.Departments, t.Due = s.Departments, s.Due
	case CaseMeeting:
		t.Attendees = s.Attendees
	case CaseFeedback:
		t.How = s.How
	case CaseFollowUp:
		t.Rating, t.Due = s.Rating, s.Due
	case CaseMerge:
		t.DuplicateOf = s.DuplicateOf
	}
	return t
}
