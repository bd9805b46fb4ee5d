package fsm

import (
	"encoding/json"
	"regexp"
	"slices"
	"time"
)

// Limits narrow what a credential (a token or an access key) reaches:
// Projects, when given, are the only projects it may read or write; a
// credential with an ExpirationTTL stops working ExpirationTTL after it is
// created (ExpirationTime, stamped by the leader) and is then pruned from
// the state (CmdPruneCredentials).
type Limits struct {
	Projects       []string      `json:"projects,omitempty"`
	ExpirationTTL  time.Duration `json:"expirationTTL,omitempty"`
	ExpirationTime time.Time     `json:"expirationTime,omitzero"`
}

// Bounds of a credential's limits.
const (
	MinExpirationTTL     = time.Minute
	MaxExpirationTTL     = 365 * 24 * time.Hour
	MaxCredentialProject = 100
)

var credentialProject = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Expired reports whether the credential no longer works at now.
func (l Limits) Expired(now time.Time) bool {
	return !l.ExpirationTime.IsZero() && !now.Before(l.ExpirationTime)
}

// AllowsProject reports whether the credential reaches project.
func (l Limits) AllowsProject(project string) bool {
	return len(l.Projects) == 0 || slices.Contains(l.Projects, project)
}

func validateLimits(l Limits) error {
	switch {
	case len(l.Projects) > MaxCredentialProject:
		return FieldError("projects", "names %d projects; at most %d", len(l.Projects), MaxCredentialProject)
	case l.ExpirationTTL != 0 && (l.ExpirationTTL < MinExpirationTTL || l.ExpirationTTL > MaxExpirationTTL):
		return FieldError("expirationTTL", "%s is not between %s and %s", l.ExpirationTTL, MinExpirationTTL, MaxExpirationTTL)
	}
	for _, p := range l.Projects {
		if !credentialProject.MatchString(p) {
			return FieldError("projects", "%q is not a project name", p)
		}
	}
	return nil
}

// stamp sets the expiration time from the leader's time of the create.
func (l *Limits) stamp(now time.Time) {
	l.ExpirationTime = time.Time{}
	if l.ExpirationTTL > 0 {
		l.ExpirationTime = now.Add(l.ExpirationTTL)
	}
}

// PruneCredentials is the payload of CmdPruneCredentials: every credential
// expired at the command's time goes.
type PruneCredentials struct{}

func applyPruneCredentials(s *state, cmd Command) (any, error) {
	var p PruneCredentials
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "credentials.prune: %v", err)
	}
	n := 0
	for id, t := range s.tokens {
		if t.Expired(cmd.Time) {
			delete(s.tokens, id)
			delete(s.tokensByHash, t.SecretHash)
			n++
		}
	}
	for id, k := range s.accessKeys {
		if k.Expired(cmd.Time) {
			delete(s.accessKeys, id)
			n++
		}
	}
	return n, nil
}

// NextExpiration is the earliest expiration time of a token or access
// key; zero when none expires.
func (f *FSM) NextExpiration() time.Time {
	f.mu.RLock()
	defer f.mu.RUnlock()
	var next time.Time
	earlier := func(l Limits) {
		if !l.ExpirationTime.IsZero() && (next.IsZero() || l.ExpirationTime.Before(next)) {
			next = l.ExpirationTime
		}
	}
	for _, t := range f.s.tokens {
		earlier(t.Limits)
	}
	for _, k := range f.s.accessKeys {
		earlier(k.Limits)
	}
	return next
}
