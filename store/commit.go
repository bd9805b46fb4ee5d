package store

import (
	"context"
	"errors"
	"os"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// fileWrite is one file on its way into a repository (a Write, a Link, one
// file of a WriteBatch): where it goes, its staged content and, once known,
// its outcome.
type fileWrite struct {
	path  string
	opt   WriteOptions
	st    staged
	state writeState
	node  Node  // once written
	err   error // once failed or refused; while pending, set by a commit that refuses this file alone
}

// writeState is where a fileWrite stands.
type writeState uint8

const (
	// unstaged: no content yet; so also a file whose path or metadata was
	// refused before any byte was read, which the observer does not count
	// (as no invalid request is counted).
	unstaged writeState = iota
	// pending: staged, for the commit to take.
	pending
	// failed: err says why; no staged content of it is left.
	failed
	// written: committed, node holds the result.
	written
)

// take records what staging gave: content for the commit, or the failure.
func (f *fileWrite) take(st staged, err error) {
	if err != nil {
		f.fail(err)
		return
	}
	f.st, f.state = st, pending
}

// fail records f's outcome as err.
func (f *fileWrite) fail(err error) { f.node, f.err, f.state = Node{}, err, failed }

// commit is the one path by which the built-in store changes. Under the
// publish lock it makes the pending files' staged content visible, runs fn
// in one bbolt write transaction and then, if the transaction committed,
// removes the blob files fn reports released and wakes the repository's
// watchers; if it did not, it takes back the content no commit took and
// every pending file fails with its error. However it ends, every file's
// outcome is observed, once.
//
// files may be nil (a delete, a metadata or package change). A file fn
// refuses alone, keeping the transaction, gets its err set by fn. When files
// are given but none is pending (all failed before), nothing is committed.
func (r *localRepo) commit(files []fileWrite, fn func(tx *bolt.Tx, rb *bolt.Bucket) (gone []string, err error)) error {
	s := r.s
	defer s.observe(files)
	if files != nil && !anyPending(files) {
		return nil
	}
	return s.groupCommit(&commitReq{r: r, files: files, fn: fn, done: make(chan struct{}), lead: make(chan struct{})})
}

// commitOne commits one request in a transaction of its own. Callers hold
// s.publish.
func (s *Local) commitOne(q *commitReq) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		rb := writableRepo(tx, q.r.bucket)
		if rb == nil {
			return q.r.notFound()
		}
		var err error
		q.gone, err = q.fn(tx, rb)
		return err
	})
	if err != nil {
		q.err = diskError(err)
		s.failPending(q.files, q.err)
		return
	}
	s.committed(q)
}

// committed ends a request whose transaction committed: its repository's
// watchers woken, its files written. The blobs it released are removed by
// the group once every request of it is committed (removeReleased).
// Callers hold s.publish.
func (s *Local) committed(q *commitReq) {
	s.notifyChanged(q.r.info.Project, q.r.info.Name)
	settle(q.files)
}

// removeReleased removes the blob files the group's requests released that
// nothing refers to now: a later request of the group may have taken the
// content again (its staged copy gave way to the file already there when
// the group made its contents visible). Callers hold s.publish.
func (s *Local) removeReleased(group []*commitReq) {
	var gone []string
	for _, q := range group {
		if q.err == nil {
			gone = append(gone, q.gone...)
		}
	}
	if len(gone) == 0 {
		return
	}
	_ = s.db.View(func(tx *bolt.Tx) error {
		blobs := tx.Bucket(bucketBlobs)
		gone = slices.DeleteFunc(gone, func(sum string) bool { _, ok := getBlob(blobs, sum); return ok })
		return nil
	})
	s.removeBlobs(gone)
}

// failPending fails the files a failed transaction did not commit and takes
// their content back. Callers hold s.publish.
func (s *Local) failPending(files []fileWrite, err error) {
	for i := range files {
		if f := &files[i]; f.state == pending {
			s.takeBack(f.st)
			f.fail(err)
		}
	}
}

// settle ends the pending files of a committed transaction: written, but
// for those it refused alone.
func settle(files []fileWrite) {
	for i := range files {
		if f := &files[i]; f.state == pending {
			f.state = written
			if f.err != nil {
				f.state = failed
			}
		}
	}
}

// change commits a change that releases no content: metadata, package
// versions.
func (r *localRepo) change(fn func(rb *bolt.Bucket) error) error {
	return r.commit(nil, func(_ *bolt.Tx, rb *bolt.Bucket) ([]string, error) { return nil, fn(rb) })
}

func anyPending(files []fileWrite) bool {
	for i := range files {
		if files[i].state == pending {
			return true
		}
	}
	return false
}

// makeVisibleAll moves the pending files' content to its blob path; a file
// whose content cannot be moved fails alone. Callers hold s.publish.
func (s *Local) makeVisibleAll(files []fileWrite) {
	for i := range files {
		f := &files[i]
		if f.state != pending {
			continue
		}
		if err := s.makeVisible(f.st); err != nil {
			if !f.st.upload {
				os.Remove(f.st.path)
			}
			f.fail(err)
		}
	}
}

// takeBack undoes makeVisible for content a failed commit did not take,
// unless something else refers to it. Callers hold s.publish.
func (s *Local) takeBack(st staged) {
	if st.inline != nil && !st.upload {
		return // never left memory
	}
	if nothingRefers(s, st.sha256) {
		s.unstage(st)
	}
}

// observe tells the observer each file's outcome: this is the one place a
// write is counted.
func (s *Local) observe(files []fileWrite) {
	for i := range files {
		f := &files[i]
		if f.state == unstaged {
			continue
		}
		result, n := "ok", f.st.size
		switch {
		case f.err != nil:
			result, n = writeResult(f.err), 0
		case f.st.linked: // no byte came in
			result, n = "linked", 0
		}
		s.observer.WriteDone(result, n)
	}
}

func writeResult(err error) string {
	switch {
	case errors.Is(err, ErrChecksum):
		return "checksum_mismatch"
	case errors.Is(err, ErrExists):
		return "conflict"
	case errors.Is(err, ErrInsufficientSpace):
		return "no_space"
	case errors.Is(err, ErrInvalid), errors.Is(err, ErrNotFound):
		return "invalid"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "canceled"
	}
	return "error"
}
