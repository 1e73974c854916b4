package bolt

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"gridbox/appliance"
)

// The working week's duty room: generated rosters, swaps and the duty log
// (docs/week.md).
const (
	bucketDutyLog   = "v_duty_log"   // grid "/" date "/" id → DutyLog (LWW)
	bucketDutySwaps = "v_duty_swaps" // grid "/" id → DutySwap (LWW: asked, then answered)
)

type dutyWeekView struct{}

func (dutyWeekView) Name() string      { return "duty_week" }
func (dutyWeekView) Buckets() []string { return []string{bucketDutyLog, bucketDutySwaps} }

func (dutyWeekView) Apply(tx *Tx, e *appliance.Entry) error {
	switch e.Kind {
	case appliance.KindDutyLog:
		return putLWWAs(tx, e, bucketDutyLog, func(l *appliance.DutyLog) string { return l.Grid + "/" + l.Date + "/" + l.ID })
	case appliance.KindDutySwap:
		return putLWWAs(tx, e, bucketDutySwaps, func(w *appliance.DutySwap) string { return w.Grid + "/" + w.ID })
	}
	return nil
}

func init() { RegisterView(dutyWeekView{}) }

// shiftsTx returns the shifts of grid from from to to (inclusive).
func shiftsTx(tx *Tx, grid, from, to string) ([]appliance.DutyShift, error) {
	var out []appliance.DutyShift
	c := tx.Bucket(bucketDuty).Cursor()
	start, end := grid+"/"+from, grid+"/"+to+"/\xff"
	for k, v := c.Seek([]byte(start)); k != nil && string(k) <= end; k, v = c.Next() {
		if len(v) < stampSize {
			continue
		}
		var d appliance.DutyShift
		if err := json.Unmarshal(v[stampSize:], &d); err != nil {
			return nil, err
		}
		if !d.Removed {
			out = append(out, d)
		}
	}
	return out, nil
}

// SetRoster puts a generated month's roster in place of the shifts of
// that kind the month had, in one transaction: the roster is replaced
// whole or not at all.
func (s *Store) SetRoster(ctx context.Context, author, grid, month, shift string, roster []appliance.DutyShift) error {
	days, err := appliance.MonthDays(month)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for i := range roster {
		d := &roster[i]
		d.Phone = appliance.NormalizePhone(d.Phone)
		if err := d.Validate(); err != nil {
			return err
		}
		if d.Grid != grid || !strings.HasPrefix(d.Date, month+"-") || d.Shift != shift {
			return appliance.FieldError("month", "排班表的日期、网格或班次与所选月份不符")
		}
		want[d.Key()] = true
	}
	_, err = s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		old, err := shiftsTx(tx, grid, days[0], days[len(days)-1])
		if err != nil {
			return nil, err
		}
		var drafts []appliance.Draft
		for _, d := range old {
			if d.Shift == shift && !want[d.Key()] {
				d.Removed = true
				drafts = append(drafts, appliance.Draft{Author: author, Kind: appliance.KindDutySet, Version: 1, Body: d})
			}
		}
		for _, d := range roster {
			drafts = append(drafts, appliance.Draft{Author: author, Kind: appliance.KindDutySet, Version: 1, Body: d})
		}
		return drafts, nil
	})
	return err
}

// AskSwap records that one person asks another to swap duty days; both
// shifts must be on the roster.
func (s *Store) AskSwap(ctx context.Context, author string, w appliance.DutySwap) (appliance.DutySwap, error) {
	if w.ID == "" {
		w.ID = s.NewRecordID("w")
	}
	w.State, w.Reason, w.AskedBy = appliance.SwapAsked, strings.TrimSpace(w.Reason), author
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		if err := fillSwap(tx, &w); err != nil {
			return nil, err
		}
		if err := w.Validate(); err != nil {
			return nil, err
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindDutySwap, Version: 1, Body: w}}, nil
	})
	return w, err
}

// fillSwap finds both shifts of a swap on the roster and takes the names
// from them.
func fillSwap(tx *Tx, w *appliance.DutySwap) error {
	find := func(field, date, staff string) (appliance.DutyShift, error) {
		var d appliance.DutyShift
		ok, err := tx.LWWJSON(bucketDuty, w.Grid+"/"+date+"/"+w.Shift+"/"+staff, &d)
		if err != nil {
			return d, err
		}
		if !ok || d.Removed {
			return d, appliance.FieldError(field, "%s 这天的值班表上没有这位值班人员", date)
		}
		return d, nil
	}
	mine, err := find("date", w.Date, w.StaffID)
	if err != nil {
		return err
	}
	theirs, err := find("with", w.WithDate, w.WithStaffID)
	if err != nil {
		return err
	}
	if w.Date == w.WithDate {
		return appliance.FieldError("with_date", "请选择对方值班的另一天")
	}
	w.Name, w.WithName = mine.Name, theirs.Name
	return nil
}

