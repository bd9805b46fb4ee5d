package fsm

import (
	"slices"
	"strings"
	"time"
)

// ObjectRecord is what happened to one object of a run for one target. It
// is not replicated state: the run's executor keeps its records locally and
// serves them (GET /v1/runs/:id/objects); the type lives here beside the run
// model so that the API and the replicator share it without importing each
// other.
type ObjectRecord struct {
	Target string `json:"target"`
	// Repo is the local repository of the spec object the object is of.
	Repo       string    `json:"repo,omitempty"`
	Path       string    `json:"path"`
	PackageKey string    `json:"packageKey,omitempty"`
	Version    string    `json:"version,omitempty"`
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	Status     string    `json:"status"`
	Action     string    `json:"action"`
	Error      string    `json:"error,omitempty"`
	Time       time.Time `json:"time"`
}

// Object record statuses, and the action of a conflict (the path held other
// content; where the object went is the conflict strategy's).
const (
	ObjectSuccess  = "SUCCESS"
	ObjectSkipped  = "SKIPPED"
	ObjectFailed   = "FAILED"
	ActionConflict = "conflict"
)

// ObjectFilter selects a run's object records; zero fields select all.
type ObjectFilter struct {
	// Status is one status, or several separated by commas.
	Status  string `json:"status,omitempty"`
	Target  string `json:"target,omitempty"`
	Repo    string `json:"repo,omitempty"`
	Version string `json:"version,omitempty"`
	// PathPrefix and PackagePrefix match the start of the path and of the
	// package key (with or without its scheme).
	PathPrefix    string `json:"pathPrefix,omitempty"`
	PackagePrefix string `json:"packagePrefix,omitempty"`
	// NewestFirst lists the latest records first; the default is the order
	// they happened in.
	NewestFirst bool `json:"newestFirst,omitempty"`
}

// Matches is whether the filter selects r.
func (f ObjectFilter) Matches(r ObjectRecord) bool {
	switch {
	case f.Status != "" && !slices.Contains(strings.Split(f.Status, ","), r.Status),
		f.Target != "" && r.Target != f.Target,
		f.Repo != "" && r.Repo != f.Repo,
		f.Version != "" && r.Version != f.Version,
		!strings.HasPrefix(r.Path, f.PathPrefix),
		!hasPackagePrefix(r.PackageKey, f.PackagePrefix):
		return false
	}
	return true
}

// hasPackagePrefix is whether a package key starts with prefix, with or
// without its scheme ("gav://com.alibaba:fastjson" starts with
// "com.alibaba").
func hasPackagePrefix(key, prefix string) bool {
	if prefix == "" || strings.HasPrefix(key, prefix) {
		return true
	}
	_, name, ok := strings.Cut(key, "://")
	return ok && strings.HasPrefix(name, prefix)
}
