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

// download runs the jobs, at most MaxDownloads at a time, until done or
// ctx ends. Small files are committed in batches (batch.go).
func (s *syncer) download(ctx context.Context, jobs []job) {
	stop := s.prog.ticking()
	defer stop()
	var bt *batcher
	if s.bulk != nil {
		bt = s.newBatcher(ctx)
		defer bt.close()
	}
	work := make(chan job)
	var wg sync.WaitGroup
	for range min(s.opt.MaxDownloads, len(jobs)) {
		wg.Go(func() {
			for j := range work {
				s.fetch(ctx, j, bt)
			}
		})
	}
	defer wg.Wait()
	defer close(work)
	for _, j := range jobs {
		select {
		case work <- j:
		case <-ctx.Done():
			return
		}
	}
}

// fetch downloads one job's file: a small one to the batcher, which
// stores it later, any other into the repository at once.
func (s *syncer) fetch(ctx context.Context, j job, bt *batcher) {
	if ctx.Err() != nil {
		return
	}
	if bt != nil && s.batched(j) {
		if err := bt.fetchSmall(ctx, j); err != nil {
			s.fetched(ctx, j, err)
		}
		return
	}
	s.fetched(ctx, j, s.fetchOne(ctx, j.e))
}

// fetched accounts for a job whose file was stored (err nil) or failed,
// and links the files of the same content.
func (s *syncer) fetched(ctx context.Context, j job, err error) {
	if err != nil {
		if ctx.Err() != nil {
			return // cancelled, not failed
		}
		s.fail(j.e.Name, err.Error())
		for _, o := range j.same {
			s.fail(o.Name, fmt.Sprintf("%s (the manifest lists it with the content of <%s>)", err, j.e.Name))
		}
		return
	}
	s.count(func(r *Report) { r.Added++ })
	s.prog.change(func(p *Progress) { p.NumISOsFinished++ })
	for _, o := range j.same {
		if !s.link(ctx, o) {
			s.fail(o.Name, fmt.Sprintf("Storing <%s> failed: the content of <%s> was stored but could not be linked.", o.Name, j.e.Name))
		}
	}
}

// fetchOne downloads e into the repository.
func (s *syncer) fetchOne(ctx context.Context, e Entry) error {
	if s.opt.Uploads != nil && s.bulk != nil && s.opt.Validate && e.Size > store.InlineMax {
		return s.fetchResumable(ctx, e)
	}
	return s.fetchWrite(ctx, e)
}

// fetchWrite streams the download into repo.Write; with Validate the store
// checks size and sha256 and stores nothing on a mismatch.
func (s *syncer) fetchWrite(ctx context.Context, e Entry) error {
	body, _, err := s.src.open(ctx, e.Name, 0)
	if err != nil {
		return err
	}
	defer body.Close()
	m := s.meter(ctx, body)
	opt := store.WriteOptions{Size: -1, By: s.opt.By}
	var r io.Reader = m
	if s.opt.Validate {
		opt.SHA256, opt.Size = e.SHA256, e.Size
		r = io.LimitReader(m, e.Size+1) // a longer body fails the size without being read to its end
	}
	if _, err := s.repo.Write(ctx, "/"+e.Name, r, opt); err != nil {
		return s.failure(e, m, m.n, err)
	}
	return nil
}

// fetchResumable downloads e into a resumable upload, from where an earlier
// attempt stopped, then links the verified content at e's path.
func (s *syncer) fetchResumable(ctx context.Context, e Entry) error {
	u, err := s.opt.Uploads.Upload(e.SHA256, e.Size)
	if err != nil {
		return s.failure(e, nil, -1, err)
	}
	if !u.Complete() {
		off := u.Offset()
		body, start, err := s.src.open(ctx, e.Name, off)
		var se *statusError
		if off > 0 && errors.As(err, &se) && se.code == http.StatusRequestedRangeNotSatisfiable {
			// What was kept is not a prefix of the server's file: start over, whole.
			return s.fetchWrite(ctx, e)
		}
		if err != nil {
			return err
		}
		defer body.Close()
		m := s.meter(ctx, body)
		if start < off { // the server ignored the range: skip what is kept
			if _, err := io.CopyN(io.Discard, m, off-start); err != nil {
				return s.failure(e, m, -1, err)
			}
		}
		_, err = u.Append(ctx, off, m)
		switch {
		case err == nil, errors.Is(err, store.ErrOffset) && u.Complete(): // another sync completed it
		case errors.Is(err, store.ErrInvalid) && m.err == nil: // the body goes on past the size
			return s.sizeError(e, e.Size+1)
		default: // a checksum error comes with every byte received
			return s.failure(e, m, e.Size, err)
		}
		if !u.Complete() {
			return s.sizeError(e, u.Offset())
		}
	}
	if _, err := s.bulk.Link(ctx, "/"+e.Name, e.SHA256, store.WriteOptions{Size: e.Size, By: s.opt.By}); err != nil {
		return s.failure(e, nil, -1, err)
	}
	return nil
}

// failure describes how storing e failed after got bytes of it (-1:
// unknown): the download's own error, or the store's, with a mismatch
// worded as Pulp's validation worded it.
func (s *syncer) failure(e Entry, m *meter, got int64, err error) error {
	var se *statusError
	switch {
	case errors.As(err, &se), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case m != nil && m.err != nil:
		return fmt.Errorf("Failed to download %s: %v.", s.src.url(e.Name), m.err)
	case errors.Is(err, store.ErrChecksum) && got >= 0 && got != e.Size:
		return s.sizeError(e, got)
	case errors.Is(err, store.ErrChecksum):
		return fmt.Errorf("Downloading <%s> failed checksum validation. The manifest specified the checksum to be %s: %v.", e.Name, e.SHA256, err)
	}
	return fmt.Errorf("Storing <%s> failed: %v.", e.Name, err)
}

func (s *syncer) sizeError(e Entry, got int64) error {
	if got > e.Size {
		return fmt.Errorf("Downloading <%s> failed validation. The manifest specified that the file should be %d bytes, but the downloaded file is larger.", e.Name, e.Size)
	}
	return fmt.Errorf("Downloading <%s> failed validation. The manifest specified that the file should be %d bytes, but the downloaded file is %d bytes.", e.Name, e.Size, got)
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
