package fsm

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/raft"
)

// handler applies one command type.
type handler struct {
	version  int    // newest payload version this code understands
	policy   Policy // what an API client needs to propose it
	internal bool   // proposed only by the leader's own loops
	apply    func(*state, Command) (any, error)
}

var handlers = map[CommandType]handler{
	CmdRegisterCluster:   {version: 1, policy: PolicyAdmin, internal: true, apply: applyRegisterCluster},
	CmdDeregisterCluster: {version: 1, policy: PolicyAdmin, internal: true, apply: applyDeregisterCluster},
	CmdCreateToken:       {version: 1, policy: PolicyAdmin, apply: applyCreateToken},
	CmdDeleteToken:       {version: 1, policy: PolicyAdmin, apply: applyDeleteToken},
	CmdCreateAccessKey:   {version: 1, policy: PolicyAdmin, apply: applyCreateAccessKey},
	CmdDeleteAccessKey:   {version: 1, policy: PolicyAdmin, apply: applyDeleteAccessKey},
	CmdPruneCredentials:  {version: 1, policy: PolicyAdmin, internal: true, apply: applyPruneCredentials},
	// Runs: clients create and cancel them; the executing agent (with the
	// management token the agents of a group share) reports on them.
	CmdCreateRun:   {version: 1, policy: PolicyWrite, apply: applyCreateRun},
	CmdCancelRun:   {version: 1, policy: PolicyWrite, apply: applyCancelRun},
	CmdStartRun:    {version: 1, policy: PolicyAdmin, apply: applyStartRun},
	CmdRunProgress: {version: 1, policy: PolicyAdmin, apply: applyRunProgress},
	CmdFinishRun:   {version: 1, policy: PolicyAdmin, apply: applyFinishRun},
	CmdCreateTask:  {version: 1, policy: PolicyWrite, apply: applyCreateTask},
	CmdUpdateTask:  {version: 1, policy: PolicyWrite, apply: applyUpdateTask},
	CmdDeleteTask:  {version: 1, policy: PolicyWrite, apply: applyDeleteTask},
	CmdToggleTask:  {version: 1, policy: PolicyWrite, apply: applyToggleTask},
	CmdFireTask:    {version: 1, policy: PolicyWrite, apply: applyFireTask},
	// Pulp 2's repositories (fsm/pulp.go).
	CmdPulpCreateRepo:     {version: 1, policy: PolicyWrite, apply: applyPulpCreateRepo},
	CmdPulpUpdateRepo:     {version: 1, policy: PolicyWrite, apply: applyPulpUpdateRepo},
	CmdPulpDeleteRepo:     {version: 1, policy: PolicyWrite, apply: applyPulpDeleteRepo},
	CmdPulpSetImporter:    {version: 1, policy: PolicyWrite, apply: applyPulpSetImporter},
	CmdPulpSync:           {version: 1, policy: PolicyWrite, apply: applyPulpSync},
	CmdPulpPutSchedule:    {version: 1, policy: PolicyWrite, apply: applyPulpPutSchedule},
	CmdPulpDeleteSchedule: {version: 1, policy: PolicyWrite, apply: applyPulpDeleteSchedule},
	CmdPulpFire:           {version: 1, policy: PolicyWrite, internal: true, apply: applyPulpFire},
	CmdPulpCreateConsumer: {version: 1, policy: PolicyWrite, apply: applyPulpCreateConsumer},
	CmdPulpUpdateConsumer: {version: 1, policy: PolicyWrite, apply: applyPulpUpdateConsumer},
	CmdPulpDeleteConsumer: {version: 1, policy: PolicyWrite, apply: applyPulpDeleteConsumer},
	CmdPulpBind:           {version: 1, policy: PolicyWrite, apply: applyPulpBind},
	CmdPulpUnbind:         {version: 1, policy: PolicyWrite, apply: applyPulpUnbind},
	CmdPulpRecordTask:     {version: 1, policy: PolicyWrite, apply: applyPulpRecordTask},
	CmdPulpPurgeTasks:     {version: 1, policy: PolicyWrite, apply: applyPulpPurgeTasks},
	CmdPulpQueueContent:   {version: 1, policy: PolicyWrite, apply: applyPulpQueueContent},
	CmdPulpPublish:        {version: 1, policy: PolicyWrite, apply: applyPulpPublish},
	CmdPulpCancelTask:     {version: 1, policy: PolicyWrite, apply: applyPulpCancelTask},
	CmdPulpStartContent:   {version: 1, policy: PolicyAdmin, apply: applyPulpStartContent}, // the region agent's report, as run.start
}

