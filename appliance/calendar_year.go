package appliance

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// KindCalendarSet is a year's official working-day arrangement (the State
// Council General Office's notice on holidays, each November), entered on
// the city's or a town's node; it goes down to every village like a
// notice, and deadlines count by it from then on.
const KindCalendarSet = "calendar.set"

// CalendarYear is one year's holidays and make-up working days (调休).
type CalendarYear struct {
	Year     int      `json:"year"`
	Holidays []string `json:"holidays"`         // YYYY-MM-DD days off
	Workdays []string `json:"workdays"`         // YYYY-MM-DD weekend days worked (调休)
	Source   string   `json:"source,omitempty"` // the notice it comes from, e.g. 国办发明电〔2025〕7号
	By       string   `json:"by,omitempty"`     // division code of the node that entered it
}

// Validate checks the dates: each in the year, none twice, a make-up
// working day is a Saturday or Sunday and not also a holiday.
func (y *CalendarYear) Validate() error {
	if y.Year < 2000 || y.Year > 2200 {
		return FieldError("year", "年份不对")
	}
	seen := map[string]string{}
	check := func(field, label string, days []string, weekend bool) error {
		for _, s := range days {
			d, err := time.Parse("2006-01-02", s)
			if err != nil {
				return FieldError(field, "%s中的日期 %q 格式应为 年-月-日", label, s)
			}
			if d.Year() != y.Year {
				return FieldError(field, "%s中的 %s 不在 %d 年", label, s, y.Year)
			}
			if prev, dup := seen[s]; dup {
				return FieldError(field, "%s 在%s中重复出现", s, prev)
			}
			seen[s] = label
			if wd := d.Weekday(); weekend && wd != time.Saturday && wd != time.Sunday {
				return FieldError(field, "%s 是周%s，调休上班日应是周六或周日", s, "日一二三四五六"[wd*3:wd*3+3])
			}
		}
		return nil
	}
	if len(y.Holidays) == 0 {
		return FieldError("holidays", "请填写放假日期")
	}
	if err := check("holidays", "放假日期", y.Holidays, false); err != nil {
		return err
	}
	if err := check("workdays", "调休上班日期", y.Workdays, true); err != nil {
		return err
	}
	if len(y.Source) > 200 {
		return FieldError("source", "依据太长")
	}
	return nil
}

// ParseDates reads dates from text as people type them: one per line or
// separated by spaces, commas or 、; a range as 2027-02-06~2027-02-13 (or
// with 至 or a dash between two dates).
func ParseDates(text string) ([]string, error) {
	repl := strings.NewReplacer("，", " ", ",", " ", "、", " ", "；", " ", ";", " ", "\r", " ", "\n", " ", "\t", " ", "至", "~", "～", "~", "/", "-", ".", "-")
	var fields []string // "a ~ b" typed with spaces is one range
	for _, f := range strings.Fields(repl.Replace(text)) {
		if n := len(fields); n > 0 && (f[0] == '~' || strings.HasSuffix(fields[n-1], "~")) {
			fields[n-1] += f
			continue
		}
		fields = append(fields, f)
	}
	var out []string
	for _, f := range fields {
		from, to, isRange := strings.Cut(f, "~")
		if !isRange && len(f) == 21 && f[10] == '-' { // 2027-02-06-2027-02-13
			from, to, isRange = f[:10], f[11:], true
		}
		a, err := time.Parse("2006-1-2", from)
		if err != nil {
			return nil, fmt.Errorf("%q 不是日期（格式 年-月-日）", f)
		}
		b := a
		if isRange {
			if b, err = time.Parse("2006-1-2", to); err != nil || b.Before(a) || b.Sub(a) > 31*24*time.Hour {
				return nil, fmt.Errorf("%q 不是一段日期", f)
			}
		}
		for d := a; !d.After(b); d = d.AddDate(0, 0, 1) {
			out = append(out, d.Format("2006-01-02"))
		}
	}
	sort.Strings(out)
	return out, nil
}

// CalendarWarnFrom is the day of a year from which staff are warned while
// the next year's arrangement is missing.
func CalendarWarnFrom(year int, loc *time.Location) time.Time {
	return time.Date(year, time.December, 1, 0, 0, 0, 0, loc)
}
