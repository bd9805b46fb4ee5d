package feed

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferrysync/ferry/store"
)

var bg = context.Background()

// newStore opens a store in a temp dir with project "demo" and repositories
// "iso" and "other".
func newStore(t *testing.T) (*store.Local, store.Repository) {
	t.Helper()
	s, err := store.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.CreateProject(bg, store.Project{Name: "demo"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"iso", "other"} {
		if _, err := s.CreateRepo(bg, store.Repo{Project: "demo", Name: name, Type: store.TypeGeneric}); err != nil {
			t.Fatal(err)
		}
	}
	return s, repoOf(t, s, "iso")
}

func repoOf(t *testing.T, s *store.Local, name string) store.Repository {
	t.Helper()
	r, err := s.Repository(bg, "demo", name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// content is n bytes that differ with seed.
func content(seed string, n int) []byte {
	return bytes.Repeat([]byte(seed), n/len(seed)+1)[:n]
}

func readAll(t *testing.T, r store.Repository, path string) []byte {
	t.Helper()
	rd, err := r.Open(bg, path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer rd.Close()
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func put(t *testing.T, r store.Repository, path string, b []byte) {
	t.Helper()
	if _, err := r.Write(bg, path, bytes.NewReader(b), store.WriteOptions{SHA256: sum(b), Size: int64(len(b))}); err != nil {
		t.Fatal(err)
	}
}

func paths(t *testing.T, r store.Repository) []string {
	t.Helper()
	var ps []string
	if err := r.Walk(bg, "/", func(n store.Node) error { ps = append(ps, n.Path); return nil }); err != nil {
		t.Fatal(err)
	}
	return ps
}

func head(t *testing.T, r store.Repository) uint64 {
	t.Helper()
	h, err := r.Head(bg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// feedServer serves a feed at /feed/ on loopback: its files, and a
// PULP_MANIFEST listing them unless manifest is set.
type feedServer struct {
	srv *httptest.Server

	mu       sync.Mutex
	files    map[string][]byte
	manifest *string                                                        // served instead of the generated manifest
	status   map[string]int                                                 // a name answered with this status
	hits     map[string]int                                                 // requests by name
	ranges   []string                                                       // Range headers received
	user     string                                                         // when set, basic auth user and pass are required
	pass     string                                                         //
	handle   func(w http.ResponseWriter, r *http.Request, name string) bool // answers a request when it returns true
}

func newFeed(t *testing.T, files map[string][]byte) *feedServer {
	f := &feedServer{files: files, status: map[string]int{}, hits: map[string]int{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *feedServer) url() string { return f.srv.URL + "/feed" }

func (f *feedServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, "/feed/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	f.hits[name]++
	if rg := r.Header.Get("Range"); rg != "" {
		f.ranges = append(f.ranges, name+" "+rg)
	}
	user, pass, handle, status := f.user, f.pass, f.handle, f.status[name]
	body, found := f.files[name]
	if name == ManifestName {
		body, found = []byte(f.manifestText()), true
	}
	f.mu.Unlock()
	if u, p, _ := r.BasicAuth(); user != "" && (u != user || p != pass) {
		http.Error(w, "who are you", http.StatusUnauthorized)
		return
	}
	if handle != nil && handle(w, r, name) {
		return
	}
	switch {
	case status != 0:
		http.Error(w, "as configured", status)
	case !found:
		http.NotFound(w, r)
	default:
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
	}
}

// manifestText is the manifest served; f.mu is held.
func (f *feedServer) manifestText() string {
	if f.manifest != nil {
		return *f.manifest
	}
	var entries []Entry
	for name, b := range f.files {
		entries = append(entries, Entry{Name: name, SHA256: sum(b), Size: int64(len(b))})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name < entries[j].Name })
	var buf bytes.Buffer
	WriteManifest(&buf, entries)
	return buf.String()
}

func (f *feedServer) set(fn func(f *feedServer)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// takeHits returns the requests by name since the last call.
func (f *feedServer) takeHits() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.hits
	f.hits = map[string]int{}
	return h
}

// recorder keeps every Progress a sync reported.
type recorder struct {
	mu sync.Mutex
	ps []Progress
}

func (r *recorder) fn(p Progress) {
	r.mu.Lock()
	r.ps = append(r.ps, p)
	r.mu.Unlock()
}

// states are the states reported, each once, in order.
func (r *recorder) states() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, p := range r.ps {
		if len(out) == 0 || out[len(out)-1] != p.State {
			out = append(out, p.State)
		}
	}
	return out
}

func (r *recorder) last() Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ps[len(r.ps)-1]
}

func opts(feed string) Options {
	return Options{Feed: feed, Validate: true, By: "feed-test"}
}

// eventually polls cond until it holds, failing the test after 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func threeFiles() map[string][]byte {
	return map[string][]byte{
		"1.iso":     content("one", 1000),
		"sub/3.iso": content("three", 3000),
		"big.iso":   content("big!", 3*store.InlineMax+17), // a blob file, not inline
	}
}

func TestFirstSyncDownloadsEverything(t *testing.T) {
	_, repo := newStore(t)
	files := threeFiles()
	f := newFeed(t, files)
	var rec recorder
	opt := opts(f.url())
	opt.Progress = rec.fn
	rep, err := Sync(bg, repo, opt)
	if err != nil {
		t.Fatal(err)
	}
	want := Report{Added: 3, BytesDownloaded: 1000 + 3000 + 3*store.InlineMax + 17, State: StateComplete}
	if !sameReport(rep, want) {
		t.Fatalf("report %+v, want %+v", rep, want)
	}
	for name, b := range files {
		if got := readAll(t, repo, "/"+name); !bytes.Equal(got, b) {
			t.Fatalf("%s holds %d bytes, not the feed's %d", name, len(got), len(b))
		}
		n, _ := repo.Stat(bg, "/"+name)
		if n.CreatedBy != "feed-test" || n.SHA256 != sum(b) {
			t.Fatalf("node %+v", n)
		}
	}
	if got, want := rec.states(), []string{StateManifestInProgress, StateISOsInProgress, StateComplete}; !slices.Equal(got, want) {
		t.Fatalf("states %v, want %v", got, want)
	}
	last := rec.last()
	if last.NumISOs != 3 || last.NumISOsFinished != 3 || last.TotalBytes != want.BytesDownloaded || last.FinishedBytes != want.BytesDownloaded {
		t.Fatalf("last progress %+v", last)
	}
	for _, s := range []string{StateNotStarted, StateManifestInProgress, StateISOsInProgress, StateComplete} {
		if last.StateTimes[s].IsZero() {
			t.Fatalf("no time for state %s: %v", s, last.StateTimes)
		}
	}
	var prev int64
	for _, p := range rec.ps {
		if p.FinishedBytes < prev {
			t.Fatalf("finished_bytes went back from %d to %d", prev, p.FinishedBytes)
		}
		prev = p.FinishedBytes
	}
}

// sameReport compares reports, Errors by content.
func sameReport(a, b Report) bool {
	type counts struct {
		added, linked, unchanged, removed, failed int
		bytes                                     int64
		state                                     string
	}
	ca := counts{a.Added, a.Linked, a.Unchanged, a.Removed, a.Failed, a.BytesDownloaded, a.State}
	cb := counts{b.Added, b.Linked, b.Unchanged, b.Removed, b.Failed, b.BytesDownloaded, b.State}
	return ca == cb && slices.Equal(a.Errors, b.Errors)
}

func TestResyncOfAnUnchangedFeedFetchesOnlyTheManifest(t *testing.T) {
	_, repo := newStore(t)
	f := newFeed(t, threeFiles())
	if _, err := Sync(bg, repo, opts(f.url())); err != nil {
		t.Fatal(err)
	}
	if hits := f.takeHits(); len(hits) != 4 {
		t.Fatalf("first sync requests %v", hits)
	}
	h := head(t, repo)
	opt := opts(f.url())
	opt.RemoveMissing = true
	rep, err := Sync(bg, repo, opt)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Report{Unchanged: 3, State: StateComplete}); !sameReport(rep, want) {
		t.Fatalf("report %+v, want %+v", rep, want)
	}
	if hits := f.takeHits(); len(hits) != 1 || hits[ManifestName] != 1 {
		t.Fatalf("re-sync requested %v, want only the manifest once", hits)
	}
	if head(t, repo) != h {
		t.Fatal("the re-sync changed the repository")
	}
}

func TestChangedFileIsReplaced(t *testing.T) {
	_, repo := newStore(t)
	f := newFeed(t, threeFiles())
	if _, err := Sync(bg, repo, opts(f.url())); err != nil {
		t.Fatal(err)
	}
	f.takeHits()
	changed := content("changed", 5000)
	f.set(func(f *feedServer) { f.files["sub/3.iso"] = changed })
	rep, err := Sync(bg, repo, opts(f.url()))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 1 || rep.Unchanged != 2 || rep.BytesDownloaded != 5000 {
		t.Fatalf("report %+v", rep)
	}
	if hits := f.takeHits(); len(hits) != 2 || hits["sub/3.iso"] != 1 {
		t.Fatalf("requests %v", hits)
	}
	if got := readAll(t, repo, "/sub/3.iso"); !bytes.Equal(got, changed) {
		t.Fatalf("sub/3.iso was not replaced: %q", got[:10])
	}
}

func TestContentHeldElsewhereIsLinked(t *testing.T) {
	s, repo := newStore(t)
	here, there := content("here", 2*store.InlineMax), content("there", 100)
	put(t, repo, "/old/name.iso", here)
	put(t, repoOf(t, s, "other"), "/x", there) // the store holds it, in another repository
	f := newFeed(t, map[string][]byte{"new.iso": here, "z.iso": there, "fresh.iso": content("fresh", 10)})
	var rec recorder
	opt := opts(f.url())
	opt.Progress = rec.fn
	rep, err := Sync(bg, repo, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Linked != 2 || rep.Added != 1 || rep.BytesDownloaded != 10 {
		t.Fatalf("report %+v", rep)
	}
	if hits := f.takeHits(); hits["new.iso"] != 0 || hits["z.iso"] != 0 || hits["fresh.iso"] != 1 {
		t.Fatalf("requests %v: linked content was downloaded", hits)
	}
	if !bytes.Equal(readAll(t, repo, "/new.iso"), here) || !bytes.Equal(readAll(t, repo, "/z.iso"), there) {
		t.Fatal("linked content differs")
	}
	if p := rec.last(); p.NumISOs != 1 || p.TotalBytes != 10 { // as Pulp: only downloads count
		t.Fatalf("progress %+v", p)
	}
}

func TestFilesOfTheSameContentAreDownloadedOnce(t *testing.T) {
	_, repo := newStore(t)
	same := content("same", 3*store.InlineMax)
	f := newFeed(t, map[string][]byte{"a.iso": same, "copy/a.iso": same})
	rep, err := Sync(bg, repo, opts(f.url()))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Added != 1 || rep.Linked != 1 || rep.BytesDownloaded != int64(len(same)) {
		t.Fatalf("report %+v", rep)
	}
	if hits := f.takeHits(); hits["a.iso"]+hits["copy/a.iso"] != 1 {
		t.Fatalf("requests %v", hits)
	}
	if !bytes.Equal(readAll(t, repo, "/copy/a.iso"), same) || !bytes.Equal(readAll(t, repo, "/a.iso"), same) {
		t.Fatal("content differs")
	}
}

// plainRepo is a repository without the Bulk capability.
type plainRepo struct{ store.Repository }

func TestRepositoryWithoutBulkDownloadsEverything(t *testing.T) {
	_, repo := newStore(t)
	b := content("held", 500)
	put(t, repo, "/held", b)
	f := newFeed(t, map[string][]byte{"again.iso": b})
	rep, err := Sync(bg, plainRepo{repo}, opts(f.url()))
	if err != nil || rep.Added != 1 || rep.Linked != 0 {
		t.Fatalf("report %+v, %v", rep, err)
	}
}

func TestRemoveMissing(t *testing.T) {
	_, repo := newStore(t)
	files := threeFiles()
	f := newFeed(t, files)
	if _, err := Sync(bg, repo, opts(f.url())); err != nil {
		t.Fatal(err)
	}
	put(t, repo, "/local-only.txt", []byte("not from the feed"))
	f.set(func(f *feedServer) { delete(f.files, "sub/3.iso") })

	rep, err := Sync(bg, repo, opts(f.url()))
	if err != nil || rep.Removed != 0 || rep.Unchanged != 2 {
		t.Fatalf("without remove_missing: %+v, %v", rep, err)
	}
	if got := paths(t, repo); len(got) != 4 {
		t.Fatalf("without remove_missing the repository holds %v", got)
	}

	opt := opts(f.url())
	opt.RemoveMissing = true
	rep, err = Sync(bg, repo, opt)
	if err != nil || rep.Removed != 2 || rep.Unchanged != 2 {
		t.Fatalf("with remove_missing: %+v, %v", rep, err)
	}
	if got, want := paths(t, repo), []string{"/1.iso", "/big.iso"}; !slices.Equal(got, want) {
		t.Fatalf("repository holds %v, want %v", got, want)
	}
	changes, _ := repo.Changes(bg, 0, 100)
	if c := changes[len(changes)-1]; c.Kind != store.NodeDeleted || c.By != "feed-test" {
		t.Fatalf("last change %+v", c)
	}
}

func TestBadChecksumFailsThatFileOnly(t *testing.T) {
	_, repo := newStore(t)
	files := threeFiles()
	f := newFeed(t, files)
	var entries []Entry
	for _, name := range []string{"1.iso", "big.iso", "sub/3.iso"} {
		entries = append(entries, Entry{Name: name, SHA256: sum(files[name]), Size: int64(len(files[name]))})
	}
	entries[0].SHA256 = sum([]byte("something else"))   // small: inline
	entries[1].SHA256 = sum([]byte("something bigger")) // large: a blob file
	var buf bytes.Buffer
	WriteManifest(&buf, entries)
	m := buf.String()
	f.set(func(f *feedServer) { f.manifest = &m })
	var rec recorder
	opt := opts(f.url())
	opt.Progress = rec.fn
	rep, err := Sync(bg, repo, opt)
	if err == nil {
		t.Fatal("no error for a file that failed validation")
	}
	if rep.Added != 1 || rep.Failed != 2 || rep.State != StateISOsFailed || len(rep.Errors) != 2 {
		t.Fatalf("report %+v", rep)
	}
	slices.SortFunc(rep.Errors, func(a, b FileError) int { return strings.Compare(a.Name, b.Name) })
	for i, name := range []string{"1.iso", "big.iso"} {
		e := rep.Errors[i]
		if e.Name != name || !strings.Contains(e.Error, "Downloading <"+name+"> failed checksum validation") {
			t.Fatalf("error %+v", e)
		}
		if _, err := repo.Stat(bg, "/"+name); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s was stored despite its checksum: %v", name, err)
		}
	}
	if !bytes.Equal(readAll(t, repo, "/sub/3.iso"), files["sub/3.iso"]) {
		t.Fatal("the good file was not stored")
	}
	if got := rec.states(); got[len(got)-1] != StateISOsFailed {
		t.Fatalf("states %v", got)
	}
	if p := rec.last(); len(p.ISOErrorMessages) != 2 || p.NumISOsFinished != 1 {
		t.Fatalf("progress %+v", p)
	}
}

func TestWrongSizeFailsValidation(t *testing.T) {
	_, repo := newStore(t)
	b := content("sized", 100)
	f := newFeed(t, nil)
	m := fmt.Sprintf("short.iso,%s,%d\nlong.iso,%s,%d\n", sum(b), 101, sum(b), 99)
	f.set(func(f *feedServer) {
		f.manifest = &m
		f.files = map[string][]byte{"short.iso": b, "long.iso": b}
	})
	rep, err := Sync(bg, repo, opts(f.url()))
	if err == nil || rep.Failed != 2 {
		t.Fatalf("report %+v, %v", rep, err)
	}
	msgs := map[string]string{}
	for _, e := range rep.Errors {
		msgs[e.Name] = e.Error
	}
	if !strings.Contains(msgs["short.iso"], "should be 101 bytes, but the downloaded file is 100 bytes") ||
		!strings.Contains(msgs["long.iso"], "should be 99 bytes, but the downloaded file is larger") {
		t.Fatalf("errors %q", msgs)
	}
	if len(paths(t, repo)) != 0 {
		t.Fatal("a file of the wrong size was stored")
	}

	// Without validation both are stored as they came.
	opt := opts(f.url())
	opt.Validate = false
	if rep, err := Sync(bg, repo, opt); err != nil || rep.Added != 2 {
		t.Fatalf("without validate: %+v, %v", rep, err)
	}
	if !bytes.Equal(readAll(t, repo, "/short.iso"), b) {
		t.Fatal("content differs")
	}
}

func TestManifestFailuresChangeNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(f *feedServer)
		msg   string
	}{
		{"404", func(f *feedServer) { f.status[ManifestName] = http.StatusNotFound }, "HTTP 404 Not Found"},
		{"500", func(f *feedServer) { f.status[ManifestName] = http.StatusInternalServerError }, "HTTP 500"},
		{"redirect to a 404", func(f *feedServer) {
			f.handle = func(w http.ResponseWriter, r *http.Request, name string) bool {
				if name == ManifestName {
					http.Redirect(w, r, "/feed/nowhere", http.StatusFound)
					return true
				}
				return false
			}
		}, "HTTP 404"},
		{"malformed", func(f *feedServer) { m := "1.iso," + sumA + "\n"; f.manifest = &m },
			"The PULP_MANIFEST file was not in the expected format. Line 1: 2 fields"},
		{"blank line", func(f *feedServer) { m := "1.iso," + sumA + ",5\n\n"; f.manifest = &m },
			"The PULP_MANIFEST file was not in the expected format. Line 2: a blank line"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, repo := newStore(t)
			put(t, repo, "/kept.iso", []byte("kept"))
			h := head(t, repo)
			f := newFeed(t, threeFiles())
			f.set(tc.setup)
			var rec recorder
			opt := opts(f.url())
			opt.RemoveMissing = true
			opt.Progress = rec.fn
			rep, err := Sync(bg, repo, opt)
			if err == nil || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %v, want one saying %q", err, tc.msg)
			}
			if rep.State != StateManifestFailed || rep.Added+rep.Removed+rep.Linked+rep.Failed != 0 {
				t.Fatalf("report %+v", rep)
			}
			if head(t, repo) != h {
				t.Fatal("a failed manifest changed the repository")
			}
			if got, want := rec.states(), []string{StateManifestInProgress, StateManifestFailed}; !slices.Equal(got, want) {
				t.Fatalf("states %v, want %v", got, want)
			}
			var doc map[string]any
			raw, _ := json.Marshal(rec.last())
			json.Unmarshal(raw, &doc)
			if doc["error_message"] != err.Error() || doc["total_bytes"] != nil || doc["num_isos"] != nil {
				t.Fatalf("progress %s", raw)
			}
			if hits := f.takeHits(); hits["1.iso"]+hits["big.iso"]+hits["sub/3.iso"] != 0 {
				t.Fatalf("files requested after a failed manifest: %v", hits)
			}
		})
	}
}

