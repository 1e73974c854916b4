package appliance_test

import (
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
)

const (
	village = "410184104201"
	group   = "410184104201-03"
)

func reg(by string) appliance.CaseStep {
	s := appliance.CaseStep{Case: "7KQ3-M9XA", Action: appliance.CaseRegister, By: by, Day: "2026-11-02",
		Text: "路灯坏了三天了", Category: "public_affairs", Source: appliance.SourcePhone, Village: village, Due: "2026-11-05"}
	if by == appliance.CaseLevelGroup {
		s.Group = group
	}
	return s
}

func step(action, by string, f func(*appliance.CaseStep)) appliance.CaseStep {
	s := appliance.CaseStep{Case: "7KQ3-M9XA", Action: action, By: by, Day: "2026-11-03"}
	switch action {
	case appliance.CaseAssign:
		s.Assignee = "张三"
	case appliance.CaseEscalate:
		s.Text = "需要上级协调"
	case appliance.CaseReturn:
		s.Text = "请先入户核实"
		s.To = appliance.CaseLevelVillage
	case appliance.CaseDispatch:
		s.Departments = []string{"安监站", "派出所"}
		s.Due = "2026-11-20"
	case appliance.CaseMeeting:
		s.Attendees = []string{"安监站", "派出所", "村委会"}
		s.Text = "联合执法"
	case appliance.CaseMilestone, appliance.CaseResolve, appliance.CaseInvalid, appliance.CaseNote:
		s.Text = "已处理"
	case appliance.CaseFeedback:
		s.How = "电话"
	case appliance.CaseFollowUp:
		s.Rating = appliance.RatingSatisfied
	case appliance.CaseMerge:
		s.DuplicateOf = "ACDE-FHJK"
	case appliance.CaseClassify:
		s.Category = "livelihood"
	case appliance.CaseCallback:
		s.Outcome = appliance.CallbackNoAnswer
	}
	if f != nil {
		f(&s)
	}
	return s
}

var at = appliance.StepMeta{At: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), NodeRole: appliance.NodeVillage}

// run applies steps in order on the node roles given, failing on a refusal.
func run(t *testing.T, steps []appliance.CaseStep, roles []string) *appliance.Case {
	t.Helper()
	var c *appliance.Case
	for i, s := range steps {
		m := at
		m.At = m.At.Add(time.Duration(i) * time.Hour)
		m.NodeRole = roles[i]
		n, err := appliance.NextCase(c, s, m)
		if err != nil {
			t.Fatalf("step %d %s by %s: %v", i, s.Action, s.By, err)
		}
		c = n
	}
	return c
}

