package bkrepo

import (
	"net/http"
	"strings"
	"time"

	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// ClusterNodeController (bk-repo's src/backend/replication/biz-replication/
// src/main/kotlin/com/tencent/bkrepo/replication/controller/api/
// ClusterNodeController.kt and service/impl/ClusterNodeServiceImpl.kt): the
// cluster registry, with each cluster's
// health from this agent's gossip (see clusterInfo).

func (d *dialect) clusterInfos(loc *time.Location) []ClusterNodeInfo {
	members := map[string]cluster.MemberView{}
	for _, m := range d.status.Members() {
		members[m.ID] = m
	}
	out := []ClusterNodeInfo{}
	for _, c := range d.status.Clusters() {
		var mp *cluster.MemberView
		if m, ok := members[c.ID]; ok {
			mp = &m
		}
		out = append(out, clusterInfo(c, mp, loc))
	}
	return out
}

// registerClusters mounts ClusterNodeController: /api/cluster.
func (d *dialect) registerClusters() {
	r := fsm.PolicyRead
	d.handle(http.MethodGet, "/cluster/list", r, d.clusterList)
	d.handle(http.MethodGet, "/cluster/info/:id", r, d.clusterByID)
}

// clusterList is GET /cluster/list?name=&type=: name matches the start of a
// cluster's name, type is a ClusterNodeType (every Ferry cluster is
// STANDALONE).
func (d *dialect) clusterList(r *http.Request, _ httprouter.Params) (any, error) {
	q := r.URL.Query()
	name, typ := q.Get("name"), q.Get("type")
	switch typ {
	case "", "CENTER", "EDGE", ClusterStandalone, "REMOTE":
	default:
		return nil, invalid("type", "%q is not CENTER, EDGE, STANDALONE or REMOTE", typ)
	}
	out := []ClusterNodeInfo{}
	for _, c := range d.clusterInfos(zoneOf(r.Context())) {
		if strings.HasPrefix(c.Name, name) && (typ == "" || typ == c.Type) {
			out = append(out, c)
		}
	}
	return out, nil
}

// clusterByID is GET /cluster/info/{id}. An unknown id answers data null,
// as bk-repo's ClusterNodeService.getByClusterId does.
func (d *dialect) clusterByID(r *http.Request, ps httprouter.Params) (any, error) {
	for _, c := range d.clusterInfos(zoneOf(r.Context())) {
		if c.ID == ps.ByName("id") {
			return c, nil
		}
	}
	return nil, nil
}
