package store

import bolt "go.etcd.io/bbolt"

// Group commit: commits that queue while another is being written share
// its successor's transaction, and so one fsync of the metadata database
// and one write of each page they both dirty (a replication target
// receives several batches at once; with a million contents nearly every
// file of a batch dirties a page of the sha256-keyed index, and pages
// shared by the batches of a group are written once). The first request
// to find no commit in progress leads: it takes every queued request,
// commits them as one group, and hands the lead to the first request that
// queued meanwhile, so no caller waits for more than its own group and the
// one before it.

// commitReq is one call of commit waiting for its group.
type commitReq struct {
	r     *localRepo
	files []fileWrite
	fn    func(tx *bolt.Tx, rb *bolt.Bucket) ([]string, error)
	gone  []string
	err   error
	done  chan struct{} // closed when the request's outcome is set
	lead  chan struct{} // closed when the request is to commit the next group
}

func (s *Local) groupCommit(q *commitReq) error {
	s.groupMu.Lock()
	s.queued = append(s.queued, q)
	leads := !s.leading
	s.leading = true
	s.groupMu.Unlock()
	if !leads {
		select {
		case <-q.done:
			return q.err
		case <-q.lead:
		}
	}
	s.groupMu.Lock()
	group := s.queued
	s.queued = nil
	s.groupMu.Unlock()
	s.commitGroup(group)
	s.groupMu.Lock()
	if len(s.queued) > 0 {
		close(s.queued[0].lead)
	} else {
		s.leading = false
	}
	s.groupMu.Unlock()
	return q.err
}

// commitGroup commits a group under the publish lock: in one transaction,
// or, when that fails (a delete of a missing path fails its transaction),
// each request alone, in order, so that one request's error is its own.
// The blobs released are removed last; it closes every request's done.
func (s *Local) commitGroup(group []*commitReq) {
	s.publish.Lock()
	defer s.publish.Unlock()
	live := make([]*commitReq, 0, len(group))
	for _, q := range group {
		s.makeVisibleAll(q.files)
		if q.files != nil && !anyPending(q.files) {
			close(q.done)
			continue
		}
		live = append(live, q)
	}
	defer func() {
		s.removeReleased(live)
		for _, q := range live {
			close(q.done)
		}
	}()
	if len(live) > 1 && s.updateGroup(live) == nil {
		for _, q := range live {
			if q.err != nil {
				s.failPending(q.files, q.err)
			} else {
				s.committed(q)
			}
		}
		return
	}
	for _, q := range live {
		q.err, q.gone = nil, nil
		for i := range q.files {
			if f := &q.files[i]; f.state == pending {
				f.err = nil // a refusal of the failed group's attempt
			}
		}
		s.commitOne(q)
	}
}

// updateGroup runs every request's fn in one transaction. A request whose
// repository is gone fails alone; any other error fails the transaction.
func (s *Local) updateGroup(group []*commitReq) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, q := range group {
			q.err, q.gone = nil, nil
			rb := writableRepo(tx, q.r.bucket)
			if rb == nil {
				q.err = q.r.notFound()
				continue
			}
			gone, err := q.fn(tx, rb)
			if err != nil {
				return err
			}
			q.gone = gone
		}
		return nil
	})
}
