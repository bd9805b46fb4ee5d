package scheduler

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // zones the test names, whatever the machine has
)

// cronCases: the first slot after from, both wall clock in zone; want "" is
// no slot. want carries the zone's abbreviation, so that the two 01:30 of a
// night the clocks go back are told apart. The expectations agree with
// Quartz 2.3.2's CronExpression.getTimeAfter.
var cronCases = []struct {
	expr, zone, from, want string
}{
	// Quartz numbers the days of the week from Sunday = 1.
	{"0 0 12 ? * 1", "Asia/Shanghai", "2026-11-23 12:00:00", "2026-11-29 12:00:00 CST"},
	{"0 0 12 ? * 7", "Asia/Shanghai", "2026-11-23 12:00:00", "2026-11-28 12:00:00 CST"},
	{"0 0 12 ? * SUN", "UTC", "2026-11-23 12:00:00", "2026-11-29 12:00:00 UTC"},
	// bk-repo's default: every second; a fraction of a second is not a slot.
	{"* * * * * ? *", "Asia/Shanghai", "2026-11-23 12:00:00", "2026-11-23 12:00:01 CST"},
	{"* * * * * ? *", "UTC", "2026-11-23 12:00:00.5", "2026-11-23 12:00:01 UTC"},
	{"*/15 * * * * ?", "UTC", "2026-11-23 12:00:07", "2026-11-23 12:00:15 UTC"},
	// L: the last day; L-n: n days before it.
	{"0 0 12 L * ?", "Asia/Shanghai", "2028-02-01 00:00:00", "2028-02-29 12:00:00 CST"},
	{"0 0 12 L * ?", "Asia/Shanghai", "2026-02-01 00:00:00", "2026-02-28 12:00:00 CST"},
	{"0 0 12 L * ?", "UTC", "2026-02-28 12:00:00", "2026-03-31 12:00:00 UTC"},
	{"0 0 12 L-3 * ?", "Asia/Shanghai", "2026-02-01 00:00:00", "2026-02-25 12:00:00 CST"},
	{"0 0 12 L-3 * ?", "UTC", "2026-04-01 00:00:00", "2026-04-27 12:00:00 UTC"},
	{"0 0 12 L-30 * ?", "UTC", "2026-02-01 00:00:00", "2026-03-01 12:00:00 UTC"}, // February has no L-30
	// W: the nearest weekday, never in another month.
	{"0 0 12 15W * ?", "Asia/Shanghai", "2026-08-01 00:00:00", "2026-08-14 12:00:00 CST"}, // the 15th is a Saturday
	{"0 0 12 15W * ?", "Asia/Shanghai", "2026-03-01 00:00:00", "2026-03-16 12:00:00 CST"}, // a Sunday
	{"0 0 12 1W * ?", "Asia/Shanghai", "2026-07-31 00:00:00", "2026-08-03 12:00:00 CST"},  // the 1st is a Saturday
	{"0 0 12 LW * ?", "Asia/Shanghai", "2026-05-01 00:00:00", "2026-05-29 12:00:00 CST"},  // the 31st is a Sunday
	{"0 0 12 LW * ?", "UTC", "2026-01-01 00:00:00", "2026-01-30 12:00:00 UTC"},            // the 31st is a Saturday
	{"0 0 12 L-3W * ?", "UTC", "2026-03-01 00:00:00", "2026-03-27 12:00:00 UTC"},          // the 28th is a Saturday
	// Quartz's reading of 31W in a 30-day month: Friday the 30th when the
	// 31st would be a Saturday (April 2027), else nothing that month.
	{"0 0 12 31W * ?", "UTC", "2027-04-01 00:00:00", "2027-04-30 12:00:00 UTC"},
	{"0 0 12 31W * ?", "UTC", "2026-04-01 00:00:00", "2026-05-29 12:00:00 UTC"},
	// ... but having just passed January's slot, Quartz jumps over a
	// February shorter than n.
	{"0 0 12 30W * ?", "UTC", "2064-01-31 12:00:00", "2064-02-29 12:00:00 UTC"},
	{"0 0 12 30W * ?", "UTC", "2064-01-30 12:00:00", "2064-03-31 12:00:00 UTC"},
	// nL: the last such day of the month; n#k: the k-th.
	{"0 0 12 ? * 6L", "Asia/Shanghai", "2026-11-01 00:00:00", "2026-11-27 12:00:00 CST"},
	{"0 0 12 ? * 5L", "UTC", "2026-11-01 00:00:00", "2026-11-26 12:00:00 UTC"},
	{"0 0 12 ? * FRIL", "UTC", "2026-11-27 12:00:00", "2026-12-25 12:00:00 UTC"},
	{"0 0 12 ? * L", "UTC", "2026-11-23 12:00:00", "2026-11-28 12:00:00 UTC"}, // L alone is every Saturday
	{"0 0 12 ? * MON#2", "Asia/Shanghai", "2026-11-23 12:00:00", "2026-12-14 12:00:00 CST"},
	{"0 0 12 ? * 2#5", "Asia/Shanghai", "2026-12-01 00:00:00", "2027-03-29 12:00:00 CST"}, // no fifth Monday in Dec-Feb
	// The year field.
	{"0 0 12 * * ? 2099", "Asia/Shanghai", "2026-11-23 12:00:00", "2099-01-01 12:00:00 CST"},
	{"0 0 12 * * ? 2020", "Asia/Shanghai", "2026-11-23 12:00:00", ""},
	{"0 0 12 1 1 ? 2027-2028", "UTC", "2028-01-01 12:00:00", ""},
	{"0 0 0 1 1 ? 2030/2", "UTC", "2030-01-01 00:00:00", "2032-01-01 00:00:00 UTC"},
	// Lists, ranges, increments, and ranges that wrap.
	{"0 15 10 ? * MON-FRI", "Asia/Shanghai", "2026-11-27 11:00:00", "2026-11-30 10:15:00 CST"},
	{"0 0/5 14,18 * * ?", "Asia/Shanghai", "2026-11-23 14:57:00", "2026-11-23 18:00:00 CST"},
	{"0 0/5 14,18 * * ?", "UTC", "2026-11-23 18:55:00", "2026-11-24 14:00:00 UTC"},
	{"0 0 22-2 * * ?", "Asia/Shanghai", "2026-11-23 23:30:00", "2026-11-24 00:00:00 CST"},
	{"0 0 22-2 * * ?", "Asia/Shanghai", "2026-11-24 02:30:00", "2026-11-24 22:00:00 CST"},
	{"0 0 12 ? * FRI-MON", "UTC", "2026-11-23 13:00:00", "2026-11-27 12:00:00 UTC"},
	{"0 0 12 ? * 1-7/2", "UTC", "2026-11-23 13:00:00", "2026-11-24 12:00:00 UTC"}, // Sun, Tue, Thu, Sat
	{"0 0 12 28-3 * ?", "UTC", "2026-11-03 13:00:00", "2026-11-28 12:00:00 UTC"},
	// Days that some months lack.
	{"0 0 12 29 2 ?", "Asia/Shanghai", "2026-03-01 00:00:00", "2028-02-29 12:00:00 CST"},
	{"0 0 12 31 * ?", "Asia/Shanghai", "2026-04-01 00:00:00", "2026-05-31 12:00:00 CST"},
	{"0 0 12 31 * ?", "UTC", "2026-05-31 12:00:00", "2026-07-31 12:00:00 UTC"},
	{"0 0 12 30 2 ?", "UTC", "2026-01-01 00:00:00", ""},
	// Names, in any case.
	{"0 0 12 1 JAN-MAR ?", "Asia/Shanghai", "2026-03-02 00:00:00", "2027-01-01 12:00:00 CST"},
	{"0 0 12 ? NOV-FEB *", "UTC", "2026-03-01 00:00:00", "2026-11-01 12:00:00 UTC"},
	{"0 0 12 ? jan,jul mon", "Asia/Shanghai", "2026-11-23 00:00:00", "2027-01-04 12:00:00 CST"},
	{"0 0 12 l * ?", "UTC", "2026-02-01 00:00:00", "2026-02-28 12:00:00 UTC"},
	// DST: a time the clocks skip has no slot; a time they pass twice is
	// the later one, as Quartz's java.util.Calendar resolves it.
	{"0 30 2 * * ?", "America/New_York", "2026-03-07 12:00:00", "2026-03-09 02:30:00 EDT"},
	{"0 30 * * * ?", "America/New_York", "2026-03-08 01:45:00", "2026-03-08 03:30:00 EDT"},
	{"0 30 1 * * ?", "America/New_York", "2026-10-31 12:00:00", "2026-11-01 01:30:00 EST"},
	{"0 0 * * * ?", "America/New_York", "2026-11-01 00:30:00", "2026-11-01 01:00:00 EST"},
}

