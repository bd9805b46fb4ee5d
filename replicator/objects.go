package replicator

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
	bolt "go.etcd.io/bbolt"
)

// Object statuses in a run's detail.
const (
	StatusSuccess = fsm.ObjectSuccess
	StatusSkipped = fsm.ObjectSkipped
	StatusFailed  = fsm.ObjectFailed
)

// ObjectRecord is what happened to one object for one target.
type ObjectRecord = fsm.ObjectRecord

// localDB is the executor's local database, <data-dir>/replicator/objects.db:
// the per-object detail of the runs this agent executed (one bucket per
// run), the quick-check marks and the real-time outbox cursors. It is
// local: other agents read the detail through this agent's API.
type localDB struct {
	db *bolt.DB
}

func openLocalDB(dir string) (*localDB, error) {
	// The map is reserved as the store reserves its own (store/DESIGN.md):
	// a database that grows through a run is not remapped at each doubling.
	db, err := bolt.Open(filepath.Join(dir, "objects.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second,
		NoFreelistSync: true, FreelistType: bolt.FreelistMapType, InitialMmapSize: store.MmapReserve()})
	if err != nil {
		return nil, fmt.Errorf("open the replicator's local database: %w", err)
	}
	return &localDB{db: db}, nil
}

func (l *localDB) Close() error { return l.db.Close() }

// add appends records of one run in one transaction.
func (l *localDB) add(runID string, recs []ObjectRecord) error {
	return l.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte(runID))
		if err != nil {
			return err
		}
		for _, r := range recs {
			seq, _ := b.NextSequence()
			v, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := b.Put(binary.BigEndian.AppendUint64(nil, seq), v); err != nil {
				return err
			}
		}
		return nil
	})
}

// page lists a run's records that match, in the order they happened or,
// when the filter asks, newest first.
func (l *localDB) page(runID string, f fsm.ObjectFilter, pr store.PageRequest) (store.Page[ObjectRecord], error) {
	pr = pr.Normalize()
	out := store.Page[ObjectRecord]{PageNumber: pr.Number, PageSize: pr.Size, Records: []ObjectRecord{}}
	skip := pr.Offset()
	err := l.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(runID))
		if b == nil {
			return nil
		}
		c := b.Cursor()
		first, next := c.First, c.Next
		if f.NewestFirst {
			first, next = c.Last, c.Prev
		}
		for k, v := first(); k != nil; k, v = next() {
			var r ObjectRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if !f.Matches(r) {
				continue
			}
			if out.TotalRecords >= skip && len(out.Records) < pr.Size {
				out.Records = append(out.Records, r)
			}
			out.TotalRecords++
		}
		return nil
	})
	out.TotalPages = (out.TotalRecords + int64(pr.Size) - 1) / int64(pr.Size)
	return out, err
}

// A syncMark says that, after a run, a target held exactly what a spec
// object selected: with the source at change-log position Source and the
// target at Target. While neither has moved since, the next run of the same
// spec object has nothing to plan (the quick check).
type syncMark struct {
	Source  uint64 `json:"source"`
	Target  uint64 `json:"target"`
	Objects int64  `json:"objects"`
	Bytes   int64  `json:"bytes"`
}

var bucketMarks = []byte("\x00marks")

func (l *localDB) mark(key []byte) (syncMark, bool) {
	var m syncMark
	found := false
	_ = l.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketMarks); b != nil {
			if v := b.Get(key); v != nil {
				found = json.Unmarshal(v, &m) == nil
			}
		}
		return nil
	})
	return m, found
}

// setMark records a mark, or with nil removes it.
func (l *localDB) setMark(key []byte, m *syncMark) error {
	return l.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMarks)
		if err != nil {
			return err
		}
		if m == nil {
			return b.Delete(key)
		}
		v, err := json.Marshal(m)
		if err != nil {
			return err
		}
		return b.Put(key, v)
	})
}

var bucketOutbox = []byte("\x00outbox")

// cursor is where a real-time outbox stands: the change-log sequence up to
// which its target has everything.
func (l *localDB) cursor(key []byte) (uint64, error) {
	var seq uint64
	err := l.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketOutbox); b != nil {
			if v := b.Get(key); len(v) == 8 {
				seq = binary.BigEndian.Uint64(v)
			}
		}
		return nil
	})
	return seq, err
}

func (l *localDB) setCursor(key []byte, seq uint64) error {
	return l.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketOutbox)
		if err != nil {
			return err
		}
		return b.Put(key, binary.BigEndian.AppendUint64(nil, seq))
	})
}

// prune drops the detail of the runs keep refuses; it is given each run's
// newest record time.
func (l *localDB) prune(keep func(runID string, newest time.Time) bool) error {
	return l.db.Update(func(tx *bolt.Tx) error {
		var gone [][]byte
		_ = tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if string(name) == string(bucketOutbox) || string(name) == string(bucketMarks) {
				return nil
			}
			var newest time.Time
			if _, v := b.Cursor().Last(); v != nil {
				var r ObjectRecord
				_ = json.Unmarshal(v, &r)
				newest = r.Time
			}
			if !keep(string(name), newest) {
				gone = append(gone, append([]byte(nil), name...))
			}
			return nil
		})
		for _, name := range gone {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		return nil
	})
}
