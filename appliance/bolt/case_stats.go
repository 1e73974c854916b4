package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"gridbox/appliance"
)

// CaseStatsFilter chooses the scope and period of statistics.
type CaseStatsFilter struct {
	Scope  string // "" for everything this node holds, a town, village or group code
	Period string // all, day, week, month, year, range
	Date   string // a day in the period (YYYY-MM-DD); today when empty
	From   string // range only
	To     string
	// Category narrows everything to one category's cases ("" all).
	Category string
}

// Stats returns statistics from the sums kept as cases fold
// (case_cells.go): one record per month of the period (a year is 12
// reads), and the records of the cases reported on its other days.
func (cs *Cases) Stats(f CaseStatsFilter, now time.Time) (appliance.CaseStats, error) {
	now = now.In(cs.Loc)
	if f.Date == "" {
		f.Date = now.Format("2006-01-02")
	}
	if f.Period == "" {
		f.Period = "all"
	}
	base, err := statsScope(f.Scope)
	if err != nil {
		return appliance.CaseStats{}, err
	}
	if _, err := cs.categoryScope(base, f.Category); err != nil {
		return appliance.CaseStats{}, err
	}
	var prefixes []string
	switch f.Period {
	case "all":
		prefixes = []string{"*"}
	case "range":
		from, err1 := time.Parse("2006-01-02", f.From)
		to, err2 := time.Parse("2006-01-02", f.To)
		if err1 != nil || err2 != nil || to.Before(from) || to.Sub(from) > 400*24*time.Hour {
			return appliance.CaseStats{}, appliance.FieldError("from", "统计起止日期有误（最长一年）")
		}
		prefixes = periodPrefixes(from, to)
	default:
		a, b, err := appliance.RegisterSpan(f.Period, f.Date)
		if err != nil {
			return appliance.CaseStats{}, err
		}
		f.From, f.To = a, b
		from, _ := time.Parse("2006-01-02", a)
		to, _ := time.Parse("2006-01-02", b)
		prefixes = periodPrefixes(from, to)
	}
	sum := map[string]int64{}
	names := map[string]string{}
	err = cs.Store.Read(func(tx *Tx) error {
		if err := sumPeriods(tx, prefixes, base, f.Category, sum); err != nil {
			return err
		}
		for k := range sum {
			for _, pre := range []string{"town/", "vil/", "grp/"} {
				if rest, ok := strings.CutPrefix(k, pre); ok {
					code, _, _ := strings.Cut(rest, "/")
					if _, ok := names[code]; !ok {
						g, found, _ := tx.Grid(code)
						names[code] = code
						if found {
							names[code] = g.Name
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		return appliance.CaseStats{}, err
	}
	st := appliance.BuildCaseStats(sum, cs.Config.Cases.Categories, func(code string) string { return names[code] })
	st.Scope, st.Period, st.From, st.To = f.Scope, f.Period, f.From, f.To
	// Deadlines are about now, whatever the period, and counted as every
	// other page counts them.
	n, err := cs.CountCases(CaseScope{Area: f.Scope}, now)
	st.Overdue, st.Near = n.Overdue, n.Near
	if err != nil {
		return st, err
	}
	return st, cs.addBreakdowns(&st, sum, f, base, now) // case_stats_breakdown.go
}

// sumPeriods adds to sum the dims of the periods ("*", "M…", "D…") in
// scope (a statsScope key) and category ("" all): what the keys PERIOD
// "|" SCOPE "|" DIM of appliance.CaseContributions sum to.
func sumPeriods(tx *Tx, periods []string, scope, category string, sum map[string]int64) error {
	cell := scope
	if category != "" {
		cell = appliance.CategoryScope(scope, category)
	}
	for _, p := range periods {
		if day, ok := strings.CutPrefix(p, "D"); ok {
			if err := dayDims(tx, day, scope, category, sum); err != nil {
				return err
			}
			continue
		}
		for k, n := range cellDims(tx, p+"|"+cell) {
			sum[k] += n
		}
	}
	return nil
}

// statsScope is the counters' scope key of a town, village or group code
// ("" for everything held).
func statsScope(area string) (string, error) {
	switch {
	case area == "":
		return "*", nil
	case len(area) == 12 && strings.HasSuffix(area, "000"):
		return "t" + area, nil
	case len(area) == 12:
		return "v" + area, nil
	case len(area) == 15:
		return "g" + area, nil
	}
	return "", appliance.FieldError("scope", "统计范围应为乡镇代码、村代码或村组编号")
}

// periodPrefixes covers from..to (days) with whole months where it can.
func periodPrefixes(from, to time.Time) []string {
	var out []string
	for d := from; !d.After(to); {
		if d.Day() == 1 {
			end := d.AddDate(0, 1, -1)
			if !end.After(to) {
				out = append(out, "M"+d.Format("2006-01"))
				d = end.AddDate(0, 0, 1)
				continue
			}
		}
		out = append(out, "D"+d.Format("2006-01-02"))
		d = d.AddDate(0, 0, 1)
	}
	return out
}

// RegisterDay is the register of one day of a village: its rows now, and
// the rows as closed, if the day was closed.
type RegisterDay struct {
	Village  string                   `json:"village"`
	Day      string                   `json:"day"`
	Rows     []appliance.RegisterRow  `json:"rows"`
	Total    appliance.RegisterRow    `json:"total"`
	Closed   *appliance.RegisterClose `json:"closed,omitempty"`
	ClosedAt time.Time                `json:"closed_at,omitzero"`
	Mismatch bool                     `json:"mismatch"` // the day changed after it was closed
}

// RegisterRows returns the register rows of a village from one day to
// another (inclusive): one row per group per day, groups without events
// included, so a printed register shows every group. See RegisterPeriod.
func (cs *Cases) RegisterRows(village, from, to string) ([]RegisterDay, error) {
	a, err1 := time.Parse("2006-01-02", from)
	b, err2 := time.Parse("2006-01-02", to)
	if err1 != nil || err2 != nil || b.Before(a) || b.Sub(a) > 370*24*time.Hour {
		return nil, appliance.FieldError("date", "台账起止日期有误")
	}
	groups, err := cs.Store.FindGrids(appliance.GridFilter{Parent: &village})
	if err != nil {
		return nil, err
	}
	var out []RegisterDay
	err = cs.Store.Read(func(tx *Tx) error {
		for d := a; !d.After(b); d = d.AddDate(0, 0, 1) {
			day := d.Format("2006-01-02")
			rd, err := registerDay(tx, village, day, groups)
			if err != nil {
				return err
			}
			out = append(out, rd)
		}
		return nil
	})
	return out, err
}

// RegisterPeriod returns the register rows of the day, week (Monday to
// Sunday) or month holding date: what the print engine prints.
func (cs *Cases) RegisterPeriod(village, kind, date string) ([]RegisterDay, error) {
	from, to, err := appliance.RegisterSpan(kind, date)
	if err != nil {
		return nil, err
	}
	return cs.RegisterRows(village, from, to)
}

func registerDay(tx *Tx, village, day string, groups []appliance.Grid) (RegisterDay, error) {
	rd := RegisterDay{Village: village, Day: day}
	counts := tx.Counters(bucketCaseStats, "reg|"+day+"|")
	rows := map[string]*appliance.RegisterRow{}
	row := func(unit string) *appliance.RegisterRow {
		if r, ok := rows[unit]; ok {
			return r
		}
		r := &appliance.RegisterRow{Day: day, Unit: unit, Name: "村直接受理"}
		rows[unit] = r
		return r
	}
	for _, g := range groups {
		row(g.Code).Name = g.Name
	}
	for k, n := range counts {
		unit, what, _ := strings.Cut(k, "|")
		if !strings.HasPrefix(unit, village) {
			continue
		}
		r := row(unit)
		switch what {
		case "reported":
			r.Reported = n
		case "resolved":
			r.Resolved = n
		case "escalated":
			r.Escalated = n
		}
	}
	for _, r := range rows {
		rd.Rows = append(rd.Rows, *r)
	}
	sort.Slice(rd.Rows, func(i, j int) bool { return registerOrder(rd.Rows[i].Unit) < registerOrder(rd.Rows[j].Unit) })
	rd.Total = appliance.RegisterRow{Day: day, Unit: village, Name: "合计"}
	for _, r := range rd.Rows {
		rd.Total.Reported += r.Reported
		rd.Total.Resolved += r.Resolved
		rd.Total.Escalated += r.Escalated
	}
	if v := tx.Bucket(bucketCaseRegister).Get([]byte(village + "|" + day)); len(v) > stampSize {
		var rc appliance.RegisterClose
		if err := json.Unmarshal(v[stampSize:], &rc); err != nil {
			return rd, err
		}
		rd.Closed = &rc
		rd.ClosedAt = appliance.HLC(beUint64(v[:8])).Time()
		rd.Mismatch = appliance.RegisterHash(village, day, rd.Rows) != rc.Hash
	}
	return rd, nil
}

// registerOrder puts the village's own row after its groups.
func registerOrder(unit string) string {
	if len(unit) == 12 {
		return unit + "~"
	}
	return unit
}

func beUint64(b []byte) uint64 {
	var n uint64
	for _, c := range b[:8] {
		n = n<<8 | uint64(c)
	}
	return n
}

// CloseRegister closes a day of this village's register: it writes the
// day's rows and their hash, so a later change to that day shows as a
// mismatch. A day can be closed once, and only after it has ended: a day
// closed at 20:00 would change with a kiosk report at 21:00 and make
// `gridbox verify` cry tamper over normal use.
func (cs *Cases) CloseRegister(ctx context.Context, author, day string) (RegisterDay, error) {
	village := cs.Config.Node.Code
	if cs.Config.Node.Role != appliance.NodeVillage {
		return RegisterDay{}, appliance.Errorf(appliance.EFORBIDDEN, "台账由村里关账")
	}
	if _, err := time.Parse("2006-01-02", day); err != nil {
		return RegisterDay{}, appliance.FieldError("day", "日期格式应为 年-月-日")
	}
	if cs.clockUnknown() {
		return RegisterDay{}, appliance.Errorf(appliance.ECONFLICT, "本机时间不准，现在不能关账：请先让设备与上级节点同步或校准时间")
	}
	if today := cs.now().Format("2006-01-02"); day >= today {
		return RegisterDay{}, appliance.FieldError("day", "%s 还没有结束（当天还可能有新的问题），要到第二天才能关账", day)
	}
	groups, err := cs.Store.FindGrids(appliance.GridFilter{Parent: &village})
	if err != nil {
		return RegisterDay{}, err
	}
	var rd RegisterDay
	_, err = cs.Store.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		var err error
		if rd, err = registerDay(tx, village, day, groups); err != nil {
			return nil, err
		}
		if rd.Closed != nil {
			return nil, appliance.Errorf(appliance.ECONFLICT, "%s 的台账已经关账", day)
		}
		rc := appliance.RegisterClose{Village: village, Day: day, Rows: rd.Rows, Hash: appliance.RegisterHash(village, day, rd.Rows)}
		return []appliance.Draft{{Author: author, Kind: appliance.KindRegisterClose, Version: 1, Body: rc}}, nil
	})
	if err != nil {
		return RegisterDay{}, err
	}
	days, err := cs.RegisterRows(village, day, day)
	if err != nil {
		return RegisterDay{}, err
	}
	return days[0], nil
}

// openRegisterDay is the register day of a step written now on day today:
// today, or, if the clock has gone back behind a closed day (a box without
// a real-time clock, booted before the network set it), the day after the
// village's last closed day, so that nothing lands in a closed day.
func (tx *Tx) openRegisterDay(village, today string) string {
	p := []byte(village + "|")
	c := tx.Bucket(bucketCaseRegister).Cursor()
	k, _ := c.Seek(append(append([]byte(nil), p...), 0xff))
	if k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, p) {
		return today
	}
	last := string(k[len(p):])
	if today > last {
		return today
	}
	d, err := time.Parse("2006-01-02", last)
	if err != nil {
		return today
	}
	return d.AddDate(0, 0, 1).Format("2006-01-02")
}

// VerifyRegisters checks every closed day of the register against the
// counts now: a day that changed after it was closed is an error naming it
// (`gridbox verify` runs this after the ledger check). It returns how many
// closed days it checked.
func (s *Store) VerifyRegisters() (int, error) {
	n := 0
	err := s.Read(func(tx *Tx) error {
		c := tx.Bucket(bucketCaseRegister).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			village, day, ok := strings.Cut(string(k), "|")
			if !ok {
				continue
			}
			var groups []appliance.Grid
			p := []byte(village + "/")
			gc := tx.Bucket(bucketGridTree).Cursor()
			for gk, _ := gc.Seek(p); gk != nil && strings.HasPrefix(string(gk), string(p)); gk, _ = gc.Next() {
				if g, ok, err := tx.Grid(string(gk[len(p):])); err != nil {
					return err
				} else if ok {
					groups = append(groups, g)
				}
			}
			rd, err := registerDay(tx, village, day, groups)
			if err != nil {
				return err
			}
			n++
			if rd.Mismatch {
				return fmt.Errorf("register of %s on %s changed after it was closed: closed with hash %s, counts now hash %s",
					village, day, rd.Closed.Hash, appliance.RegisterHash(village, day, rd.Rows))
			}
		}
		return nil
	})
	return n, err
}
