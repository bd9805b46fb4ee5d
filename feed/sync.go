package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"golang.org/x/time/rate"

	"github.com/ferrysync/ferry/store"
)

// DefaultMaxDownloads is Pulp's max_downloads default.
const DefaultMaxDownloads = 5

// MaxManifestBytes bounds the PULP_MANIFEST read (about a million rows).
const MaxManifestBytes = 128 << 20

// Options are one sync's settings: the ISO importer's configuration with
// the feed's transport.
type Options struct {
	// Feed is the feed URL: http, https or file. A "/" is appended when
	// missing; user:password in it become the basic auth credentials, in
	// place of BasicAuthUser and BasicAuthPassword.
	Feed string
	// Validate checks each download's size and sha256 against the
	// manifest; a mismatch fails that file and stores nothing. Pulp's
	// default is true: the caller sets it (Go's zero value is false).
	Validate bool
	// RemoveMissing deletes, after the downloads, the repository's files
	// whose paths the manifest does not list.
	RemoveMissing bool
	// MaxDownloads bounds the concurrent downloads; <= 0 means
	// DefaultMaxDownloads.
	MaxDownloads int
	// MaxSpeed bounds the bytes per second of all downloads together; <= 0
	// is unlimited.
	MaxSpeed          int64
	BasicAuthUser     string
	BasicAuthPassword string
	// Client makes the HTTP requests (TLS, proxy, timeouts are its
	// transport's); nil is a client with Go's default transport, which has
	// no timeout but the context's.
	Client *http.Client
	// By is the author of the sync's writes and deletes.
	By string
	// Progress, when set, is called with the progress report on every
	// change of state and, while files download, at most four times a
	// second when something changed. Calls never overlap; they come from
	// the goroutine of Sync and from one of its own, and should return
	// quickly.
	Progress func(Progress)
	// Uploads, when set (the built-in store, *store.Local, is one), makes
	// the download of a file larger than store.InlineMax resumable when
	// Validate is on: bytes received before a failure or a cancel are kept
	// by the store, and the next sync asks the server for the rest (HTTP
	// Range), then links the verified content at its path. Without it a
	// download that breaks starts over next time.
	Uploads Uploads
}

// Uploads opens resumable uploads of content known by sha256 and size.
type Uploads interface {
	Upload(sha256hex string, size int64) (*store.Upload, error)
}

// Report is what a sync did.
type Report struct {
	Added     int // files downloaded and stored, new or replacing other content
	Linked    int // files stored from content the store already held, not downloaded
	Unchanged int // files the repository already held at their path
	Removed   int // files deleted because the manifest no longer lists them
	Failed    int // files that failed (their errors are in Errors)
	// BytesDownloaded counts the bytes of files received, those of failed
	// downloads too; the manifest is not counted.
	BytesDownloaded int64
	// Errors are the failed files, as the progress report's iso_error_messages.
	Errors []FileError
	// State is the progress report's final state.
	State string
}

// Sync makes repo hold the files of the feed's PULP_MANIFEST, as Pulp's ISO
// importer syncs a repository:
//
//   - The manifest is fetched (any final status other than 200 fails it)
//     and parsed (ParseManifest); when either fails the state is
//     manifest_failed, the repository is not changed and the error is
//     returned.
//   - A file the repository holds at its path with the manifest's sha256
//     and size is left alone. Content the store holds anywhere (store.Bulk's
//     Link, by sha256) is linked at the path, not downloaded. Other files
//     are downloaded from urljoin(feed, name), at most MaxDownloads at a
//     time, through one rate limit of MaxSpeed, and written through the
//     store: a file is replaced whole or not at all. Files listed with the
//     same content are downloaded once (when Validate is on) and linked.
//   - A file that fails (HTTP status, validation, transport, store) is
//     recorded and the others go on; the state then ends in isos_failed and
//     an error is returned.
//   - With RemoveMissing, files the manifest does not list are deleted
//     after the downloads, as Pulp removes missing units after its download
//     step, whether or not some downloads failed (a failed file keeps what
//     its path held, since the manifest lists it). Not after a failed
//     manifest (so a feed that cannot be read never empties a repository)
//     nor after a cancel. An empty but valid manifest removes everything.
//
// The end of ctx stops the sync promptly (the state is cancelled and
// ctx's error is returned); every goroutine Sync starts has ended when it
// returns. The Report is filled in every case.
func Sync(ctx context.Context, repo store.Repository, opt Options) (Report, error) {
	if opt.MaxDownloads <= 0 {
		opt.MaxDownloads = DefaultMaxDownloads
	}
	s := &syncer{repo: repo, opt: opt, limiter: newLimiter(opt.MaxSpeed)}
	s.bulk, _ = store.BulkOf(repo) // without Bulk, nothing is linked: all is downloaded
	s.prog = newReporter(opt.Progress, &s.received)
	err := s.run(ctx)
	final := s.prog.snapshot()
	s.rep.State = final.State
	s.rep.Errors = final.ISOErrorMessages
	s.rep.BytesDownloaded = s.received.Load()
	return s.rep, err
}

