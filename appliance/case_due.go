package appliance

import "time"

// Deadline states of an open case, at one moment.
const (
	DueOverdue = "overdue" // past its deadline day
	DueNear    = "near"    // due within the configured near days (its deadline day included)
)

// DueClock says where open cases stand against their deadlines at one
// moment. Every count and list of overdue and near cases (dashboards,
// statistics, lists, registers on screen and on paper) classifies with it,
// so they agree at any time of day.
type DueClock struct {
	Now     time.Time
	Today   string // YYYY-MM-DD: a case due today is not yet overdue
	NearEnd string // last deadline day that counts as near
}

// NewDueClock is the clock at now (in the node's zone): a case is near
// when due within nearDays working days.
func NewDueClock(now time.Time, cal *Calendar, nearDays int) DueClock {
	return DueClock{Now: now, Today: now.Format("2006-01-02"), NearEnd: cal.AddWorkdays(now, nearDays).Format("2006-01-02")}
}

// State is DueOverdue, DueNear or "" (not open, no deadline, or not yet
// near).
func (k DueClock) State(c *Case) string {
	if c == nil || !CaseOpen(c.Status) {
		return ""
	}
	return k.Of(c.Due)
}

// Of is the state of an open case due on day (YYYY-MM-DD; "" for none).
func (k DueClock) Of(day string) string {
	switch {
	case day == "":
		return ""
	case day < k.Today:
		return DueOverdue
	case day <= k.NearEnd:
		return DueNear
	}
	return ""
}

// CaseCounts are the figures of open cases every page shows.
type CaseCounts struct {
	Open    int64 `json:"open"`
	Near    int64 `json:"near"`
	Overdue int64 `json:"overdue"`
}

// Add counts c as the clock sees it.
func (n *CaseCounts) Add(k DueClock, c *Case) {
	if c == nil || !CaseOpen(c.Status) {
		return
	}
	n.Open++
	n.AddDue(k, c.Due, 1)
}

// AddDue counts m open cases due on day as the clock sees them (their
// open count is added elsewhere).
func (n *CaseCounts) AddDue(k DueClock, day string, m int64) {
	switch k.Of(day) {
	case DueOverdue:
		n.Overdue += m
	case DueNear:
		n.Near += m
	}
}
