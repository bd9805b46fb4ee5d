package fsm

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
)

// PulpSchedule is a Pulp ScheduledCall: a sync schedule of a repository's
// importer (sync_with_auto_publish), or with Content a consumer's content
// schedule. The leader fires it (CmdPulpFire) when scheduler says a slot is
// due; a slot fires once.
type PulpSchedule struct {
	ID       string `json:"id"`
	Cluster  string `json:"cluster"`
	Repo     string `json:"repo,omitempty"`
	Importer string `json:"importer,omitempty"`
	// Distributor is the one a publish schedule publishes.
	Distributor string `json:"distributor,omitempty"`
	// Content is the action a content schedule dispatches.
	Content *PulpContentCall `json:"content,omitempty"`
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
	p.Content = p.Content.clone()
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
	if sc.ID == "" {
		return nil, errorf(KindInvalid, "pulp.schedule.put: id is required")
	}
	if err := s.checkScheduled(sc); err != nil {
		return nil, err
	}
	old, exists := s.pulpSchedules[sc.ID]
	switch {
	case exists && !sameCall(old, sc):
		return nil, errorf(KindNotFound, "schedule %s not found", sc.ID)
	case exists && p.IfIndex != 0 && old.Index != p.IfIndex:
		return nil, errorf(KindConflict, "schedule %s changed since it was read", sc.ID)
	case !exists && p.IfIndex != 0:
		return nil, errorf(KindNotFound, "schedule %s not found", sc.ID)
	}
	sc.LastUpdated, sc.Index = cmd.Time, s.applying
	if sc.Content != nil {
		sc.Content.ScheduleID = ""
	}
	s.pulpSchedules[sc.ID] = sc
	return sc.clone(), nil
}

// checkScheduled is whether what a schedule calls exists: the repository's
// importer, or the consumer.
func (s *state) checkScheduled(sc PulpSchedule) error {
	switch {
	case sc.Content != nil:
		return s.checkContentCall(sc.Cluster, *sc.Content)
	case sc.Distributor != "":
		_, err := s.distributorOf(sc.Cluster, sc.Repo, sc.Distributor)
		return err
	}
	repo, ok := s.pulpRepos[PulpRepoKey(sc.Cluster, sc.Repo)]
	switch {
	case !ok:
		return errorf(KindNotFound, "repository %s of cluster %s not found", sc.Repo, sc.Cluster)
	case repo.Importer == nil || repo.Importer.TypeID != sc.Importer:
		return &Error{Kind: KindNotFound, Field: "importer_id", Reason: "repository " + sc.Repo + " has no importer " + sc.Importer}
	}
	return nil
}

// sameCall is whether a and b schedule the same call: a schedule never
// moves to another importer, consumer or action.
func sameCall(a, b PulpSchedule) bool {
	if a.Cluster != b.Cluster || a.Repo != b.Repo || a.Importer != b.Importer || a.Distributor != b.Distributor || (a.Content == nil) != (b.Content == nil) {
		return false
	}
	return a.Content == nil || a.Content.Consumer == b.Content.Consumer && a.Content.Action == b.Content.Action
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
	switch {
	case sc.Content != nil:
		return s.fireContent(sc, p, cmd.Time)
	case sc.Distributor != "":
		return s.firePublish(sc, p, cmd.Time)
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
		s.pulpRunEnded(r)
	}
	s.putRun(r)
	s.pruneRuns(cmd.Time)
	return r.clone(), nil
}

// fireContent dispatches a content schedule's slot: its waiting task, of
// the id the leader chose.
func (s *state) fireContent(sc PulpSchedule, p PulpFire, at time.Time) (any, error) {
	if _, dup := s.pulpTasks[p.RunID]; dup || p.RunID == "" {
		return nil, errorf(KindConflict, "task %q exists", p.RunID)
	}
	sc = sc.clone()
	sc.PulpCall = sc.Dispatched(at)
	sc.LastSlot, sc.Index = p.Slot, s.applying
	s.pulpSchedules[sc.ID] = sc
	call := sc.Content.clone()
	call.ScheduleID = sc.ID
	return s.queueContent(p.RunID, sc.Cluster, "schedule:"+sc.ID, at, call), nil
}

// pulpCallEnded counts the end of what a schedule dispatched: a success
// resets its failures, a failure counts one; a canceled call neither (Pulp
// calls neither on_success nor on_failure for a revoked task).
func (s *state) pulpCallEnded(scheduleID string, success bool) {
	sc, ok := s.pulpSchedules[scheduleID]
	if scheduleID == "" || !ok {
		return
	}
	sc = sc.clone()
	sc.PulpCall = sc.Ended(success)
	sc.Index = s.applying
	s.pulpSchedules[sc.ID] = sc
}

// scheduleOf is the schedule that dispatched a run, if one did.
func scheduleOf(r Run) string {
	switch {
	case r.Feed != nil:
		return r.Feed.ScheduleID
	case r.PulpContent != nil:
		return r.PulpContent.ScheduleID
	}
	return ""
}

// dropPulpSchedules deletes the sync and publish schedules of a
// repository (only its importer's with importerOnly), as Pulp deletes them
// with what they belong to.
func (s *state) dropPulpSchedules(cluster, repo string, importerOnly bool) {
	for id, sc := range s.pulpSchedules {
		if sc.Cluster == cluster && sc.Content == nil && sc.Repo == repo && (!importerOnly || sc.Importer != "") {
			delete(s.pulpSchedules, id)
		}
	}
}

// dropContentSchedules deletes a consumer's content schedules.
func (s *state) dropContentSchedules(cluster, consumer string) {
	for id, sc := range s.pulpSchedules {
		if sc.Cluster == cluster && sc.Content != nil && sc.Content.Consumer == consumer {
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
