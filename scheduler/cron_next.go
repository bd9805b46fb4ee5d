package scheduler

import (
	"math/bits"
	"time"
)

// cronSchedule is a parsed Quartz expression. Next walks its fields from the
// year down to the second, so a slot years away costs a few hundred steps,
// not one per second.
type cronSchedule struct {
	second, minute, hour, month bitset
	year                        bitset // years less firstYear
	days                        dayRule
	loc                         *time.Location
}

// bitset holds the values of one field (at most 130, the years).
type bitset [3]uint64

func bitsOf(vs ...int) bitset {
	var b bitset
	for _, v := range vs {
		b.add(v)
	}
	return b
}

func (b *bitset) add(v int) { b[v>>6] |= 1 << (v & 63) }

func (b bitset) has(v int) bool { return v >= 0 && v < 64*len(b) && b[v>>6]&(1<<(v&63)) != 0 }

// next is the smallest value >= v in b, or -1.
func (b bitset) next(v int) int {
	v = max(v, 0)
	for i := v >> 6; i < len(b); i++ {
		w := b[i]
		if i == v>>6 {
			w &= ^uint64(0) << (v & 63)
		}
		if w != 0 {
			return i<<6 + bits.TrailingZeros64(w)
		}
	}
	return -1
}

// dayRule is how the days of a month are chosen: by exactly one of the two
// day fields, which Quartz insists on.
type dayRule struct {
	kind    dayKind
	set     bitset // domSet: days of the month; dowSet: days of the week, 1=Sunday
	n       int    // domLast: days before the last; domNearest: the day; dowNth: which one
	weekday int    // dowLast, dowNth: 1=Sunday .. 7=Saturday
	nearest bool   // domLast: the weekday nearest to that day (LW, L-nW)
}

type dayKind int

const (
	domSet     dayKind = iota // 1,15 or 1-10
	domLast                   // L, L-n, LW, L-nW
	domNearest                // nW
	dowSet                    // MON-FRI
	dowLast                   // 6L: the last Friday
	dowNth                    // MON#2: the second Monday
)

// calendarMonth is a month as the day rules see it.
type calendarMonth struct {
	last  int // its number of days
	first int // the weekday of its 1st, 0=Sunday
}

func monthOf(y int, m time.Month) calendarMonth {
	return calendarMonth{
		last:  time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day(),
		first: int(time.Date(y, m, 1, 0, 0, 0, 0, time.UTC).Weekday()),
	}
}

// weekday is Quartz's (1=Sunday) of day d, also for a day outside the month,
// as Quartz's lenient calendar counts it (31W in April).
func (c calendarMonth) weekday(d int) int { return ((c.first+d-1)%7+7)%7 + 1 }

// in is the bitset of the days of month c that the rule picks (bit d for day d).
func (r dayRule) in(c calendarMonth) bitset {
	var b bitset
	addIn := func(d int) {
		if d >= 1 && d <= c.last {
			b.add(d)
		}
	}
	switch r.kind {
	case domSet:
		for d := r.set.next(1); d > 0 && d <= c.last; d = r.set.next(d + 1) {
			b.add(d)
		}
	case domLast:
		// A day before the 1st (L-30 in February) has no slot that month.
		d := c.last - r.n
		if r.nearest {
			d = nearestWeekday(d, c.last, c.weekday(d))
		}
		addIn(d)
	case domNearest:
		// Quartz reads 31W in a 30-day month as the weekday nearest to the
		// day after the last: Friday the 30th when that day is a Saturday,
		// else no slot. Kept, so that such a task fires where Quartz fires it.
		addIn(nearestWeekday(r.n, c.last, c.weekday(r.n)))
	case dowSet:
		for d := 1; d <= c.last; d++ {
			if r.set.has(c.weekday(d)) {
				b.add(d)
			}
		}
	case dowLast:
		b.add(c.last - (c.weekday(c.last)-r.weekday+7)%7)
	case dowNth:
		addIn(1 + (r.weekday-c.weekday(1)+7)%7 + 7*(r.n-1))
	}
	return b
}

// nearestWeekday is Quartz's W: a Saturday moves to Friday and a Sunday to
// Monday, except that neither crosses into another month.
func nearestWeekday(d, last, weekday int) int {
	const sunday, saturday = 1, 7
	switch {
	case weekday == saturday && d == 1:
		return 3
	case weekday == saturday:
		return d - 1
	case weekday == sunday && d == last:
		return d - 2
	case weekday == sunday:
		return d + 1
	}
	return d
}

