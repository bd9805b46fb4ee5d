package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
)

// staged is verified content: small content in memory (inline), larger
// content written to tmp/ or a complete upload (path), fsynced and closed, or
// content the store already holds (linked).
type staged struct {
	path   string
	inline []byte
	pack   *packLoc // where a batch packed inline, fsynced but not yet committed
	linked bool
	upload bool // path is an Upload's file: a failed commit gives it back
	sha256 string
	md5    string
	size   int64
}

// InlineMax is the largest content kept in the metadata database instead of
// a file of its own: a small write then costs one transaction (one fsync of
// the database) rather than a file, its fsync and its directory's.
const InlineMax = 64 << 10

var inlineBuffers = sync.Pool{New: func() any { b := make([]byte, InlineMax+1); return &b }}

// stage verifies content and readies it for commit: small content stays in
// memory, larger content streams to a temporary file (see stageFile).
func (s *Local) stage(ctx context.Context, content io.Reader, opt WriteOptions) (staged, error) {
	bufp := inlineBuffers.Get().(*[]byte)
	defer inlineBuffers.Put(bufp)
	n, err := io.ReadFull(ctxReader{ctx, content}, *bufp)
	switch {
	case err == nil: // more than InlineMax: the prefix and the rest go to a file
		return s.stageFile(ctx, io.MultiReader(bytes.NewReader((*bufp)[:n]), content), opt)
	case !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF):
		return staged{}, err
	}
	return stageSmall(bytes.Clone((*bufp)[:n]), opt)
}

// stageSmall stages content of at most InlineMax bytes held in memory; the
// staged content is data itself, which must not change until the commit
// has ended.
func stageSmall(data []byte, opt WriteOptions) (staged, error) {
	if data == nil {
		data = []byte{} // inline content is never nil
	}
	sh := sha256.Sum256(data)
	st := staged{inline: data, sha256: hex.EncodeToString(sh[:]), md5: opt.KnownMD5, size: int64(len(data))}
	if !validMD5(st.md5) || opt.SHA256 == "" { // a stated md5 needs a sha256 that proves the content
		mh := md5.Sum(data)
		st.md5 = hex.EncodeToString(mh[:])
	}
	return st, st.check(opt)
}

// stageFile streams content into a temporary file while hashing it, checks
// it against what the caller expects, and fsyncs it. On any failure the
// temporary file is gone.
func (s *Local) stageFile(ctx context.Context, content io.Reader, opt WriteOptions) (st staged, err error) {
	f, err := os.CreateTemp(filepath.Join(s.dir, "tmp"), "upload-*")
	if err != nil {
		return staged{}, diskError(err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	sh := newParallelHash(sha256.New())
	defer sh.stop()
	var md5w io.Writer = io.Discard
	var mh *parallelHash
	if !validMD5(opt.KnownMD5) || opt.SHA256 == "" {
		mh = newParallelHash(md5.New())
		defer mh.stop()
		md5w = mh
	}
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	size := int64(-1)
	if opt.Size > 0 {
		size = opt.Size
	}
	cw := newContentWriter(f, 0, size)
	n, err := io.CopyBuffer(io.MultiWriter(cw, sh, md5w), ctxReader{ctx, content}, *buf)
	if ferr := cw.finish(); err == nil {
		err = ferr
	}
	if err != nil {
		return staged{}, diskError(err)
	}
	st = staged{path: f.Name(), sha256: hex.EncodeToString(sh.sum()), size: n}
	if mh != nil {
		st.md5 = hex.EncodeToString(mh.sum())
	} else {
		st.md5 = opt.KnownMD5
	}
	if err := st.check(opt); err != nil {
		return staged{}, err
	}
	if err := f.Sync(); err != nil {
		return staged{}, diskError(err)
	}
	if err := f.Close(); err != nil {
		return staged{}, diskError(err)
	}
	return st, nil
}

// makeVisible moves staged content to its blob path, unless that content is
// already stored. Callers hold s.publish.
func (s *Local) makeVisible(st staged) error {
	if st.inline != nil || st.linked {
		return nil // in the database with its node, or already stored
	}
	dst := s.blobPath(st.sha256)
	if _, err := os.Stat(dst); err == nil {
		return os.Remove(st.path)
	}
	if err := s.makeBlobDir(filepath.Dir(dst)); err != nil {
		return diskError(err)
	}
	if err := os.Rename(st.path, dst); err != nil {
		return diskError(err)
	}
	if st.upload {
		// Without this a crash could bring the .part back beside the blob.
		if err := syncDir(filepath.Dir(st.path)); err != nil {
			return err
		}
	}
	return syncDir(filepath.Dir(dst))
}

// unstage takes away visible content that no commit took; an upload's
// content goes back to being that upload, for another Link. Callers hold
// s.publish.
func (s *Local) unstage(st staged) {
	if st.upload && os.Rename(s.blobPath(st.sha256), st.path) == nil {
		return
	}
	s.removeBlobs([]string{st.sha256})
}

// validMD5 reports whether s is an md5 in lowercase hex, as the store keeps them.
func validMD5(s string) bool { return lowerHex(s, 32) }