func TestNoFeed(t *testing.T) {
	_, repo := newStore(t)
	rep, err := Sync(bg, repo, Options{})
	if err == nil || err.Error() != "Repository without feed cannot be synchronized" || rep.State != StateManifestFailed {
		t.Fatalf("%+v, %v", rep, err)
	}
	_, err = Sync(bg, repo, Options{Feed: "ftp://example.com/feed"})
	if err == nil || !strings.Contains(err.Error(), "not an http, https or file URL") {
		t.Fatal(err)
	}
}

func TestServerErrorOnOneFileFailsThatFile(t *testing.T) {
	_, repo := newStore(t)
	files := threeFiles()
	f := newFeed(t, files)
	f.set(func(f *feedServer) { f.status["big.iso"] = http.StatusInternalServerError })
	rep, err := Sync(bg, repo, opts(f.url()))
	if err == nil || rep.Added != 2 || rep.Failed != 1 || rep.State != StateISOsFailed {
		t.Fatalf("report %+v, %v", rep, err)
	}
	want := "Failed to download " + f.url() + "/big.iso: HTTP 500 Internal Server Error."
	if e := rep.Errors[0]; e.Name != "big.iso" || e.Error != want {
		t.Fatalf("error %+v, want %q", e, want)
	}
	if !strings.Contains(err.Error(), "big.iso") {
		t.Fatalf("error %v does not name the file", err)
	}
	if _, err := repo.Stat(bg, "/big.iso"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}

	// The next sync fetches only what failed.
	f.takeHits()
	f.set(func(f *feedServer) { delete(f.status, "big.iso") })
	rep, err = Sync(bg, repo, opts(f.url()))
	if err != nil || rep.Added != 1 || rep.Unchanged != 2 {
		t.Fatalf("report %+v, %v", rep, err)
	}
	if hits := f.takeHits(); len(hits) != 2 || hits["big.iso"] != 1 {
		t.Fatalf("requests %v", hits)
	}
}

