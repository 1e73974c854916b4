package print

import (
	"strings"
	"testing"
	"time"

	"gridbox/appliance"
	"gridbox/appliance/bolt"
)

func TestClosing(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	at := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, loc) }
	closed := func(day string, when time.Time, changed bool) bolt.RegisterDay {
		return bolt.RegisterDay{Day: day, Closed: &appliance.RegisterClose{}, ClosedAt: when.UTC(), Mismatch: changed}
	}
	open := func(day string) bolt.RegisterDay { return bolt.RegisterDay{Day: day} }
	for _, tt := range []struct {
		name          string
		days          []bolt.RegisterDay
		closed        time.Time
		open, changed []time.Time
	}{
		{"DayClosed", []bolt.RegisterDay{closed("2026-11-16", at(17, 9), false)}, at(17, 9), nil, nil},
		{"DayOpen", []bolt.RegisterDay{open("2026-11-16")}, time.Time{}, []time.Time{at(16, 0)}, nil},
		{"DayChanged", []bolt.RegisterDay{closed("2026-11-16", at(17, 9), true)}, at(17, 9), nil, []time.Time{at(16, 0)}},
		{"WeekPartly", []bolt.RegisterDay{closed("2026-11-16", at(17, 9), false), closed("2026-11-17", at(18, 9), true), open("2026-11-18")},
			time.Time{}, []time.Time{at(18, 0)}, []time.Time{at(17, 0)}},
		{"WeekLastClosing", []bolt.RegisterDay{closed("2026-11-16", at(19, 9), false), closed("2026-11-17", at(18, 9), false)}, at(19, 9), nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, o, ch := closing(tt.days, loc)
			if !c.Equal(tt.closed) || !sameDays(o, tt.open) || !sameDays(ch, tt.changed) {
				t.Fatalf("closing = %v, %v, %v; want %v, %v, %v", c, o, ch, tt.closed, tt.open, tt.changed)
			}
		})
	}
}

func sameDays(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

func TestMediaOf(t *testing.T) {
	for _, tt := range []struct {
		wd, ht float64
		want   Media
		opts   string
	}{
		{210, 297, Media{Name: "A4"}, "media=A4 fit-to-page=false print-scaling=none"},
		{297, 210, Media{Name: "A4", Landscape: true}, "media=A4 orientation-requested=4 fit-to-page=false print-scaling=none"},
		{297, 420, Media{Name: "A3"}, "media=A3 fit-to-page=false print-scaling=none"},
		{148, 210, Media{Name: "A5"}, "media=A5 fit-to-page=false print-scaling=none"},
		{86, 54, Media{Name: "Custom.86x54mm"}, "media=Custom.86x54mm fit-to-page=false print-scaling=none"},
		{80, 123.64, Media{Name: "Custom.80x123.6mm"}, "media=Custom.80x123.6mm fit-to-page=false print-scaling=none"},
	} {
		m := mediaOf(tt.wd, tt.ht)
		if m != tt.want || strings.Join(m.Options(), " ") != tt.opts {
			t.Errorf("mediaOf(%v, %v) = %+v %q, want %+v %q", tt.wd, tt.ht, m, m.Options(), tt.want, tt.opts)
		}
	}
}