// AnswerSwap accepts, declines or withdraws a swap that is asked. An
// accepted swap changes the roster in the same transaction: each takes the
// other's day. The account that asked may only withdraw; another (the
// other person) accepts or declines; a manager (who keeps the roster) may
// do any.
func (s *Store) AnswerSwap(ctx context.Context, author string, manager bool, grid, id, state string) (appliance.DutySwap, error) {
	var w appliance.DutySwap
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		if ok, err := tx.LWWJSON(bucketDutySwaps, grid+"/"+id, &w); err != nil {
			return nil, err
		} else if !ok {
			return nil, appliance.Errorf(appliance.ENOTFOUND, "没有这个换班申请")
		}
		if w.State != appliance.SwapAsked {
			return nil, appliance.Errorf(appliance.ECONFLICT, "这个换班申请已经%s", appliance.SwapStateLabels[w.State])
		}
		switch state {
		case appliance.SwapAccepted, appliance.SwapDeclined:
			if author == w.AskedBy && !manager {
				return nil, appliance.Errorf(appliance.EFORBIDDEN, "换班要由对方同意，不能自己同意")
			}
		case appliance.SwapWithdrawn:
			if author != w.AskedBy && !manager {
				return nil, appliance.Errorf(appliance.EFORBIDDEN, "只有提出换班的人可以撤回")
			}
		default:
			return nil, appliance.FieldError("state", "请选择同意或不同意")
		}
		w.State = state
		drafts := []appliance.Draft{{Author: author, Kind: appliance.KindDutySwap, Version: 1, Body: w}}
		if state != appliance.SwapAccepted {
			return drafts, nil
		}
		var mine, theirs appliance.DutyShift
		ok1, err := tx.LWWJSON(bucketDuty, grid+"/"+w.Date+"/"+w.Shift+"/"+w.StaffID, &mine)
		if err != nil {
			return nil, err
		}
		ok2, err := tx.LWWJSON(bucketDuty, grid+"/"+w.WithDate+"/"+w.Shift+"/"+w.WithStaffID, &theirs)
		if err != nil {
			return nil, err
		}
		if !ok1 || !ok2 || mine.Removed || theirs.Removed {
			return nil, appliance.Errorf(appliance.ECONFLICT, "值班表已经变了，这次换班不能再同意")
		}
		add := func(d appliance.DutyShift) {
			drafts = append(drafts, appliance.Draft{Author: author, Kind: appliance.KindDutySet, Version: 1, Body: d})
		}
		for _, d := range []appliance.DutyShift{mine, theirs} {
			d.Removed = true
			add(d)
		}
		a, b := mine, theirs
		a.Date, b.Date = theirs.Date, mine.Date
		add(a)
		add(b)
		return drafts, nil
	})
	return w, err
}

