package store

import (
	"context"
	"encoding/binary"

	bolt "go.etcd.io/bbolt"
)

// appendChange adds c to the log with the next sequence number, in tx.
func appendChange(rb *bolt.Bucket, c Change) error {
	_, err := appendChangeSeq(rb, c)
	return err
}

// appendChangeSeq is appendChange that also returns the entry's sequence.
func appendChangeSeq(rb *bolt.Bucket, c Change) (uint64, error) {
	b := rb.Bucket(bucketChanges)
	seq, err := b.NextSequence()
	if err != nil {
		return 0, err
	}
	c.Seq = seq
	key := make([]byte, 8)
	binary.BigEndian.PutUint64(key, seq)
	return seq, b.Put(key, encodeChange(&c))
}

// Head implements ChangeLog.
func (r *localRepo) Head(context.Context) (uint64, error) {
	var seq uint64
	err := r.view(func(_ *bolt.Tx, rb *bolt.Bucket) error {
		seq = rb.Bucket(bucketChanges).Sequence()
		return nil
	})
	return seq, err
}

type watchKey struct{ project, repo string }

// Changed returns a channel closed at the next committed change to the
// repository project/repo.
func (s *Local) Changed(project, repo string) <-chan struct{} {
	s.changedMu.Lock()
	defer s.changedMu.Unlock()
	k := watchKey{project, repo}
	ch, ok := s.changed[k]
	if !ok {
		ch = make(chan struct{})
		s.changed[k] = ch
	}
	return ch
}

func (s *Local) notifyChanged(project, repo string) {
	s.changedMu.Lock()
	defer s.changedMu.Unlock()
	k := watchKey{project, repo}
	if ch, ok := s.changed[k]; ok {
		close(ch)
		delete(s.changed, k)
	}
}

// Changes implements ChangeLog.
func (r *localRepo) Changes(_ context.Context, from uint64, limit int) ([]Change, error) {
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	out := []Change{}
	err := r.view(func(_ *bolt.Tx, rb *bolt.Bucket) error {
		key := make([]byte, 8)
		binary.BigEndian.PutUint64(key, from)
		c := rb.Bucket(bucketChanges).Cursor()
		for k, v := c.Seek(key); k != nil && len(out) < limit; k, v = c.Next() {
			var ch Change
			if err := decodeChange(v, &ch); err != nil {
				return err
			}
			out = append(out, ch)
		}
		return nil
	})
	return out, err
}
