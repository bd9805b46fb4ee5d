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
	raw := rb.Bucket(bucketNodes).Get([]byte(path))
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
	}
	err := r.view(func(tx *bolt.Tx, rb *bolt.Bucket) error {
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
				if contents[i], err = r.s.smallContent(tx, n.SHA256); err != nil {
					return err
				}
			}
		}
		return nil
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
	d, err := NormalizePath(dir)
	if err != nil {
		return err
	}
	prefix := d
	if prefix != "/" {
		prefix += "/"
	}
	return r.view(func(_ *bolt.Tx, rb *bolt.Bucket) error {
		nodes := rb.Bucket(bucketNodes)
		if v := nodes.Get([]byte(d)); v != nil { // dir is a file
			var n Node
			if err := decodeNode(v, &n); err != nil {
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
	var folders []Node
	var files [][]byte // raw, decoded only for the page asked
	seen := map[string]bool{}
	var page Page[Node]
	err = r.view(func(_ *bolt.Tx, rb *bolt.Bucket) error {
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
		idx := Paginate(all, opt.Page)
		page = Page[Node]{PageNumber: idx.PageNumber, PageSize: idx.PageSize, TotalRecords: idx.TotalRecords, TotalPages: idx.TotalPages,
			Records: make([]Node, 0, len(idx.Records))}
		for _, i := range idx.Records {
			if i < len(folders) {
				page.Records = append(page.Records, folders[i])
				continue
			}
			var n Node
			if err := decodeNode(files[i-len(folders)], &n); err != nil {
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