// syncer is one Sync at work.
type syncer struct {
	repo     store.Repository
	bulk     store.Bulk // nil when repo has no Bulk capability
	opt      Options
	src      *source
	limiter  *rate.Limiter // nil for unlimited
	prog     *reporter
	received atomic.Int64 // file bytes received

	mu  sync.Mutex // guards rep's counts
	rep Report
}

// job is one download: a file and the others the manifest lists with the
// same content, linked once it is stored.
type job struct {
	e    Entry
	same []Entry
}

func (s *syncer) run(ctx context.Context) error {
	s.prog.setState(StateManifestInProgress, "")
	entries, err := s.manifest(ctx)
	if err != nil {
		return s.manifestFailed(ctx, err)
	}
	have := map[string]store.Node{}
	err = s.repo.Walk(ctx, "/", func(n store.Node) error {
		have[n.Path] = n
		return nil
	})
	if err != nil {
		return s.manifestFailed(ctx, fmt.Errorf("Reading the repository failed: %v.", err))
	}
	jobs := s.plan(ctx, entries, have)
	if ctx.Err() != nil {
		return s.cancelled(ctx)
	}

	var total int64
	for _, j := range jobs {
		total += j.e.Size
	}
	s.prog.change(func(p *Progress) { p.NumISOs, p.TotalBytes = len(jobs), total })
	s.prog.setState(StateISOsInProgress, "")
	s.download(ctx, jobs)
	if ctx.Err() != nil {
		return s.cancelled(ctx)
	}
	if s.opt.RemoveMissing {
		s.removeMissing(ctx, entries, have)
		if ctx.Err() != nil {
			return s.cancelled(ctx)
		}
	}
	if s.rep.Failed > 0 {
		s.prog.setState(StateISOsFailed, "")
		first := s.prog.snapshot().ISOErrorMessages[0]
		return fmt.Errorf("%d of the feed's files failed; %s: %s", s.rep.Failed, first.Name, first.Error)
	}
	s.prog.setState(StateComplete, "")
	return nil
}

// manifest fetches and parses the feed's PULP_MANIFEST.
func (s *syncer) manifest(ctx context.Context) ([]Entry, error) {
	src, err := newSource(s.opt)
	if err != nil {
		return nil, err
	}
	s.src = src
	body, _, err := src.open(ctx, ManifestName, 0)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	lr := &io.LimitedReader{R: body, N: MaxManifestBytes + 1}
	entries, err := ParseManifest(lr)
	switch {
	case lr.N <= 0:
		return nil, fmt.Errorf("%w It is larger than %d bytes.", ErrManifestFormat, MaxManifestBytes)
	case err != nil && !errors.Is(err, ErrManifestFormat):
		return nil, fmt.Errorf("Failed to download %s: %v.", src.url(ManifestName), err)
	}
	return entries, err
}

func (s *syncer) manifestFailed(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return s.cancelled(ctx)
	}
	s.prog.setState(StateManifestFailed, err.Error())
	return err
}

func (s *syncer) cancelled(ctx context.Context) error {
	s.prog.setState(StateCancelled, "")
	return fmt.Errorf("feed sync cancelled: %w", ctx.Err())
}