func TestBasicAuth(t *testing.T) {
	_, repo := newStore(t)
	f := newFeed(t, threeFiles())
	f.set(func(f *feedServer) { f.user, f.pass = "pulp user", "p@ss:w/rd" })

	// Without credentials the manifest is refused.
	rep, err := Sync(bg, repo, opts(f.url()))
	if err == nil || rep.State != StateManifestFailed || !strings.Contains(err.Error(), "401") {
		t.Fatalf("%+v, %v", rep, err)
	}

	// From the URL, unquoted; they win over the options' and are not shown.
	feed := strings.Replace(f.url(), "http://", "http://pulp%20user:p%40ss%3Aw%2Frd@", 1)
	opt := opts(feed)
	opt.BasicAuthUser, opt.BasicAuthPassword = "wrong", "wrong"
	f.set(func(f *feedServer) { f.status["1.iso"] = http.StatusTeapot })
	rep, err = Sync(bg, repo, opt)
	if rep.Added != 2 || rep.Failed != 1 {
		t.Fatalf("credentials from the URL: %+v, %v", rep, err)
	}
	if strings.Contains(err.Error(), "p%40ss") || strings.Contains(err.Error(), "p@ss") || strings.Contains(rep.Errors[0].Error, "pulp%20user") {
		t.Fatalf("an error shows the credentials: %v", err)
	}

	// From the options.
	f.set(func(f *feedServer) { delete(f.status, "1.iso") })
	opt = opts(f.url())
	opt.BasicAuthUser, opt.BasicAuthPassword = "pulp user", "p@ss:w/rd"
	rep, err = Sync(bg, repo, opt)
	if err != nil || rep.Added != 1 || rep.Unchanged != 2 {
		t.Fatalf("credentials from the options: %+v, %v", rep, err)
	}
}

