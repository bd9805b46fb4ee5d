package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func TestWriteReadAndMetadata(t *testing.T) {
	_, r, _ := newRepo(t, TypeGeneric)
	content := []byte("hello, ferry")
	n, err := r.Write(ctx, "dir/./sub//file.txt", bytes.NewReader(content), WriteOptions{Size: -1, Metadata: map[string]string{"build": "42"}, By: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if n.Path != "/dir/sub/file.txt" || n.Name != "file.txt" || n.Size != int64(len(content)) || n.SHA256 != sum(content) ||
		n.MD5 != md5hex(content) || n.CreatedBy != "alice" || n.Metadata["build"] != "42" {
		t.Fatalf("node %+v", n)
	}
	if got := readAll(t, r, "/dir/sub/file.txt"); !bytes.Equal(got, content) {
		t.Fatalf("read %q", got)
	}
	n2, err := r.SetMetadata(ctx, "/dir/sub/file.txt", map[string]string{"stage": "release"}, "bob")
	if err != nil || n2.Metadata["stage"] != "release" || n2.Metadata["build"] != "" || n2.ModifiedBy != "bob" || n2.CreatedBy != "alice" {
		t.Fatalf("set metadata: %+v %v", n2, err)
	}
	if _, err := r.Stat(ctx, "/nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stat of a missing path: %v", err)
	}
}

func TestRangeReadsSeek(t *testing.T) {
	_, r, _ := newRepo(t, TypeGeneric)
	content := bytes.Repeat([]byte("0123456789"), 1000)
	write(t, r, "/r", content)
	rd, err := r.Open(ctx, "/r")
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if _, err := rd.Seek(4321, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 10)
	if _, err := io.ReadFull(rd, part); err != nil || !bytes.Equal(part, content[4321:4331]) {
		t.Fatalf("range read %q, %v", part, err)
	}
}

func TestSameContentIsStoredOnceAndCollectedAfterDelete(t *testing.T) {
	for _, size := range []int{12, InlineMax, InlineMax + 1, 200 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			s, r, dir := newRepo(t, TypeGeneric)
			content := bytes.Repeat([]byte("s"), size)
			write(t, r, "/a", content)
			write(t, r, "/b/c", content)
			wantFiles := 0
			if size > InlineMax {
				wantFiles = 1
			}
			if st := s.Stats(); st.Blobs != 1 || st.BlobBytes != int64(size) || stored(t, s) != 1 || blobFiles(t, dir) != wantFiles {
				t.Fatalf("two paths, one content: stats %+v, %d stored, %d files", st, stored(t, s), blobFiles(t, dir))
			}
			if err := r.Delete(ctx, "/a", "x"); err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, r, "/b/c"); !bytes.Equal(got, content) {
				t.Fatal("deleting one path lost the other's content")
			}
			if err := r.Delete(ctx, "/b/c", "x"); err != nil {
				t.Fatal(err)
			}
			if st := s.Stats(); st.Blobs != 0 || st.BlobBytes != 0 || stored(t, s) != 0 {
				t.Fatalf("after deleting both: stats %+v, %d stored", st, stored(t, s))
			}
			// Overwriting a path releases the old content.
			write(t, r, "/o", append([]byte("v1"), content...))
			write(t, r, "/o", append([]byte("v2"), content...))
			if st := s.Stats(); st.Blobs != 1 || stored(t, s) != 1 {
				t.Fatalf("after overwrite: stats %+v, %d stored", st, stored(t, s))
			}
			if err := r.Delete(ctx, "/o", "x"); err != nil {
				t.Fatal(err)
			}
			if err := r.Delete(ctx, "/o", "x"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("second delete: %v", err)
			}
		})
	}
}

