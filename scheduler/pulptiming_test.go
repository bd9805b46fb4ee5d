package scheduler

import (
	"math"
	"testing"
	"time"
)

func pulpTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

func pulpInterval(t *testing.T, s string) Interval {
	t.Helper()
	iv, err := ParseInterval(s)
	if err != nil {
		t.Fatal(err)
	}
	return iv
}

// ran is c after a dispatch at each of ats and a successful end.
func ran(c CallState, ats ...time.Time) CallState {
	for _, at := range ats {
		c = c.Dispatched(at).Ended(true)
	}
	return c
}

// rendered is how the dialect shows a time: whole seconds, in its offset.
func rendered(at time.Time) string { return at.Format(time.RFC3339) }

// The worked examples #1-#17 of §9 (#18, the month-clamp quirk of Pulp's
// next_run, is not tested, as the contract says).
func TestPulpWorkedExamples(t *testing.T) {
	const created = "2026-11-23T12:00:00Z"
	for _, c := range []struct {
		n             int
		schedule      string
		created       string // when the schedule was created
		ran           []string
		now           string
		first, next   string
		due           bool
		untilNextSecs int // ceil(next_run - now), as Pulp's is_due answers it; 0 = not checked
	}{
		{n: 1, schedule: "2014-01-19T17:15Z/PT1H", created: "2014-01-09T22:42:10.966561Z", now: "2014-01-09T22:42:10.966561Z",
			first: "2014-01-19T17:15:00Z", next: "2014-01-19T17:15:00Z", untilNextSecs: 844370},
		{n: 2, schedule: "2014-01-10T20:00Z/PT1H", created: "2014-01-10T19:00:00Z", ran: []string{"2014-01-10T20:00:00Z", "2014-01-10T21:00:00Z"}, now: "2014-01-10T21:35:58.547976Z",
			first: "2014-01-10T20:00:00Z", next: "2014-01-10T22:00:00Z", untilNextSecs: 1442},
		{n: 3, schedule: "2014-01-10T20:00Z/PT1H", created: "2014-01-10T19:00:00Z", ran: []string{"2014-01-10T20:00:00Z"}, now: "2014-01-10T21:35:58Z",
			first: "2014-01-10T20:00:00Z", next: "2014-01-10T22:00:00Z", due: true},
		{n: 4, schedule: "2014-12-01T10:00Z/P1M", created: "2014-11-01T00:00:00Z", ran: []string{"2014-12-01T10:00:00Z", "2015-01-01T10:00:00Z"}, now: "2015-02-01T09:59:59Z",
			first: "2014-12-01T10:00:00Z", next: "2015-02-01T10:00:00Z"},
		{n: 4, schedule: "2014-12-01T10:00Z/P1M", created: "2014-11-01T00:00:00Z", ran: []string{"2014-12-01T10:00:00Z", "2015-02-01T10:00:00Z"}, now: "2015-03-01T09:59:59Z",
			first: "2014-12-01T10:00:00Z", next: "2015-03-01T10:00:00Z"},
		{n: 4, schedule: "2014-12-01T10:00Z/P1M", created: "2014-11-01T00:00:00Z", ran: []string{"2014-12-01T10:00:00Z", "2015-03-01T10:00:00Z"}, now: "2015-04-01T09:59:59Z",
			first: "2014-12-01T10:00:00Z", next: "2015-04-01T10:00:00Z"},
		{n: 4, schedule: "2014-12-01T10:00Z/P1M", created: "2014-11-01T00:00:00Z", ran: []string{"2014-12-01T10:00:00Z", "2015-04-01T10:00:00Z"}, now: "2015-05-01T09:59:59Z",
			first: "2014-12-01T10:00:00Z", next: "2015-05-01T10:00:00Z"},
		{n: 6, schedule: "R3/2030-01-01T00:00:00Z/PT1H", created: created, now: created, first: "2030-01-01T00:00:00Z", next: "2030-01-01T00:00:00Z"},
		{n: 7, schedule: "2030-01-01T08:00:00+08:00/PT1H", created: created, now: created, first: "2030-01-01T08:00:00+08:00", next: "2030-01-01T00:00:00Z"},
		{n: 8, schedule: "20300101T000000Z/PT6H", created: created, now: created, first: "2030-01-01T00:00:00Z", next: "2030-01-01T00:00:00Z"},
		{n: 9, schedule: "R2--2030-01-01T00:00:00Z--PT30M", created: created, now: created, first: "2030-01-01T00:00:00Z", next: "2030-01-01T00:00:00Z"},
		{n: 10, schedule: "2030-01-31T00:00:00Z/P1M", created: created, now: created, first: "2030-01-31T00:00:00Z", next: "2030-01-31T00:00:00Z"},
		{n: 11, schedule: "2014-01-28T10:35:08Z/P1D", created: "2014-01-28T16:33:26Z", now: "2014-01-28T16:33:26Z",
			first: "2014-01-28T10:35:08Z", next: "2014-01-28T16:33:26Z", due: true},
		{n: 12, schedule: "2014-01-28T10:35:08Z/P1D", created: "2014-01-28T16:33:26Z", ran: []string{"2014-01-28T16:33:30Z"}, now: "2014-01-28T16:33:26Z",
			first: "2014-01-28T10:35:08Z", next: "2014-01-29T10:35:08Z"},
		{n: 13, schedule: "2014-01-28T10:35:08Z/P1D", created: "2014-01-28T16:33:26Z", ran: []string{"2014-01-28T16:33:30Z"}, now: "2014-01-31T09:00:00Z",
			first: "2014-01-28T10:35:08Z", next: "2014-01-31T10:35:08Z", due: true},
		{n: 14, schedule: "PT1H", created: created, now: created, first: created, next: created, due: true},
		{n: 15, schedule: "PT1H", created: created, ran: []string{"2026-11-23T12:00:01Z"}, now: "2026-11-23T12:30:00Z",
			first: created, next: "2026-11-23T13:00:00Z"},
		{n: 16, schedule: "PT1H", created: created, ran: []string{"2026-11-23T12:00:01Z"}, now: "2026-11-23T17:10:00Z",
			first: created, next: "2026-11-23T18:00:00Z", due: true},
		{n: 17, schedule: "R1/P1DT", created: "2012-09-22T14:15:00Z", now: "2012-09-22T14:15:00Z",
			first: "2012-09-22T14:15:00Z", next: "2012-09-22T14:15:00Z", due: true},
	} {
		iv := pulpInterval(t, c.schedule)
		call := NewCall(iv, pulpTime(t, c.created))
		for _, at := range c.ran {
			call = ran(call, pulpTime(t, at))
		}
		now := pulpTime(t, c.now)
		next := call.NextRun(iv, now)
		if got := rendered(call.FirstRun); got != c.first {
			t.Errorf("#%d %s: first_run %s, want %s", c.n, c.schedule, got, c.first)
		}
		if got := rendered(next); got != c.next {
			t.Errorf("#%d %s: next_run %s, want %s", c.n, c.schedule, got, c.next)
		}
		if got := call.Due(iv, now); got != c.due {
			t.Errorf("#%d %s: due %v at %s, want %v", c.n, c.schedule, got, c.now, c.due)
		}
		if c.untilNextSecs != 0 {
			if got := int(math.Ceil(next.Sub(now).Seconds())); got != c.untilNextSecs {
				t.Errorf("#%d %s: %d s to the next run, want %d", c.n, c.schedule, got, c.untilNextSecs)
			}
		}
	}
}

