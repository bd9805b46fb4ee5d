package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
)

// countingObserver counts write outcomes and bytes.
type countingObserver struct {
	mu      sync.Mutex
	results map[string]int
	bytes   int64
}

func (o *countingObserver) WriteDone(result string, n int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.results == nil {
		o.results = map[string]int{}
	}
	o.results[result]++
	o.bytes += n
}

func (o *countingObserver) ReadBytes(int64)         {}
func (o *countingObserver) Compacted(string, int64) {}

func (o *countingObserver) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return fmt.Sprintf("%v %d bytes", o.results, o.bytes)
}

// repoState is everything a write leaves, minus times.
func repoState(t *testing.T, s *Local, r Repository) string {
	t.Helper()
	var b strings.Builder
	changes, err := r.Changes(ctx, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		fmt.Fprintf(&b, "change %d %s %s %s %d %s %s\n", c.Seq, c.Kind, c.Path, c.SHA256, c.Size, c.PackageKey, c.Version)
	}
	nodes, err := r.List(ctx, ListOptions{Path: "/", Recursive: true, Page: PageRequest{Size: MaxPageSize}})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes.Records {
		fmt.Fprintf(&b, "node %s %s %s %d %v %x\n", n.Path, n.SHA256, n.MD5, n.Size, n.Metadata, sum(readAll(t, r, n.Path)))
	}
	pkgs, _ := r.Packages(ctx, "", PageRequest{Size: MaxPageSize})
	for _, p := range pkgs.Records {
		vs, _ := r.Versions(ctx, p.Key, PageRequest{Size: MaxPageSize})
		for _, v := range vs.Records {
			fmt.Fprintf(&b, "version %s %s %v %d\n", v.PackageKey, v.Version, v.Paths, v.CreatedSeq)
		}
	}
	st := s.Stats() // where small contents are (inline, a segment) is not the state compared
	fmt.Fprintf(&b, "stats %d blobs %d bytes, %d blob files, %d stored, %d tmp\n", st.Blobs, st.BlobBytes, blobFiles(t, s.dir), stored(t, s), tmpFiles(t, s.dir))
	return b.String()
}

func big(seed byte) []byte { return bytes.Repeat([]byte{'b', seed}, InlineMax/2+100) }

func TestWriteBatchCommitsEachFileAsWritesWould(t *testing.T) {
	jar, small := big('1'), []byte("sources")
	cases := []struct {
		name  string
		typ   RepoType
		setup map[string][]byte
		files []BatchFile
		want  []error // per file; nil is success
	}{{
		name:  "maven, mixed sizes, one bad checksum, one conflict",
		typ:   TypeMaven,
		setup: map[string][]byte{"/com/x/a/1.0/a-1.0.pom": []byte("pom")},
		files: []BatchFile{
			{Path: "/com/x/a/1.0/a-1.0.jar", Content: jar, Opt: WriteOptions{SHA256: sum(jar), Size: int64(len(jar)), By: "u"}},
			{Path: "/com/x/a/1.0/a-1.0-sources.jar", Content: small, Opt: WriteOptions{Size: -1, Metadata: map[string]string{"k": "v"}}},
			{Path: "/com/x/a/1.0/a-1.0.pom", Content: []byte("pom2"), Opt: WriteOptions{Size: -1, NoOverwrite: true}},
			{Path: "/com/x/b/2.0/b-2.0.jar", Content: big('2'), Opt: WriteOptions{Size: -1, SHA256: sum([]byte("other"))}},
			{Path: "/com/x/b/2.0/b-2.0.pom", Content: []byte("pom"), Opt: WriteOptions{Size: 4}},
			{Path: "/../escape", Content: small, Opt: WriteOptions{Size: -1}},
			{Path: "/com/x/a/1.0/bad-meta", Content: small, Opt: WriteOptions{Size: -1, Metadata: map[string]string{"bad key": "v"}}},
			{Path: "/com/x/a/1.0/a-1.0.jar.sha1", Content: []byte("sha1"), Opt: WriteOptions{Size: -1}},
			{Path: "/com/x/c/3.0/c-3.0.jar", Content: jar, Opt: WriteOptions{Size: -1}}, // same content as the first
		},
		want: []error{nil, nil, ErrExists, ErrChecksum, ErrChecksum, ErrInvalid, ErrInvalid, nil, nil},
	}, {
		name:  "content an overwrite lets go of is taken by a later file",
		typ:   TypeGeneric,
		setup: map[string][]byte{"/x": big('x'), "/s": []byte("small x")},
		files: []BatchFile{
			{Path: "/x", Content: big('y'), Opt: WriteOptions{Size: -1}},
			{Path: "/s", Content: []byte("small y"), Opt: WriteOptions{Size: -1}},
			{Path: "/y", Content: big('x'), Opt: WriteOptions{Size: -1}},
			{Path: "/t", Content: []byte("small x"), Opt: WriteOptions{Size: -1}},
		},
		want: []error{nil, nil, nil, nil},
	}, {
		name: "one path twice, file under a file, refused new content",
		typ:  TypeGeneric,
		files: []BatchFile{
			{Path: "/a", Content: []byte("1"), Opt: WriteOptions{Size: -1}},
			{Path: "/a", Content: big('2'), Opt: WriteOptions{Size: -1}},
			{Path: "/a/b", Content: big('3'), Opt: WriteOptions{Size: -1}},
			{Path: "/a", Content: big('4'), Opt: WriteOptions{Size: -1, NoOverwrite: true}},
		},
		want: []error{nil, nil, ErrExists, ErrExists},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var obs [2]*countingObserver
			var state [2]string
			for i, batch := range []bool{false, true} {
				s, r, _ := newRepo(t, c.typ)
				for _, p := range slices.Sorted(maps.Keys(c.setup)) {
					write(t, r, p, c.setup[p])
				}
				obs[i] = &countingObserver{}
				s.observer = obs[i]
				var errs []error
				if batch {
					res, err := r.WriteBatch(ctx, c.files)
					if err != nil {
						t.Fatal(err)
					}
					for j, rs := range res {
						errs = append(errs, rs.Err)
						if rs.Err == nil && (rs.Node.Path == "" || rs.Node.SHA256 != sum(c.files[j].Content)) {
							t.Errorf("file %d: node %+v", j, rs.Node)
						}
					}
				} else {
					for _, f := range c.files {
						_, err := r.Write(ctx, f.Path, bytes.NewReader(f.Content), f.Opt)
						errs = append(errs, err)
					}
				}
				for j, err := range errs {
					if c.want[j] == nil && err != nil || !errors.Is(err, c.want[j]) {
						t.Errorf("batch=%v file %d (%s): %v, want %v", batch, j, c.files[j].Path, err, c.want[j])
					}
				}
				state[i] = repoState(t, s, r)
			}
			if state[0] != state[1] {
				t.Errorf("separate writes left\n%s\nthe batch left\n%s", state[0], state[1])
			}
			if obs[0].String() != obs[1].String() {
				t.Errorf("observed: separate writes %s, batch %s", obs[0], obs[1])
			}
		})
	}
}

