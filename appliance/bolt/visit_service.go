package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"gridbox/appliance"
)

// RecordVisit appends a visit or patrol. A finding to register as a case
// goes through Cases.RecordVisit, which creates both in one step.
func (s *Store) RecordVisit(ctx context.Context, author string, v appliance.Visit) (appliance.Visit, error) {
	if v.Category != "" {
		return v, appliance.FieldError("category", "登记为问题需要问题办理功能")
	}
	return s.recordVisit(ctx, author, v, nil)
}

// recordVisit appends a visit and, when finding is given, the drafts it
// returns for the visit (a case) in the same transaction.
func (s *Store) recordVisit(ctx context.Context, author string, v appliance.Visit, finding func(tx *Tx, v *appliance.Visit) ([]appliance.Draft, error)) (appliance.Visit, error) {
	if v.ID == "" {
		v.ID = s.NewRecordID("v")
	}
	v.Place = strings.TrimSpace(v.Place)
	if err := v.Validate(); err != nil {
		return v, err
	}
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		if v.Household != "" {
			h, ok, err := tx.Household(v.Household)
			if err != nil {
				return nil, err
			} else if !ok {
				return nil, appliance.FieldError("household", "走访的户不存在")
			}
			v.Group = h.Group
		}
		var more []appliance.Draft
		if finding != nil {
			var err error
			if more, err = finding(tx, &v); err != nil {
				return nil, err
			}
		}
		return append([]appliance.Draft{{Author: author, Kind: appliance.KindVisitAdd, Version: 1, Body: v}}, more...), nil
	})
	return v, err
}

// Visits returns a worker's visits from date from to date to (inclusive,
// YYYY-MM-DD), in time order.
func (s *Store) Visits(worker, from, to string) ([]appliance.Visit, error) {
	var out []appliance.Visit
	err := s.Read(func(tx *Tx) error {
		c := tx.Bucket(bucketVisits).Cursor()
		start, end := []byte(worker+"/"+from), []byte(worker+"/"+to+"\xff")
		for k, v := c.Seek(start); k != nil && bytes.Compare(k, end) <= 0; k, v = c.Next() {
			var vis appliance.Visit
			if err := json.Unmarshal(v, &vis); err != nil {
				return err
			}
			out = append(out, vis)
		}
		return nil
	})
	return out, err
}

// HouseholdVisits returns the visits to a household, newest first.
func (s *Store) HouseholdVisits(hid string, limit int) ([]appliance.Visit, error) {
	var out []appliance.Visit
	err := s.Read(func(tx *Tx) error {
		c := tx.Bucket(bucketVisitHH).Cursor()
		p := []byte(hid + "/")
		k, v := c.Seek(append(append([]byte(nil), p...), 0xff))
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, p) && (limit <= 0 || len(out) < limit); k, v = c.Prev() {
			rest := string(k[len(p):])
			i := strings.LastIndexByte(rest, '/')
			key := string(v) + "/" + rest[:i] + "/" + rest[i+1:]
			var vis appliance.Visit
			if ok, err := tx.GetJSON(bucketVisits, key, &vis); err != nil {
				return err
			} else if ok {
				out = append(out, vis)
			}
		}
		return nil
	})
	return out, err
}

// visitedBetween reports whether a household had a visit from..to (dates).
func (tx *Tx) visitedBetween(hid, from, to string) bool {
	k, _ := tx.Bucket(bucketVisitHH).Cursor().Seek([]byte(hid + "/" + from))
	return k != nil && bytes.Compare(k, []byte(hid+"/"+to+"\xff")) <= 0
}

// VisitCoverage applies the coverage rule to the groups in scope: which open
// households were not visited in the days days up to today (YYYY-MM-DD).
func (s *Store) VisitCoverage(scope, today string, days int) ([]appliance.Coverage, error) {
	t, err := time.Parse("2006-01-02", today)
	if err != nil {
		return nil, appliance.FieldError("date", "日期格式错误")
	}
	since := t.AddDate(0, 0, -(days - 1)).Format("2006-01-02")
	byGroup := map[string]*appliance.Coverage{}
	err = s.Read(func(tx *Tx) error {
		c := tx.Bucket(bucketHHGroup).Cursor()
		p := []byte(scope)
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			i := bytes.LastIndexByte(k, '/')
			group, hid := string(k[:i]), string(k[i+1:])
			cv := byGroup[group]
			if cv == nil {
				cv = &appliance.Coverage{Group: group}
				byGroup[group] = cv
			}
			cv.Households++
			if tx.visitedBetween(hid, since, today) {
				cv.Covered++
			} else {
				cv.Unvisited = append(cv.Unvisited, hid)
			}
		}
		return nil
	})
	var out []appliance.Coverage
	for _, cv := range byGroup {
		out = append(out, *cv)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return out, err
}

