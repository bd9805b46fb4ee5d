package fsm

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Pulp 2's model, as Ferry keeps it. Every agent is the Pulp server of its
// region: a Pulp repository belongs to one cluster, and its content is that
// cluster's store repository of the same id (in the project the agent's
// configuration names). What Pulp configures on it (importer, distributors)
// and what it was asked to do (tasks) are replicated, so that the leader can
// schedule its syncs and any agent can show them.

// PulpRepo is a Pulp repository of one cluster.
type PulpRepo struct {
	Cluster      string                     `json:"cluster"`
	ID           string                     `json:"id"`
	DisplayName  string                     `json:"displayName"`
	Description  *string                    `json:"description,omitempty"`
	Notes        map[string]json.RawMessage `json:"notes,omitempty"`
	Importer     *PulpImporter              `json:"importer,omitempty"`
	Distributors []PulpDistributor          `json:"distributors,omitempty"`
	CreatedAt    time.Time                  `json:"createdAt"`
	UpdatedAt    time.Time                  `json:"updatedAt"`
	Index        uint64                     `json:"index"`
}

// PulpImporter is a repository's importer: what it syncs from.
type PulpImporter struct {
	TypeID      string                     `json:"typeId"`
	Config      map[string]json.RawMessage `json:"config,omitempty"`
	LastUpdated time.Time                  `json:"lastUpdated"`
	LastSync    time.Time                  `json:"lastSync,omitzero"`
}

// PulpDistributor is how a repository is published.
type PulpDistributor struct {
	ID          string                     `json:"id"`
	TypeID      string                     `json:"typeId"`
	Config      map[string]json.RawMessage `json:"config,omitempty"`
	AutoPublish bool                       `json:"autoPublish"`
	LastPublish time.Time                  `json:"lastPublish,omitzero"`
}

// The plugin types Ferry has: Pulp's ISO importer and distributor.
const (
	PulpISOImporter    = "iso_importer"
	PulpISODistributor = "iso_distributor"
)

var pulpRepoID = regexp.MustCompile(`^[.\-_A-Za-z0-9]+$`)

// PulpRepoKey names a repository of a cluster.
func PulpRepoKey(cluster, id string) string { return cluster + "/" + id }

func (r PulpRepo) key() string { return PulpRepoKey(r.Cluster, r.ID) }

func (r PulpRepo) clone() PulpRepo {
	r.Notes = maps.Clone(r.Notes)
	if r.Importer != nil {
		imp := *r.Importer
		imp.Config = maps.Clone(imp.Config)
		r.Importer = &imp
	}
	r.Distributors = slices.Clone(r.Distributors)
	for i := range r.Distributors {
		r.Distributors[i].Config = maps.Clone(r.Distributors[i].Config)
	}
	return r
}

// ValidatePulpRepo checks what Pulp's repository manager checks, naming the
// property as Pulp's refusals do (repo_id, importer_type_id, ...).
func ValidatePulpRepo(r PulpRepo) error {
	switch {
	case r.Cluster == "":
		return FieldError("cluster", "it is required")
	case !pulpRepoID.MatchString(r.ID):
		return FieldError("repo_id", "%q is not made of letters, digits, '.', '-' and '_'", r.ID)
	case r.Importer != nil && r.Importer.TypeID != PulpISOImporter:
		return FieldError("importer_type_id", "the importer type %s does not exist", r.Importer.TypeID)
	}
	seen := map[string]bool{}
	for _, d := range r.Distributors {
		switch {
		case d.TypeID != PulpISODistributor:
			return FieldError("distributor_type_id", "the distributor type %s does not exist", d.TypeID)
		case d.ID == "" || !pulpRepoID.MatchString(d.ID):
			return FieldError("distributor_id", "%q is not a valid distributor id", d.ID)
		case seen[d.ID]:
			return FieldError("distributor_id", "%q is named twice", d.ID)
		}
		seen[d.ID] = true
	}
	return nil
}

