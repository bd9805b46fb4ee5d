package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	bolt "go.etcd.io/bbolt"
)

func nodeNotFound(path string) error { return fmt.Errorf("%s: %w", path, ErrNotFound) }

func getNode(rb *bolt.Bucket, path string) (Node, bool, error) {
	return nodeAt(rb.Bucket(bucketNodes), path)
}

// nodeAt is getNode in the repository's nodes bucket.
func nodeAt(nodes keyGetter, path string) (Node, bool, error) {
	raw := nodes.Get([]byte(path))
	if raw == nil {
		return Node{}, false, nil
	}
	var n Node
	err := decodeNode(raw, &n)
	return n, true, err
}

// Stat implements Nodes.
func (r *localRepo) Stat(_ context.Context, path string) (Node, error) {
	p, err := NormalizeFilePath(path)
	if err != nil {
		return Node{}, err
	}
	var n Node
	err = r.view(func(_ *bolt.Tx, rb *bolt.Bucket) error {
		var ok bool
		n, ok, err = getNode(rb, p)
		if err == nil && !ok {
			err = nodeNotFound(p)
		}
		return err
	})
	return n, err
}

// StatMany implements Bulk.
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
		// Locations and the bytes they name are read under the gate, so no
		// compaction removes a segment between the two (compact.go).
		r.s.segs.gate.RLock()
		defer r.s.segs.gate.RUnlock()
	}
	err := r.view(func(tx *bolt.Tx, rb *bolt.Bucket) error {
		var packed segmentReads
		nodeKeys, blobs := newBucketReader(rb.Bucket(bucketNodes)), newBucketReader(tx.Bucket(bucketBlobs))
		for i, path := range paths {
			if i%256 == 0 && ctx.Err() != nil {
				return ctx.Err()
			}
			p, err := NormalizeFilePath(path)
			if err != nil {
				continue
			}
			n, ok, err := nodeAt(nodeKeys, p)
			if err != nil {
				return err
			}
			nodes[i], found[i] = n, ok
			if !ok || !withInline {
				continue
			}
			if e, ok := getBlob(blobs, n.SHA256); ok && e.packed {
				packed.add(i, e.pack) // read below, neighbours together
			} else if contents[i], err = r.s.unpackedContent(tx, n.SHA256); err != nil {
				return err
			}
		}
		return packed.read(r.s.segs, contents)
	})
	return nodes, found, contents, err
}

// ReadSmall implements Bulk.
func (r *localRepo) ReadSmall(ctx context.Context, paths []string) ([]Node, [][]byte, error) {
	nodes, _, contents, err := r.nodesOf(ctx, paths, true)
	return nodes, contents, err
}

// Walk implements Nodes. fn runs inside the read transaction: it must
// not write to this store.
func (r *localRepo) Walk(ctx context.Context, dir string, fn func(Node) error) error {
	return r.WalkAfter(ctx, dir, "", fn)
}

// WalkAfter implements Nodes.
func (r *localRepo) WalkAfter(ctx context.Context, dir, after string, fn func(Node) error) error {
	d, err := NormalizePath(dir)
	if err != nil {
		return err
	}
	prefix := d
	if prefix != "/" {
		prefix += "/"
	}
	from := prefix
	if after >= from {
		from = after + "\x00" // the first key after it
	}
	return r.view(func(_ *bolt.Tx, rb *bolt.Bucket) error {
		nodes := rb.Bucket(bucketNodes)
		if v := nodes.Get([]byte(d)); v != nil { // dir is a file
			if after >= d {
				return nil
			}
			var n Node
			if err := decodeNode(v, &n); err != nil {
				return err
			}
			return fn(n)
		}
		c := nodes.Cursor()
		for k, v := c.Seek([]byte(from)); k != nil && strings.HasPrefix(string(k), prefix); k, v = c.Next() {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			var n Node
			if err := decodeNode(v, &n); err != nil {
				return err
			}
			if err := fn(n); err != nil {
				return err
			}
		}
		return nil
	})
}

