package bolt

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"gridbox/appliance"
)

// relayDrafts computes, on a town node, the relays still missing for case
// id (see appliance.KindCaseRelay): up, the steps of a case that reached
// the city, for the town's upward feed (public part only: no sealed part,
// no household or person id; the city's own steps are not sent back); down,
// the city's steps on a village's case, for that village's downward feed.
func (cs *Cases) relayDrafts(tx *Tx, id string, upFeed appliance.FeedID) (up, down []appliance.Draft, child string, err error) {
	c, err := tx.Case(id)
	if err != nil || c.TopLevel != appliance.CaseLevelCity {
		return nil, nil, "", nil
	}
	child = cs.ChildFor(c)
	var downFeed appliance.FeedID
	if child != "" {
		if downFeed, err = cs.Store.DownFeed(child); err != nil {
			return nil, nil, "", err
		}
	}
	entries, err := tx.ObjectEntries("case/" + id)
	if err != nil {
		return nil, nil, "", err
	}
	type ref struct {
		feed string
		seq  uint64
	}
	sentUp, sentDown := map[ref]bool{}, map[ref]bool{}
	for _, e := range entries {
		if e.Kind != appliance.KindCaseRelay {
			continue
		}
		var r appliance.CaseRelay
		if json.Unmarshal(e.Body, &r) != nil {
			continue
		}
		switch e.Feed {
		case upFeed:
			sentUp[ref{r.Feed, r.Seq}] = true
		case downFeed:
			sentDown[ref{r.Feed, r.Seq}] = true
		}
	}
	roles := map[appliance.FeedID]string{}
	for _, e := range entries {
		if e.Kind == appliance.KindCaseRelay {
			continue
		}
		role, ok := roles[e.Feed]
		if !ok {
			role, _ = feedRoleOf(tx, e.Feed)
			roles[e.Feed] = role
		}
		var st appliance.CaseStep
		if role == "" || json.Unmarshal(e.Body, &st) != nil {
			continue
		}
		r := appliance.CaseRelay{Feed: e.Feed.String(), Seq: e.Seq, At: e.Time.Time(), Role: role, Author: e.Author}
		k := ref{r.Feed, r.Seq}
		if role == appliance.NodeCity {
			if child != "" && !sentDown[k] {
				r.Step = st
				down = append(down, appliance.Draft{Author: e.Author, Kind: appliance.KindCaseRelay, Version: 1, Body: r})
			}
			continue
		}
		if !sentUp[k] {
			st.Household, st.Person = "", ""
			r.Step = st
			up = append(up, appliance.Draft{Author: e.Author, Kind: appliance.KindCaseRelay, Version: 1, Body: r})
		}
	}
	return up, down, child, nil
}

// Relay writes, on a town node, the relays missing for case id: up to the
// city (Store.WriteUp) and the city's decisions down to the village
// (Store.WriteDown). It writes nothing for a case that never reached the
// city, nor on other nodes, nor twice.
func (cs *Cases) Relay(ctx context.Context, id string) error {
	if cs.Config.Node.Role != appliance.NodeTown {
		return nil
	}
	upFeed, err := cs.Store.UpFeed()
	if err != nil {
		return err
	}
	var up, down []appliance.Draft
	var child string
	if err := cs.Store.Read(func(tx *Tx) error {
		var err error
		up, down, child, err = cs.relayDrafts(tx, id, upFeed)
		return err
	}); err != nil {
		return err
	}
	if len(up) > 0 {
		if _, err := cs.Store.WriteUp(ctx, func(tx *Tx) ([]appliance.Draft, error) {
			up, _, _, err := cs.relayDrafts(tx, id, upFeed)
			return up, err
		}); err != nil {
			return err
		}
	}
	if len(down) > 0 {
		if _, err := cs.Store.WriteDown(ctx, child, func(tx *Tx) ([]appliance.Draft, error) {
			_, down, c2, err := cs.relayDrafts(tx, id, upFeed)
			if c2 != child {
				return nil, nil
			}
			return down, err
		}); err != nil {
			return err
		}
	}
	return nil
}

