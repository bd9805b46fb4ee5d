package fsm

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
)

// PulpConsumer is a Pulp consumer: a place in a region that content is
// installed to. It is registered with one region's Pulp server (Cluster)
// and its content goes to Region's store repositories of the bound
// repositories' ids.
type PulpConsumer struct {
	Cluster     string                     `json:"cluster"`
	ID          string                     `json:"id"`
	Region      string                     `json:"region"`
	DisplayName string                     `json:"displayName"`
	Description *string                    `json:"description,omitempty"`
	Notes       map[string]json.RawMessage `json:"notes,omitempty"`
	RSAPub      *string                    `json:"rsaPub,omitempty"`
	Bindings    []PulpBinding              `json:"bindings,omitempty"`
	CreatedAt   time.Time                  `json:"createdAt"`
	Index       uint64                     `json:"index"`
}

// PulpBinding ties a consumer to a repository's distributor.
type PulpBinding struct {
	Repo          string                     `json:"repo"`
	Distributor   string                     `json:"distributor"`
	NotifyAgent   bool                       `json:"notifyAgent"`
	BindingConfig map[string]json.RawMessage `json:"bindingConfig,omitempty"`
	CreatedAt     time.Time                  `json:"createdAt"`
}

// PulpRegionNote is the consumer note that names its region.
const PulpRegionNote = "ferry.cluster"

func (c PulpConsumer) key() string { return PulpRepoKey(c.Cluster, c.ID) }

func (c PulpConsumer) clone() PulpConsumer {
	c.Notes = maps.Clone(c.Notes)
	c.Bindings = slices.Clone(c.Bindings)
	for i := range c.Bindings {
		c.Bindings[i].BindingConfig = maps.Clone(c.Bindings[i].BindingConfig)
	}
	return c
}

// pulpRegion is where a consumer's content goes: the cluster its
// ferry.cluster note names, else the cluster of its id, else the region
// that registered it.
func pulpRegion(c PulpConsumer, clusters map[string]ClusterRecord) string {
	var note string
	if raw, ok := c.Notes[PulpRegionNote]; ok && json.Unmarshal(raw, &note) == nil && note != "" {
		return note
	}
	if _, ok := clusters[c.ID]; ok {
		return c.ID
	}
	return c.Cluster
}

// PulpConsumerUpdate is a consumer's PUT delta (CmdPulpUpdateConsumer).
type PulpConsumerUpdate struct {
	Cluster     string                     `json:"cluster"`
	ID          string                     `json:"id"`
	DisplayName *string                    `json:"displayName,omitempty"`
	Description json.RawMessage            `json:"description,omitempty"`
	Notes       map[string]json.RawMessage `json:"notes,omitempty"`
}

// PulpBindingPut binds (again) a consumer to a repository's distributor
// (CmdPulpBind); with Delete it unbinds (CmdPulpUnbind).
type PulpBindingPut struct {
	Cluster  string      `json:"cluster"`
	Consumer string      `json:"consumer"`
	Binding  PulpBinding `json:"binding"`
}

func applyPulpCreateConsumer(s *state, cmd Command) (any, error) {
	var c PulpConsumer
	if err := json.Unmarshal(cmd.Payload, &c); err != nil {
		return nil, errorf(KindInvalid, "pulp.consumer.create: %v", err)
	}
	if !pulpRepoID.MatchString(c.ID) {
		return nil, FieldError("id", "%q is not made of letters, digits, '.', '-' and '_'", c.ID)
	}
	if _, ok := s.pulpConsumers[c.key()]; ok {
		return nil, refusal(KindConflict, RuleDuplicate, "consumer %s of cluster %s exists", c.ID, c.Cluster)
	}
	if c.DisplayName == "" {
		c.DisplayName = c.ID
	}
	c.Region, c.Bindings, c.CreatedAt, c.Index = pulpRegion(c, s.clusters), nil, cmd.Time, s.applying
	if _, ok := s.clusters[c.Region]; !ok {
		return nil, FieldError("notes", "%s %q is not a registered cluster", PulpRegionNote, c.Region)
	}
	s.pulpConsumers[c.key()] = c
	return c.clone(), nil
}

func applyPulpUpdateConsumer(s *state, cmd Command) (any, error) {
	var u PulpConsumerUpdate
	if err := json.Unmarshal(cmd.Payload, &u); err != nil {
		return nil, errorf(KindInvalid, "pulp.consumer.update: %v", err)
	}
	c, ok := s.pulpConsumers[PulpRepoKey(u.Cluster, u.ID)]
	if !ok {
		return nil, errorf(KindNotFound, "consumer %s not found", u.ID)
	}
	c = c.clone()
	if u.DisplayName != nil {
		c.DisplayName = *u.DisplayName
	}
	if len(u.Description) > 0 {
		c.Description = nil
		var d string
		if string(u.Description) != "null" && json.Unmarshal(u.Description, &d) == nil {
			c.Description = &d
		}
	}
	c.Notes = mergeConfig(c.Notes, u.Notes)
	c.Region = pulpRegion(c, s.clusters)
	if _, ok := s.clusters[c.Region]; !ok {
		return nil, FieldError("notes", "%s %q is not a registered cluster", PulpRegionNote, c.Region)
	}
	c.Index = s.applying
	s.pulpConsumers[c.key()] = c
	return c.clone(), nil
}

