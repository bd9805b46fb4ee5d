package cluster

import (
	"github.com/hashicorp/raft"
)

// Peer is one server in the Raft configuration.
type Peer struct {
	ID       string `json:"id"`
	Address  string `json:"address"`
	Suffrage string `json:"suffrage"`
}

func suffrageName(s raft.ServerSuffrage) string {
	switch s {
	case raft.Voter:
		return "voter"
	case raft.Nonvoter:
		return "nonvoter"
	}
	return "staging"
}

// Peers is the latest Raft configuration this agent knows.
func (n *Node) Peers() ([]Peer, error) {
	servers, err := n.servers()
	if err != nil {
		return nil, err
	}
	out := make([]Peer, len(servers))
	for i, s := range servers {
		out[i] = Peer{ID: string(s.ID), Address: string(s.Address), Suffrage: suffrageName(s.Suffrage)}
	}
	return out, nil
}

func (n *Node) servers() ([]raft.Server, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	return f.Configuration().Servers, nil
}

// MemberView is a member with its Raft role, for the API.
type MemberView struct {
	Member
	Role   string `json:"role"`
	Leader bool   `json:"leader"`
}

// Members is every member this agent's gossip knows, with its Raft role.
func (n *Node) Members() []MemberView {
	roles := map[string]string{}
	if servers, err := n.servers(); err == nil {
		for _, s := range servers {
			roles[string(s.ID)] = suffrageName(s.Suffrage)
		}
	}
	leader, _ := n.Leader()
	var out []MemberView
	for _, m := range n.members.list() {
		role := roles[m.ID]
		if role == "" {
			role = "none"
		}
		out = append(out, MemberView{Member: m, Role: role, Leader: m.ID == leader.ID})
	}
	return out
}

// Member returns one member as gossip knows it.
func (n *Node) Member(id string) (Member, bool) { return n.members.get(id) }

// Stats is raft's own counters, for /v1/agent/self.
func (n *Node) Stats() map[string]string { return n.raft.Stats() }
