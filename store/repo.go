package store

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// localRepo is one repository of the built-in store.
type localRepo struct {
	s      *Local
	info   Repo
	bucket []byte
}

var _ Repository = (*localRepo)(nil)

func (r *localRepo) Info() Repo { return r.info }

// tx runs fn on the repository's bucket, in a write or read transaction.
func (r *localRepo) tx(write bool, fn func(tx *bolt.Tx, rb *bolt.Bucket) error) error {
	run := r.s.db.View
	if write {
		run = r.s.db.Update
	}
	err := run(func(tx *bolt.Tx) error {
		rb := tx.Bucket(r.bucket)
		if rb == nil {
			return fmt.Errorf("repository %s/%s: %w", r.info.Project, r.info.Name, ErrNotFound)
		}
		return fn(tx, rb)
	})
	if write && err == nil {
		r.s.notifyChanged(r.info.Project, r.info.Name)
	}
	return err
}

func nodeNotFound(path string) error { return fmt.Errorf("%s: %w", path, ErrNotFound) }

func getNode(rb *bolt.Bucket, path string) (Node, bool, error) {
	raw := rb.Bucket(bucketNodes).Get([]byte(path))
	if raw == nil {
		return Node{}, false, nil
	}
	var n Node
	err := json.Unmarshal(raw, &n)
	return n, true, err
}

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
	return seq, putJSON(b, key, c)
}

// Stat implements Repository.
func (r *localRepo) Stat(_ context.Context, path string) (Node, error) {
	p, err := NormalizeFilePath(path)
	if err != nil {
		return Node{}, err
	}
	var n Node
	err = r.tx(false, func(_ *bolt.Tx, rb *bolt.Bucket) error {
		var ok bool
		n, ok, err = getNode(rb, p)
		if err == nil && !ok {
			err = nodeNotFound(p)
		}
		return err
	})
	return n, err
}

// StatMany implements Repository.
func (r *localRepo) StatMany(ctx context.Context, paths []string) ([]Node, []bool, error) {
	nodes, found, _, err := r.nodesOf(ctx, paths, false)
	return nodes, found, err
}

// nodesOf reads the nodes at paths in one transaction and, when asked, the
// inline contents of those that have one.
func (r *localRepo) nodesOf(ctx context.Context, paths []string, withInline bool) ([]Node, []bool, [][]byte, error) {
	nodes, found := make([]Node, len(paths)), make([]bool, len(paths))
	var contents [][]byte
	if withInline {
		contents = make([][]byte, len(paths))
	}
	err := r.tx(false, func(tx *bolt.Tx, rb *bolt.Bucket) error {
		inline := tx.Bucket(bucketInline)
		for i, path := range paths {
			if i%256 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			p, err := NormalizeFilePath(path)
			if err != nil {
				continue
			}
			n, ok, err := getNode(rb, p)
			if err != nil {
				return err
			}
			nodes[i], found[i] = n, ok
			if ok && withInline {
				if v := inline.Get([]byte(n.SHA256)); v != nil {
					contents[i] = bytes.Clone(v)
				}
			}
		}
		return nil
	})
	return nodes, found, contents, err
}

// Head implements Repository.
func (r *localRepo) Head(context.Context) (uint64, error) {
	var seq uint64
	err := r.tx(false, func(_ *bolt.Tx, rb *bolt.Bucket) error {
		seq = rb.Bucket(bucketChanges).Sequence()
		return nil
	})
	return seq, err
}

// ReadSmall implements Repository.
func (r *localRepo) ReadSmall(ctx context.Context, paths []string) ([]Node, [][]byte, error) {
	nodes, _, contents, err := r.nodesOf(ctx, paths, true)
	return nodes, contents, err
}

// Walk implements Repository. fn runs inside the read transaction: it must
// not write to this store.
func (r *localRepo) Walk(ctx context.Context, dir string, fn func(Node) error) error {
	d, err := NormalizePath(dir)
	if err != nil {
		return err
	}
	prefix := d
	if prefix != "/" {
		prefix += "/"
	}
	return r.tx(false, func(_ *bolt.Tx, rb *bolt.Bucket) error {
		nodes := rb.Bucket(bucketNodes)
		if v := nodes.Get([]byte(d)); v != nil { // dir is a file
			var n Node
			if err := json.Unmarshal(v, &n); err != nil {
				return err
			}
			return fn(n)
		}
		c := nodes.Cursor()
		for k, v := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, v = c.Next() {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var n Node
			if err := json.Unmarshal(v, &n); err != nil {
				return err
			}
			if err := fn(n); err != nil {
				return err
			}
		}
		return nil
	})
}

