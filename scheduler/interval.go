package scheduler

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Interval is a Pulp 2 schedule: an ISO 8601 repeating interval as Pulp's
// parse_iso8601_interval (common/pulp/common/dateutils.py) reads it, with
// isodate's duration and date-time grammars.
type Interval struct {
	// Years and Months are the calendar part of the duration (an
	// isodate.Duration); both are 0 for a plain timedelta.
	Years, Months int
	// Duration is the rest (weeks, days, hours, minutes, seconds), to the
	// microsecond, as Python's timedelta keeps it.
	Duration time.Duration
	// Start is the interval's start when HasStart, in the offset it was
	// written with (first_run is rendered in it). Naive says it had no zone:
	// it is then taken as UTC (Pulp assumed the server's zone; §12.6), and
	// Pulp rendered such a first_run without a suffix.
	Start    time.Time
	HasStart bool
	Naive    bool
	// Recurrences is R<n>; 0 is unlimited.
	Recurrences int
}

// Calendar reports whether the duration has years or months, whose length
// depends on where a step starts (isodate.Duration, not a timedelta).
func (iv Interval) Calendar() bool { return iv.Years != 0 || iv.Months != 0 }

// maxYears keeps calendar steps inside Python's datetime (year 9999 at most).
const maxYears = 9999

// ParseInterval parses a schedule as Pulp 2 does (§8): parts split on "/" or
// "--" in any order, at most one each of R<n>, a duration and a start. It
// also refuses what Pulp's validator (_is_valid_schedule) refuses, R0, and a
// zero-length duration, on which Pulp 2.4+ divides by zero (§12.5).
func ParseInterval(s string) (Interval, error) {
	iv, err := parseInterval(s)
	if err != nil {
		return Interval{}, fmt.Errorf("schedule %q: %w", s, err)
	}
	return iv, nil
}

func parseInterval(s string) (Interval, error) {
	var iv Interval
	var haveR, haveP bool
	for _, part := range splitInterval(s) {
		switch {
		case isRecurrence(part):
			if haveR {
				return iv, errors.New("Multiple recurrences specified")
			}
			n, err := strconv.Atoi(part[1:])
			if err != nil {
				return iv, fmt.Errorf("%s: too many recurrences", part)
			}
			iv.Recurrences, haveR = n, true
		case strings.HasPrefix(part, "P"):
			if haveP {
				return iv, errors.New("Multiple interval durations specified")
			}
			var err error
			if iv.Years, iv.Months, iv.Duration, err = parseDuration(part); err != nil {
				return iv, fmt.Errorf("Malformed ISO8601 duration string: %s (%w)", part, err)
			}
			haveP = true
		default:
			if iv.HasStart {
				return iv, errors.New("Interval with start and end times is not supported")
			}
			var err error
			if iv.Start, iv.Naive, err = parseDateTime(part); err != nil {
				return iv, fmt.Errorf("Malformed ISO8601 date-time string: %s (%w)", part, err)
			}
			iv.HasStart = true
		}
	}
	switch {
	case !haveP:
		return iv, errors.New("No interval specification found")
	case iv.Calendar() && !iv.HasStart:
		return iv, errors.New("Intervals with year and month values are not valid without a start time")
	case haveR && iv.Recurrences == 0:
		return iv, errors.New("R0: a schedule must run at least once")
	case !iv.Calendar() && iv.Duration == 0:
		return iv, errors.New("zero-length interval (Pulp 2.4+ divides by zero computing next_run)")
	}
	return iv, nil
}

// splitInterval is Python's re.split("(--|/)", s) less the separators: an
// empty part stays, and fails as a date-time, as in Pulp.
func splitInterval(s string) []string {
	var parts []string
	start := 0
	for i := 0; i < len(s); {
		switch {
		case s[i] == '/':
			parts, i = append(parts, s[start:i]), i+1
			start = i
		case strings.HasPrefix(s[i:], "--"):
			parts, i = append(parts, s[start:i]), i+2
			start = i
		default:
			i++
		}
	}
	return append(parts, s[start:])
}

// isRecurrence is Pulp's ^R(\d+)$ (ASCII digits; leading zeros are fine).
func isRecurrence(part string) bool {
	return len(part) > 1 && part[0] == 'R' && allDigits(part[1:])
}

