package fsm

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
)

// A Pulp sync is a run: the region's agent fetches the repository's feed
// into its store repository. Its Spec names the region and the repository
// (source and destination are the same cluster: there are no targets to
// push to), its Feed what to fetch.

// FeedSpec is what a feed run fetches: a PULP_MANIFEST feed and Pulp's ISO
// importer options, read from the importer's config and a sync's overrides.
type FeedSpec struct {
	URL               string `json:"url"`
	PulpRepo          string `json:"pulpRepo"`
	Validate          bool   `json:"validate"`
	RemoveMissing     bool   `json:"removeMissing"`
	MaxDownloads      int    `json:"maxDownloads"`
	MaxSpeed          int64  `json:"maxSpeed,omitempty"`
	BasicAuthUser     string `json:"basicAuthUser,omitempty"`
	BasicAuthPassword string `json:"basicAuthPassword,omitempty"`
	// ScheduleID names the schedule that fired the sync, if one did.
	ScheduleID string `json:"scheduleId,omitempty"`
}

// Redacted is a copy of r to show a client: the feed's password is masked
// (a feed URL still carrying one, from a state written before feedOf moved
// it out, too). The state and the log keep the real one, which the
// executor needs; a MarshalJSON would hide it from them as well.
func (r Run) Redacted() Run {
	r = r.clone()
	if r.Feed != nil {
		r.Feed.URL = RedactURL(r.Feed.URL)
		if r.Feed.BasicAuthPassword != "" {
			r.Feed.BasicAuthPassword = Masked
		}
	}
	return r
}

// Masked stands for a secret a client is not shown.
const Masked = "********"

// RedactURL is u with the password of its user info masked, for logs and
// clients; a URL that does not parse is masked whole, one without a
// password is u as written.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	switch {
	case err != nil:
		return Masked
	case p.User == nil:
		return u
	}
	if _, ok := p.User.Password(); !ok {
		return u
	}
	return p.Redacted()
}

// PulpSync asks for a sync of a repository (CmdPulpSync): a run of the
// region's agent, with the importer's config and the overrides.
type PulpSync struct {
	RunID     string                     `json:"runId"`
	Cluster   string                     `json:"cluster"`
	Repo      string                     `json:"repo"`
	Project   string                     `json:"project"`
	Overrides map[string]json.RawMessage `json:"overrides,omitempty"`
	By        string                     `json:"by"`
}

// ErrNoFeed is the end of a sync of a repository without a feed (Pulp's
// words).
const ErrNoFeed = "Repository without feed cannot be synchronized"

func applyPulpSync(s *state, cmd Command) (any, error) {
	var p PulpSync
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "pulp.sync: %v", err)
	}
	r, err := newPulpSync(s, cmd, p)
	if err != nil {
		return nil, err
	}
	s.putRun(r)
	s.pruneRuns(cmd.Time)
	return r.clone(), nil
}

// newPulpSync is the run of a sync p asks for, not yet stored.
func newPulpSync(s *state, cmd Command, p PulpSync) (Run, error) {
	repo, ok := s.pulpRepos[PulpRepoKey(p.Cluster, p.Repo)]
	switch {
	case !ok:
		return Run{}, errorf(KindNotFound, "repository %s of cluster %s not found", p.Repo, p.Cluster)
	case p.RunID == "" || p.Project == "":
		return Run{}, errorf(KindInvalid, "pulp.sync: runId and project are required")
	}
	if _, dup := s.runs[p.RunID]; dup {
		return Run{}, errorf(KindConflict, "run %s already exists", p.RunID)
	}
	r := Run{ID: p.RunID, Trigger: TriggerManual, CreatedBy: p.By, CreatedAt: cmd.Time, Executor: p.Cluster, State: RunWaiting,
		Spec: ReplicaSpec{SourceCluster: p.Cluster, LocalProjectID: p.Project,
			Objects: []ReplicaObject{{LocalRepoName: p.Repo, RemoteProjectID: p.Project, RemoteRepoName: p.Repo, RepoType: "GENERIC"}}},
		Targets: []TargetProgress{{ClusterID: p.Cluster, State: RunWaiting}}}
	var config map[string]json.RawMessage
	if repo.Importer != nil {
		config = mergeConfig(repo.Importer.Config, p.Overrides)
	}
	feed, err := feedOf(config)
	feed.PulpRepo = p.Repo
	r.Feed = &feed
	if err != nil {
		// The sync is taken and ends at once: Pulp's task ends in error.
		r.State, r.StartedAt, r.FinishedAt, r.Error = RunFailed, cmd.Time, cmd.Time, err.Error()
		r.Targets[0].State = RunFailed
	}
	return r, nil
}

