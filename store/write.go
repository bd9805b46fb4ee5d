package store

import (
	"context"
	"fmt"
	"io"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Write implements Nodes: stream, verify, fsync, make visible, then commit
// node, reference counts, change log and package registration in one
// transaction.
func (r *localRepo) Write(ctx context.Context, path string, content io.Reader, opt WriteOptions) (Node, error) {
	f, err := newFileWrite(path, opt)
	if err != nil {
		return Node{}, err
	}
	f.take(r.s.stage(ctx, content, opt))
	return r.commitOne(f)
}

// Link implements Bulk: path gets content this store already holds, found
// by its sha256, without the content being sent again. Content of a
// complete Upload becomes a blob here, by rename.
func (r *localRepo) Link(ctx context.Context, path, sha256hex string, opt WriteOptions) (Node, error) {
	f, err := newFileWrite(path, opt)
	if err != nil {
		return Node{}, err
	}
	st, handBack, err := r.s.linkable(ctx, strings.ToLower(sha256hex), opt.Size)
	if err != nil {
		return Node{}, err
	}
	// The commit re-checks, in its transaction, that linked content is still there.
	f.take(st, nil)
	n, err := r.commitOne(f)
	handBack(err == nil)
	return n, err
}

// linkable finds what a Link commits: content this store holds or, failing
// that, the content of a complete Upload, which stays held until handBack
// says whether the commit took it. size, when >= 0, must be the content's.
func (s *Local) linkable(ctx context.Context, sum string, size int64) (st staged, handBack func(committed bool), err error) {
	st, ok := s.stored(sum)
	if !ok {
		if u := s.openedUpload(sum, size); u != nil {
			return u.stageForLink(ctx, s, size)
		}
		return staged{}, nil, notStored(sum)
	}
	if err := st.checkLinkSize(size); err != nil {
		return staged{}, nil, err
	}
	return st, func(bool) {}, nil
}

func notStored(sum string) error {
	return fmt.Errorf("no content with sha256 %s is stored here: %w", sum, ErrNotFound)
}

// checkLinkSize refuses content to link that is not of the size expected.
func (st staged) checkLinkSize(size int64) error {
	if size >= 0 && size != st.size {
		return fmt.Errorf("%w: content %s has %d bytes, expected %d", ErrChecksum, st.sha256, st.size, size)
	}
	return nil
}

// check compares staged content with what the writer promised.
func (st staged) check(opt WriteOptions) error {
	if opt.Size >= 0 && opt.Size != st.size {
		return fmt.Errorf("%w: got %d bytes, expected %d", ErrChecksum, st.size, opt.Size)
	}
	if opt.SHA256 != "" && !strings.EqualFold(opt.SHA256, st.sha256) {
		return fmt.Errorf("%w: sha256 is %s, expected %s", ErrChecksum, st.sha256, strings.ToLower(opt.SHA256))
	}
	return nil
}

// commitOne commits one file. Unlike a batch's file, its refusal fails the
// transaction: nothing is committed, and an upload's content goes back to
// being the upload.
func (r *localRepo) commitOne(f fileWrite) (Node, error) {
	files := []fileWrite{f}
	r.commit(files, func(tx *bolt.Tx, rb *bolt.Bucket) ([]string, error) {
		gone, err := r.putNode(tx, rb, newTxReaders(tx, rb), &files[0])
		if gone == "" {
			return nil, err
		}
		return []string{gone}, err
	})
	return files[0].node, files[0].err
}

// putNode commits f's visible staged content at its path: node, reference
// counts, change log and package registration. It refuses (ErrExists)
// before changing anything, so that a batch can go on with its other files.
// gone is content whose last reference went, for the commit to remove.
// rd reads rb's nodes and the blobs (a transaction's files share them).
func (r *localRepo) putNode(tx *bolt.Tx, rb *bolt.Bucket, rd txReaders, f *fileWrite) (gone string, err error) {
	p, st, opt, t := f.path, f.st, f.opt, now()
	node := Node{Path: p, Size: st.size, SHA256: st.sha256, MD5: st.md5, CreatedBy: opt.By, CreatedAt: t,
		ModifiedBy: opt.By, ModifiedAt: t, Metadata: opt.Metadata}
	_, node.Name = parentAndName(p)
	old, exists, err := nodeAt(rd.nodes, p)
	if err != nil {
		return "", err
	}
	if err := checkNoFileFolderClash(rd.nodes, p, exists); err != nil {
		return "", err
	}
	kind := NodeCreated
	node.Created = !exists
	if exists {
		if opt.NoOverwrite {
			return "", fmt.Errorf("%s: %w", p, ErrExists)
		}
		kind = NodeUpdated
		node.CreatedBy, node.CreatedAt = old.CreatedBy, old.CreatedAt
	}
	if err := ref(tx, rd, st); err != nil {
		return "", err
	}
	if exists {
		if last, err := r.s.unref(tx, old.SHA256); err != nil {
			return "", err
		} else if last {
			gone = old.SHA256
		}
	}
	if err := rb.Bucket(bucketNodes).Put([]byte(p), encodeNode(&node)); err != nil {
		return "", err
	}
	if err := appendChange(rb, Change{Kind: kind, Time: t, Path: p, SHA256: st.sha256, Size: st.size, By: opt.By}); err != nil {
		return "", err
	}
	if err := r.registerPackage(rb, p, opt.By, t); err != nil {
		return "", err
	}
	f.node = node
	return gone, nil
}

// checkNoFileFolderClash refuses a file at p when an ancestor of p is a file,
// or when p is a folder (files exist below it).
func checkNoFileFolderClash(nodes bucketReader, p string, exists bool) error {
	for dir := p; ; {
		dir, _ = parentAndName(dir)
		if dir == "/" {
			break
		}
		if nodes.Get([]byte(dir)) != nil {
			return fmt.Errorf("%s: %s is a file, not a folder: %w", p, dir, ErrExists)
		}
	}
	if !exists {
		below := p + "/"
		if k, _ := nodes.c.Seek([]byte(below)); k != nil && strings.HasPrefix(string(k), below) {
			return fmt.Errorf("%s is a folder: %w", p, ErrExists)
		}
	}
	return nil
}

// Delete implements Nodes.
func (r *localRepo) Delete(_ context.Context, path, by string) error {
	p, err := NormalizeFilePath(path)
	if err != nil {
		return err
	}
	return r.commit(nil, func(tx *bolt.Tx, rb *bolt.Bucket) ([]string, error) {
		old, exists, err := getNode(rb, p)
		if err != nil {
			return nil, err
		}
		if !exists {
			return nil, nodeNotFound(p)
		}
		if err := rb.Bucket(bucketNodes).Delete([]byte(p)); err != nil {
			return nil, err
		}
		last, err := r.s.unref(tx, old.SHA256)
		if err != nil {
			return nil, err
		}
		t := now()
		if err := appendChange(rb, Change{Kind: NodeDeleted, Time: t, Path: p, SHA256: old.SHA256, Size: old.Size, By: by}); err != nil {
			return nil, err
		}
		if err := r.removePathFromVersion(rb, p, by, t); err != nil || !last {
			return nil, err
		}
		return []string{old.SHA256}, nil
	})
}

// SetMetadata implements Nodes: it replaces the node's metadata.
func (r *localRepo) SetMetadata(_ context.Context, path string, metadata map[string]string, by string) (Node, error) {
	p, err := NormalizeFilePath(path)
	if err != nil {
		return Node{}, err
	}
	if err := validateMetadata(metadata); err != nil {
		return Node{}, err
	}
	var n Node
	err = r.change(func(rb *bolt.Bucket) error {
		var ok bool
		if n, ok, err = getNode(rb, p); err != nil {
			return err
		} else if !ok {
			return nodeNotFound(p)
		}
		t := now()
		n.Metadata, n.ModifiedBy, n.ModifiedAt = metadata, by, t
		if err := rb.Bucket(bucketNodes).Put([]byte(p), encodeNode(&n)); err != nil {
			return err
		}
		return appendChange(rb, Change{Kind: NodeUpdated, Time: t, Path: p, SHA256: n.SHA256, Size: n.Size, By: by})
	})
	return n, err
}

// newFileWrite checks a file's path and metadata, before any byte is read.
func newFileWrite(path string, opt WriteOptions) (fileWrite, error) {
	p, err := NormalizeFilePath(path)
	if err == nil {
		err = validateMetadata(opt.Metadata)
	}
	return fileWrite{path: p, opt: opt, err: err}, err
}

// Metadata bounds: keys are header-safe, values and counts bounded.
const (
	maxMetadataEntries = 64
	maxMetadataValue   = 1024
)

func validateMetadata(m map[string]string) error {
	if len(m) > maxMetadataEntries {
		return fmt.Errorf("%w: %d metadata entries, at most %d", ErrInvalid, len(m), maxMetadataEntries)
	}
	for k, v := range m {
		if k == "" || len(k) > 128 || strings.ContainsFunc(k, func(c rune) bool {
			return !(c == '-' || c == '_' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
		}) {
			return fmt.Errorf("%w: metadata key %q must be 1-128 letters, digits, '-', '_' or '.'", ErrInvalid, k)
		}
		if len(v) > maxMetadataValue {
			return fmt.Errorf("%w: metadata value of %q is longer than %d bytes", ErrInvalid, k, maxMetadataValue)
		}
	}
	return nil
}