// FindSwaps returns the swaps of grid that concern days from from on,
// newest day first.
func (s *Store) FindSwaps(grid, from string) ([]appliance.DutySwap, error) {
	var out []appliance.DutySwap
	err := s.Read(func(tx *Tx) error {
		return tx.EachLWW(bucketDutySwaps, grid+"/", func(_ string, v []byte) error {
			var w appliance.DutySwap
			if err := json.Unmarshal(v, &w); err != nil {
				return err
			}
			if w.Date >= from || w.WithDate >= from {
				out = append(out, w)
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date > out[j].Date
		}
		return out[i].ID < out[j].ID
	})
	return out, err
}

// lwwOne reads the record at key of bucket, or ENOTFOUND with message.
func lwwOne[T any](s *Store, bucket, key, message string) (T, error) {
	var v T
	err := s.Read(func(tx *Tx) error {
		ok, err := tx.LWWJSON(bucket, key, &v)
		if err == nil && !ok {
			err = appliance.Errorf(appliance.ENOTFOUND, "%s", message)
		}
		return err
	})
	return v, err
}

// dutyDayTx reads one day's log, in time order.
func dutyDayTx(tx *Tx, grid, date string) (appliance.DutyDay, error) {
	d := appliance.DutyDay{Grid: grid, Date: date}
	err := tx.EachLWW(bucketDutyLog, grid+"/"+date+"/", func(_ string, v []byte) error {
		var l appliance.DutyLog
		if err := json.Unmarshal(v, &l); err != nil {
			return err
		}
		d.Lines = append(d.Lines, l)
		d.SignedIn = d.SignedIn || l.Kind == appliance.LogSignIn
		return nil
	})
	sort.SliceStable(d.Lines, func(i, j int) bool {
		if d.Lines[i].At != d.Lines[j].At {
			return d.Lines[i].At < d.Lines[j].At
		}
		return d.Lines[i].ID < d.Lines[j].ID
	})
	return d, err
}

// DutyDays returns the duty log of grid for each day in days.
func (s *Store) DutyDays(grid string, days []string) ([]appliance.DutyDay, error) {
	out := make([]appliance.DutyDay, 0, len(days))
	err := s.Read(func(tx *Tx) error {
		for _, date := range days {
			d, err := dutyDayTx(tx, grid, date)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// LogDuty adds a line to the duty log. A departure needs an arrival first;
// a confirmation names a handover note of that day or the days before it
// that nobody confirmed yet, written by someone else.
func (s *Store) LogDuty(ctx context.Context, author string, l appliance.DutyLog) (appliance.DutyLog, error) {
	if l.ID == "" {
		l.ID = s.NewRecordID("l")
	}
	l.Text = strings.TrimSpace(l.Text)
	if err := l.Validate(); err != nil {
		return l, err
	}
	_, err := s.Write(ctx, func(tx *Tx) ([]appliance.Draft, error) {
		if err := checkLogTx(tx, l); err != nil {
			return nil, err
		}
		return []appliance.Draft{{Author: author, Kind: appliance.KindDutyLog, Version: 1, Body: l}}, nil
	})
	return l, err
}

// CheckDutyLog tells whether l could be logged now (for a step that must
// not start when the log line would be refused, such as registering the
// case a call becomes).
func (s *Store) CheckDutyLog(l appliance.DutyLog) error {
	if l.ID == "" {
		l.ID = "check" // given when logged
	}
	if err := l.Validate(); err != nil {
		return err
	}
	return s.Read(func(tx *Tx) error { return checkLogTx(tx, l) })
}

func checkLogTx(tx *Tx, l appliance.DutyLog) error {
	day, err := dutyDayTx(tx, l.Grid, l.Date)
	if err != nil {
		return err
	}
	switch l.Kind {
	case appliance.LogSignIn:
		if day.OnDuty(l.StaffID) {
			return appliance.Errorf(appliance.ECONFLICT, "%s 今天已经签到，还没有签退", l.Name)
		}
	case appliance.LogSignOut:
		if !day.OnDuty(l.StaffID) {
			return appliance.Errorf(appliance.ECONFLICT, "%s 今天还没有签到，不能签退", l.Name)
		}
	case appliance.LogRead:
		h, by, err := pendingHandoverTx(tx, l.Grid, l.Date)
		if err != nil {
			return err
		}
		if h.ID != l.Ref || by != "" {
			return appliance.Errorf(appliance.ECONFLICT, "这条交班留言已经确认过，或不是最近的一条")
		}
		if h.StaffID == l.StaffID {
			return appliance.FieldError("ref", "交班留言要由接班的人确认，不能自己确认")
		}
	}
	return nil
}

// handoverDays is how far back an unconfirmed handover note waits for the
// next person: a long holiday, not more.
const handoverDays = 10

// PendingHandover returns the latest handover note written on date or in
// the days before it, and who confirmed it ("" if nobody yet).
func (s *Store) PendingHandover(grid, date string) (note appliance.DutyLog, readBy string, err error) {
	err = s.Read(func(tx *Tx) error {
		note, readBy, err = pendingHandoverTx(tx, grid, date)
		return err
	})
	return note, readBy, err
}

func pendingHandoverTx(tx *Tx, grid, date string) (appliance.DutyLog, string, error) {
	t, err := parseDay(date)
	if err != nil {
		return appliance.DutyLog{}, "", err
	}
	var note appliance.DutyLog
	found := false
	for i := 0; i <= handoverDays && !found; i++ {
		day, err := dutyDayTx(tx, grid, t.AddDate(0, 0, -i).Format("2006-01-02"))
		if err != nil {
			return note, "", err
		}
		note, _, found = day.Handover()
	}
	if !found {
		return note, "", appliance.Errorf(appliance.ENOTFOUND, "最近没有交班留言")
	}
	// The confirmation may be logged on a later day than the note.
	readBy, prefix := "", []byte(grid+"/")
	c := tx.Bucket(bucketDutyLog).Cursor()
	for k, v := c.Seek([]byte(grid + "/" + note.Date)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var l appliance.DutyLog
		if len(v) > stampSize && json.Unmarshal(v[stampSize:], &l) == nil && l.Kind == appliance.LogRead && l.Ref == note.ID {
			readBy = l.Name
		}
	}
	return note, readBy, nil
}

func parseDay(date string) (time.Time, error) {
	t, err := time.Parse("2006-01-02", date)
	if err != nil {
		return t, appliance.FieldError("date", "日期格式应为 年-月-日")
	}
	return t, nil
}
