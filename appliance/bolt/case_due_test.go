package bolt_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
	"gridbox/appliance/demo"
)

// Open, near and overdue counts are the same whichever way they are
// taken — the counters of a place (statistics, dashboards), the cases read
// one by one (lists, "waiting for me") or a count of every case by hand —
// on the demo village and its town, the day before an open case's
// deadline, on the day and the day after.
func TestCaseCountsAgree(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	townDir, villageDir := filepath.Join(root, "town"), filepath.Join(root, "village")
	if _, _, err := demo.GenerateTown(ctx, townDir, demo.Options{}); err != nil {
		t.Fatal(err)
	}
	v, _, err := demo.Generate(ctx, villageDir, demo.Options{TownDir: townDir})
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{villageDir, townDir} {
		s, cfg, err := bolt.OpenDataDir(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		cs, err := bolt.NewCases(s, cfg)
		if err != nil {
			s.Close()
			t.Fatal(err)
		}
		all, _, err := cs.FindCases(bolt.CaseFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		due := ""
		for _, c := range all {
			if appliance.CaseOpen(c.Status) && c.Due != "" && (due == "" || c.Due > due) {
				due = c.Due // the latest deadline: all three times see changes
			}
		}
		if due == "" {
			t.Fatalf("%s: no open case with a deadline", cfg.Node.Name)
		}
		d, _ := time.ParseInLocation("2006-01-02", due, cfg.Location())
		areas := []string{"", v.Code, appliance.TownOf(v.Code)}
		for _, g := range v.Groups {
			areas = append(areas, g.Code)
		}
		for _, at := range []time.Time{d.AddDate(0, 0, -1).Add(10 * time.Hour), d.Add(10 * time.Hour), d.AddDate(0, 0, 1).Add(10 * time.Hour)} {
			clock := cs.DueClock(at)
			for _, area := range areas {
				var want appliance.CaseCounts
				for _, c := range all {
					if area == "" || c.Village == area || c.Group == area || appliance.TownOf(c.Village) == area {
						want.Add(clock, c)
					}
				}
				fast, err := cs.CountCases(bolt.CaseScope{Area: area}, at)
				if err != nil {
					t.Fatal(err)
				}
				list, slow, err := cs.OpenCases(bolt.CaseScope{Area: area, Levels: appliance.CaseLevels}, at, 0)
				if err != nil {
					t.Fatal(err)
				}
				// A dashboard's first three and a due list are the full
				// list's head and its near and overdue part, counted alike.
				head, headN, err := cs.OpenCases(bolt.CaseScope{Area: area}, at, 3)
				if err != nil {
					t.Fatal(err)
				}
				dueList, dueN, err := cs.OpenDueCases(bolt.CaseScope{Area: area}, at)
				if err != nil {
					t.Fatal(err)
				}
				if headN != want || dueN != want || len(head) != min(3, len(list)) || int64(len(dueList)) != want.Near+want.Overdue {
					t.Errorf("%s, area %q: first three %d (%+v), due list %d (%+v); by hand %+v", at.Format("2006-01-02"), area, len(head), headN, len(dueList), dueN, want)
				}
				for i := range head {
					if head[i].Case.ID != list[i].Case.ID || head[i].State != list[i].State || head[i].Days != list[i].Days {
						t.Errorf("area %q: the first three differ from the list's head at %d", area, i)
					}
				}
				for i, d := range dueList {
					if d.Case.ID != list[i].Case.ID || d.State == "" {
						t.Errorf("area %q: due list item %d is %s (%q), the list has %s", area, i, d.Case.ID, d.State, list[i].Case.ID)
					}
				}
				st, err := cs.Stats(bolt.CaseStatsFilter{Scope: area}, at)
				if err != nil {
					t.Fatal(err)
				}
				if fast != want || slow != want || int64(len(list)) != want.Open || st.Open != want.Open || st.Overdue != want.Overdue || st.Near != want.Near {
					t.Errorf("%s, %s, area %q: counters %+v, cases %+v (%d listed), statistics %d/%d/%d; by hand %+v",
						cfg.Node.Name, at.Format("2006-01-02"), area, fast, slow, len(list), st.Open, st.Near, st.Overdue, want)
				}
			}
			if at.Before(d) && clock.Of(due) != appliance.DueNear || at.After(d.Add(24*time.Hour)) && clock.Of(due) != appliance.DueOverdue {
				t.Errorf("%s: the case due %s is %q", at, due, clock.Of(due))
			}
		}
		s.Close()
	}
}