func TestFileFeed(t *testing.T) {
	_, repo := newStore(t)
	dir := t.TempDir()
	files := threeFiles()
	var entries []Entry
	for name, b := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, Entry{Name: name, SHA256: sum(b), Size: int64(len(b))})
	}
	entries = append(entries, Entry{Name: "missing.iso", SHA256: sumA, Size: 1})
	var buf bytes.Buffer
	WriteManifest(&buf, entries)
	if err := os.WriteFile(filepath.Join(dir, ManifestName), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := Sync(bg, repo, opts("file://"+filepath.ToSlash(dir))) // no trailing slash
	if err == nil || rep.Added != 3 || rep.Failed != 1 {
		t.Fatalf("report %+v, %v", rep, err)
	}
	if e := rep.Errors[0]; e.Name != "missing.iso" || !strings.Contains(e.Error, "file://"+filepath.ToSlash(dir)+"/missing.iso") {
		t.Fatalf("error %+v", e)
	}
	for name, b := range files {
		if !bytes.Equal(readAll(t, repo, "/"+name), b) {
			t.Fatalf("%s differs", name)
		}
	}
	_, err = Sync(bg, repo, opts("file://"+filepath.ToSlash(t.TempDir())))
	if err == nil || !strings.Contains(err.Error(), "PULP_MANIFEST") {
		t.Fatalf("a feed directory without a manifest: %v", err)
	}
}

