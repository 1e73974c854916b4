package bolt

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"gridbox/appliance"
)

// Work teams (docs/week.md, "Work teams"): the team of each village, its
// days in the village, its journals; and the duty lists for the wall.
const (
	bucketTeams     = "v_teams"      // village → WorkTeam (LWW); a town's assignment comes down (down_copy.go)
	bucketTeamSigns = "v_team_signs" // village "/" date "/" member → TeamSign (first)
	bucketJournals  = "v_journals"   // village "/" date "/" id → Journal (LWW)
	bucketRuleLists = "v_rule_lists" // grid "/" id → RuleList (LWW)
)

type teamView struct{}

func (teamView) Name() string { return "teams" }
func (teamView) Buckets() []string {
	return []string{bucketTeams, bucketTeamSigns, bucketJournals, bucketRuleLists}
}

func (teamView) Apply(tx *Tx, e *appliance.Entry) error {
	switch e.Kind {
	case appliance.KindTeamSet:
		return putLWWAs(tx, e, bucketTeams, func(w *appliance.WorkTeam) string { return w.Village })
	case appliance.KindTeamSign:
		var s appliance.TeamSign
		if !decodeOK(e, &s) {
			return nil
		}
		// The first sign-in of the day by HLC stands, whatever the order.
		_, err := tx.PutLWW(bucketTeamSigns, s.Village+"/"+s.Date+"/"+s.Member, &appliance.Entry{Time: ^e.Time, Feed: e.Feed, Seq: ^e.Seq}, e.Body)
		return err
	case appliance.KindJournalAdd:
		return putLWWAs(tx, e, bucketJournals, func(j *appliance.Journal) string { return j.Village + "/" + j.Date + "/" + j.ID })
	case appliance.KindRulesSet:
		return putLWWAs(tx, e, bucketRuleLists, func(r *appliance.RuleList) string { return r.Grid + "/" + r.ID })
	}
	return nil
}

func init() { RegisterView(teamView{}) }

// SetTeam sets a village's work team (on a town: the team it sends to
// that village, which goes down to it).
func (s *Store) SetTeam(ctx context.Context, author string, w appliance.WorkTeam) error {
	for i := range w.Members {
		m := &w.Members[i]
		m.Name, m.Unit, m.Phone = strings.TrimSpace(m.Name), strings.TrimSpace(m.Unit), appliance.NormalizePhone(m.Phone)
		if m.ID == "" {
			m.ID = s.NewRecordID("p")
		}
	}
	if err := w.Validate(); err != nil {
		return err
	}
	_, err := s.Append(ctx, appliance.Draft{Author: author, Kind: appliance.KindTeamSet, Version: 1, Body: w})
	return err
}

// Team returns a village's work team; ENOTFOUND when it has none.
func (s *Store) Team(village string) (appliance.WorkTeam, error) {
	return lwwOne[appliance.WorkTeam](s, bucketTeams, village, "本村还没有登记群众工作队")
}

// SignTeam records a member's day in the village; once a day.
func (s *Store) SignTeam(ctx context.Context, author string, sg appliance.TeamSign) error {
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		var w appliance.WorkTeam
		if ok, err := tx.LWWJSON(bucketTeams, sg.Village, &w); err != nil {
			return nil, err
		} else if !ok {
			return nil, appliance.Errorf(appliance.ENOTFOUND, "本村还没有登记群众工作队")
		}
		m, ok := w.Member(sg.Member)
		if !ok {
			return nil, appliance.FieldError("member", "请选择队员")
		}
		sg.Name = m.Name
		if err := sg.Validate(); err != nil {
			return nil, err
		}
		if tx.GetLWW(bucketTeamSigns, sg.Village+"/"+sg.Date+"/"+sg.Member) != nil {
			return nil, appliance.Errorf(appliance.ECONFLICT, "%s 今天已经签到", m.Name)
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindTeamSign, Version: 1, Body: sg}}, nil
	})
	return err
}

// TeamDays counts each member's days in the village from from to to
// (inclusive), by member id.
func (s *Store) TeamDays(village, from, to string) (map[string]int, error) {
	out := map[string]int{}
	err := s.Read(func(tx *Tx) error {
		return tx.EachLWW(bucketTeamSigns, village+"/", func(k string, v []byte) error {
			var sg appliance.TeamSign
			if err := json.Unmarshal(v, &sg); err != nil {
				return err
			}
			if sg.Date >= from && sg.Date <= to {
				out[sg.Member]++
			}
			return nil
		})
	})
	return out, err
}

// AddJournal adds an entry to a member's work journal.
func (s *Store) AddJournal(ctx context.Context, author string, j appliance.Journal) (appliance.Journal, error) {
	if j.ID == "" {
		j.ID = s.NewRecordID("j")
	}
	j.Text = strings.TrimSpace(j.Text)
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		var w appliance.WorkTeam
		if ok, err := tx.LWWJSON(bucketTeams, j.Village, &w); err != nil {
			return nil, err
		} else if !ok {
			return nil, appliance.Errorf(appliance.ENOTFOUND, "本村还没有登记群众工作队")
		}
		m, ok := w.Member(j.Member)
		if !ok {
			return nil, appliance.FieldError("member", "请选择队员")
		}
		j.Name = m.Name
		if err := j.Validate(); err != nil {
			return nil, err
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindJournalAdd, Version: 1, Body: j}}, nil
	})
	return j, err
}

// Journals returns a village's journal entries (of one member, or all
// when member is ""), oldest first.
func (s *Store) Journals(village, member string) ([]appliance.Journal, error) {
	var out []appliance.Journal
	err := s.Read(func(tx *Tx) error {
		return tx.EachLWW(bucketJournals, village+"/", func(_ string, v []byte) error {
			var j appliance.Journal
			if err := json.Unmarshal(v, &j); err != nil {
				return err
			}
			if member == "" || j.Member == member {
				out = append(out, j)
			}
			return nil
		})
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Date < out[j].Date })
	return out, err
}

// SetRules changes one of the duty lists of grid.
func (s *Store) SetRules(ctx context.Context, author string, r appliance.RuleList) error {
	if err := r.Validate(); err != nil {
		return err
	}
	_, err := s.Append(ctx, appliance.Draft{Author: author, Kind: appliance.KindRulesSet, Version: 1, Body: r})
	return err
}

// Rules returns grid's duty lists, the defaults where never edited, in
// appliance.RuleListIDs order.
func (s *Store) Rules(grid string) ([]appliance.RuleList, error) {
	var out []appliance.RuleList
	err := s.Read(func(tx *Tx) error {
		for _, id := range appliance.RuleListIDs {
			r := appliance.DefaultRules[id]
			r.Grid = grid
			if _, err := tx.LWWJSON(bucketRuleLists, grid+"/"+id, &r); err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}
