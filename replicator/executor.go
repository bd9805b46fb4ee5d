package replicator

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

// Config wires an Executor into its agent.
type Config struct {
	ClusterID string
	// Dir holds objects.db, the per-object detail of runs.
	Dir   string
	Store store.Store
	FSM   State
	// Propose gets a command applied by the leader and waits until this
	// agent has applied it.
	Propose func(ctx context.Context, cmd fsm.Command) error
	// APIAddr finds a cluster's agent.
	APIAddr func(clusterID string) (string, bool)
	// Token authenticates this agent to the others (the shared management token).
	Token     string
	Transport http.RoundTripper
	// Scheme of the agents' APIs: "https" with TLS, else "http".
	Scheme   string
	Logger   *slog.Logger
	Registry prometheus.Registerer

	// Parallelism is the concurrent transfers per target of a run.
	Parallelism int
	// LinkRateLimit caps the bytes per second this agent sends to each
	// remote cluster, over all runs; 0 is unlimited.
	LinkRateLimit int64
	// MaxRuns is how many runs this agent executes at once; others wait.
	MaxRuns int
	// ProgressInterval is how often progress goes through Raft.
	ProgressInterval time.Duration
	// ChunkSize is the most bytes one upload request carries.
	ChunkSize int64
	// ListPart is the most objects of a repository's listing held at once
	// (listparts.go); default 50,000.
	ListPart int
	// ReconcileEvery is how often the executor looks at the state with no
	// change to wake it (default 5 s): a safety net, not how runs start.
	ReconcileEvery time.Duration
}

func (c *Config) defaults() {
	if c.Parallelism <= 0 {
		c.Parallelism = 4
	}
	if c.MaxRuns <= 0 {
		c.MaxRuns = 4
	}
	if c.ProgressInterval <= 0 {
		c.ProgressInterval = time.Second
	}
	if c.ChunkSize <= 0 {
		c.ChunkSize = 64 << 20
	}
	if c.ListPart <= 0 {
		c.ListPart = defaultListPart
	}
	if c.ReconcileEvery <= 0 {
		c.ReconcileEvery = 5 * time.Second
	}
	if c.Transport == nil {
		c.Transport = http.DefaultTransport
	}
}

// State is what the executor reads of the replicated state (*fsm.FSM).
type State interface {
	Runs(filter fsm.RunFilter) []fsm.Run
	Run(id string) (fsm.Run, bool)
	Task(key string) (fsm.Task, bool)
	// Changed is closed at the next applied change.
	Changed() <-chan struct{}
}

// Executor runs, on every agent, the runs the state assigns to it.
type Executor struct {
	cfg     Config
	log     *slog.Logger
	objects *localDB
	metrics *metrics
	http    *http.Client
	links   links      // rate limiters per remote cluster
	outbox  depthGauge // real-time outbox depths
	// linkStats count the content sent to each remote cluster (linkstats.go).
	linkStats linkMeter

	// mu guards the bookkeeping of the runs this agent executes.
	mu     sync.Mutex
	active map[string]*activeRun
	ending map[string]bool // canceled runs whose end is being proposed
	// ended wakes the loop when a run of this agent stops executing: a run
	// held back for it (a slot, its repository's feed) can start. The
	// state's change at its end came before the run let go of them.
	ended chan struct{}
	// seen are the runs this process has seen in the state: only their
	// detail is pruned when they go (a state restored from an old snapshot
	// lacks newer runs until the log is replayed).
	seen map[string]bool

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type activeRun struct {
	cancel context.CancelCauseFunc
	// standing runs of REAL_TIME tasks do not count against MaxRuns
	standing bool
	// feedRepo is the repository a feed run fills: one at a time each.
	feedRepo string
}

// errCanceled is the cause of a run's context when a user canceled it.
var errCanceled = fmt.Errorf("canceled")

// New opens the executor's local state; Start begins executing.
func New(cfg Config) (*Executor, error) {
	cfg.defaults()
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	objects, err := openLocalDB(cfg.Dir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := newMetrics(cfg.Registry)
	return &Executor{
		cfg: cfg, log: cfg.Logger.With("component", "replicator"), objects: objects, metrics: m,
		// No overall timeout: an upload request lasts as long as its chunk
		// takes at the run's rate; the transport bounds connect and headers.
		http:   &http.Client{Transport: cfg.Transport},
		outbox: depthGauge{gauge: m.outbox},
		active: map[string]*activeRun{}, ending: map[string]bool{}, ended: make(chan struct{}, 1), seen: map[string]bool{},
		ctx: ctx, cancel: cancel,
	}, nil
}

// Start begins watching the state for runs to execute.
func (e *Executor) Start() {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		e.loop()
	}()
}

// Stop stops every run this agent executes (they stay RUNNING in the state:
// a restarted agent resumes them, a dead one is failed by the leader) and
// closes the local state.
func (e *Executor) Stop() error {
	e.cancel()
	e.wg.Wait()
	return e.objects.Close()
}

// Objects pages through the per-object detail of a run this agent executed.
func (e *Executor) Objects(runID string, f fsm.ObjectFilter, page store.PageRequest) (store.Page[ObjectRecord], error) {
	return e.objects.page(runID, f, page)
}

func (e *Executor) loop() {
	tick := time.NewTicker(e.cfg.ReconcileEvery)
	defer tick.Stop()
	lastPrune := time.Now()
	for {
		changed := e.cfg.FSM.Changed()
		e.reconcile()
		if time.Since(lastPrune) > time.Minute {
			lastPrune = time.Now()
			if err := e.objects.prune(e.keepDetail); err != nil {
				e.log.Warn("prune run detail", "err", err)
			}
		}
		select {
		case <-e.ctx.Done():
			return
		case <-changed:
		case <-e.ended:
		case <-tick.C:
		}
	}
}

// reconcile starts the runs assigned to this agent and stops those that were
// canceled or ended elsewhere (the leader failed them).
func (e *Executor) reconcile() {
	runs := e.cfg.FSM.Runs(fsm.RunFilter{Executor: e.cfg.ClusterID})
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range runs {
		e.seen[r.ID] = true
	}
	live := map[string]bool{}
	busy := 0
	for _, a := range e.active {
		if !a.standing {
			busy++
		}
	}
	// Oldest first, so that waiting runs start in the order they came.
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		if r.State.Terminal() {
			continue
		}
		live[r.ID] = true
		a, running := e.active[r.ID]
		switch {
		case running && r.CancelRequested:
			a.cancel(errCanceled)
		case !running && !r.CancelRequested && r.Trigger == fsm.TriggerRealTime:
			e.startRun(r)
		case !running && !r.CancelRequested && busy < e.cfg.MaxRuns && !e.feedBusy(r):
			e.startRun(r)
			busy++
		case !running && r.CancelRequested && r.State == fsm.RunRunning && !e.ending[r.ID]:
			// Canceled while this agent was not executing it (restarted,
			// or it was waiting for a slot): nothing to stop, only to end.
			e.endCanceled(r.ID)
		}
	}
	for id, a := range e.active {
		if !live[id] {
			a.cancel(fmt.Errorf("the run ended elsewhere"))
		}
	}
}

