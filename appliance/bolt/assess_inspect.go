package bolt

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strings"

	"gridbox/appliance"
)

// PlanInspection records an inspection the town's group plans. A random
// one draws n of its pool — p.Grids when given, else every enrolled
// village (or every group of the town) — with seed (a fresh random one
// when nil), and records seed, pool and picks so the draw can be redone.
func (s *Store) PlanInspection(ctx context.Context, author string, p appliance.Inspection, n int, seed *uint64, today string) (appliance.Inspection, error) {
	node, err := s.Node()
	if err != nil {
		return p, err
	}
	p.Town, p.State, p.Topic, p.Note = appliance.TownOf(node.Code), appliance.InspectionPlanned, strings.TrimSpace(p.Topic), strings.TrimSpace(p.Note)
	if p.ID == "" {
		p.ID = s.NewRecordID("i")
	}
	if p.Date != "" && p.Date < today {
		return p, appliance.FieldError("date", "督查日期不能早于今天")
	}
	if p.Way == appliance.WayRandom {
		pool := slices.Clone(p.Grids)
		if len(pool) == 0 {
			if pool, err = s.inspectionPool(p.Town, p.Subject); err != nil {
				return p, err
			}
		}
		slices.Sort(pool)
		pool = slices.Compact(pool)
		if n < 1 || n > len(pool) {
			return p, appliance.FieldError("n", "抽取数量应在1到%d之间", len(pool))
		}
		var sd uint64
		if seed != nil {
			sd = *seed
		} else {
			var b [8]byte
			if _, err := rand.Read(b[:]); err != nil {
				return p, err
			}
			sd = binary.BigEndian.Uint64(b[:])
		}
		picked := appliance.DrawInspection(pool, n, sd)
		p.Draw = &appliance.Draw{Seed: appliance.SeedText(sd), Pool: pool, N: n, Picked: picked}
		p.Grids = picked
	} else {
		p.Draw = nil
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	if node.Role != appliance.NodeTown {
		return p, appliance.Errorf(appliance.EFORBIDDEN, "督查计划由乡镇督查指导组制定")
	}
	_, err = s.Append(ctx, appliance.Draft{Author: author, Kind: appliance.KindAssessPlan, Version: 1, Body: p})
	return p, err
}

// inspectionPool is what a random draw chooses from: the enrolled
// villages, or the groups of the town's villages.
func (s *Store) inspectionPool(town, subject string) ([]string, error) {
	var pool []string
	if subject == appliance.SubjectVillage {
		vs, err := s.EnrolledVillages()
		for _, v := range vs {
			pool = append(pool, v.Code)
		}
		return pool, err
	}
	err := s.Read(func(tx *Tx) error {
		gs, err := lwwList[appliance.Grid](tx, bucketGrids, town[:9])
		for _, g := range gs {
			if g.Level == appliance.LevelGroup {
				pool = append(pool, g.Code)
			}
		}
		return err
	})
	if err == nil && len(pool) == 0 {
		err = appliance.FieldError("grids", "没有可以抽取的对象")
	}
	return pool, err
}

// Inspections returns the town's planned inspections, by date.
func (s *Store) Inspections(town string) ([]appliance.Inspection, error) {
	var out []appliance.Inspection
	err := s.Read(func(tx *Tx) error {
		var err error
		out, err = lwwList[appliance.Inspection](tx, bucketAssessPlans, town+"/")
		return err
	})
	slices.SortStableFunc(out, func(a, b appliance.Inspection) int { return strings.Compare(a.Date, b.Date) })
	return out, err
}

// RateDepartment records the village's rating of a town department that
// handled one of its cases: the case must have been dispatched to it and
// resolved at the town. Once per case and department.
func (s *Store) RateDepartment(ctx context.Context, author string, r appliance.DeptRating) error {
	node, err := s.Node()
	if err != nil {
		return err
	}
	r.Village, r.Department, r.Text, r.By = node.Code, strings.TrimSpace(r.Department), strings.TrimSpace(r.Text), strings.TrimSpace(r.By)
	if err := r.Validate(); err != nil {
		return err
	}
	if node.Role != appliance.NodeVillage {
		return appliance.Errorf(appliance.EFORBIDDEN, "职能部门由村里评议")
	}
	_, err = s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		var c appliance.Case
		if ok, err := tx.GetJSON(bucketCases, r.Case, &c); err != nil {
			return nil, err
		} else if !ok || c.Village != r.Village {
			return nil, appliance.FieldError("case", "本村没有这个问题")
		}
		depts, resolved := townHandled(&c)
		if !slices.Contains(depts, r.Department) {
			return nil, appliance.FieldError("department", "这个问题没有交办给%s", r.Department)
		}
		if !resolved {
			return nil, appliance.FieldError("case", "乡镇办结以后才能评议")
		}
		if tx.GetLWW(bucketAssessRatings, r.Key()) != nil {
			return nil, appliance.Errorf(appliance.ECONFLICT, "已经评议过%s办理的这个问题", r.Department)
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindDeptRating, Version: 1, Body: r}}, nil
	})
	return err
}

