package agent

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/api/bkrepo"
	"github.com/ferrysync/ferry/api/oci"
	"github.com/ferrysync/ferry/api/pulp"
	"github.com/ferrysync/ferry/api/swr"
	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/config"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/internal/peer"
	"github.com/ferrysync/ferry/internal/stopstep"
	"github.com/ferrysync/ferry/internal/tlsutil"
	"github.com/ferrysync/ferry/registry"
	"github.com/ferrysync/ferry/replicator"
	"github.com/ferrysync/ferry/scheduler"
	"github.com/ferrysync/ferry/store"
	"github.com/ferrysync/ferry/ui"
	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Version is this build's version; release builds set it with -ldflags.
var Version = "0.1.0-dev"

// Agent is one running Ferry agent.
type Agent struct {
	cfg      config.Config
	log      *slog.Logger
	fsm      *fsm.FSM
	node     *cluster.Node
	store    *store.Local
	executor *replicator.Executor
	// schedulerMetrics outlive each term of leadership's scheduler loop.
	schedulerMetrics *scheduler.Metrics
	receiver         *replicator.Receiver
	http             *http.Server
	httpAddr         string
	client           *http.Client // forwards writes to the leader
	peers            *peer.Client // over client
	bulk             *http.Transport
	tls              *tlsutil.Holder // nil without TLS (agent/tls.go)
	scheme           string          // of the agents' APIs: http or https
	registry         *prometheus.Registry
	mgmtHash         [sha256.Size]byte
	startedAt        time.Time
	// consistentReady is set while this agent leads and has passed its barrier.
	consistentReady atomic.Bool
	ready           *readiness // whether the API may answer from this agent's state
	leave           leaveState // PUT /v1/agent/leave

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errCh  chan error
	once   sync.Once

	auditFile io.Closer // --audit-log, closed at shutdown
}

// DefaultGCPercent is the garbage collector's target for an agent process
// when GOGC is not set. An agent's live heap is small while replication
// allocates fast (batch bodies, JSON), so Go's default of 100 collects
// continuously: 400 halved the CPU of receiving 10,000 small files
// (docs/performance.md).
const DefaultGCPercent = 400

// DefaultMemoryLimit is the soft memory limit of an agent process when
// GOMEMLIMIT is not set. At GOGC=400 the heap may grow to five times what
// is live; the limit makes the collector run sooner only as the heap nears
// it, so a run of a million objects stays in the RSS budget of
// docs/performance.md while small runs keep GOGC=400's speed. It is soft:
// a live heap above it is still served (the runtime caps the collector's
// CPU), and GOMEMLIMIT raises or lowers it.
const DefaultMemoryLimit = 384 << 20

// TuneGC applies DefaultGCPercent unless the environment sets GOGC, and
// DefaultMemoryLimit unless it sets GOMEMLIMIT. Commands that run agents
// call it once at start.
func TuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(DefaultGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
}

