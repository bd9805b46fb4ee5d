package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
)

// A credential limited to projects (fsm.Limits.Projects) reaches those
// only, in every dialect. The rule is here, once: the agent's services
// check the writes (a task's, a run's, the store's), each dialect says
// which project a read is about and filters its lists, and answers a
// ScopeError with its own 403.

// ScopeError refuses a caller whose credential does not reach what it
// asked for: Wanted projects, or every project (All).
type ScopeError struct {
	Caller  string
	Allowed []string
	Wanted  []string
	All     bool
}

func (e *ScopeError) Error() string {
	what := fmt.Sprintf("the projects %v", e.Wanted)
	if e.All {
		what = "every project"
	}
	return fmt.Sprintf("%s is limited to the projects %v; this reaches %s", e.Caller, e.Allowed, what)
}

// StatusCode implements StatusCoder.
func (e *ScopeError) StatusCode() int { return http.StatusForbidden }

// InScope reports whether the caller reaches project.
func (c Caller) InScope(project string) bool {
	return len(c.Projects) == 0 || slices.Contains(c.Projects, project)
}

// CheckScope is nil when the request's caller reaches every one of the
// projects, else the ScopeError of the first it does not.
func CheckScope(ctx context.Context, projects ...string) error {
	c := CallerOf(ctx)
	for _, p := range projects {
		if !c.InScope(p) {
			return &ScopeError{Caller: c.Name, Allowed: c.Projects, Wanted: []string{p}}
		}
	}
	return nil
}

// ScopeOf is the projects a list answered to the request's caller is
// limited to (nil: all).
func ScopeOf(ctx context.Context) []string { return CallerOf(ctx).Projects }
