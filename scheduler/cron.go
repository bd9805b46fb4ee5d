package scheduler

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Cron expressions are Quartz's (org.quartz.CronExpression), because bk-repo
// validates and fires its tasks with Quartz: an expression it accepts must be
// accepted here and fire at the same times, and one it refuses must be
// refused. Where Quartz accepts text and silently ignores part of it (a step
// after a name, "15W" in a list, a trailing character), the expression is
// refused here instead: a loud refusal beats a schedule nobody meant.

// Schedule is a parsed cron expression.
type Schedule interface {
	// Next is the first slot strictly after t, in UTC; the zero time when the
	// expression has no more slots (its years have passed).
	Next(t time.Time) time.Time
}

// ParseCron parses a Quartz cron expression, evaluated in loc: six or seven
// fields (seconds minutes hours day-of-month month day-of-week [year]).
func ParseCron(expr string, loc *time.Location) (Schedule, error) {
	// Quartz splits on spaces and tabs only.
	fields := strings.FieldsFunc(expr, func(r rune) bool { return r == ' ' || r == '\t' })
	switch {
	case len(fields) == 0:
		return nil, errors.New("cron expression is empty")
	case strings.HasPrefix(fields[0], "@"):
		return nil, fmt.Errorf("cron expression %q: descriptors such as @daily are not Quartz; write the fields (e.g. 0 0 0 * * ?)", expr)
	case strings.HasPrefix(fields[0], "TZ=") || strings.HasPrefix(fields[0], "CRON_TZ="):
		return nil, fmt.Errorf("cron expression %q: time zones come from the agent's --time-zone", expr)
	case len(fields) == 1:
		return nil, fmt.Errorf("cron expression %q has 1 field; %s", expr, fieldCount)
	case len(fields) < 6 || len(fields) > 7:
		return nil, fmt.Errorf("cron expression %q has %d fields; %s", expr, len(fields), fieldCount)
	}
	if loc == nil {
		loc = time.UTC
	}
	s, err := parseFields(fields, loc)
	if err != nil {
		return nil, fmt.Errorf("cron expression %q: %w", expr, err)
	}
	return s, nil
}

const fieldCount = "Quartz expressions have 6 or 7 (seconds minutes hours day-of-month month day-of-week [year])"

// field is one position of an expression: its name (for messages), bounds
// and, for month and day-of-week, the names Quartz takes for values.
type field struct {
	name     string
	min, max int
	names    []string // names[i] is value min+i
	noWrap   bool     // a range whose end is before its start is refused
	offset   int      // values are kept in a bitset as value-offset (years)
}

var (
	secondField = field{name: "seconds", min: 0, max: 59}
	minuteField = field{name: "minutes", min: 0, max: 59}
	hourField   = field{name: "hours", min: 0, max: 23}
	domField    = field{name: "day-of-month", min: 1, max: 31}
	monthField  = field{name: "month", min: 1, max: 12, names: []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}}
	dowField    = field{name: "day-of-week", min: 1, max: 7, names: []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}}
	// Quartz documents 1970-2099 for years, and cannot wrap a year range.
	yearField = field{name: "year", min: firstYear, max: lastYear, noWrap: true, offset: firstYear}
)

const firstYear, lastYear = 1970, 2099

func parseFields(fields []string, loc *time.Location) (*cronSchedule, error) {
	// Quartz upper-cases the whole expression: names and L, W are case-insensitive.
	up := make([]string, len(fields))
	for i, f := range fields {
		up[i] = strings.ToUpper(f)
	}
	if len(up) == 6 {
		up = append(up, "*")
	}
	s := &cronSchedule{loc: loc}
	var err error
	sets := []struct {
		f   field
		dst *bitset
		i   int
	}{{secondField, &s.second, 0}, {minuteField, &s.minute, 1}, {hourField, &s.hour, 2}, {monthField, &s.month, 4}, {yearField, &s.year, 6}}
	for _, p := range sets {
		if *p.dst, err = p.f.parseSet(up[p.i]); err != nil {
			return nil, p.f.errorIn(fields, p.i, err)
		}
	}
	if s.days, err = parseDays(fields, up[3], up[5]); err != nil {
		return nil, err
	}
	return s, nil
}

