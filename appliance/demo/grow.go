package demo

import (
	"context"
	"fmt"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// GrowVillage makes a demo village in dir whose own feed then grows with
// cases to at least entries entries: perDay cases a day (registered; 70 %
// resolved at the group, 10 % escalated to the village), from as many days
// ago as that takes until now, written day by day without fsync. For
// benchmarks of what a year of a village weighs (the feed into
// PostgreSQL, a town's fan-in); the demo's own month comes first.
func GrowVillage(ctx context.Context, dir string, opts Options, entries, perDay int) error {
	days := entries/(perDay*18/10) + 2 // ≈ 1.8 entries a case
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	opts.Now = now.AddDate(0, 0, -days-1)
	v, _, err := Generate(ctx, dir, opts)
	if err != nil {
		return err
	}
	sim := v.End
	clock := &appliance.Clock{Now: func() time.Time { return sim }}
	s, cfg, err := bolt.OpenDataDir(dir, &bolt.Options{NoSync: true, Clock: clock})
	if err != nil {
		return err
	}
	defer s.Close()
	cs, err := bolt.NewCases(s, cfg)
	if err != nil {
		return err
	}
	cs.Now = func() time.Time { return sim }
	lead := v.Users[appliance.RoleVillageLead].ID
	levels := []string{appliance.CaseLevelGroup, appliance.CaseLevelVillage}
	var cats []string
	for _, c := range cfg.Cases.Categories {
		cats = append(cats, c.Key)
	}
	feed := s.Feed()
	for i := 0; ; i++ {
		heads, err := s.Heads()
		if err != nil {
			return err
		}
		for _, h := range heads {
			if h.Feed == feed && int(h.Seq) >= entries {
				return nil
			}
		}
		sim = v.End.AddDate(0, 0, i).Add(time.Duration(i%8) * time.Hour)
		for n := 0; n < perDay; n += 500 {
			ins := make([]bolt.CaseIntake, min(500, perDay-n))
			for k := range ins {
				j := i*perDay + n + k
				ins[k] = bolt.CaseIntake{Category: cats[j%len(cats)], Source: appliance.CaseSources[j%5],
					Group: v.Groups[j%len(v.Groups)].Code, Description: fmt.Sprintf("基准测试问题第%d件", j+1)}
			}
			rs, err := cs.RegisterMany(ctx, lead, ins)
			if err != nil {
				return err
			}
			sim = sim.Add(time.Hour)
			var resolve, escalate []appliance.CaseStep
			for k, r := range rs {
				switch {
				case k%10 < 7:
					resolve = append(resolve, appliance.CaseStep{Case: r.Code, Action: appliance.CaseResolve, Text: "已办结"})
				case k%10 == 7:
					escalate = append(escalate, appliance.CaseStep{Case: r.Code, Action: appliance.CaseEscalate, Text: "需村里协调"})
				}
			}
			if err := cs.ActMany(ctx, lead, levels, resolve); err != nil {
				return err
			}
			if err := cs.ActMany(ctx, lead, levels, escalate); err != nil {
				return err
			}
		}
	}
}
