package client

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeGeneric implements just the client-side contract of the generic
// repository API, in memory: PUT/GET/HEAD /generic/... and the node listing.
type fakeGeneric struct {
	mu      sync.Mutex
	files   map[string]*fakeFile // "project/repo" + fullPath ("/a/b")
	uris    []string             // RequestURI of every request
	tokens  []string             // X-Auth-Token of every request
	corrupt bool                 // serve flipped content with the right checksum
}

type fakeFile struct {
	data []byte
	meta map[string]string
	mod  time.Time
}

func newFakeGeneric(t *testing.T) (*fakeGeneric, *httptest.Server) {
	t.Helper()
	f := &fakeGeneric{files: map[string]*fakeFile{}}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /generic/{project}/{repo}/{path...}", f.put)
	mux.HandleFunc("GET /generic/{project}/{repo}/{path...}", f.get) // and HEAD
	mux.HandleFunc("GET /v1/projects/{project}/repos/{repo}/nodes", f.list)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.uris = append(f.uris, r.RequestURI)
		f.tokens = append(f.tokens, r.Header.Get("X-Auth-Token"))
		f.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

// seen returns the RequestURIs and tokens of the requests so far.
func (f *fakeGeneric) seen() (uris, tokens []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.uris...), append([]string(nil), f.tokens...)
}

// stored returns the content stored under key ("project/repo/path").
func (f *fakeGeneric) stored(key string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ff, ok := f.files[key]
	if !ok {
		return nil, false
	}
	return ff.data, true
}

func fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func (f *fakeGeneric) node(fullPath string, ff *fakeFile) Node {
	sum := sha256.Sum256(ff.data)
	m := md5.Sum(ff.data)
	return Node{
		FullPath: fullPath, Name: fullPath[strings.LastIndex(fullPath, "/")+1:],
		Size: int64(len(ff.data)), SHA256: hex.EncodeToString(sum[:]), MD5: hex.EncodeToString(m[:]),
		CreatedBy: "test", CreatedDate: ff.mod, LastModifiedBy: "test", LastModifiedDate: ff.mod,
		Metadata: ff.meta,
	}
}

func (f *fakeGeneric) put(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength < 0 {
		fail(w, http.StatusLengthRequired, "Content-Length required")
		return
	}
	key := r.PathValue("project") + "/" + r.PathValue("repo") + "/" + r.PathValue("path")
	f.mu.Lock()
	_, exists := f.files[key]
	f.mu.Unlock()
	if exists && r.Header.Get("X-Ferry-Overwrite") == "false" {
		fail(w, http.StatusConflict, "already exists")
		return
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	sum := sha256.Sum256(data)
	if want := r.Header.Get("X-Checksum-Sha256"); want != "" && want != hex.EncodeToString(sum[:]) {
		fail(w, http.StatusBadRequest, "content does not match the expected checksum or size")
		return
	}
	meta := map[string]string{}
	for k, v := range r.Header {
		if name, ok := strings.CutPrefix(k, "X-Ferry-Meta-"); ok {
			meta[strings.ToLower(name)] = v[0]
		}
	}
	ff := &fakeFile{data: data, meta: meta, mod: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)}
	f.mu.Lock()
	f.files[key] = ff
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(f.node("/"+r.PathValue("path"), ff))
}

func (f *fakeGeneric) get(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("project") + "/" + r.PathValue("repo") + "/" + r.PathValue("path")
	f.mu.Lock()
	ff, ok := f.files[key]
	corrupt := f.corrupt
	f.mu.Unlock()
	if !ok {
		fail(w, http.StatusNotFound, "not found: /"+r.PathValue("path"))
		return
	}
	sum := sha256.Sum256(ff.data)
	data := ff.data
	if corrupt && len(data) > 0 {
		data = bytes.Clone(data)
		data[0] ^= 0xff
	}
	w.Header().Set("X-Checksum-Sha256", hex.EncodeToString(sum[:]))
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	http.ServeContent(w, r, "", ff.mod, bytes.NewReader(data))
}