// errorIn names the field and its text as written in an error.
func (f field) errorIn(fields []string, i int, err error) error {
	text := "*"
	if i < len(fields) {
		text = fields[i]
	}
	return fmt.Errorf("%s %q: %w", f.name, text, err)
}

// parseDays reads the two day fields, of which Quartz uses exactly one: the
// other must be '?'.
func parseDays(fields []string, dom, dow string) (dayRule, error) {
	switch {
	case dom == "?" && dow == "?":
		return dayRule{}, errors.New("day-of-month and day-of-week are both '?'; exactly one of them must be")
	case dom != "?" && dow != "?":
		return dayRule{}, errors.New("day-of-month and day-of-week are both set; one of them must be '?'")
	case dow == "?":
		r, err := parseDayOfMonth(dom)
		if err != nil {
			return dayRule{}, domField.errorIn(fields, 3, err)
		}
		return r, nil
	default:
		r, err := parseDayOfWeek(dow)
		if err != nil {
			return dayRule{}, dowField.errorIn(fields, 5, err)
		}
		return r, nil
	}
}

func parseDayOfMonth(s string) (dayRule, error) {
	switch {
	case strings.HasPrefix(s, "L"):
		return parseLastDay(s)
	case strings.Contains(s, "L"):
		return dayRule{}, errors.New("'L' stands alone: L, L-n, LW or L-nW")
	case strings.HasSuffix(s, "W"):
		d, err := domField.single(s[:len(s)-1], "'W' follows a single day, as in 15W")
		return dayRule{kind: domNearest, n: d}, err
	case strings.Contains(s, "W"):
		return dayRule{}, errors.New("'W' follows a single day, as in 15W, or L")
	case strings.Contains(s, "#"):
		return dayRule{}, errors.New("'#' is for day-of-week")
	}
	set, err := domField.parseSet(s)
	return dayRule{kind: domSet, set: set}, err
}

// parseLastDay reads L (the last day), L-n (n days before it), LW and L-nW
// (the weekday nearest to those).
func parseLastDay(s string) (dayRule, error) {
	r := dayRule{kind: domLast}
	rest := s[1:]
	if trimmed, ok := strings.CutSuffix(rest, "W"); ok {
		r.nearest, rest = true, trimmed
	}
	if rest == "" {
		return r, nil
	}
	digits, ok := strings.CutPrefix(rest, "-")
	n, isNum := number(digits)
	if !ok || !isNum || n < 0 || n > 30 {
		return dayRule{}, errors.New("'L' stands alone or as L-n with n from 0 to 30, optionally followed by W")
	}
	r.n = n
	return r, nil
}

func parseDayOfWeek(s string) (dayRule, error) {
	switch {
	case s == "L": // Quartz: L alone in day-of-week is 7, every Saturday
		return dayRule{kind: dowSet, set: bitsOf(7)}, nil
	case strings.Contains(s, "#"):
		day, nth, _ := strings.Cut(s, "#")
		wd, err := dowField.single(day, "'#' follows a single day of the week, as in MON#2")
		if err != nil {
			return dayRule{}, err
		}
		k, ok := number(nth)
		if !ok || k < 1 || k > 5 {
			return dayRule{}, errors.New("the number after '#' must be from 1 to 5")
		}
		return dayRule{kind: dowNth, weekday: wd, n: k}, nil
	case strings.HasSuffix(s, "L"):
		wd, err := dowField.single(s[:len(s)-1], "'L' follows a single day of the week, as in 6L or FRIL, or stands alone")
		return dayRule{kind: dowLast, weekday: wd}, err
	case strings.Contains(s, "L"): // no name of a day has an L
		return dayRule{}, errors.New("'L' follows a single day of the week, as in 6L or FRIL, or stands alone")
	}
	set, err := dowField.parseSet(s)
	return dayRule{kind: dowSet, set: set}, err
}

