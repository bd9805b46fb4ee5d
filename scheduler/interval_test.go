package scheduler

import (
	"strings"
	"testing"
	"time"
)

var (
	jan2030   = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	plus8     = time.FixedZone("", 8*3600)
	minus0530 = time.FixedZone("", -(5*3600 + 30*60))
)

// Every row of the contract's §8 table, accepted ones with what Pulp's
// parse_iso8601_interval returned, and a few more of isodate's forms.
func TestParseIntervalAsPulp(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct {
		in    string
		want  Interval
		first string // first_run as rendered, when there is a start
	}{
		{in: "PT1H", want: Interval{Duration: time.Hour}},
		{in: "P1D", want: Interval{Duration: day}},
		{in: "P1W", want: Interval{Duration: 7 * day}},
		{in: "P2W3D", want: Interval{Duration: 17 * day}},
		{in: "PT36H", want: Interval{Duration: 36 * time.Hour}},
		{in: "P1DT12H", want: Interval{Duration: 36 * time.Hour}},
		{in: "PT1.5H", want: Interval{Duration: 90 * time.Minute}},
		{in: "P1DT", want: Interval{Duration: day}},
		{in: "R1/P1DT", want: Interval{Duration: day, Recurrences: 1}},
		{in: "R03/PT1H", want: Interval{Duration: time.Hour, Recurrences: 3}},
		{in: "PT1H/R3", want: Interval{Duration: time.Hour, Recurrences: 3}},
		{in: "2030-01-01T00:00:00Z/R3/PT1H", want: Interval{Duration: time.Hour, Start: jan2030, HasStart: true, Recurrences: 3}, first: "2030-01-01T00:00:00Z"},
		{in: "R3/2030-01-01T00:00:00Z/PT1H", want: Interval{Duration: time.Hour, Start: jan2030, HasStart: true, Recurrences: 3}, first: "2030-01-01T00:00:00Z"},
		{in: "R2--2030-01-01T00:00:00Z--PT30M", want: Interval{Duration: 30 * time.Minute, Start: jan2030, HasStart: true, Recurrences: 2}, first: "2030-01-01T00:00:00Z"},
		{in: "20300101T000000Z/PT1H", want: Interval{Duration: time.Hour, Start: jan2030, HasStart: true}, first: "2030-01-01T00:00:00Z"},
		{in: "2030-001T00:00:00Z/PT1H", want: Interval{Duration: time.Hour, Start: jan2030, HasStart: true}, first: "2030-01-01T00:00:00Z"},
		{in: "2030-W01-1T00:00:00Z/PT1H", want: Interval{Duration: time.Hour, Start: time.Date(2029, 12, 31, 0, 0, 0, 0, time.UTC), HasStart: true}, first: "2029-12-31T00:00:00Z"},
		{in: "2030-01-01T00:00:00.5Z/PT1H", want: Interval{Duration: time.Hour, Start: jan2030.Add(500 * time.Millisecond), HasStart: true}, first: "2030-01-01T00:00:00Z"},
		{in: "2030-01-01T08:00:00+08:00/PT1H", want: Interval{Duration: time.Hour, Start: time.Date(2030, 1, 1, 8, 0, 0, 0, plus8), HasStart: true}, first: "2030-01-01T08:00:00+08:00"},
		// Naive: Pulp took the server's zone; Ferry takes UTC (§12.6).
		{in: "2030-01-01T00:00:00/PT1H", want: Interval{Duration: time.Hour, Start: jan2030, HasStart: true, Naive: true}, first: "2030-01-01T00:00:00Z"},
		{in: "2030-01-01T00:00Z/P1M", want: Interval{Months: 1, Start: jan2030, HasStart: true}, first: "2030-01-01T00:00:00Z"},
		{in: "2030-01-01T00:00Z/P1Y", want: Interval{Years: 1, Start: jan2030, HasStart: true}, first: "2030-01-01T00:00:00Z"},

		// More of isodate's grammar.
		{in: "2014-01-19T17:15Z/PT1H", want: Interval{Duration: time.Hour, Start: time.Date(2014, 1, 19, 17, 15, 0, 0, time.UTC), HasStart: true}, first: "2014-01-19T17:15:00Z"},
		{in: "2030W011T00Z/PT1,5S", want: Interval{Duration: 1500 * time.Millisecond, Start: time.Date(2029, 12, 31, 0, 0, 0, 0, time.UTC), HasStart: true}, first: "2029-12-31T00:00:00Z"},
		{in: "2030001T0830-0530/P1Y2M3W4DT5H6M7.25S", want: Interval{Years: 1, Months: 2, Duration: 25*day + 5*time.Hour + 6*time.Minute + 7250*time.Millisecond, Start: time.Date(2030, 1, 1, 8, 30, 0, 0, minus0530), HasStart: true}, first: "2030-01-01T08:30:00-05:30"},
		{in: "2030-01-01T08:30:15.25+08/PT0.5S", want: Interval{Duration: 500 * time.Millisecond, Start: time.Date(2030, 1, 1, 8, 30, 15, 250e6, plus8), HasStart: true}, first: "2030-01-01T08:30:15+08:00"},
		{in: "2030-01-01T08.5+0800/P0Y1D", want: Interval{Duration: day, Start: time.Date(2030, 1, 1, 8, 30, 0, 0, plus8), HasStart: true}, first: "2030-01-01T08:30:00+08:00"},
		{in: "2030-01-01T08:30.5-00:00/P1.5D", want: Interval{Duration: 36 * time.Hour, Start: time.Date(2030, 1, 1, 8, 30, 30, 0, time.UTC), HasStart: true}, first: "2030-01-01T08:30:30Z"},
		{in: "2032-366T23:59:59Z/PT1M", want: Interval{Duration: time.Minute, Start: time.Date(2032, 12, 31, 23, 59, 59, 0, time.UTC), HasStart: true}, first: "2032-12-31T23:59:59Z"},
		{in: "2026-W53-7T12:00:00Z/PT1H", want: Interval{Duration: time.Hour, Start: time.Date(2027, 1, 3, 12, 0, 0, 0, time.UTC), HasStart: true}, first: "2027-01-03T12:00:00Z"},
		{in: "R1/PT0.0000015S", want: Interval{Duration: 2 * time.Microsecond, Recurrences: 1}}, // timedelta rounds half to even
	} {
		got, err := ParseInterval(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if !sameInterval(got, c.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", c.in, got, c.want)
		}
		if c.first != "" {
			if f := NewCall(got, time.Now()).FirstRun.Format(time.RFC3339); f != c.first {
				t.Errorf("%s: first_run %s, want %s", c.in, f, c.first)
			}
		}
	}
}

func TestParseIntervalRefusesAsPulp(t *testing.T) {
	for in, why := range map[string]string{
		"P1M":             "year and month values are not valid without a start time",
		"P1Y":             "year and month values are not valid without a start time",
		"00:00:00Z/P1DT":  "Malformed ISO8601 date-time string: 00:00:00Z",
		"2030-01-01/PT1H": "Malformed ISO8601 date-time string",
		"R0/PT1H":         "R0",
		"R/PT1H":          "date-time",
		"R-1/PT1H":        "date-time",
		"-P1D":            "date-time",
		"PT-1H":           "duration",
		"p1d":             "date-time",
		" PT1H":           "date-time",
		"PT1H ":           "duration",
		"R3/PT1H/":        "date-time",
		"//PT1H":          "date-time",
		"PT1H/PT2H":       "Multiple interval durations specified",
		"R1/R2/PT1H":      "Multiple recurrences specified",
		"2030-01-01T00:00:00Z/2030-01-02T00:00:00Z": "Interval with start and end times is not supported",
		"2030-01-01T00:00:00Z":                      "No interval specification found",
		"P0001-00-00T00:00:00":                      "duration",
		"PT0S":                                      "zero-length",
		"PT":                                        "zero-length",
		"P0D":                                       "zero-length",
		"":                                          "date-time",
		"P":                                         "duration",
		"P1D2W":                                     "out of order",
		"P1H":                                       "duration",
		"PT1D":                                      "duration",
		"P1.5M":                                     "fractional",
		"PT.5S":                                     "duration",
		"PT1.S":                                     "duration",
		"P1d":                                       "duration",
		"PT0.0000004S":                              "zero-length", // under Python's microsecond
		"P10000Y":                                   "past year",
		"P999999999D":                               "292 years",
		"R99999999999999999999/PT1H":                "too many recurrences",
		"2030-01-01T00:00:00z/PT1H":                 "date-time",
		"2030-02-29T00:00:00Z/PT1H":                 "no such date",
		"2030-366T00:00:00Z/PT1H":                   "no such date",
		"2030-W53-1T00:00:00Z/PT1H":                 "no such date",
		"2030-W01-8T00:00:00Z/PT1H":                 "no such date",
		"0000-01-01T00:00:00Z/PT1H":                 "no such date",
		"9999-W52-7T00:00:00Z/PT1H":                 "no such date", // 10000-01-02
		"2030-01-01T24:00:00Z/PT1H":                 "out of range",
		"2030-01-01T23:59:60Z/PT1H":                 "out of range",
		"2030-01-01T00:00:00+24:00/PT1H":            "zone",
		"2030-01-01T00:00:00+0860/PT1H":             "zone",
		"2030-01-01T00:00:00.Z/PT1H":                "fraction",
		"2030-01T00:00:00Z/PT1H":                    "complete date",
		"2030-01-01T00:00:00Zjunk/PT1H":             "zone",
		"2030-01-01TT00:00:00Z/PT1H":                "'T'",
		"2030-01-01T00:00:00Z/P1M/P1M":              "Multiple interval durations specified",
	} {
		_, err := ParseInterval(in)
		if err == nil {
			t.Errorf("%q was accepted", in)
		} else if !strings.Contains(err.Error(), why) {
			t.Errorf("%q: %v; want it to say %q", in, err, why)
		}
	}
}

func TestStepClampsAndTheClampSticks(t *testing.T) {
	iv, _ := ParseInterval("2030-01-31T00:00:00Z/P1M")
	for k, want := range []string{"2030-01-31", "2030-02-28", "2030-03-28", "2030-04-28"} {
		if got := iv.Step(iv.Start, k).Format(time.DateOnly); got != want {
			t.Errorf("step %d: %s, want %s", k, got, want)
		}
	}
	iv, _ = ParseInterval("2028-01-31T10:00:00+08:00/P1Y1M1D")
	if got := iv.Step(iv.Start, 1); !got.Equal(time.Date(2029, 3, 1, 2, 0, 0, 0, time.UTC)) {
		t.Errorf("P1Y1M1D from 2028-01-31T02:00Z: %s", got) // months first, clamped to 28 February, then the day
	}
	iv, _ = ParseInterval("PT1H")
	if got := iv.Step(jan2030, 5); !got.Equal(jan2030.Add(5 * time.Hour)) {
		t.Errorf("PT1H ×5: %s", got)
	}
	iv, _ = ParseInterval("PT0.000001S")
	want := jan2030 // 2^62 µs later: past time.Duration's range
	for range 1 << 10 {
		want = want.Add(time.Duration(1<<52) * time.Microsecond)
	}
	if got := iv.Step(jan2030, 1<<62); !got.Equal(want) {
		t.Errorf("2^62 µs after 2030: %s, want %s", got, want)
	}
}

func TestIntervalStringParsesBack(t *testing.T) {
	for in, want := range map[string]string{
		"PT1H":                             "PT1H",
		"R03/P1DT":                         "R3/P1D",
		"PT1H/2030-01-01T08:00:00+08:00":   "2030-01-01T08:00:00+08:00/PT1H",
		"2030-01-01T00:00:00.5/P1M1DT1.5S": "2030-01-01T00:00:00.5/P1M1DT1.5S",
		"P2W3DT36H0.25S":                   "P18DT12H0.25S",
	} {
		iv, err := ParseInterval(in)
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		if got := iv.String(); got != want {
			t.Errorf("%s renders %s, want %s", in, got, want)
		}
	}
}

func sameInterval(a, b Interval) bool {
	_, aOff := a.Start.Zone()
	_, bOff := b.Start.Zone()
	return a.Years == b.Years && a.Months == b.Months && a.Duration == b.Duration &&
		a.HasStart == b.HasStart && a.Naive == b.Naive && a.Recurrences == b.Recurrences &&
		a.Start.Equal(b.Start) && aOff == bOff
}

func FuzzParseInterval(f *testing.F) {
	for _, s := range []string{
		"PT1H", "P1D", "P1W", "P2W3D", "PT36H", "P1DT12H", "PT1.5H", "P1DT", "R1/P1DT", "R03/PT1H", "PT1H/R3",
		"2030-01-01T00:00:00Z/R3/PT1H", "R3/2030-01-01T00:00:00Z/PT1H", "R2--2030-01-01T00:00:00Z--PT30M",
		"20300101T000000Z/PT1H", "2030-001T00:00:00Z/PT1H", "2030-W01-1T00:00:00Z/PT1H", "2030-01-01T00:00:00.5Z/PT1H",
		"2030-01-01T08:00:00+08:00/PT1H", "2030-01-01T00:00:00/PT1H", "2030-01-01T00:00Z/P1M", "2030-01-01T00:00Z/P1Y",
		"P1M", "P1Y", "00:00:00Z/P1DT", "2030-01-01/PT1H", "R0/PT1H", "R/PT1H", "R-1/PT1H", "-P1D", "PT-1H", "p1d",
		" PT1H", "PT1H ", "R3/PT1H/", "//PT1H", "PT1H/PT2H", "R1/R2/PT1H", "2030-01-01T00:00:00Z/2030-01-02T00:00:00Z",
		"2030-01-01T00:00:00Z", "P0001-00-00T00:00:00", "PT0S", "PT", "P0D", "2014-01-19T17:15Z/PT1H",
		"2030W011T00Z/PT1,5S", "2030001T0830-0530/P1Y2M3W4DT5H6M7.25S", "2030-01-01T08.5+0800/P0Y1D",
		"9999-12-31T23:59:59.999999999-23:59/P9999Y119988M", "0001-01-01T00:00:00+23:59/PT0.000001S",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		iv, err := ParseInterval(s)
		if err != nil {
			return
		}
		base := jan2030
		if iv.HasStart {
			base = iv.Start
		} else if iv.Calendar() {
			t.Fatalf("%q: a calendar duration without a start", s)
		}
		if !iv.Step(base, 1).After(base) || !iv.Step(base, 2).After(iv.Step(base, 1)) {
			t.Fatalf("%q: steps do not go forward: %s %s %s", s, base, iv.Step(base, 1), iv.Step(base, 2))
		}
		back, err := ParseInterval(iv.String())
		if err != nil {
			t.Fatalf("%q renders %q, which does not parse: %v", s, iv.String(), err)
		}
		if !sameInterval(back, iv) {
			t.Fatalf("%q renders %q, which parses to %#v, not %#v", s, iv.String(), back, iv)
		}
	})
}
