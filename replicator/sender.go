package replicator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ferrysync/ferry/store"
)

// Batching: files up to batchFileMax go in batches of up to batchMaxFiles
// files or batchMaxBytes bytes (one request, one target transaction); larger
// ones go as resumable uploads.
const (
	batchFileMax  = 1 << 20
	batchMaxFiles = 1000
	batchMaxBytes = 8 << 20
	planBatch     = 1000
	// objectAttempts bounds the resumptions of one upload.
	objectAttempts = 6
)

// errSourceChanged fails an object whose source content is no longer what
// was planned.
var errSourceChanged = errors.New("the source changed during the run")

// job is a unit of transfer work: a batch of small files or one large file.
type job struct {
	batch []planned
	large *planned
}

type planned struct {
	o         object
	overwrite bool
}

// sender moves a pass's content to the target: rc.parallelism workers take
// batches of small files and single large ones. A worker that finds the
// target unreachable gives the pass up (stop, with the reason).
type sender struct {
	p       *pass
	ctx     context.Context
	stop    context.CancelCauseFunc
	jobs    chan job
	workers sync.WaitGroup
	pending sync.WaitGroup // jobs handed out and not done
	batch   []planned
	bytes   int64
}

func newSender(ctx context.Context, stop context.CancelCauseFunc, p *pass) *sender {
	s := &sender{p: p, ctx: ctx, stop: stop, jobs: make(chan job)}
	s.workers.Add(p.t.rc.parallelism)
	for range p.t.rc.parallelism {
		go func() {
			defer s.workers.Done()
			for j := range s.jobs {
				if err := p.transfer(ctx, j); err != nil {
					stop(err)
				}
				s.pending.Done()
			}
		}()
	}
	return s
}

// send queues one object: large ones alone, small ones in batches.
func (s *sender) send(pl planned) {
	if pl.o.Size > batchFileMax {
		s.hand(job{large: &pl})
		return
	}
	if len(s.batch) >= batchMaxFiles || s.bytes+pl.o.Size > batchMaxBytes {
		s.flush()
	}
	s.batch, s.bytes = append(s.batch, pl), s.bytes+pl.o.Size
}

func (s *sender) hand(j job) {
	s.pending.Add(1)
	select {
	case s.jobs <- j:
	case <-s.ctx.Done():
		s.pending.Done()
	}
}

func (s *sender) flush() {
	if len(s.batch) > 0 {
		s.hand(job{batch: s.batch})
		s.batch, s.bytes = nil, 0
	}
}

// barrier returns once everything queued so far has been committed or
// accounted as failed: the end of a phase.
func (s *sender) barrier() {
	s.flush()
	s.pending.Wait()
}

// close sends what is queued and stops the workers.
func (s *sender) close() {
	s.barrier()
	close(s.jobs)
	s.workers.Wait()
}

// transfer sends one job. It returns an error only when the target must be
// given up; object failures are accounted for (settle).
func (p *pass) transfer(ctx context.Context, j job) error {
	if ctx.Err() != nil {
		return nil
	}
	if j.large != nil {
		return p.upload(ctx, *j.large)
	}
	return p.sendBatch(ctx, j.batch)
}

// settle is the one place that decides what an error means for the target:
// nothing when ctx ended (the run's ending, or the pass given up, is not
// these objects' failure), the target given up when it is unreachable, and
// otherwise the objects failed.
func (p *pass) settle(ctx context.Context, err error, ps ...planned) error {
	var ue *unreachableError
	switch {
	case err == nil || ctx.Err() != nil:
		return nil
	case errors.As(err, &ue), storageFull(err):
		return err
	}
	for _, pl := range ps {
		p.objectFailed(pl.o, err)
	}
	return nil
}

// meter passes a request body through the limiters and counts it; content
// counts towards bytesSent as well when it is only content.
func (t *targetExec) meter(ctx context.Context, r io.Reader, content bool) io.Reader {
	bytes := t.rc.metrics.bytes.WithLabelValues(t.rc.spec.SourceCluster, t.id)
	return &meteredReader{ctx: ctx, r: r, limiters: t.limiters, sent: &t.wire, onRead: func(n int64) {
		bytes.Add(float64(n))
		if content {
			t.sentContent(n)
		}
	}}
}

func (p *pass) sendBatch(ctx context.Context, items []planned) error {
	var body batchBody
	sent := make([]planned, 0, len(items))
	for i, c := range p.readAll(ctx, items) {
		pl := items[i]
		if c.err != nil {
			p.objectFailed(pl.o, c.err)
			continue
		}
		h := FrameHeader{Path: pl.o.Path, Size: pl.o.Size, SHA256: pl.o.SHA256, MD5: c.md5, Metadata: p.t.rc.metadata(pl.o), Overwrite: pl.overwrite}
		if err := body.add(h, c.data); err != nil {
			return err
		}
		sent = append(sent, pl)
	}
	if len(sent) == 0 {
		return nil
	}
	inflight := p.t.rc.metrics.inflight
	inflight.Add(float64(body.size))
	defer inflight.Sub(float64(body.size))
	sel := p.sel.spec
	resp, err := p.t.remote.batch(ctx, sel.RemoteProjectID, sel.RemoteRepoName, p.t.rc.by, len(sent), func() (io.Reader, error) {
		return p.t.meter(ctx, body.reader(), false), nil
	})
	if err != nil {
		return p.settle(ctx, err, sent...)
	}
	for i, r := range resp.Results {
		if r.Error != "" {
			p.objectFailed(sent[i].o, errors.New(r.Error))
		} else {
			p.t.sentContent(sent[i].o.Size)
			p.outcome(sent[i].o, ActionSend, "")
		}
	}
	return nil
}