func applyPulpDeleteConsumer(s *state, cmd Command) (any, error) {
	var p PulpRepoRef
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "pulp.consumer.delete: %v", err)
	}
	if _, ok := s.pulpConsumers[PulpRepoKey(p.Cluster, p.ID)]; !ok {
		return nil, errorf(KindNotFound, "consumer %s not found", p.ID)
	}
	delete(s.pulpConsumers, PulpRepoKey(p.Cluster, p.ID))
	s.dropContentSchedules(p.Cluster, p.ID)
	return nil, nil
}

func applyPulpBind(s *state, cmd Command) (any, error) {
	var p PulpBindingPut
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "pulp.bind: %v", err)
	}
	c, ok := s.pulpConsumers[PulpRepoKey(p.Cluster, p.Consumer)]
	if !ok {
		return nil, errorf(KindNotFound, "consumer %s not found", p.Consumer)
	}
	repo, ok := s.pulpRepos[PulpRepoKey(p.Cluster, p.Binding.Repo)]
	if !ok || !slices.ContainsFunc(repo.Distributors, func(d PulpDistributor) bool { return d.ID == p.Binding.Distributor }) {
		return nil, &Error{Kind: KindInvalid, Field: "repo_id", Reason: "no repository " + p.Binding.Repo + " with distributor " + p.Binding.Distributor}
	}
	c = c.clone()
	b := p.Binding
	b.CreatedAt = cmd.Time
	if i := c.BindingIndex(b.Repo, b.Distributor); i >= 0 {
		b.CreatedAt = c.Bindings[i].CreatedAt
		c.Bindings[i] = b
	} else {
		c.Bindings = append(c.Bindings, b)
	}
	c.Index = s.applying
	s.pulpConsumers[c.key()] = c
	return c.clone(), nil
}

func applyPulpUnbind(s *state, cmd Command) (any, error) {
	var p PulpBindingPut
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "pulp.unbind: %v", err)
	}
	c, ok := s.pulpConsumers[PulpRepoKey(p.Cluster, p.Consumer)]
	if !ok {
		return nil, errorf(KindNotFound, "consumer %s not found", p.Consumer)
	}
	i := c.BindingIndex(p.Binding.Repo, p.Binding.Distributor)
	if i < 0 {
		return nil, errorf(KindNotFound, "consumer %s is not bound to %s/%s", p.Consumer, p.Binding.Repo, p.Binding.Distributor)
	}
	c = c.clone()
	c.Bindings = slices.Delete(c.Bindings, i, i+1)
	c.Index = s.applying
	s.pulpConsumers[c.key()] = c
	return c.clone(), nil
}

// BindingIndex is the index of a binding, or -1.
func (c PulpConsumer) BindingIndex(repo, dist string) int {
	return slices.IndexFunc(c.Bindings, func(b PulpBinding) bool { return b.Repo == repo && b.Distributor == dist })
}

// PulpConsumers are a cluster's consumers, by id.
func (f *FSM) PulpConsumers(cluster string) []PulpConsumer {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []PulpConsumer
	for _, c := range f.s.pulpConsumers {
		if c.Cluster == cluster {
			out = append(out, c.clone())
		}
	}
	slices.SortFunc(out, func(a, b PulpConsumer) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// PulpConsumer is one consumer of a cluster.
func (f *FSM) PulpConsumer(cluster, id string) (PulpConsumer, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	c, ok := f.s.pulpConsumers[PulpRepoKey(cluster, id)]
	return c.clone(), ok
}

func sortedPulpConsumers(m map[string]PulpConsumer) []PulpConsumer {
	return slices.SortedFunc(maps.Values(m), func(a, b PulpConsumer) int { return strings.Compare(a.key(), b.key()) })
}

// PulpContent names the consumer and the content action (install, update)
// a run carries out.
type PulpContent struct {
	Cluster    string `json:"cluster"`
	Consumer   string `json:"consumer"`
	Action     string `json:"action"`
	ScheduleID string `json:"scheduleId,omitempty"`
}

// PulpTaskRecord records a task that a region's agent carried out itself
// (CmdPulpRecordTask): a content uninstall, or an install with nothing to
// copy.
type PulpTaskRecord struct {
	Task PulpTask `json:"task"`
}

func applyPulpRecordTask(s *state, cmd Command) (any, error) {
	var p PulpTaskRecord
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "pulp.task.record: %v", err)
	}
	t := p.Task
	if t.ID == "" || t.Cluster == "" {
		return nil, errorf(KindInvalid, "pulp.task.record: id and cluster are required")
	}
	if _, dup := s.pulpTasks[t.ID]; dup {
		return nil, errorf(KindConflict, "task %s exists", t.ID)
	}
	if t.State != PulpTaskError {
		t.State = PulpTaskFinished
	}
	t.StartTime, t.FinishTime, t.Index = cmd.Time, cmd.Time, s.applying
	s.pulpTasks[t.ID] = t
	s.prunePulpTasks()
	return t, nil
}

// PulpTaskPurge deletes a cluster's recorded tasks in the states named
// (CmdPulpPurgeTasks): Pulp's DELETE /v2/tasks/?state=.
type PulpTaskPurge struct {
	Cluster string   `json:"cluster"`
	States  []string `json:"states"`
}

func applyPulpPurgeTasks(s *state, cmd Command) (any, error) {
	var p PulpTaskPurge
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "pulp.task.purge: %v", err)
	}
	n := 0
	for id, t := range s.pulpTasks {
		if t.Cluster == p.Cluster && slices.Contains(p.States, t.State) {
			delete(s.pulpTasks, id)
			n++
		}
	}
	return n, nil
}
