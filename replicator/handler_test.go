package replicator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/internal/peer"
	"github.com/ferrysync/ferry/store"
)

// call sends one request straight to the handler, as caller.
func call(t *testing.T, h http.Handler, method, target string, body io.Reader) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, body))
	return w
}

func handlerOn(t *testing.T) (*store.Local, http.Handler) {
	t.Helper()
	_, dst := twoStores(t)
	withCaller := func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r.WithContext(WithCaller(r.Context(), "caller")))
		})
	}
	return dst, replicaRouter(&Receiver{Store: dst}, withCaller)
}

// wantError checks an answer is status with {"error": "...want..."}.
func wantError(t *testing.T, w *httptest.ResponseRecorder, status int, want string) {
	t.Helper()
	var e peer.ErrorBody
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != status || !strings.Contains(e.Error, want) {
		t.Errorf("answer %d %q, want %d {\"error\": \"...%s...\"}", w.Code, w.Body, status, want)
	}
}

func TestABadJSONBodyIs400(t *testing.T) {
	_, h := handlerOn(t)
	for _, route := range []string{"plan", "commit", "versions", "delete"} {
		w := call(t, h, http.MethodPost, "/v1/replica/"+route, strings.NewReader("{not json"))
		wantError(t, w, http.StatusBadRequest, "invalid JSON body")
	}
}

// endless is an endless body of one byte.
type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}

// A plan of too many objects is 400; a body over the bound 413.
func TestAPlanOverItsBounds(t *testing.T) {
	_, h := handlerOn(t)
	req := PlanRequest{Project: "proj", Repo: "r", Objects: make([]PlanObject, maxPlanObjects+1)}
	b, _ := json.Marshal(req)
	wantError(t, call(t, h, http.MethodPost, "/v1/replica/plan", bytes.NewReader(b)), http.StatusBadRequest, "at most")
	huge := io.MultiReader(strings.NewReader(`{"project":"`), io.LimitReader(endless('a'), maxJSONBody+1))
	wantError(t, call(t, h, http.MethodPost, "/v1/replica/plan", huge), http.StatusRequestEntityTooLarge, "too large")
}

