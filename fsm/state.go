package fsm

import (
	"maps"
	"time"
)

// An applied command id is remembered for idempotencyWindow of command time
// and among the last maxRememberedIDs commands, whichever is less. Retries
// come within the proposer's leader wait (seconds); the cap bounds memory and
// snapshot size at high write rates (at 2,000 writes/s it still covers 50 s).
const (
	idempotencyWindow = time.Hour
	maxRememberedIDs  = 100_000
)

// appliedCommand remembers a successfully applied command id.
type appliedCommand struct {
	ID    string    `json:"id"`
	Index uint64    `json:"index"`
	Time  time.Time `json:"time"`
}

// state is everything that is replicated. Only Apply and Restore write it.
type state struct {
	clusters      map[string]ClusterRecord
	tokens        map[string]Token
	tokensByHash  map[string]string // secret hash -> accessor id
	accessKeys    map[string]AccessKey
	applied       map[string]appliedCommand
	appliedOrder  []appliedCommand // oldest first, for pruning by command time
	runs          map[string]Run
	tasks         map[string]Task
	pulpRepos     map[string]PulpRepo // by PulpRepoKey
	pulpTasks     map[string]PulpTask
	pulpSchedules map[string]PulpSchedule
	pulpConsumers map[string]PulpConsumer // by PulpRepoKey of cluster and id
	// applying is the log index of the command being applied (not state:
	// handlers stamp it on what they change).
	applying uint64
}

func newState() *state {
	return &state{
		clusters:      map[string]ClusterRecord{},
		tokens:        map[string]Token{},
		tokensByHash:  map[string]string{},
		accessKeys:    map[string]AccessKey{},
		applied:       map[string]appliedCommand{},
		runs:          map[string]Run{},
		tasks:         map[string]Task{},
		pulpRepos:     map[string]PulpRepo{},
		pulpTasks:     map[string]PulpTask{},
		pulpSchedules: map[string]PulpSchedule{},
		pulpConsumers: map[string]PulpConsumer{},
	}
}

func (s *state) clone() *state {
	c := &state{
		clusters:      make(map[string]ClusterRecord, len(s.clusters)),
		tokens:        maps.Clone(s.tokens),
		tokensByHash:  maps.Clone(s.tokensByHash),
		accessKeys:    maps.Clone(s.accessKeys),
		applied:       maps.Clone(s.applied),
		appliedOrder:  append([]appliedCommand(nil), s.appliedOrder...),
		runs:          make(map[string]Run, len(s.runs)),
		tasks:         make(map[string]Task, len(s.tasks)),
		pulpRepos:     make(map[string]PulpRepo, len(s.pulpRepos)),
		pulpTasks:     make(map[string]PulpTask, len(s.pulpTasks)),
		pulpSchedules: make(map[string]PulpSchedule, len(s.pulpSchedules)),
		pulpConsumers: make(map[string]PulpConsumer, len(s.pulpConsumers)),
	}
	for k, pc := range s.pulpConsumers {
		c.pulpConsumers[k] = pc.clone()
	}
	for k, sc := range s.pulpSchedules {
		c.pulpSchedules[k] = sc.clone()
	}
	for k, r := range s.pulpRepos {
		c.pulpRepos[k] = r.clone()
	}
	for k, t := range s.pulpTasks {
		c.pulpTasks[k] = t.clone()
	}
	for k, t := range s.tasks {
		c.tasks[k] = t.clone()
	}
	for id, r := range s.runs {
		c.runs[id] = r.clone()
	}
	for id, r := range s.clusters {
		r.Labels = maps.Clone(r.Labels)
		c.clusters[id] = r
	}
	return c
}

func (s *state) remember(id string, index uint64, at time.Time) {
	for len(s.appliedOrder) > 0 && (at.Sub(s.appliedOrder[0].Time) > idempotencyWindow || len(s.appliedOrder) >= maxRememberedIDs) {
		delete(s.applied, s.appliedOrder[0].ID)
		s.appliedOrder = s.appliedOrder[1:]
	}
	a := appliedCommand{ID: id, Index: index, Time: at}
	s.applied[id] = a
	s.appliedOrder = append(s.appliedOrder, a)
}
