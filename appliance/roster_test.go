package appliance_test

import (
	"fmt"
	"strings"
	"testing"

	"gridbox/appliance"
)

func rotaPeople(n int) []appliance.StaffMember {
	var out []appliance.StaffMember
	for i := 0; i < n; i++ {
		out = append(out, appliance.StaffMember{ID: fmt.Sprintf("s%d", i+1), Name: fmt.Sprintf("值班员%c", 'A'+i), Phone: fmt.Sprintf("1380000000%d", i), Duty: appliance.DutyDutyStaff, Grid: "410184104201"})
	}
	return out
}

func names(r []appliance.DutyShift) []string {
	out := make([]string, len(r))
	for i, s := range r {
		out[i] = s.StaffID
	}
	return out
}

func TestGenerateRoster(t *testing.T) {
	leader := appliance.StaffMember{ID: "lead1", Name: "王队长", Phone: "13900000000", Duty: appliance.DutyMassWorkTeam, Grid: "410184104201"}
	count := func(r []appliance.DutyShift) map[string]int {
		m := map[string]int{}
		for _, s := range r {
			m[s.StaffID]++
		}
		return m
	}
	t.Run("ThirtyOneDays", func(t *testing.T) {
		r, err := appliance.GenerateRoster(appliance.RosterPlan{Grid: "410184104201", Month: "2026-12", People: rotaPeople(3)})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(r), 31; got != want {
			t.Fatalf("days=%d, want %d", got, want)
		}
		if r[0].Date != "2026-12-01" || r[30].Date != "2026-12-31" {
			t.Fatalf("first %s last %s", r[0].Date, r[30].Date)
		}
		// Round robin: 11, 10, 10.
		if c := count(r); c["s1"] != 11 || c["s2"] != 10 || c["s3"] != 10 {
			t.Fatalf("counts %v", c)
		}
		for i := 1; i < len(r); i++ {
			if r[i].StaffID == r[i-1].StaffID {
				t.Fatalf("%s and %s both %s", r[i-1].Date, r[i].Date, r[i].StaffID)
			}
		}
	})
	t.Run("February", func(t *testing.T) {
		for month, want := range map[string]int{"2026-02": 28, "2028-02": 29, "2100-02": 28} {
			r, err := appliance.GenerateRoster(appliance.RosterPlan{Grid: "410184104201", Month: month, People: rotaPeople(4), Start: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(r) != want || r[len(r)-1].Date != fmt.Sprintf("%s-%d", month, want) {
				t.Fatalf("%s: %d days, last %s", month, len(r), r[len(r)-1].Date)
			}
			if r[0].StaffID != "s3" {
				t.Fatalf("%s: starts with %s, want s3 (Start 2)", month, r[0].StaffID)
			}
		}
	})
	t.Run("Leave", func(t *testing.T) {
		leave := map[string][]string{"s1": {"2026-12-01", "2026-12-02", "2026-12-03", "2026-12-04"}}
		r, err := appliance.GenerateRoster(appliance.RosterPlan{Grid: "410184104201", Month: "2026-12", People: rotaPeople(3), Leave: leave})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range r[:4] {
			if s.StaffID == "s1" {
				t.Fatalf("s1 on duty on %s, on leave", s.Date)
			}
		}
		// Their turn waits: s1 has the first day back.
		if got := strings.Join(names(r[:6]), ","); got != "s2,s3,s2,s3,s1,s2" {
			t.Fatalf("first days %s", got)
		}
	})
	t.Run("EveryoneOnLeave", func(t *testing.T) {
		leave := map[string][]string{"s1": {"2026-12-09"}, "s2": {"2026-12-09"}}
		_, err := appliance.GenerateRoster(appliance.RosterPlan{Grid: "410184104201", Month: "2026-12", People: rotaPeople(2), Leave: leave})
		if appliance.ErrorField(err) != "leave" || !strings.Contains(appliance.ErrorMessage(err), "2026-12-09") {
			t.Fatalf("err=%v, want leave error naming the day", err)
		}
	})
	t.Run("LeaderDayAndFixed", func(t *testing.T) {
		fixed := map[string]string{"2026-12-24": "s2", "2026-12-25": "s2"}
		r, err := appliance.GenerateRoster(appliance.RosterPlan{Grid: "410184104201", Month: "2026-12", People: rotaPeople(3), Fixed: fixed, LeaderDay: 15, Leader: &leader})
		if err != nil {
			t.Fatal(err)
		}
		if r[14].StaffID != "lead1" || r[14].Name != "王队长" {
			t.Fatalf("15th: %+v", r[14])
		}
		if r[23].StaffID != "s2" || r[24].StaffID != "s2" {
			t.Fatalf("fixed days: %s %s", r[23].StaffID, r[24].StaffID)
		}
		// The 15th and the fixed days take no one's turn: the 14th and
		// 16th follow on in turn.
		if r[13].StaffID == r[15].StaffID {
			t.Fatalf("14th and 16th both %s", r[13].StaffID)
		}
		if c := count(r); c["lead1"] != 1 {
			t.Fatalf("leader %d days", c["lead1"])
		}
	})
	t.Run("LeaderOnLeave", func(t *testing.T) {
		r, err := appliance.GenerateRoster(appliance.RosterPlan{Grid: "410184104201", Month: "2026-12", People: rotaPeople(3), LeaderDay: 15, Leader: &leader,
			Leave: map[string][]string{"lead1": {"2026-12-15"}}})
		if err != nil {
			t.Fatal(err)
		}
		if r[14].StaffID == "lead1" {
			t.Fatal("leader on duty on leave")
		}
	})
	t.Run("LeaderDayBeyondMonth", func(t *testing.T) {
		r, err := appliance.GenerateRoster(appliance.RosterPlan{Grid: "410184104201", Month: "2026-02", People: rotaPeople(2), LeaderDay: 30, Leader: &leader})
		if err != nil || count(r)["lead1"] != 0 {
			t.Fatalf("err=%v leader days %d", err, count(r)["lead1"])
		}
	})
	t.Run("ErrFixedOnLeave", func(t *testing.T) {
		_, err := appliance.GenerateRoster(appliance.RosterPlan{Grid: "410184104201", Month: "2026-12", People: rotaPeople(2),
			Fixed: map[string]string{"2026-12-03": "s1"}, Leave: map[string][]string{"s1": {"2026-12-03"}}})
		if appliance.ErrorField(err) != "fixed" {
			t.Fatalf("err=%v", err)
		}
	})
	t.Run("ErrNoPeople", func(t *testing.T) {
		if _, err := appliance.GenerateRoster(appliance.RosterPlan{Grid: "410184104201", Month: "2026-12"}); appliance.ErrorField(err) != "people" {
			t.Fatalf("err=%v", err)
		}
	})
	t.Run("ErrBadMonth", func(t *testing.T) {
		for _, m := range []string{"2026-13", "12/2026", "", "2026-1"} {
			if _, err := appliance.GenerateRoster(appliance.RosterPlan{Grid: "x", Month: m, People: rotaPeople(1)}); appliance.ErrorField(err) != "month" {
				t.Fatalf("%q: err=%v", m, err)
			}
		}
	})
}

func TestParseDays(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		field    string
	}{
		{"3,4,10-12", "2026-02-03 2026-02-04 2026-02-10 2026-02-11 2026-02-12", ""},
		{"３、4号，10至11日", "2026-02-03 2026-02-04 2026-02-10 2026-02-11", ""}, // full-width, as input methods type
		{"4号，10至11日", "2026-02-04 2026-02-10 2026-02-11", ""},
		{"2026-02-05 5", "2026-02-05", ""},
		{"", "", ""},
		{"29", "", "leave"},
		{"2026-03-01", "", "leave"},
		{"5-3", "", "leave"},
	} {
		got, err := appliance.ParseDays("leave", "2026-02", tc.in)
		if tc.field != "" {
			if appliance.ErrorField(err) != tc.field {
				t.Errorf("%q: err=%v, want field %s", tc.in, err, tc.field)
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != tc.want {
			t.Errorf("%q: %v %v, want %s", tc.in, got, err, tc.want)
		}
	}
}
