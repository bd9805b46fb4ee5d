package cluster

import (
	"encoding/json"
	"fmt"

	"github.com/hashicorp/memberlist"
)

// nodeMeta is what every agent gossips about itself. Short keys: memberlist
// caps metadata at 512 bytes.
type nodeMeta struct {
	Name     string            `json:"n"`
	API      string            `json:"a"`
	Raft     string            `json:"r"`
	Version  string            `json:"v"`
	Expect   int               `json:"e,omitempty"`
	HasState bool              `json:"s,omitempty"`
	Leaving  bool              `json:"lv,omitempty"`
	Labels   map[string]string `json:"l,omitempty"`
}

func (m nodeMeta) encode() ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	if len(b) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("gossip metadata is %d bytes, more than memberlist's %d: use fewer or shorter labels", len(b), memberlist.MetaMaxSize)
	}
	return b, nil
}

func decodeMeta(b []byte) (nodeMeta, error) {
	var m nodeMeta
	if len(b) == 0 {
		return m, fmt.Errorf("no metadata (not a Ferry agent?)")
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nodeMeta{}, err
	}
	if m.API == "" || m.Raft == "" {
		return nodeMeta{}, fmt.Errorf("metadata lacks the API or Raft address (not a Ferry agent?)")
	}
	return m, nil
}