func (f *fakeGeneric) list(w http.ResponseWriter, r *http.Request) {
	prefix := r.PathValue("project") + "/" + r.PathValue("repo") + "/"
	dir := strings.Trim(r.URL.Query().Get("path"), "/")
	if dir != "" {
		dir += "/"
	}
	recursive := r.URL.Query().Get("recursive") == "true"
	num, _ := strconv.Atoi(r.URL.Query().Get("pageNumber"))
	size, _ := strconv.Atoi(r.URL.Query().Get("pageSize"))
	if num < 1 {
		num = 1
	}
	if size < 1 {
		size = 20
	}
	var folders, files []Node
	seen := map[string]bool{}
	f.mu.Lock()
	for key, ff := range f.files {
		p, ok := strings.CutPrefix(key, prefix)
		if !ok {
			continue
		}
		rel, ok := strings.CutPrefix(p, dir)
		if !ok {
			continue
		}
		if first, _, nested := strings.Cut(rel, "/"); nested && !recursive {
			if !seen[first] {
				seen[first] = true
				folders = append(folders, Node{FullPath: "/" + dir + first, Name: first, Folder: true})
			}
			continue
		}
		files = append(files, f.node("/"+p, ff))
	}
	f.mu.Unlock()
	sort.Slice(folders, func(i, j int) bool { return folders[i].FullPath < folders[j].FullPath })
	sort.Slice(files, func(i, j int) bool { return files[i].FullPath < files[j].FullPath })
	all := append(folders, files...)
	page := NodePage{PageNumber: num, PageSize: size, TotalRecords: int64(len(all)), TotalPages: int64((len(all) + size - 1) / size), Records: []Node{}}
	if lo := (num - 1) * size; lo < len(all) {
		page.Records = all[lo:min(lo+size, len(all))]
	}
	json.NewEncoder(w).Encode(page)
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestUploadDownloadEscapedPath(t *testing.T) {
	f, srv := newFakeGeneric(t)
	c := New(srv.URL, "s3cret")
	ctx := context.Background()
	content := []byte("hello, ferry\n")
	path := "dir with space/ünïcödé/a%b?c#d;e+f.txt"

	n, err := c.Upload(ctx, ArtifactRef{Project: "proj", Repo: "repo", Path: path, Cluster: "eu-west"}, bytes.NewReader(content), UploadOptions{Size: int64(len(content)), SHA256: sha(content), Metadata: map[string]string{"commit": "abc123", "Build-Id": "7"}})
	if err != nil {
		t.Fatal(err)
	}
	if n.FullPath != "/"+path || n.Size != int64(len(content)) || n.SHA256 != sha(content) || n.Name != "a%b?c#d;e+f.txt" {
		t.Fatalf("node = %+v", n)
	}
	if n.Metadata["commit"] != "abc123" || n.Metadata["build-id"] != "7" {
		t.Fatalf("metadata = %v", n.Metadata)
	}
	wantURI := "/generic/proj/repo/dir%20with%20space/%C3%BCn%C3%AFc%C3%B6d%C3%A9/a%25b%3Fc%23d%3Be+f.txt?cluster=eu-west"
	uris, tokens := f.seen()
	if uris[0] != wantURI {
		t.Fatalf("request URI\n got %s\nwant %s", uris[0], wantURI)
	}
	if tokens[0] != "s3cret" {
		t.Fatalf("token = %q", tokens[0])
	}

	body, info, err := c.Download(ctx, ArtifactRef{Project: "proj", Repo: "repo", Path: "/" + path})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(body)
	body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Fatalf("downloaded %q, want %q", got, content)
	}
	wantTime := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	if info.Size != int64(len(content)) || info.SHA256 != sha(content) || info.ETag != `"`+sha(content)+`"` || !info.LastModified.Equal(wantTime) {
		t.Fatalf("info = %+v", info)
	}
	uris, tokens = f.seen()
	if last := uris[len(uris)-1]; last != strings.TrimSuffix(wantURI, "?cluster=eu-west") || tokens[len(tokens)-1] != "s3cret" {
		t.Fatalf("download URI %s", last)
	}

	st, err := c.Stat(ctx, ArtifactRef{Project: "proj", Repo: "repo", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if st != info {
		t.Fatalf("stat = %+v, want %+v", st, info)
	}
}

func TestUploadChecksumMismatchStoresNothing(t *testing.T) {
	f, srv := newFakeGeneric(t)
	c := New(srv.URL, "")
	content := []byte("abc")
	_, err := c.Upload(context.Background(), ArtifactRef{Project: "p", Repo: "r", Path: "a.txt"}, bytes.NewReader(content), UploadOptions{Size: 3, SHA256: sha([]byte("abd"))})
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusBadRequest || !strings.Contains(e.Message, "checksum") {
		t.Fatalf("err = %v", err)
	}
	if _, ok := f.stored("p/r/a.txt"); ok {
		t.Fatal("stored content that failed its checksum")
	}
}

func TestUploadNoOverwrite(t *testing.T) {
	_, srv := newFakeGeneric(t)
	c := New(srv.URL, "")
	ctx := context.Background()
	for i, want := range []int{0, http.StatusConflict} {
		_, err := c.Upload(ctx, ArtifactRef{Project: "p", Repo: "r", Path: "a.txt"}, strings.NewReader("x"), UploadOptions{Size: 1, NoOverwrite: true})
		var e *Error
		switch {
		case want == 0 && err != nil:
			t.Fatalf("upload %d: %v", i, err)
		case want != 0 && (!errors.As(err, &e) || e.Status != want || e.Message != "already exists"):
			t.Fatalf("upload %d: err = %v, want %d", i, err, want)
		}
	}
	// Overwriting is the default.
	if _, err := c.Upload(ctx, ArtifactRef{Project: "p", Repo: "r", Path: "a.txt"}, strings.NewReader("y"), UploadOptions{Size: 1}); err != nil {
		t.Fatal(err)
	}
}

type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

func TestUploadSizes(t *testing.T) {
	f, srv := newFakeGeneric(t)
	c := New(srv.URL, "")
	ctx := context.Background()

	// Empty content, and a body that is not closed by Upload.
	body := &closeTracker{Reader: strings.NewReader("")}
	n, err := c.Upload(ctx, ArtifactRef{Project: "p", Repo: "r", Path: "empty"}, body, UploadOptions{Size: 0, SHA256: sha(nil)})
	if err != nil || n.Size != 0 {
		t.Fatalf("empty upload: %+v, %v", n, err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	body = &closeTracker{Reader: bytes.NewReader(big)}
	if _, err := c.Upload(ctx, ArtifactRef{Project: "p", Repo: "r", Path: "big"}, body, UploadOptions{Size: int64(len(big)), SHA256: sha(big)}); err != nil {
		t.Fatal(err)
	}
	if body.closed {
		t.Fatal("Upload closed the caller's body")
	}
	if got, _ := f.stored("p/r/big"); !bytes.Equal(got, big) {
		t.Fatalf("stored %d bytes, want %d", len(got), len(big))
	}
	// A body shorter than the announced size fails on the client.
	if _, err := c.Upload(ctx, ArtifactRef{Project: "p", Repo: "r", Path: "short"}, strings.NewReader("abc"), UploadOptions{Size: 10}); err == nil {
		t.Fatal("short body: no error")
	}
	// Only the announced size is sent.
	if _, err := c.Upload(ctx, ArtifactRef{Project: "p", Repo: "r", Path: "long"}, strings.NewReader("abcdef"), UploadOptions{Size: 3, SHA256: sha([]byte("abc"))}); err != nil {
		t.Fatal(err)
	}
	// Unknown size goes chunked, which this agent refuses.
	_, err = c.Upload(ctx, ArtifactRef{Project: "p", Repo: "r", Path: "chunked"}, strings.NewReader("abc"), UploadOptions{Size: -1})
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusLengthRequired {
		t.Fatalf("chunked: %v", err)
	}
}

func TestDownloadNotFound(t *testing.T) {
	_, srv := newFakeGeneric(t)
	c := New(srv.URL, "")
	_, _, err := c.Download(context.Background(), ArtifactRef{Project: "p", Repo: "r", Path: "nope.txt"})
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusNotFound || e.Message != "not found: /nope.txt" {
		t.Fatalf("err = %#v", err)
	}
	// HEAD has no body: the message falls back to the status text.
	_, err = c.Stat(context.Background(), ArtifactRef{Project: "p", Repo: "r", Path: "nope.txt"})
	if !errors.As(err, &e) || e.Status != http.StatusNotFound || e.Message != "not found" {
		t.Fatalf("stat err = %#v", err)
	}
}

func TestInvalidPaths(t *testing.T) {
	c := New("127.0.0.1:1", "")
	ctx := context.Background()
	for _, tc := range []struct{ project, repo, path string }{
		{"p", "r", ""},
		{"p", "r", "/"},
		{"p", "r", "a//b"},
		{"p", "r", "a/../b"},
		{"p", "r", "./a"},
		{"", "r", "a"},
		{"p", "", "a"},
		{"p/q", "r", "a"},
		{"p", "..", "a"},
	} {
		if _, _, err := c.Download(ctx, ArtifactRef{Project: tc.project, Repo: tc.repo, Path: tc.path}); err == nil || strings.Contains(err.Error(), "connect") {
			t.Errorf("Download(%q, %q, %q): err = %v, want a validation error", tc.project, tc.repo, tc.path, err)
		}
	}
	if _, err := c.Upload(ctx, ArtifactRef{Project: "p", Repo: "r", Path: "a"}, strings.NewReader("x"), UploadOptions{Size: 1, SHA256: "xyz"}); err == nil || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("bad sha256: %v", err)
	}
}

func TestList(t *testing.T) {
	f, srv := newFakeGeneric(t)
	c := New(srv.URL, "")
	ctx := context.Background()
	for _, p := range []string{"a.txt", "b.txt", "sub/c.txt", "sub/deeper/d.txt", "späce dir/e.txt"} {
		if _, err := c.Upload(ctx, ArtifactRef{Project: "p", Repo: "r", Path: p}, strings.NewReader(p), UploadOptions{Size: int64(len(p))}); err != nil {
			t.Fatal(err)
		}
	}
	page, err := c.List(ctx, ArtifactRef{Project: "p", Repo: "r", Path: "/"}, ListQuery{PageNumber: 1, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range page.Records {
		if n.Folder {
			names = append(names, n.Name+"/")
		} else {
			names = append(names, n.Name)
		}
	}
	if got, want := strings.Join(names, ","), "späce dir/,sub/,a.txt,b.txt"; got != want {
		t.Fatalf("root listing = %s, want %s", got, want)
	}

	// Recursive, two per page.
	var paths []string
	for num := 1; ; num++ {
		page, err := c.List(ctx, ArtifactRef{Project: "p", Repo: "r", Path: "sub", Cluster: "eu"}, ListQuery{Recursive: true, PageNumber: num, PageSize: 2})
		if err != nil {
			t.Fatal(err)
		}
		if page.PageNumber != num || page.PageSize != 2 || page.TotalRecords != 2 || page.TotalPages != 1 {
			t.Fatalf("page = %+v", page)
		}
		for _, n := range page.Records {
			paths = append(paths, n.FullPath)
		}
		if int64(num) >= page.TotalPages {
			break
		}
	}
	if got, want := strings.Join(paths, ","), "/sub/c.txt,/sub/deeper/d.txt"; got != want {
		t.Fatalf("recursive = %s, want %s", got, want)
	}
	uris, _ := f.seen()
	last := uris[len(uris)-1]
	if want := "/v1/projects/p/repos/r/nodes?cluster=eu&pageNumber=1&pageSize=2&path=%2Fsub&recursive=true"; last != want {
		t.Fatalf("list URI\n got %s\nwant %s", last, want)
	}
}

func TestStreamClientHasNoTimeout(t *testing.T) {
	c := New("127.0.0.1:1", "")
	hc := c.streamHTTP()
	if hc.Timeout != 0 {
		t.Fatalf("stream client timeout = %v", hc.Timeout)
	}
	if c.http.Timeout != 30*time.Second {
		t.Fatalf("API client timeout changed to %v", c.http.Timeout)
	}
	if hc.Transport != c.http.Transport {
		t.Fatal("stream client does not share the transport")
	}
}

func TestDownloadStreamsAndRespectsContext(t *testing.T) {
	// A server that sends a first chunk and then stalls: Download must return
	// as soon as the headers arrive, and reading must end with the context.
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Header().Set("X-Checksum-Sha256", strings.Repeat("0", 64))
		w.Write([]byte("first"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	body, info, err := New(srv.URL, "").Download(ctx, ArtifactRef{Project: "p", Repo: "r", Path: "f"})
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	if info.Size != 1000 {
		t.Fatalf("size = %d", info.Size)
	}
	buf := make([]byte, 5)
	if _, err := io.ReadFull(body, buf); err != nil || string(buf) != "first" {
		t.Fatalf("read %q, %v", buf, err)
	}
	cancel()
	if _, err := io.ReadAll(body); err == nil {
		t.Fatal("read after cancel: no error")
	}
}

func TestDownloadLeavesVerificationToCaller(t *testing.T) {
	f, srv := newFakeGeneric(t)
	c := New(srv.URL, "")
	ctx := context.Background()
	content := []byte("payload")
	if _, err := c.Upload(ctx, ArtifactRef{Project: "p", Repo: "r", Path: "f"}, bytes.NewReader(content), UploadOptions{Size: int64(len(content))}); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.corrupt = true
	f.mu.Unlock()
	body, info, err := c.Download(ctx, ArtifactRef{Project: "p", Repo: "r", Path: "f"})
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	got, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	if info.SHA256 != sha(content) || sha(got) == info.SHA256 {
		t.Fatalf("announced %s, received %s", info.SHA256, sha(got))
	}
}
