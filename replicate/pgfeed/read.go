// Package pgfeed streams a node's ledger, de-identified, into a database
// that speaks the PostgreSQL protocol (PostgreSQL, Citus, openGauss,
// KingbaseES, PolarDB): cases, their steps, the towns' statistics per
// period and household counts per group, with SQL views that give the
// node's own statistics. docs/replication.md, "Into PostgreSQL".
//
// The node side (Read) turns the entries after a position into rows; only
// what the rows carry leaves the node: no names, ID numbers, phones,
// addresses, household or person ids, and no free text (descriptions,
// results, notes), which may hold any of these. The database side (Sink)
// writes one batch and the new position in one transaction.
package pgfeed

import (
	"sort"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

// Position is how far a feed of the ledger has been fed.
type Position struct {
	Feed string `json:"feed"` // hex
	Seq  uint64 `json:"seq"`
}

// Batch is what one transaction writes: the rows of every object the
// batch's entries touched, as the node holds them now, and the positions
// after it.
type Batch struct {
	Source     string         `json:"source"` // the feeding node's key (hex)
	Node       appliance.Node `json:"node"`
	Positions  []Position     `json:"positions"` // feeds that moved
	Entries    int            `json:"entries"`   // entries covered
	More       bool           `json:"more"`      // entries remain after this batch
	Cases      []CaseRow      `json:"cases,omitempty"`
	Steps      []StepRow      `json:"steps,omitempty"`
	Places     []PlaceRow     `json:"places,omitempty"`
	Households []HouseholdRow `json:"households,omitempty"`
	Periods    []PeriodRow    `json:"periods,omitempty"`
}

// CaseRow is a case without its people and words: where, what kind, how
// it stands. Its key is the receipt code, a random case number that opens
// nothing without the reporter's PIN.
type CaseRow struct {
	ID            string     `json:"id"`
	Town          string     `json:"town"`
	Village       string     `json:"village"`
	Group         string     `json:"group"`
	Category      string     `json:"category"`
	Subcategory   string     `json:"subcategory"`
	Source        string     `json:"source"`
	Origin        string     `json:"origin"`
	Level         string     `json:"level"`
	Status        string     `json:"status"`
	TopLevel      string     `json:"top_level"`
	ResolvedLevel string     `json:"resolved_level"`
	ResolvedLate  bool       `json:"resolved_late"`
	Escalations   int        `json:"escalations"`
	Reopened      int        `json:"reopened"`
	Meetings      int        `json:"meetings"`
	Milestones    int        `json:"milestones"`
	Rating        string     `json:"rating"`
	Departments   []string   `json:"departments"`   // handling it now
	DispatchedTo  []string   `json:"dispatched_to"` // ever, steps that took effect
	Due           string     `json:"due"`
	Reported      time.Time  `json:"reported"`
	ReportedDay   string     `json:"reported_day"`
	ResolvedAt    *time.Time `json:"resolved_at,omitempty"`
	ResolvedDay   string     `json:"resolved_day"`
	MinutesToDone int64      `json:"minutes_to_resolve"` // as the node counts it: whole minutes, 0 unless done
	Updated       time.Time  `json:"updated"`
}

// StepRow is one step of a case without its text, assignee, attendees or
// author. Its key is the entry that carried it (feed, seq): a step relayed
// to a city keeps its original's.
type StepRow struct {
	Case        string    `json:"case"`
	Feed        string    `json:"feed"`
	Seq         uint64    `json:"seq"`
	N           int       `json:"n"` // place in the case's history
	Action      string    `json:"action"`
	By          string    `json:"by"`
	From        string    `json:"from"`
	To          string    `json:"to"`
	Day         string    `json:"day"`
	At          time.Time `json:"at"`
	Departments []string  `json:"departments"`
	Due         string    `json:"due"`
	Rating      string    `json:"rating"`
	How         string    `json:"how"`
	Outcome     string    `json:"outcome"`
	Effective   bool      `json:"effective"` // false: refused by the state machine where it was folded
}

// PlaceRow is a grid: town, village or group, with its name.
type PlaceRow struct {
	Code   string `json:"code"`
	Level  int    `json:"level"`
	Name   string `json:"name"`
	Parent string `json:"parent"`
	Kind   string `json:"kind"`
}

// HouseholdRow counts a group's households and people. The sensitive
// counts the node keeps (dibao, key persons, disability, living alone)
// stay behind: in a group of a few dozen households a count of one names
// someone.
type HouseholdRow struct {
	Group      string `json:"group"`
	Village    string `json:"village"`
	Households int64  `json:"households"`
	People     int64  `json:"people"`
	Away       int64  `json:"away"` // working away (外出务工)
}

// PeriodRow is a town's statistics of one period as it reported them to
// its city (stats.town, stats.town.period entries): counts and place
// names only.
type PeriodRow struct {
	Town   string              `json:"town"`
	Name   string              `json:"name"`
	Period string              `json:"period"` // all, week, month, quarter, year
	From   string              `json:"from"`   // "" for all
	To     string              `json:"to"`
	AsOf   string              `json:"as_of"`
	Stats  appliance.CaseStats `json:"stats"`
}

// Read returns the batch of up to limit entries after pos (feed hex →
// seq), in feed order, with the rows of what they touched. A batch with no
// entries means everything held has been fed.
func Read(cs *bolt.Cases, pos map[string]uint64, limit int) (*Batch, error) {
	s := cs.Store
	node, err := s.Node()
	if err != nil {
		return nil, err
	}
	b := &Batch{Source: s.Feed().String(), Node: node}
	heads, err := s.Heads()
	if err != nil {
		return nil, err
	}
	cases := map[string]bool{}
	var places, households, periods bool
	for _, h := range heads {
		feed := h.Feed.String()
		at := pos[feed]
		if h.Seq <= at {
			continue
		}
		if b.Entries >= limit {
			b.More = true
			break
		}
		es, err := s.Entries(h.Feed, at+1, limit-b.Entries)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			switch {
			case appliance.CaseActionOf(e.Kind) != "":
				var st appliance.CaseStep
				if e.DecodeBody(&st) == nil && st.Case != "" {
					cases[st.Case] = true
				}
			case e.Kind == appliance.KindCaseRelay:
				var r appliance.CaseRelay
				if e.DecodeBody(&r) == nil && r.Step.Case != "" {
					cases[r.Step.Case] = true
				}
			case e.Kind == appliance.KindGridSet:
				places = true
			case e.Kind == appliance.KindArchiveChange:
				households = true
			case e.Kind == appliance.KindTownStats || e.Kind == appliance.KindTownPeriodStats:
				periods = true
			}
		}
		if len(es) > 0 {
			b.Entries += len(es)
			b.Positions = append(b.Positions, Position{Feed: feed, Seq: es[len(es)-1].Seq})
			if es[len(es)-1].Seq < h.Seq {
				b.More = true
			}
		}
	}
	if err := b.addCases(s, cases); err != nil {
		return nil, err
	}
	if places {
		gs, err := s.FindGrids(appliance.GridFilter{})
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			b.Places = append(b.Places, PlaceRow{Code: g.Code, Level: g.Level, Name: g.Name, Parent: g.Parent, Kind: g.Kind})
		}
	}
	if households {
		gs, err := s.ArchiveStats("", time.Now())
		if err != nil {
			return nil, err
		}
		for _, g := range gs {
			b.Households = append(b.Households, HouseholdRow{Group: g.Group, Village: villageOf(g.Group), Households: g.Households, People: g.People, Away: g.Away})
		}
	}
	if periods {
		if b.Periods, err = periodRows(cs); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// villageOf is the village of a group code (village code "-" number).
func villageOf(group string) string {
	if len(group) > 12 {
		return group[:12]
	}
	return group
}

// addCases adds the rows of the touched cases, in one read of the views.
// A step whose case the node does not hold (its registration has not
// arrived) is fed when the registration is.
func (b *Batch) addCases(s *bolt.Store, touched map[string]bool) error {
	ids := make([]string, 0, len(touched))
	for id := range touched {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return s.Read(func(tx *bolt.Tx) error {
		for _, id := range ids {
			c, err := tx.Case(id)
			if appliance.ErrorCode(err) == appliance.ENOTFOUND {
				continue
			} else if err != nil {
				return err
			}
			b.Cases = append(b.Cases, caseRow(c))
			for i, e := range c.Steps {
				b.Steps = append(b.Steps, StepRow{
					Case: c.ID, Feed: e.Feed, Seq: e.Seq, N: i, Action: e.Action, By: e.By, From: e.From, To: e.To,
					Day: e.Day, At: e.At, Departments: nonNil(e.Departments), Due: e.Due, Rating: e.Rating, How: e.How,
					Outcome: e.Outcome, Effective: e.Void == "",
				})
			}
		}
		return nil
	})
}

func caseRow(c *appliance.Case) CaseRow {
	r := CaseRow{
		ID: c.ID, Town: appliance.TownOf(c.Village), Village: c.Village, Group: c.Group, Category: c.Category,
		Subcategory: c.Subcategory, Source: c.Source, Origin: c.Origin, Level: c.Level, Status: c.Status,
		TopLevel: c.TopLevel, ResolvedLevel: c.ResolvedLevel, ResolvedLate: c.ResolvedLate, Escalations: c.Escalations,
		Reopened: c.Reopened, Meetings: c.Meetings, Milestones: c.Milestones, Rating: c.Rating,
		Departments: nonNil(c.Departments), DispatchedTo: nonNil(appliance.DispatchedTo(c)), Due: c.Due,
		Reported: c.Reported, ReportedDay: c.ReportedDay, ResolvedDay: c.ResolvedDay, Updated: c.Updated,
	}
	if !c.ResolvedAt.IsZero() {
		t := c.ResolvedAt
		r.ResolvedAt = &t
	}
	if appliance.CaseDone(c.Status) {
		// appliance.CaseContributions' ttr_min, to the minute.
		if m := int64(c.ResolvedAt.Sub(c.Reported) / time.Minute); m > 0 {
			r.MinutesToDone = m
		}
	}
	return r
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// periodRows are the latest statistics of every town and period held.
func periodRows(cs *bolt.Cases) ([]PeriodRow, error) {
	var out []PeriodRow
	add := func(period string, ts []appliance.TownStats) {
		for _, t := range ts {
			out = append(out, PeriodRow{Town: t.Town, Name: t.Name, Period: period, From: t.Stats.From, To: t.Stats.To, AsOf: t.Day, Stats: t.Stats})
		}
	}
	all, err := cs.TownReports()
	if err != nil {
		return nil, err
	}
	add("all", all)
	for _, p := range appliance.ReportPeriods {
		starts, err := cs.TownReportStarts(p)
		if err != nil {
			return nil, err
		}
		for _, from := range starts {
			ts, err := cs.TownPeriodReports(p, from)
			if err != nil {
				return nil, err
			}
			add(p, ts)
		}
	}
	return out, nil
}