// Result is what Apply returns for a command log entry (raft's Response()).
type Result struct {
	Index uint64
	Value any
	Err   error
	// Duplicate is set when the command id was already applied; nothing
	// changed and Value is empty. Callers re-read the state they need.
	Duplicate bool
}

// FSM is the raft.FSM over Ferry's state.
type FSM struct {
	mu    sync.RWMutex
	s     *state
	index uint64
	// applied is closed and replaced on every applied index, to wake waiters.
	applied chan struct{}
}

var _ raft.FSM = (*FSM)(nil)

// New returns an empty state.
func New() *FSM { return &FSM{s: newState(), applied: make(chan struct{})} }

// Apply implements raft.FSM.
func (f *FSM) Apply(l *raft.Log) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	defer f.advance(l.Index)
	if l.Type != raft.LogCommand {
		return nil
	}
	cmd, err := DecodeCommand(l.Data)
	if err != nil {
		return Result{Index: l.Index, Err: errorf(KindInvalid, "%v", err)}
	}
	return f.applyCommand(l.Index, cmd)
}

func (f *FSM) applyCommand(index uint64, cmd Command) Result {
	h, ok := handlers[cmd.Type]
	if !ok {
		return Result{Index: index, Err: errorf(KindInvalid, "unknown command type %q", cmd.Type)}
	}
	if cmd.Version < 1 || cmd.Version > h.version {
		return Result{Index: index, Err: errorf(KindInvalid, "%s version %d is not supported (newest is %d)", cmd.Type, cmd.Version, h.version)}
	}
	if _, seen := f.s.applied[cmd.ID]; seen {
		return Result{Index: index, Duplicate: true}
	}
	f.s.applying = index
	v, err := h.apply(f.s, cmd)
	f.s.applying = 0
	if err != nil {
		return Result{Index: index, Err: err}
	}
	f.s.remember(cmd.ID, index, cmd.Time)
	return Result{Index: index, Value: v}
}

// advance records index as applied and wakes waiters. Callers hold f.mu.
func (f *FSM) advance(index uint64) {
	if index <= f.index {
		return
	}
	f.index = index
	close(f.applied)
	f.applied = make(chan struct{})
}

// AppliedIndex is the last log index applied to this state.
func (f *FSM) AppliedIndex() uint64 {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.index
}

// WaitForIndex returns once index has been applied here, or with ctx's error.
func (f *FSM) WaitForIndex(ctx context.Context, index uint64) error {
	for {
		f.mu.RLock()
		done, wake := f.index >= index, f.applied
		f.mu.RUnlock()
		if done {
			return nil
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return fmt.Errorf("waiting for index %d to be applied: %w", index, ctx.Err())
		}
	}
}

// Clusters lists the cluster registry ordered by id.
func (f *FSM) Clusters() []ClusterRecord {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := make([]ClusterRecord, 0, len(f.s.clusters))
	for _, id := range slices.Sorted(maps.Keys(f.s.clusters)) {
		r := f.s.clusters[id]
		r.Labels = maps.Clone(r.Labels)
		out = append(out, r)
	}
	return out
}

// Cluster returns one registry entry.
func (f *FSM) Cluster(id string) (ClusterRecord, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	r, ok := f.s.clusters[id]
	r.Labels = maps.Clone(r.Labels)
	return r, ok
}

// Tokens lists API tokens ordered by creation time, then accessor id.
func (f *FSM) Tokens() []Token {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := slices.Collect(maps.Values(f.s.tokens))
	slices.SortFunc(out, func(a, b Token) int {
		if c := a.CreateTime.Compare(b.CreateTime); c != 0 {
			return c
		}
		return strings.Compare(a.AccessorID, b.AccessorID)
	})
	return out
}

// Token returns one token by accessor id.
func (f *FSM) Token(accessorID string) (Token, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	t, ok := f.s.tokens[accessorID]
	return t, ok
}

// TokenBySecret finds the token whose secret is given.
func (f *FSM) TokenBySecret(secret string) (Token, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	id, ok := f.s.tokensByHash[HashSecret(secret)]
	if !ok {
		return Token{}, false
	}
	return f.s.tokens[id], true
}

// AccessKeys lists access keys, with their secrets, ordered by creation
// time, then access key.
func (f *FSM) AccessKeys() []AccessKey {
	f.mu.RLock()
	defer f.mu.RUnlock()
	out := slices.Collect(maps.Values(f.s.accessKeys))
	slices.SortFunc(out, func(a, b AccessKey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.AccessKey, b.AccessKey)
	})
	return out
}

