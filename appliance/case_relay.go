package appliance

import "time"

// KindCaseRelay carries a copy of a case step that was signed on another
// feed, for a node that does not receive that feed:
//   - a town's upward feed relays to its city the steps of a case escalated
//     to the city (register, escalations, town steps: the public part, no
//     sealed part, no household or person ids);
//   - a town's downward feed for a village relays to the village the
//     city's steps on the village's case (they reach the town on the
//     city's downward feed for the town, which the village never receives).
//
// The fold applies a relayed step as if it were the original (its time,
// feed, seq and author, the role of the node that wrote it) unless the
// node holds the original, and only from a parent's downward or upward
// feed, whose writer the receiving node trusts already.
const KindCaseRelay = "case.relay"

// CaseRelay is the body of a KindCaseRelay entry.
type CaseRelay struct {
	Step   CaseStep  `json:"step"`
	Feed   string    `json:"feed"` // the original entry's feed (hex)
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`   // the original entry's HLC time
	Role   string    `json:"role"` // role of the node whose feed holds the original
	Author string    `json:"author,omitempty"`
}

// Validate checks the shape of a relay.
func (r *CaseRelay) Validate() error {
	if _, err := ParseFeedID(r.Feed); err != nil || r.Seq == 0 {
		return FieldError("feed", "转发记录的原记录格式错误")
	}
	switch r.Role {
	case NodeVillage, NodeTown, NodeCity:
	default:
		return FieldError("role", "转发记录的节点类型错误")
	}
	if CaseActionOf(CaseKind(r.Step.Action)) == "" || r.Step.Case == "" {
		return FieldError("step", "转发记录的问题步骤格式错误")
	}
	return nil
}

// KindTownStats is a town's case statistics for its city, written on the
// town's upward feed (no personal data: counts and place names). The city
// keeps the latest per town.
const KindTownStats = "stats.town"

// TownStats is the body of a KindTownStats entry: the statistics of every
// case the town holds (all its villages'), period "all", as of Day; and of
// a KindTownPeriodStats entry, for one period.
type TownStats struct {
	Town  string    `json:"town"`
	Name  string    `json:"name"`
	Day   string    `json:"day"`
	Stats CaseStats `json:"stats"`
}

// Validate checks the shape of a TownStats body.
func (s *TownStats) Validate() error {
	if err := ValidateDivisionCode(s.Town, NodeTown); err != nil {
		return err
	}
	if _, err := time.Parse("2006-01-02", s.Day); err != nil {
		return FieldError("day", "日期格式应为 年-月-日")
	}
	return nil
}

// KindTownPeriodStats is a town's case statistics of one period (a week,
// month, quarter or year, by the day cases were reported) for its city,
// on the town's upward feed like KindTownStats. Its body is a TownStats
// whose Stats.Period and Stats.From name the period; the city keeps the
// latest per town and period, so past periods stay viewable. Period "all"
// stays KindTownStats (cities that predate this kind keep showing it).
const KindTownPeriodStats = "stats.town.period"

// ReportPeriods are the periods a town reports to its city, besides "all".
var ReportPeriods = []string{"week", "month", "quarter", "year"}

// ValidatePeriod checks a KindTownPeriodStats body: a TownStats whose
// Stats cover exactly one period of ReportPeriods.
func (s *TownStats) ValidatePeriod() error {
	if err := s.Validate(); err != nil {
		return err
	}
	if !contains(ReportPeriods, s.Stats.Period) {
		return FieldError("period", "统计周期应为 week、month、quarter 或 year")
	}
	from, to, err := RegisterSpan(s.Stats.Period, s.Stats.From)
	if err != nil || from != s.Stats.From || to != s.Stats.To {
		return FieldError("from", "统计期起止日期与周期不符")
	}
	return nil
}