// Payloads of the Pulp repository commands.
type (
	// PulpRepoRef names a repository (CmdPulpDeleteRepo), and the task that
	// records the deletion.
	PulpRepoRef struct {
		Cluster string `json:"cluster"`
		ID      string `json:"id"`
		TaskID  string `json:"taskId"`
		By      string `json:"by"`
	}
	// PulpRepoUpdate changes a repository (CmdPulpUpdateRepo) as Pulp's
	// PUT does: delta's display_name and description replace, its notes
	// merge (a null note is removed); importer_config merges into the
	// importer's config the same way; distributor configs likewise, by
	// distributor id.
	PulpRepoUpdate struct {
		Cluster            string                                `json:"cluster"`
		ID                 string                                `json:"id"`
		DisplayName        *string                               `json:"displayName,omitempty"`
		Description        json.RawMessage                       `json:"description,omitempty"`
		Notes              map[string]json.RawMessage            `json:"notes,omitempty"`
		ImporterConfig     map[string]json.RawMessage            `json:"importerConfig,omitempty"`
		DistributorConfigs map[string]map[string]json.RawMessage `json:"distributorConfigs,omitempty"`
		// TaskID, when set, records the update as a finished task (an
		// importer's update is one of Pulp's asynchronous calls).
		TaskID string `json:"taskId,omitempty"`
		By     string `json:"by,omitempty"`
	}
	// PulpImporterSet gives a repository its importer, replacing one it has
	// (CmdPulpSetImporter); with Importer nil it removes it.
	PulpImporterSet struct {
		Cluster  string        `json:"cluster"`
		ID       string        `json:"id"`
		Importer *PulpImporter `json:"importer,omitempty"`
		TaskID   string        `json:"taskId"`
		By       string        `json:"by"`
	}
)

func applyPulpCreateRepo(s *state, cmd Command) (any, error) {
	var r PulpRepo
	if err := json.Unmarshal(cmd.Payload, &r); err != nil {
		return nil, errorf(KindInvalid, "pulp.repo.create: %v", err)
	}
	if err := ValidatePulpRepo(r); err != nil {
		return nil, err
	}
	if _, ok := s.pulpRepos[r.key()]; ok {
		return nil, refusal(KindConflict, RuleDuplicate, "repository %s of cluster %s exists", r.ID, r.Cluster)
	}
	if r.DisplayName == "" {
		r.DisplayName = r.ID
	}
	r.CreatedAt, r.UpdatedAt, r.Index = cmd.Time, cmd.Time, s.applying
	if r.Importer != nil {
		r.Importer.LastUpdated = cmd.Time
	}
	s.pulpRepos[r.key()] = r
	return r.clone(), nil
}

func applyPulpUpdateRepo(s *state, cmd Command) (any, error) {
	var u PulpRepoUpdate
	if err := json.Unmarshal(cmd.Payload, &u); err != nil {
		return nil, errorf(KindInvalid, "pulp.repo.update: %v", err)
	}
	r, ok := s.pulpRepos[PulpRepoKey(u.Cluster, u.ID)]
	if !ok {
		return nil, errorf(KindNotFound, "repository %s of cluster %s not found", u.ID, u.Cluster)
	}
	r = r.clone()
	if u.DisplayName != nil {
		r.DisplayName = *u.DisplayName
	}
	if len(u.Description) > 0 {
		r.Description = nil
		if string(u.Description) != "null" {
			var d string
			if err := json.Unmarshal(u.Description, &d); err != nil {
				return nil, FieldError("description", "it is not a string")
			}
			r.Description = &d
		}
	}
	r.Notes = mergeConfig(r.Notes, u.Notes)
	if u.ImporterConfig != nil {
		if r.Importer == nil {
			return nil, FieldError("importer_config", "repository %s has no importer", r.ID)
		}
		r.Importer.Config, r.Importer.LastUpdated = mergeConfig(r.Importer.Config, u.ImporterConfig), cmd.Time
	}
	for id, conf := range u.DistributorConfigs {
		i := slices.IndexFunc(r.Distributors, func(d PulpDistributor) bool { return d.ID == id })
		if i < 0 {
			return nil, errorf(KindNotFound, "distributor %s of repository %s not found", id, r.ID)
		}
		r.Distributors[i].Config = mergeConfig(r.Distributors[i].Config, conf)
	}
	r.UpdatedAt, r.Index = cmd.Time, s.applying
	s.pulpRepos[r.key()] = r
	if u.TaskID != "" {
		s.finishedPulpTask(u.TaskID, u.Cluster, "pulp.server.tasks.repository.importer", cmd.Time, u.By,
			"pulp:repository:"+u.ID, "pulp:action:update_importer")
	}
	return r.clone(), nil
}

