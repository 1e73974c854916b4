package appliance

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// DutyConfig tunes the duty roster ([duty] in the configuration file).
type DutyConfig struct {
	// LeaderDay is the day of each month that is the work-team leader's
	// duty day (群众工作队队长值班日); 0: none.
	LeaderDay int `toml:"leader_day"`
	// TeamLeader is the staff id of the work-team leader; empty: the
	// mass-work-team member whose title has 队长.
	TeamLeader string `toml:"team_leader"`
	// Rota lists the duties (staff.go) whose people take the duty room in
	// turn, in this order.
	Rota []string `toml:"rota"`
	// Shift is the shift a generated roster fills (全天 by default).
	Shift string `toml:"shift"`
}

// DefaultDutyConfig is [duty] when the file says nothing.
func DefaultDutyConfig() DutyConfig {
	return DutyConfig{LeaderDay: 15, Rota: []string{DutyCommittee, DutyDutyStaff}, Shift: "全天"}
}

// Validate checks the [duty] settings.
func (c *DutyConfig) Validate() error {
	if c.LeaderDay < 0 || c.LeaderDay > 31 {
		return fmt.Errorf("duty.leader_day: %d is not a day of the month (0 for none)", c.LeaderDay)
	}
	for _, d := range c.Rota {
		if _, ok := DutyLabels[d]; !ok {
			return fmt.Errorf("duty.rota: unknown duty %q", d)
		}
	}
	if c.Shift != "" && !contains(Shifts, c.Shift) {
		return fmt.Errorf("duty.shift: %q is not one of %v", c.Shift, Shifts)
	}
	if c.TeamLeader != "" && !idRE.MatchString(c.TeamLeader) {
		return fmt.Errorf("duty.team_leader: bad staff id %q", c.TeamLeader)
	}
	return nil
}

// RosterPlan is what a month's roster is made from.
type RosterPlan struct {
	Grid   string
	Month  string        // YYYY-MM
	Shift  string        // 全天 when empty
	People []StaffMember // who take turns, in turn order
	// Start is the index in People of whose turn comes first (to go on
	// from last month's roster).
	Start int
	Leave map[string][]string // staff id → dates (YYYY-MM-DD) off duty
	Fixed map[string]string   // date → staff id who always has that day
	// LeaderDay is the work-team leader's day of the month (0: none);
	// Leader is who that is (nil: the day goes round like any other).
	LeaderDay int
	Leader    *StaffMember
	Lead      string // 带班领导 written on every shift, if any
}

// MonthDays returns the dates (YYYY-MM-DD) of month (YYYY-MM).
func MonthDays(month string) ([]string, error) {
	first, err := time.Parse("2006-01", month)
	if err != nil {
		return nil, FieldError("month", "月份格式应为 年-月，如 2026-12")
	}
	var out []string
	for d := first; d.Month() == first.Month(); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format("2006-01-02"))
	}
	return out, nil
}