// feedOf reads the ISO importer's options (pulp_rpm's importer_constants):
// feed, validate (default true), remove_missing (false), max_downloads (5),
// max_speed (bytes/s), basic_auth_username and basic_auth_password.
func feedOf(config map[string]json.RawMessage) (FeedSpec, error) {
	f := FeedSpec{Validate: true, MaxDownloads: 5}
	if config == nil || json.Unmarshal(config["feed"], &f.URL) != nil || f.URL == "" {
		return f, fmt.Errorf("%s", ErrNoFeed)
	}
	for key, dst := range map[string]any{"validate": &f.Validate, "remove_missing": &f.RemoveMissing} {
		if raw, ok := config[key]; ok && json.Unmarshal(raw, dst) != nil {
			return f, fmt.Errorf("importer config %s: %s is not a valid value", key, raw)
		}
	}
	for key, dst := range map[string]*string{"basic_auth_username": &f.BasicAuthUser, "basic_auth_password": &f.BasicAuthPassword} {
		if raw, ok := config[key]; ok && json.Unmarshal(raw, dst) != nil {
			// The value is not echoed: it may be the secret, mistyped.
			return f, fmt.Errorf("importer config %s is not a string", key)
		}
	}
	if err := f.takeURLCredentials(); err != nil {
		return f, err
	}
	if raw, ok := config["max_downloads"]; ok {
		n, err := jsonNumber(raw)
		if err != nil || n < 1 {
			return f, fmt.Errorf("importer config max_downloads: %s is not a number of at least 1", raw)
		}
		f.MaxDownloads = int(n)
	}
	if raw, ok := config["max_speed"]; ok {
		n, err := jsonNumber(raw)
		if err != nil || n < 0 {
			return f, fmt.Errorf("importer config max_speed: %s is not a number of bytes per second", raw)
		}
		f.MaxSpeed = n
	}
	return f, nil
}

// takeURLCredentials moves user:password written into the feed URL to
// basic auth, as Pulp's importer does, so that the run (served to every
// read token, kept in the log) holds the URL without them. Credentials the
// config sets explicitly win; the URL's are then dropped. A URL that does
// not parse is dropped too (it could not be cleaned): the sync fails.
func (f *FeedSpec) takeURLCredentials() error {
	u, err := url.Parse(f.URL)
	if err != nil {
		f.URL = ""
		// Not err's text: it quotes the URL, or the bad escape, which may
		// be in the password.
		return errors.New("The feed is not a valid URL.")
	}
	if u.User == nil {
		return nil
	}
	if f.BasicAuthUser == "" && f.BasicAuthPassword == "" {
		f.BasicAuthUser = u.User.Username()
		f.BasicAuthPassword, _ = u.User.Password()
	}
	u.User = nil
	f.URL = u.String()
	return nil
}

// jsonNumber reads a number, or a string of one (pulp-admin sends
// strings).
func jsonNumber(raw json.RawMessage) (int64, error) {
	var f float64
	if err := json.Unmarshal(raw, &f); err == nil {
		return int64(f), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, err
	}
	return strconv.ParseInt(s, 10, 64)
}

// pulpRunEnded records a Pulp run's end on the schedule that fired it and,
// for a sync that started, on its repository's importer (Pulp sets
// last_sync however the sync ended).
func (s *state) pulpRunEnded(r Run) {
	if r.State != RunCanceled {
		s.pulpCallEnded(scheduleOf(r), r.State == RunSuccess)
	}
	if r.Feed == nil || r.StartedAt.IsZero() {
		return
	}
	s.autoPublish(r)
	key := PulpRepoKey(r.Executor, r.Feed.PulpRepo)
	repo, ok := s.pulpRepos[key]
	if !ok || repo.Importer == nil {
		return
	}
	repo = repo.clone()
	repo.Importer.LastSync = r.FinishedAt
	s.pulpRepos[key] = repo
}