// List implements Repository. A non-recursive listing shows the direct
// children of the folder, folders (derived from deeper paths) first.
func (r *localRepo) List(_ context.Context, opt ListOptions) (Page[Node], error) {
	dir, err := NormalizePath(opt.Path)
	if err != nil {
		return Page[Node]{}, err
	}
	prefix := dir
	if prefix != "/" {
		prefix += "/"
	}
	var folders []Node
	var files [][]byte // raw, decoded only for the page asked
	seen := map[string]bool{}
	var page Page[Node]
	err = r.tx(false, func(_ *bolt.Tx, rb *bolt.Bucket) error {
		c := rb.Bucket(bucketNodes).Cursor()
		for k, v := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, v = c.Next() {
			rest := string(k[len(prefix):])
			if i := strings.IndexByte(rest, '/'); i >= 0 && !opt.Recursive {
				name := rest[:i]
				if !seen[name] {
					seen[name] = true
					folders = append(folders, Node{Path: prefix + name, Name: name, Folder: true})
				}
				continue
			}
			files = append(files, v) // valid until the transaction ends
		}
		all := make([]int, len(folders)+len(files))
		for i := range all {
			all[i] = i
		}
		idx := paginate(all, opt.Page)
		page = Page[Node]{PageNumber: idx.PageNumber, PageSize: idx.PageSize, TotalRecords: idx.TotalRecords, TotalPages: idx.TotalPages,
			Records: make([]Node, 0, len(idx.Records))}
		for _, i := range idx.Records {
			if i < len(folders) {
				page.Records = append(page.Records, folders[i])
				continue
			}
			var n Node
			if err := json.Unmarshal(files[i-len(folders)], &n); err != nil {
				return err
			}
			page.Records = append(page.Records, n)
		}
		return nil
	})
	if err != nil {
		return Page[Node]{}, err
	}
	return page, nil
}

// DefaultPageSize and MaxPageSize bound listings.
const (
	DefaultPageSize = 20
	MaxPageSize     = 1000
)

func paginate[T any](all []T, pr PageRequest) Page[T] {
	pr = pr.Normalize()
	total := int64(len(all))
	start := min(int64(pr.Number-1)*int64(pr.Size), total)
	end := min(start+int64(pr.Size), total)
	records := all[start:end]
	if records == nil {
		records = []T{}
	}
	return Page[T]{PageNumber: pr.Number, PageSize: pr.Size, TotalRecords: total,
		TotalPages: (total + int64(pr.Size) - 1) / int64(pr.Size), Records: records}
}

// blobReader is an open blob with its node.
type blobReader struct {
	f    *os.File
	node Node
	obs  Observer
}

func (b *blobReader) Node() Node { return b.node }

// File is the blob's file, for zero-copy sending; reads through it are
// reported with Served.
func (b *blobReader) File() *os.File { return b.f }

func (b *blobReader) Seek(off int64, whence int) (int64, error) { return b.f.Seek(off, whence) }
func (b *blobReader) Close() error                              { return b.f.Close() }

// Served implements Reader.
func (b *blobReader) Served(n int64) { b.obs.ReadBytes(n) }

func (b *blobReader) Read(p []byte) (int, error) {
	n, err := b.f.Read(p)
	b.obs.ReadBytes(int64(n))
	return n, err
}