// single reads one value (a number or a name) before a special character.
func (f field) single(s, want string) (int, error) {
	if s == "" || strings.ContainsAny(s, ",-/*?") {
		return 0, errors.New(want)
	}
	v, _, err := f.value(s)
	return v, err
}

// parseSet reads '*' or a comma-separated list of values, ranges (a-b, which
// wrap when b < a: hours 22-2) and increments (a/n, */n, a-b/n).
func (f field) parseSet(s string) (bitset, error) {
	var b bitset
	if s == "?" {
		return b, errors.New("'?' is allowed only in day-of-month or day-of-week, and stands alone there")
	}
	for item := range strings.SplitSeq(s, ",") {
		if err := f.addItem(&b, item); err != nil {
			return bitset{}, err
		}
	}
	return b, nil
}

func (f field) addItem(b *bitset, item string) error {
	base, stepText, stepped := strings.Cut(item, "/")
	lo, hi, named, err := f.bounds(base, stepped)
	if err != nil {
		return err
	}
	step := 1
	if stepped {
		if named {
			// Quartz drops a step after a name (MON-FRI/2 is every weekday).
			return fmt.Errorf("%q: Quartz ignores a step after a name; write the range in numbers", item)
		}
		n, ok := number(stepText)
		if !ok || n < 1 || n > f.max {
			return fmt.Errorf("%q: the step must be a number from 1 to %d", item, f.max)
		}
		step = n
	}
	if hi < lo {
		if f.noWrap {
			return fmt.Errorf("%q: a range of years cannot wrap", item)
		}
		hi += f.max - f.min + 1
	}
	for v := lo; v <= hi; v += step {
		w := v
		if w > f.max {
			w -= f.max - f.min + 1
		}
		b.add(w - f.offset)
	}
	return nil
}

// bounds reads '*', a value or a range; a lone value with a step runs to the
// field's maximum, as in Quartz. An empty base with a step is Quartz's "/n",
// the same as "*/n".
func (f field) bounds(base string, stepped bool) (lo, hi int, named bool, err error) {
	switch {
	case base == "*" || (base == "" && stepped):
		return f.min, f.max, false, nil
	case strings.Contains(base, "-"):
		a, z, _ := strings.Cut(base, "-")
		lo, aNamed, err := f.value(a)
		if err != nil {
			return 0, 0, false, err
		}
		hi, zNamed, err := f.value(z)
		if err != nil {
			return 0, 0, false, err
		}
		if aNamed != zNamed {
			return 0, 0, false, fmt.Errorf("%q: a range is two numbers or two names", base)
		}
		return lo, hi, aNamed, nil
	}
	v, named, err := f.value(base)
	if stepped {
		return v, f.max, named, err
	}
	return v, v, named, err
}

// value reads a number in the field's bounds, or one of its names.
func (f field) value(s string) (v int, named bool, err error) {
	if i := slices.Index(f.names, s); i >= 0 {
		return f.min + i, true, nil
	}
	n, ok := number(s)
	switch {
	case s == "":
		return 0, false, errors.New("a value is missing")
	case !ok && f.names != nil:
		return 0, false, fmt.Errorf("%q is neither a number nor a name (%s-%s)", s, f.names[0], f.names[len(f.names)-1])
	case !ok:
		return 0, false, fmt.Errorf("%q is not a number", s)
	case n < f.min || n > f.max:
		return 0, false, fmt.Errorf("%s is out of range %d-%d", s, f.min, f.max)
	}
	return n, false, nil
}

// number reads decimal digits only (no sign); a number too large to hold is
// returned as -1, out of every field's range.
func number(s string) (int, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1, true
	}
	return n, true
}
