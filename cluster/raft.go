package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/ferrysync/ferry/internal/stopstep"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

const (
	raftLogCacheSize  = 512
	raftSnapshotsKept = 2
	raftTransportPool = 3
	raftTransportWait = 10 * time.Second
	// raftRPCsInFlight 1 turns raft's pipelined replication off: each
	// AppendEntries to a follower waits for its answer (bounded by
	// raftTransportWait) before the next. hashicorp/raft v1.7.3's pipeline
	// can deadlock: when a follower answers with a newer term or a failure,
	// the pipeline's decoder stops reading, the response after it blocks
	// the transport's decoding goroutine, and a send that the replication
	// loop picks at the same moment blocks for ever on the full hand-off
	// channel. pipeline.Close, which would free both, is deferred in that
	// very loop, so the replication goroutine never ends and
	// raft.Shutdown().Error() waits for it for ever: a leader that had
	// been frozen (SIGSTOP) and thawed into a newer term hung at SIGTERM
	// so (TestWriteSucceedsWhileLeaderHangs). Raft's own documentation
	// of MaxRPCsInFlight finds pipelining of little benefit except on very
	// high-latency links.
	raftRPCsInFlight = 1
	// raftStoreCloseTimeout bounds bbolt's Close, which waits for the
	// transactions still open.
	raftStoreCloseTimeout = 5 * time.Second
	wanTimingMultipler    = 5
)

// raftConfig returns raft's configuration for a profile. lan keeps raft's
// defaults; wan scales the timeouts so that a cross-region round trip is well
// inside every one of them.
func raftConfig(id, profile string, log *slog.Logger, notify chan bool) *raft.Config {
	c := raft.DefaultConfig()
	c.LocalID = raft.ServerID(id)
	c.Logger = hclogFor(log, "raft")
	c.NotifyCh = notify
	c.ShutdownOnRemove = false
	// A follower learns that an entry is committed only from the next
	// AppendEntries, sent at the latest CommitTimeout (randomised up to 2x)
	// after the last write. Writes answered by a follower wait for that, so
	// keep it short: the cost is a few hundred empty RPCs per follower per
	// second while idle, which is nothing next to a write waiting 75 ms.
	c.CommitTimeout = 5 * time.Millisecond
	if profile == "wan" {
		c.HeartbeatTimeout *= wanTimingMultipler
		c.ElectionTimeout *= wanTimingMultipler
		c.LeaderLeaseTimeout *= wanTimingMultipler
		c.CommitTimeout = 20 * time.Millisecond // well under a cross-region round trip
	}
	return c
}

// raftStores are the durable parts of the Raft node, in the Raft dir.
type raftStores struct {
	bolt      *raftboltdb.BoltStore
	logs      *watchedLogs
	snapshots raft.SnapshotStore
}

func openRaftStores(dir string, log *slog.Logger) (*raftStores, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("raft data dir: %w", err)
	}
	bolt, err := raftboltdb.New(raftboltdb.Options{Path: filepath.Join(dir, "raft.db")})
	if err != nil {
		return nil, fmt.Errorf("open raft log %s: %w", filepath.Join(dir, "raft.db"), err)
	}
	logs, err := raft.NewLogCache(raftLogCacheSize, bolt)
	if err != nil {
		bolt.Close()
		return nil, err
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, raftSnapshotsKept, hclogFor(log, "snapshot"))
	if err != nil {
		bolt.Close()
		return nil, fmt.Errorf("raft snapshots: %w", err)
	}
	return &raftStores{bolt: bolt, logs: &watchedLogs{LogStore: logs}, snapshots: snaps}, nil
}

// streamLayer is raft's TCP stream layer, on a listener we open ourselves so
// that port 0 works: the advertised address carries the port the kernel chose.
type streamLayer struct {
	net.Listener
	advertise net.Addr
}

func listenRaft(bind, advertise string, port int) (*streamLayer, error) {
	l, err := net.Listen("tcp", hostPort(bind, port))
	if err != nil {
		return nil, fmt.Errorf("raft listener: %w", err)
	}
	adv := &net.TCPAddr{IP: net.ParseIP(advertise), Port: l.Addr().(*net.TCPAddr).Port}
	if adv.IP == nil || adv.IP.IsUnspecified() {
		l.Close()
		return nil, errors.New("raft: advertise address must be a reachable IP")
	}
	return &streamLayer{Listener: l, advertise: adv}, nil
}

func (s *streamLayer) Addr() net.Addr { return s.advertise }

func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", string(addr), timeout)
}

// startRaft opens the stores and the transport and starts the Raft node; on
// failure it closes what it opened.
func (n *Node) startRaft() error {
	dir := n.RaftDir()
	stores, err := openRaftStores(dir, n.log)
	if err != nil {
		return err
	}
	layer, err := listenRaft(n.cfg.BindAddr, n.cfg.AdvertiseAddr, n.cfg.RaftPort)
	if err != nil {
		stores.bolt.Close()
		return err
	}
	n.stores = stores
	n.raftAddr = layer.Addr().String()
	n.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: raftLayer(layer, n.cfg.RaftTLS, n.raftPeerID), MaxPool: raftTransportPool, Timeout: raftTransportWait,
		Logger: hclogFor(n.log, "raft-net"), MaxRPCsInFlight: raftRPCsInFlight,
	})
	rc := raftConfig(n.cfg.ID, n.cfg.Profile, n.log, n.leaderCh)
	if err := n.recoverFromPeersFile(dir, rc, stores); err != nil {
		n.closeRaft()
		return err
	}
	has, err := raft.HasExistingState(stores.logs, stores.bolt, stores.snapshots)
	if err != nil {
		n.closeRaft()
		return fmt.Errorf("raft: read existing state: %w", err)
	}
	n.hasState.Store(has)
	n.raft, err = raft.NewRaft(rc, n.cfg.FSM, stores.logs, stores.bolt, stores.snapshots, n.trans)
	if err != nil {
		n.closeRaft()
		return fmt.Errorf("raft: %w", err)
	}
	return nil
}

// RaftDir is where the Raft log and snapshots live: RaftDir, else under
// the data dir.
func (n *Node) RaftDir() string {
	if n.cfg.RaftDir != "" {
		return n.cfg.RaftDir
	}
	return filepath.Join(n.cfg.DataDir, "raft")
}

// closeRaft stops what startRaft started, whatever of it there is. The wait
// for raft's goroutines is bounded (raftStopTimeout): when it times out, the
// transport is closed all the same but the log store is left open, since a
// raft goroutine still running may read it (the process exiting closes it).
func (n *Node) closeRaft() error {
	var errs []error
	raftStopped := true
	if n.raft != nil {
		if err := stopstep.Run(n.log, "raft shutdown", raftStopTimeout, n.raft.Shutdown().Error); err != nil {
			errs = append(errs, err)
			raftStopped = !errors.Is(err, stopstep.ErrTimedOut)
		}
	}
	if n.trans != nil {
		errs = append(errs, n.trans.Close())
	}
	if n.stores != nil && raftStopped {
		errs = append(errs, stopstep.Run(n.log, "raft log store close", raftStoreCloseTimeout, n.stores.bolt.Close))
	} else if n.stores != nil {
		n.log.Warn("leaving the raft log store open: raft has not stopped", "dir", n.RaftDir())
	}
	return errors.Join(errs...)
}
