package replicator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
)

// cutOnce breaks the body of the first upload request after n bytes, as a
// connection that drops mid-chunk.
type cutOnce struct {
	mu      sync.Mutex
	n       int64
	cut     bool
	offsets []int64
}

func (c *cutOnce) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch {
		off, _ := strconv.ParseInt(r.URL.Query().Get("offset"), 10, 64)
		c.mu.Lock()
		c.offsets = append(c.offsets, off)
		if !c.cut {
			c.cut = true
			r.Body = io.NopCloser(io.MultiReader(io.LimitReader(r.Body, c.n), errReader{}))
		}
		c.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection dropped") }

// targetOnlyExecutor is just enough of an executor to drive a targetExec
// against srv: the store to read, chunk size, transport, metrics and detail.
func targetOnlyExecutor(t *testing.T, src *store.Local, srv *httptest.Server, chunk int64, transport http.RoundTripper) *Executor {
	return &Executor{
		cfg: Config{Store: src, Token: testToken, APIAddr: func(string) (string, bool) { return strings.TrimPrefix(srv.URL, "http://"), true },
			ChunkSize: chunk, Parallelism: 2},
		log: slog.New(slog.DiscardHandler), metrics: newMetrics(nil), objects: testObjectLog(t), http: &http.Client{Transport: transport},
	}
}

// repositorySpec replicates shanghai's proj/r to beijing's.
func repositorySpec(conflict string) fsm.ReplicaSpec {
	return fsm.ReplicaSpec{SourceCluster: "shanghai", LocalProjectID: "proj", ReplicaObjectType: fsm.ObjectRepository,
		Objects:          []fsm.ReplicaObject{{LocalRepoName: "r", RemoteProjectID: "proj", RemoteRepoName: "r"}},
		RemoteClusterIDs: []string{"beijing"},
		Setting:          fsm.ReplicaSetting{ConflictStrategy: conflict, ErrorStrategy: fsm.ErrorContinue}}
}

func testObjectLog(t *testing.T) *localDB {
	t.Helper()
	l, err := openLocalDB(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// twoStores opens a source and a target store, each with project proj and
// its GENERIC repository r.
func twoStores(t *testing.T) (src, dst *store.Local) {
	t.Helper()
	src, dst = openStore(t), openStore(t)
	for _, s := range []*store.Local{src, dst} {
		if _, err := s.CreateProject(context.Background(), store.Project{Name: "proj"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateRepo(context.Background(), store.Repo{Project: "proj", Name: "r", Type: store.TypeGeneric}); err != nil {
			t.Fatal(err)
		}
	}
	return src, dst
}

func openStore(t *testing.T) *store.Local {
	t.Helper()
	s, err := store.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestUploadCutMidChunkResumesWhereItStopped(t *testing.T) {
	ctx := context.Background()
	src, dst := twoStores(t)
	content := make([]byte, 6<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range content {
		content[i] = byte(r.Uint32())
	}
	repo, _ := src.Repository(ctx, "proj", "r")
	n, err := repo.Write(ctx, "/big.bin", bytes.NewReader(content), store.WriteOptions{Size: int64(len(content))})
	if err != nil {
		t.Fatal(err)
	}

	srv := replicaServer(t, dst, nil)
	const cutAt = 2<<20 + 12345
	cut := &cutOnce{n: cutAt}
	e := targetOnlyExecutor(t, src, srv, 64<<20, cut)
	x := &runExec{e: e, log: e.log, fail: func(error) {}, run: fsm.Run{ID: "r1", Spec: fsm.ReplicaSpec{
		SourceCluster: "shanghai", LocalProjectID: "proj", Setting: fsm.ReplicaSetting{ConflictStrategy: fsm.ConflictSkip, ErrorStrategy: fsm.ErrorContinue},
	}}}
	tg := newTargetExec(x, "beijing")
	tg.remote.retry = retryPolicy{attempts: 2, first: 1, max: 1}
	o := object{Path: "/big.bin", Size: n.Size, SHA256: n.SHA256}
	if err := passTo(tg, repo).upload(ctx, planned{o: o}); err != nil {
		t.Fatal(err)
	}
	if tg.objectsDone.Load() != 1 || tg.objectsFailed.Load() != 0 {
		t.Fatalf("done %d failed %d", tg.objectsDone.Load(), tg.objectsFailed.Load())
	}
	got, err := dst.Repository(ctx, "proj", "r")
	if err != nil {
		t.Fatal(err)
	}
	rd, err := got.Open(ctx, "/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	h := sha256.New()
	io.Copy(h, rd)
	if hex.EncodeToString(h.Sum(nil)) != n.SHA256 {
		t.Fatal("the target's copy differs")
	}
	// Two requests: the cut one from 0, then one from where the target had got to.
	if len(cut.offsets) != 2 || cut.offsets[0] != 0 || cut.offsets[1] == 0 || cut.offsets[1] > cutAt {
		t.Fatalf("upload requests at offsets %v, want [0, ~%d]", cut.offsets, cutAt)
	}
	if sent := tg.bytesSent.Load(); sent > int64(len(content))+cutAt-cut.offsets[1]+256<<10 {
		t.Fatalf("sent %d bytes for %d: the upload restarted instead of resuming", sent, len(content))
	}
}