func TestPulpNewCall(t *testing.T) {
	// #5 (test_first_run_scheduled): first_run is the start; run_every 3600 s.
	iv := pulpInterval(t, "2014-01-03T10:15Z/PT1H")
	if c := NewCall(iv, time.Now()); c.FirstRun.Unix() != 1388744100 || iv.Duration != time.Hour || !c.Enabled || c.TotalRunCount != 0 || c.RemainingRuns != nil {
		t.Errorf("#5: %+v, every %s", c, iv.Duration)
	}
	// #6, #9: remaining_runs is R<n>.
	for s, want := range map[string]int{"R3/2030-01-01T00:00:00Z/PT1H": 3, "R2--2030-01-01T00:00:00Z--PT30M": 2} {
		if c := NewCall(pulpInterval(t, s), time.Now()); c.RemainingRuns == nil || *c.RemainingRuns != want {
			t.Errorf("%s: remaining_runs %v, want %d", s, c.RemainingRuns, want)
		}
	}
	// Without a start, first_run is now to the second; a fraction of the start is dropped too.
	if c := NewCall(pulpInterval(t, "PT1H"), pulpTime(t, "2026-11-23T20:00:00.75+08:00")); rendered(c.FirstRun) != "2026-11-23T12:00:00Z" {
		t.Errorf("no start: first_run %s", rendered(c.FirstRun))
	}
	if c := NewCall(pulpInterval(t, "2030-01-01T00:00:00.5Z/PT1H"), time.Now()); !c.FirstRun.Equal(jan2030) {
		t.Errorf("fractional start: first_run %s", c.FirstRun.Format(time.RFC3339Nano))
	}
}