// plan sorts the entries: unchanged, linked now, or to download.
func (s *syncer) plan(ctx context.Context, entries []Entry, have map[string]store.Node) []job {
	var jobs []job
	byContent := map[Entry]int{} // {"", sha256, size} -> its job
	for _, e := range entries {
		if ctx.Err() != nil {
			return nil
		}
		if n, ok := have["/"+e.Name]; ok && n.SHA256 == e.SHA256 && n.Size == e.Size {
			s.count(func(r *Report) { r.Unchanged++ })
			continue
		}
		if s.link(ctx, e) {
			continue
		}
		if s.opt.Validate && s.bulk != nil {
			key := Entry{SHA256: e.SHA256, Size: e.Size}
			if i, ok := byContent[key]; ok {
				jobs[i].same = append(jobs[i].same, e)
				continue
			}
			byContent[key] = len(jobs)
		}
		jobs = append(jobs, job{e: e})
	}
	return jobs
}

// link stores e from content the store already holds. It reports whether
// e is done with: linked, failed, or the sync cancelled; not when the
// content must be downloaded.
func (s *syncer) link(ctx context.Context, e Entry) bool {
	if s.bulk == nil {
		return false
	}
	_, err := s.bulk.Link(ctx, "/"+e.Name, e.SHA256, store.WriteOptions{Size: e.Size, By: s.opt.By})
	switch {
	case err == nil:
		s.count(func(r *Report) { r.Linked++ })
		return true
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrChecksum):
		return false // not held (or held with another size: the download will tell)
	case ctx.Err() != nil:
		return true
	}
	s.fail(e.Name, fmt.Sprintf("Storing <%s> failed: %v.", e.Name, err))
	return true
}

// removeMissing deletes the files of the repository the manifest does not
// list.
func (s *syncer) removeMissing(ctx context.Context, entries []Entry, have map[string]store.Node) {
	listed := make(map[string]bool, len(entries))
	for _, e := range entries {
		listed["/"+e.Name] = true
	}
	var gone []string
	for p := range have {
		if !listed[p] {
			gone = append(gone, p)
		}
	}
	slices.Sort(gone)
	for _, p := range gone {
		err := s.repo.Delete(ctx, p, s.opt.By)
		switch {
		case err == nil:
			s.count(func(r *Report) { r.Removed++ })
		case errors.Is(err, store.ErrNotFound): // deleted meanwhile
		case ctx.Err() != nil:
			return
		default:
			s.fail(p[1:], fmt.Sprintf("Removing <%s>, which the feed no longer lists, failed: %v.", p[1:], err))
		}
	}
}

func (s *syncer) count(f func(*Report)) {
	s.mu.Lock()
	f(&s.rep)
	s.mu.Unlock()
}

// fail records a failed file.
func (s *syncer) fail(name, msg string) {
	s.count(func(r *Report) { r.Failed++ })
	s.prog.change(func(p *Progress) {
		p.ISOErrorMessages = append(p.ISOErrorMessages, FileError{Name: name, Error: msg})
	})
}

// newLimiter is a token bucket of bytesPerSec (nil for unlimited), as the
// replicator's: the burst is a tenth of a second of traffic, at least 64
// KiB and at most 1 MiB.
func newLimiter(bytesPerSec int64) *rate.Limiter {
	if bytesPerSec <= 0 {
		return nil
	}
	burst := min(max(bytesPerSec/10, 64<<10), 1<<20)
	return rate.NewLimiter(rate.Limit(bytesPerSec), int(burst))
}

func (s *syncer) meter(ctx context.Context, r io.Reader) *meter {
	return &meter{ctx: ctx, r: r, limiter: s.limiter, total: &s.received}
}

// meter passes a download through the sync's rate limit and counts it.
type meter struct {
	ctx     context.Context
	r       io.Reader
	limiter *rate.Limiter
	total   *atomic.Int64
	n       int64 // bytes read
	err     error // the first read error other than io.EOF
}

func (m *meter) Read(p []byte) (int, error) {
	if m.limiter != nil && len(p) > m.limiter.Burst() {
		p = p[:m.limiter.Burst()]
	}
	n, err := m.r.Read(p)
	if err != nil && err != io.EOF && m.err == nil {
		m.err = err
	}
	if n > 0 {
		m.n += int64(n)
		m.total.Add(int64(n))
		if m.limiter != nil {
			if werr := m.limiter.WaitN(m.ctx, n); werr != nil {
				return n, werr
			}
		}
	}
	return n, err
}