// Start starts an agent. A configuration that has not been through
// config.Validate (Checked) is validated here. When a part fails to start,
// the parts started before it are stopped again, in reverse order.
func Start(cfg config.Config, logger *slog.Logger) (_ *Agent, err error) {
	if !cfg.Checked() {
		if err := cfg.Validate(); err != nil {
			return nil, err
		}
	}
	gossipKey, err := cfg.GossipKey()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	a := &Agent{
		cfg: cfg, log: logger.With("agent", cfg.ClusterID), fsm: fsm.New(), registry: prometheus.NewRegistry(),
		mgmtHash: sha256.Sum256([]byte(cfg.Token)), startedAt: time.Now(),
		client: &http.Client{Transport: controlTransport(), Timeout: 30 * time.Second}, bulk: bulkTransport(),
		ctx: ctx, cancel: cancel, errCh: make(chan error, 1),
	}
	a.peers = &peer.Client{HTTP: a.client}
	if err := a.setupTLS(); err != nil {
		cancel()
		return nil, err
	}
	var undo []func()
	defer func() {
		if err != nil {
			for _, f := range slices.Backward(undo) {
				f()
			}
		}
	}()
	undo = append(undo, cancel)
	storeMetrics := newStoreMetrics(a.registry, nil) // its store is set once open, before any scrape
	if a.store, err = store.Open(filepath.Join(cfg.DataDir, "store"), a.log, store.WithObserver(storeMetrics)); err != nil {
		return nil, err
	}
	undo = append(undo, func() { a.store.Close() })
	storeMetrics.st = a.store
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.Bind, strconv.Itoa(cfg.HTTPPort)))
	if err != nil {
		return nil, fmt.Errorf("http listener: %w", err)
	}
	undo = append(undo, func() { ln.Close() })
	// The caps count raw connections, before any TLS handshake; TLS is on
	// top, so that net/http sees a *tls.Conn (r.TLS: agent certificates).
	ln = a.tlsListener(a.limitConns(ln))
	a.httpAddr = net.JoinHostPort(cfg.Advertise, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	if a.node, err = cluster.Start(a.clusterConfig(gossipKey)); err != nil {
		return nil, err
	}
	undo = append(undo, func() { _ = a.node.Shutdown() })
	if err = a.startServices(); err != nil {
		return nil, err
	}
	a.serve(ln)
	a.watchReadiness()
	a.log.Info("agent started", "name", cfg.Name, "http", a.httpAddr, "raft", a.node.RaftAddr(), "gossip", a.node.GossipAddr(),
		"profile", cfg.Profile, "bootstrap_expect", cfg.BootstrapExpect, "auth", !cfg.NoAuth)
	return a, nil
}

func (a *Agent) clusterConfig(gossipKey []byte) cluster.Config {
	c := a.cfg
	return cluster.Config{
		GossipKey: gossipKey, RaftTLS: a.raftTLS(),
		ID: c.ClusterID, Name: c.Name, Labels: c.Labels, Version: Version,
		BindAddr: c.Bind, AdvertiseAddr: c.Advertise, GossipPort: c.GossipPort, RaftPort: c.RaftPort,
		APIAddr: a.httpAddr, DataDir: c.DataDir, Join: c.Join,
		BootstrapExpect: c.BootstrapExpect, MaxVoters: c.MaxVoters, Profile: c.Profile,
		ServerStabilizationTime: c.ServerStabilizationTime, DeadServerTimeout: c.DeadServerTimeout,
		ReconcileInterval: c.ReconcileInterval,
		FSM:               a.fsm, Logger: a.log,
		RaftDir: c.RaftDir, RecoveryFSM: func() raft.FSM { return fsm.New() },
	}
}

