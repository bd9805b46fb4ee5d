package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/client"
)

func TestParseArtifactRef(t *testing.T) {
	for _, tc := range []struct {
		in                  string
		needPath            bool
		project, repo, path string
		err                 string // substring; "" for success
	}{
		{in: "p/r/a.txt", needPath: true, project: "p", repo: "r", path: "a.txt"},
		{in: "p/r/dir/sub/a.tar.gz", needPath: true, project: "p", repo: "r", path: "dir/sub/a.tar.gz"},
		{in: "p/r/dir with space/ü.txt", needPath: true, project: "p", repo: "r", path: "dir with space/ü.txt"},
		{in: "p/r", needPath: false, project: "p", repo: "r", path: ""},
		{in: "p/r/", needPath: false, project: "p", repo: "r", path: ""},
		{in: "p/r/dir", needPath: false, project: "p", repo: "r", path: "dir"},
		{in: "p/r/dir/sub/", needPath: false, project: "p", repo: "r", path: "dir/sub"},
		{in: "", needPath: true, err: "empty artifact reference"},
		{in: "", needPath: false, err: "want project/repo[/path]"},
		{in: "p", needPath: false, err: "has no repository"},
		{in: "/p/r/a", needPath: true, err: `starts with "/"`},
		{in: "p//a", needPath: true, err: "empty repository name"},
		{in: "p/r", needPath: true, err: "has no file path: want project/repo/path"},
		{in: "p/r/", needPath: true, err: "has no file path"},
		{in: "p/r/dir/", needPath: true, err: `ends with "/"`},
		{in: "p/r/a//b", needPath: true, err: "empty path segment"},
		{in: "p/r/a//b", needPath: false, err: "empty path segment"},
		{in: "p/r/../x", needPath: true, err: `".." is not allowed`},
		{in: "p/r/a/./b", needPath: false, err: `"." is not allowed`},
		{in: "../r/a", needPath: true, err: "invalid project name"},
		{in: "p/./a", needPath: true, err: "invalid repository name"},
	} {
		project, repo, path, err := parseArtifactRef(tc.in, tc.needPath)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parseArtifactRef(%q, %v) err = %v, want %q", tc.in, tc.needPath, err, tc.err)
			}
			continue
		}
		if err != nil || project != tc.project || repo != tc.repo || path != tc.path {
			t.Errorf("parseArtifactRef(%q, %v) = %q, %q, %q, %v; want %q, %q, %q",
				tc.in, tc.needPath, project, repo, path, err, tc.project, tc.repo, tc.path)
		}
	}
}

