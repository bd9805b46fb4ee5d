package scheduler

import (
	"context"
	"log/slog"
	"time"

	"github.com/ferrysync/ferry/fsm"
)

// PulpState is what the Pulp loop reads: the replicated sync schedules.
type PulpState interface {
	PulpSchedules(cluster, repo string) []fsm.PulpSchedule
	Changed() <-chan struct{}
}

// PulpLoop fires the Pulp sync schedules' due slots (the 2.4+ rule,
// pulptiming.go): a slot missed while no leader ran fires once. Run it on
// the leader only, beside Loop.
type PulpLoop struct {
	State PulpState
	// Fire commits a schedule's slot with its sync run (fsm's pulp.fire);
	// a slot already fired is refused (KindConflict).
	Fire func(ctx context.Context, id string, slot time.Time) error
	Log  *slog.Logger
	Now  func() time.Time
}

// Run fires due slots until ctx ends.
func (l *PulpLoop) Run(ctx context.Context) {
	now := orNow(l.Now)
	retryAt := map[string]time.Time{}
	wakeLoop(ctx, l.State.Changed, func() time.Time {
		wake := now().Add(idleWake)
		for _, sc := range l.State.PulpSchedules("", "") {
			iv, err := ParseInterval(sc.Schedule)
			if err != nil {
				continue // validated when written: not a schedule that can fire
			}
			call, at := CallState(sc.PulpCall), now()
			if retry, ok := retryAt[sc.ID]; ok && at.Before(retry) {
				wake = minTime(wake, retry)
				continue
			}
			// A slot fsm has fired is not due again, whatever LastRunAt's
			// rounding says (a fractional interval would spin otherwise).
			if call.Due(iv, at) && call.Slot(iv, at).After(sc.LastSlot) {
				if err := l.Fire(ctx, sc.ID, call.Slot(iv, at)); err != nil && fsm.KindOf(err) != fsm.KindConflict {
					if ctx.Err() != nil {
						return wake
					}
					l.Log.Warn("schedule slot not fired", "schedule", sc.ID, "err", err)
					retryAt[sc.ID] = at.Add(time.Second)
					wake = minTime(wake, retryAt[sc.ID])
					continue
				}
				delete(retryAt, sc.ID)
				continue // the state changed: the next round looks again
			}
			if call.Enabled {
				wake = minTime(wake, call.Wake(iv, at))
			}
		}
		return wake
	})
}