// startServices builds the executor, the transfer receiver and the API with
// its dialects over the started node and store.
func (a *Agent) startServices() error {
	c := a.cfg
	a.schedulerMetrics = scheduler.NewMetrics(a.registry)
	a.ready = newReadiness(a.registry)
	a.receiver = &replicator.Receiver{Store: a.store, Metrics: replicator.NewReceiverMetrics(a.registry)}
	var err error
	a.executor, err = replicator.New(replicator.Config{
		ClusterID: c.ClusterID, Dir: filepath.Join(c.DataDir, "replicator"), Store: a.store, FSM: a.fsm,
		Propose: a.proposeAsAgent, APIAddr: a.ClusterAPIAddr, Token: c.Token, Transport: a.bulk, Scheme: a.scheme,
		Logger: a.log, Registry: a.registry, Parallelism: c.ReplicationParallelism, LinkRateLimit: c.LinkRateLimit,
	})
	if err != nil {
		return err
	}
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &stateCollector{a: a}, &diskCollector{a: a}, &lagCollector{a: a})
	audit, auditFile, err := a.openAudit()
	if err != nil {
		return err
	}
	a.auditFile = auditFile
	srv := api.New(api.Config{
		Auth: a, Status: a, Tokens: a, AccessKeys: a, Forwarder: a, Runs: a, Tasks: a, Artifacts: scopedStore{a.store},
		Logger: a.log, Registerer: a.registry, Gatherer: prometheus.Gatherers{a.registry, raftMetrics()},
		Transport: a.client.Transport, BulkTransport: a.bulk, TLS: a.tls != nil, BodyReadTimeout: c.EffectiveHTTPBodyReadTimeout(),
		Readiness: a, Leaver: a, Audit: audit,
	})
	bkrepo.Register(srv, bkrepo.Services{Tasks: a, Runs: a, Status: a})                                                                                                                           // bk-repo's replication API, translated onto the same services
	pulp.Register(srv, pulp.Services{Status: a, Repos: a, Tasks: a, Content: a, Syncs: a, Schedules: a, Consumers: a, Publishes: a, Runs: a, CallReports2_4: a.cfg.PulpSyncReports24})            // Pulp 2: this agent is the Pulp server of its region
	oci.Register(srv, &registry.Registry{Store: scopedStore{a.store}}, a.registry, "/v2/manage/")                                                                                                 // every agent is an OCI registry of its store's DOCKER repositories; /v2/manage/ is SWR's
	swr.Register(srv, swr.Services{Projects: scopedStore{a.store}, Images: &registry.Registry{Store: scopedStore{a.store}}, Clusters: a, Tasks: a, Runs: a, Regions: a, SyncWait: c.SWRSyncWait}) // SWR: organizations are this store's projects, repositories its registry's images (a Registry holds no state)
	// The transfer protocol's target side: only the agents of the group
	// call it, with the management token (and their certificate with TLS).
	a.receiver.Routes(func(method, path string, h http.Handler) {
		srv.MountForAgents(method, path, fsm.PolicyAdmin, withCallerName(h))
	})
	a.keyringRoutes(srv)
	a.lagRoutes(srv)
	a.linkRoutes(srv)
	ui.Register(srv)           // the dashboard at /ui/: a page of its own API calls
	a.http = a.httpServer(srv) // agent/limits.go
	return nil
}

// withCallerName hands the API's caller to a replicator handler, which
// names it in the change log when a batch does not say who writes.
func withCallerName(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(replicator.WithCaller(r.Context(), api.CallerOf(r.Context()).Name)))
	})
}

// serve starts the agent's goroutines: the API on ln, the watch for the
// node's fatal errors, the leadership monitor, the executor, the
// carrying out of this region's Pulp content actions and the sampling of
// the link counters.
func (a *Agent) serve(ln net.Listener) {
	a.wg.Add(5)
	go func() {
		defer a.wg.Done()
		a.carryOutPulpContent()
	}()
	go func() {
		defer a.wg.Done()
		a.executor.SampleLinks(a.ctx)
	}()
	go func() {
		defer a.wg.Done()
		if err := a.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.fail(fmt.Errorf("http server: %w", err))
		}
	}()
	go func() {
		defer a.wg.Done()
		select {
		case err := <-a.node.Fatal():
			a.fail(err)
		case <-a.ctx.Done():
		}
	}()
	go func() {
		defer a.wg.Done()
		a.monitorLeadership()
	}()
	a.executor.Start()
}

func (a *Agent) fail(err error) {
	a.log.Error("agent cannot go on", "err", err)
	select {
	case a.errCh <- err:
	default:
	}
}

// Err delivers an error after which the agent must stop, such as another
// agent already using this cluster id. The caller then calls Shutdown.
func (a *Agent) Err() <-chan error { return a.errCh }

// HTTPAddr is the advertised host:port of the API.
func (a *Agent) HTTPAddr() string { return a.httpAddr }

// GossipAddr is the advertised host:port of gossip, for --join.
func (a *Agent) GossipAddr() string { return a.node.GossipAddr() }

// RaftAddr is the advertised host:port of Raft.
func (a *Agent) RaftAddr() string { return a.node.RaftAddr() }

