package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// WriteBatch implements Bulk. Every file is staged as Write stages it
// (larger content fsynced in tmp/, then made visible), and all are committed
// in one transaction: a batch of small files costs one fsync of the database
// instead of one per file. A context that ends fails the whole batch.
func (r *localRepo) WriteBatch(ctx context.Context, files []BatchFile) ([]BatchResult, error) {
	ws := r.s.stageBatch(ctx, files)
	canceled := ctx.Err()
	var reserved uint32 // the segment pack reserved in: compaction waits for this commit
	if canceled != nil {
		abandon(ws, canceled)
	} else {
		reserved = r.s.pack(ctx, ws)
	}
	err := r.commit(ws, func(tx *bolt.Tx, rb *bolt.Bucket) ([]string, error) {
		return r.putBatch(tx, rb, ws)
	})
	r.s.segs.release(reserved)
	switch {
	case canceled != nil:
		return nil, canceled
	case err != nil:
		return nil, err
	}
	res := make([]BatchResult, len(ws))
	for i := range ws {
		res[i] = BatchResult{Node: ws[i].node, Err: ws[i].err}
	}
	return res, nil
}

// stageBatch stages each file of a batch whose path and metadata are valid.
// A file that fails once the context has ended fails by it, as the whole
// batch then does.
func (s *Local) stageBatch(ctx context.Context, files []BatchFile) []fileWrite {
	ws := make([]fileWrite, len(files))
	for i, bf := range files {
		var err error
		if ws[i], err = newFileWrite(bf.Path, bf.Opt); err != nil {
			continue
		}
		var st staged
		if len(bf.Content) <= InlineMax {
			st, err = stageSmall(bf.Content, bf.Opt) // the batch's own bytes: no copy
		} else {
			st, err = s.stage(ctx, bytes.NewReader(bf.Content), bf.Opt)
		}
		if err != nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		ws[i].take(st, err)
	}
	return ws
}

// abandon fails every staged file of a batch with err, removing its
// content, so that the commit commits nothing.
func abandon(ws []fileWrite, err error) {
	for i := range ws {
		if f := &ws[i]; f.state == pending {
			if f.st.inline == nil {
				os.Remove(f.st.path)
			}
			f.fail(err)
		}
	}
}

// putBatch commits the batch's pending files in tx. A file refused for its
// place (ErrExists: a clash, NoOverwrite) fails alone; any other error fails
// the transaction.
func (r *localRepo) putBatch(tx *bolt.Tx, rb *bolt.Bucket, ws []fileWrite) ([]string, error) {
	var gone []string // content that may have lost its last reference
	rd := newTxReaders(tx, rb)
	for i := range ws {
		f := &ws[i]
		if f.state != pending {
			continue
		}
		g, err := r.putNode(tx, rb, rd, f)
		switch {
		case errors.Is(err, ErrExists):
			f.err = err
			if f.st.inline == nil {
				gone = append(gone, f.st.sha256)
			}
		case err != nil:
			return nil, err
		case g != "":
			gone = append(gone, g)
		}
	}
	// A later file of the batch may have taken what an earlier one let go.
	blobs := tx.Bucket(bucketBlobs)
	return slices.DeleteFunc(gone, func(sum string) bool { _, ok := getBlob(blobs, sum); return ok }), nil
}