func TestNextCase(t *testing.T) {
	V, T, C := appliance.NodeVillage, appliance.NodeTown, appliance.NodeCity
	G, Vl, Tl, Cl := appliance.CaseLevelGroup, appliance.CaseLevelVillage, appliance.CaseLevelTown, appliance.CaseLevelCity
	t.Run("ResolvedAtGroup", func(t *testing.T) {
		c := run(t, []appliance.CaseStep{reg(G), step("assign", G, nil), step("resolve", G, nil), step("feedback", G, nil), step("followup", G, nil)}, []string{V, V, V, V, V})
		if c.Status != appliance.StatusClosed || c.ResolvedLevel != G || c.Escalations != 0 {
			t.Fatalf("got %s at %s, esc %d", c.Status, c.ResolvedLevel, c.Escalations)
		}
	})
	t.Run("LadderToCityAndBack", func(t *testing.T) {
		steps := []appliance.CaseStep{
			reg(G), step("escalate", G, nil), step("assign", Vl, nil), step("escalate", Vl, nil),
			step("dispatch", Tl, nil), step("meeting", Tl, nil), step("milestone", Tl, nil), step("escalate", Tl, nil),
			step("assign", Cl, nil), step("dispatch", Cl, nil), step("return", Cl, func(s *appliance.CaseStep) { s.To = Tl }),
			step("resolve", Tl, nil), step("feedback", G, nil),
			step("followup", G, func(s *appliance.CaseStep) { s.Rating = appliance.RatingUnsatisfied; s.Due = "2026-11-30" }),
			step("assign", Tl, nil), step("resolve", Tl, nil), step("followup", G, func(s *appliance.CaseStep) { s.Rating = appliance.RatingBasic }),
		}
		c := run(t, steps, []string{V, V, V, V, T, T, T, T, C, C, C, T, V, V, T, T, V})
		if got, want := c.Status, appliance.StatusClosed; got != want {
			t.Fatalf("status=%s, want %s", got, want)
		}
		if c.Escalations != 3 || c.TopLevel != Cl || c.Reopened != 1 || c.Meetings != 1 || c.ResolvedLevel != Tl || c.Rating != appliance.RatingBasic {
			t.Fatalf("case=%+v", c)
		}
	})
	t.Run("MergeAndInvalid", func(t *testing.T) {
		if c := run(t, []appliance.CaseStep{reg(Vl), step("merge", Vl, nil)}, []string{V, V}); c.Status != appliance.StatusMerged {
			t.Fatal(c.Status)
		}
		if c := run(t, []appliance.CaseStep{reg(Vl), step("assign", Vl, nil), step("invalid", Vl, nil)}, []string{V, V, V}); c.Status != appliance.StatusInvalid {
			t.Fatal(c.Status)
		}
	})
	t.Run("NotesFromAnyLevel", func(t *testing.T) {
		c := run(t, []appliance.CaseStep{reg(G), step("note", Tl, nil), step("resolve", G, nil), step("followup", G, nil), step("note", Vl, nil)}, []string{V, T, V, V, V})
		if len(c.Steps) != 5 || c.Status != appliance.StatusClosed {
			t.Fatalf("steps=%d status=%s", len(c.Steps), c.Status)
		}
	})

	base := []appliance.CaseStep{reg(G)}
	refused := []struct {
		name  string
		prev  []appliance.CaseStep
		role  []string
		s     appliance.CaseStep
		role1 string
		msg   string
	}{
		{"OtherLevelChangesState", base, []string{V}, step("assign", Vl, nil), V, "目前由村组"},
		{"VillageNodeActsForTown", []appliance.CaseStep{reg(Vl), step("escalate", Vl, nil)}, []string{V, V}, step("assign", Tl, nil), V, "本节点不能代表乡镇"},
		{"DispatchAtVillage", []appliance.CaseStep{reg(Vl)}, []string{V}, step("dispatch", Vl, nil), V, "只有乡镇或市平台"},
		{"FeedbackBeforeResolve", base, []string{V}, step("feedback", G, nil), V, "不能反馈反映人"},
		{"FollowUpBeforeResolve", base, []string{V}, step("followup", G, nil), V, "不能回访"},
		{"EscalateAboveCity", nil, nil, step("escalate", Cl, nil), C, "最高一级"},
		{"ReturnUpwards", []appliance.CaseStep{reg(G), step("escalate", G, nil)}, []string{V, V}, step("return", Vl, func(s *appliance.CaseStep) { s.To = Tl }), V, "只能退回到下级"},
		{"ActOnClosed", []appliance.CaseStep{reg(G), step("resolve", G, nil), step("followup", G, nil)}, []string{V, V, V}, step("assign", G, nil), V, "已结案"},
		{"RegisterTwice", base, []string{V}, reg(G), V, "已存在"},
		{"SkipLevel", base, []string{V}, step("escalate", G, func(s *appliance.CaseStep) { s.To = Tl }), V, "逐级上报"},
		{"NoCase", nil, nil, step("assign", G, nil), V, "不存在"},
		{"EmptyReason", base, []string{V}, step("escalate", G, func(s *appliance.CaseStep) { s.Text = "" }), V, "上报理由"},
	}
	for _, tt := range refused {
		t.Run("Err"+tt.name, func(t *testing.T) {
			var c *appliance.Case
			if tt.name == "EscalateAboveCity" {
				c = run(t, []appliance.CaseStep{reg(Vl), step("escalate", Vl, nil), step("escalate", Tl, nil)}, []string{V, V, T})
			} else if tt.prev != nil {
				c = run(t, tt.prev, tt.role)
			}
			m := at
			m.NodeRole = tt.role1
			_, err := appliance.NextCase(c, tt.s, m)
			if err == nil || !strings.Contains(appliance.ErrorMessage(err), tt.msg) {
				t.Fatalf("err=%v, want message with %q", err, tt.msg)
			}
		})
	}
}