// Leave leaves the group gracefully (see cluster.Node.Leave) and stops. The
// API and the leader loops keep running until this agent is out of the group.
func (a *Agent) Leave(ctx context.Context) error {
	a.log.Info("leaving the group")
	err := a.node.Leave(ctx, a.removedByLeader)
	return errors.Join(err, a.Shutdown())
}

// removedByLeader asks the leader's API whether this agent has left its Raft
// configuration (agents of a group share the management token).
func (a *Agent) removedByLeader(ctx context.Context) bool {
	l, ok := a.Leader()
	if !ok || l.APIAddr == "" || l.ID == a.cfg.ClusterID {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var peers []cluster.Peer
	if err := a.peers.Do(ctx, peer.Request{Method: http.MethodGet, Addr: l.APIAddr, Cluster: l.ID, Path: "/v1/status/peers", Token: a.cfg.Token}, &peers); err != nil || len(peers) == 0 {
		return false
	}
	return !slices.ContainsFunc(peers, func(p cluster.Peer) bool { return p.ID == a.cfg.ClusterID })
}

// How long Shutdown waits for each of its steps. A step that takes longer
// is logged by name and given up on, and the next one is taken all the
// same (stopstep.Run): the agent's loops may wait on a raft future that
// only the raft shutdown after them resolves, and a store transaction left
// open by a handler still running must not keep the process from exiting.
const (
	httpStopTimeout     = 5 * time.Second
	loopsStopTimeout    = 10 * time.Second
	executorStopTimeout = 10 * time.Second
	storeCloseTimeout   = 5 * time.Second
)

// Shutdown stops the agent without leaving: to the others it looks like a
// failure, and its data dir restarts it as the same member. Every step is
// bounded (see httpStopTimeout); one that times out makes Shutdown return
// an error naming it.
func (a *Agent) Shutdown() error {
	a.stopLoops()
	err := a.stopHTTP()
	return errors.Join(
		stopstep.Run(a.log, "replication executor", executorStopTimeout, a.executor.Stop),
		a.node.Shutdown(), err,
		stopstep.Run(a.log, "artifact store close", storeCloseTimeout, a.store.Close),
		a.auditFile.Close())
}

// controlTransport carries the agent's small calls to other agents
// (forwarded writes, consistent reads proxied to the leader, probes).
func controlTransport() *http.Transport {
	return &http.Transport{
		Proxy: nil, MaxIdleConnsPerHost: 16, IdleConnTimeout: time.Minute,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		ResponseHeaderTimeout: 30 * time.Second,
	}
}

// bulkTransport carries artifacts between agents, for the executor and the
// artifact calls the API proxies: 1 MiB socket buffers and no
// response-header timeout, since a large upload is answered only after its
// fsync.
func bulkTransport() *http.Transport {
	return &http.Transport{
		Proxy: nil, MaxIdleConnsPerHost: 16, IdleConnTimeout: time.Minute,
		DialContext:    (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		ReadBufferSize: 1 << 20, WriteBufferSize: 1 << 20,
	}
}

func (a *Agent) stopLoops() {
	a.cancel()
}

// stopHTTP stops the API, waiting httpStopTimeout for its requests before
// it closes their connections, then waits for the agent's loops.
func (a *Agent) stopHTTP() error {
	var err error
	a.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), httpStopTimeout)
		defer cancel()
		if err = a.http.Shutdown(ctx); err != nil {
			a.log.Warn("shutdown step timed out; closing its connections", "step", "http server", "timeout", httpStopTimeout, "err", err)
			err = a.http.Close()
		}
		err = errors.Join(err, stopstep.Run(a.log, "agent loops", loopsStopTimeout, func() error {
			a.wg.Wait()
			return nil
		}))
		a.client.CloseIdleConnections()
		a.log.Info("agent stopped")
	})
	return err
}

// NewLogger builds the slog logger the configuration asks for.
func NewLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