// GenerateRoster makes a month's roster: the fixed days first, the
// leader's day, and every other day round robin among People, skipping
// whoever is on leave that day (their turn waits for the next day they
// are in). Fixed days and the leader's day do not use up anyone's turn.
func GenerateRoster(p RosterPlan) ([]DutyShift, error) {
	days, err := MonthDays(p.Month)
	if err != nil {
		return nil, err
	}
	if len(p.People) == 0 {
		return nil, FieldError("people", "没有轮流值班的人员：请先在“网格与人员”中登记值班人员或村“三委”成员")
	}
	shift := p.Shift
	if shift == "" {
		shift = "全天"
	}
	byID := map[string]StaffMember{}
	for _, m := range p.People {
		byID[m.ID] = m
	}
	if p.Leader != nil {
		byID[p.Leader.ID] = *p.Leader
	}
	off := map[string]bool{} // staff "/" date
	for id, dates := range p.Leave {
		for _, d := range dates {
			off[id+"/"+d] = true
		}
	}
	for date, id := range p.Fixed {
		if !strings.HasPrefix(date, p.Month+"-") {
			return nil, FieldError("fixed", "固定值班日 %s 不在 %s", date, p.Month)
		}
		if _, ok := byID[id]; !ok {
			return nil, FieldError("fixed", "固定值班日 %s 的值班人员不在轮值名单中", date)
		}
		if off[id+"/"+date] {
			return nil, FieldError("fixed", "%s 是 %s 的固定值班日，但他（她）这天请假", date, byID[id].Name)
		}
	}
	turn := ((p.Start % len(p.People)) + len(p.People)) % len(p.People)
	out := make([]DutyShift, 0, len(days))
	for i, date := range days {
		var m StaffMember
		if id, ok := p.Fixed[date]; ok {
			m = byID[id]
		} else if p.Leader != nil && i+1 == p.LeaderDay && !off[p.Leader.ID+"/"+date] {
			m = *p.Leader
		} else {
			found := false
			for k := 0; k < len(p.People); k++ {
				c := p.People[(turn+k)%len(p.People)]
				if !off[c.ID+"/"+date] {
					m, found, turn = c, true, (turn+k+1)%len(p.People)
					break
				}
			}
			if !found {
				return nil, FieldError("leave", "%s 所有值班人员都请假，这天没有人值班", date)
			}
		}
		s := DutyShift{Grid: p.Grid, Date: date, Shift: shift, StaffID: m.ID, Name: m.Name, Phone: m.Phone, Lead: p.Lead}
		if err := s.Validate(); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// ParseDays reads the days of month people write: "3,4,10-12" or
// "3、4、10至12" (days of the month, full-width digits too), or whole dates; it returns sorted
// dates (YYYY-MM-DD).
func ParseDays(field, month, s string) ([]string, error) {
	days, err := MonthDays(month)
	if err != nil {
		return nil, err
	}
	s = strings.NewReplacer("，", ",", "、", ",", "；", ",", ";", ",", " ", ",", "　", ",", "至", "-", "～", "-", "~", "-", "号", "", "日", "").Replace(strings.TrimSpace(strings.Map(narrow, s)))
	seen := map[string]bool{}
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		if len(part) == 10 && strings.HasPrefix(part, month+"-") {
			if !contains(days, part) {
				return nil, FieldError(field, "%s 不是 %s 的日期", part, month)
			}
			if !seen[part] {
				seen[part] = true
				out = append(out, part)
			}
			continue
		}
		a, b, ranged := strings.Cut(part, "-")
		from, err1 := strconv.Atoi(a)
		to, err2 := from, error(nil)
		if ranged {
			to, err2 = strconv.Atoi(b)
		}
		if err1 != nil || err2 != nil || from < 1 || to < from || to > len(days) {
			return nil, FieldError(field, "“%s”不是 %s 的日子：请写日子，如 3,4,10-12（本月共 %d 天）", part, month, len(days))
		}
		for d := from; d <= to; d++ {
			if date := days[d-1]; !seen[date] {
				seen[date] = true
				out = append(out, date)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// KindDutySwap records a swap of duty days: asked by one person, then
// accepted (the roster changes in the same transaction), declined or
// withdrawn.
const KindDutySwap = "duty.swap"

// Swap states.
const (
	SwapAsked     = "asked"
	SwapAccepted  = "accepted"
	SwapDeclined  = "declined"
	SwapWithdrawn = "withdrawn"
)

// SwapStateLabels are the Chinese names of swap states.
var SwapStateLabels = map[string]string{SwapAsked: "待对方同意", SwapAccepted: "已换班", SwapDeclined: "对方未同意", SwapWithdrawn: "已撤回"}

// DutySwap is one person asking another to swap duty days: the asker
// takes WithDate and the other takes Date.
type DutySwap struct {
	ID          string `json:"id"`
	Grid        string `json:"grid"`
	Shift       string `json:"shift"`
	Date        string `json:"date"` // the asker's day
	StaffID     string `json:"staff_id"`
	Name        string `json:"name"`
	WithDate    string `json:"with_date"` // the other's day
	WithStaffID string `json:"with_staff_id"`
	WithName    string `json:"with_name"`
	Reason      string `json:"reason,omitempty"`
	State       string `json:"state"`
	AskedBy     string `json:"asked_by,omitempty"` // the account that asked: it may withdraw, not accept
}

func (w *DutySwap) Validate() error {
	if !idRE.MatchString(w.ID) {
		return FieldError("id", "换班编号格式错误")
	}
	if w.Grid == "" {
		return FieldError("grid", "请选择值班所属网格")
	}
	if !contains(Shifts, w.Shift) {
		return FieldError("shift", "班次应为 全天、白班 或 夜班")
	}
	for _, d := range []struct{ field, v string }{{"date", w.Date}, {"with_date", w.WithDate}} {
		if _, err := time.Parse("2006-01-02", d.v); err != nil {
			return FieldError(d.field, "日期格式应为 年-月-日，如 2026-12-03")
		}
	}
	if !idRE.MatchString(w.StaffID) || !idRE.MatchString(w.WithStaffID) {
		return FieldError("with", "请选择换班的人")
	}
	if w.StaffID == w.WithStaffID {
		return FieldError("with", "不能和自己换班")
	}
	if err := requireText("name", "姓名", w.Name, 30); err != nil {
		return err
	}
	if err := requireText("with_name", "姓名", w.WithName, 30); err != nil {
		return err
	}
	if _, ok := SwapStateLabels[w.State]; !ok {
		return FieldError("state", "换班状态错误")
	}
	return optionalText("reason", "换班原因", w.Reason, 200)
}