func TestMaxDownloadsBoundsConcurrency(t *testing.T) {
	_, repo := newStore(t)
	files := map[string][]byte{}
	for i := range 8 {
		files[fmt.Sprintf("%d.iso", i)] = content(fmt.Sprintf("file %d ", i), 2000)
	}
	f := newFeed(t, files)
	var mu sync.Mutex
	inFlight, most := 0, 0
	gate := make(chan struct{}) // opened once the limit is reached
	var openGate sync.Once
	defer openGate.Do(func() { close(gate) }) // also when the test fails
	f.set(func(f *feedServer) {
		f.handle = func(w http.ResponseWriter, r *http.Request, name string) bool {
			if name == ManifestName {
				return false
			}
			mu.Lock()
			inFlight++
			most = max(most, inFlight)
			mu.Unlock()
			defer func() { mu.Lock(); inFlight--; mu.Unlock() }()
			select {
			case <-gate:
			case <-r.Context().Done():
				return true
			}
			return false
		}
	})
	opt := opts(f.url())
	opt.MaxDownloads = 3
	done := make(chan error, 1)
	go func() {
		_, err := Sync(bg, repo, opt)
		done <- err
	}()
	eventually(t, "3 downloads in flight", func() bool { mu.Lock(); defer mu.Unlock(); return inFlight >= 3 })
	openGate.Do(func() { close(gate) })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if most != 3 {
		t.Fatalf("%d downloads were in flight at once, want at most (and at some time) 3", most)
	}
	if len(paths(t, repo)) != 8 {
		t.Fatal("not every file was stored")
	}
}