// townHandled lists the departments the town dispatched c to and whether
// the town resolved it: what a village may rate.
func townHandled(c *appliance.Case) (depts []string, resolved bool) {
	for _, st := range c.Steps {
		if st.Void != "" || st.By != appliance.CaseLevelTown {
			continue
		}
		if st.Action == appliance.CaseDispatch {
			for _, d := range st.Departments {
				if !slices.Contains(depts, d) {
					depts = append(depts, d)
				}
			}
		}
		resolved = resolved || st.Action == appliance.CaseResolve
	}
	return depts, resolved
}

// RatableCase is a case of the village the town's departments handled and
// resolved, with the village's rating of each department (nil: not yet).
type RatableCase struct {
	Case        string
	Description string
	Resolved    string // the day the town resolved it
	Departments []RatedDepartment
}

// RatedDepartment is a department that handled a case and the village's
// rating of it, nil while there is none.
type RatedDepartment struct {
	Department string
	Rating     *appliance.DeptRating
}

// RatableCases lists, newest resolved first, the village's cases that
// town departments handled and the town resolved: those the village rates
// (RateDepartment).
func (s *Store) RatableCases(village string) ([]RatableCase, error) {
	var out []RatableCase
	err := s.Read(func(tx *Tx) error {
		return tx.Bucket(bucketCases).ForEach(func(_, v []byte) error {
			var c appliance.Case
			if err := json.Unmarshal(v, &c); err != nil {
				return err
			}
			if c.Village != village {
				return nil
			}
			depts, resolved := townHandled(&c)
			if !resolved || len(depts) == 0 {
				return nil
			}
			rc := RatableCase{Case: c.ID, Description: c.Description, Resolved: c.ResolvedDay}
			for _, d := range depts {
				rd := RatedDepartment{Department: d}
				var r appliance.DeptRating
				if ok, err := tx.LWWJSON(bucketAssessRatings, village+"/"+c.ID+"/"+d, &r); err != nil {
					return err
				} else if ok {
					rd.Rating = &r
				}
				rc.Departments = append(rc.Departments, rd)
			}
			out = append(out, rc)
			return nil
		})
	})
	slices.SortStableFunc(out, func(a, b RatableCase) int { return strings.Compare(b.Resolved, a.Resolved) })
	return out, err
}

// DeptRatings returns the ratings given by villages whose code starts
// with prefix (a village, or a town's first 9 digits), newest first.
func (s *Store) DeptRatings(prefix string) ([]appliance.DeptRating, error) {
	var out []appliance.DeptRating
	err := s.Read(func(tx *Tx) error {
		var err error
		out, err = lwwList[appliance.DeptRating](tx, bucketAssessRatings, prefix)
		return err
	})
	slices.SortStableFunc(out, func(a, b appliance.DeptRating) int { return strings.Compare(b.Date, a.Date) })
	return out, err
}
