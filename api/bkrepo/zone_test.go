package bkrepo

import (
	"testing"
	"time"
	_ "time/tzdata" // the zones the test names, whatever the machine has
)

// The zones Java's ZoneId.of reads, as the web UI's X-BKREPO-TIME-ZONE
// carries them, and what is no zone (the agent's then).
func TestParseZone(t *testing.T) {
	at := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	for s, offset := range map[string]int{
		"Asia/Shanghai": 8 * 3600, "America/New_York": -5 * 3600, "UTC": 0, "Z": 0, "GMT": 0, " UTC ": 0,
		"+08:00": 8 * 3600, "+8": 8 * 3600, "-0530": -(5*3600 + 30*60), "UTC+8": 8 * 3600, "GMT+08:00": 8 * 3600, "UT-03": -3 * 3600, "+18:00": 18 * 3600,
	} {
		loc, ok := ParseZone(s)
		if !ok {
			t.Errorf("%q is no zone", s)
			continue
		}
		if _, off := at.In(loc).Zone(); off != offset {
			t.Errorf("%q: offset %d, want %d", s, off, offset)
		}
	}
	for _, s := range []string{"", "Local", "Mars/Olympus", "../etc/passwd", "/etc/localtime", "+19", "+08:60", "+", "UTC+", "GMT+x", "+123"} {
		if loc, ok := ParseZone(s); ok {
			t.Errorf("%q read as %v", s, loc)
		}
	}
}

// FuzzParseZone: any header reads as a zone or as none, without a panic,
// and a zone read shows times that read back the same.
func FuzzParseZone(f *testing.F) {
	for _, s := range []string{"Asia/Shanghai", "UTC+8", "+08:00", "-0530", "GMT", "Local", "../x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		loc, ok := ParseZone(s)
		if !ok {
			return
		}
		at := time.Date(2026, 12, 3, 4, 5, 6, 7_000_000, time.UTC)
		back, err := ParseTime(*FormatTime(at, loc), loc)
		if err != nil || !back.Equal(at) {
			t.Fatalf("%q: %s reads back as %s (%v)", s, at, back, err)
		}
	})
}