func TestMaxSpeedIsSharedByAllDownloads(t *testing.T) {
	_, repo := newStore(t)
	files := map[string][]byte{}
	for i := range 3 {
		files[fmt.Sprintf("%d.iso", i)] = content(fmt.Sprintf("file %d ", i), 200<<10)
	}
	f := newFeed(t, files)
	opt := opts(f.url())
	opt.MaxDownloads = 3
	opt.MaxSpeed = 2 << 20 // burst 204.8 KiB: 600 KiB take at least (600-204.8)/2048 s
	start := time.Now()
	if _, err := Sync(bg, repo, opt); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 180*time.Millisecond {
		t.Fatalf("600 KiB at 2 MiB/s took %v", d)
	}
}

// stickyTransport is a real transport whose file bodies, once their request
// is cancelled, stay in Read until release is closed: a download slow to
// stop, which Sync must wait for.
type stickyTransport struct {
	http.Transport
	reading     chan struct{} // closed when a body has given bytes
	readingOnce sync.Once
	blocked     chan struct{} // closed when a body is held after its cancel
	blockedOnce sync.Once
	release     chan struct{}
}

func (s *stickyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.Transport.RoundTrip(r)
	if err == nil && strings.HasSuffix(r.URL.Path, ".iso") {
		resp.Body = &stickyBody{ReadCloser: resp.Body, ctx: r.Context(), s: s}
	}
	return resp, err
}

type stickyBody struct {
	io.ReadCloser
	ctx context.Context
	s   *stickyTransport
}

func (b *stickyBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.s.readingOnce.Do(func() { close(b.s.reading) })
	}
	if err != nil && b.ctx.Err() != nil {
		b.s.blockedOnce.Do(func() { close(b.s.blocked) })
		<-b.s.release
	}
	return n, err
}