// parseDuration reads isodate's ISO8601_PERIOD_REGEX, PnYnMnWnDTnHnMnS: each
// component optional but in that order, any of them fractional ("," or "."),
// an empty time part allowed (P1DT); the sum is rounded to the microsecond
// as Python's timedelta does (so PT0.0000001S is zero). The regex's sign
// never reaches isodate in Pulp ("-P1D" does not start with P), and the
// alternative format (P0001-00-00T...) fails through Pulp's wrapper, so
// neither is read here.
func parseDuration(s string) (years, months int, d time.Duration, err error) {
	if s == "P" { // isodate's P(?!\b)
		return 0, 0, 0, errors.New("no components")
	}
	datePart, timePart, _ := strings.Cut(s[1:], "T")
	ymwd, err := designated(datePart, "YMWD")
	if err != nil {
		return 0, 0, 0, err
	}
	hms, err := designated(timePart, "HMS")
	if err != nil {
		return 0, 0, 0, err
	}
	if years, err = calendarCount(ymwd['Y'], 1); err != nil {
		return 0, 0, 0, err
	}
	if months, err = calendarCount(ymwd['M'], 12); err != nil {
		return 0, 0, 0, err
	}
	micros := new(big.Rat)
	for _, c := range []struct {
		v    string
		unit time.Duration
	}{{ymwd['W'], 7 * 24 * time.Hour}, {ymwd['D'], 24 * time.Hour}, {hms['H'], time.Hour}, {hms['M'], time.Minute}, {hms['S'], time.Second}} {
		if c.v != "" {
			micros.Add(micros, decimal(c.v, int64(c.unit/time.Microsecond)))
		}
	}
	n := roundHalfEven(micros)
	if !n.IsInt64() || n.Int64() > math.MaxInt64/int64(time.Microsecond) {
		return 0, 0, 0, errors.New("longer than 292 years")
	}
	return years, months, time.Duration(n.Int64()) * time.Microsecond, nil
}

// designated splits "1Y2.5D" into numbers by designator, the designators in
// the order of units, each at most once.
func designated(s, units string) (map[byte]string, error) {
	vals := map[byte]string{}
	for s != "" {
		n := numberLen(s)
		if n == 0 || n == len(s) {
			return nil, fmt.Errorf("%q is not a number followed by one of %s", s, units)
		}
		i := strings.IndexByte(units, s[n])
		if i < 0 {
			return nil, fmt.Errorf("%q: %c is not one of %s, or is out of order", s, s[n], units)
		}
		vals[s[n]], units, s = s[:n], units[i+1:], s[n+1:]
	}
	return vals, nil
}

// numberLen is the length of the number s starts with, [0-9]+([,.][0-9]+)?,
// or 0.
func numberLen(s string) int {
	i := digitsLen(s)
	if i == 0 || i == len(s) || (s[i] != '.' && s[i] != ',') {
		return i
	}
	if j := digitsLen(s[i+1:]); j > 0 {
		return i + 1 + j
	}
	return 0
}

