package scheduler

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// parseDateTime reads isodate's parse_datetime: a date, "T", a time (so Pulp
// refuses a bare date or time). The date is complete (calendar, ordinal or
// week; basic or extended, whichever the time is); the time is hh:mm:ss,
// hhmmss, hh:mm, hhmm or hh with a fraction on its last component, then a
// zone of Z, ±hh:mm, ±hhmm, ±hh, or none (naive: taken as UTC, §12.6).
func parseDateTime(s string) (t time.Time, naive bool, err error) {
	date, clock, ok := strings.Cut(s, "T")
	if !ok || strings.Contains(clock, "T") {
		return t, false, errors.New("a date, 'T' and a time are required")
	}
	day, err := parseDate(date)
	if err != nil {
		return t, false, err
	}
	zi := strings.IndexAny(clock, "Z+-")
	if zi < 0 {
		zi = len(clock)
	}
	loc, naive, err := parseZone(clock[zi:])
	if err != nil {
		return t, false, err
	}
	sinceMidnight, err := parseClock(clock[:zi])
	if err != nil {
		return t, false, err
	}
	y, m, d := day.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc).Add(sinceMidnight), naive, nil
}

// parseDate reads a complete date in one of isodate's forms with a 4-digit
// year (Pulp does not ask isodate for expanded ±YYYYY years). isodate also
// reads reduced dates (YYYY-MM, YYYY, YYYY-Www, YY) and ignores what follows
// a date or time it recognises; neither is a complete ISO 8601 date-time,
// and both are refused here.
func parseDate(s string) (time.Time, error) {
	var t time.Time
	var ok bool
	switch {
	case shaped(s, "9999-99-99"):
		t, ok = calendarDate(atoi(s[0:4]), atoi(s[5:7]), atoi(s[8:10]))
	case shaped(s, "99999999"):
		t, ok = calendarDate(atoi(s[0:4]), atoi(s[4:6]), atoi(s[6:8]))
	case shaped(s, "9999-999"):
		t, ok = ordinalDate(atoi(s[0:4]), atoi(s[5:8]))
	case shaped(s, "9999999"):
		t, ok = ordinalDate(atoi(s[0:4]), atoi(s[4:7]))
	case shaped(s, "9999-W99-9"):
		t, ok = weekDate(atoi(s[0:4]), atoi(s[6:8]), atoi(s[9:10]))
	case shaped(s, "9999W999"):
		t, ok = weekDate(atoi(s[0:4]), atoi(s[5:7]), atoi(s[7:8]))
	default:
		return t, fmt.Errorf("%q is not a complete date (YYYY-MM-DD, YYYYMMDD, YYYY-DDD, YYYYDDD, YYYY-Www-D, YYYYWwwD)", s)
	}
	// Python's dates run from year 1 to 9999.
	if !ok || t.Year() < 1 || t.Year() > maxYears {
		return time.Time{}, fmt.Errorf("%q: no such date", s)
	}
	return t, nil
}

func calendarDate(y, m, d int) (time.Time, bool) {
	ok := m >= 1 && m <= 12 && d >= 1 && d <= daysIn(y, time.Month(m))
	return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC), ok
}

func ordinalDate(y, day int) (time.Time, bool) {
	jan1 := time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)
	return jan1.AddDate(0, 0, day-1), day >= 1 && day <= jan1.AddDate(1, 0, -1).YearDay()
}

// weekDate is day d (1 = Monday) of ISO week w: week 1 is the one with 4
// January in it, so 2030-W01-1 is 2029-12-31.
func weekDate(y, w, d int) (time.Time, bool) {
	jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, time.UTC)
	return jan4.AddDate(0, 0, (w-1)*7+d-isoWeekday(jan4)), w >= 1 && w <= isoWeeks(y) && d >= 1 && d <= 7
}

// parseClock reads the time of day: isodate's five time forms, a decimal
// fraction (truncated to the nanosecond) on the last component given.
func parseClock(s string) (time.Duration, error) {
	main, frac := s, ""
	if i := strings.IndexAny(s, ".,"); i >= 0 {
		main, frac = s[:i], s[i+1:]
		if !allDigits(frac) {
			return 0, fmt.Errorf("%q: bad fraction", s)
		}
	}
	var fields []string
	switch {
	case shaped(main, "99:99:99"):
		fields = []string{main[0:2], main[3:5], main[6:8]}
	case shaped(main, "999999"):
		fields = []string{main[0:2], main[2:4], main[4:6]}
	case shaped(main, "99:99"):
		fields = []string{main[0:2], main[3:5]}
	case shaped(main, "9999"):
		fields = []string{main[0:2], main[2:4]}
	case shaped(main, "99"):
		fields = []string{main}
	default:
		return 0, fmt.Errorf("%q is not a time (hh:mm:ss, hhmmss, hh:mm, hhmm, hh)", s)
	}
	units := []time.Duration{time.Hour, time.Minute, time.Second}
	limits := []int{23, 59, 59} // Python's time(): no hour 24, no leap second
	var d time.Duration
	for i, f := range fields {
		if atoi(f) > limits[i] {
			return 0, fmt.Errorf("%q: %s out of range", s, f)
		}
		d += time.Duration(atoi(f)) * units[i]
	}
	if frac != "" {
		r := decimal("0."+frac, int64(units[len(fields)-1]))
		d += time.Duration(new(big.Int).Quo(r.Num(), r.Denom()).Int64())
	}
	return d, nil
}

// parseZone reads isodate's TZ_REGEX: "" (naive), Z, ±hh, ±hhmm or ±hh:mm.
// Python's tzinfo needs an offset under 24 h; minutes past 59 are refused too.
func parseZone(z string) (loc *time.Location, naive bool, err error) {
	var h, m int
	switch {
	case z == "":
		return time.UTC, true, nil
	case z == "Z":
		return time.UTC, false, nil
	case z[0] != '+' && z[0] != '-':
		return nil, false, fmt.Errorf("%q is not a zone (Z, ±hh:mm, ±hhmm, ±hh)", z)
	case shaped(z[1:], "99"):
		h = atoi(z[1:3])
	case shaped(z[1:], "9999"):
		h, m = atoi(z[1:3]), atoi(z[3:5])
	case shaped(z[1:], "99:99"):
		h, m = atoi(z[1:3]), atoi(z[4:6])
	default:
		return nil, false, fmt.Errorf("%q is not a zone (Z, ±hh:mm, ±hhmm, ±hh)", z)
	}
	if h > 23 || m > 59 {
		return nil, false, fmt.Errorf("%q is not a zone offset", z)
	}
	off := (h*60 + m) * 60
	if z[0] == '-' {
		off = -off
	}
	if off == 0 {
		return time.UTC, false, nil
	}
	return time.FixedZone("", off), false, nil
}
