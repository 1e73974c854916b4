package appliance

import (
	"fmt"
	"time"
)

// officialDaysOff and officialWorkdays are the public holidays and the
// adjusted working days (调休) from the State Council General Office notices:
// 国务院办公厅关于2025年部分节假日安排的通知 (November 2024,
// gov.cn/zhengce/content/202411/content_6986382.htm) and
// 国务院办公厅关于2026年部分节假日安排的通知 (4 November 2025, via Xinhua).
// A new year's notice comes each November: the city or a town enters it
// on its node (节假日安排 page, KindCalendarSet) and it goes down to every
// box; this table only covers boxes that have received nothing yet.
var officialDaysOff = []dateRange{
	// 2025
	{"2025-01-01", "2025-01-01"}, // 元旦
	{"2025-01-28", "2025-02-04"}, // 春节
	{"2025-04-04", "2025-04-06"}, // 清明节
	{"2025-05-01", "2025-05-05"}, // 劳动节
	{"2025-05-31", "2025-06-02"}, // 端午节
	{"2025-10-01", "2025-10-08"}, // 国庆节、中秋节
	// 2026
	{"2026-01-01", "2026-01-03"}, // 元旦
	{"2026-02-15", "2026-02-23"}, // 春节
	{"2026-04-04", "2026-04-06"}, // 清明节
	{"2026-05-01", "2026-05-05"}, // 劳动节
	{"2026-06-19", "2026-06-21"}, // 端午节
	{"2026-09-25", "2026-09-27"}, // 中秋节
	{"2026-10-01", "2026-10-07"}, // 国庆节
}

var officialWorkdays = []string{
	"2025-01-26", "2025-02-08", // 春节
	"2025-04-27",               // 劳动节
	"2025-09-28", "2025-10-11", // 国庆节、中秋节
	"2026-01-04",               // 元旦
	"2026-02-14", "2026-02-28", // 春节
	"2026-05-09",               // 劳动节
	"2026-09-20", "2026-10-10", // 国庆节
}

// officialYears are the years the built-in table covers.
var officialYears = []int{2025, 2026}

type dateRange struct{ from, to string }

// civilDate is a calendar day without a time zone.
type civilDate struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

func (c civilDate) time(loc *time.Location) time.Time {
	return time.Date(c.y, c.m, c.d, 0, 0, 0, 0, loc)
}

func parseCivil(s string) (civilDate, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return civilDate{}, fmt.Errorf("calendar: bad date %q", s)
	}
	return dateOf(t), nil
}

// Calendar tells working days from days off on the official calendar:
// Monday to Friday work, weekends off, except public holidays (off) and
// adjusted weekend days (worked).
type Calendar struct {
	off   map[civilDate]bool // holidays, on any weekday
	on    map[civilDate]bool // weekend days worked
	years map[int]bool       // years with an official arrangement known
}

// NewCalendar builds the calendar from the built-in table and cfg; cfg's
// entries add to the table and win over it where they disagree.
func NewCalendar(cfg CalendarConfig) (*Calendar, error) { return NewCalendarWith(cfg, nil) }

// NewCalendarWith builds the calendar from the built-in table, the years
// entered as data (KindCalendarSet; each replaces the table's year), and
// cfg on top.
func NewCalendarWith(cfg CalendarConfig, data []CalendarYear) (*Calendar, error) {
	c := &Calendar{off: map[civilDate]bool{}, on: map[civilDate]bool{}, years: map[int]bool{}}
	for _, y := range officialYears {
		c.years[y] = true
	}
	for _, r := range officialDaysOff {
		from, _ := parseCivil(r.from)
		to, _ := parseCivil(r.to)
		for t := from.time(time.UTC); !t.After(to.time(time.UTC)); t = t.AddDate(0, 0, 1) {
			c.off[dateOf(t)] = true
		}
	}
	for _, s := range officialWorkdays {
		d, _ := parseCivil(s)
		c.on[d] = true
	}
	for _, y := range data {
		for _, m := range []map[civilDate]bool{c.off, c.on} {
			for d := range m {
				if d.y == y.Year {
					delete(m, d)
				}
			}
		}
		for _, s := range y.Holidays {
			if d, err := parseCivil(s); err == nil {
				c.off[d] = true
			}
		}
		for _, s := range y.Workdays {
			if d, err := parseCivil(s); err == nil {
				c.on[d] = true
			}
		}
		c.years[y.Year] = true
	}
	cfgOff := map[civilDate]bool{}
	for _, s := range cfg.Holidays {
		d, err := parseCivil(s)
		if err != nil {
			return nil, err
		}
		cfgOff[d] = true
		c.off[d] = true
		delete(c.on, d)
		c.years[d.y] = true
	}
	for _, s := range cfg.Workdays {
		d, err := parseCivil(s)
		if err != nil {
			return nil, err
		}
		if cfgOff[d] {
			return nil, fmt.Errorf("calendar: %s is both a holiday and a workday", s)
		}
		c.on[d] = true
		delete(c.off, d)
		c.years[d.y] = true
	}
	return c, nil
}

// IsWorkday reports whether the calendar day of t, in t's location, is worked.
func (c *Calendar) IsWorkday(t time.Time) bool {
	return c.isWorkday(dateOf(t))
}

func (c *Calendar) isWorkday(d civilDate) bool {
	if c.off[d] {
		return false
	}
	if c.on[d] {
		return true
	}
	wd := d.time(time.UTC).Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// Known reports whether the official holidays of year are known, from the
// built-in table or the configuration. For other years only weekends count,
// and deadlines computed into them may be too early: warn the operator.
func (c *Calendar) Known(year int) bool { return c.years[year] }

// AddWorkdays returns the deadline n working days after start: the end of
// the n-th working day following start's calendar day, in start's location
// (the last nanosecond before midnight). The start day itself never counts,
// so a case dispatched on Friday afternoon with 1 working day is due on
// Monday. n = 0 gives the end of start's day; n < 0 gives the |n|-th
// working day before start's day.
func (c *Calendar) AddWorkdays(start time.Time, n int) time.Time {
	loc := start.Location()
	t := dateOf(start).time(time.UTC) // step in UTC: days are always 24 h there
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		t = t.AddDate(0, 0, step)
		if c.isWorkday(dateOf(t)) {
			n--
		}
	}
	return dateOf(t).time(loc).AddDate(0, 0, 1).Add(-time.Nanosecond)
}

// WorkdaysBetween counts the working days after a's calendar day up to and
// including b's (each in its own location); negative if b is before a. So
// WorkdaysBetween(s, AddWorkdays(s, n)) == n for n >= 0, and a case due at d is
// WorkdaysBetween(d, now) working days overdue when that is positive.
func (c *Calendar) WorkdaysBetween(a, b time.Time) int {
	from, to := dateOf(a).time(time.UTC), dateOf(b).time(time.UTC)
	sign := 1
	if to.Before(from) {
		from, to, sign = to, from, -1
	}
	n := 0
	for t := from.AddDate(0, 0, 1); !t.After(to); t = t.AddDate(0, 0, 1) {
		if c.isWorkday(dateOf(t)) {
			n++
		}
	}
	return sign * n
}
