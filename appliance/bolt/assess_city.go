package bolt

import (
	"context"
	"encoding/json"
	"reflect"
	"time"

	"gridbox/appliance"
)

// Quarterly and yearly rankings at the city (docs/assessment.md, "At the
// city"): each town sends its villages' scores up; the city ranks them.
const bucketAssessTownScores = "v_assess_town_scores" // period id "|" town → TownScores (LWW), from towns' upward feeds

// applyTownScores folds a town's report, only from an upward feed (or the
// town's own writing of it): a village cannot speak for its town.
func applyTownScores(tx *Tx, e *appliance.Entry) error {
	var r appliance.TownScores
	if !decodeOK(e, &r) || !upFeed(tx, e.Feed) {
		return nil
	}
	_, err := tx.PutLWW(bucketAssessTownScores, r.Period.ID+"|"+r.Town, e, e.Body)
	return err
}

// SendScoresUp writes, on a town node, its villages' scores of the current
// quarter and year and of the ones before on its upward feed, each unless
// it equals what was last sent. It reports whether it wrote.
func (s *Store) SendScoresUp(ctx context.Context, now time.Time) (bool, error) {
	node, err := s.Node()
	if err != nil || node.Role != appliance.NodeTown {
		return false, err
	}
	today := now.Format(time.DateOnly)
	var reports []appliance.TownScores
	for _, kind := range appliance.CityPeriods {
		cur, err := appliance.PeriodOf(kind, today)
		if err != nil {
			return false, err
		}
		f, _ := time.Parse(time.DateOnly, cur.From)
		prev, err := appliance.PeriodOf(kind, f.AddDate(0, 0, -1).Format(time.DateOnly))
		if err != nil {
			return false, err
		}
		for _, p := range []appliance.Period{prev, cur} {
			scores, err := s.Scores(node.Code, p, today)
			if err != nil {
				return false, err
			}
			r := appliance.TownScores{Town: node.Code, Name: node.Name, Day: today, Period: p, Villages: []appliance.VillageScore{}}
			for _, sc := range scores {
				if sc.Subject == appliance.SubjectVillage {
					r.Villages = append(r.Villages, appliance.VillageScore{Code: sc.ID, Name: sc.Name, Total: sc.Total, Added: sc.Added, Deducted: sc.Deducted})
				}
			}
			reports = append(reports, r)
		}
	}
	wrote := false
	_, err = s.WriteUp(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		var drafts []appliance.Draft
		for _, r := range reports {
			var old appliance.TownScores
			if ok, err := tx.LWWJSON(bucketAssessTownScores, r.Period.ID+"|"+r.Town, &old); err != nil {
				return nil, err
			} else if ok && old.Name == r.Name && reflect.DeepEqual(old.Villages, r.Villages) {
				continue
			}
			drafts = append(drafts, appliance.Draft{Kind: appliance.KindTownScores, Version: 1, Body: r})
		}
		wrote = len(drafts) > 0
		return drafts, nil
	})
	return wrote, err
}

// TownScoreReports returns what each town sent up for period id, by town.
func (s *Store) TownScoreReports(period string) ([]appliance.TownScores, error) {
	var out []appliance.TownScores
	err := s.Read(func(tx *Tx) error {
		return tx.EachLWW(bucketAssessTownScores, period+"|", func(_ string, v []byte) error {
			var r appliance.TownScores
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}