// Open implements Repository. The file stays readable even if the node is
// deleted meanwhile: the open descriptor keeps the blob's data.
func (r *localRepo) Open(ctx context.Context, path string) (Reader, error) {
	// An overwrite or delete may commit and remove the blob between reading
	// the node and opening its file. Look again while the node keeps changing;
	// the same content missing twice is real damage.
	missing := ""
	for {
		n, inline, err := r.statWithInline(path)
		if err != nil {
			return nil, err
		}
		if inline != nil {
			return &memReader{Reader: bytes.NewReader(inline), node: n, obs: r.s.Observe}, nil
		}
		f, err := os.Open(r.s.blobPath(n.SHA256))
		if err == nil {
			return &blobReader{f: f, node: n, obs: r.s.Observe}, nil
		}
		if !errors.Is(err, os.ErrNotExist) || n.SHA256 == missing {
			return nil, fmt.Errorf("%s: content %s is missing: %w", n.Path, n.SHA256, err)
		}
		missing = n.SHA256
	}
}

// statWithInline reads a node and, when its content is inline, a copy of the
// content, in one transaction.
func (r *localRepo) statWithInline(path string) (Node, []byte, error) {
	p, err := NormalizeFilePath(path)
	if err != nil {
		return Node{}, nil, err
	}
	var n Node
	var inline []byte
	err = r.tx(false, func(tx *bolt.Tx, rb *bolt.Bucket) error {
		var ok bool
		if n, ok, err = getNode(rb, p); err != nil {
			return err
		} else if !ok {
			return nodeNotFound(p)
		}
		if v := tx.Bucket(bucketInline).Get([]byte(n.SHA256)); v != nil {
			inline = bytes.Clone(v)
		}
		return nil
	})
	return n, inline, err
}

// memReader reads inline content.
type memReader struct {
	*bytes.Reader
	node Node
	obs  Observer
}

func (m *memReader) Node() Node   { return m.node }
func (m *memReader) Close() error { return nil }
func (m *memReader) Served(int64) {} // every byte went through Read
func (m *memReader) Read(p []byte) (int, error) {
	n, err := m.Reader.Read(p)
	m.obs.ReadBytes(int64(n))
	return n, err
}

// Write implements Repository: stream, verify, fsync, make visible, then
// commit node, reference counts, change log and package registration in one
// transaction.
func (r *localRepo) Write(ctx context.Context, path string, content io.Reader, opt WriteOptions) (Node, error) {
	p, err := NormalizeFilePath(path)
	if err != nil {
		return Node{}, err
	}
	if err := validateMetadata(opt.Metadata); err != nil {
		return Node{}, err
	}
	st, err := r.s.stage(ctx, content, opt)
	if err != nil {
		r.s.Observe.WriteDone(writeResult(err), 0)
		return Node{}, err
	}
	n, err := r.commitWrite(p, st, opt)
	if err != nil {
		r.s.Observe.WriteDone(writeResult(err), 0)
		return Node{}, err
	}
	r.s.Observe.WriteDone("ok", st.size)
	return n, nil
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

func (r *localRepo) commitWrite(p string, st staged, opt WriteOptions) (Node, error) {
	s := r.s
	s.publish.Lock()
	defer s.publish.Unlock()
	if err := s.makeVisible(st); err != nil {
		if !st.upload {
			os.Remove(st.path)
		}
		return Node{}, err
	}
	var node Node
	var gone string
	err := r.tx(true, func(tx *bolt.Tx, rb *bolt.Bucket) (err error) {
		node, gone, err = r.putNode(tx, rb, p, st, opt)
		return err
	})
	if err != nil {
		// Nothing references the content if it was new: take it away again.
		if nothingRefers(s, st.sha256) {
			s.unstage(st)
		}
		return Node{}, diskError(err)
	}
	if gone != "" {
		s.removeBlobs([]string{gone})
	}
	return node, nil
}

// putNode commits visible staged content at p: node, reference counts,
// change log and package registration. It refuses (ErrExists) before changing
// anything, so that a batch can go on with its other files. gone is content
// whose last reference went, for the caller to remove after the commit.
func (r *localRepo) putNode(tx *bolt.Tx, rb *bolt.Bucket, p string, st staged, opt WriteOptions) (node Node, gone string, err error) {
	t := now()
	node = Node{Path: p, Size: st.size, SHA256: st.sha256, MD5: st.md5, CreatedBy: opt.By, CreatedAt: t,
		ModifiedBy: opt.By, ModifiedAt: t, Metadata: opt.Metadata}
	_, node.Name = parentAndName(p)
	old, exists, err := getNode(rb, p)
	if err != nil {
		return Node{}, "", err
	}
	if err := checkNoFileFolderClash(rb.Bucket(bucketNodes), p, exists); err != nil {
		return Node{}, "", err
	}
	kind := NodeCreated
	node.Created = !exists
	if exists {
		if opt.NoOverwrite {
			return Node{}, "", fmt.Errorf("%s: %w", p, ErrExists)
		}
		kind = NodeUpdated
		node.CreatedBy, node.CreatedAt = old.CreatedBy, old.CreatedAt
	}
	if err := ref(tx, st); err != nil {
		return Node{}, "", err
	}
	if exists {
		if last, err := unref(tx, old.SHA256); err != nil {
			return Node{}, "", err
		} else if last {
			gone = old.SHA256
		}
	}
	if err := putJSON(rb.Bucket(bucketNodes), []byte(p), node); err != nil {
		return Node{}, "", err
	}
	if err := appendChange(rb, Change{Kind: kind, Time: t, Path: p, SHA256: st.sha256, Size: st.size, By: opt.By}); err != nil {
		return Node{}, "", err
	}
	if key, version, ok := PackageForPath(r.info.Type, p); ok {
		// A version made by hand that owns this path keeps it.
		if owner := rb.Bucket(bucketPathVer).Get([]byte(p)); owner == nil || string(owner) == string(versionKey(key, version)) {
			err = r.addPathToVersion(rb, key, version, p, opt.By, t)
		}
	}
	return node, gone, err
}

// checkNoFileFolderClash refuses a file at p when an ancestor of p is a file,
// or when p is a folder (files exist below it).
func checkNoFileFolderClash(nodes *bolt.Bucket, p string, exists bool) error {
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
		if k, _ := nodes.Cursor().Seek([]byte(below)); k != nil && strings.HasPrefix(string(k), below) {
			return fmt.Errorf("%s is a folder: %w", p, ErrExists)
		}
	}
	return nil
}