// AccessKey returns one access key, with its secret, by its id.
func (f *FSM) AccessKey(ak string) (AccessKey, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	k, ok := f.s.accessKeys[ak]
	return k, ok
}

// snapshotFormat is bumped when the persisted layout changes incompatibly.
const snapshotFormat = 1

// snapshotData is the persisted state: sorted slices, so that equal states
// give byte-identical snapshots.
type snapshotData struct {
	Format   int             `json:"format"`
	Index    uint64          `json:"index"`
	Clusters []ClusterRecord `json:"clusters"`
	Tokens   []Token         `json:"tokens"`
	Runs     []Run           `json:"runs"`
	Tasks    []Task          `json:"tasks"`
	// Pulp's, since they were added: older snapshots have none.
	PulpRepos     []PulpRepo     `json:"pulpRepos,omitempty"`
	PulpTasks     []PulpTask     `json:"pulpTasks,omitempty"`
	PulpSchedules []PulpSchedule `json:"pulpSchedules,omitempty"`
	PulpConsumers []PulpConsumer `json:"pulpConsumers,omitempty"`
	// Access keys, since they were added: older snapshots have none.
	AccessKeys []AccessKey      `json:"accessKeys,omitempty"`
	Applied    []appliedCommand `json:"applied"`
}

type snapshot struct {
	index uint64
	s     *state
}

// Snapshot implements raft.FSM: it copies the state and leaves encoding to Persist.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return &snapshot{index: f.index, s: f.s.clone()}, nil
}

func (s *snapshot) data() snapshotData {
	d := snapshotData{Format: snapshotFormat, Index: s.index, Applied: s.s.appliedOrder}
	for _, id := range slices.Sorted(maps.Keys(s.s.clusters)) {
		d.Clusters = append(d.Clusters, s.s.clusters[id])
	}
	for _, id := range slices.Sorted(maps.Keys(s.s.tokens)) {
		d.Tokens = append(d.Tokens, s.s.tokens[id])
	}
	for _, ak := range slices.Sorted(maps.Keys(s.s.accessKeys)) {
		d.AccessKeys = append(d.AccessKeys, s.s.accessKeys[ak])
	}
	d.Runs = sortedRuns(s.s.runs)
	d.Tasks = sortedTasks(s.s.tasks)
	d.PulpRepos = sortedPulpRepos(s.s.pulpRepos)
	d.PulpTasks = sortedPulpTasks(s.s.pulpTasks)
	d.PulpSchedules = sortedPulpSchedules(s.s.pulpSchedules)
	d.PulpConsumers = sortedPulpConsumers(s.s.pulpConsumers)
	return d
}

// Persist implements raft.FSMSnapshot.
func (s *snapshot) Persist(sink raft.SnapshotSink) error {
	if err := json.NewEncoder(sink).Encode(s.data()); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("fsm: persist snapshot: %w", err)
	}
	return sink.Close()
}

// Release implements raft.FSMSnapshot.
func (s *snapshot) Release() {}

// Restore implements raft.FSM: it replaces all state with the snapshot's.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var d snapshotData
	if err := json.NewDecoder(rc).Decode(&d); err != nil {
		return fmt.Errorf("fsm: restore snapshot: %w", err)
	}
	if d.Format != snapshotFormat {
		return fmt.Errorf("fsm: restore snapshot: format %d is not supported (want %d)", d.Format, snapshotFormat)
	}
	s := newState()
	for _, r := range d.Clusters {
		s.clusters[r.ID] = r
	}
	for _, t := range d.Tokens {
		s.tokens[t.AccessorID] = t
		s.tokensByHash[t.SecretHash] = t.AccessorID
	}
	for _, k := range d.AccessKeys {
		s.accessKeys[k.AccessKey] = k
	}
	for _, r := range d.Runs {
		s.runs[r.ID] = r
	}
	for _, t := range d.Tasks {
		s.tasks[t.Key] = t
	}
	for _, r := range d.PulpRepos {
		s.pulpRepos[r.key()] = r
	}
	for _, t := range d.PulpTasks {
		s.pulpTasks[t.ID] = t
	}
	for _, sc := range d.PulpSchedules {
		s.pulpSchedules[sc.ID] = sc
	}
	for _, c := range d.PulpConsumers {
		s.pulpConsumers[c.key()] = c
	}
	for _, a := range d.Applied {
		s.applied[a.ID] = a
		s.appliedOrder = append(s.appliedOrder, a)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.s = s
	f.index = 0 // a restore may move the index back; advance from zero
	f.advance(d.Index)
	return nil
}
