package fsm

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
)

// PulpSchedule is a sync schedule of a repository's importer (Pulp's
// ScheduledCall of sync_with_auto_publish). The leader fires it (CmdPulpFire)
// when scheduler says a slot is due; a slot fires once.
type PulpSchedule struct {
	ID       string `json:"id"`
	Cluster  string `json:"cluster"`
	Repo     string `json:"repo"`
	Importer string `json:"importer"`
	// Schedule is the ISO 8601 interval exactly as the client sent it.
	Schedule  string                     `json:"schedule"`
	Overrides map[string]json.RawMessage `json:"overrides,omitempty"`
	PulpCall
	// LastSlot is the slot last fired.
	LastSlot    time.Time `json:"lastSlot,omitzero"`
	LastUpdated time.Time `json:"lastUpdated"`
	Index       uint64    `json:"index"`
}

func (p PulpSchedule) clone() PulpSchedule {
	p.Overrides = maps.Clone(p.Overrides)
	if p.RemainingRuns != nil {
		n := *p.RemainingRuns
		p.RemainingRuns = &n
	}
	if p.FailureThreshold != nil {
		n := *p.FailureThreshold
		p.FailureThreshold = &n
	}
	return p
}

// Payloads of the schedule commands.
type (
	// PulpSchedulePut creates a schedule, or replaces the one of that id
	// when it is still at IfIndex (the caller read it there): a write made
	// meanwhile (a dispatch) is not lost.
	PulpSchedulePut struct {
		Schedule PulpSchedule `json:"schedule"`
		IfIndex  uint64       `json:"ifIndex,omitempty"`
	}
	// PulpScheduleRef names a schedule (CmdPulpDeleteSchedule).
	PulpScheduleRef struct {
		ID      string `json:"id"`
		Cluster string `json:"cluster"`
	}
	// PulpFire dispatches a schedule's due slot: the sync run RunID.
	PulpFire struct {
		ID      string    `json:"id"`
		Slot    time.Time `json:"slot"`
		RunID   string    `json:"runId"`
		Project string    `json:"project"`
	}
)

func applyPulpPutSchedule(s *state, cmd Command) (any, error) {
	var p PulpSchedulePut
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "pulp.schedule.put: %v", err)
	}
	sc := p.Schedule
	repo, ok := s.pulpRepos[PulpRepoKey(sc.Cluster, sc.Repo)]
	switch {
	case sc.ID == "":
		return nil, errorf(KindInvalid, "pulp.schedule.put: id is required")
	case !ok:
		return nil, errorf(KindNotFound, "repository %s of cluster %s not found", sc.Repo, sc.Cluster)
	case repo.Importer == nil || repo.Importer.TypeID != sc.Importer:
		return nil, &Error{Kind: KindNotFound, Field: "importer_id", Reason: "repository " + sc.Repo + " has no importer " + sc.Importer}
	}
	old, exists := s.pulpSchedules[sc.ID]
	switch {
	case exists && (old.Cluster != sc.Cluster || old.Repo != sc.Repo || old.Importer != sc.Importer):
		return nil, errorf(KindNotFound, "schedule %s not found", sc.ID)
	case exists && p.IfIndex != 0 && old.Index != p.IfIndex:
		return nil, errorf(KindConflict, "schedule %s changed since it was read", sc.ID)
	case !exists && p.IfIndex != 0:
		return nil, errorf(KindNotFound, "schedule %s not found", sc.ID)
	}
	sc.LastUpdated, sc.Index = cmd.Time, s.applying
	s.pulpSchedules[sc.ID] = sc
	return sc.clone(), nil
}

func applyPulpDeleteSchedule(s *state, cmd Command) (any, error) {
	var p PulpScheduleRef
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "pulp.schedule.delete: %v", err)
	}
	if sc, ok := s.pulpSchedules[p.ID]; !ok || sc.Cluster != p.Cluster {
		return nil, errorf(KindNotFound, "schedule %s not found", p.ID)
	}
	delete(s.pulpSchedules, p.ID)
	return nil, nil
}

// applyPulpFire dispatches a due slot: the call's bookkeeping and its sync
// run in one entry, so a slot fires once, whichever leader fires it.
func applyPulpFire(s *state, cmd Command) (any, error) {
	var p PulpFire
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "pulp.fire: %v", err)
	}
	sc, ok := s.pulpSchedules[p.ID]
	switch {
	case !ok:
		return nil, errorf(KindNotFound, "schedule %s not found", p.ID)
	case !sc.Enabled:
		return nil, errorf(KindConflict, "schedule %s is disabled", p.ID)
	case !p.Slot.After(sc.LastSlot) && !sc.LastSlot.IsZero():
		return nil, errorf(KindConflict, "slot %s of schedule %s has already fired", p.Slot.Format(time.RFC3339), p.ID)
	}
	r, err := newPulpSync(s, cmd, PulpSync{RunID: p.RunID, Cluster: sc.Cluster, Repo: sc.Repo, Project: p.Project, Overrides: sc.Overrides, By: "schedule:" + sc.ID})
	if err != nil {
		return nil, err
	}
	r.Trigger, r.Slot, r.Feed.ScheduleID = TriggerScheduled, p.Slot, sc.ID
	sc = sc.clone()
	sc.PulpCall = sc.Dispatched(cmd.Time)
	sc.LastSlot, sc.Index = p.Slot, s.applying
	s.pulpSchedules[sc.ID] = sc
	if r.State.Terminal() {
		pulpScheduleEnded(s, r)
	}
	s.putRun(r)
	s.pruneRuns(cmd.Time)
	return r.clone(), nil
}

// pulpScheduleEnded counts a scheduled sync's end on its schedule.
func pulpScheduleEnded(s *state, r Run) {
	if r.Feed == nil || r.Feed.ScheduleID == "" {
		return
	}
	sc, ok := s.pulpSchedules[r.Feed.ScheduleID]
	if !ok {
		return
	}
	sc = sc.clone()
	sc.PulpCall = sc.Ended(r.State == RunSuccess)
	sc.Index = s.applying
	s.pulpSchedules[sc.ID] = sc
}

// dropPulpSchedules deletes the schedules of a repository (of its importer
// when importer is set), as Pulp deletes them with what they belong to.
func (s *state) dropPulpSchedules(cluster, repo string) {
	for id, sc := range s.pulpSchedules {
		if sc.Cluster == cluster && sc.Repo == repo {
			delete(s.pulpSchedules, id)
		}
	}
}

// PulpSchedules are a cluster's schedules of one repository's importer,
// or with repo "" every schedule, in creation order.
func (f *FSM) PulpSchedules(cluster, repo string) []PulpSchedule {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []PulpSchedule
	for _, sc := range f.s.pulpSchedules {
		if (cluster == "" || sc.Cluster == cluster) && (repo == "" || sc.Repo == repo) {
			out = append(out, sc.clone())
		}
	}
	slices.SortFunc(out, func(a, b PulpSchedule) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// PulpSchedule is one schedule.
func (f *FSM) PulpSchedule(id string) (PulpSchedule, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	sc, ok := f.s.pulpSchedules[id]
	return sc.clone(), ok
}

func sortedPulpSchedules(m map[string]PulpSchedule) []PulpSchedule {
	return slices.SortedFunc(maps.Values(m), func(a, b PulpSchedule) int { return strings.Compare(a.ID, b.ID) })
}