// #13 and #16: slots missed fire once, not one by one; then slots are
// aligned to first_run again.
func TestPulpMissedSlotsFireOnce(t *testing.T) {
	iv := pulpInterval(t, "PT1H")
	call := ran(NewCall(iv, pulpTime(t, "2026-11-23T12:00:00Z")), pulpTime(t, "2026-11-23T12:00:01Z"))
	late := pulpTime(t, "2026-11-23T17:10:00Z")
	if !call.Due(iv, late) {
		t.Fatal("#16: the missed slots are not due")
	}
	call = call.Dispatched(late)
	for _, at := range []string{"2026-11-23T17:10:00Z", "2026-11-23T17:10:01Z", "2026-11-23T17:59:59Z"} {
		if call.Due(iv, pulpTime(t, at)) {
			t.Errorf("due again at %s", at)
		}
	}
	if !call.Due(iv, pulpTime(t, "2026-11-23T18:00:00Z")) || rendered(call.NextRun(iv, pulpTime(t, "2026-11-23T17:30:00Z"))) != "2026-11-23T18:00:00Z" {
		t.Error("the 18:00 slot")
	}

	daily := pulpInterval(t, "2014-01-28T10:35:08Z/P1D")
	call = ran(NewCall(daily, pulpTime(t, "2014-01-28T16:33:26Z")), pulpTime(t, "2014-01-28T16:33:30Z"))
	call = call.Dispatched(pulpTime(t, "2014-01-31T09:00:00Z"))
	if call.Due(daily, pulpTime(t, "2014-01-31T10:35:07Z")) || !call.Due(daily, pulpTime(t, "2014-01-31T10:35:08Z")) {
		t.Error("#13: after the late run, the next slot is 10:35:08")
	}
}

// A slot missed while the schedule was disabled runs once, at once, when it
// is enabled again; a disabled schedule still has a next_run.
func TestPulpReenabledRunsAMissedSlotOnce(t *testing.T) {
	iv := pulpInterval(t, "PT1H")
	call := ran(NewCall(iv, pulpTime(t, "2026-11-23T12:00:00Z")), pulpTime(t, "2026-11-23T12:00:00Z"))
	call.Enabled = false
	now := pulpTime(t, "2026-11-23T15:30:00Z")
	if call.Due(iv, now) || rendered(call.NextRun(iv, now)) != "2026-11-23T16:00:00Z" {
		t.Fatal("disabled")
	}
	call.Enabled = true
	if !call.Due(iv, now) || call.Dispatched(now).Due(iv, now.Add(time.Minute)) {
		t.Fatal("re-enabled")
	}
}

// #17 and the seed: R1/P1DT runs once, then remaining_runs 0 and disabled.
func TestPulpR1RunsOnce(t *testing.T) {
	iv := pulpInterval(t, "R1/P1DT")
	now := pulpTime(t, "2012-09-22T14:15:00Z")
	call := NewCall(iv, now)
	if !call.Due(iv, now) || *call.RemainingRuns != 1 {
		t.Fatalf("new: %+v", call)
	}
	after := call.Dispatched(now)
	if *after.RemainingRuns != 0 || after.Enabled || after.TotalRunCount != 1 || !after.LastRunAt.Equal(now) {
		t.Fatalf("after its run: remaining %d, %+v", *after.RemainingRuns, after)
	}
	if *call.RemainingRuns != 1 {
		t.Fatal("Dispatched changed the state it was given")
	}
	tomorrow := now.Add(24 * time.Hour)
	if after.Due(iv, tomorrow) || rendered(after.NextRun(iv, now.Add(time.Minute))) != "2012-09-23T14:15:00Z" {
		t.Fatal("a spent R1 is due again, or has no next_run")
	}
	after.Enabled = true // Pulp would run it for ever: remaining_runs 0 is never decremented
	if after.Due(iv, tomorrow) {
		t.Fatal("a re-enabled schedule with no runs left is due")
	}
	three := NewCall(pulpInterval(t, "R3/PT1H"), now)
	three = three.Dispatched(now)
	if *three.RemainingRuns != 2 || !three.Enabled {
		t.Fatalf("R3 after one run: %+v", three)
	}
}

// The failure worked example of §9: failure_threshold 2, the feed broken.
func TestPulpFailureThreshold(t *testing.T) {
	iv := pulpInterval(t, "PT1H")
	at := pulpTime(t, "2026-11-23T12:00:00Z")
	two := 2
	call := NewCall(iv, at)
	call.FailureThreshold = &two
	step := func(success bool) {
		call = call.Dispatched(at).Ended(success)
		at = at.Add(time.Hour)
	}
	check := func(what string, failures int, enabled bool, total int) {
		t.Helper()
		if call.ConsecutiveFailures != failures || call.Enabled != enabled || call.TotalRunCount != total {
			t.Errorf("%s: consecutive_failures %d, enabled %v, total_run_count %d; want %d, %v, %d",
				what, call.ConsecutiveFailures, call.Enabled, call.TotalRunCount, failures, enabled, total)
		}
	}
	step(false)
	check("run 1 fails", 1, true, 1)
	step(false)
	check("run 2 fails", 2, false, 2)
	call.Enabled = true // PUT {"enabled": true}: the count is not reset
	step(false)
	check("re-enabled, fails", 3, false, 3)
	call = call.Ended(false) // a run ending after the schedule was disabled still counts
	check("late failure", 4, false, 3)
	call.Enabled = true // the feed fixed
	step(true)
	check("re-enabled, succeeds", 0, true, 4)

	call.FailureThreshold = nil
	for range 5 {
		step(false)
	}
	check("no threshold", 5, true, 9)
}