// mergeConfig merges delta into config as Pulp merges configs: keys replace,
// a key set to null is removed.
func mergeConfig(config, delta map[string]json.RawMessage) map[string]json.RawMessage {
	if delta == nil {
		return config
	}
	out := maps.Clone(config)
	if out == nil {
		out = map[string]json.RawMessage{}
	}
	for k, v := range delta {
		if strings.TrimSpace(string(v)) == "null" {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

func applyPulpDeleteRepo(s *state, cmd Command) (any, error) {
	var p PulpRepoRef
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "pulp.repo.delete: %v", err)
	}
	key := PulpRepoKey(p.Cluster, p.ID)
	if _, ok := s.pulpRepos[key]; !ok {
		return nil, errorf(KindNotFound, "repository %s of cluster %s not found", p.ID, p.Cluster)
	}
	delete(s.pulpRepos, key)
	s.dropPulpSchedules(p.Cluster, p.ID, false)
	t := s.finishedPulpTask(p.TaskID, p.Cluster, "pulp.server.tasks.repository.delete", cmd.Time, p.By,
		"pulp:repository:"+p.ID, "pulp:action:delete")
	return t, nil
}

func applyPulpSetImporter(s *state, cmd Command) (any, error) {
	var p PulpImporterSet
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "pulp.importer.set: %v", err)
	}
	key := PulpRepoKey(p.Cluster, p.ID)
	r, ok := s.pulpRepos[key]
	if !ok {
		return nil, errorf(KindNotFound, "repository %s of cluster %s not found", p.ID, p.Cluster)
	}
	r = r.clone()
	action := "pulp:action:add_importer"
	if p.Importer == nil {
		if r.Importer == nil {
			return nil, errorf(KindNotFound, "repository %s has no importer", p.ID)
		}
		action = "pulp:action:delete_importer"
		s.dropPulpSchedules(p.Cluster, p.ID, true)
	} else {
		p.Importer.LastUpdated = cmd.Time
	}
	r.Importer, r.UpdatedAt, r.Index = p.Importer, cmd.Time, s.applying
	if err := ValidatePulpRepo(r); err != nil {
		return nil, err
	}
	s.pulpRepos[key] = r
	return s.finishedPulpTask(p.TaskID, p.Cluster, "pulp.server.tasks.repository.importer", cmd.Time, p.By,
		"pulp:repository:"+p.ID, action), nil
}

