package store

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Compaction gives back the space of deleted small contents (DESIGN.md,
// "How space comes back"). A sealed segment whose live bytes are under half
// its committed end has its live contents copied into the active segment as
// a batch packs them (reserve, one pwrite a run, fsync); one transaction
// then points every entry that still names the old location at the copy and
// deletes the old segment's record; only then is the file removed.
//
// Why this is safe:
//   - A crash before the commit leaves the copies past the active segment's
//     committed end (cut at Open); after it, a file no record names (removed
//     at Open).
//   - A segment with a reservation pending (a batch packed into it and has not
//     committed) is not taken: its commit would name a segment gone.
//   - Readers hold segments.gate for reading from before their transaction
//     to after the bytes; the removal takes it for writing after the commit,
//     so every read that may hold an old location ends first, and every read
//     after sees the new one.
//   - Writers re-read every entry in their own transaction, and so does the
//     compaction's: whichever commits first, the other sees its result; no
//     stale location is written back.
//
// The transaction does not go through commit (commit.go) and takes no
// publish lock: it changes no node, wakes no watcher, observes no write and
// releases no blob file, which is what that path orders; bbolt runs it one
// write transaction at a time with the group commits, and taking publish
// would only hold up the next group's renames for as long as it runs.

// Compaction's pace when it fails: the wait doubles from compactBackoff up
// to compactMaxBackoff, and after compactMaxFailures failures in a row the
// compactor waits for the next wake-up (a full disk is not helped by
// retrying, and the next delete wakes it again).
const (
	compactBackoff     = time.Second
	compactMaxBackoff  = time.Minute
	compactMaxFailures = 5
)

// CompactStats says what one compaction did.
type CompactStats struct {
	Segment   uint32        // the segment compacted; 0: none needed it
	Contents  int           // contents that now have a new location
	Copied    int64         // bytes copied into the active segment
	Reclaimed int64         // bytes given back: the old file's size less the bytes copied
	Duration  time.Duration // how long it took
}

// compactor is Local's background compaction: a goroutine from Open to
// Close, woken when a commit takes live bytes off a sealed segment, and
// when a segment is sealed or its last reservation released (it may have
// been mostly dead already).
type compactor struct {
	mu     sync.Mutex // one compaction at a time, background or Compact
	wakeC  chan struct{}
	cancel context.CancelFunc
	done   chan struct{} // closed when the goroutine ends
	once   sync.Once
	// hook, for tests, runs at "copied" (before the transaction: an error
	// abandons the compaction) and at "commit" (last in the transaction: an
	// error fails it).
	hook    func(ctx context.Context, stage string) error
	off     bool          // no background goroutine (tests that call Compact alone)
	backoff time.Duration // the first wait after a failure: compactBackoff
	// dropTx is the last write transaction that took bytes off a sealed
	// segment and so wakes the compactor when it commits; bbolt runs write
	// transactions one at a time, and only they touch it.
	dropTx *bolt.Tx
}

// startCompactor starts the background compactor with one wake-up queued:
// what was deleted before a restart is looked at after it.
func (s *Local) startCompactor() {
	c := &s.compaction
	c.wakeC, c.done = make(chan struct{}, 1), make(chan struct{})
	s.segs.compactable = c.wake
	if c.off {
		close(c.done)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	c.wake()
	go s.compactLoop(ctx)
}

// stopCompactor stops the background compactor and waits for it.
func (s *Local) stopCompactor() {
	c := &s.compaction
	c.once.Do(func() {
		if c.cancel != nil {
			c.cancel()
		}
		<-c.done
	})
}

// wake asks for a compaction pass; it never blocks.
func (c *compactor) wake() {
	select {
	case c.wakeC <- struct{}{}:
	default:
	}
}

func (c *compactor) runHook(ctx context.Context, stage string) error {
	if c.hook == nil {
		return nil
	}
	return c.hook(ctx, stage)
}

// dropped notes that tx takes live bytes off segment id: if it is sealed,
// the compactor is woken once tx commits (one hook a transaction, not one
// per content).
func (s *Local) dropped(tx *bolt.Tx, id uint32) {
	c := &s.compaction
	if c.dropTx == tx || !s.segs.sealed(id) {
		return
	}
	c.dropTx = tx
	tx.OnCommit(c.wake)
}

func (s *Local) compactLoop(ctx context.Context) {
	defer close(s.compaction.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.compaction.wakeC:
		}
		s.compactAll(ctx)
	}
}

// compactAll compacts one segment after the other until none needs it,
// retrying a failure after a backoff, at most compactMaxFailures times in a
// row.
func (s *Local) compactAll(ctx context.Context) {
	first := cmp.Or(s.compaction.backoff, compactBackoff)
	backoff := first
	for failures := 0; ctx.Err() == nil; {
		st, err := s.Compact(ctx)
		if err == nil {
			if st.Segment == 0 {
				return
			}
			failures, backoff = 0, first
			continue
		}
		if failures++; failures >= compactMaxFailures || ctx.Err() != nil {
			if ctx.Err() == nil {
				s.log.Error("store: compaction keeps failing; waiting for the next delete", "failures", failures, "err", err)
			}
			return
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(2*backoff, compactMaxBackoff)
	}
}

// Compact compacts the segment that needs it most (the most dead bytes),
// if any does, and says what it did (Segment 0: none needed it). It runs
// one at a time with the background compactor; tools and tests call it.
func (s *Local) Compact(ctx context.Context) (CompactStats, error) {
	s.compaction.mu.Lock()
	defer s.compaction.mu.Unlock()
	id, rec, ok, err := s.compactCandidate()
	if err != nil || !ok {
		return CompactStats{}, err
	}
	start := time.Now()
	s.log.Info("store: compacting segment", "segment", segmentName(id), "live", rec.live, "end", rec.end)
	st, err := s.compactSegment(ctx, id)
	st.Segment, st.Duration = id, time.Since(start)
	result := "ok"
	switch {
	case err != nil && ctx.Err() != nil:
		result = "canceled"
	case err != nil:
		result = "error"
	}
	s.observer.Compacted(result, st.Reclaimed)
	if result == "canceled" { // the store is closing: the next Open's pass takes it up
		s.log.Info("store: compaction stopped", "segment", segmentName(id), "duration", st.Duration)
		return st, fmt.Errorf("store: compact segment %s: %w", segmentName(id), err)
	}
	if err != nil {
		s.log.Warn("store: compaction failed", "segment", segmentName(id), "err", err, "duration", st.Duration)
		return st, fmt.Errorf("store: compact segment %s: %w", segmentName(id), err)
	}
	s.log.Info("store: compacted segment", "segment", segmentName(id), "contents", st.Contents,
		"copied", st.Copied, "reclaimed", st.Reclaimed, "duration", st.Duration)
	return st, nil
}

// compactCandidate finds the sealed, idle segment with the most dead bytes
// among those whose live bytes are under half their committed end. A sealed
// idle segment without a record (its batches failed) is one too: nothing
// names it. Once sealed and idle, a segment's live bytes only go down, so
// the choice holds until Compact acts on it.
func (s *Local) compactCandidate() (id uint32, rec segRecord, found bool, err error) {
	idle := s.segs.idle()
	if len(idle) == 0 {
		return 0, segRecord{}, false, nil
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		recs := tx.Bucket(bucketSegments)
		for _, c := range idle {
			r, _ := getSegRecord(recs, c)
			if r.live > 0 && 2*r.live >= r.end {
				continue
			}
			if !found || r.end-r.live > rec.end-rec.live {
				id, rec, found = c, r, true
			}
		}
		return nil
	})
	return id, rec, found, err
}

// compactSegment moves segment id's contents out and removes it.
func (s *Local) compactSegment(ctx context.Context, id uint32) (CompactStats, error) {
	var st CompactStats
	var size int64
	if f := s.segs.file(id); f == nil {
		return st, errors.New("segment is not open")
	} else if fi, err := f.Stat(); err != nil {
		return st, err
	} else {
		size = fi.Size()
	}
	items, err := s.segmentContents(id)
	if err != nil {
		return st, err
	}
	reserved, copied, err := s.copyContents(ctx, id, items)
	defer func() {
		for _, seg := range reserved {
			s.segs.release(seg)
		}
	}()
	st.Copied = copied
	if err == nil {
		err = s.compaction.runHook(ctx, "copied")
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	if err != nil {
		return st, err
	}
	if st.Contents, err = s.commitCompaction(ctx, id, items); err != nil {
		return st, err
	}
	st.Reclaimed = max(size-copied, 0)
	return st, s.segs.remove(id)
}

// moving is one content compaction moves: from its location in the old
// segment to its copy (to; an empty content needs no copy and goes
// inline). legacy: the location is in bucketPacked (a store from before
// blob entries held locations), not in the blob entry.
type moving struct {
	sum      string
	from, to packLoc
	legacy   bool
}

// segmentContents finds every content whose location names segment id, by
// a scan of the blob entries (and of bucketPacked), in the order of their
// offsets. A segment without a record has none: a record is written with
// the first location that names it and deleted only once none does.
func (s *Local) segmentContents(id uint32) ([]moving, error) {
	var out []moving
	key := segKey(id)
	err := s.db.View(func(tx *bolt.Tx) error {
		if _, ok := getSegRecord(tx.Bucket(bucketSegments), id); !ok {
			return nil
		}
		err := tx.Bucket(bucketBlobs).ForEach(func(k, v []byte) error {
			if len(v) == packedBlobValue && bytes.Equal(v[blobValue:blobValue+4], key) {
				l, _ := decodePackLoc(v[blobValue:])
				out = append(out, moving{sum: string(k), from: l})
			}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Bucket(bucketPacked).ForEach(func(k, v []byte) error {
			if l, ok := decodePackLoc(v); ok && l.seg == id {
				out = append(out, moving{sum: string(k), from: l, legacy: true})
			}
			return nil
		})
	})
	slices.SortFunc(out, func(a, b moving) int { return cmp.Compare(a.from.off, b.from.off) })
	return out, err
}

// copyContents copies the contents' bytes from segment id into the active
// segment as pack does: runs of at most maxBatchPack bytes, each reserved,
// written with one pwrite and fsynced, so that the bytes are on disk before
// the transaction that names them. Each content gets its new location (to);
// neighbours in the old segment are read with one pread. It returns the
// segments it reserved in, to release once the transaction is over.
func (s *Local) copyContents(ctx context.Context, id uint32, items []moving) (reserved []uint32, copied int64, err error) {
	src := s.segs.file(id)
	var buf []byte
	for start := 0; start < len(items); {
		if err := ctx.Err(); err != nil {
			return reserved, copied, err
		}
		stop, n := start, int64(0)
		for ; stop < len(items) && (stop == start || n+int64(items[stop].from.length) <= maxBatchPack); stop++ {
			n += int64(items[stop].from.length)
		}
		if n == 0 { // empty contents only: nothing to copy
			start = stop
			continue
		}
		if buf, err = readRun(src, items[start:stop], buf[:0]); err != nil {
			return reserved, copied, err
		}
		seg, off, f, err := s.segs.reserve(n)
		if err != nil {
			return reserved, copied, err
		}
		reserved = append(reserved, seg)
		if _, err := f.WriteAt(buf, off); err != nil {
			return reserved, copied, err
		}
		if err := f.Sync(); err != nil {
			return reserved, copied, err
		}
		for i := start; i < stop; i++ {
			items[i].to.seg, items[i].to.off = seg, items[i].to.off+off
		}
		copied += n
		start = stop
	}
	return reserved, copied, nil
}

// readRun appends the bytes of items (in offset order) to buf, one pread
// for each stretch of neighbours, and sets each item's to to its offset in
// buf and its length.
func readRun(src *os.File, items []moving, buf []byte) ([]byte, error) {
	for i := 0; i < len(items); {
		first := items[i].from
		j, end := i+1, first.off+int64(first.length)
		for ; j < len(items) && items[j].from.off == end; j++ {
			end += int64(items[j].from.length)
		}
		at := len(buf)
		buf = slices.Grow(buf, int(end-first.off))[:at+int(end-first.off)]
		if _, err := src.ReadAt(buf[at:], first.off); err != nil {
			return buf, fmt.Errorf("read %s at %d: %w", segmentName(first.seg), first.off, err)
		}
		for ; i < j; i++ {
			items[i].to = packLoc{off: int64(at), length: items[i].from.length}
			at += int(items[i].from.length)
		}
	}
	return buf, nil
}

// commitCompaction points, in one transaction, each moved content that
// still has its old location at its copy, counting it live there, and
// deletes segment id's record. Each entry is read here as it is now: a
// content deleted since the scan stays deleted (its copy is dead space), a
// content referenced again meanwhile keeps its count and gets the new
// location. It returns how many contents it moved.
func (s *Local) commitCompaction(ctx context.Context, id uint32, items []moving) (moved int, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		moved = 0
		for i := range items {
			ok, err := moveContent(tx, &items[i])
			if err != nil {
				return err
			}
			if ok {
				moved++
			}
		}
		if err := tx.Bucket(bucketSegments).Delete(segKey(id)); err != nil {
			return err
		}
		return s.compaction.runHook(ctx, "commit")
	})
	return moved, err
}

// moveContent gives one content its new location in tx if its entry still
// names the old one. A location from bucketPacked moves into the blob
// entry; an empty content, which needs no byte of any segment, goes inline.
func moveContent(tx *bolt.Tx, m *moving) (bool, error) {
	blobs := tx.Bucket(bucketBlobs)
	e, ok := getBlob(blobs, m.sum)
	if !ok {
		return false, nil
	}
	if m.legacy {
		packed := tx.Bucket(bucketPacked)
		if l, ok := decodePackLoc(packed.Get([]byte(m.sum))); !ok || l != m.from || e.packed {
			return false, nil
		}
		if err := packed.Delete([]byte(m.sum)); err != nil {
			return false, err
		}
	} else if !e.packed || e.pack != m.from {
		return false, nil
	}
	if m.from.length == 0 {
		e.packed = false
		if err := tx.Bucket(bucketInline).Put([]byte(m.sum), []byte{}); err != nil {
			return false, err
		}
	} else {
		e.pack, e.packed = m.to, true
		if err := countSegment(tx, m.to, true); err != nil {
			return false, err
		}
	}
	return true, putBlob(blobs, m.sum, e)
}