const wall = "2006-01-02 15:04:05"

func TestCronNext(t *testing.T) {
	for _, c := range cronCases {
		loc, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Fatal(err)
		}
		from, err := time.ParseInLocation(wall, c.from, loc)
		if err != nil {
			t.Fatal(err)
		}
		s, err := ParseCron(c.expr, loc)
		if err != nil {
			t.Errorf("%q: %v", c.expr, err)
			continue
		}
		got := s.Next(from)
		switch {
		case c.want == "" && !got.IsZero():
			t.Errorf("%q in %s after %s: %s, want no slot", c.expr, c.zone, c.from, got.In(loc).Format(wall+" MST"))
		case c.want != "" && got.In(loc).Format(wall+" MST") != c.want:
			t.Errorf("%q in %s after %s: %s, want %s", c.expr, c.zone, c.from, got.In(loc).Format(wall+" MST"), c.want)
		case !got.IsZero() && got.Location() != time.UTC:
			t.Errorf("%q: Next is in %s, not UTC", c.expr, got.Location())
		}
	}
}

// TestCronRefusals: what Quartz refuses, and (marked) what Quartz accepts
// only by ignoring part of it or never firing, each with the field the
// message names.
func TestCronRefusals(t *testing.T) {
	for _, c := range []struct{ expr, says string }{
		{"0 0 12 * * *", `cron expression "0 0 12 * * *": day-of-month and day-of-week are both set; one of them must be '?'`},
		{"0 0 12 ? * ?", "both '?'"},
		{"0 0 12 * * ? ?", `year "?"`},
		{"? 0 12 * * ?", `seconds "?"`},
		{"@daily", "descriptors"},
		{"@every 1h", "descriptors"},
		{"CRON_TZ=Asia/Shanghai 0 0 12 * * ?", "time zones"},
		{"*/5 * * * *", "has 5 fields"},
		{"0 0 12 * * ? 2030 1", "has 8 fields"}, // Quartz ignores an eighth field
		{"bad", "has 1 field;"},
		{"", "empty"},
		{" \t ", "empty"},
		{"60 * * * * ?", `seconds "60": 60 is out of range 0-59`},
		{"0 60 * * * ?", `minutes "60"`},
		{"0 0 24 * * ?", `hours "24": 24 is out of range 0-23`},
		{"0 0 12 32 * ?", `day-of-month "32"`},
		{"0 0 12 0 * ?", `day-of-month "0"`},
		{"0 0 12 ? * 8", `day-of-week "8": 8 is out of range 1-7`},
		{"0 0 12 ? * 0", `day-of-week "0"`}, // Unix's Sunday
		{"0 0 12 ? * MON#6", `day-of-week "MON#6": the number after '#' must be from 1 to 5`},
		{"0 0 12 ? * 8#1", `day-of-week "8#1"`}, // Quartz: accepted, never fires
		{"0 0 12 ? 13 *", `month "13": 13 is out of range 1-12`},
		{"0 0 12 ? JANUARY *", `month "JANUARY"`}, // Quartz reads JAN and drops the rest
		{"0 0 12 ? 1-MAR *", `month "1-MAR": "1-MAR": a range is two numbers or two names`},
		{"0 0 12 * * ? 1969", `year "1969"`}, // Quartz does not bound years; its documentation says 1970-2099
		{"0 0 12 * * ? 2100", `year "2100"`},
		{"0 0 12 * * ? 2030-2027", `year "2030-2027"`},
		{"0 0 12 L,15 * ?", `day-of-month "L,15"`},
		{"0 0 12 L-31 * ?", `day-of-month "L-31"`},
		{"0 0 12 0W * ?", `day-of-month "0W"`}, // Quartz accepts it, then loops forever
		{"0 0 12 ? * 1,L", `day-of-week "1,L"`},
		{"0 0 12 ? * MON#2,FRI#1", `day-of-week "MON#2,FRI#1"`},
		{"0 0 12 ? * LW", `day-of-week "LW"`}, // Quartz: every Saturday
		{"0 0 12 15W ? *", `month "?"`},
		{"0 0 12 ? * 15W", `day-of-week "15W"`},
		{"0 0 12 # * ?", `day-of-month "#"`},
		{"0 0 12 1W,15W * ?", `day-of-month "1W,15W"`},      // Quartz fires on 1W only
		{"0 0 12 ? * MON-FRI/2", `day-of-week "MON-FRI/2"`}, // Quartz: every weekday
		{"0 0 12 ? * 2-6L", `day-of-week "2-6L"`},           // Quartz drops the L
		{"*/0 * * * * ?", `seconds "*/0"`},                  // Quartz: every second
		{"0 0 12 1,,2 * ?", `day-of-month "1,,2"`},          // Quartz skips the empty item
		{"0 0 12 5X * ?", `day-of-month "5X"`},              // Quartz drops the X
		{"0 0 12 -1 * ?", `day-of-month "-1"`},
		{"0 0 12 +1 * ?", `day-of-month "+1"`},
		{"0 0 */99 * * ?", `hours "*/99"`},
		{"0 0 12 99999999999999999999 * ?", "out of range"},
	} {
		_, err := ParseCron(c.expr, time.UTC)
		if err == nil {
			t.Errorf("%q was accepted", c.expr)
		} else if !strings.Contains(err.Error(), c.says) {
			t.Errorf("%q: %v; want it to say %s", c.expr, err, c.says)
		}
	}
}

