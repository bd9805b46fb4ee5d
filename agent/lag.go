package agent

import (
	"net/http"
	"slices"
	"time"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/replicator"
)

// Replication lag (GET /v1/lag): how far each target of each task is
// behind, from the runs in the state (fsm.TargetLags) and, for REAL_TIME
// tasks, the outbox of the task's source agent, which is local to that
// agent (replicator/outbox.go) and asked over GET /v1/agent/outbox (agents
// only). The depths never go through Raft: they change with every push.

// lagAnswer is GET /v1/lag.
type lagAnswer struct {
	Lag []lagEntry `json:"lag"`
	Now time.Time  `json:"now"`
}

// lagEntry is one target of one task.
type lagEntry struct {
	Task        string    `json:"task"`
	TaskName    string    `json:"taskName"`
	ProjectID   string    `json:"projectId"`
	ReplicaType string    `json:"replicaType"`
	Target      string    `json:"target"`
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
	// LagSeconds is the time since LastSuccess, or since the task was
	// created when it never was in sync.
	LagSeconds float64 `json:"lagSeconds"`
	LastStatus string  `json:"lastStatus,omitempty"`
	// OutboxDepth is the changes a REAL_TIME task still has to deliver to
	// the target (0 for other tasks; -1 when the source agent could not be
	// asked, with OutboxError saying why).
	OutboxDepth int64  `json:"outboxDepth"`
	OutboxError string `json:"outboxError,omitempty"`
}

// sourceOutbox is what one source agent said of its outbox, or why it
// could not say.
type sourceOutbox struct {
	depths []replicator.OutboxDepth
	err    error
}

func (a *Agent) lagRoutes(srv *api.Server) {
	srv.Mount(http.MethodGet, "/v1/lag", fsm.PolicyRead, api.Answer(a.lag))
	srv.MountForAgents(http.MethodGet, "/v1/agent/outbox", fsm.PolicyAdmin, api.Answer(func(*http.Request) ([]replicator.OutboxDepth, error) {
		return a.executor.Outbox(), nil
	}))
}

// lag answers GET /v1/lag: the tasks of the caller's projects only.
func (a *Agent) lag(r *http.Request) (lagAnswer, error) {
	lags := fsm.TargetLags(a.scopedTasks(api.ScopeOf(r.Context())), a.fsm.Runs(fsm.RunFilter{}))
	var sources []string
	for _, l := range lags {
		if l.ReplicaType == fsm.ReplicaRealTime && !slices.Contains(sources, l.Source) {
			sources = append(sources, l.Source)
		}
	}
	got, failed := askAgents(r.Context(), a, sources, "/v1/agent/outbox", a.executor.Outbox)
	outbox := map[string]sourceOutbox{}
	for id, d := range got {
		outbox[id] = sourceOutbox{depths: d}
	}
	for id, err := range failed {
		outbox[id] = sourceOutbox{err: err}
	}
	now := time.Now().UTC()
	return lagAnswer{Lag: lagView(lags, outbox, now), Now: now}, nil
}

// scopedTasks are the tasks of projects (all when projects is empty), as
// the task list limits a credential.
func (a *Agent) scopedTasks(projects []string) []fsm.Task {
	tasks := a.fsm.Tasks()
	if len(projects) == 0 {
		return tasks
	}
	return slices.DeleteFunc(tasks, func(t fsm.Task) bool { return !slices.Contains(projects, t.ProjectID) })
}

// lagView joins the lags of the state with what the source agents said of
// their outboxes, by source cluster. A REAL_TIME target is in sync as of
// the last delivery round that left it nothing to deliver.
func lagView(lags []fsm.TargetLag, outbox map[string]sourceOutbox, now time.Time) []lagEntry {
	out := make([]lagEntry, 0, len(lags))
	for _, l := range lags {
		e := lagEntry{Task: l.Task, TaskName: l.TaskName, ProjectID: l.ProjectID, ReplicaType: l.ReplicaType, Target: l.Target, LastStatus: string(l.LastStatus)}
		if l.ReplicaType == fsm.ReplicaRealTime {
			src := outbox[l.Source]
			if src.err != nil {
				e.OutboxDepth, e.OutboxError = -1, src.err.Error()
			} else if d, ok := depthOf(src.depths, l.Task, l.Target); ok {
				e.OutboxDepth = d.Depth
				if d.CaughtUp.After(l.LastSuccess) {
					l.LastSuccess = d.CaughtUp
				}
			}
		}
		e.LastSuccess, e.LagSeconds = l.LastSuccess, l.Seconds(now)
		out = append(out, e)
	}
	return out
}

func depthOf(depths []replicator.OutboxDepth, task, target string) (replicator.OutboxDepth, bool) {
	i := slices.IndexFunc(depths, func(d replicator.OutboxDepth) bool { return d.Task == task && d.Target == target })
	if i < 0 {
		return replicator.OutboxDepth{}, false
	}
	return depths[i], true
}