// runFerry runs the ferry command line with args and returns its stdout and stderr.
func runFerry(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	root := newRootCmd()
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func hexSHA(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// contentServer serves one file at every /generic/ URL, announcing checksum
// (the content's own when "") and recording the request URIs.
type contentServer struct {
	mu   sync.Mutex
	uris []string
}

func (s *contentServer) start(t *testing.T, content []byte, checksum string) *httptest.Server {
	t.Helper()
	if checksum == "" {
		checksum = hexSHA(content)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.uris = append(s.uris, r.RequestURI)
		s.mu.Unlock()
		if r.Method != http.MethodGet || !strings.HasPrefix(r.URL.Path, "/generic/") {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":"not found"}`)
			return
		}
		if checksum != "-" {
			w.Header().Set("X-Checksum-Sha256", checksum)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(content)))
		w.Write(content)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (s *contentServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.uris...)
}

// binaryContent is every byte value, many times over, in a fixed order.
func binaryContent(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/256)
	}
	return b
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestGetToFileByteExact(t *testing.T) {
	content := binaryContent(3<<20 + 17)
	var cs contentServer
	srv := cs.start(t, content, "")
	dir := t.TempDir()
	target := filepath.Join(dir, "out.bin")

	stdout, _, err := runFerry(t, "get", "--address", srv.URL, "--cluster", "ap-south", "proj/repo/dir with space/ünï.bin", "-o", target)
	if err != nil {
		t.Fatal(err)
	}
	if stdout != "" {
		t.Errorf("stdout = %q", stdout)
	}
	got, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Fatalf("got %d bytes (sha256 %s), want %d (%s)", len(got), hexSHA(got), len(content), hexSHA(content))
	}
	if names := dirEntries(t, dir); len(names) != 1 {
		t.Fatalf("directory holds %v", names)
	}
	if want := "/generic/proj/repo/dir%20with%20space/%C3%BCn%C3%AF.bin?cluster=ap-south"; cs.requests()[0] != want {
		t.Fatalf("request URI\n got %s\nwant %s", cs.requests()[0], want)
	}
	if fi, err := os.Stat(target); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm()&0o600 != 0o600) {
		t.Fatalf("stat %s: %v, %v", target, fi, err) // new files get 0666 less the umask
	}

	// Replacing an existing file keeps its permissions.
	if err := os.WriteFile(target, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(target, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runFerry(t, "get", "--address", srv.URL, "proj/repo/x.bin", "-o", target); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); !bytes.Equal(got, content) {
		t.Fatal("existing file not replaced")
	}
	if fi, _ := os.Stat(target); runtime.GOOS != "windows" && fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode = %v, want 0640", fi.Mode().Perm())
	}

	// -o DIR writes DIR/<name>.
	if _, _, err := runFerry(t, "get", "--address", srv.URL, "proj/repo/sub/named.bin", "-o", dir); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "named.bin")); !bytes.Equal(got, content) {
		t.Fatal("-o DIR: wrong content")
	}
}

func TestGetToStdout(t *testing.T) {
	content := binaryContent(100_000)
	var cs contentServer
	srv := cs.start(t, content, "")
	for _, extra := range [][]string{nil, {"-o", "-"}} {
		stdout, stderr, err := runFerry(t, append([]string{"get", "--address", srv.URL, "p/r/f.bin"}, extra...)...)
		if err != nil {
			t.Fatal(err)
		}
		if stdout != string(content) {
			t.Fatalf("stdout: %d bytes, want %d", len(stdout), len(content))
		}
		if stderr != "" { // not a terminal: no progress
			t.Fatalf("stderr = %q", stderr)
		}
	}
}

func TestGetChecksumMismatchLeavesNoFile(t *testing.T) {
	content := binaryContent(1 << 20)
	var cs contentServer
	srv := cs.start(t, content, hexSHA([]byte("something else")))
	dir := t.TempDir()
	target := filepath.Join(dir, "out.bin")

	_, _, err := runFerry(t, "get", "--address", srv.URL, "p/r/f.bin", "-o", target)
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("err = %v, want a checksum mismatch", err)
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Fatalf("left behind %v", names)
	}

	// An existing file is left untouched.
	if err := os.WriteFile(target, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runFerry(t, "get", "--address", srv.URL, "p/r/f.bin", "-o", target); err == nil {
		t.Fatal("no error")
	}
	if got, _ := os.ReadFile(target); string(got) != "keep me" {
		t.Fatalf("existing file now %q", got)
	}
	if names := dirEntries(t, dir); len(names) != 1 {
		t.Fatalf("left behind %v", names)
	}

	// On stdout the bytes are out already, but the command still fails.
	if _, _, err := runFerry(t, "get", "--address", srv.URL, "p/r/f.bin"); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Fatalf("stdout: err = %v", err)
	}
}

