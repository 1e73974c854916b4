package appliance_test

import (
	"math/rand"
	"testing"
	"time"

	"gridbox/appliance"
)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func mustCalendar(tb testing.TB, cfg appliance.CalendarConfig) *appliance.Calendar {
	tb.Helper()
	c, err := appliance.NewCalendar(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func TestCalendar_IsWorkday(t *testing.T) {
	c := mustCalendar(t, appliance.CalendarConfig{})
	for _, tc := range []struct {
		date string
		want bool
	}{
		{"2025-01-01", false}, // 元旦, Wednesday
		{"2025-01-26", true},  // Sunday worked before 春节
		{"2025-01-28", false}, // 除夕, Tuesday
		{"2025-02-04", false}, // last day of 春节
		{"2025-02-05", true},
		{"2025-02-08", true}, // Saturday worked
		{"2025-02-09", false},
		{"2025-04-27", true}, // Sunday worked before 劳动节
		{"2025-05-05", false},
		{"2025-06-02", false}, // 端午, Monday
		{"2025-09-28", true},  // Sunday worked
		{"2025-10-08", false}, // 国庆中秋, Wednesday
		{"2025-10-09", true},
		{"2025-10-11", true}, // Saturday worked
		{"2025-10-12", false},
		{"2026-01-02", false}, // 元旦, Friday
		{"2026-01-04", true},  // Sunday worked
		{"2026-02-14", true},  // Saturday worked before 春节
		{"2026-02-16", false},
		{"2026-02-23", false}, // Monday, still 春节
		{"2026-02-24", true},
		{"2026-02-28", true}, // Saturday worked after 春节
		{"2026-05-09", true},
		{"2026-06-19", false},
		{"2026-09-20", true}, // Sunday worked
		{"2026-09-25", false},
		{"2026-10-07", false},
		{"2026-10-08", true},
		{"2026-10-10", true},  // Saturday worked
		{"2026-11-28", false}, // ordinary Saturday
		{"2026-11-30", true},  // ordinary Monday
		{"2027-01-01", true},  // Friday, not in the table: only weekends count
	} {
		if got := c.IsWorkday(day(tc.date)); got != tc.want {
			t.Errorf("IsWorkday(%s)=%v, want %v", tc.date, got, tc.want)
		}
	}

	t.Run("LocalDate", func(t *testing.T) {
		// 2026-10-07 20:00 UTC is already 10-08 in Shanghai: a working day.
		sh, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			t.Fatal(err)
		}
		ts := time.Date(2026, 10, 7, 20, 0, 0, 0, time.UTC)
		if c.IsWorkday(ts) || !c.IsWorkday(ts.In(sh)) {
			t.Fatal("IsWorkday should use the date in the time's own location")
		}
	})
}

// The notices only move days: 261 weekdays minus the 13 statutory holiday
// days (全国年节及纪念日放假办法, 2024 revision) leaves 248 working days.
func TestCalendar_WorkdaysPerYear(t *testing.T) {
	c := mustCalendar(t, appliance.CalendarConfig{})
	for _, y := range []int{2025, 2026} {
		n := 0
		for d := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == y; d = d.AddDate(0, 0, 1) {
			if c.IsWorkday(d) {
				n++
			}
		}
		if n != 248 {
			t.Errorf("%d: %d working days, want 248", y, n)
		}
		if !c.Known(y) {
			t.Errorf("Known(%d)=false", y)
		}
	}
	if c.Known(2027) {
		t.Error("Known(2027)=true without configuration")
	}
}

func TestCalendar_AddWorkdays(t *testing.T) {
	c := mustCalendar(t, appliance.CalendarConfig{})
	for _, tc := range []struct {
		start string
		n     int
		want  string
	}{
		{"2025-01-24", 1, "2025-01-26"}, // Friday → the Sunday worked
		{"2025-01-24", 2, "2025-01-27"},
		{"2025-01-24", 3, "2025-02-05"}, // across 春节
		{"2025-01-28", 1, "2025-02-05"}, // started on a holiday
		{"2025-02-07", 1, "2025-02-08"}, // Saturday worked
		{"2026-02-13", 1, "2026-02-14"},
		{"2026-02-13", 2, "2026-02-24"}, // nine days off spanning two weeks
		{"2026-02-13", 6, "2026-02-28"}, // Saturday worked after 春节
		{"2026-02-13", 7, "2026-03-02"},
		{"2026-09-18", 1, "2026-09-20"}, // Friday → the Sunday worked before 国庆
		{"2026-09-24", 1, "2026-09-28"}, // over 中秋
		{"2026-09-30", 1, "2026-10-08"}, // over 国庆
		{"2026-09-30", 3, "2026-10-10"}, // Saturday worked
		{"2026-09-30", 4, "2026-10-12"},
		{"2026-11-27", 0, "2026-11-27"},
		{"2026-11-27", 5, "2026-12-04"},
		{"2026-10-08", -1, "2026-09-30"},
		{"2026-10-12", -4, "2026-09-30"},
	} {
		got := c.AddWorkdays(day(tc.start), tc.n)
		want := day(tc.want).AddDate(0, 0, 1).Add(-time.Nanosecond)
		if !got.Equal(want) {
			t.Errorf("AddWorkdays(%s, %d)=%s, want %s", tc.start, tc.n, got, want)
		}
	}

	t.Run("EndOfDayInLocation", func(t *testing.T) {
		sh, err := time.LoadLocation("Asia/Shanghai")
		if err != nil {
			t.Fatal(err)
		}
		got := c.AddWorkdays(time.Date(2026, 9, 30, 15, 4, 5, 0, sh), 1)
		if want := time.Date(2026, 10, 8, 23, 59, 59, 999999999, sh); !got.Equal(want) || got.Location() != sh {
			t.Fatalf("AddWorkdays=%s, want %s", got, want)
		}
	})
}

func TestCalendar_WorkdaysBetween(t *testing.T) {
	c := mustCalendar(t, appliance.CalendarConfig{})
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"2026-09-30", "2026-10-12", 4},
		{"2026-10-12", "2026-09-30", -4},
		{"2026-11-27", "2026-11-27", 0},
		{"2026-11-27", "2026-11-29", 0}, // weekend
		{"2026-02-13", "2026-02-28", 6},
		{"2025-01-01", "2025-12-31", 248}, // 1 January is not counted, and is 元旦 anyway
	} {
		if got := c.WorkdaysBetween(day(tc.a), day(tc.b)); got != tc.want {
			t.Errorf("WorkdaysBetween(%s, %s)=%d, want %d", tc.a, tc.b, got, tc.want)
		}
	}

	t.Run("InverseOfAddWorkdays", func(t *testing.T) {
		rng := rand.New(rand.NewSource(1))
		for i := 0; i < 2000; i++ {
			start := day("2024-12-01").AddDate(0, 0, rng.Intn(800)).Add(time.Duration(rng.Intn(86400)) * time.Second)
			n := rng.Intn(31)
			end := c.AddWorkdays(start, n)
			if got := c.WorkdaysBetween(start, end); got != n {
				t.Fatalf("WorkdaysBetween(%s, AddWorkdays(.., %d)=%s)=%d", start, n, end, got)
			}
			if n != 0 && !c.IsWorkday(end) {
				t.Fatalf("AddWorkdays(%s, %d)=%s is not a working day", start, n, end)
			}
		}
	})
}

