package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/internal/peer"
	"github.com/prometheus/client_golang/prometheus"
)

// Why an agent is not ready; the values are the reason label of
// ferry_agent_ready_reason.
const (
	reasonNone       = ""
	reasonDiskFull   = "disk_full"
	reasonLogAppend  = "raft_log_append_failing"
	reasonNoLeader   = "no_leader"
	reasonCatchingUp = "catching_up"
)

var readyReasons = []string{reasonDiskFull, reasonLogAppend, reasonNoLeader, reasonCatchingUp}

const (
	// readyMaxLag is how many entries a restarted follower may still be
	// behind the leader's index when it becomes ready: the few written
	// while it asked.
	readyMaxLag = 64
	// readyInterval is how often readiness is looked at again: a group
	// that just elected a leader is ready within a few of these.
	readyInterval = 100 * time.Millisecond
	// diskFloorBytes and diskFloorFraction: a disk with less free space
	// than the smaller of the two is full for readiness (1% of a large
	// disk is more than the agent needs; 256 MiB is most of a small one).
	diskFloorBytes    = 256 << 20
	diskFloorFraction = 0.01
	// minContactBound is the least a caught-up follower may go without
	// hearing from a leader (else the leader wait) before it must catch up
	// again: a loaded host's late heartbeat is not an outage.
	minContactBound = 5 * time.Second
	// RetryAfter is the hint a not-ready agent gives with its 503.
	readyRetryAfter = time.Second
)

// readyInput is what readiness is decided from, gathered each interval.
type readyInput struct {
	caughtUp      bool // reached the leader's index once since start (latched)
	leader        bool // this agent leads...
	leaderBarrier bool // ...and has applied everything its predecessor committed
	contact       bool // a follower that has heard from a leader lately (within LeaderWait)
	targetKnown   bool // the leader's applied index has been learned since start
	target        uint64
	applied       uint64
	appendErr     error  // the Raft log's last append failed, none good since
	diskLow       string // a directory whose disk is below the floor
}

type readyVerdict struct {
	reason   string // reasonNone when ready
	detail   string
	caughtUp bool
}

// judgeReadiness is the readiness policy. A broken disk outweighs
// everything; then a started agent must first catch up with a leader once:
// before that its state may be from before it stopped, and it would refuse
// valid tokens or show an old cluster list. Once caught up it stays so
// (later lag is raft's ordinary replication) while it hears from a leader;
// a follower cut off for longer than a write waits for a leader may have
// missed any amount, so it catches up again as after a restart.
func judgeReadiness(in readyInput) readyVerdict {
	switch {
	case in.diskLow != "":
		return readyVerdict{reasonDiskFull, "free space on the disk of " + in.diskLow + " is below the floor", in.caughtUp}
	case in.appendErr != nil:
		return readyVerdict{reasonLogAppend, "the Raft log cannot be appended: " + in.appendErr.Error(), in.caughtUp}
	case in.caughtUp && (in.leader || in.contact):
		return readyVerdict{caughtUp: true}
	case in.caughtUp:
		return readyVerdict{reasonNoLeader, "no contact with a cluster leader for longer than the leader wait", false}
	case in.leader && in.leaderBarrier:
		return readyVerdict{caughtUp: true}
	case in.leader:
		return readyVerdict{reasonCatchingUp, "this new leader has not applied its predecessor's entries yet", false}
	case !in.contact:
		return readyVerdict{reasonNoLeader, "no cluster leader heard from since this agent started or lately", false}
	case !in.targetKnown:
		return readyVerdict{reasonCatchingUp, "learning the leader's index", false}
	case in.applied+readyMaxLag < in.target:
		return readyVerdict{reasonCatchingUp, fmt.Sprintf("applied index %d is behind the leader's %d", in.applied, in.target), false}
	}
	return readyVerdict{caughtUp: true}
}

// readiness is the agent's latest verdict, read by every API request.
type readiness struct {
	mu      sync.Mutex
	input   readyInput // what verdict was judged from
	verdict readyVerdict
	target  uint64
	learned bool
	ready   prometheus.Gauge
	reasons *prometheus.GaugeVec
}

func newReadiness(reg prometheus.Registerer) *readiness {
	r := &readiness{
		verdict: readyVerdict{reason: reasonNoLeader, detail: "starting"},
		ready:   prometheus.NewGauge(prometheus.GaugeOpts{Name: "ferry_agent_ready", Help: "1 when this agent answers authenticated calls; 0 while it is not ready (see ferry_agent_ready_reason)."}),
		reasons: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "ferry_agent_ready_reason", Help: "1 for the reason this agent is not ready (disk_full, raft_log_append_failing, no_leader, catching_up), 0 for the others."}, []string{"reason"}),
	}
	reg.MustRegister(r.ready, r.reasons)
	r.publish()
	return r
}

func (r *readiness) set(in readyInput, v readyVerdict) {
	r.mu.Lock()
	r.input, r.verdict = in, v
	r.mu.Unlock()
	r.publish()
}

func (r *readiness) forgetTarget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.target, r.learned = 0, false
}

func (r *readiness) get() readyVerdict {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.verdict
}

