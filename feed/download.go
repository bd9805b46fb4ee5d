package feed

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/ferrysync/ferry/store"
)

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