func TestBadContentStoresNothing(t *testing.T) {
	s, r, dir := newRepo(t, TypeGeneric)
	content := []byte("the real content")
	cases := []struct {
		name string
		opt  WriteOptions
		body io.Reader
		want error
	}{
		{"wrong sha256", WriteOptions{Size: -1, SHA256: sum([]byte("other"))}, bytes.NewReader(content), ErrChecksum},
		{"short body", WriteOptions{Size: int64(len(content)) + 5}, bytes.NewReader(content), ErrChecksum},
		{"long body", WriteOptions{Size: 3}, bytes.NewReader(content), ErrChecksum},
		{"body breaks mid-stream", WriteOptions{Size: -1}, io.MultiReader(bytes.NewReader(content), failingReader{}), errBroken},
		{"escaping path", WriteOptions{Size: -1}, bytes.NewReader(content), ErrInvalid},
	}
	for _, c := range cases {
		path := "/x"
		if c.name == "escaping path" {
			path = "/../etc/passwd"
		}
		if _, err := r.Write(ctx, path, c.body, c.opt); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := r.Stat(ctx, "/x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a refused write left a node: %v", err)
	}
	if st := s.Stats(); st.Blobs != 0 || stored(t, s) != 0 || tmpFiles(t, dir) != 0 {
		t.Fatalf("a refused write left content: stats %+v, %d stored, %d tmp", st, stored(t, s), tmpFiles(t, dir))
	}
	changes, _ := r.Changes(ctx, 1, 0)
	if len(changes) != 0 {
		t.Fatalf("refused writes logged changes: %+v", changes)
	}
	// A refused write does not disturb an existing file either.
	write(t, r, "/keep", content)
	r.Write(ctx, "/keep", bytes.NewReader([]byte("new")), WriteOptions{Size: -1, SHA256: sum([]byte("nope"))})
	if got := readAll(t, r, "/keep"); !bytes.Equal(got, content) {
		t.Fatalf("a refused overwrite changed the file: %q", got)
	}
}

var errBroken = errors.New("connection broke")

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errBroken }

func TestNoOverwrite(t *testing.T) {
	_, r, _ := newRepo(t, TypeGeneric)
	write(t, r, "/f", []byte("one"))
	if _, err := r.Write(ctx, "/f", strings.NewReader("two"), WriteOptions{Size: -1, NoOverwrite: true}); !errors.Is(err, ErrExists) {
		t.Fatalf("no-overwrite write over a file: %v", err)
	}
	if got := readAll(t, r, "/f"); string(got) != "one" {
		t.Fatalf("content %q", got)
	}
}

