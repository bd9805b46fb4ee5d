package fsm

import "time"

// PulpCall is what a Pulp ScheduledCall's timing reads and writes (the
// 2.4+ rule of server/pulp/server/db/model/dispatch.py): the transitions a
// dispatch and a task's end make are here, applied by the state; the time
// math (when a call is due, its next run) is scheduler's (pulptiming.go),
// over the same fields.
type PulpCall struct {
	// FirstRun is the interval's start, or the creation time without one,
	// in whole seconds: Pulp stores it formatted without a fraction.
	FirstRun      time.Time `json:"firstRun"`
	TotalRunCount int       `json:"totalRunCount"`
	// LastRunAt is when the call was last dispatched (zero: never), in
	// whole seconds as Pulp stores it.
	LastRunAt time.Time `json:"lastRunAt,omitzero"`
	// RemainingRuns is what is left of R<n>; nil is unlimited.
	RemainingRuns       *int `json:"remainingRuns,omitempty"`
	Enabled             bool `json:"enabled"`
	ConsecutiveFailures int  `json:"consecutiveFailures"`
	// FailureThreshold disables the call after that many failures in a
	// row; nil never does.
	FailureThreshold *int `json:"failureThreshold,omitempty"`
}

// Dispatched is the call after the scheduler dispatched it at now
// (ScheduleEntry._next_instance): remaining_runs counts dispatches, not
// successes, and the last one disables the call (R1 runs once).
func (c PulpCall) Dispatched(now time.Time) PulpCall {
	c.LastRunAt = now.UTC().Truncate(time.Second)
	c.TotalRunCount++
	if c.RemainingRuns != nil && *c.RemainingRuns > 0 {
		n := *c.RemainingRuns - 1 // a new int: the old state keeps its own
		c.RemainingRuns = &n
		if n == 0 {
			c.Enabled = false
		}
	}
	return c
}

// Ended is the call after the task it dispatched ended (on_success /
// on_failure). Failures count even after the call was disabled, so they may
// pass the threshold; re-enabling does not reset them, so one more failure
// disables the call again.
func (c PulpCall) Ended(success bool) PulpCall {
	if success {
		c.ConsecutiveFailures = 0
		return c
	}
	c.ConsecutiveFailures++
	if c.FailureThreshold != nil && c.Enabled && c.ConsecutiveFailures >= *c.FailureThreshold {
		c.Enabled = false
	}
	return c
}