func TestGetFailures(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "out.bin")

	// No checksum announced: refuse rather than hand out unverified content.
	var cs contentServer
	srv := cs.start(t, []byte("abc"), "-")
	if _, _, err := runFerry(t, "get", "--address", srv.URL, "p/r/f", "-o", target); err == nil || !strings.Contains(err.Error(), "X-Checksum-Sha256") {
		t.Fatalf("no checksum: err = %v", err)
	}

	// Connection cut short of Content-Length.
	short := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Checksum-Sha256", hexSHA([]byte("abcdef")))
		w.Header().Set("Content-Length", "6")
		w.Write([]byte("abc"))
	}))
	defer short.Close()
	if _, _, err := runFerry(t, "get", "--address", short.URL, "p/r/f", "-o", target); err == nil {
		t.Fatal("truncated: no error")
	}

	// Not found: the agent's message comes through.
	nf := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"error":"node /f not found"}`)
	}))
	defer nf.Close()
	if _, _, err := runFerry(t, "get", "--address", nf.URL, "p/r/f", "-o", target); err == nil || !strings.Contains(err.Error(), "404 Not Found: node /f not found") {
		t.Fatalf("not found: err = %v", err)
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Fatalf("left behind %v", names)
	}

	if _, _, err := runFerry(t, "get", "p/r"); err == nil || !strings.Contains(err.Error(), "no file path") {
		t.Fatalf("bad ref: err = %v", err)
	}
}

func TestPut(t *testing.T) {
	content := binaryContent(2<<20 + 5)
	file := filepath.Join(t.TempDir(), "app.tar.gz")
	if err := os.WriteFile(file, content, 0o644); err != nil {
		t.Fatal(err)
	}
	type seen struct {
		uri, sum, overwrite, token string
		length                     int64
		meta                       map[string]string
		body                       []byte
	}
	var (
		mu   sync.Mutex
		reqs []seen
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s := seen{uri: r.RequestURI, sum: r.Header.Get("X-Checksum-Sha256"), overwrite: r.Header.Get("X-Ferry-Overwrite"),
			token: r.Header.Get("X-Auth-Token"), length: r.ContentLength, meta: map[string]string{}, body: body}
		for k, v := range r.Header {
			if name, ok := strings.CutPrefix(k, "X-Ferry-Meta-"); ok {
				s.meta[name] = v[0]
			}
		}
		mu.Lock()
		reqs = append(reqs, s)
		mu.Unlock()
		if r.Method != http.MethodPut {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(client.Node{FullPath: strings.TrimPrefix(r.URL.Path, "/generic/proj/repo"), Size: int64(len(body)), SHA256: hexSHA(body)})
	}))
	defer srv.Close()

	stdout, _, err := runFerry(t, "put", "--address", srv.URL, "--token", "tok", "--cluster", "eu",
		"--meta", "commit=abc", "--meta", "note=a=b, c", "--no-overwrite", file, "proj/repo/rel ease/v1/")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := reqs[0]
	mu.Unlock()
	if want := "/generic/proj/repo/rel%20ease/v1/app.tar.gz?cluster=eu"; got.uri != want {
		t.Errorf("URI %s, want %s", got.uri, want)
	}
	if got.sum != hexSHA(content) || got.length != int64(len(content)) || !bytes.Equal(got.body, content) {
		t.Errorf("sent sha256 %s length %d (%d bytes), want %s %d", got.sum, got.length, len(got.body), hexSHA(content), len(content))
	}
	if got.overwrite != "false" || got.token != "tok" {
		t.Errorf("overwrite %q token %q", got.overwrite, got.token)
	}
	if got.meta["Commit"] != "abc" || got.meta["Note"] != "a=b, c" || len(got.meta) != 2 {
		t.Errorf("meta %v", got.meta)
	}
	want := "stored: proj/repo/rel ease/v1/app.tar.gz\nsize:   2097157 bytes (2.0 MiB)\nsha256: " + hexSHA(content) + "\n"
	if stdout != want {
		t.Errorf("stdout\n got %q\nwant %q", stdout, want)
	}

	// Overwrite is the default: no X-Ferry-Overwrite header.
	if _, _, err := runFerry(t, "put", "--address", srv.URL, file, "proj/repo/x"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if reqs[1].overwrite != "" || reqs[1].uri != "/generic/proj/repo/x" {
		t.Errorf("second put: %+v", reqs[1].uri)
	}
	mu.Unlock()

	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--meta", "novalue", file, "p/r/x"}, "want key=value"},
		{[]string{"--meta", "bad key=v", file, "p/r/x"}, "keys are"},
		{[]string{filepath.Join(t.TempDir(), "missing"), "p/r/x"}, "no such file"},
		{[]string{t.TempDir(), "p/r/x"}, "not a regular file"},
		{[]string{file, "p/r"}, "no file path"},
	} {
		_, _, err := runFerry(t, append([]string{"put", "--address", srv.URL}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("put %v: err = %v, want %q", tc.args, err, tc.err)
		}
	}
}

func TestPutRejected(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusConflict)
		fmt.Fprint(w, `{"error":"already exists"}`)
	}))
	defer srv.Close()
	_, _, err := runFerry(t, "put", "--address", srv.URL, "--no-overwrite", file, "p/r/f")
	if err == nil || !strings.Contains(err.Error(), "409 Conflict: already exists") {
		t.Fatalf("err = %v", err)
	}
}

// A DOCKER repository lists its images' tags, each with its manifest's
// digest; --nodes lists the nodes.
func TestLsImages(t *testing.T) {
	mod := time.Date(2025, 1, 2, 3, 4, 0, 0, time.UTC)
	digest := strings.Repeat("ef", 32)
	nodes := []client.Node{
		{FullPath: "/_blobs/sha256/" + strings.Repeat("12", 32), Size: 100},
		{FullPath: "/_tags/latest", Size: 394, SHA256: digest, LastModifiedDate: mod},
		{FullPath: "/web/_manifests/sha256/" + digest, Size: 394, SHA256: digest},
		{FullPath: "/web/_tags/v2", Size: 394, SHA256: digest, LastModifiedDate: mod},
		{FullPath: "/web/_tags/v1", Size: 394, SHA256: digest, LastModifiedDate: mod},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/nodes") {
			json.NewEncoder(w).Encode(client.Repo{ProjectID: "team", Name: "app", Type: "DOCKER"})
			return
		}
		json.NewEncoder(w).Encode(client.NodePage{PageNumber: 1, PageSize: 500, TotalRecords: int64(len(nodes)), TotalPages: 1, Records: nodes})
	}))
	defer srv.Close()
	stdout, _, err := runFerry(t, "ls", "--address", srv.URL, "team/app")
	if err != nil {
		t.Fatal(err)
	}
	local := mod.Local().Format("2006-01-02 15:04")
	want := "IMAGE         TAG     DIGEST                                                                   SIZE   MODIFIED\n" +
		"team/app      latest  sha256:" + digest + "  394 B  " + local + "\n" +
		"team/app/web  v1      sha256:" + digest + "  394 B  " + local + "\n" +
		"team/app/web  v2      sha256:" + digest + "  394 B  " + local + "\n"
	if stdout != want {
		t.Errorf("stdout\n got:\n%s\nwant:\n%s", stdout, want)
	}
	if stdout, _, err := runFerry(t, "ls", "--address", srv.URL, "--nodes", "team/app"); err != nil || !strings.Contains(stdout, "_blobs/") {
		t.Errorf("--nodes: %v\n%s", err, stdout)
	}
}

func TestLs(t *testing.T) {
	mod := time.Date(2025, 1, 2, 3, 4, 0, 0, time.UTC)
	nodes := []client.Node{
		{FullPath: "/rel/sub", Name: "sub", Folder: true, LastModifiedDate: mod},
		{FullPath: "/rel/a b.txt", Name: "a b.txt", Size: 1536, SHA256: strings.Repeat("ab", 32), LastModifiedDate: mod},
		{FullPath: "/rel/sub/deep/c.bin", Name: "c.bin", Size: 5 << 20, SHA256: strings.Repeat("cd", 32), LastModifiedDate: mod},
		{FullPath: "/rel/empty", Name: "empty"},
		{FullPath: "/rel/z", Name: "z", Size: 1},
	}
	var (
		mu      sync.Mutex
		queries []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/nodes") { // the repository's description
			json.NewEncoder(w).Encode(client.Repo{ProjectID: "proj", Name: "repo", Type: "GENERIC"})
			return
		}
		mu.Lock()
		queries = append(queries, r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		q := r.URL.Query()
		num, _ := strconv.Atoi(q.Get("pageNumber"))
		const size = 2 // the agent may cap the page size
		lo := (num - 1) * size
		page := client.NodePage{PageNumber: num, PageSize: size, TotalRecords: int64(len(nodes)), TotalPages: int64((len(nodes) + size - 1) / size), Records: []client.Node{}}
		if lo < len(nodes) {
			page.Records = nodes[lo:min(lo+size, len(nodes))]
		}
		json.NewEncoder(w).Encode(page)
	}))
	defer srv.Close()

	stdout, _, err := runFerry(t, "ls", "--address", srv.URL, "--cluster", "eu", "proj/repo/rel/", "-r")
	if err != nil {
		t.Fatal(err)
	}
	local := mod.Local().Format("2006-01-02 15:04")
	want := "NAME            SIZE     MODIFIED          SHA256\n" +
		"sub/            -        " + local + "  -\n" +
		"a b.txt         1.5 KiB  " + local + "  abababababab\n" +
		"sub/deep/c.bin  5.0 MiB  " + local + "  cdcdcdcdcdcd\n" +
		"empty           0 B      -                 -\n" +
		"z               1 B      -                 -\n"
	if stdout != want {
		t.Errorf("stdout\n got:\n%s\nwant:\n%s", stdout, want)
	}
	mu.Lock()
	if len(queries) != 3 {
		t.Errorf("%d requests, want 3 pages: %v", len(queries), queries)
	}
	if want := "/v1/projects/proj/repos/repo/nodes?cluster=eu&pageNumber=3&pageSize=500&path=%2Frel&recursive=true"; queries[len(queries)-1] != want {
		t.Errorf("last query %s, want %s", queries[len(queries)-1], want)
	}
	mu.Unlock()

	// Non-recursive names are the nodes' names.
	stdout, _, err = runFerry(t, "ls", "--address", srv.URL, "proj/repo")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout, "\nc.bin ") || !strings.Contains(stdout, "\nsub/ ") {
		t.Errorf("non-recursive:\n%s", stdout)
	}
	mu.Lock()
	if q := queries[len(queries)-1]; !strings.Contains(q, "path=%2F&recursive=false") {
		t.Errorf("root query %s", q)
	}
	mu.Unlock()
}

func TestLsRow(t *testing.T) {
	for _, tc := range []struct {
		n         client.Node
		dir       string
		recursive bool
		want      string
	}{
		{client.Node{FullPath: "/a/b", Name: "b", Folder: true}, "/a", false, "b/\t-\t-\t-"},
		{client.Node{FullPath: "/a/b/c", Name: "c", Size: 10, SHA256: "0123456789abcdef"}, "/a", true, "b/c\t10 B\t-\t0123456789ab"},
		{client.Node{FullPath: "/a/b/c", Name: "c", SHA256: "short"}, "/", true, "a/b/c\t0 B\t-\tshort"},
		{client.Node{FullPath: "x/y", Size: 2048}, "/", false, "x/y\t2.0 KiB\t-\t-"}, // no name: path below dir
	} {
		if got := lsRow(tc.n, tc.dir, tc.recursive); got != tc.want {
			t.Errorf("lsRow(%+v, %q, %v) = %q, want %q", tc.n, tc.dir, tc.recursive, got, tc.want)
		}
	}
}

func TestWriteFileAtomicRemovesTempOnError(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "f")
	err := writeFileAtomic(target, 0, func(w io.Writer) error {
		if _, err := w.Write([]byte("partial")); err != nil {
			return err
		}
		return fmt.Errorf("boom")
	})
	if err == nil || err.Error() != "boom" {
		t.Fatalf("err = %v", err)
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Fatalf("left behind %v", names)
	}
	if err := writeFileAtomic(target, 0, func(w io.Writer) error { _, err := w.Write([]byte("ok")); return err }); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); string(got) != "ok" {
		t.Fatalf("content %q", got)
	}
}
