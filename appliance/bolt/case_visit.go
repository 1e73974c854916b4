package bolt

import (
	"context"
	"fmt"
	"strings"

	"gridbox/appliance"
)

// RecordVisit appends a visit or patrol; when it names a category, its
// finding is registered as a case (source patrol, at the group level, linked
// to the household) in the same transaction, and the visit keeps the case's
// receipt code.
func (cs *Cases) RecordVisit(ctx context.Context, author string, v appliance.Visit) (appliance.Visit, error) {
	if v.Category == "" {
		return cs.Store.RecordVisit(ctx, author, v)
	}
	in, err := cs.checkIntake(CaseIntake{Category: v.Category, Description: strings.TrimSpace(v.Problems), Source: appliance.SourcePatrol,
		Group: v.Group, Household: v.Household}, cs.now())
	if err != nil {
		return v, err
	}
	return cs.Store.recordVisit(ctx, author, v, func(tx *Tx, v *appliance.Visit) ([]appliance.Draft, error) {
		// The group is known only now (from the household record).
		in.step.Group = v.Group
		if cs.Config.Node.Role == appliance.NodeVillage && v.Group != "" {
			in.step.By = appliance.CaseLevelGroup
			in.step.Due = cs.dueFor(in.cat.Key, in.step.By, cs.now())
		}
		for n := 0; ; n++ {
			in.step.Case = appliance.NewReceiptCode(cs.rand())
			if tx.Bucket(bucketCases).Get([]byte(in.step.Case)) == nil {
				break
			} else if n > 10 {
				return nil, fmt.Errorf("no free receipt code")
			}
		}
		if _, err := appliance.NextCase(nil, in.step, appliance.StepMeta{At: cs.now(), NodeRole: cs.Config.Node.Role}); err != nil {
			return nil, err
		}
		v.Case = in.step.Case
		return []appliance.Draft{{Author: author, Kind: appliance.CaseKind(appliance.CaseRegister), Version: 1, Body: in.step, Sealed: in.rep}}, nil
	})
}
