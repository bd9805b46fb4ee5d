package bkrepo

import (
	"time"

	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/fsm"
)

// Clusters, in bk-repo's shapes (api-replication's pojo/cluster/:
// ClusterNodeInfo.kt, ClusterNodeStatus.kt, ClusterNodeType.kt). Ferry's
// clusters are peers, each a full region that replicates to the others: to
// the agent that answers, its own cluster is the CENTER (bk-repo's local
// node, which the web UI does not offer as a target) and every other one a
// STANDALONE node. Their health is what this agent's gossip says.

// ClusterNodeInfo is bk-repo's ClusterNodeInfo. It never carries a password
// (bk-repo's is @JsonIgnore'd); username, certificate and the access keys are
// null: agents authenticate with the group's token.
type ClusterNodeInfo struct {
	ID               string  `json:"id"`
	Name             string  `json:"name"`
	Status           string  `json:"status"`
	ErrorReason      *string `json:"errorReason"`
	Type             string  `json:"type"`
	URL              string  `json:"url"`
	Username         *string `json:"username"`
	Certificate      *string `json:"certificate"`
	AppID            *string `json:"appId"`
	AccessKey        *string `json:"accessKey"`
	UDPPort          *int    `json:"udpPort"`
	Extension        any     `json:"extension"`
	DetectType       string  `json:"detectType"`
	LastReportTime   *string `json:"lastReportTime"`
	CreatedBy        string  `json:"createdBy"`
	CreatedDate      *string `json:"createdDate"`
	LastModifiedBy   string  `json:"lastModifiedBy"`
	LastModifiedDate *string `json:"lastModifiedDate"`
}

// Cluster node statuses and types (ClusterNodeStatus, ClusterNodeType), and
// how health is known (DetectType: bk-repo pings its nodes; Ferry's gossip
// does).
const (
	ClusterHealthy    = "HEALTHY"
	ClusterUnhealthy  = "UNHEALTHY"
	ClusterCenter     = "CENTER"
	ClusterEdge       = "EDGE"
	ClusterStandalone = "STANDALONE"
	ClusterRemote     = "REMOTE"
	detectPing        = "PING"
)

var clusterTypes = []string{ClusterCenter, ClusterEdge, ClusterStandalone, ClusterRemote}

// clusterInfo shows a registered cluster to the agent of cluster self,
// its URL in the agents' scheme; member is its gossip view, if any. Only an alive member is HEALTHY;
// suspect, failed and left ones, and those gossip does not know, are
// UNHEALTHY with the reason.
func clusterInfo(c fsm.ClusterRecord, self, scheme string, m *cluster.MemberView, loc *time.Location) ClusterNodeInfo {
	ci := ClusterNodeInfo{
		ID: c.ID, Name: c.Name, Status: ClusterHealthy, Type: ClusterStandalone, DetectType: detectPing,
		CreatedBy: "system", CreatedDate: FormatTime(c.CreatedAt, loc),
		LastModifiedBy: "system", LastModifiedDate: FormatTime(c.UpdatedAt, loc),
	}
	if c.ID == self {
		ci.Type = ClusterCenter
	}
	if c.APIAddr != "" {
		ci.URL = scheme + "://" + c.APIAddr
	}
	switch {
	case m == nil:
		ci.Status, ci.ErrorReason = ClusterUnhealthy, nullable("this agent's gossip does not know the cluster's agent")
	case m.Status != cluster.StatusAlive:
		ci.Status, ci.ErrorReason = ClusterUnhealthy, nullable("gossip reports the cluster's agent "+string(m.Status))
	}
	return ci
}
