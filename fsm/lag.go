package fsm

import (
	"slices"
	"strings"
	"time"
)

// TargetLag is where one target of a task stands, from the runs the state
// keeps: when a run last brought it fully in sync, and how the latest run
// towards it went. A REAL_TIME task's standing run never ends, so its
// targets have no ended success here; the source agent's outbox says more
// (agent/lag.go).
type TargetLag struct {
	Task        string
	TaskName    string
	ProjectID   string
	ReplicaType string
	Source      string
	Target      string
	Enabled     bool
	CreatedDate time.Time
	// LastSuccess is when the latest run whose progress towards Target was
	// SUCCESS ended (zero: none the state still keeps).
	LastSuccess time.Time
	// LastStatus is the state of the latest run towards Target ("" when
	// the task has not run).
	LastStatus RunState
}

// Since is when the target was last known in sync: its last success, or
// the task's creation when it never was.
func (l TargetLag) Since() time.Time {
	if l.LastSuccess.IsZero() {
		return l.CreatedDate
	}
	return l.LastSuccess
}

// Seconds is how long ago that was at now (never negative).
func (l TargetLag) Seconds(now time.Time) float64 {
	return max(now.Sub(l.Since()).Seconds(), 0)
}

// TargetLags is the lag of every target of every task, ordered by task
// key and target. runs may be in any order and hold other tasks' runs.
// It is pure: the caller picks the tasks (a credential's projects) and
// the clock.
func TargetLags(tasks []Task, runs []Run) []TargetLag {
	byTask := map[string][]Run{}
	for _, r := range runs {
		if r.TaskKey != "" {
			byTask[r.TaskKey] = append(byTask[r.TaskKey], r)
		}
	}
	var out []TargetLag
	for _, t := range tasks {
		for _, target := range t.RemoteClusterIDs {
			l := TargetLag{
				Task: t.Key, TaskName: t.Name, ProjectID: t.ProjectID, ReplicaType: t.ReplicaType,
				Source: t.SourceCluster, Target: target, Enabled: t.Enabled, CreatedDate: t.CreatedDate,
			}
			l.LastSuccess, l.LastStatus = targetHistory(byTask[t.Key], target)
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(a, b TargetLag) int {
		if c := strings.Compare(a.Task, b.Task); c != 0 {
			return c
		}
		return strings.Compare(a.Target, b.Target)
	})
	return out
}

// targetHistory is, of a task's runs, the end of the latest success towards
// target and the state of the latest run towards it.
func targetHistory(runs []Run, target string) (time.Time, RunState) {
	var success, latest time.Time
	var status RunState
	for _, r := range runs {
		state, ok := r.targetState(target)
		if !ok {
			continue
		}
		if status == "" || r.CreatedAt.After(latest) {
			latest, status = r.CreatedAt, state
		}
		if state == RunSuccess && r.FinishedAt.After(success) {
			success = r.FinishedAt
		}
	}
	return success, status
}

// targetState is the run's state towards target: its progress's, or the
// run's own before it reported any; false when the run does not go there.
func (r Run) targetState(target string) (RunState, bool) {
	for _, p := range r.Targets {
		if p.ClusterID == target {
			return p.State, true
		}
	}
	if slices.Contains(r.Spec.RemoteClusterIDs, target) {
		return r.State, true
	}
	return "", false
}