type content struct {
	data []byte
	md5  string // the source node's, when read with it, so the target need not compute it
	err  error
}

// readAll reads the contents of a batch: those the selection read with the
// nodes are there already, other inline contents come in one store read,
// the others file by file (openPlanned); each checked to be still what was
// planned.
func (p *pass) readAll(ctx context.Context, items []planned) []content {
	out := make([]content, len(items))
	idx := make([]int, 0, len(items))
	for i, pl := range items {
		if data, ok := p.sel.inline[pl.o.Path]; ok { // a nil map (not real time) costs no hashing
			out[i].data = data
		} else {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return out
	}
	nodes, small, err := p.readSmall(ctx, items, idx)
	for j, i := range idx {
		o := items[i].o
		switch {
		case err != nil:
			out[i].err = err
		case nodes[j].SHA256 != o.SHA256:
			out[i].err = errSourceChanged
		case small[j] != nil:
			out[i].data, out[i].md5 = small[j], nodes[j].MD5
		default: // not inline: what Open finds is checked again
			out[i] = p.readFile(ctx, o)
		}
	}
	return out
}

func (p *pass) readSmall(ctx context.Context, items []planned, idx []int) ([]store.Node, [][]byte, error) {
	if p.bulkErr != nil {
		return nil, nil, p.bulkErr
	}
	paths := make([]string, len(idx))
	for j, i := range idx {
		paths[j] = items[i].o.Path
	}
	return p.bulk.ReadSmall(ctx, paths)
}

// openPlanned opens an object's content in the pass's repository, checking
// that it is still what was planned: the one place either is done.
func (p *pass) openPlanned(ctx context.Context, o object) (store.Reader, error) {
	rd, err := p.sel.repo.Open(ctx, o.Path)
	if err != nil {
		return nil, err
	}
	if rd.Node().SHA256 != o.SHA256 {
		rd.Close()
		return nil, errSourceChanged
	}
	return rd, nil
}

func (p *pass) readFile(ctx context.Context, o object) content {
	rd, err := p.openPlanned(ctx, o)
	if err != nil {
		return content{err: err}
	}
	defer rd.Close()
	data, err := io.ReadAll(io.LimitReader(rd, o.Size+1))
	return content{data: data, md5: rd.Node().MD5, err: err}
}

// upload sends a large file in resumable pieces, then commits it. The file
// is opened (and checked) once; each piece seeks in it.
func (p *pass) upload(ctx context.Context, pl planned) error {
	err := p.resume(ctx, pl.o)
	if err == nil {
		err = p.commitUpload(ctx, pl)
	}
	if err == nil {
		p.outcome(pl.o, ActionSend, "")
	}
	return p.settle(ctx, err, pl)
}

// resume sends what the target lacks of the file until it has all of it.
// Only failures in a row count: a large file takes many pieces. The source
// is opened only when there is something to send: a target that holds the
// whole upload already (a run before this one was cut at its commit) only
// needs the commit.
func (p *pass) resume(ctx context.Context, o object) error {
	var rd store.Reader
	defer func() {
		if rd != nil {
			rd.Close()
		}
	}()
	st, err := p.t.remote.uploadStatus(ctx, o.SHA256, o.Size)
	for failures := 0; err == nil && !st.Complete; {
		if rd == nil {
			if rd, err = p.openPlanned(ctx, o); err != nil {
				return err
			}
		}
		var next UploadStatus
		if next, err = p.sendFrom(ctx, rd, o, st.Offset); err == nil {
			st, failures = next, 0
			continue
		}
		if failures++; failures >= objectAttempts || ctx.Err() != nil || storageFull(err) {
			return err
		}
		p.t.rc.log.Warn("upload interrupted, resuming", "target", p.t.id, "path", o.Path, "offset", st.Offset, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(defaultRetry.first << min(failures, 5)):
		}
		st, err = p.t.remote.uploadStatus(ctx, o.SHA256, o.Size)
	}
	return err
}

// sendFrom sends the file from offset, up to one chunk, in one request.
func (p *pass) sendFrom(ctx context.Context, rd store.Reader, o object, offset int64) (UploadStatus, error) {
	if _, err := rd.Seek(offset, io.SeekStart); err != nil {
		return UploadStatus{}, err
	}
	n := min(o.Size-offset, p.t.rc.chunkSize)
	inflight := p.t.rc.metrics.inflight
	inflight.Add(float64(n))
	defer inflight.Sub(float64(n))
	// The transport may go on reading a body after the call returned (an
	// early answer): detach it before the next piece seeks.
	body := &detachable{r: io.LimitReader(rd, n)}
	defer body.detach()
	st, err := p.t.remote.appendOnce(ctx, o.SHA256, rd.Node().MD5, o.Size, offset, p.t.meter(ctx, body, true))
	if err == nil && st.Offset <= offset && !st.Complete {
		err = fmt.Errorf("upload made no progress at offset %d", offset)
	}
	return st, err
}

// detachable reads from r until detached; then it reads nothing more.
type detachable struct {
	mu       sync.Mutex
	r        io.Reader
	detached bool
}

func (d *detachable) Read(b []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.detached {
		return 0, errors.New("request body detached")
	}
	return d.r.Read(b)
}

func (d *detachable) detach() {
	d.mu.Lock()
	d.detached = true
	d.mu.Unlock()
}
