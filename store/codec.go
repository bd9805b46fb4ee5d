package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// The hot records, nodes and change-log entries, are kept in a compact
// binary encoding: a version byte (recordV1), then the fields in a fixed
// order, strings and maps as uvarint lengths and bytes, numbers as varints,
// times as Unix nanoseconds (UTC). Records written before it are JSON,
// which always starts with '{': decodeNode and decodeChange read both, so
// an existing database needs no migration. BenchmarkCodec measures it
// against JSON.

const recordV1 = 0x01

var errBadRecord = errors.New("store: malformed record")

// Node flags.
const (
	flagFolder = 1 << iota
	flagCreatedAt
	flagModifiedAt
)

func encodeNode(n *Node) []byte {
	size := 2 + 3*binary.MaxVarintLen64 + len(n.Path) + len(n.Name) + len(n.SHA256) + len(n.MD5) + len(n.CreatedBy) + len(n.ModifiedBy) + 8*binary.MaxVarintLen64
	for k, v := range n.Metadata {
		size += len(k) + len(v) + 2*binary.MaxVarintLen64
	}
	b := make([]byte, 0, size)
	var flags byte
	if n.Folder {
		flags |= flagFolder
	}
	if !n.CreatedAt.IsZero() {
		flags |= flagCreatedAt
	}
	if !n.ModifiedAt.IsZero() {
		flags |= flagModifiedAt
	}
	b = append(b, recordV1, flags)
	b = appendString(b, n.Path)
	b = appendString(b, n.Name)
	b = binary.AppendVarint(b, n.Size)
	b = appendString(b, n.SHA256)
	b = appendString(b, n.MD5)
	b = appendString(b, n.CreatedBy)
	if flags&flagCreatedAt != 0 {
		b = binary.AppendVarint(b, n.CreatedAt.UnixNano())
	}
	b = appendString(b, n.ModifiedBy)
	if flags&flagModifiedAt != 0 {
		b = binary.AppendVarint(b, n.ModifiedAt.UnixNano())
	}
	return appendMap(b, n.Metadata)
}

func decodeNode(raw []byte, n *Node) error {
	if len(raw) == 0 || raw[0] != recordV1 {
		return json.Unmarshal(raw, n)
	}
	d := decoder{b: raw[1:]}
	flags := d.byte()
	*n = Node{Folder: flags&flagFolder != 0}
	n.Path = d.string()
	n.Name = d.string()
	n.Size = d.varint()
	n.SHA256 = d.string()
	n.MD5 = d.string()
	n.CreatedBy = d.string()
	if flags&flagCreatedAt != 0 {
		n.CreatedAt = d.time()
	}
	n.ModifiedBy = d.string()
	if flags&flagModifiedAt != 0 {
		n.ModifiedAt = d.time()
	}
	n.Metadata = d.stringMap()
	return d.end()
}

func encodeChange(c *Change) []byte {
	b := make([]byte, 0, 1+5*binary.MaxVarintLen64+len(c.Kind)+len(c.Path)+len(c.SHA256)+len(c.PackageKey)+len(c.Version)+len(c.By))
	b = append(b, recordV1)
	b = binary.AppendUvarint(b, c.Seq)
	b = appendString(b, string(c.Kind))
	b = binary.AppendVarint(b, c.Time.UnixNano())
	b = appendString(b, c.Path)
	b = appendString(b, c.SHA256)
	b = binary.AppendVarint(b, c.Size)
	b = appendString(b, c.PackageKey)
	b = appendString(b, c.Version)
	return appendString(b, c.By)
}

func decodeChange(raw []byte, c *Change) error {
	if len(raw) == 0 || raw[0] != recordV1 {
		return json.Unmarshal(raw, c)
	}
	d := decoder{b: raw[1:]}
	*c = Change{}
	c.Seq = d.uvarint()
	c.Kind = ChangeKind(d.string())
	c.Time = d.time()
	c.Path = d.string()
	c.SHA256 = d.string()
	c.Size = d.varint()
	c.PackageKey = d.string()
	c.Version = d.string()
	c.By = d.string()
	return d.end()
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendMap writes m's entries sorted by key, so that a record's bytes
// depend on its content only. A nil map and an empty one are both written
// as no entries, and read back as nil (as JSON's omitempty does).
func appendMap(b []byte, m map[string]string) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	if len(m) == 0 {
		return b
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		b = appendString(b, k)
		b = appendString(b, m[k])
	}
	return b
}

// decoder reads a binary record; the first malformed field sets err, and
// every read after it returns zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() { d.err, d.b = errBadRecord, nil }

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) time() time.Time { return time.Unix(0, d.varint()).UTC() }

func (d *decoder) stringMap() map[string]string {
	n := d.uvarint()
	if n == 0 || n > uint64(len(d.b)) { // each entry takes at least two bytes
		if n != 0 {
			d.fail()
		}
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := d.string()
		m[k] = d.string()
	}
	return m
}

func (d *decoder) end() error {
	if d.err == nil && len(d.b) != 0 {
		d.fail()
	}
	if d.err != nil {
		return fmt.Errorf("%w (%d bytes left)", d.err, len(d.b))
	}
	return nil
}