func TestWriteBatchRegistersMavenPackage(t *testing.T) {
	_, r, _ := newRepo(t, TypeMaven)
	res, err := r.WriteBatch(ctx, []BatchFile{
		{Path: "/com/x/a/1.0/a-1.0.jar", Content: big('j'), Opt: WriteOptions{Size: -1}},
		{Path: "/com/x/a/1.0/a-1.0.pom", Content: []byte("pom"), Opt: WriteOptions{Size: -1}},
	})
	if err != nil || res[0].Err != nil || res[1].Err != nil {
		t.Fatal(err, res)
	}
	v, err := r.Version(ctx, "gav://com.x:a", "1.0")
	if err != nil || !slices.Equal(v.Paths, []string{"/com/x/a/1.0/a-1.0.jar", "/com/x/a/1.0/a-1.0.pom"}) {
		t.Fatalf("version %+v %v", v, err)
	}
	if !res[0].Node.Created || res[0].Node.MD5 != md5hex(big('j')) {
		t.Fatalf("node %+v", res[0].Node)
	}
}

func TestWriteBatchFailsWholeWhenCanceledOrClosed(t *testing.T) {
	files := []BatchFile{
		{Path: "/small", Content: []byte("s"), Opt: WriteOptions{Size: -1}},
		{Path: "/big", Content: big('b'), Opt: WriteOptions{Size: -1}},
	}
	s, r, dir := newRepo(t, TypeGeneric)
	obs := &countingObserver{}
	s.observer = obs
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if res, err := r.WriteBatch(canceled, files); !errors.Is(err, context.Canceled) || res != nil {
		t.Fatalf("canceled batch: %v %v", res, err)
	}
	if obs.results["canceled"] != 2 {
		t.Errorf("observed %s", obs)
	}
	s.Close()
	if _, err := r.WriteBatch(ctx, files); err == nil {
		t.Fatal("batch into a closed store succeeded")
	}
	if blobFiles(t, dir) != 0 || tmpFiles(t, dir) != 0 {
		t.Fatalf("a failed batch left %d blob files, %d tmp files", blobFiles(t, dir), tmpFiles(t, dir))
	}
	s = openStore(t, dir)
	defer s.Close()
	r2, _ := s.Repository(ctx, "demo", "repo")
	if changes, _ := r2.Changes(ctx, 1, 0); len(changes) != 0 || stored(t, s) != 0 || tmpFiles(t, dir) != 0 {
		t.Fatalf("a failed batch left %d changes, %d contents, %d tmp files", len(changes), stored(t, s), tmpFiles(t, dir))
	}
}
