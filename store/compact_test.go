package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// files makes n distinct contents of size bytes under dir.
func files(dir string, n, size int) map[string][]byte {
	out := map[string][]byte{}
	for i := range n {
		p := fmt.Sprintf("%s/f%03d", dir, i)
		out[p] = bytes.Repeat([]byte(p+"|"), size)[:size]
	}
	return out
}

// union is the contents of all the maps.
func union(ms ...map[string][]byte) map[string][]byte {
	out := map[string][]byte{}
	for _, m := range ms {
		for p, c := range m {
			out[p] = c
		}
	}
	return out
}

// take moves n of from's paths (any) out into a map of their own.
func take(from map[string][]byte, n int) map[string][]byte {
	out := map[string][]byte{}
	for p, c := range from {
		if len(out) == n {
			break
		}
		out[p] = c
		delete(from, p)
	}
	return out
}

func deleteAll(t *testing.T, r fullRepo, contents map[string][]byte) {
	t.Helper()
	for p := range contents {
		if err := r.Delete(ctx, p, "test"); err != nil {
			t.Fatal(err)
		}
	}
}

func segExists(dir string, id uint32) bool {
	_, err := os.Stat(filepath.Join(dir, "segments", segmentName(id)))
	return err == nil
}

func segRecordOf(s *Local, id uint32) (rec segRecord, ok bool) {
	s.db.View(func(tx *bolt.Tx) error {
		rec, ok = getSegRecord(tx.Bucket(bucketSegments), id)
		return nil
	})
	return rec, ok
}