// TestCronNoMoreSlots: years run out, and a walk to the end is cheap.
func TestCronNoMoreSlots(t *testing.T) {
	s, _ := ParseCron("0 0 12 30 2 ?", time.UTC)
	start := time.Now()
	if got := s.Next(t0); !got.IsZero() {
		t.Fatalf("February 30th at %s", got)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("a walk to 2099 took %s", d)
	}
	s, _ = ParseCron("0 0 12 * * ?", time.UTC)
	if got := s.Next(time.Date(2099, 12, 31, 12, 0, 0, 0, time.UTC)); !got.IsZero() {
		t.Fatalf("a slot after 2099: %s", got)
	}
	if got := s.Next(time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)); !got.Equal(time.Date(1970, 1, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("the first slot of all is %s", got)
	}
}

// TestCronEverySecondThroughDST: no second is lost or doubled where the
// clocks go forward, and the repeated hour fires once (its later pass).
func TestCronEverySecondThroughDST(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	s, _ := ParseCron("* * * * * ?", ny)
	for _, c := range []struct{ from, want time.Time }{
		{time.Date(2026, 3, 8, 6, 59, 59, 0, time.UTC), time.Date(2026, 3, 8, 7, 0, 0, 0, time.UTC)}, // 01:59:59 EST -> 03:00:00 EDT
		{time.Date(2026, 11, 1, 5, 59, 59, 0, time.UTC), time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)},
		{time.Date(2026, 11, 1, 4, 59, 59, 0, time.UTC), time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)}, // 00:59:59 EDT -> 01:00:00 EST
	} {
		if got := s.Next(c.from); !got.Equal(c.want) {
			t.Errorf("after %s: %s, want %s", c.from, got, c.want)
		}
	}
}

func FuzzParseCron(f *testing.F) {
	for _, c := range cronCases {
		f.Add(c.expr, int64(1795435200), false)
	}
	for _, e := range []string{"0 0 12 * * *", "L-30W L L L L L", "0 0 12 ? * 7#5", "59-0/7 * 23-0 31W 12-1 ? 2099", "0 0 2 * * ?"} {
		f.Add(e, int64(1772953200), true)
	}
	ny, _ := time.LoadLocation("America/New_York")
	f.Fuzz(func(t *testing.T, expr string, unix int64, inNewYork bool) {
		loc := time.UTC
		if inNewYork {
			loc = ny
		}
		s, err := ParseCron(expr, loc)
		if err != nil {
			return
		}
		// 1900 to 2100, where the slots are.
		from := time.Unix(-2208988800+unix%(200*365*86400), 0)
		for range 3 {
			next := s.Next(from)
			if next.IsZero() {
				return
			}
			if !next.After(from) {
				t.Fatalf("%q: Next(%s) = %s", expr, from, next)
			}
			from = next
		}
	})
}