func TestNewCalendar_Config(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		c := mustCalendar(t, appliance.CalendarConfig{
			Holidays: []string{"2027-01-01", "2026-10-10"}, // new year; a table workday made a day off
			Workdays: []string{"2026-10-07", "2027-01-02"}, // a table holiday worked; a Saturday worked
		})
		for _, tc := range []struct {
			date string
			want bool
		}{
			{"2027-01-01", false},
			{"2026-10-10", false},
			{"2026-10-07", true},
			{"2027-01-02", true},
			{"2026-10-06", false}, // the rest of the table stays
		} {
			if got := c.IsWorkday(day(tc.date)); got != tc.want {
				t.Errorf("IsWorkday(%s)=%v, want %v", tc.date, got, tc.want)
			}
		}
		if !c.Known(2027) {
			t.Error("Known(2027)=false with 2027 configured")
		}
	})
	t.Run("ErrBadDate", func(t *testing.T) {
		if _, err := appliance.NewCalendar(appliance.CalendarConfig{Holidays: []string{"2026-13-01"}}); err == nil {
			t.Fatal("expected error")
		}
		if _, err := appliance.NewCalendar(appliance.CalendarConfig{Workdays: []string{"tomorrow"}}); err == nil {
			t.Fatal("expected error")
		}
	})
	t.Run("ErrBoth", func(t *testing.T) {
		_, err := appliance.NewCalendar(appliance.CalendarConfig{Holidays: []string{"2027-01-02"}, Workdays: []string{"2027-01-02"}})
		if err == nil {
			t.Fatal("expected error")
		}
	})
}