func mustCompact(t *testing.T, s *Local) CompactStats {
	t.Helper()
	st, err := s.Compact(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// twoSegments writes, into a store sealing segments at 1,500 bytes, a
// batch of ten 100-byte contents into segment 1 and one that does not fit
// there, into segment 2, the active one (with room for 500 more).
func twoSegments(t *testing.T, opts ...Option) (s *Local, r fullRepo, dir string, first, second map[string][]byte) {
	t.Helper()
	s, r, dir = newRepo(t, TypeGeneric, append([]Option{withSegmentMax(1500)}, opts...)...)
	first, second = files("/one", 10, 100), files("/two", 10, 100)
	writeBatch(t, r, first)
	writeBatch(t, r, second)
	if !segExists(dir, 1) || !segExists(dir, 2) {
		t.Fatal("the batches did not go to segments 1 and 2")
	}
	return s, r, dir, first, second
}

// A sealed segment with less than half of it live is compacted: its live
// contents are copied into the active segment and read back the same, its
// record and file go, the space comes back; a restart changes nothing.
func TestCompactHalfDeadSegment(t *testing.T) {
	s, r, dir, first, second := twoSegments(t, withoutCompactor())
	gone := take(first, 6)
	deleteAll(t, r, gone)
	if st := mustCompact(t, s); st.Segment != 1 || st.Contents != 4 || st.Copied != 400 || st.Reclaimed != 600 {
		t.Fatalf("compaction %+v; want segment 1, 4 contents and 400 bytes copied, 600 given back", st)
	}
	if segExists(dir, 1) {
		t.Fatal("segment 1's file is still there")
	}
	if _, ok := segRecordOf(s, 1); ok {
		t.Fatal("segment 1's record is still there")
	}
	if rec, _ := segRecordOf(s, 2); rec != (segRecord{end: 1400, live: 1400}) {
		t.Fatalf("segment 2 %+v, want 1400 bytes committed and live", rec)
	}
	if st := s.Stats(); st.SegmentLiveBytes != 1400 || st.SegmentDeadBytes != 0 {
		t.Fatalf("stats %+v", st)
	}
	live := union(first, second)
	checkContents(t, r, live)
	if st := mustCompact(t, s); st.Segment != 0 {
		t.Fatalf("a second compaction took segment %d", st.Segment)
	}
	s.Close()
	s = openStore(t, dir, withoutCompactor())
	defer s.Close()
	checkContents(t, mustFull(s.Repository(ctx, "demo", "repo")), live)
	if segExists(dir, 1) {
		t.Fatal("segment 1 is back")
	}
}

// A segment with no live byte left is removed without copying; an empty
// content in it, which counts no byte, goes inline and still reads.
func TestCompactZeroLiveSegment(t *testing.T) {
	s, r, dir := newRepo(t, TypeGeneric, withoutCompactor(), withSegmentMax(1500))
	first, second := files("/one", 10, 100), files("/two", 10, 100)
	writeBatch(t, r, union(first, map[string][]byte{"/empty": {}}))
	writeBatch(t, r, second)
	deleteAll(t, r, first)
	if rec, _ := segRecordOf(s, 1); rec != (segRecord{end: 1000}) {
		t.Fatalf("segment 1 %+v, want nothing live", rec)
	}
	if st := mustCompact(t, s); st.Segment != 1 || st.Copied != 0 || st.Contents != 1 || st.Reclaimed != 1000 {
		t.Fatalf("compaction %+v; want segment 1, nothing copied, the empty content moved, 1000 bytes back", st)
	}
	if segExists(dir, 1) {
		t.Fatal("segment 1's file is still there")
	}
	checkContents(t, r, union(second, map[string][]byte{"/empty": {}}))
	if p, i, _ := segState(t, s); p != 10 || i != 1 {
		t.Fatalf("%d packed, %d inline; want the empty content inline", p, i)
	}
}

// The active segment is never compacted, however dead.
func TestCompactLeavesActiveSegment(t *testing.T) {
	s, r, dir := newRepo(t, TypeGeneric, withoutCompactor())
	contents := files("/a", 10, 100)
	writeBatch(t, r, contents)
	deleteAll(t, r, contents)
	if st := mustCompact(t, s); st.Segment != 0 {
		t.Fatalf("compacted segment %d, the active one", st.Segment)
	}
	if !segExists(dir, 1) {
		t.Fatal("the active segment is gone")
	}
}

// A sealed segment that a batch reserved bytes in, and whose commit has not
// come yet, is not compacted: that commit names it.
func TestCompactWaitsForPendingReservation(t *testing.T) {
	s, r, dir := newRepo(t, TypeGeneric, withoutCompactor(), withSegmentMax(1000))
	first := files("/one", 9, 100)
	writeBatch(t, r, first)
	seg, _, _, err := s.segs.reserve(50) // a batch between its pack and its commit
	if err != nil || seg != 1 {
		t.Fatal(seg, err)
	}
	writeBatch(t, r, files("/two", 10, 100)) // seals segment 1
	deleteAll(t, r, first)
	if st := mustCompact(t, s); st.Segment != 0 {
		t.Fatalf("compacted segment %d with a reservation pending", st.Segment)
	}
	s.segs.release(seg)
	if st := mustCompact(t, s); st.Segment != 1 || segExists(dir, 1) {
		t.Fatalf("after the release: %+v", st)
	}
}

// A content deleted after compaction copied it and before its commit stays
// deleted; its copy is dead space of the active segment.
func TestCompactDoesNotResurrectDeleted(t *testing.T) {
	var r fullRepo
	var victim string
	var first map[string][]byte
	s, r, _, first, second := twoSegments(t, withoutCompactor(), withCompactHook(func(_ context.Context, stage string) error {
		if stage == "copied" {
			return r.Delete(ctx, victim, "test")
		}
		return nil
	}))
	deleteAll(t, r, take(first, 6))
	for victim = range first {
		break
	}
	want := first[victim]
	delete(first, victim)
	if st := mustCompact(t, s); st.Segment != 1 || st.Contents != 3 || st.Copied != 400 {
		t.Fatalf("compaction %+v; want 3 of the 4 copied contents moved", st)
	}
	if _, err := r.Stat(ctx, victim); !errors.Is(err, ErrNotFound) {
		t.Fatalf("%s: %v", victim, err)
	}
	if _, ok := s.HasContent(sum(want)); ok {
		t.Fatal("the deleted content is stored again")
	}
	// The deleted content's copy is dead: inside the committed end, or past
	// it when it was the last copied (an uncommitted tail).
	if rec, _ := segRecordOf(s, 2); rec.live != 1300 || (rec.end != 1400 && rec.end != 1300) {
		t.Fatalf("segment 2 %+v; want 1300 bytes live, the deleted copy's 100 dead", rec)
	}
	if st := s.Stats(); st.Blobs != 13 {
		t.Fatalf("stats %+v, want 13 contents", st)
	}
	checkContents(t, r, union(first, second))
}

// Contents referenced again while compaction runs stay readable: one that
// only gained a reference gets the new location with its count, one deleted
// and written anew keeps where the new write put it.
func TestCompactKeepsContentReferencedMeanwhile(t *testing.T) {
	var r fullRepo
	var first map[string][]byte
	var again, renewed string
	s, r, _, first, second := twoSegments(t, withoutCompactor(), withCompactHook(func(_ context.Context, stage string) error {
		if stage != "copied" {
			return nil
		}
		if _, err := r.Write(ctx, "/again", bytes.NewReader(first[again]), WriteOptions{Size: -1}); err != nil {
			return err
		}
		if err := r.Delete(ctx, renewed, "test"); err != nil {
			return err
		}
		_, err := r.WriteBatch(ctx, batchOf(map[string][]byte{renewed: first[renewed], "/other": []byte("other")}))
		return err
	}))
	deleteAll(t, r, take(first, 6))
	for p := range first {
		if again == "" {
			again = p
		} else if renewed == "" {
			renewed = p
		}
	}
	if st := mustCompact(t, s); st.Segment != 1 || st.Contents != 3 {
		t.Fatalf("compaction %+v; want 3 contents moved (not the one written anew)", st)
	}
	live := union(first, second, map[string][]byte{"/again": first[again], "/other": []byte("other")})
	checkContents(t, r, live)
	if err := r.Delete(ctx, again, "test"); err != nil {
		t.Fatal(err)
	}
	delete(live, again)
	checkContents(t, r, live) // /again kept the reference it gained
}

// A compaction whose transaction fails (a crash before its commit) leaves
// its copies as an uncommitted tail, which Open cuts; a compaction that
// committed and crashed before removing the old file leaves a file no
// record names, which Open removes. The contents read throughout.
func TestCompactCrash(t *testing.T) {
	failing := errors.New("crash")
	s, r, dir, first, second := twoSegments(t, withoutCompactor(), withCompactHook(func(_ context.Context, stage string) error {
		if stage == "commit" {
			return failing
		}
		return nil
	}))
	deleteAll(t, r, take(first, 6))
	live := union(first, second)
	if _, err := s.Compact(ctx); !errors.Is(err, failing) {
		t.Fatalf("compaction: %v, want the crash", err)
	}
	active := filepath.Join(dir, "segments", segmentName(2))
	if fi, _ := os.Stat(active); fi.Size() != 1400 {
		t.Fatalf("active segment %d bytes, want its 1000 and the 400 copied", fi.Size())
	}
	checkContents(t, r, live)
	s.Close()

	s = openStore(t, dir, withoutCompactor())
	r = mustFull(s.Repository(ctx, "demo", "repo"))
	if fi, _ := os.Stat(active); fi.Size() != 1000 || !segExists(dir, 1) {
		t.Fatalf("after Open: active segment %d bytes, segment 1 there: %v", fi.Size(), segExists(dir, 1))
	}
	checkContents(t, r, live)
	old, err := os.ReadFile(filepath.Join(dir, "segments", segmentName(1)))
	if err != nil {
		t.Fatal(err)
	}
	if st := mustCompact(t, s); st.Segment != 1 {
		t.Fatalf("compaction %+v", st)
	}
	s.Close()
	// The crash after the commit: the old file is still there.
	if err := os.WriteFile(filepath.Join(dir, "segments", segmentName(1)), old, 0o640); err != nil {
		t.Fatal(err)
	}
	s = openStore(t, dir, withoutCompactor())
	defer s.Close()
	if segExists(dir, 1) {
		t.Fatal("Open kept the compacted segment's file")
	}
	checkContents(t, mustFull(s.Repository(ctx, "demo", "repo")), live)
}

// A store from before blob entries held locations keeps them in
// bucketPacked: compaction moves those into the blob entries.
func TestCompactMovesLegacyPackedEntries(t *testing.T) {
	s, r, _, first, second := twoSegments(t, withoutCompactor())
	err := s.db.Update(func(tx *bolt.Tx) error { // the earlier layout
		blobs := tx.Bucket(bucketBlobs)
		for _, c := range first {
			e, _ := getBlob(blobs, sum(c))
			if err := tx.Bucket(bucketPacked).Put([]byte(sum(c)), e.pack.encode()); err != nil {
				return err
			}
			e.packed = false
			if err := putBlob(blobs, sum(c), e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	deleteAll(t, r, take(first, 6))
	if st := mustCompact(t, s); st.Segment != 1 || st.Contents != 4 {
		t.Fatalf("compaction %+v", st)
	}
	s.db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bucketPacked).Stats().KeyN; n != 0 {
			t.Errorf("%d entries left in bucketPacked", n)
		}
		for _, c := range first {
			if e, _ := getBlob(tx.Bucket(bucketBlobs), sum(c)); !e.packed || e.pack.seg != 2 {
				t.Errorf("%s: entry %+v, want a location in segment 2", sum(c), e)
			}
		}
		return nil
	})
	checkContents(t, r, union(first, second))
}

// compactions counts the observer's compactions by result.
type compactions struct {
	countingObserver
	mu        sync.Mutex
	results   map[string]int
	reclaimed int64
}

func (o *compactions) count(result string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.results[result]
}

func (o *compactions) Compacted(result string, reclaimed int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.results == nil {
		o.results = map[string]int{}
	}
	o.results[result]++
	o.reclaimed += reclaimed
}

// The background compactor wakes when a delete makes a sealed segment
// mostly dead, compacts it, and tells the observer.
func TestCompactorRunsOnDelete(t *testing.T) {
	obs := &compactions{}
	s, r, dir, first, second := twoSegments(t, WithObserver(obs))
	deleteAll(t, r, take(first, 6))
	waitGone(t, dir, 1)
	checkContents(t, r, union(first, second))
	// The observer is told after the file goes.
	for deadline := time.Now().Add(10 * time.Second); obs.count("ok") == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	obs.mu.Lock()
	defer obs.mu.Unlock()
	if obs.results["ok"] != 1 || obs.reclaimed != 600 {
		t.Fatalf("observed %v, %d bytes back; want one ok, 600", obs.results, obs.reclaimed)
	}
	if st := s.Stats(); st.SegmentDeadBytes != 0 || st.SegmentLiveBytes != 1400 {
		t.Fatalf("stats %+v", st)
	}
}

// A compaction that keeps failing is retried after a backoff, five times in
// a row at most; then the compactor waits for the next wake-up.
func TestCompactorGivesUpAfterRepeatedFailures(t *testing.T) {
	obs := &compactions{}
	broken := errors.New("broken disk")
	s, r, dir, first, _ := twoSegments(t, withoutCompactor(), WithObserver(obs), withCompactBackoff(time.Millisecond),
		withCompactHook(func(_ context.Context, stage string) error {
			if stage == "copied" {
				return broken
			}
			return nil
		}))
	deleteAll(t, r, take(first, 6))
	s.compactAll(ctx) // what the goroutine runs when woken
	if n := obs.count("error"); n != compactMaxFailures {
		t.Fatalf("%d failed compactions, want %d", n, compactMaxFailures)
	}
	if !segExists(dir, 1) {
		t.Fatal("segment 1 went")
	}
	checkContents(t, r, first)
}

// Close stops a compaction under way and waits for it: its copies are an
// uncommitted tail, which the next Open cuts, and nothing is lost.
func TestCloseStopsCompaction(t *testing.T) {
	obs := &compactions{}
	entered := make(chan struct{})
	s, r, dir, first, second := twoSegments(t, WithObserver(obs), withCompactHook(func(ctx context.Context, stage string) error {
		if stage == "copied" {
			close(entered)
			<-ctx.Done() // Close cancels it
		}
		return nil
	}))
	deleteAll(t, r, take(first, 6))
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no compaction within 10 s")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if n := obs.count("canceled"); n != 1 {
		t.Fatalf("%d compactions canceled, want 1", n)
	}
	s = openStore(t, dir, withoutCompactor())
	defer s.Close()
	if fi, _ := os.Stat(filepath.Join(dir, "segments", segmentName(2))); fi.Size() != 1000 || !segExists(dir, 1) {
		t.Fatalf("after Open: active segment %d bytes, segment 1 there: %v", fi.Size(), segExists(dir, 1))
	}
	checkContents(t, mustFull(s.Repository(ctx, "demo", "repo")), union(first, second))
}

// A segment mostly dead before it is sealed is compacted once it is: the
// deletes found it active and did not wake the compactor.
func TestCompactorRunsOnSeal(t *testing.T) {
	s, r, dir := newRepo(t, TypeGeneric, withSegmentMax(1500))
	first := files("/one", 10, 100)
	writeBatch(t, r, first)
	deleteAll(t, r, take(first, 6))
	if !segExists(dir, 1) {
		t.Fatal("the active segment was compacted")
	}
	second := files("/two", 10, 100)
	writeBatch(t, r, second) // seals segment 1
	waitGone(t, dir, 1)
	checkContents(t, r, union(first, second))
	if st := s.Stats(); st.SegmentDeadBytes != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// waitGone waits, for at most 10 s, for segment id's file to go.
func waitGone(t *testing.T, dir string, id uint32) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); segExists(dir, id); {
		if time.Now().After(deadline) {
			t.Fatalf("segment %d not compacted within 10 s", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Readers running while segments are compacted under them, again and again,
// always read what was written; so do writers that reference the contents
// being moved.
func TestCompactWhileReading(t *testing.T) {
	s, r, _ := newRepo(t, TypeGeneric, withoutCompactor(), withSegmentMax(4096))
	stable := files("/stable", 8, 100)
	churn := files("/churn0", 20, 100)
	writeBatch(t, r, union(stable, churn))
	paths := make([]string, 0, len(stable))
	for p := range stable {
		paths = append(paths, p)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 2 {
		wg.Go(func() { errs <- readLoop(r, paths, stable, &stop) })
	}
	wg.Go(func() { errs <- refLoop(r, paths, stable, &stop) })
	moved := 0
	for round := 1; round <= 30; round++ {
		next := files(fmt.Sprintf("/churn%d", round), 20, 100)
		writeBatch(t, r, next)
		deleteAll(t, r, churn)
		churn = next
		for st := mustCompact(t, s); st.Segment != 0; st = mustCompact(t, s) {
			moved += st.Contents
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if moved < 30*len(stable) {
		t.Fatalf("%d contents moved, want the stable ones moved every round", moved)
	}
	checkContents(t, r, union(stable, churn))
}

// readLoop reads the paths by ReadSmall and Open until stop.
func readLoop(r fullRepo, paths []string, want map[string][]byte, stop *atomic.Bool) error {
	for !stop.Load() {
		_, got, err := r.ReadSmall(ctx, paths)
		if err != nil {
			return err
		}
		for i, p := range paths {
			if !bytes.Equal(got[i], want[p]) {
				return fmt.Errorf("ReadSmall %s: %q", p, got[i])
			}
		}
		for _, p := range paths {
			rd, err := r.Open(ctx, p)
			if err != nil {
				return err
			}
			b := make([]byte, len(want[p])+1)
			n, _ := rd.Read(b)
			rd.Close()
			if !bytes.Equal(b[:n], want[p]) {
				return fmt.Errorf("Open %s: %q", p, b[:n])
			}
		}
	}
	return nil
}

// refLoop writes and deletes copies of the paths' contents until stop:
// references taken and dropped while the contents move.
func refLoop(r fullRepo, paths []string, want map[string][]byte, stop *atomic.Bool) error {
	for i := 0; !stop.Load(); i++ {
		p := paths[i%len(paths)]
		batch := map[string][]byte{"/ref/a" + p: want[p], "/ref/b" + p: want[p]}
		if _, err := r.WriteBatch(ctx, batchOf(batch)); err != nil {
			return err
		}
		if err := r.Delete(ctx, "/ref/a"+p, "test"); err != nil {
			return err
		}
	}
	return nil
}
