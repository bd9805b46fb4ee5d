package fsm

import "time"

// ObjectRecord is what happened to one object of a run for one target. It
// is not replicated state: the run's executor keeps its records locally and
// serves them (GET /v1/runs/:id/objects); the type lives here beside the run
// model so that the API and the replicator share it without importing each
// other.
type ObjectRecord struct {
	Target     string    `json:"target"`
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
