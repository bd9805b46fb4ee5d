package fsm

import (
	"encoding/json"
	"time"
)

// ClusterRecord is one region in the cluster registry. The leader registers a
// member when gossip first sees it alive and keeps its addresses current; it
// deregisters the member when the member leaves the Raft configuration.
type ClusterRecord struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Labels     map[string]string `json:"labels,omitempty"`
	APIAddr    string            `json:"apiAddr"`
	RaftAddr   string            `json:"raftAddr"`
	GossipAddr string            `json:"gossipAddr"`
	Version    string            `json:"version"`
	CreatedAt  time.Time         `json:"createdAt"`
	UpdatedAt  time.Time         `json:"updatedAt"`
}

// DeregisterCluster is the payload of CmdDeregisterCluster.
type DeregisterCluster struct {
	ID string `json:"id"`
}

func applyRegisterCluster(s *state, cmd Command) (any, error) {
	var rec ClusterRecord
	if err := json.Unmarshal(cmd.Payload, &rec); err != nil {
		return nil, errorf(KindInvalid, "cluster.register: %v", err)
	}
	if rec.ID == "" {
		return nil, errorf(KindInvalid, "cluster.register: id is required")
	}
	if old, ok := s.clusters[rec.ID]; ok {
		rec.CreatedAt = old.CreatedAt
	} else {
		rec.CreatedAt = cmd.Time
	}
	rec.UpdatedAt = cmd.Time
	s.clusters[rec.ID] = rec
	return rec, nil
}

func applyDeregisterCluster(s *state, cmd Command) (any, error) {
	var p DeregisterCluster
	if err := json.Unmarshal(cmd.Payload, &p); err != nil {
		return nil, errorf(KindInvalid, "cluster.deregister: %v", err)
	}
	if _, ok := s.clusters[p.ID]; !ok {
		return nil, errorf(KindNotFound, "cluster %q is not registered", p.ID)
	}
	delete(s.clusters, p.ID)
	return nil, nil
}
