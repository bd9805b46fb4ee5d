package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// WriteBatch implements Repository. Every file is staged as Write stages it
// (larger content fsynced in tmp/, then made visible), and all are committed
// in one transaction: a batch of small files costs one fsync of the database
// instead of one per file. A context that ends fails the whole batch.
func (r *localRepo) WriteBatch(ctx context.Context, files []BatchFile) ([]BatchResult, error) {
	s := r.s
	res := make([]BatchResult, len(files))
	sts := make([]staged, len(files))
	paths := make([]string, len(files))
	todo := make([]bool, len(files)) // staged, to commit
	for i, f := range files {
		p, err := NormalizeFilePath(f.Path)
		if err == nil {
			err = validateMetadata(f.Opt.Metadata)
		}
		if err != nil {
			res[i].Err = err // not observed, as with Write
			continue
		}
		if sts[i], err = s.stage(ctx, bytes.NewReader(f.Content), f.Opt); err != nil {
			if ctx.Err() == nil { // else the whole batch fails below
				res[i].Err = err
				s.Observe.WriteDone(writeResult(err), 0)
			}
			continue
		}
		paths[i], todo[i] = p, true
	}
	if err := ctx.Err(); err != nil {
		for i := range files {
			if todo[i] && sts[i].inline == nil {
				os.Remove(sts[i].path)
			}
			if res[i].Err == nil {
				s.Observe.WriteDone(writeResult(err), 0)
			}
		}
		return nil, err
	}

	s.publish.Lock()
	defer s.publish.Unlock()
	for i := range files {
		if !todo[i] {
			continue
		}
		if err := s.makeVisible(sts[i]); err != nil {
			os.Remove(sts[i].path)
			todo[i], res[i].Err = false, err
			s.Observe.WriteDone(writeResult(err), 0)
		}
	}
	var gone []string // content that may have lost its last reference
	err := r.tx(true, func(tx *bolt.Tx, rb *bolt.Bucket) error {
		for i := range files {
			if !todo[i] {
				continue
			}
			n, g, err := r.putNode(tx, rb, paths[i], sts[i], files[i].Opt)
			switch {
			case errors.Is(err, ErrExists):
				res[i].Err = err
				if sts[i].inline == nil {
					gone = append(gone, sts[i].sha256)
				}
			case err != nil:
				return err
			default:
				res[i].Node = n
				if g != "" {
					gone = append(gone, g)
				}
			}
		}
		// A later file of the batch may have taken what an earlier one let go.
		blobs := tx.Bucket(bucketBlobs)
		gone = slices.DeleteFunc(gone, func(sum string) bool { _, ok := getBlob(blobs, sum); return ok })
		return nil
	})
	if err != nil {
		err = diskError(err)
		for i := range files {
			if !todo[i] {
				continue
			}
			if sts[i].inline == nil && nothingRefers(s, sts[i].sha256) {
				s.removeBlobs([]string{sts[i].sha256})
			}
			s.Observe.WriteDone(writeResult(err), 0)
		}
		return nil, err
	}
	s.removeBlobs(gone)
	for i := range files {
		switch {
		case !todo[i]:
		case res[i].Err != nil:
			s.Observe.WriteDone(writeResult(res[i].Err), 0)
		default:
			s.Observe.WriteDone("ok", sts[i].size)
		}
	}
	return res, nil
}
