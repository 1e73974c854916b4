package bolt_test

import (
	"context"
	"testing"
	"time"

	"gridbox/appliance"
)

// calendar2027 is a year's arrangement as a State Council notice gives it
// (dates made up for the test: the real 2027 notice is not out).
var calendar2027 = appliance.CalendarYear{Year: 2027, Source: "国办发明电〔2026〕测试",
	Holidays: []string{"2027-01-01", "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09", "2027-02-10", "2027-02-11", "2027-02-12"},
	Workdays: []string{"2027-02-13", "2027-02-14"}}

// TestCalendarGoesDown: the city enters next year's holidays; they go down
// to its town and from there to the town's village as copies on the
// downward feeds; each node's deadlines count by them from then on; an
// edit replaces the year everywhere; a village can neither enter a year
// nor slip one in on its own feed.
func TestCalendarGoesDown(t *testing.T) {
	ctx := context.Background()
	clk := &simClock{t: time.Date(2026, 12, 2, 9, 0, 0, 0, shanghai)}
	city := mustNode(t, appliance.NodeCity, cityCode, "郑州市", clk, true)
	tw := mustNode(t, appliance.NodeTown, townCode, "龙湖镇", clk, true)
	v := mustNode(t, appliance.NodeVillage, villageCode, "杏花村", clk, true)
	if err := city.Store.Enrol(ctx, "u-admin", appliance.Enrolment{Key: tw.Store.Feed().String(), Code: townCode, Role: appliance.NodeTown}); err != nil {
		t.Fatal(err)
	}
	enrol(t, tw, v, villageCode)
	pass := func() {
		t.Helper()
		if _, err := city.Store.CopyDown(ctx, clk.t); err != nil {
			t.Fatal(err)
		}
		copyFeed(t, city, tw, downFeed(t, city, townCode))
		if _, err := tw.Store.CopyDown(ctx, clk.t); err != nil {
			t.Fatal(err)
		}
		copyFeed(t, tw, v, downFeed(t, tw, villageCode))
	}
	// Friday 2027-02-05 + 1 working day: Monday 02-08 by plain weekdays.
	fri := time.Date(2027, 2, 5, 10, 0, 0, 0, shanghai)
	if got := v.Cases.Calendar().AddWorkdays(fri, 1).Format("2006-01-02"); got != "2027-02-08" || v.Cases.Calendar().Known(2027) {
		t.Fatalf("before the year arrives: %s, known %v", got, v.Cases.Calendar().Known(2027))
	}

	if err := city.Store.SetCalendarYear(ctx, "u-admin", calendar2027); err != nil {
		t.Fatal(err)
	}
	pass()
	for name, n := range map[string]*testNode{"city": city, "town": tw, "village": v} {
		cal := n.Cases.Calendar()
		// The Spring Festival is off, and the Saturday after it worked.
		if got := cal.AddWorkdays(fri, 1).Format("2006-01-02"); !cal.Known(2027) || got != "2027-02-13" {
			t.Errorf("%s: known %v, Friday + 1 working day = %s, want 2027-02-13", name, cal.Known(2027), got)
		}
	}
	if ys, err := v.Store.CalendarYears(); err != nil || len(ys) != 1 || ys[0].By != cityCode || ys[0].Source != calendar2027.Source {
		t.Fatalf("village's years: %+v %v", ys, err)
	}

	// The town corrects the year (a later notice): it replaces the city's
	// on the town and goes down to the village.
	clk.t = clk.t.Add(time.Hour)
	fixed := calendar2027
	fixed.Holidays = append([]string{"2027-02-05"}, fixed.Holidays...)
	if err := tw.Store.SetCalendarYear(ctx, "u-admin", fixed); err != nil {
		t.Fatal(err)
	}
	pass()
	thu := fri.AddDate(0, 0, -1)
	if got := v.Cases.Calendar().AddWorkdays(thu, 1).Format("2006-01-02"); got != "2027-02-13" {
		t.Fatalf("after the town's correction: Thursday + 1 = %s", got)
	}
	// Nothing new to send: a second pass writes nothing.
	if n, _ := tw.Store.CopyDown(ctx, clk.t); n != 0 {
		t.Fatalf("a second copy-down wrote %d", n)
	}

	if err := v.Store.SetCalendarYear(ctx, "u-admin", calendar2027); appliance.ErrorCode(err) != appliance.EFORBIDDEN {
		t.Fatalf("a village entering a year: %v", err)
	}
	forged := appliance.CalendarYear{Year: 2028, Holidays: []string{"2028-03-01"}}
	if _, err := v.Store.Append(ctx, appliance.Draft{Author: "u-admin", Kind: appliance.KindCalendarSet, Version: 1, Body: forged}); err != nil {
		t.Fatal(err)
	}
	if v.Cases.Calendar().Known(2028) {
		t.Fatal("a village's own calendar entry was taken")
	}
}

func TestCalendarYearValidate(t *testing.T) {
	for _, tt := range []struct {
		name  string
		y     appliance.CalendarYear
		field string
	}{
		{"OK", calendar2027, ""},
		{"ErrOtherYear", appliance.CalendarYear{Year: 2027, Holidays: []string{"2026-12-31"}}, "holidays"},
		{"ErrWorkdayOnWeekday", appliance.CalendarYear{Year: 2027, Holidays: []string{"2027-01-01"}, Workdays: []string{"2027-02-15"}}, "workdays"},
		{"ErrBoth", appliance.CalendarYear{Year: 2027, Holidays: []string{"2027-02-13"}, Workdays: []string{"2027-02-13"}}, "workdays"},
		{"ErrNoHolidays", appliance.CalendarYear{Year: 2027}, "holidays"},
		{"ErrBadDate", appliance.CalendarYear{Year: 2027, Holidays: []string{"2027-02-30"}}, "holidays"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.y.Validate()
			if got := appliance.ErrorField(err); got != tt.field || (tt.field != "" && appliance.ErrorMessage(err) == "") {
				t.Fatalf("field %q (%v), want %q", got, err, tt.field)
			}
		})
	}
	days, err := appliance.ParseDates("2027-02-06~2027-02-08，2027-1-1\n2027.04.05 至 2027.04.06")
	if err != nil || len(days) != 6 || days[0] != "2027-01-01" || days[5] != "2027-04-06" {
		t.Fatalf("ParseDays: %v %v", days, err)
	}
	if _, err := appliance.ParseDates("春节"); err == nil {
		t.Fatal("ParseDays took 春节")
	}
}
