package scheduler

import (
	"context"
	"log/slog"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/prometheus/client_golang/prometheus"
)

// State is what the loop reads: the replicated tasks, and a channel closed at
// the next applied change.
type State interface {
	Tasks() []fsm.Task
	Changed() <-chan struct{}
}

// Loop fires due slots. Run it on the leader only, after its barrier.
type Loop struct {
	State State
	// Fire commits a slot with its run (fsm's task.fire) and returns the run.
	Fire    func(ctx context.Context, key string, slot time.Time) (fsm.Run, error)
	Zone    *time.Location
	Log     *slog.Logger
	Metrics *Metrics
	Now     func() time.Time
}

// Metrics are the scheduler's series.
type Metrics struct {
	fires *prometheus.CounterVec
	lag   prometheus.Histogram
}

// NewMetrics registers the scheduler's series.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		fires: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ferry_scheduler_fires_total", Help: "Slots the scheduler fired, by result: started, skipped (the previous run was going), refused (already fired), error.",
		}, []string{"result"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ferry_scheduler_lag_seconds", Help: "How late a slot was committed after it came due.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
	}
	if reg != nil {
		reg.MustRegister(m.fires, m.lag)
	}
	return m
}

// idleWake bounds a sleep, so that a clock jump or a missed wake costs little.
const idleWake = 10 * time.Second

// Run fires due slots until ctx ends, waking at the next due time or when the
// state changes (a task created, updated, enabled).
func (l *Loop) Run(ctx context.Context) {
	now := orNow(l.Now)
	// A slot that could not fire is tried again after a pause, not in a spin.
	retryAt := map[string]time.Time{}
	wakeLoop(ctx, l.State.Changed, func() time.Time {
		wake := now().Add(idleWake)
		for _, t := range l.State.Tasks() {
			if at, ok := retryAt[t.Key]; ok && now().Before(at) {
				wake = minTime(wake, at)
				continue
			}
			if slot, ok := Due(t, now(), l.Zone); ok {
				if !l.fire(ctx, t, slot, now) {
					retryAt[t.Key] = now().Add(time.Second)
					wake = minTime(wake, retryAt[t.Key])
				} else {
					delete(retryAt, t.Key)
				}
				if ctx.Err() != nil {
					return wake
				}
			}
			if next, ok := Next(t, l.Zone); ok && next.After(now()) && next.Before(wake) {
				wake = next
			}
		}
		return wake
	})
}

// wakeLoop runs round until ctx ends: at once, then whenever the state
// changes or the time round returned comes.
func wakeLoop(ctx context.Context, changed func() <-chan struct{}, round func() time.Time) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		ch := changed()
		wake := round()
		if ctx.Err() != nil {
			return
		}
		timer.Reset(time.Until(wake))
		select {
		case <-ctx.Done():
			return
		case <-ch:
		case <-timer.C:
		}
	}
}

// orNow is the clock now, or the wall clock.
func orNow(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// fire commits one slot; false means it did not and should be tried later.
func (l *Loop) fire(ctx context.Context, t fsm.Task, slot time.Time, now func() time.Time) bool {
	r, err := l.Fire(ctx, t.Key, slot)
	result := "started"
	switch {
	case fsm.KindOf(err) == fsm.KindConflict:
		result = "refused"
	case err != nil:
		if ctx.Err() != nil {
			return false
		}
		result = "error"
		l.Log.Warn("slot not fired", "task", t.Key, "slot", slot, "err", err)
	case r.State == fsm.RunSkipped:
		result = "skipped"
	}
	if l.Metrics != nil {
		l.Metrics.fires.WithLabelValues(result).Inc()
		if err == nil {
			l.Metrics.lag.Observe(now().Sub(slot).Seconds())
		}
	}
	if err == nil {
		l.Log.Info("slot fired", "task", t.Key, "name", t.Name, "slot", slot, "run", r.ID, "state", r.State)
	}
	return err == nil
}
