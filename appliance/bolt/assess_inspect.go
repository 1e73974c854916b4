package bolt

import (
	"context"
	"crypto/rand"
	"encoding/binary"
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
		dispatched, resolved := false, false
		for _, st := range c.Steps {
			if st.Void != "" || st.By != appliance.CaseLevelTown {
				continue
			}
			dispatched = dispatched || st.Action == appliance.CaseDispatch && slices.Contains(st.Departments, r.Department)
			resolved = resolved || st.Action == appliance.CaseResolve
		}
		if !dispatched {
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