// RelayAll runs Relay for every case that reached the city.
func (cs *Cases) RelayAll(ctx context.Context) error {
	if cs.Config.Node.Role != appliance.NodeTown {
		return nil
	}
	var ids []string
	if err := cs.Store.Read(func(tx *Tx) error {
		return tx.Bucket(bucketCaseCity).ForEach(func(k, _ []byte) error {
			ids = append(ids, string(k))
			return nil
		})
	}); err != nil {
		return err
	}
	for _, id := range ids {
		if err := cs.Relay(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// RunRelay keeps relaying on a town node until ctx ends: a second after
// commits that carry case entries (a village's note on a case at the city,
// the city's decisions arriving on its downward feed), and every ten
// minutes anyway; at most hourly it also sends the town's statistics up
// (SendStatsUp).
func (cs *Cases) RunRelay(ctx context.Context) {
	if cs.Config.Node.Role != appliance.NodeTown {
		return
	}
	kick := make(chan struct{}, 1)
	cs.Store.OnCommit(func(es []*appliance.Entry) {
		for _, e := range es {
			if appliance.CaseActionOf(e.Kind) != "" {
				select {
				case kick <- struct{}{}:
				default:
				}
				return
			}
		}
	})
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	var statsSent time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		case <-t.C:
		}
		if err := cs.RelayAll(ctx); err != nil && ctx.Err() == nil {
			slog.Error("case relay", "err", err)
		}
		if time.Since(statsSent) >= time.Hour {
			if _, err := cs.SendStatsUp(ctx, cs.Now()); err != nil && ctx.Err() == nil {
				slog.Error("town statistics up", "err", err)
			} else {
				statsSent = time.Now()
			}
		}
	}
}

// bucketTownStats keeps, on a city (and on the town itself), the latest
// statistics each town sent up: town code → TownStats (LWW).
const bucketTownStats = "v_town_stats"

type townStatsView struct{}

func (townStatsView) Name() string      { return "town_stats" }
func (townStatsView) Buckets() []string { return []string{bucketTownStats} }

func init() { RegisterView(townStatsView{}) }

func (townStatsView) Apply(tx *Tx, e *appliance.Entry) error {
	if e.Kind != appliance.KindTownStats {
		return nil
	}
	var s appliance.TownStats
	if !decodeOK(e, &s) {
		return nil
	}
	_, err := tx.PutLWW(bucketTownStats, s.Town, e, e.Body)
	return err
}

// SendStatsUp writes, on a town node, the statistics of all the cases it
// holds (period all) on its upward feed for the city, unless they equal
// the last ones sent. It reports whether it wrote.
func (cs *Cases) SendStatsUp(ctx context.Context, now time.Time) (bool, error) {
	node := cs.Config.Node
	if node.Role != appliance.NodeTown {
		return false, nil
	}
	st, err := cs.Stats(CaseStatsFilter{Period: "all"}, now)
	if err != nil {
		return false, err
	}
	body := appliance.TownStats{Town: node.Code, Name: node.Name, Day: now.In(cs.Loc).Format("2006-01-02"), Stats: st}
	same := func(a, b appliance.CaseStats) bool {
		a.From, a.To, b.From, b.To = "", "", "", ""
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		return string(ja) == string(jb)
	}
	wrote := false
	_, err = cs.Store.WriteUp(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		var old appliance.TownStats
		if ok, err := tx.LWWJSON(bucketTownStats, node.Code, &old); err != nil {
			return nil, err
		} else if ok && same(old.Stats, st) {
			return nil, nil
		}
		wrote = true
		return []appliance.Draft{{Kind: appliance.KindTownStats, Version: 1, Body: body}}, nil
	})
	return wrote, err
}

// TownReports returns the latest statistics each town sent up, by code.
func (cs *Cases) TownReports() ([]appliance.TownStats, error) {
	var out []appliance.TownStats
	err := cs.Store.Read(func(tx *Tx) error {
		return tx.EachLWW(bucketTownStats, "", func(_ string, v []byte) error {
			var s appliance.TownStats
			if err := json.Unmarshal(v, &s); err != nil {
				return err
			}
			out = append(out, s)
			return nil
		})
	})
	return out, err
}
