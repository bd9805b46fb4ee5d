package feed

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ferrysync/ferry/store"
)

// Small files are downloaded into memory and committed many at a time with
// the store's WriteBatch (one transaction, one fsync), as replication
// commits them: a feed of 10,000 small files would otherwise pay an fsync
// per file. Each file is still verified by the store against its size and
// sha256 when Validate is on, and fails alone.

const (
	// batchMax is the largest file batched: the store's inline limit.
	batchMax = store.InlineMax
	// batchFiles and batchBytes bound one commit.
	batchFiles = 512
	batchBytes = 8 << 20
	// batchLinger is how long a batch waits for more files: downloads
	// arrive one by one, and an fsync costs more than the wait.
	batchLinger = 5 * time.Millisecond
)

type pending struct {
	j       job
	content []byte
}

// batcher commits the small files the download workers hand it.
type batcher struct {
	s    *syncer
	in   chan pending
	done sync.WaitGroup
}

func (s *syncer) newBatcher(ctx context.Context) *batcher {
	bt := &batcher{s: s, in: make(chan pending, batchFiles)}
	bt.done.Add(1)
	go bt.loop(ctx)
	return bt
}

// batched is whether a job's file goes through the batcher.
func (s *syncer) batched(j job) bool { return s.bulk != nil && j.e.Size <= batchMax }

// fetchSmall downloads a small file into memory and hands it on.
func (bt *batcher) fetchSmall(ctx context.Context, j job) error {
	e := j.e
	body, _, err := bt.s.src.open(ctx, e.Name, 0)
	if err != nil {
		return err
	}
	defer body.Close()
	m := bt.s.meter(ctx, body)
	content, err := io.ReadAll(io.LimitReader(m, batchMax+1))
	if err != nil {
		return bt.s.failure(e, m, m.n, err)
	}
	if len(content) > batchMax && !bt.s.opt.Validate {
		// Larger than the manifest said, and not checked: store it whole.
		return bt.s.fetchWrite(ctx, e)
	}
	select {
	case bt.in <- pending{j, content}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (bt *batcher) close() {
	close(bt.in)
	bt.done.Wait()
}

// loop commits what it is handed: when a batch is full, or batchLinger
// after its first file.
func (bt *batcher) loop(ctx context.Context) {
	defer bt.done.Done()
	var batch []pending
	size := 0
	for {
		p, ok := <-bt.in
		if !ok {
			bt.commit(ctx, batch)
			return
		}
		batch, size = append(batch, p), size+len(p.content)
		linger := time.NewTimer(batchLinger)
	drain:
		for len(batch) < batchFiles && size < batchBytes {
			select {
			case p, ok := <-bt.in:
				if !ok {
					linger.Stop()
					bt.commit(ctx, batch)
					return
				}
				batch, size = append(batch, p), size+len(p.content)
			case <-linger.C:
				break drain
			}
		}
		linger.Stop()
		bt.commit(ctx, batch)
		batch, size = batch[:0], 0
	}
}

func (bt *batcher) commit(ctx context.Context, batch []pending) {
	if len(batch) == 0 || ctx.Err() != nil {
		return
	}
	s := bt.s
	files := make([]store.BatchFile, len(batch))
	for i, p := range batch {
		opt := store.WriteOptions{Size: int64(len(p.content)), By: s.opt.By}
		if s.opt.Validate {
			opt.SHA256, opt.Size = p.j.e.SHA256, p.j.e.Size
		}
		files[i] = store.BatchFile{Path: "/" + p.j.e.Name, Content: p.content, Opt: opt}
	}
	results, err := s.bulk.WriteBatch(ctx, files)
	for i, p := range batch {
		switch {
		case err != nil:
			s.fetched(ctx, p.j, fmt.Errorf("Storing <%s> failed: %v.", p.j.e.Name, err))
		case results[i].Err != nil:
			s.fetched(ctx, p.j, s.failure(p.j.e, nil, int64(len(p.content)), results[i].Err))
		default:
			s.fetched(ctx, p.j, nil)
		}
	}
}
