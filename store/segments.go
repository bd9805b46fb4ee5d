package store

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	bolt "go.etcd.io/bbolt"
)

// Small contents written by WriteBatch are packed into append-only segment
// files (segments/<id>.seg) instead of being bbolt values: a batch appends
// its new contents in one write and one fdatasync, outside the publish lock
// (so one batch's data reaches the disk while another commits), and its
// transaction then records where each content is (in its blob entry) and how far
// the segment is committed (bucketSegments). See DESIGN.md.

var (
	// bucketPacked is where locations were before blob entries held them
	// (blobEntry.pack): read, and emptied as its contents go.
	bucketPacked   = []byte("packed")   // sha256 hex -> segment(4) offset(8) length(4)
	bucketSegments = []byte("segments") // segment(4) -> committed end(8) live bytes(8)
)

// segmentMax is the size at which a segment stops taking appends and the
// next one is started (segments.max: tests set a smaller one).
const segmentMax = 256 << 20

// packLoc is where a packed content's bytes are.
type packLoc struct {
	seg    uint32
	off    int64
	length uint32
}

func (l packLoc) encode() []byte {
	v := make([]byte, 16)
	binary.BigEndian.PutUint32(v[:4], l.seg)
	binary.BigEndian.PutUint64(v[4:12], uint64(l.off))
	binary.BigEndian.PutUint32(v[12:], l.length)
	return v
}

func decodePackLoc(v []byte) (packLoc, bool) {
	if len(v) != 16 {
		return packLoc{}, false
	}
	return packLoc{seg: binary.BigEndian.Uint32(v[:4]), off: int64(binary.BigEndian.Uint64(v[4:12])), length: binary.BigEndian.Uint32(v[12:])}, true
}

func segKey(id uint32) []byte { return binary.BigEndian.AppendUint32(nil, id) }

// segRecord is a segment's entry in bucketSegments.
type segRecord struct{ end, live uint64 }

func getSegRecord(b *bolt.Bucket, id uint32) (segRecord, bool) {
	v := b.Get(segKey(id))
	if len(v) != 16 {
		return segRecord{}, false
	}
	return segRecord{end: binary.BigEndian.Uint64(v[:8]), live: binary.BigEndian.Uint64(v[8:])}, true
}

func putSegRecord(b *bolt.Bucket, id uint32, r segRecord) error {
	v := binary.BigEndian.AppendUint64(nil, r.end)
	return b.Put(segKey(id), binary.BigEndian.AppendUint64(v, r.live))
}

// segments holds the open segment files.
type segments struct {
	dir string
	max int64 // the size at which the active segment is sealed: segmentMax
	// gate is held for reading from before a read transaction takes a
	// location to after the bytes are read, and for writing by compaction
	// while it takes a segment no record names any more out of files: a
	// read that took a location before compaction's commit finishes before
	// the file goes (compact.go).
	gate sync.RWMutex
	mu   sync.Mutex // guards files, active, end and pending
	// files are every segment, open for reading (ReadAt) and, the active
	// one, for appending (WriteAt): both are safe concurrently.
	files  map[uint32]*os.File
	active uint32
	end    int64 // the active segment's next free offset (reserved, maybe not committed)
	// pending counts, per segment, the reservations whose transaction has
	// not committed or failed yet: compaction leaves such a segment alone,
	// since a commit would name it after its record went. Only the active
	// segment takes reservations, so a sealed one's count only goes down.
	pending map[uint32]int
	// compactable is called, without blocking, when a segment may have
	// become one compaction takes: sealed, or its last reservation released
	// (a segment can be mostly dead before it is sealed).
	compactable func()
}

func segmentName(id uint32) string { return fmt.Sprintf("%08x.seg", id) }

