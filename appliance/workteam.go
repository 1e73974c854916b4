package appliance

import "time"

// Entry kinds of the mass work teams (群众工作队, docs/week.md "Work teams").
const (
	KindTeamSet    = "team.set"     // a village's team: members, home units, leader, required days (last writer wins)
	KindTeamSign   = "team.sign"    // a member signs in at the village box (a day in the village)
	KindJournalAdd = "team.journal" // a member's work journal entry (驻村工作心得)
	KindRulesSet   = "rules.set"    // an editable list of duties for the wall (制度上墙)
)

// TeamMember is a cadre sent down to a village (下沉干部).
type TeamMember struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Phone   string `json:"phone,omitempty"`
	Unit    string `json:"unit"`               // home unit, e.g. 市自然资源局
	Leader  bool   `json:"leader,omitempty"`   // 队长
	Days    int    `json:"days"`               // days a month to spend in the village
	StaffID string `json:"staff_id,omitempty"` // their staff record at the village, if any (visits and cases count as theirs)
}

// WorkTeam is the work team stationed in one village.
type WorkTeam struct {
	Village string       `json:"village"`
	Name    string       `json:"name,omitempty"` // e.g. 市派驻杏花村群众工作队
	Members []TeamMember `json:"members"`
	From    string       `json:"from,omitempty"` // the town, on the copy it sends down
}

// MaxTeam bounds a team's members.
const MaxTeam = 30

func (w *WorkTeam) Validate() error {
	if ValidateDivisionCode(w.Village, NodeVillage) != nil {
		return FieldError("village", "请选择工作队所驻的村")
	}
	if err := optionalText("name", "工作队名称", w.Name, 40); err != nil {
		return err
	}
	if len(w.Members) > MaxTeam {
		return FieldError("members", "工作队最多 %d 人", MaxTeam)
	}
	seen, leaders := map[string]bool{}, 0
	for _, m := range w.Members {
		if !idRE.MatchString(m.ID) || seen[m.ID] {
			return FieldError("members", "队员编号重复或格式错误")
		}
		seen[m.ID] = true
		if err := requireText("members", "队员姓名", m.Name, 30); err != nil {
			return err
		}
		if err := requireText("members", m.Name+"的派出单位", m.Unit, 40); err != nil {
			return err
		}
		if err := ValidatePhone("members", m.Phone, false); err != nil {
			return err
		}
		if m.Days < 0 || m.Days > 31 {
			return FieldError("members", "%s每月驻村天数应在0到31之间", m.Name)
		}
		if m.StaffID != "" && !idRE.MatchString(m.StaffID) {
			return FieldError("members", "人员编号格式错误")
		}
		if m.Leader {
			leaders++
		}
	}
	if leaders > 1 {
		return FieldError("members", "工作队只能有一名队长")
	}
	return optionalText("from", "派出单位", w.From, 40)
}

// Member returns the member with id.
func (w *WorkTeam) Member(id string) (TeamMember, bool) {
	for _, m := range w.Members {
		if m.ID == id {
			return m, true
		}
	}
	return TeamMember{}, false
}

// TeamSign is a member's day in the village.
type TeamSign struct {
	Village string `json:"village"`
	Member  string `json:"member"`
	Name    string `json:"name"`
	Date    string `json:"date"`
	At      string `json:"at"`
}

func (s *TeamSign) Validate() error {
	if s.Village == "" || !idRE.MatchString(s.Member) {
		return FieldError("member", "请选择队员")
	}
	if err := requireText("name", "队员姓名", s.Name, 30); err != nil {
		return err
	}
	if _, err := time.Parse("2006-01-02", s.Date); err != nil {
		return FieldError("date", "日期格式错误")
	}
	if !hhmmRE.MatchString(s.At) {
		return FieldError("at", "时间格式错误")
	}
	return nil
}

// Journal is one entry of a member's work journal (驻村工作心得).
type Journal struct {
	ID      string `json:"id"`
	Village string `json:"village"`
	Member  string `json:"member"`
	Name    string `json:"name"`
	Date    string `json:"date"`
	Text    string `json:"text"`
}

func (j *Journal) Validate() error {
	if !idRE.MatchString(j.ID) {
		return FieldError("id", "心得编号格式错误")
	}
	if j.Village == "" || !idRE.MatchString(j.Member) {
		return FieldError("member", "请选择队员")
	}
	if err := requireText("name", "队员姓名", j.Name, 30); err != nil {
		return err
	}
	if _, err := time.Parse("2006-01-02", j.Date); err != nil {
		return FieldError("date", "日期格式应为 年-月-日")
	}
	return requireText("text", "心得内容", j.Text, 5000)
}

// RuleList is an editable list of duties printed for the wall.
type RuleList struct {
	ID    string   `json:"id"` // one of RuleListIDs
	Grid  string   `json:"grid"`
	Title string   `json:"title"`
	Items []string `json:"items"`
}

// The lists kept (docs/week.md): their ids and default contents.
var RuleListIDs = []string{"department_duties", "team_tasks", "village_systems"}

// DefaultRules are the lists until someone edits them.
var DefaultRules = map[string]RuleList{
	"department_duties": {ID: "department_duties", Title: "职能部门四项责任", Items: []string{
		"包村联户：定期到联系村走访，了解掌握社情民意",
		"受理交办：对乡镇交办的问题按时限办理并反馈结果",
		"会商解难：参加联席会议，会商解决疑难复杂问题",
		"指导服务：开展业务指导和政策宣传，帮助群众办事",
	}},
	"team_tasks": {ID: "team_tasks", Title: "群众工作队十项任务", Items: []string{
		"宣传党的路线方针政策", "走访群众，摸清村情民意", "收集和反映群众诉求", "排查化解矛盾纠纷", "帮助群众办实事、解难事",
		"协助发展集体经济和增收项目", "帮助建强村级组织", "参与值班和村级议事", "维护农村和谐稳定", "写好驻村工作心得",
	}},
	"village_systems": {ID: "village_systems", Title: "村级十项制度", Items: []string{
		"日走访巡查制度", "值班制度", "例会制度", "督查制度", "首问负责制度",
		"限时办结制度", "信息报送制度", "公开公示制度", "考核奖惩制度", "台账管理制度",
	}},
}

func (r *RuleList) Validate() error {
	if _, ok := DefaultRules[r.ID]; !ok {
		return FieldError("id", "没有这份清单")
	}
	if r.Grid == "" {
		return FieldError("grid", "请选择网格")
	}
	if err := requireText("title", "标题", r.Title, 40); err != nil {
		return err
	}
	if len(r.Items) == 0 || len(r.Items) > 30 {
		return FieldError("items", "清单应有1到30条")
	}
	for _, it := range r.Items {
		if err := requireText("items", "清单条目", it, 200); err != nil {
			return err
		}
	}
	return nil
}