func TestConcurrentWritersToOnePathLeaveOneWholeVersion(t *testing.T) {
	s, r, dir := newRepo(t, TypeGeneric)
	const writers = 8
	contents := make([][]byte, writers)
	var wg sync.WaitGroup
	for i := range writers {
		contents[i] = bytes.Repeat([]byte{byte('a' + i)}, 256<<10+i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := r.Write(ctx, "/same", bytes.NewReader(contents[i]), WriteOptions{Size: -1}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got := readAll(t, r, "/same")
	n, _ := r.Stat(ctx, "/same")
	whole := false
	for _, c := range contents {
		whole = whole || bytes.Equal(got, c)
	}
	if !whole || n.SHA256 != sum(got) || n.Size != int64(len(got)) {
		t.Fatalf("final content is not one writer's whole version (%d bytes, node %+v)", len(got), n)
	}
	if st := s.Stats(); st.Blobs != 1 || blobFiles(t, dir) != 1 || tmpFiles(t, dir) != 0 {
		t.Fatalf("superseded versions left behind: stats %+v, %d blobs, %d tmp", st, blobFiles(t, dir), tmpFiles(t, dir))
	}
	changes, _ := r.Changes(ctx, 1, 0)
	if len(changes) != writers || changes[0].Kind != NodeCreated || changes[writers-1].Kind != NodeUpdated {
		t.Fatalf("%d changes logged for %d writes", len(changes), writers)
	}
}

func TestChangeLogSurvivesRestartInOrder(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	s.CreateProject(ctx, Project{Name: "demo"})
	s.CreateRepo(ctx, Repo{Project: "demo", Name: "m", Type: TypeMaven})
	r, _ := s.Repository(ctx, "demo", "m")
	write(t, r, "/a.txt", []byte("a"))
	write(t, r, "/a.txt", []byte("b"))
	write(t, r, "/com/x/lib/1.0/lib-1.0.jar", []byte("jar"))
	r.Delete(ctx, "/a.txt", "x")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openStore(t, dir)
	defer s.Close()
	r, err := s.Repository(ctx, "demo", "m")
	if err != nil {
		t.Fatal(err)
	}
	changes, err := r.Changes(ctx, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i, c := range changes {
		if c.Seq != uint64(i+1) {
			t.Fatalf("change %d has seq %d", i, c.Seq)
		}
		got = append(got, string(c.Kind)+" "+c.Path+c.PackageKey)
	}
	want := []string{
		"NODE_CREATED /a.txt", "NODE_UPDATED /a.txt", "NODE_CREATED /com/x/lib/1.0/lib-1.0.jar",
		"VERSION_CREATED gav://com.x:lib", "NODE_DELETED /a.txt",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("change log after restart:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	from3, _ := r.Changes(ctx, 3, 2)
	if len(from3) != 2 || from3[0].Seq != 3 || from3[1].Seq != 4 {
		t.Fatalf("changes from 3, limit 2: %+v", from3)
	}
	// The next change continues the sequence.
	write(t, r, "/b.txt", []byte("b"))
	if next, _ := r.Changes(ctx, 6, 0); len(next) != 1 || next[0].Seq != 6 {
		t.Fatalf("sequence after restart: %+v", next)
	}
}

func TestRecoveryRemovesWhatACrashLeft(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	s.CreateProject(ctx, Project{Name: "demo"})
	s.CreateRepo(ctx, Repo{Project: "demo", Name: "g", Type: TypeGeneric})
	r := mustFull(s.Repository(ctx, "demo", "g"))
	write(t, r, "/kept", []byte("kept"))
	s.Close()
	// A crash mid-upload leaves a temp file; a crash between making a blob
	// visible and committing its node leaves an unreferenced blob.
	os.WriteFile(filepath.Join(dir, "tmp", "upload-123"), []byte("half"), 0o640)
	orphan := sum([]byte("orphan"))
	os.MkdirAll(filepath.Join(dir, "blobs", "sha256", orphan[:2], orphan[2:4]), 0o750)
	os.WriteFile(filepath.Join(dir, "blobs", "sha256", orphan[:2], orphan[2:4], orphan), []byte("orphan"), 0o640)

	s = openStore(t, dir)
	defer s.Close()
	if tmpFiles(t, dir) != 0 || blobFiles(t, dir) != 0 || stored(t, s) != 1 {
		t.Fatalf("after recovery: %d tmp, %d blob files, %d stored (want 0, 0, 1)", tmpFiles(t, dir), blobFiles(t, dir), stored(t, s))
	}
	r = mustFull(s.Repository(ctx, "demo", "g"))
	if got := readAll(t, r, "/kept"); string(got) != "kept" {
		t.Fatalf("committed file after recovery: %q", got)
	}
}

func TestAutoRegistrationOfPackages(t *testing.T) {
	_, mvn, _ := newRepo(t, TypeMaven)
	write(t, mvn, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar", []byte("jar"))
	write(t, mvn, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.pom", []byte("pom"))
	write(t, mvn, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar.sha1", []byte("sha1"))
	v, err := mvn.Version(ctx, "gav://com.alibaba:fastjson", "1.2.47")
	if err != nil || len(v.Paths) != 2 {
		t.Fatalf("maven version: %+v %v", v, err)
	}
	pkgs, _ := mvn.Packages(ctx, "gav://", PageRequest{})
	if pkgs.TotalRecords != 1 || pkgs.Records[0].Name != "fastjson" || pkgs.Records[0].LatestVersion != "1.2.47" {
		t.Fatalf("packages: %+v", pkgs)
	}
	// Deleting a version's last file deletes the version.
	mvn.Delete(ctx, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar", "x")
	mvn.Delete(ctx, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.pom", "x")
	if _, err := mvn.Version(ctx, "gav://com.alibaba:fastjson", "1.2.47"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("version without files: %v", err)
	}

	_, npm, _ := newRepo(t, TypeNPM)
	write(t, npm, "/helloworld/-/helloworld-1.0.0.tgz", []byte("tgz"))
	write(t, npm, "/@scope/pkg/-/pkg-2.1.0.tgz", []byte("tgz2"))
	if _, err := npm.Version(ctx, "npm://helloworld", "1.0.0"); err != nil {
		t.Fatal(err)
	}
	if _, err := npm.Version(ctx, "npm://@scope/pkg", "2.1.0"); err != nil {
		t.Fatal(err)
	}

	// A GENERIC repository registers nothing.
	_, gen, _ := newRepo(t, TypeGeneric)
	write(t, gen, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar", []byte("jar"))
	if p, _ := gen.Packages(ctx, "", PageRequest{}); p.TotalRecords != 0 {
		t.Fatalf("generic repo registered %+v", p.Records)
	}
}

func TestPackageVersionsByHand(t *testing.T) {
	_, r, _ := newRepo(t, TypeGeneric)
	write(t, r, "/rel/app-1.bin", []byte("1"))
	write(t, r, "/rel/app-2.bin", []byte("2"))
	if _, err := r.PutVersion(ctx, PackageVersion{PackageKey: "generic://app", Version: "1", Paths: []string{"rel/app-1.bin"}, Metadata: map[string]string{"k": "v"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.PutVersion(ctx, PackageVersion{PackageKey: "generic://app", Version: "2", Paths: []string{"/rel/app-2.bin"}}); err != nil {
		t.Fatal(err)
	}
	bad := []PackageVersion{
		{PackageKey: "generic://app", Version: "3", Paths: []string{"/missing"}},
		{PackageKey: "no-scheme", Version: "3", Paths: []string{"/rel/app-1.bin"}},
		{PackageKey: "generic://app", Version: "", Paths: []string{"/rel/app-1.bin"}},
		{PackageKey: "generic://app", Version: "3"},
		{PackageKey: "generic://other", Version: "1", Paths: []string{"/rel/app-1.bin"}}, // path owned by app 1
	}
	for _, v := range bad {
		if _, err := r.PutVersion(ctx, v); err == nil {
			t.Errorf("accepted %+v", v)
		}
	}
	vs, err := r.Versions(ctx, "generic://app", PageRequest{Size: 1})
	if err != nil || vs.TotalRecords != 2 || vs.TotalPages != 2 || len(vs.Records) != 1 {
		t.Fatalf("versions page: %+v %v", vs, err)
	}
	if err := r.DeleteVersion(ctx, "generic://app", "1", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Stat(ctx, "/rel/app-1.bin"); err != nil {
		t.Fatalf("deleting a version deleted its file: %v", err)
	}
	// Its path is free for another version now.
	if _, err := r.PutVersion(ctx, PackageVersion{PackageKey: "generic://other", Version: "1", Paths: []string{"/rel/app-1.bin"}}); err != nil {
		t.Fatal(err)
	}
}

func TestListing(t *testing.T) {
	_, r, _ := newRepo(t, TypeGeneric)
	for _, p := range []string{"/a/1", "/a/2", "/a/sub/3", "/a/sub/deeper/4", "/b/5", "/top"} {
		write(t, r, p, []byte(p))
	}
	names := func(pg Page[Node]) string {
		var out []string
		for _, n := range pg.Records {
			s := n.Name
			if n.Folder {
				s += "/"
			}
			out = append(out, s)
		}
		return strings.Join(out, ",")
	}
	root, _ := r.List(ctx, ListOptions{Path: "/"})
	if got := names(root); got != "a/,b/,top" {
		t.Fatalf("root: %s", got)
	}
	a, _ := r.List(ctx, ListOptions{Path: "/a"})
	if got := names(a); got != "sub/,1,2" {
		t.Fatalf("/a: %s", got)
	}
	rec, _ := r.List(ctx, ListOptions{Path: "/a", Recursive: true, Page: PageRequest{Number: 2, Size: 3}})
	if rec.TotalRecords != 4 || rec.TotalPages != 2 || names(rec) != "4" {
		t.Fatalf("/a recursive page 2: %+v", rec)
	}
	if _, err := r.List(ctx, ListOptions{Path: "/a/../.."}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("escaping listing: %v", err)
	}
}

func TestProjectsAndRepos(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	for _, bad := range []string{"A", "x", "1abc", "has space", strings.Repeat("a", 65)} {
		if _, err := s.CreateProject(ctx, Project{Name: bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("project %q: %v", bad, err)
		}
	}
	s.CreateProject(ctx, Project{Name: "demo"})
	if _, err := s.CreateProject(ctx, Project{Name: "demo"}); !errors.Is(err, ErrExists) {
		t.Fatalf("duplicate project: %v", err)
	}
	if _, err := s.CreateRepo(ctx, Repo{Project: "demo", Name: "r", Type: "TARBALL"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown type: %v", err)
	}
	if _, err := s.CreateRepo(ctx, Repo{Project: "nope", Name: "r", Type: TypeGeneric}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("repo in a missing project: %v", err)
	}
	s.CreateRepo(ctx, Repo{Project: "demo", Name: "r", Type: TypeGeneric})
	if err := s.DeleteProject(ctx, "demo"); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("deleting a project with repos: %v", err)
	}
	r, _ := s.Repository(ctx, "demo", "r")
	write(t, r, "/f", []byte("f"))
	write(t, r, "/big", bytes.Repeat([]byte("b"), InlineMax+1))
	if blobFiles(t, s.dir) != 1 {
		t.Fatalf("large content is not a file")
	}
	if err := s.DeleteRepo(ctx, "demo", "r"); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Blobs != 0 || stored(t, s) != 0 {
		t.Fatalf("deleted repository's content remains: %+v, %d stored", st, stored(t, s))
	}
	if _, err := r.Stat(ctx, "/f"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("stat in a deleted repository: %v", err)
	}
	if err := s.DeleteProject(ctx, "demo"); err != nil {
		t.Fatal(err)
	}
}

// A full disk refuses the write with ErrInsufficientSpace and leaves nothing.
func TestFullDiskStoresNothing(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a small tmpfs here (needs root): %v %s", err, out)
	}
	defer exec.Command("umount", dir).Run()
	s := openStore(t, dir)
	defer s.Close()
	s.CreateProject(ctx, Project{Name: "demo"})
	s.CreateRepo(ctx, Repo{Project: "demo", Name: "g", Type: TypeGeneric})
	r, _ := s.Repository(ctx, "demo", "g")
	big := bytes.Repeat([]byte("x"), 2<<20)
	_, err := r.Write(ctx, "/big", bytes.NewReader(big), WriteOptions{Size: -1})
	if !errors.Is(err, ErrInsufficientSpace) {
		t.Fatalf("write larger than the disk: %v", err)
	}
	if tmpFiles(t, dir) != 0 || blobFiles(t, dir) != 0 {
		t.Fatalf("a failed write left %d tmp and %d blob files", tmpFiles(t, dir), blobFiles(t, dir))
	}
	// Space is back: a small write works.
	write(t, r, "/small", []byte("fits"))
}

// Reads racing overwrites and deletes see a whole version or ErrNotFound,
// never a missing-content error.
func TestReadsDuringOverwritesNeverFail(t *testing.T) {
	_, r, _ := newRepo(t, TypeGeneric)
	versions := [][]byte{bytes.Repeat([]byte("a"), 4096), bytes.Repeat([]byte("b"), 8192)}
	write(t, r, "/f", versions[0])
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 300 {
			if i%50 == 49 {
				r.Delete(ctx, "/f", "w")
			}
			r.Write(ctx, "/f", bytes.NewReader(versions[i%2]), WriteOptions{Size: -1})
		}
	}()
	reads := 0
	for running := true; running; reads++ {
		select {
		case <-done:
			running = false
		default:
		}
		rd, err := r.Open(ctx, "/f")
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("open during overwrites: %v", err)
		}
		got, err := io.ReadAll(rd)
		rd.Close()
		if err != nil || (!bytes.Equal(got, versions[0]) && !bytes.Equal(got, versions[1])) {
			t.Fatalf("read %d bytes that are no whole version (%v)", len(got), err)
		}
	}
	if reads < 10 {
		t.Fatalf("only %d reads raced the writer", reads)
	}
}

func TestChangeSequenceContinuesAfterRepoIsRecreated(t *testing.T) {
	s, r, _ := newRepo(t, TypeGeneric)
	write(t, r, "/a", []byte("a"))
	write(t, r, "/b", []byte("b"))
	if err := s.DeleteRepo(ctx, "demo", "repo"); err != nil {
		t.Fatal(err)
	}
	s.CreateRepo(ctx, Repo{Project: "demo", Name: "repo", Type: TypeGeneric})
	r = mustFull(s.Repository(ctx, "demo", "repo"))
	// The deletion takes number 3: the re-created repository's head differs
	// from the deleted one's, so nothing mistakes it for unchanged.
	if head, _ := r.Head(ctx); head != 3 {
		t.Fatalf("head of the re-created repository %d, want 3", head)
	}
	write(t, r, "/c", []byte("c"))
	changes, _ := r.Changes(ctx, 1, 0)
	if len(changes) != 1 || changes[0].Seq != 4 {
		t.Fatalf("changes of the re-created repository: %+v (want one, numbered 4)", changes)
	}
}

func TestWriteReportsCreationAndIdenticalOverwriteKeepsContent(t *testing.T) {
	s, r, _ := newRepo(t, TypeGeneric)
	if n := write(t, r, "/x", []byte("same")); !n.Created {
		t.Fatal("first write not reported as created")
	}
	if n := write(t, r, "/x", []byte("same")); n.Created {
		t.Fatal("overwrite reported as created")
	}
	if got := readAll(t, r, "/x"); string(got) != "same" || s.Stats().Blobs != 1 || stored(t, s) != 1 {
		t.Fatalf("identical overwrite: %q, stats %+v, %d stored", got, s.Stats(), stored(t, s))
	}
}

func TestFileAndFolderMayNotShareAName(t *testing.T) {
	_, r, _ := newRepo(t, TypeGeneric)
	write(t, r, "/a/b", []byte("file below a"))
	if _, err := r.Write(ctx, "/a", strings.NewReader("x"), WriteOptions{Size: -1}); !errors.Is(err, ErrExists) {
		t.Fatalf("file over a folder: %v", err)
	}
	if _, err := r.Write(ctx, "/a/b/c", strings.NewReader("x"), WriteOptions{Size: -1}); !errors.Is(err, ErrExists) {
		t.Fatalf("file below a file: %v", err)
	}
	write(t, r, "/a/b", []byte("overwriting the file itself is fine"))
}

func TestLatestVersionIsTheNewestCreated(t *testing.T) {
	_, r, _ := newRepo(t, TypeMaven)
	write(t, r, "/g/lib/1.0/lib-1.0.jar", []byte("1"))
	write(t, r, "/g/lib/2.0/lib-2.0.jar", []byte("2"))
	write(t, r, "/g/lib/1.0/lib-1.0.pom", []byte("1 pom")) // 1.0 modified later
	p, _ := r.Packages(ctx, "gav://g:lib", PageRequest{})
	if p.TotalRecords != 1 || p.Records[0].LatestVersion != "2.0" || p.Records[0].Versions != 2 {
		t.Fatalf("packages: %+v", p.Records)
	}
}

func TestAutoRegistrationLeavesHandMadeVersionsAlone(t *testing.T) {
	_, r, _ := newRepo(t, TypeMaven)
	jar := "/com/x/lib/1.0/lib-1.0.jar"
	write(t, r, jar, []byte("jar"))
	r.DeleteVersion(ctx, "gav://com.x:lib", "1.0", "x")
	if _, err := r.PutVersion(ctx, PackageVersion{PackageKey: "gav://other:x", Version: "9", Paths: []string{jar}}); err != nil {
		t.Fatal(err)
	}
	write(t, r, jar, []byte("jar v2"))
	if _, err := r.Version(ctx, "gav://com.x:lib", "1.0"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("auto-registration took over a hand-made version's path: %v", err)
	}
	r.Delete(ctx, jar, "x")
	if _, err := r.Version(ctx, "gav://other:x", "9"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("version whose only file was deleted: %v", err)
	}
}

func TestLinkUsesContentAlreadyStored(t *testing.T) {
	s, r, _ := newRepo(t, TypeGeneric)
	for _, size := range []int{10, InlineMax + 10} {
		content := bytes.Repeat([]byte("L"), size)
		orig := write(t, r, fmt.Sprintf("/orig-%d", size), content)
		n, err := r.Link(ctx, fmt.Sprintf("/linked-%d", size), strings.ToUpper(orig.SHA256), WriteOptions{Size: -1, Metadata: map[string]string{"via": "link"}, By: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if !n.Created || n.Size != int64(size) || n.MD5 != orig.MD5 || n.SHA256 != orig.SHA256 || n.Metadata["via"] != "link" {
			t.Fatalf("linked node %+v, original %+v", n, orig)
		}
		if got := readAll(t, r, n.Path); !bytes.Equal(got, content) {
			t.Fatal("linked path reads differently")
		}
	}
	if st := s.Stats(); st.Blobs != 2 {
		t.Fatalf("linking stored content again: %+v", st)
	}
	if _, err := r.Link(ctx, "/x", sum([]byte("never stored")), WriteOptions{Size: -1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("link to unknown content: %v", err)
	}
	if _, err := r.Link(ctx, "/y", sum(bytes.Repeat([]byte("L"), 10)), WriteOptions{Size: 11}); !errors.Is(err, ErrChecksum) {
		t.Fatalf("link with the wrong size: %v", err)
	}
	// Deleting the original keeps the content for the linked path; deleting
	// both collects it.
	r.Delete(ctx, "/orig-10", "x")
	if got := readAll(t, r, "/linked-10"); len(got) != 10 {
		t.Fatal("content gone with the original path")
	}
	r.Delete(ctx, "/linked-10", "x")
	if _, err := r.Link(ctx, "/z", sum(bytes.Repeat([]byte("L"), 10)), WriteOptions{Size: -1}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("link to collected content: %v", err)
	}
	changes, _ := r.Changes(ctx, 1, 0)
	if changes[1].Kind != NodeCreated || changes[1].Path != "/linked-10" {
		t.Fatalf("a link is not logged as a created node: %+v", changes[1])
	}
}