func TestCancelStopsPromptly(t *testing.T) {
	_, repo := newStore(t)
	f := newFeed(t, threeFiles())
	f.set(func(f *feedServer) {
		f.handle = func(w http.ResponseWriter, r *http.Request, name string) bool {
			if name == ManifestName {
				return false
			}
			w.Header().Set("Content-Length", "1000000")
			w.Write([]byte("a beginning"))
			w.(http.Flusher).Flush()
			<-r.Context().Done() // until the client goes
			return true
		}
	})
	tr := &stickyTransport{reading: make(chan struct{}), blocked: make(chan struct{}), release: make(chan struct{})}
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(tr.release) }) }
	defer release()
	opt := opts(f.url())
	opt.Client = &http.Client{Transport: tr}
	var rec recorder
	opt.Progress = rec.fn
	before := runtime.NumGoroutine()

	ctx, cancel := context.WithTimeout(bg, 20*time.Second) // a broken cancel fails, not hangs
	defer cancel()
	done := make(chan struct{})
	var rep Report
	var err error
	go func() {
		defer close(done)
		rep, err = Sync(ctx, repo, opt)
	}()
	<-tr.reading // a download is under way
	cancel()
	<-tr.blocked
	// A download is still in Read: Sync must not return before it does. (A
	// Sync that does not wait returns at once; this window can only miss
	// that on a very slow machine, never fail a correct Sync.)
	select {
	case <-done:
		t.Fatal("Sync returned while one of its downloads was still reading")
	case <-time.After(300 * time.Millisecond):
	}
	release()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Sync did not return within 5 s of its downloads stopping")
	}
	if !errors.Is(err, context.Canceled) || rep.State != StateCancelled || rep.Failed != 0 {
		t.Fatalf("report %+v, %v", rep, err)
	}
	if got := rec.states(); got[len(got)-1] != StateCancelled {
		t.Fatalf("states %v", got)
	}
	// Every goroutine of the sync has ended by the time it returned...
	buf := make([]byte, 1<<20)
	stacks := string(buf[:runtime.Stack(buf, true)])
	for _, frame := range []string{"ferry/feed.(*syncer)", "ferry/feed.(*reporter)", "ferry/feed.(*meter)", "ferry/feed.(*stickyBody)"} {
		if strings.Contains(stacks, frame) {
			t.Fatalf("a goroutine in %s outlived Sync:\n%s", frame, stacks)
		}
	}
	// ...and those of its connections end with them.
	tr.CloseIdleConnections()
	eventually(t, "the connections' goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}

func TestResumedDownloadAsksForTheRest(t *testing.T) {
	s, repo := newStore(t)
	big := content("resumable content ", 1<<20)
	f := newFeed(t, map[string][]byte{"big.iso": big})
	const half = 400 << 10
	var served atomic.Bool
	f.set(func(f *feedServer) {
		f.handle = func(w http.ResponseWriter, r *http.Request, name string) bool {
			if name != "big.iso" || served.Swap(true) {
				return false
			}
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			w.Write(big[:half])
			w.(http.Flusher).Flush()
			<-r.Context().Done() // the connection stalls until the client goes
			return true
		}
	})
	ctx, cancel := context.WithTimeout(bg, 20*time.Second) // a broken cancel fails, not hangs
	defer cancel()
	opt := opts(f.url())
	opt.Uploads = s
	opt.Progress = func(p Progress) {
		if p.FinishedBytes >= half {
			cancel()
		}
	}
	rep, err := Sync(ctx, repo, opt)
	if !errors.Is(err, context.Canceled) || rep.BytesDownloaded != half {
		t.Fatalf("first sync: %+v, %v", rep, err)
	}
	if _, err := repo.Stat(bg, "/big.iso"); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("half a file is visible")
	}

	opt.Progress = nil
	rep, err = Sync(bg, repo, opt)
	if err != nil || rep.Added != 1 || rep.BytesDownloaded != int64(len(big)-half) {
		t.Fatalf("resumed sync: %+v, %v", rep, err)
	}
	f.mu.Lock()
	ranges := slices.Clone(f.ranges)
	f.mu.Unlock()
	if want := []string{fmt.Sprintf("big.iso bytes=%d-", half)}; !slices.Equal(ranges, want) {
		t.Fatalf("ranges asked %v, want %v", ranges, want)
	}
	if !bytes.Equal(readAll(t, repo, "/big.iso"), big) {
		t.Fatal("the resumed file differs")
	}
}