// VisitCounts returns how many visits a worker made on each day from..to.
func (s *Store) VisitCounts(worker, from, to string) (map[string]int, error) {
	out := map[string]int{}
	err := s.Read(func(tx *Tx) error {
		for d, n := range tx.Counters(bucketVisitDays, worker+"/") {
			if d >= from && d <= to {
				out[d] = int(n)
			}
		}
		return nil
	})
	return out, err
}

// WorkerProgress compares each grid leader's and worker's visits on the
// working days from..today with the daily target; isWorkday says which days
// count (nil: Monday to Friday).
func (s *Store) WorkerProgress(scope, from, today string, target int, isWorkday func(time.Time) bool) ([]appliance.WorkerProgress, error) {
	if isWorkday == nil {
		isWorkday = func(t time.Time) bool { return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday }
	}
	staff, err := s.FindStaff(appliance.StaffFilter{})
	if err != nil {
		return nil, err
	}
	t0, err1 := time.Parse("2006-01-02", from)
	t1, err2 := time.Parse("2006-01-02", today)
	if err1 != nil || err2 != nil {
		return nil, appliance.FieldError("date", "日期格式错误")
	}
	days := 0
	for d := t0; !d.After(t1); d = d.AddDate(0, 0, 1) {
		if isWorkday(d) {
			days++
		}
	}
	var out []appliance.WorkerProgress
	for _, m := range staff {
		if m.Duty != appliance.DutyGridLeader && m.Duty != appliance.DutyGridWorker || !appliance.InScope(scope, m.Grid) {
			continue
		}
		counts, err := s.VisitCounts(m.ID, from, today)
		if err != nil {
			return nil, err
		}
		wp := appliance.WorkerProgress{Staff: m, Today: counts[today], Days: days, Target: days * target}
		for _, n := range counts {
			wp.Visits += n
		}
		wp.Behind = wp.Visits < wp.Target
		out = append(out, wp)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Behind != out[j].Behind {
			return out[i].Behind
		}
		return out[i].Staff.Grid < out[j].Staff.Grid
	})
	return out, nil
}

// VisitDiary returns a worker's visit diary (民情日记) for from..to
// (inclusive, YYYY-MM-DD): the ordered visits with whom or where, ready for
// the print engine. loc is the display time zone.
func (s *Store) VisitDiary(worker, from, to string, loc *time.Location) (appliance.Diary, error) {
	m, err := s.Staff(worker)
	if err != nil {
		return appliance.Diary{}, err
	}
	vs, err := s.Visits(worker, from, to)
	if err != nil {
		return appliance.Diary{}, err
	}
	d := appliance.Diary{Worker: m.Name}
	d.From, _ = time.ParseInLocation("2006-01-02", from, loc)
	d.To, _ = time.ParseInLocation("2006-01-02", to, loc)
	err = s.Read(func(tx *Tx) error {
		if g, ok, _ := tx.Grid(m.Grid); ok {
			d.Group = g.Name
			if v, ok, _ := tx.Grid(g.Parent); ok {
				d.Village = v.Name
			}
			if g.Level == appliance.LevelVillage {
				d.Village, d.Group = g.Name, ""
			}
		}
		for _, v := range vs {
			at, _ := time.ParseInLocation("2006-01-02 15:04", v.Date+" "+v.Time, loc)
			who := v.Place
			if v.Household != "" {
				if h, ok, _ := tx.Household(v.Household); ok {
					who = headName(tx, h) + "户"
				}
			}
			d.Entries = append(d.Entries, appliance.DiaryEntry{Date: at, Kind: appliance.VisitKindLabels[v.Kind], Household: who, Content: v.Seen, Problems: v.Problems, Handling: v.FollowUp})
		}
		return nil
	})
	return d, err
}