// endCanceled records the end of a canceled run that is not executing here.
// Callers hold e.mu.
func (e *Executor) endCanceled(id string) {
	e.ending[id] = true
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer func() {
			e.mu.Lock()
			delete(e.ending, id)
			e.mu.Unlock()
		}()
		err := e.propose(e.ctx, fsm.CmdFinishRun, fsm.RunProgress{ID: id, Executor: e.cfg.ClusterID, State: fsm.RunCanceled, Error: "canceled"})
		if err != nil && fsm.KindOf(err) == "" && e.ctx.Err() == nil {
			e.log.Warn("canceled run's end not recorded", "run", id, "err", err)
		}
	}()
}

// startRun executes r in its own goroutine. Callers hold e.mu.
func (e *Executor) startRun(r fsm.Run) {
	ctx, cancel := context.WithCancelCause(e.ctx)
	e.active[r.ID] = &activeRun{cancel: cancel, standing: r.Trigger == fsm.TriggerRealTime}
	if r.Feed != nil {
		e.active[r.ID].feedRepo = r.Spec.LocalProjectID + "/" + r.Feed.PulpRepo
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer func() {
			cancel(nil)
			e.mu.Lock()
			delete(e.active, r.ID)
			e.mu.Unlock()
			select {
			case e.ended <- struct{}{}:
			default: // a wakeup is already due
			}
		}()
		e.execute(ctx, r)
	}()
}

// feedBusy is whether r is a feed run of a repository another run fills.
func (e *Executor) feedBusy(r fsm.Run) bool {
	if r.Feed == nil {
		return false
	}
	repo := r.Spec.LocalProjectID + "/" + r.Feed.PulpRepo
	for _, a := range e.active {
		if a.feedRepo == repo {
			return true
		}
	}
	return false
}

// propose gets a run command applied. Config.Propose forwards, and holds
// the command through elections until it is applied, refused or ctx ends:
// this is one call per report, with no retry loop of its own.
func (e *Executor) propose(ctx context.Context, t fsm.CommandType, payload any) error {
	cmd, err := fsm.NewCommand(t, payload)
	if err != nil {
		return err
	}
	return e.cfg.Propose(ctx, cmd)
}

// linkLimiter is the agent-wide limiter towards one cluster (nil: unlimited).
func (e *Executor) linkLimiter(cluster string) *rate.Limiter {
	if e.cfg.LinkRateLimit <= 0 {
		return nil
	}
	return e.links.get(cluster, e.cfg.LinkRateLimit)
}

// links are the agent-wide rate limiters, one per remote cluster.
type links struct {
	mu sync.Mutex
	m  map[string]*rate.Limiter
}

func (l *links) get(cluster string, bytesPerSec int64) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if lim, ok := l.m[cluster]; ok {
		return lim
	}
	if l.m == nil {
		l.m = map[string]*rate.Limiter{}
	}
	l.m[cluster] = newLimiter(bytesPerSec)
	return l.m[cluster]
}

// detailMaxAge is when the detail of a run this process never saw in the
// state (pruned while the agent was away) is dropped anyway.
const detailMaxAge = 7 * 24 * time.Hour

// keepDetail decides whether a run's object detail stays.
func (e *Executor) keepDetail(id string, newest time.Time) bool {
	if _, ok := e.cfg.FSM.Run(id); ok {
		return true
	}
	e.mu.Lock()
	seen := e.seen[id]
	delete(e.seen, id)
	e.mu.Unlock()
	return !seen && time.Since(newest) < detailMaxAge
}