func nothingRefers(s *Local, sum string) bool {
	referred := false
	_ = s.db.View(func(tx *bolt.Tx) error {
		_, referred = getBlob(tx.Bucket(bucketBlobs), sum)
		return nil
	})
	return !referred
}

// Link implements Repository: path gets content this store already holds,
// found by its sha256, without the content being sent again. Content of a
// complete Upload becomes a blob here, by rename.
func (r *localRepo) Link(ctx context.Context, path, sha256hex string, opt WriteOptions) (Node, error) {
	p, err := NormalizeFilePath(path)
	if err != nil {
		return Node{}, err
	}
	if err := validateMetadata(opt.Metadata); err != nil {
		return Node{}, err
	}
	sum := strings.ToLower(sha256hex)
	st, ok := r.s.stored(sum)
	var u *Upload
	if !ok {
		if u = r.s.openedUpload(sum, opt.Size); u != nil {
			if err := u.acquire(ctx); err != nil {
				return Node{}, err
			}
			defer u.release()
			// A Link that held the upload before us may have made it a blob.
			if st, ok = r.s.stored(sum); !ok && u.Complete() && !u.consumed {
				if st, err = u.staged(); err != nil {
					return Node{}, err
				}
				ok = true
			}
		}
	}
	if !ok {
		return Node{}, fmt.Errorf("no content with sha256 %s is stored here: %w", sum, ErrNotFound)
	}
	if opt.Size >= 0 && opt.Size != st.size {
		return Node{}, fmt.Errorf("%w: content %s has %d bytes, expected %d", ErrChecksum, sum, st.size, opt.Size)
	}
	// commitWrite re-checks, in its transaction, that linked content is still there.
	n, err := r.commitWrite(p, st, opt)
	if !st.upload {
		r.s.Observe.WriteDone(linkResult(err), 0)
		return n, err
	}
	if err == nil && st.inline != nil {
		os.Remove(st.path)
	}
	if _, serr := os.Stat(st.path); errors.Is(serr, os.ErrNotExist) {
		r.s.forgetUpload(u)
	}
	if err != nil {
		r.s.Observe.WriteDone(writeResult(err), 0)
		return Node{}, err
	}
	r.s.Observe.WriteDone("ok", st.size) // the bytes came in through Append
	return n, nil
}

func linkResult(err error) string {
	if err == nil {
		return "linked"
	}
	return writeResult(err)
}