func (r *readiness) publish() {
	v := r.get()
	r.ready.Set(boolGauge(v.reason == reasonNone))
	for _, reason := range readyReasons {
		r.reasons.WithLabelValues(reason).Set(boolGauge(v.reason == reason))
	}
}

func boolGauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// NotReady implements api.Readiness: why this agent must not answer from its
// state now, or "" when it may.
func (a *Agent) NotReady() (string, time.Duration) {
	v := a.ready.get()
	if v.reason == reasonDiskFull {
		v = a.rejudgeDisk() // space freed since the last look answers at once
	}
	if v.reason == reasonNone {
		return "", 0
	}
	return "agent not ready (" + v.reason + "): " + v.detail, readyRetryAfter
}

// rejudgeDisk is the last verdict with the disks looked at again: cheap
// (two statfs), so a request need not wait for the next interval after a
// refused upload has freed its space.
func (a *Agent) rejudgeDisk() readyVerdict {
	a.ready.mu.Lock()
	in := a.ready.input
	a.ready.mu.Unlock()
	in.diskLow = a.diskBelowFloor()
	v := judgeReadiness(in)
	a.ready.set(in, v)
	return v
}

// watchReadiness re-judges readiness every interval until the agent stops.
func (a *Agent) watchReadiness() {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		tick := time.NewTicker(readyInterval)
		defer tick.Stop()
		for {
			a.judgeReadinessNow()
			select {
			case <-a.ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}

func (a *Agent) judgeReadinessNow() {
	prev := a.ready.get()
	in := readyInput{
		caughtUp: prev.caughtUp, leader: a.node.IsLeader(), leaderBarrier: a.consistentReady.Load(),
		applied: a.fsm.AppliedIndex(), diskLow: a.diskBelowFloor(),
	}
	in.appendErr, _ = a.node.LogAppendFailure()
	if !in.leader {
		// Not whether a leader is known now: an election clears that for
		// a second or so, which is no reason to catch up again.
		last := a.node.LastContact()
		in.contact = !last.IsZero() && time.Since(last) <= max(a.cfg.LeaderWait, minContactBound)
		if in.contact && !in.caughtUp {
			in.target, in.targetKnown = a.learnLeaderIndex()
		}
	}
	v := judgeReadiness(in)
	if in.caughtUp && !v.caughtUp {
		a.ready.forgetTarget() // cut off: the next catch-up needs the leader's index of then
	}
	if v.reason != prev.reason {
		if v.reason == reasonNone {
			a.log.Info("agent ready", "applied_index", in.applied)
		} else {
			a.log.Warn("agent not ready", "reason", v.reason, "detail", v.detail)
		}
	}
	a.ready.set(in, v)
}

// learnLeaderIndex is the leader's applied index, from its /v1/health (an
// open route, answered with the index even when the leader is not ready),
// remembered once learned.
func (a *Agent) learnLeaderIndex() (uint64, bool) {
	a.ready.mu.Lock()
	known, learned := a.ready.target, a.ready.learned
	a.ready.mu.Unlock()
	if learned {
		return known, true
	}
	l, ok := a.Leader()
	if !ok || l.APIAddr == "" || l.ID == a.cfg.ClusterID {
		return 0, false
	}
	ctx, cancel := context.WithTimeout(a.ctx, time.Second)
	defer cancel()
	var h api.HealthResponse
	err := a.peers.Do(ctx, peer.Request{Method: http.MethodGet, Addr: l.APIAddr, Path: "/v1/health"}, &h)
	var refused *peer.StatusError
	if errors.As(err, &refused) && refused.Code == http.StatusServiceUnavailable {
		err = json.Unmarshal(refused.Body, &h) // a leader not ready itself still tells its index
	}
	if err != nil {
		return 0, false
	}
	a.ready.mu.Lock()
	a.ready.target, a.ready.learned = h.Index, true
	a.ready.mu.Unlock()
	return h.Index, true
}

// diskBelowFloor names the store or Raft directory whose disk has less free
// space than the floor, or "".
func (a *Agent) diskBelowFloor() string {
	for _, d := range a.disks() {
		if free, total, ok := diskSpace(d.dir); ok && free < diskFloor(total) {
			return d.dir
		}
	}
	return ""
}

// disk is a directory whose file system's space the agent watches.
type disk struct{ name, dir string }

// disks are the store's and Raft's directories.
func (a *Agent) disks() []disk {
	return []disk{{"store", filepath.Join(a.cfg.DataDir, "store")}, {"raft", a.node.RaftDir()}}
}

// diskFloor is the free space below which a disk of total bytes is full.
func diskFloor(total uint64) uint64 {
	return min(uint64(diskFloorBytes), uint64(float64(total)*diskFloorFraction))
}

// diskSpace is the free (to unprivileged users) and total bytes of dir's
// file system; ok is false when it cannot be read.
func diskSpace(dir string) (free, total uint64, ok bool) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, 0, false
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), true
}

// InjectRaftLogFault makes this agent's Raft log appends fail with err (nil
// heals it): a full log disk, for tests.
func (a *Agent) InjectRaftLogFault(err error) { a.node.InjectLogAppendFault(err) }
