package cluster

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hashicorp/raft"
)

// peersFile is the operator's recovery file in the Raft dir, as Consul's:
// a JSON list of {"id", "address", "non_voter"} naming the servers that are
// left when a majority of the group is lost for good.
const peersFile = "peers.json"

// recoverFromPeersFile replaces the Raft configuration with the one in
// <dir>/peers.json when that file exists, and renames the file so that the
// next start does not recover again. It runs before raft.NewRaft: recovery
// rewrites the log's configuration and takes a snapshot with newFSM's state,
// which raft then restores into the agent's own FSM.
func (n *Node) recoverFromPeersFile(dir string, rc *raft.Config, st *raftStores) error {
	path := filepath.Join(dir, peersFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	conf, err := raft.ReadConfigJSON(path)
	if err != nil {
		return fmt.Errorf("raft recovery: read %s: %w", path, err)
	}
	n.log.Warn("recovering the Raft configuration from peers.json", "path", path, "servers", describeServers(conf.Servers))
	fsm := n.cfg.FSM
	if n.cfg.RecoveryFSM != nil {
		fsm = n.cfg.RecoveryFSM() // RecoverCluster leaves the FSM it uses unusable
	}
	if err := raft.RecoverCluster(rc, fsm, st.logs, st.bolt, st.snapshots, n.trans, conf); err != nil {
		return fmt.Errorf("raft recovery from %s: %w", path, err)
	}
	if err := os.Rename(path, path+".recovered"); err != nil {
		return fmt.Errorf("raft recovery: done, but rename %s: %w (remove it before the next start)", path, err)
	}
	n.log.Info("recovered the Raft configuration; peers.json renamed", "to", path+".recovered")
	return nil
}

func describeServers(servers []raft.Server) []string {
	out := make([]string, len(servers))
	for i, s := range servers {
		out[i] = fmt.Sprintf("%s=%s@%s", s.ID, suffrageName(s.Suffrage), s.Address)
	}
	return out
}