// Next implements Schedule. Like Quartz it fires on whole seconds, and walks
// the wall clock of loc.
func (c *cronSchedule) Next(t time.Time) time.Time {
	from := t.Truncate(time.Second)
	w := from.Add(time.Second).In(c.loc)
	wy, wm, wd := w.Date()
	start := [6]int{wy, int(wm), wd, w.Hour(), w.Minute(), w.Second()}
	skipY, skipM := c.lenientSkip(start)
	for y := c.nextYear(start[0]); y > 0; y = c.nextYear(y + 1) {
		atStart := y == start[0]
		for m := c.month.next(walkFrom(atStart, start[1])); m > 0; m = c.month.next(m + 1) {
			if y == skipY && m == skipM {
				continue
			}
			if s, ok := c.inMonth(y, m, atStart && m == start[1], start, from); ok {
				return s.UTC()
			}
		}
	}
	return time.Time{}
}

// lenientSkip is the month that Quartz's walk for nW jumps over, if any.
// Having passed the slot of the start month, Quartz moves on to day n of the
// next month with a lenient calendar: when that month is shorter than n (30W
// in February) it lands in the month after, so the short month has no slot
// even where dayRule.in would give it one. A task that fired on January 30th
// under 30W therefore skips February 29th in Quartz, and here.
func (c *cronSchedule) lenientSkip(start [6]int) (y, m int) {
	if c.days.kind != domNearest {
		return 0, 0
	}
	y, mon, day := start[0], time.Month(start[1]), start[2]
	if !c.timeLeftOn(start[3], start[4], start[5]) {
		day++ // Quartz rolls to the next day first; past the month, no jump
	}
	cur := monthOf(y, mon)
	n := c.days.n
	if day > cur.last || nearestWeekday(n, cur.last, cur.weekday(n)) >= day {
		return 0, 0
	}
	if next := time.Date(y, mon+1, 1, 0, 0, 0, 0, time.UTC); n > monthOf(next.Year(), next.Month()).last {
		return next.Year(), int(next.Month())
	}
	return 0, 0
}

// timeLeftOn tells whether a time of day at or after h:mi:s matches.
func (c *cronSchedule) timeLeftOn(h, mi, s int) bool {
	if c.hour.has(h) && (c.minute.has(mi) && c.second.next(s) >= 0 || c.minute.next(mi+1) >= 0) {
		return true
	}
	return c.hour.next(h+1) >= 0
}

func (c *cronSchedule) nextYear(y int) int {
	if v := c.year.next(y - firstYear); v >= 0 {
		return v + firstYear
	}
	return -1
}

// walkFrom is where a field's walk starts: at the start time's value while every
// larger field is still at the start time's, else at the field's first value.
func walkFrom(atStart bool, v int) int {
	if atStart {
		return v
	}
	return 0
}

func (c *cronSchedule) inMonth(y, m int, atStart bool, start [6]int, from time.Time) (time.Time, bool) {
	days := c.days.in(monthOf(y, time.Month(m)))
	for d := days.next(walkFrom(atStart, start[2])); d > 0; d = days.next(d + 1) {
		atDay := atStart && d == start[2]
		for h := c.hour.next(walkFrom(atDay, start[3])); h >= 0; h = c.hour.next(h + 1) {
			atHour := atDay && h == start[3]
			for mi := c.minute.next(walkFrom(atHour, start[4])); mi >= 0; mi = c.minute.next(mi + 1) {
				atMinute := atHour && mi == start[4]
				for s := c.second.next(walkFrom(atMinute, start[5])); s >= 0; s = c.second.next(s + 1) {
					if t, ok := c.instant(y, m, d, h, mi, s); ok && t.After(from) {
						return t, true
					}
				}
			}
		}
	}
	return time.Time{}, false
}

// instant is the wall-clock time in loc. A time that the clocks skip (spring
// forward) does not exist and has no slot, as in Quartz; a time they pass
// twice (fall back) is the later of the two, as java.util.Calendar resolves
// it for Quartz.
func (c *cronSchedule) instant(y, m, d, h, mi, s int) (time.Time, bool) {
	t := time.Date(y, time.Month(m), d, h, mi, s, 0, c.loc)
	if !isWall(t, y, m, d, h, mi, s) {
		return time.Time{}, false
	}
	_, off := t.Zone()
	for _, probe := range [...]time.Duration{-12 * time.Hour, 12 * time.Hour} {
		_, probeOff := t.Add(probe).Zone()
		alt := t.Add(time.Duration(off-probeOff) * time.Second)
		if alt.After(t) && isWall(alt.In(c.loc), y, m, d, h, mi, s) {
			t = alt
		}
	}
	return t, true
}

func isWall(t time.Time, y, m, d, h, mi, s int) bool {
	ty, tm, td := t.Date()
	th, tmi, ts := t.Clock()
	return ty == y && int(tm) == m && td == d && th == h && tmi == mi && ts == s
}