// List implements Nodes. A non-recursive listing shows the direct
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
	pr := opt.Page.Normalize()
	page := Page[Node]{PageNumber: pr.Number, PageSize: pr.Size, Records: []Node{}}
	err = r.view(func(_ *bolt.Tx, rb *bolt.Bucket) error {
		l := folderLister{nodes: rb.Bucket(bucketNodes), prefix: []byte(prefix), recursive: opt.Recursive}
		folders, files := l.count()
		total := int64(len(folders)) + files
		from := min(pr.Offset(), total)
		to := min(from+int64(pr.Size), total)
		page.TotalRecords, page.TotalPages = total, (total+int64(pr.Size)-1)/int64(pr.Size)
		for i := from; i < min(to, int64(len(folders))); i++ {
			name := folders[i]
			page.Records = append(page.Records, Node{Path: prefix + name, Name: name, Folder: true})
		}
		skip := max(from-int64(len(folders)), 0)
		return l.files(skip, to-from-int64(len(page.Records)), func(v []byte) error {
			var n Node
			if err := decodeNode(v, &n); err != nil {
				return err
			}
			page.Records = append(page.Records, n)
			return nil
		})
	})
	if err != nil {
		return Page[Node]{}, err
	}
	return page, nil
}

// folderLister walks the nodes under a prefix without copying keys: a page
// of a folder of 100,000 files costs two passes over its keys, and a
// subfolder one seek past its contents (a non-recursive listing of a
// million files in ten folders visits ten keys of them).
type folderLister struct {
	nodes     *bolt.Bucket
	prefix    []byte
	recursive bool
}

// each calls file for every file directly under the prefix (or below it,
// recursive), in key order, and folder for each subfolder's name; it
// stops early when file says so.
func (l folderLister) each(folder func(name string), file func(v []byte) (more bool)) {
	c := l.nodes.Cursor()
	for k, v := c.Seek(l.prefix); k != nil && bytes.HasPrefix(k, l.prefix); {
		rest := k[len(l.prefix):]
		if i := bytes.IndexByte(rest, '/'); i >= 0 && !l.recursive {
			if folder != nil {
				folder(string(rest[:i]))
			}
			// Everything under prefix+name+"/" sorts before prefix+name+"0"
			// ('0' follows '/'), and nothing else between them.
			k, v = c.Seek(append(append(append([]byte{}, l.prefix...), rest[:i]...), '0'))
			continue
		}
		if !file(v) {
			return
		}
		k, v = c.Next()
	}
}

// count returns the subfolders' names and how many files there are.
func (l folderLister) count() (folders []string, files int64) {
	l.each(func(name string) { folders = append(folders, name) }, func([]byte) bool { files++; return true })
	return folders, files
}

// files calls fn for n files after the first skip; v is valid until the
// transaction ends.
func (l folderLister) files(skip, n int64, fn func(v []byte) error) error {
	if n <= 0 {
		return nil
	}
	var err error
	l.each(nil, func(v []byte) bool {
		if skip > 0 {
			skip--
			return true
		}
		err = fn(v)
		n--
		return err == nil && n > 0
	})
	return err
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

// Open implements Nodes. The file stays readable even if the node is
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
			return &memReader{Reader: bytes.NewReader(inline), node: n, obs: r.s.observer}, nil
		}
		f, err := os.Open(r.s.blobPath(n.SHA256))
		if err == nil {
			return &blobReader{f: f, node: n, obs: r.s.observer}, nil
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
	r.s.segs.gate.RLock() // as nodesOf: no segment goes between location and read
	defer r.s.segs.gate.RUnlock()
	err = r.view(func(tx *bolt.Tx, rb *bolt.Bucket) error {
		var ok bool
		if n, ok, err = getNode(rb, p); err != nil {
			return err
		} else if !ok {
			return nodeNotFound(p)
		}
		inline, err = r.s.smallContent(tx, n.SHA256)
		return err
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