// openSegments opens dir's segment files, recovering from a crash: bytes
// past a segment's committed end (an append whose transaction did not
// commit) are cut off, and a segment no transaction committed is removed.
func openSegments(dir string, db *bolt.DB, max int64) (*segments, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, err
	}
	// The directory's own entry must survive a power loss as the files in it
	// do: reserve fsyncs dir when it creates a segment.
	if err := syncDir(filepath.Dir(dir)); err != nil {
		return nil, err
	}
	sg := &segments{dir: dir, max: max, files: map[uint32]*os.File{}, pending: map[uint32]int{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	err = db.View(func(tx *bolt.Tx) error {
		recs := tx.Bucket(bucketSegments)
		for _, e := range entries {
			name, ok := strings.CutSuffix(e.Name(), ".seg")
			id, err := strconv.ParseUint(name, 16, 32)
			if !ok || err != nil || len(name) != 8 {
				continue
			}
			p := filepath.Join(dir, e.Name())
			rec, ok := getSegRecord(recs, uint32(id))
			if !ok {
				if err := os.Remove(p); err != nil {
					return err
				}
				continue
			}
			f, err := os.OpenFile(p, os.O_RDWR, 0)
			if err != nil {
				return err
			}
			sg.files[uint32(id)] = f
			fi, err := f.Stat()
			if err != nil {
				return err
			}
			if fi.Size() > int64(rec.end) {
				if err := f.Truncate(int64(rec.end)); err != nil {
					return err
				}
				if err := f.Sync(); err != nil {
					return err
				}
			}
			if uint32(id) >= sg.active {
				sg.active, sg.end = uint32(id), int64(rec.end)
			}
		}
		return nil
	})
	if err != nil {
		sg.close()
		return nil, err
	}
	if len(sg.files) == 0 {
		sg.active, sg.end = 1, 0
	}
	return sg, nil
}

func (sg *segments) close() {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	for _, f := range sg.files {
		f.Close()
	}
	sg.files = nil
}

// reserve gives n bytes of the active segment to one writer, starting a
// new segment when the active one is full. The writer releases the
// reservation once its transaction has committed or failed.
func (sg *segments) reserve(n int64) (uint32, int64, *os.File, error) {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	if sg.files == nil {
		return 0, 0, nil, errors.New("store: closed")
	}
	f := sg.files[sg.active]
	if f != nil && sg.end > 0 && sg.end+n > sg.max {
		sg.active, sg.end, f = sg.active+1, 0, nil
		sg.wake()
	}
	if f == nil {
		var err error
		f, err = os.OpenFile(filepath.Join(sg.dir, segmentName(sg.active)), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
		if err != nil {
			return 0, 0, nil, err
		}
		if err := syncDir(sg.dir); err != nil {
			f.Close()
			os.Remove(f.Name())
			return 0, 0, nil, err
		}
		sg.files[sg.active] = f
	}
	off := sg.end
	sg.end += n
	sg.pending[sg.active]++
	return sg.active, off, f, nil
}

// release ends a reservation of segment id (0: none).
func (sg *segments) release(id uint32) {
	if id == 0 {
		return
	}
	sg.mu.Lock()
	defer sg.mu.Unlock()
	if sg.pending[id]--; sg.pending[id] <= 0 {
		delete(sg.pending, id)
		if id != sg.active {
			sg.wake()
		}
	}
}

func (sg *segments) wake() {
	if sg.compactable != nil {
		sg.compactable()
	}
}

// sealed reports whether segment id takes no more appends.
func (sg *segments) sealed(id uint32) bool {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	return id != sg.active
}

// idle returns the sealed segments with no reservation pending: those
// compaction may take.
func (sg *segments) idle() []uint32 {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	var ids []uint32
	for id := range sg.files {
		if id != sg.active && sg.pending[id] == 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// remove takes segment id, which no record names any more, out of files
// once no read that may hold a location in it is running (the gate), then
// closes and deletes its file. A crash before the delete leaves a file no
// record names, which Open removes.
func (sg *segments) remove(id uint32) error {
	sg.gate.Lock()
	sg.mu.Lock()
	f := sg.files[id]
	delete(sg.files, id)
	sg.mu.Unlock()
	sg.gate.Unlock()
	if f == nil {
		return nil
	}
	f.Close()
	return os.Remove(f.Name())
}

func (sg *segments) file(id uint32) *os.File {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	return sg.files[id]
}

// read returns a copy of a packed content.
func (sg *segments) read(l packLoc) ([]byte, error) {
	f := sg.file(l.seg)
	if f == nil {
		return nil, fmt.Errorf("store: segment %s is missing", segmentName(l.seg))
	}
	b := make([]byte, l.length)
	if _, err := f.ReadAt(b, l.off); err != nil {
		return nil, fmt.Errorf("store: segment %s at %d: %w", segmentName(l.seg), l.off, err)
	}
	return b, nil
}

// segmentReads collects packed contents to read: contents a batch packed
// side by side are read back with one pread, not one per file (a source
// sending a million 4 KiB files otherwise makes a million system calls).
type segmentReads struct {
	at   []int // where each content goes in the caller's slice
	locs []packLoc
}

func (sr *segmentReads) add(i int, l packLoc) {
	sr.at, sr.locs = append(sr.at, i), append(sr.locs, l)
}

// read fills into[at] with each content, one read per run of adjacent
// contents of a segment (at most maxBatchPack bytes a read). The contents
// of one run share a buffer.
func (sr *segmentReads) read(sg *segments, into [][]byte) error {
	order := make([]int, len(sr.locs))
	for j := range order {
		order[j] = j
	}
	slices.SortFunc(order, func(a, b int) int {
		la, lb := sr.locs[a], sr.locs[b]
		if la.seg != lb.seg {
			return cmp.Compare(la.seg, lb.seg)
		}
		return cmp.Compare(la.off, lb.off)
	})
	for start := 0; start < len(order); {
		first := sr.locs[order[start]]
		end, stop := first.off+int64(first.length), start+1
		for ; stop < len(order); stop++ {
			l := sr.locs[order[stop]]
			if l.seg != first.seg || l.off != end || end+int64(l.length)-first.off > maxBatchPack {
				break
			}
			end += int64(l.length)
		}
		buf, err := sg.read(packLoc{seg: first.seg, off: first.off, length: uint32(end - first.off)})
		if err != nil {
			return err
		}
		for _, j := range order[start:stop] {
			l := sr.locs[j]
			rel := l.off - first.off
			into[sr.at[j]] = buf[rel : rel+int64(l.length) : rel+int64(l.length)]
		}
		start = stop
	}
	return nil
}

// maxBatchPack is the most bytes one read or copy of neighbouring
// contents of a segment moves at a time.
const maxBatchPack = 16 << 20

// pack appends the batch's staged small contents that the store does not
// hold yet to the active segment, in one write, and fsyncs it; each such
// file's staged content then has its location, for ref to record. Content
// the store holds already is left to be referenced; if anything fails the
// contents stay in memory and go to the inline bucket as before. It returns
// the segment it reserved in (0: none), for the caller to release once the
// batch's commit is over.
func (s *Local) pack(ctx context.Context, ws []fileWrite) uint32 {
	var idx []int
	var held []string
	for i := range ws {
		if f := &ws[i]; f.state == pending && f.st.inline != nil && !f.st.upload {
			idx = append(idx, i)
			held = append(held, f.st.sha256)
		}
	}
	if len(idx) < 2 || ctx.Err() != nil { // a single file: one transaction is cheaper than two fsyncs
		return 0
	}
	s.keepHeld(held)
	at := map[string]int64{} // offset in the write of each content, written once
	bufs, n := make([][]byte, 0, len(idx)), int64(0)
	for j, i := range idx {
		if f := &ws[i]; held[j] == "" {
			if _, ok := at[f.st.sha256]; !ok {
				at[f.st.sha256] = n
				bufs, n = append(bufs, f.st.inline), n+int64(len(f.st.inline))
			}
		}
	}
	if n == 0 {
		return 0
	}
	seg, off, file, err := s.segs.reserve(n)
	if err == nil {
		if err = writeAtv(file, bufs, off); err == nil {
			err = file.Sync()
		}
	}
	if err != nil {
		s.segs.release(seg)
		s.log.Warn("store: pack small contents (kept in the metadata database instead)", "err", err)
		return 0
	}
	for j, i := range idx {
		f := &ws[i]
		if held[j] == "" {
			f.st.pack = &packLoc{seg: seg, off: off + at[f.st.sha256], length: uint32(len(f.st.inline))}
		}
	}
	return seg
}

// keepHeld blanks the sums of contents the store does not hold.
func (s *Local) keepHeld(sums []string) {
	_ = s.db.View(func(tx *bolt.Tx) error {
		blobs := newBucketReader(tx.Bucket(bucketBlobs))
		for j, sum := range sums {
			if _, ok := getBlob(blobs, sum); !ok {
				sums[j] = ""
			}
		}
		return nil
	})
}

// storeSmall records, in tx, the first reference's small content: its
// packed location in the content's entry e when it has one, else the
// content itself in bucketInline.
func storeSmall(tx *bolt.Tx, st staged, e *blobEntry) error {
	if st.pack == nil {
		return tx.Bucket(bucketInline).Put([]byte(st.sha256), st.inline)
	}
	e.pack, e.packed = *st.pack, true
	return countSegment(tx, e.pack, true)
}

// countSegment adds a packed content to its segment's record (the committed
// end, the live bytes), or takes it off the live bytes.
func countSegment(tx *bolt.Tx, l packLoc, add bool) error {
	recs := tx.Bucket(bucketSegments)
	rec, _ := getSegRecord(recs, l.seg)
	if add {
		rec.end = max(rec.end, uint64(l.off)+uint64(l.length))
		rec.live += uint64(l.length)
	} else {
		rec.live -= min(rec.live, uint64(l.length))
	}
	return putSegRecord(recs, l.seg, rec)
}

// dropSmall removes, in tx, the small content whose last reference went:
// an inline value, or a packed one's location (its bytes become dead space
// of its segment, counted as such, for compaction to take back). Stores
// written before locations moved into the content's entry keep them in
// bucketPacked.
func (s *Local) dropSmall(tx *bolt.Tx, sum string, e blobEntry) error {
	if e.packed {
		s.dropped(tx, e.pack.seg)
		return countSegment(tx, e.pack, false)
	}
	if err := tx.Bucket(bucketInline).Delete([]byte(sum)); err != nil {
		return err
	}
	packed := tx.Bucket(bucketPacked)
	l, ok := decodePackLoc(packed.Get([]byte(sum)))
	if !ok {
		return nil
	}
	if err := packed.Delete([]byte(sum)); err != nil {
		return err
	}
	s.dropped(tx, l.seg)
	return countSegment(tx, l, false)
}

// smallContent returns, in tx, a copy of the small content sum, or nil when
// it is not small (or not stored).
func (s *Local) smallContent(tx *bolt.Tx, sum string) ([]byte, error) {
	if e, ok := getBlob(tx.Bucket(bucketBlobs), sum); ok && e.packed {
		return s.segs.read(e.pack)
	}
	return s.unpackedContent(tx, sum)
}

// unpackedContent is smallContent for a content whose blob entry holds no
// location: inline, or packed by a store from before (bucketPacked).
func (s *Local) unpackedContent(tx *bolt.Tx, sum string) ([]byte, error) {
	if v := tx.Bucket(bucketInline).Get([]byte(sum)); v != nil {
		return slices.Clone(v), nil
	}
	if l, ok := decodePackLoc(tx.Bucket(bucketPacked).Get([]byte(sum))); ok {
		return s.segs.read(l)
	}
	return nil, nil
}
