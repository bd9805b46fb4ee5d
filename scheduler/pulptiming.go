package scheduler

import (
	"time"

	"github.com/ferrysync/ferry/fsm"
)

// Pulp 2 schedule timing, the 2.4+ rule (§9): ScheduledCall and its
// celerybeat ScheduleEntry in server/pulp/server/db/model/dispatch.py, and
// the task-end hooks in server/pulp/server/async/tasks.py. Pure functions of
// a CallState and an injected now; the dialect stores the state.

// CallState is the part of a Pulp ScheduledCall that timing reads and writes.
type CallState struct {
	// FirstRun is the interval's start, or the creation time without one,
	// in whole seconds: Pulp stores it formatted without a fraction.
	FirstRun      time.Time
	TotalRunCount int
	// LastRunAt is when the call was last dispatched (zero: never), in
	// whole seconds as Pulp stores it.
	LastRunAt time.Time
	// RemainingRuns is what is left of R<n>; nil is unlimited.
	RemainingRuns       *int
	Enabled             bool
	ConsecutiveFailures int
	// FailureThreshold disables the call after that many failures in a
	// row; nil never does.
	FailureThreshold *int
}

// NewCall is a schedule just created at now. Without a start, 2.4+ runs it
// at once (first_run = now); 2.3 waited one interval.
func NewCall(iv Interval, now time.Time) CallState {
	first := now.UTC()
	if iv.HasStart {
		first = iv.Start // in its own offset: first_run is rendered in it
	}
	c := CallState{FirstRun: first.Truncate(time.Second), Enabled: true}
	if iv.Recurrences > 0 {
		n := iv.Recurrences
		c.RemainingRuns = &n
	}
	return c
}

// NextRun is next_run as Pulp computes it on every read, disabled or not: the
// first run while it is ahead; now for a call that never ran (its first run
// passed, or it had no start); else the slot after the latest one due, so
// slots stay aligned to first_run however late the runs were. Rendered to
// the second, in UTC.
func (c CallState) NextRun(iv Interval, now time.Time) time.Time {
	switch {
	case c.FirstRun.After(now):
		return c.FirstRun.UTC()
	case c.TotalRunCount == 0:
		return now.UTC()
	}
	_, next := slots(iv, c.FirstRun, now)
	return next
}

// Due is celerybeat's is_due: once first_run has come, a call that never
// ran is due, and one that has not run since the latest slot is due; slots
// missed while nothing ran (or while disabled) fire once, not one by one.
// A disabled call is never due, nor one with no runs left (Pulp would run a
// call re-enabled with remaining_runs 0 for ever; Ferry does not).
func (c CallState) Due(iv Interval, now time.Time) bool {
	switch {
	case !c.Enabled || c.FirstRun.After(now) || c.RemainingRuns != nil && *c.RemainingRuns <= 0:
		return false
	case c.TotalRunCount == 0 || c.LastRunAt.IsZero():
		return true
	}
	latest, _ := slots(iv, c.FirstRun, now)
	return c.LastRunAt.Before(latest)
}

// Dispatched is the call after the scheduler dispatched it at now; the
// state's own transition (fsm.PulpCall), which the leader applies.
func (c CallState) Dispatched(now time.Time) CallState {
	return CallState(fsm.PulpCall(c).Dispatched(now))
}

// Ended is the call after the task it dispatched ended (fsm.PulpCall).
func (c CallState) Ended(success bool) CallState { return CallState(fsm.PulpCall(c).Ended(success)) }

// Slot is the slot a due call fires for, the latest at or before now, so
// that a slot fires once (fsm refuses one it fired); zero before first_run.
func (c CallState) Slot(iv Interval, now time.Time) time.Time {
	if c.FirstRun.After(now) {
		return time.Time{}
	}
	latest, _ := slots(iv, c.FirstRun, now)
	return latest
}

// Wake is when a call is to be looked at again: its first run while ahead,
// else the slot after now.
func (c CallState) Wake(iv Interval, now time.Time) time.Time {
	if c.FirstRun.After(now) {
		return c.FirstRun
	}
	_, next := slots(iv, c.FirstRun, now)
	return next
}

// slots are the latest slot at or before now (first <= now) and the one
// after it. For a calendar duration, Pulp's next_run adds instead the length
// of one step from last_run_at to the latest slot, which drifts from the 29th
// on (§9 #18: 2015-04-25 after 31 January and 28 March); Ferry keeps to the
// slots Pulp's own "expected runs" loop counts.
func slots(iv Interval, first, now time.Time) (latest, next time.Time) {
	if !iv.Calendar() {
		latest = iv.Step(first, int(now.Sub(first)/iv.Duration))
		return latest, latest.Add(iv.Duration)
	}
	latest = first.UTC()
	for next = iv.step(latest); !next.After(now); next = iv.step(next) {
		latest = next
	}
	return latest, next
}