// calendarCount is a whole number of years or months, bounded as Python's
// datetime is (year 9999 at most). isodate parses fractional ones but
// refuses them in date arithmetic, which Pulp does on the first read (a 500).
func calendarCount(v string, perYear int) (int, error) {
	if v == "" {
		return 0, nil
	}
	if !allDigits(v) {
		return 0, fmt.Errorf("fractional years or months (%s) cannot step a date", v)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n > maxYears*perYear {
		return 0, fmt.Errorf("%s years or months go past year %d", v, maxYears)
	}
	return n, nil
}

// Step is the k-th slot (k >= 0) of the interval counted from first, in UTC,
// as Pulp computes slots: a plain duration is first + k·Duration; a calendar
// one is stepped k times, each step adding the months with the day clamped
// to the month's length and then the rest (isodate's Duration + datetime),
// so a clamp sticks: 31 January → 28 February → 28 March (§9). A calendar
// Step costs k steps.
func (iv Interval) Step(first time.Time, k int) time.Time {
	t := first.UTC()
	if !iv.Calendar() {
		return addTimes(t, iv.Duration, int64(max(k, 0)))
	}
	for range k {
		t = iv.step(t)
	}
	return t
}

// step is one step of the interval after t (UTC).
func (iv Interval) step(t time.Time) time.Time {
	if !iv.Calendar() {
		return t.Add(iv.Duration)
	}
	y, m, d := t.Date()
	months := int(m) - 1 + iv.Months + 12*iv.Years
	y, m = y+months/12, time.Month(months%12+1)
	hh, mm, ss := t.Clock()
	return time.Date(y, m, min(d, daysIn(y, m)), hh, mm, ss, t.Nanosecond(), time.UTC).Add(iv.Duration)
}

// addTimes is t + k·d without overflowing time.Duration.
func addTimes(t time.Time, d time.Duration, k int64) time.Time {
	limit := int64(math.MaxInt64 / d)
	for k > 0 {
		n := min(k, limit)
		t, k = t.Add(time.Duration(n)*d), k-n
	}
	return t
}

// String renders the interval so that ParseInterval reads it back the same:
// R<n>, the start in its own offset, the duration. (Pulp echoes the
// client's own string as `schedule`; this is for logs and tests.)
func (iv Interval) String() string {
	var parts []string
	if iv.Recurrences > 0 {
		parts = append(parts, "R"+strconv.Itoa(iv.Recurrences))
	}
	if iv.HasStart {
		layout := "2006-01-02T15:04:05.999999999Z07:00"
		if iv.Naive {
			layout = "2006-01-02T15:04:05.999999999"
		}
		parts = append(parts, iv.Start.Format(layout))
	}
	return strings.Join(append(parts, iv.durationString()), "/")
}

func (iv Interval) durationString() string {
	var b strings.Builder
	b.WriteString("P")
	put := func(n int64, unit string) {
		if n != 0 {
			fmt.Fprintf(&b, "%d%s", n, unit)
		}
	}
	d := iv.Duration
	put(int64(iv.Years), "Y")
	put(int64(iv.Months), "M")
	put(int64(d/(24*time.Hour)), "D")
	if d%(24*time.Hour) != 0 {
		b.WriteString("T")
		put(int64(d%(24*time.Hour)/time.Hour), "H")
		put(int64(d%time.Hour/time.Minute), "M")
		if s := d % time.Minute; s%time.Second != 0 {
			fmt.Fprintf(&b, "%d.%sS", s/time.Second, strings.TrimRight(fmt.Sprintf("%09d", s%time.Second), "0"))
		} else {
			put(int64(s/time.Second), "S")
		}
	}
	return b.String()
}

// decimal is the decimal number v ("12", "1.5" or "1,5") times unit, exactly.
func decimal(v string, unit int64) *big.Rat {
	r, _ := new(big.Rat).SetString(strings.Replace(v, ",", ".", 1))
	return r.Mul(r, new(big.Rat).SetInt64(unit))
}

// roundHalfEven rounds a non-negative r as Python's timedelta rounds its
// microseconds.
func roundHalfEven(r *big.Rat) *big.Int {
	q, rem := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	switch rem.Lsh(rem, 1).Cmp(r.Denom()) {
	case 1:
		q.Add(q, big.NewInt(1))
	case 0:
		if q.Bit(0) == 1 {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// shaped reports whether s has the shape of pattern, '9' standing for an
// ASCII digit and anything else for itself.
func shaped(s, pattern string) bool {
	if len(s) != len(pattern) {
		return false
	}
	for i := range len(s) {
		if pattern[i] == '9' && !isDigit(s[i]) || pattern[i] != '9' && s[i] != pattern[i] {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digitsLen(s string) int {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return i
}

func allDigits(s string) bool { return s != "" && digitsLen(s) == len(s) }

// atoi reads a few digits that shaped has checked.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func daysIn(y int, m time.Month) int { return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day() }

// isoWeeks is the number of ISO weeks in year y: 28 December is always in
// the last one.
func isoWeeks(y int) int {
	_, w := time.Date(y, 12, 28, 0, 0, 0, 0, time.UTC).ISOWeek()
	return w
}

// isoWeekday is 1 for Monday to 7 for Sunday.
func isoWeekday(t time.Time) int {
	if wd := int(t.Weekday()); wd != 0 {
		return wd
	}
	return 7
}