func TestAnUnknownRepositoryIs404(t *testing.T) {
	_, h := handlerOn(t)
	for route, req := range map[string]any{
		"plan":     PlanRequest{Project: "proj", Repo: "missing", Objects: []PlanObject{{Path: "/a"}}}, // no repoType: not created
		"commit":   CommitRequest{Project: "proj", Repo: "missing"},
		"versions": VersionsRequest{Project: "proj", Repo: "missing"},
	} {
		b, _ := json.Marshal(req)
		wantError(t, call(t, h, http.MethodPost, "/v1/replica/"+route, bytes.NewReader(b)), http.StatusNotFound, "")
	}
	wantError(t, call(t, h, http.MethodPost, "/v1/replica/batch?project=proj&repo=missing", http.NoBody), http.StatusNotFound, "")
	// Deleting from, or asking the head of, a repository that is not there is no error.
	w := call(t, h, http.MethodGet, "/v1/replica/head?project=proj&repo=missing", nil)
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"exists": true`) {
		t.Errorf("head of a missing repository: %d %s", w.Code, w.Body)
	}
	w = call(t, h, http.MethodPost, "/v1/replica/delete", strings.NewReader(`{"project":"proj","repo":"missing","paths":["/a"]}`))
	if w.Code != http.StatusOK {
		t.Errorf("delete in a missing repository: %d %s", w.Code, w.Body)
	}
}

func TestMissingOrBadQueryParametersAre400(t *testing.T) {
	_, h := handlerOn(t)
	for target, want := range map[string]string{
		"GET /v1/replica/head?repo=r":                      "query parameter project is required",
		"GET /v1/replica/head?project=proj":                "query parameter repo is required",
		"GET /v1/replica/head?project=proj&repo=r&since=x": `since="x"`,
		"POST /v1/replica/batch?repo=r":                    "query parameter project is required",
		"POST /v1/replica/batch?project=proj":              "query parameter repo is required",
		"GET /v1/replica/uploads/abc":                      `size=""`,
		"PATCH /v1/replica/uploads/abc?size=-1&offset=0":   `size="-1"`,
		"PATCH /v1/replica/uploads/abc?size=3":             `offset=""`,
	} {
		method, path, _ := strings.Cut(target, " ")
		wantError(t, call(t, h, method, path, http.NoBody), http.StatusBadRequest, want)
	}
}

func TestAnAppendAtTheWrongOffsetIs409WithTheCurrentOffset(t *testing.T) {
	_, dst := twoStores(t)
	srv := replicaServer(t, dst, nil)
	content := []byte("0123456789")
	sum := sha256.Sum256(content)
	sumHex := hex.EncodeToString(sum[:])
	r := &remote{cluster: "beijing", addr: func() (string, bool) { return strings.TrimPrefix(srv.URL, "http://"), true },
		token: testToken, http: srv.Client(), retry: retryPolicy{attempts: 1}}
	ctx := context.Background()
	if st, err := r.appendOnce(ctx, sumHex, "", 10, 0, bytes.NewReader(content[:4])); err != nil || st.Offset != 4 {
		t.Fatalf("first append: %+v %v", st, err)
	}
	st, err := r.appendOnce(ctx, sumHex, "", 10, 0, bytes.NewReader(content))
	se, _ := err.(*peer.StatusError) // appendOnce returns the answer as it is
	if se == nil || se.Code != http.StatusConflict || st.Offset != 4 || st.Error == "" {
		t.Fatalf("append at 0 of an upload at 4: %+v %v, want 409 with offset 4", st, err)
	}
	if st, err = r.appendOnce(ctx, sumHex, "", 10, st.Offset, bytes.NewReader(content[4:])); err != nil || !st.Complete {
		t.Fatalf("resumed append: %+v %v", st, err)
	}
	if st, err = r.uploadStatus(ctx, sumHex, 10); err != nil || !st.Complete || st.Offset != 10 {
		t.Fatalf("status of the finished upload: %+v %v", st, err)
	}
}

// A batch that does not name its writer is recorded under the caller.
func TestABatchIsByItsCallerUnlessItSays(t *testing.T) {
	dst, h := handlerOn(t)
	for path, by := range map[string]string{"/by-caller": "", "/by-run": "replication:run1"} {
		var buf bytes.Buffer
		_ = writeFrame(&buf, FrameHeader{Path: path, Size: 1}, []byte("x"))
		w := call(t, h, http.MethodPost, "/v1/replica/batch?project=proj&repo=r&by="+by, &buf)
		if w.Code != http.StatusOK {
			t.Fatalf("batch: %d %s", w.Code, w.Body)
		}
	}
	repo, _ := dst.Repository(context.Background(), "proj", "r")
	changes, err := repo.Changes(context.Background(), 1, 10)
	want := map[string]string{"/by-caller": "caller", "/by-run": "replication:run1"}
	for _, c := range changes {
		if want[c.Path] != c.By {
			t.Errorf("%s written by %q, want %q", c.Path, c.By, want[c.Path])
		}
	}
	if err != nil || len(changes) != 2 {
		t.Fatalf("changes %+v (%v), want two", changes, err)
	}
}

// A retried batch (the first attempt's answer was lost) succeeds again.
func TestARetriedBatchSucceeds(t *testing.T) {
	_, h := handlerOn(t)
	var buf bytes.Buffer
	_ = writeFrame(&buf, FrameHeader{Path: "/a", Size: 1, SHA256: hex.EncodeToString(sha(t, "x"))}, []byte("x"))
	for range 2 {
		w := call(t, h, http.MethodPost, "/v1/replica/batch?project=proj&repo=r&by=run", bytes.NewReader(buf.Bytes()))
		var out ItemsResponse
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil || w.Code != http.StatusOK || len(out.Results) != 1 || out.Results[0].Error != "" {
			t.Fatalf("batch: %d %s", w.Code, w.Body)
		}
	}
}

func sha(t *testing.T, s string) []byte {
	t.Helper()
	sum := sha256.Sum256([]byte(s))
	return sum[:]
}

// Whatever a peer posts as a plan or a commit, the answer is JSON: one
// result per item, or {"error"} with a status other than 500.
func FuzzPlanAndCommitBodies(f *testing.F) {
	for _, seed := range []string{
		`{"project":"proj","repo":"r","objects":[{"path":"/a","size":1,"sha256":"x"}]}`,
		`{"project":"proj","repo":"new","repoType":"GENERIC","includeMetadata":true,"objects":[{"path":"/a","metadata":{"k":"v"}}]}`,
		`{"project":"proj","repo":"r","entries":[{"path":"/a","size":3,"sha256":"ab"}]}`,
		`{"objects":null}`, `[]`, `null`, `{"project":1}`, "",
	} {
		f.Add([]byte(seed))
	}
	dst, err := store.Open(f.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { dst.Close() })
	ctx := context.Background()
	if _, err := dst.CreateProject(ctx, store.Project{Name: "proj"}); err != nil {
		f.Fatal(err)
	}
	if _, err := dst.CreateRepo(ctx, store.Repo{Project: "proj", Name: "r", Type: store.TypeGeneric}); err != nil {
		f.Fatal(err)
	}
	h := replicaRouter(&Receiver{Store: dst}, func(h http.Handler) http.Handler { return h })
	f.Fuzz(func(t *testing.T, body []byte) {
		var req struct {
			Objects []json.RawMessage `json:"objects"`
			Entries []json.RawMessage `json:"entries"`
		}
		decodable := json.Unmarshal(body, &req) == nil
		for route, n := range map[string]int{"plan": len(req.Objects), "commit": len(req.Entries)} {
			w := call(t, h, http.MethodPost, "/v1/replica/"+route, bytes.NewReader(body))
			var out struct {
				Results []json.RawMessage `json:"results"`
				Error   string            `json:"error"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
				t.Fatalf("%s: answer %d is not JSON: %q", route, w.Code, w.Body)
			}
			switch {
			case w.Code == http.StatusOK && decodable && len(out.Results) != n:
				t.Fatalf("%s: %d results for %d items", route, len(out.Results), n)
			case w.Code != http.StatusOK && (out.Error == "" || w.Code >= 500):
				t.Fatalf("%s: answer %d %q", route, w.Code, w.Body)
			}
		}
	})
}