// PulpRepos are a cluster's Pulp repositories, by id.
func (f *FSM) PulpRepos(cluster string) []PulpRepo {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []PulpRepo
	for _, r := range f.s.pulpRepos {
		if r.Cluster == cluster {
			out = append(out, r.clone())
		}
	}
	slices.SortFunc(out, func(a, b PulpRepo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// PulpRepo is one repository of a cluster.
func (f *FSM) PulpRepo(cluster, id string) (PulpRepo, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	r, ok := f.s.pulpRepos[PulpRepoKey(cluster, id)]
	return r.clone(), ok
}

func sortedPulpRepos(m map[string]PulpRepo) []PulpRepo {
	return slices.SortedFunc(maps.Values(m), func(a, b PulpRepo) int { return strings.Compare(a.key(), b.key()) })
}

// PulpTask is what Pulp calls a task: one asynchronous call of a region,
// with Pulp's states (waiting, running, finished, error, canceled, ...).
type PulpTask struct {
	ID         string          `json:"id"`
	Cluster    string          `json:"cluster"`
	Type       string          `json:"type"`
	Tags       []string        `json:"tags"`
	State      string          `json:"state"`
	Result     json.RawMessage `json:"result,omitempty"`
	Error      string          `json:"error,omitempty"`
	CreatedBy  string          `json:"createdBy"`
	StartTime  time.Time       `json:"startTime,omitzero"`
	FinishTime time.Time       `json:"finishTime,omitzero"`
	// Content, on a consumer's content action, is the call (pulpcontent.go).
	Content *PulpContentCall `json:"content,omitempty"`
	Index   uint64           `json:"index"`
}

func (t PulpTask) clone() PulpTask {
	t.Tags = slices.Clone(t.Tags)
	t.Content = t.Content.clone()
	return t
}

// Pulp task states.
const (
	PulpTaskWaiting  = "waiting"
	PulpTaskRunning  = "running"
	PulpTaskFinished = "finished"
	PulpTaskError    = "error"
	PulpTaskCanceled = "canceled"
)

// maxPulpTasks bounds the tasks kept: the oldest ended ones go first.
const maxPulpTasks = 1000

// finishedPulpTask records a call that completed as it was applied.
func (s *state) finishedPulpTask(id, cluster, typ string, at time.Time, by string, tags ...string) PulpTask {
	if id == "" {
		id = fmt.Sprintf("task-%d", s.applying) // deterministic on every replica
	}
	t := PulpTask{ID: id, Cluster: cluster, Type: typ, Tags: tags, State: PulpTaskFinished, CreatedBy: by, StartTime: at, FinishTime: at, Index: s.applying}
	s.pulpTasks[id] = t
	s.prunePulpTasks()
	return t
}

func (s *state) prunePulpTasks() {
	if len(s.pulpTasks) <= maxPulpTasks {
		return
	}
	ended := slices.DeleteFunc(slices.Collect(maps.Values(s.pulpTasks)), func(t PulpTask) bool { return t.FinishTime.IsZero() })
	slices.SortFunc(ended, func(a, b PulpTask) int {
		if c := a.FinishTime.Compare(b.FinishTime); c != 0 {
			return c
		}
		return cmpIndex(a.Index, b.Index, a.ID, b.ID)
	})
	for _, t := range ended[:min(len(ended), len(s.pulpTasks)-maxPulpTasks)] {
		delete(s.pulpTasks, t.ID)
	}
}

// PulpTask is one task.
func (f *FSM) PulpTask(id string) (PulpTask, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	t, ok := f.s.pulpTasks[id]
	return t.clone(), ok
}

// PulpTasks are a cluster's tasks that have every tag asked, oldest first.
func (f *FSM) PulpTasks(cluster string, tags []string) []PulpTask {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var out []PulpTask
	for _, t := range f.s.pulpTasks {
		if t.Cluster == cluster && !slices.ContainsFunc(tags, func(tag string) bool { return !slices.Contains(t.Tags, tag) }) {
			out = append(out, t.clone())
		}
	}
	slices.SortFunc(out, func(a, b PulpTask) int { return cmpIndex(a.Index, b.Index, a.ID, b.ID) })
	return out
}

func cmpIndex(a, b uint64, ida, idb string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return strings.Compare(ida, idb)
}

func sortedPulpTasks(m map[string]PulpTask) []PulpTask {
	return slices.SortedFunc(maps.Values(m), func(a, b PulpTask) int { return cmpIndex(a.Index, b.Index, a.ID, b.ID) })
}
