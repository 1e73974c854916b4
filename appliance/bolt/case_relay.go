package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
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
// minutes anyway; at most hourly it also sends the town's statistics and
// its villages' quarterly and yearly scores up (SendStatsUp, SendScoresUp).
func (cs *Cases) RunRelay(ctx context.Context) {
	if cs.Config.Node.Role != appliance.NodeTown {
		return
	}
	kick := cs.Store.Kicks(func(e *appliance.Entry) bool { return appliance.CaseActionOf(e.Kind) != "" })
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
			} else if _, err := cs.Store.SendScoresUp(ctx, cs.Now().In(cs.Loc)); err != nil && ctx.Err() == nil {
				slog.Error("town scores up", "err", err) // docs/assessment.md, "At the city"
			} else {
				statsSent = time.Now()
			}
		}
	}
}

// View buckets of the statistics towns send up: on a city (and on the town
// itself) the latest each town sent, all time and per period.
const (
	bucketTownStats       = "v_town_stats"        // town code → TownStats, period all (LWW)
	bucketTownPeriodStats = "v_town_period_stats" // period "|" first day "|" town → TownStats (LWW)
)

type townStatsView struct{}

func (townStatsView) Name() string      { return "town_stats" }
func (townStatsView) Buckets() []string { return []string{bucketTownStats, bucketTownPeriodStats} }

func init() { RegisterView(townStatsView{}) }

// periodStats decodes a KindTownPeriodStats body and checks its period.
type periodStats struct{ appliance.TownStats }

func (p *periodStats) Validate() error { return p.ValidatePeriod() }

func (townStatsView) Apply(tx *Tx, e *appliance.Entry) error {
	switch e.Kind {
	case appliance.KindTownStats:
		var s appliance.TownStats
		if !decodeOK(e, &s) {
			return nil
		}
		_, err := tx.PutLWW(bucketTownStats, s.Town, e, e.Body)
		return err
	case appliance.KindTownPeriodStats:
		var s periodStats
		if !decodeOK(e, &s) {
			return nil
		}
		_, err := tx.PutLWW(bucketTownPeriodStats, periodKey(s.Stats.Period, s.Stats.From, s.Town), e, e.Body)
		return err
	}
	return nil
}

func periodKey(period, from, town string) string { return period + "|" + from + "|" + town }

// SendStatsUp writes, on a town node, the statistics of the cases it holds
// on its upward feed for the city: all time (KindTownStats) and, per
// period of appliance.ReportPeriods, the current one and the one before
// (KindTownPeriodStats: a period that just ended gets its final figures
// once more), each unless it equals what was last sent, all in one
// transaction. Period snapshots leave out overdue and near counts, which
// are about the moment, not the period, and the breakdown by group (a
// town has 150 of them, in every period's snapshot). It reports whether it
// wrote.
func (cs *Cases) SendStatsUp(ctx context.Context, now time.Time) (bool, error) {
	node := cs.Config.Node
	if node.Role != appliance.NodeTown {
		return false, nil
	}
	day := now.In(cs.Loc).Format("2006-01-02")
	type snapshot struct {
		kind, bucket, key string
		body              appliance.TownStats
	}
	st, err := cs.Stats(CaseStatsFilter{Period: "all"}, now)
	if err != nil {
		return false, err
	}
	snaps := []snapshot{{appliance.KindTownStats, bucketTownStats, node.Code, appliance.TownStats{Town: node.Code, Name: node.Name, Day: day, Stats: st}}}
	for _, p := range appliance.ReportPeriods {
		first, _, err := appliance.RegisterSpan(p, day)
		if err != nil {
			return false, err
		}
		t, _ := time.Parse("2006-01-02", first)
		for _, date := range []string{t.AddDate(0, 0, -1).Format("2006-01-02"), day} {
			st, err := cs.Stats(CaseStatsFilter{Period: p, Date: date}, now)
			if err != nil {
				return false, err
			}
			// Not about the period (overdue, near), or too fine for a
			// city's comparison and repeated in every period (groups).
			st.Overdue, st.Near, st.ByGroup = 0, 0, nil
			snaps = append(snaps, snapshot{appliance.KindTownPeriodStats, bucketTownPeriodStats, periodKey(p, st.From, node.Code),
				appliance.TownStats{Town: node.Code, Name: node.Name, Day: day, Stats: st}})
		}
	}
	same := func(a, b appliance.CaseStats) bool {
		a.From, a.To, b.From, b.To = "", "", "", ""
		ja, _ := json.Marshal(a)
		jb, _ := json.Marshal(b)
		return string(ja) == string(jb)
	}
	wrote := false
	_, err = cs.Store.WriteUp(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		wrote = false
		var drafts []appliance.Draft
		for _, s := range snaps {
			var old appliance.TownStats
			if ok, err := tx.LWWJSON(s.bucket, s.key, &old); err != nil {
				return nil, err
			} else if ok && same(old.Stats, s.body.Stats) {
				continue
			}
			drafts = append(drafts, appliance.Draft{Kind: s.kind, Version: 1, Body: s.body})
		}
		wrote = len(drafts) > 0
		return drafts, nil
	})
	return wrote, err
}

// TownReports returns the latest statistics each town sent up, by code.
func (cs *Cases) TownReports() ([]appliance.TownStats, error) {
	return cs.townReports(bucketTownStats, "")
}

// TownPeriodReports returns the statistics each town sent up for one
// period: period is one of appliance.ReportPeriods (or "all": TownReports)
// and date any day in it. By town code.
func (cs *Cases) TownPeriodReports(period, date string) ([]appliance.TownStats, error) {
	if period == "all" {
		return cs.TownReports()
	}
	if !slices.Contains(appliance.ReportPeriods, period) {
		return nil, appliance.FieldError("period", "统计周期应为 本周、本月、本季度、本年 或 全部")
	}
	from, _, err := appliance.RegisterSpan(period, date)
	if err != nil {
		return nil, err
	}
	return cs.townReports(bucketTownPeriodStats, periodKey(period, from, ""))
}

func (cs *Cases) townReports(bucket, prefix string) ([]appliance.TownStats, error) {
	var out []appliance.TownStats
	err := cs.Store.Read(func(tx *Tx) error {
		return tx.EachLWW(bucket, prefix, func(_ string, v []byte) error {
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

// TownReportStarts returns the first days of the periods of a kind (week,
// month, quarter, year) any town has sent statistics for, newest first.
func (cs *Cases) TownReportStarts(period string) ([]string, error) {
	var out []string
	p := []byte(period + "|")
	err := cs.Store.Read(func(tx *Tx) error {
		c := tx.Bucket(bucketTownPeriodStats).Cursor()
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			from, _, _ := strings.Cut(string(k[len(p):]), "|")
			if len(out) == 0 || out[len(out)-1] != from {
				out = append(out, from)
			}
		}
		return nil
	})
	slices.Reverse(out)
	return out, err
}