// Every action allowed by CaseActionsAllowed is accepted by NextCase.
func TestCaseActionsAllowedAgree(t *testing.T) {
	V := appliance.NodeVillage
	c := run(t, []appliance.CaseStep{reg(appliance.CaseLevelGroup)}, []string{V})
	for _, a := range appliance.CaseActionsAllowed(c, appliance.CaseLevelGroup) {
		if _, err := appliance.NextCase(c, step(a, appliance.CaseLevelGroup, nil), at); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
}

func TestRegisterSpan(t *testing.T) {
	for _, tt := range []struct{ kind, date, from, to string }{
		{"day", "2026-11-04", "2026-11-04", "2026-11-04"},
		{"week", "2026-11-04", "2026-11-02", "2026-11-08"},
		{"month", "2026-02-10", "2026-02-01", "2026-02-28"},
		{"quarter", "2026-02-10", "2026-01-01", "2026-03-31"},
		{"quarter", "2026-12-31", "2026-10-01", "2026-12-31"},
		{"year", "2026-05-05", "2026-01-01", "2026-12-31"},
	} {
		a, b, err := appliance.RegisterSpan(tt.kind, tt.date)
		if err != nil || a != tt.from || b != tt.to {
			t.Errorf("%s %s = %s..%s %v, want %s..%s", tt.kind, tt.date, a, b, err, tt.from, tt.to)
		}
	}
}

// Every action in every status: accepted exactly when the table allows it
// at that level, refused with a Chinese message otherwise.
func TestNextCaseEveryTransition(t *testing.T) {
	V, T := appliance.NodeVillage, appliance.NodeTown
	G, Tl := appliance.CaseLevelGroup, appliance.CaseLevelTown
	up := func(by string) appliance.CaseStep { return step("escalate", by, nil) }
	states := map[string]struct {
		steps []appliance.CaseStep
		roles []string
		level string
		role  string
	}{
		"pending":    {[]appliance.CaseStep{reg(G)}, []string{V}, G, V},
		"handling":   {[]appliance.CaseStep{reg(G), step("assign", G, nil)}, []string{V, V}, G, V},
		"in_steps":   {[]appliance.CaseStep{reg(G), step("assign", G, nil), step("milestone", G, nil)}, []string{V, V, V}, G, V},
		"resolved":   {[]appliance.CaseStep{reg(G), step("resolve", G, nil)}, []string{V, V}, G, V},
		"fed_back":   {[]appliance.CaseStep{reg(G), step("resolve", G, nil), step("feedback", G, nil)}, []string{V, V, V}, G, V},
		"closed":     {[]appliance.CaseStep{reg(G), step("resolve", G, nil), step("followup", G, nil)}, []string{V, V, V}, G, V},
		"merged":     {[]appliance.CaseStep{reg(G), step("merge", G, nil)}, []string{V, V}, G, V},
		"invalid":    {[]appliance.CaseStep{reg(G), step("invalid", G, nil)}, []string{V, V}, G, V},
		"town":       {[]appliance.CaseStep{reg(G), up(G), up(appliance.CaseLevelVillage)}, []string{V, V, V}, Tl, T},
		"dispatched": {[]appliance.CaseStep{reg(G), up(G), up(appliance.CaseLevelVillage), step("dispatch", Tl, nil)}, []string{V, V, V, T}, Tl, T},
	}
	for name, st := range states {
		c := run(t, st.steps, st.roles)
		allowed := appliance.CaseActionsAllowed(c, st.level)
		for _, a := range appliance.CaseActions[1:] {
			s := step(a, st.level, nil)
			if a == appliance.CaseReturn {
				s.To = G
			}
			m := at
			m.NodeRole = st.role
			_, err := appliance.NextCase(c, s, m)
			want := false
			for _, x := range allowed {
				want = want || x == a
			}
			if got := err == nil; got != want {
				t.Errorf("%s: %s accepted=%v, want %v (%v)", name, a, got, want, err)
			}
			if err != nil && appliance.ErrorCode(err) == appliance.EINTERNAL {
				t.Errorf("%s: %s: internal error %v", name, a, err)
			}
		}
	}
}
