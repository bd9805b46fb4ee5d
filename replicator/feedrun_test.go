package replicator

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
)

// A second sync of a repository waits for the first, and starts as soon as
// the first ends: the executor looks again when a run of its own ends, not
// at its next periodic look (here an hour away, so only that wakeup can
// start it).
func TestAQueuedSyncStartsWhenTheFirstEnds(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "PULP_MANIFEST"), []byte("1.iso,7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed,3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "1.iso"), []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	st := openStore(t)
	if _, err := st.CreateProject(ctx, store.Project{Name: "pulp"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateRepo(ctx, store.Repo{Project: "pulp", Name: "isos", Type: store.TypeGeneric}); err != nil {
		t.Fatal(err)
	}
	h := &fsmHarness{f: fsm.New()}
	h.must(t, fsm.CmdRegisterCluster, fsm.ClusterRecord{ID: "shanghai", Name: "shanghai"})
	feed, _ := json.Marshal("file://" + filepath.ToSlash(dir) + "/")
	h.must(t, fsm.CmdPulpCreateRepo, fsm.PulpRepo{Cluster: "shanghai", ID: "isos",
		Importer: &fsm.PulpImporter{TypeID: fsm.PulpISOImporter, Config: map[string]json.RawMessage{"feed": feed}}})
	ids := []string{"sync1", "sync2", "sync3"}
	for _, id := range ids {
		h.must(t, fsm.CmdPulpSync, fsm.PulpSync{RunID: id, Cluster: "shanghai", Repo: "isos", Project: "pulp", By: "t"})
	}
	w := &endWatch{FSM: h.f, want: map[string]chan struct{}{}}
	e, err := New(Config{ClusterID: "shanghai", Dir: t.TempDir(), Store: st, FSM: w,
		Propose: func(ctx context.Context, cmd fsm.Command) error {
			if cmd.Type != fsm.CmdFinishRun {
				return h.apply(t, cmd)
			}
			// As an agent's Propose does, return only after the
			// executor was woken by the end and looked at the state,
			// while the run is still its own.
			var end fsm.RunProgress
			_ = json.Unmarshal(cmd.Payload, &end)
			seen := w.expect(end.ID)
			if err := h.apply(t, cmd); err != nil {
				return err
			}
			select {
			case <-seen:
			case <-ctx.Done(): // the test ended, the executor stops
			case <-time.After(20 * time.Second):
				t.Errorf("the executor never looked at the end of %s", end.ID)
			}
			return nil
		},
		APIAddr: func(string) (string, bool) { return "", false }, Logger: slog.New(slog.DiscardHandler), ReconcileEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e.Start()
	defer e.Stop()
	var prev fsm.Run
	for i, id := range ids {
		r := waitTerminal(t, h.f, id)
		if r.State != fsm.RunSuccess {
			t.Fatalf("%s: %s %q", id, r.State, r.Error)
		}
		// One at a time, in the order they came.
		if i > 0 && r.StartedAt.Before(prev.FinishedAt) {
			t.Fatalf("%s started at %v, before %s ended at %v", id, r.StartedAt, prev.ID, prev.FinishedAt)
		}
		prev = r
	}
}

// endWatch is the real state, telling when the executor has read a run's
// end.
type endWatch struct {
	*fsm.FSM
	mu   sync.Mutex
	want map[string]chan struct{}
}

// expect is closed when a read of the runs shows id ended.
func (w *endWatch) expect(id string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch := make(chan struct{})
	w.want[id] = ch
	return ch
}

func (w *endWatch) Runs(f fsm.RunFilter) []fsm.Run {
	runs := w.FSM.Runs(f)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range runs {
		if ch, ok := w.want[r.ID]; ok && r.State.Terminal() {
			close(ch)
			delete(w.want, r.ID)
		}
	}
	return runs
}
