package bolt

import (
	"time"

	"gridbox/appliance"
)

// CaseWork is what one account of this node did with cases from a day on:
// the cases it registered and the others it took a step on (handled,
// escalated, resolved, noted), each case counted once.
type CaseWork struct {
	Registered int
	Handled    int
	Open       int // of those registered, still open
}

// WorkBy counts the case work of accounts (user ids) of this node since
// since: a work-team member linked to a staff record with an account sees
// their cases counted as theirs (docs/week.md, "Work teams").
func (cs *Cases) WorkBy(accounts []string, since time.Time) (map[string]CaseWork, error) {
	want := map[string]bool{}
	for _, a := range accounts {
		if a != "" {
			want[a] = true
		}
	}
	out := map[string]CaseWork{}
	if len(want) == 0 {
		return out, nil
	}
	self := cs.Store.Feed().String()
	err := cs.Store.Read(func(tx *Tx) error {
		c := tx.Bucket(bucketCaseOrder).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			cc, err := tx.Case(string(k[8:]))
			if err != nil {
				return err
			}
			seen := map[string]bool{}
			for i, st := range cc.Steps {
				if st.Feed != self || !want[st.Author] || seen[st.Author] || st.At.Before(since) || st.Void != "" {
					continue
				}
				seen[st.Author] = true
				w := out[st.Author]
				if i == 0 && st.Action == appliance.CaseRegister {
					w.Registered++
					if appliance.CaseOpen(cc.Status) {
						w.Open++
					}
				} else {
					w.Handled++
				}
				out[st.Author] = w
			}
		}
		return nil
	})
	return out, err
}