// Delete implements Repository.
func (r *localRepo) Delete(_ context.Context, path, by string) error {
	p, err := NormalizeFilePath(path)
	if err != nil {
		return err
	}
	r.s.publish.Lock()
	defer r.s.publish.Unlock()
	var gone []string
	err = r.tx(true, func(tx *bolt.Tx, rb *bolt.Bucket) error {
		old, exists, err := getNode(rb, p)
		if err != nil {
			return err
		}
		if !exists {
			return nodeNotFound(p)
		}
		if err := rb.Bucket(bucketNodes).Delete([]byte(p)); err != nil {
			return err
		}
		if last, err := unref(tx, old.SHA256); err != nil {
			return err
		} else if last {
			gone = append(gone, old.SHA256)
		}
		t := now()
		if err := appendChange(rb, Change{Kind: NodeDeleted, Time: t, Path: p, SHA256: old.SHA256, Size: old.Size, By: by}); err != nil {
			return err
		}
		return r.removePathFromVersion(rb, p, by, t)
	})
	if err == nil {
		r.s.removeBlobs(gone)
	}
	return err
}

// SetMetadata implements Repository: it replaces the node's metadata.
func (r *localRepo) SetMetadata(_ context.Context, path string, metadata map[string]string, by string) (Node, error) {
	p, err := NormalizeFilePath(path)
	if err != nil {
		return Node{}, err
	}
	if err := validateMetadata(metadata); err != nil {
		return Node{}, err
	}
	var n Node
	err = r.tx(true, func(_ *bolt.Tx, rb *bolt.Bucket) error {
		var ok bool
		if n, ok, err = getNode(rb, p); err != nil {
			return err
		} else if !ok {
			return nodeNotFound(p)
		}
		t := now()
		n.Metadata, n.ModifiedBy, n.ModifiedAt = metadata, by, t
		if err := putJSON(rb.Bucket(bucketNodes), []byte(p), n); err != nil {
			return err
		}
		return appendChange(rb, Change{Kind: NodeUpdated, Time: t, Path: p, SHA256: n.SHA256, Size: n.Size, By: by})
	})
	return n, err
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

// ---- packages ----

func versionKey(key, version string) []byte { return []byte(key + "\x00" + version) }

func getVersion(rb *bolt.Bucket, key, version string) (PackageVersion, bool, error) {
	raw := rb.Bucket(bucketVersions).Get(versionKey(key, version))
	if raw == nil {
		return PackageVersion{}, false, nil
	}
	var v PackageVersion
	err := json.Unmarshal(raw, &v)
	return v, true, err
}

// putVersion stores v, keeps the path index in step, and logs the change.
func putVersion(rb *bolt.Bucket, v PackageVersion, old *PackageVersion, by string) error {
	kind := VersionCreated
	if old != nil {
		kind = VersionUpdated
		for _, p := range old.Paths {
			if err := rb.Bucket(bucketPathVer).Delete([]byte(p)); err != nil {
				return err
			}
		}
	}
	for _, p := range v.Paths {
		if err := rb.Bucket(bucketPathVer).Put([]byte(p), versionKey(v.PackageKey, v.Version)); err != nil {
			return err
		}
	}
	seq, err := appendChangeSeq(rb, Change{Kind: kind, Time: v.ModifiedAt, PackageKey: v.PackageKey, Version: v.Version, By: by})
	if err != nil {
		return err
	}
	if old == nil {
		v.CreatedSeq = seq
	} else {
		v.CreatedSeq = old.CreatedSeq
	}
	return putJSON(rb.Bucket(bucketVersions), versionKey(v.PackageKey, v.Version), v)
}

func (r *localRepo) addPathToVersion(rb *bolt.Bucket, key, version, path, by string, t time.Time) error {
	v, exists, err := getVersion(rb, key, version)
	if err != nil {
		return err
	}
	var old *PackageVersion
	if exists {
		if slices.Contains(v.Paths, path) {
			return nil
		}
		prev := v
		prev.Paths = slices.Clone(v.Paths)
		old = &prev
	} else {
		v = PackageVersion{PackageKey: key, Version: version, CreatedBy: by, CreatedAt: t}
	}
	v.Paths = append(v.Paths, path)
	slices.Sort(v.Paths)
	v.ModifiedBy, v.ModifiedAt = by, t
	return putVersion(rb, v, old, by)
}

// removePathFromVersion drops a deleted file from its version; a version left
// without files is deleted.
func (r *localRepo) removePathFromVersion(rb *bolt.Bucket, path, by string, t time.Time) error {
	ref := rb.Bucket(bucketPathVer).Get([]byte(path))
	if ref == nil {
		return nil
	}
	key, version, _ := strings.Cut(string(ref), "\x00")
	v, exists, err := getVersion(rb, key, version)
	if err != nil || !exists {
		return err
	}
	if len(v.Paths) == 1 {
		return deleteVersion(rb, v, by, t)
	}
	old := v
	old.Paths = slices.Clone(v.Paths)
	v.Paths = slices.DeleteFunc(v.Paths, func(p string) bool { return p == path })
	v.ModifiedBy, v.ModifiedAt = by, t
	return putVersion(rb, v, &old, by)
}

func deleteVersion(rb *bolt.Bucket, v PackageVersion, by string, t time.Time) error {
	for _, p := range v.Paths {
		if err := rb.Bucket(bucketPathVer).Delete([]byte(p)); err != nil {
			return err
		}
	}
	if err := rb.Bucket(bucketVersions).Delete(versionKey(v.PackageKey, v.Version)); err != nil {
		return err
	}
	return appendChange(rb, Change{Kind: VersionDeleted, Time: t, PackageKey: v.PackageKey, Version: v.Version, By: by})
}

// PutVersion implements Repository: it creates or replaces a version. Every
// path must be a file in this repository.
func (r *localRepo) PutVersion(_ context.Context, v PackageVersion) (PackageVersion, error) {
	if err := validatePackageKey(v.PackageKey); err != nil {
		return PackageVersion{}, err
	}
	if v.Version == "" || len(v.Version) > 128 || strings.ContainsAny(v.Version, "\x00/\\") {
		return PackageVersion{}, fmt.Errorf("%w: version %q must be 1-128 characters without '/', '\\' or NUL", ErrInvalid, v.Version)
	}
	if len(v.Paths) == 0 {
		return PackageVersion{}, fmt.Errorf("%w: a version needs at least one path", ErrInvalid)
	}
	if err := validateMetadata(v.Metadata); err != nil {
		return PackageVersion{}, err
	}
	paths := make([]string, 0, len(v.Paths))
	for _, p := range v.Paths {
		np, err := NormalizeFilePath(p)
		if err != nil {
			return PackageVersion{}, err
		}
		paths = append(paths, np)
	}
	slices.Sort(paths)
	v.Paths = slices.Compact(paths)
	err := r.tx(true, func(_ *bolt.Tx, rb *bolt.Bucket) error {
		for _, p := range v.Paths {
			if rb.Bucket(bucketNodes).Get([]byte(p)) == nil {
				return fmt.Errorf("%w: path %s of version %s is not a file in %s/%s", ErrInvalid, p, v.Version, r.info.Project, r.info.Name)
			}
			if owner := rb.Bucket(bucketPathVer).Get([]byte(p)); owner != nil && string(owner) != string(versionKey(v.PackageKey, v.Version)) {
				return fmt.Errorf("%w: path %s already belongs to %s", ErrExists, p, strings.Replace(string(owner), "\x00", " ", 1))
			}
		}
		old, exists, err := getVersion(rb, v.PackageKey, v.Version)
		if err != nil {
			return err
		}
		t := now()
		v.ModifiedAt = t
		if exists {
			v.CreatedBy, v.CreatedAt = old.CreatedBy, old.CreatedAt
			return putVersion(rb, v, &old, v.ModifiedBy)
		}
		v.CreatedAt = t
		if v.CreatedBy == "" {
			v.CreatedBy = v.ModifiedBy
		}
		return putVersion(rb, v, nil, v.ModifiedBy)
	})
	return v, err
}

func validatePackageKey(key string) error {
	scheme, rest, ok := strings.Cut(key, "://")
	if !ok || scheme == "" || rest == "" || len(key) > 512 || strings.ContainsAny(key, "\x00\\") || strings.ToLower(scheme) != scheme {
		return fmt.Errorf("%w: packageKey %q must look like gav://group:artifact or npm://name", ErrInvalid, key)
	}
	return nil
}

// Version implements Repository.
func (r *localRepo) Version(_ context.Context, key, version string) (PackageVersion, error) {
	var v PackageVersion
	err := r.tx(false, func(_ *bolt.Tx, rb *bolt.Bucket) error {
		var ok bool
		var err error
		if v, ok, err = getVersion(rb, key, version); err == nil && !ok {
			err = fmt.Errorf("%s %s: %w", key, version, ErrNotFound)
		}
		return err
	})
	return v, err
}

// Versions implements Repository: newest first.
func (r *localRepo) Versions(_ context.Context, key string, page PageRequest) (Page[PackageVersion], error) {
	var all []PackageVersion
	err := r.tx(false, func(_ *bolt.Tx, rb *bolt.Bucket) error {
		c := rb.Bucket(bucketVersions).Cursor()
		prefix := key + "\x00"
		for k, raw := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, raw = c.Next() {
			var v PackageVersion
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			all = append(all, v)
		}
		if len(all) == 0 {
			return fmt.Errorf("package %s: %w", key, ErrNotFound)
		}
		return nil
	})
	// Newest first, by creation order: timestamps of quick successive writes tie.
	slices.SortFunc(all, func(a, b PackageVersion) int { return cmp.Compare(b.CreatedSeq, a.CreatedSeq) })
	return paginate(all, page), err
}

// Packages implements Repository: packages whose key starts with prefix.
func (r *localRepo) Packages(_ context.Context, prefix string, page PageRequest) (Page[Package], error) {
	byKey := map[string]*Package{}
	newest := map[string]uint64{} // creation sequence of each package's latest version
	var order []string
	err := r.tx(false, func(_ *bolt.Tx, rb *bolt.Bucket) error {
		c := rb.Bucket(bucketVersions).Cursor()
		for k, raw := c.Seek([]byte(prefix)); k != nil && strings.HasPrefix(string(k), prefix); k, raw = c.Next() {
			key, _, _ := strings.Cut(string(k), "\x00")
			var v PackageVersion
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			p, ok := byKey[key]
			if !ok {
				p = &Package{Key: key, Name: packageName(key)}
				byKey[key] = p
				order = append(order, key)
			}
			p.Versions++
			if p.LatestVersion == "" || v.CreatedSeq > newest[key] {
				p.LatestVersion, newest[key] = v.Version, v.CreatedSeq
			}
			if v.ModifiedAt.After(p.ModifiedAt) {
				p.ModifiedAt = v.ModifiedAt
			}
		}
		return nil
	})
	all := make([]Package, 0, len(order))
	for _, k := range order {
		all = append(all, *byKey[k])
	}
	return paginate(all, page), err
}

// packageName is the last part of a key: gav://g:a -> a, npm://@s/n -> @s/n.
func packageName(key string) string {
	_, rest, _ := strings.Cut(key, "://")
	if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		return rest[i+1:]
	}
	return rest
}

// DeleteVersion implements Repository. It deletes the version record; the
// files stay (delete them by path).
func (r *localRepo) DeleteVersion(_ context.Context, key, version, by string) error {
	return r.tx(true, func(_ *bolt.Tx, rb *bolt.Bucket) error {
		v, ok, err := getVersion(rb, key, version)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%s %s: %w", key, version, ErrNotFound)
		}
		return deleteVersion(rb, v, by, now())
	})
}

// Changes implements Repository.
func (r *localRepo) Changes(_ context.Context, from uint64, limit int) ([]Change, error) {
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	out := []Change{}
	err := r.tx(false, func(_ *bolt.Tx, rb *bolt.Bucket) error {
		key := make([]byte, 8)
		binary.BigEndian.PutUint64(key, from)
		c := rb.Bucket(bucketChanges).Cursor()
		for k, raw := c.Seek(key); k != nil && len(out) < limit; k, raw = c.Next() {
			var ch Change
			if err := json.Unmarshal(raw, &ch); err != nil {
				return err
			}
			out = append(out, ch)
		}
		return nil
	})
	return out, err
}
