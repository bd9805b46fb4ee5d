package agent

import (
	"context"
	"strings"
	"time"

	"github.com/ferrysync/ferry/api/pulp"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/scheduler"
)

// PulpSchedules are the sync schedules of one of this region's repositories.
func (a *Agent) PulpSchedules(repo string) []fsm.PulpSchedule {
	return a.fsm.PulpSchedules(a.cfg.ClusterID, repo)
}

// PulpSchedule is one of this region's schedules.
func (a *Agent) PulpSchedule(id string) (fsm.PulpSchedule, bool) {
	sc, ok := a.fsm.PulpSchedule(id)
	return sc, ok && sc.Cluster == a.cfg.ClusterID
}

// CreatePulpSchedule schedules syncs of a repository's importer: its first
// run is the interval's start, or now (Pulp 2.4+'s rule).
func (a *Agent) CreatePulpSchedule(ctx context.Context, repo, importer string, ch pulp.ScheduleChange) (fsm.PulpSchedule, error) {
	sc := fsm.PulpSchedule{ID: strings.ReplaceAll(fsm.NewID(), "-", "")[:24], Cluster: a.cfg.ClusterID, Repo: repo, Importer: importer}
	sc.Enabled = true
	if ch.Schedule == nil {
		return fsm.PulpSchedule{}, fsm.FieldError("schedule", "it is required")
	}
	if err := setInterval(&sc, *ch.Schedule, time.Now(), true); err != nil {
		return fsm.PulpSchedule{}, err
	}
	apply(&sc, ch)
	return a.putPulpSchedule(ctx, sc, 0)
}

// UpdatePulpSchedule changes a schedule. A new interval starts it again
// from its start (or now) and, as the seed says, resets remaining_runs to
// its R<n> unless remaining_runs is given; the counts of what ran stay.
func (a *Agent) UpdatePulpSchedule(ctx context.Context, id string, ch pulp.ScheduleChange) (fsm.PulpSchedule, error) {
	for {
		sc, ok := a.PulpSchedule(id)
		if !ok {
			return fsm.PulpSchedule{}, &fsm.Error{Kind: fsm.KindNotFound, Field: "schedule_id", Reason: "schedule " + id + " not found"}
		}
		read := sc.Index
		if ch.Schedule != nil {
			if err := setInterval(&sc, *ch.Schedule, time.Now(), ch.RemainingRuns == nil); err != nil {
				return fsm.PulpSchedule{}, err
			}
		}
		apply(&sc, ch)
		out, err := a.putPulpSchedule(ctx, sc, read)
		if fsm.KindOf(err) == fsm.KindConflict && ctx.Err() == nil {
			continue // a dispatch came between: change the schedule as it is now
		}
		return out, err
	}
}

// setInterval gives sc a new interval: its first run, and its recurrences
// when resetRuns.
func setInterval(sc *fsm.PulpSchedule, schedule string, now time.Time, resetRuns bool) error {
	iv, err := scheduler.ParseInterval(schedule)
	if err != nil {
		return fsm.FieldError("schedule", "%v", err)
	}
	fresh := scheduler.NewCall(iv, now)
	sc.Schedule, sc.FirstRun = schedule, fresh.FirstRun
	if resetRuns {
		sc.RemainingRuns = fresh.RemainingRuns
	}
	return nil
}

func apply(sc *fsm.PulpSchedule, ch pulp.ScheduleChange) {
	if ch.Overrides != nil {
		sc.Overrides = ch.Overrides
	}
	if ch.FailureThreshold != nil {
		sc.FailureThreshold = *ch.FailureThreshold
	}
	if ch.Enabled != nil {
		sc.Enabled = *ch.Enabled
	}
	if ch.RemainingRuns != nil {
		sc.RemainingRuns = *ch.RemainingRuns
	}
}

func (a *Agent) putPulpSchedule(ctx context.Context, sc fsm.PulpSchedule, ifIndex uint64) (fsm.PulpSchedule, error) {
	if err := a.proposePulp(ctx, fsm.CmdPulpPutSchedule, fsm.PulpSchedulePut{Schedule: sc, IfIndex: ifIndex}); err != nil {
		return fsm.PulpSchedule{}, err
	}
	out, _ := a.PulpSchedule(sc.ID)
	return out, nil
}

// DeletePulpSchedule deletes one of this region's schedules.
func (a *Agent) DeletePulpSchedule(ctx context.Context, id string) error {
	return a.proposePulp(ctx, fsm.CmdPulpDeleteSchedule, fsm.PulpScheduleRef{ID: id, Cluster: a.cfg.ClusterID})
}
