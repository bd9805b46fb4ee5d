package agent

import (
	"context"
	"encoding/json"
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

// PulpContentSchedules are a consumer's schedules of one content action.
func (a *Agent) PulpContentSchedules(consumer, action string) []fsm.PulpSchedule {
	return a.schedulesWhere("", func(sc fsm.PulpSchedule) bool {
		return sc.Content != nil && sc.Content.Consumer == consumer && sc.Content.Action == action
	})
}

// schedulesWhere are this region's schedules (of repo, unless "") that
// match.
func (a *Agent) schedulesWhere(repo string, match func(fsm.PulpSchedule) bool) []fsm.PulpSchedule {
	var out []fsm.PulpSchedule
	for _, sc := range a.fsm.PulpSchedules(a.cfg.ClusterID, repo) {
		if match(sc) {
			out = append(out, sc)
		}
	}
	return out
}

// CreatePulpSchedule schedules syncs of a repository's importer.
func (a *Agent) CreatePulpSchedule(ctx context.Context, repo, importer string, ch pulp.ScheduleChange) (fsm.PulpSchedule, error) {
	return a.createPulpSchedule(ctx, fsm.PulpSchedule{Repo: repo, Importer: importer}, ch)
}

// PulpPublishSchedules are the publish schedules of a repository's
// distributor.
func (a *Agent) PulpPublishSchedules(repo, dist string) []fsm.PulpSchedule {
	return a.schedulesWhere(repo, func(sc fsm.PulpSchedule) bool { return sc.Content == nil && sc.Distributor == dist })
}

// CreatePulpPublishSchedule schedules publishes of a repository's
// distributor.
func (a *Agent) CreatePulpPublishSchedule(ctx context.Context, repo, dist string, ch pulp.ScheduleChange) (fsm.PulpSchedule, error) {
	return a.createPulpSchedule(ctx, fsm.PulpSchedule{Repo: repo, Distributor: dist}, ch)
}

// CreatePulpContentSchedule schedules a content action on a consumer.
func (a *Agent) CreatePulpContentSchedule(ctx context.Context, consumer, action string, ch pulp.ScheduleChange) (fsm.PulpSchedule, error) {
	return a.createPulpSchedule(ctx, fsm.PulpSchedule{Content: &fsm.PulpContentCall{Consumer: consumer, Action: action, Options: map[string]json.RawMessage{}}}, ch)
}

// createPulpSchedule creates a schedule of the call sc names: its first run
// is the interval's start, or now (Pulp 2.4+'s rule).
func (a *Agent) createPulpSchedule(ctx context.Context, sc fsm.PulpSchedule, ch pulp.ScheduleChange) (fsm.PulpSchedule, error) {
	sc.ID, sc.Cluster, sc.Enabled = strings.ReplaceAll(fsm.NewID(), "-", "")[:24], a.cfg.ClusterID, true
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
	backoff := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		changed := a.fsm.Changed()
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
		if fsm.KindOf(err) != fsm.KindConflict || attempt == maxUpdateAttempts {
			return out, err
		}
		// A dispatch came between: change the schedule as it is now, once
		// this agent has applied what the leader has (a follower may lag).
		select {
		case <-ctx.Done():
			return fsm.PulpSchedule{}, ctx.Err()
		case <-changed:
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

// maxUpdateAttempts bounds a schedule update's retries: each conflict is a
// dispatch, at most one a slot.
const maxUpdateAttempts = 8

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
	if sc.Content != nil && ch.Units != nil {
		sc.Content.Units = ch.Units
	}
	if sc.Content != nil && ch.Options != nil {
		sc.Content.Options = ch.Options
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
