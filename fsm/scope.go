package fsm

import (
	"encoding/json"
	"slices"
	"strings"
)

// PulpProject is the store project every region's Pulp repositories are
// kept in: the project of every Pulp command.
const PulpProject = "pulp"

// Scope is what a command reaches: Projects, or everything (All) when it
// is no one project's — a credential without project limits, a command
// this code does not place. A caller limited to projects may propose a
// command whose scope is within them (Limits.Covers).
type Scope struct {
	Projects []string
	All      bool
}

// Covers reports whether a credential with l may propose what reaches sc.
func (l Limits) Covers(sc Scope) bool {
	if len(l.Projects) == 0 {
		return true
	}
	return !sc.All && !slices.ContainsFunc(sc.Projects, func(p string) bool { return !l.AllowsProject(p) })
}

// ScopeOf is the projects cmd reaches in the current state: a task's or a
// run's source and target projects (an update's old and new ones), a
// credential's limits, a Pulp command's PulpProject.
func (f *FSM) ScopeOf(cmd Command) (Scope, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	if strings.HasPrefix(string(cmd.Type), "pulp.") {
		return Scope{Projects: []string{PulpProject}}, nil
	}
	reach, ok := scopes[cmd.Type]
	if !ok {
		return Scope{All: true}, nil
	}
	return reach(f.s, cmd.Payload)
}

var scopes = map[CommandType]func(*state, json.RawMessage) (Scope, error){
	CmdCreateToken:     scopeOf(func(_ *state, t Token) Scope { return limitsScope(t.Limits) }),
	CmdCreateAccessKey: scopeOf(func(_ *state, k AccessKey) Scope { return limitsScope(k.Limits) }),
	CmdDeleteToken: scopeOf(func(s *state, d DeleteToken) Scope {
		t, ok := s.tokens[d.AccessorID]
		return limitsScope(t.Limits).unless(!ok)
	}),
	CmdDeleteAccessKey: scopeOf(func(s *state, d DeleteAccessKey) Scope {
		k, ok := s.accessKeys[d.AccessKey]
		return limitsScope(k.Limits).unless(!ok)
	}),
	CmdCreateRun: scopeOf(func(_ *state, r Run) Scope { return specScope(r.Spec.LocalProjectID, r.Spec.Objects) }),
	CmdCancelRun: scopeOf(func(s *state, ref RunRef) Scope {
		r, ok := s.runs[ref.ID]
		return specScope(r.Spec.LocalProjectID, r.Spec.Objects).unless(!ok)
	}),
	CmdCreateTask: scopeOf(func(_ *state, t Task) Scope { return taskScope(t) }),
	CmdUpdateTask: scopeOf(func(s *state, u UpdateTask) Scope {
		sc := taskScope(u.Task)
		if old, ok := s.tasks[u.Key]; ok {
			sc.Projects = append(sc.Projects, taskScope(old).Projects...)
		}
		return sc
	}),
	CmdDeleteTask: scopeOf(func(s *state, ref TaskRef) Scope { return existingTask(s, ref.Key) }),
	CmdToggleTask: scopeOf(func(s *state, t ToggleTask) Scope { return existingTask(s, t.Key) }),
	CmdFireTask:   scopeOf(func(s *state, f FireTask) Scope { return existingTask(s, f.Key) }),
}

func scopeOf[T any](reach func(*state, T) Scope) func(*state, json.RawMessage) (Scope, error) {
	return func(s *state, raw json.RawMessage) (Scope, error) {
		var p T
		if err := json.Unmarshal(raw, &p); err != nil {
			return Scope{}, errorf(KindInvalid, "%v", err)
		}
		return reach(s, p), nil
	}
}

// unless is no scope at all when missing: the command refers to nothing,
// and its apply refuses it as not found.
func (sc Scope) unless(missing bool) Scope {
	if missing {
		return Scope{}
	}
	return sc
}

func limitsScope(l Limits) Scope {
	return Scope{Projects: l.Projects, All: len(l.Projects) == 0}
}

func specScope(project string, objects []ReplicaObject) Scope {
	sc := Scope{Projects: []string{project}}
	for _, o := range objects {
		if o.RemoteProjectID != "" && !slices.Contains(sc.Projects, o.RemoteProjectID) {
			sc.Projects = append(sc.Projects, o.RemoteProjectID)
		}
	}
	return sc
}

func taskScope(t Task) Scope { return specScope(t.ProjectID, t.Objects) }

func existingTask(s *state, key string) Scope {
	t, ok := s.tasks[key]
	return taskScope(t).unless(!ok)
}