func TestResumeWhenTheServerIgnoresRanges(t *testing.T) {
	s, repo := newStore(t)
	big := content("no ranges here ", 1<<20)
	f := newFeed(t, map[string][]byte{"big.iso": big})
	const half = 300 << 10
	var calls atomic.Int32
	f.set(func(f *feedServer) {
		f.handle = func(w http.ResponseWriter, r *http.Request, name string) bool {
			if name != "big.iso" {
				return false
			}
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			if calls.Add(1) == 1 {
				w.Write(big[:half])
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				return true
			}
			w.Write(big) // 200 and everything, whatever the Range said
			return true
		}
	})
	ctx, cancel := context.WithTimeout(bg, 20*time.Second) // a broken cancel fails, not hangs
	defer cancel()
	opt := opts(f.url())
	opt.Uploads = s
	opt.Progress = func(p Progress) {
		if p.FinishedBytes >= half {
			cancel()
		}
	}
	if _, err := Sync(ctx, repo, opt); !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	opt.Progress = nil
	rep, err := Sync(bg, repo, opt)
	if err != nil || rep.Added != 1 || rep.BytesDownloaded != int64(len(big)) {
		t.Fatalf("%+v, %v", rep, err)
	}
	if !bytes.Equal(readAll(t, repo, "/big.iso"), big) {
		t.Fatal("content differs")
	}
}

func TestResumableChecksumMismatchStoresNothing(t *testing.T) {
	s, repo := newStore(t)
	big := content("large ", 2*store.InlineMax)
	f := newFeed(t, map[string][]byte{"big.iso": big})
	m := fmt.Sprintf("big.iso,%s,%d\n", sumA, len(big))
	f.set(func(f *feedServer) { f.manifest = &m })
	opt := opts(f.url())
	opt.Uploads = s
	rep, err := Sync(bg, repo, opt)
	if err == nil || rep.Failed != 1 || !strings.Contains(rep.Errors[0].Error, "Downloading <big.iso> failed checksum validation") {
		t.Fatalf("%+v, %v", rep, err)
	}
	if len(paths(t, repo)) != 0 {
		t.Fatal("stored")
	}
}

func TestProgressJSONIsPulps(t *testing.T) {
	at := time.Date(2024, 5, 6, 7, 8, 9, 500, time.UTC)
	raw, err := json.Marshal(Progress{State: StateManifestInProgress, StateTimes: map[string]time.Time{StateNotStarted: at, StateManifestInProgress: at}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"state":"manifest_in_progress","state_times":{"manifest_in_progress":"2024-05-06T07:08:09","not_started":"2024-05-06T07:08:09"},` +
		`"error_message":null,"traceback":null,"total_bytes":null,"finished_bytes":0,"num_isos":null,"num_isos_finished":0,"iso_error_messages":[]}`
	if string(raw) != want {
		t.Fatalf("got  %s\nwant %s", raw, want)
	}
	raw, _ = json.Marshal(Progress{State: StateISOsFailed, StateTimes: map[string]time.Time{StateISOsInProgress: at},
		TotalBytes: 10, FinishedBytes: 4, NumISOs: 2, NumISOsFinished: 1, ISOErrorMessages: []FileError{{Name: "a", Error: "why"}}})
	want = `{"state":"isos_failed","state_times":{"isos_in_progress":"2024-05-06T07:08:09"},"error_message":null,"traceback":null,` +
		`"total_bytes":10,"finished_bytes":4,"num_isos":2,"num_isos_finished":1,"iso_error_messages":[{"name":"a","error":"why"}]}`
	if string(raw) != want {
		t.Fatalf("got  %s\nwant %s", raw, want)
	}
}

func TestFeedURLs(t *testing.T) {
	for _, tc := range []struct{ feed, name, want string }{
		{"http://h/f", "PULP_MANIFEST", "http://h/f/PULP_MANIFEST"},
		{"http://h/f/", "sub/3.iso", "http://h/f/sub/3.iso"},
		{"https://h", "a.iso", "https://h/a.iso"},
		{"http://h/f?token=1", "a.iso", "http://h/f/a.iso"}, // urljoin drops the query
		{"http://h/my%20feed/", "a b?#%.iso", "http://h/my%20feed/a%20b%3F%23%25.iso"},
		{"http://h/f/", "c:d.iso", "http://h/f/c:d.iso"},
		{"http://u:p@h/f/", "a", "http://h/f/a"},
	} {
		s, err := newSource(Options{Feed: tc.feed})
		if err != nil {
			t.Fatal(err)
		}
		if got := s.url(tc.name); got != tc.want {
			t.Errorf("%s + %s = %s, want %s", tc.feed, tc.name, got, tc.want)
		}
	}
	s, _ := newSource(Options{Feed: "http://a%20b:c%3Ad@h/f", BasicAuthUser: "x", BasicAuthPassword: "y"})
	if s.user != "a b" || s.pass != "c:d" {
		t.Fatalf("credentials %q %q", s.user, s.pass)
	}
	if _, err := newSource(Options{Feed: "http://u:p@h/%zz"}); err == nil || strings.Contains(err.Error(), "u:p") {
		t.Fatalf("a bad URL: %v", err)
	}
}
