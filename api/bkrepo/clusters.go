package bkrepo

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// ClusterNodeController (bk-repo's src/backend/replication/biz-replication/
// src/main/kotlin/com/tencent/bkrepo/replication/controller/api/
// ClusterNodeController.kt and service/impl/ClusterNodeServiceImpl.kt): the
// cluster registry, with each cluster's health from this agent's gossip (see
// clusterInfo). A Ferry cluster joins the group by starting its agent with
// --join and leaves with it, so the writes that would add, change or remove
// a node refuse, saying so: create of a cluster the group has is 250107 as
// bk-repo's, of another 250105; update and delete of one 250105, of an
// unknown one 250306. tryConnect really probes the cluster's agent.

// registerClusters mounts ClusterNodeController: /api/cluster.
func (d *dialect) registerClusters() {
	r, w := fsm.PolicyRead, fsm.PolicyWrite
	d.handle(http.MethodGet, "/cluster/list", r, d.clusterList)
	d.handle(http.MethodGet, "/cluster/list/edge", r, d.edgeList)
	d.handle(http.MethodGet, "/cluster/page", r, d.clusterPage)
	d.handle(http.MethodGet, "/cluster/exist", r, d.clusterExists)
	d.handle(http.MethodGet, "/cluster/info", r, d.clusterByName)
	d.handle(http.MethodGet, "/cluster/info/:id", r, d.clusterByID)
	d.handle(http.MethodPost, "/cluster/create", w, d.createCluster)
	d.handle(http.MethodPost, "/cluster/update", w, d.updateCluster)
	d.handle(http.MethodDelete, "/cluster/delete/:id", w, d.deleteCluster)
	d.handle(http.MethodPost, "/cluster/tryConnect", r, d.tryConnect)
}

// clusterInfos are the registered clusters, newest first (bk-repo lists by
// createdDate descending).
func (d *dialect) clusterInfos(loc *time.Location) []ClusterNodeInfo {
	members := map[string]cluster.MemberView{}
	for _, m := range d.status.Members() {
		members[m.ID] = m
	}
	records := d.status.Clusters()
	slices.SortFunc(records, func(a, b fsm.ClusterRecord) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	out := []ClusterNodeInfo{}
	for _, c := range records {
		var mp *cluster.MemberView
		if m, ok := members[c.ID]; ok {
			mp = &m
		}
		out = append(out, clusterInfo(c, d.status.ClusterID(), d.srv.AgentScheme(), mp, loc))
	}
	return out
}

// find is the cluster that match says, if any.
func (d *dialect) find(r *http.Request, match func(ClusterNodeInfo) bool) (ClusterNodeInfo, bool) {
	for _, c := range d.clusterInfos(zoneOf(r.Context())) {
		if match(c) {
			return c, true
		}
	}
	return ClusterNodeInfo{}, false
}

// filtered reads ClusterListOption (name: the start of a cluster's name;
// type: a ClusterNodeType) and lists what matches.
func (d *dialect) filtered(r *http.Request) ([]ClusterNodeInfo, *Error) {
	q := r.URL.Query()
	name, typ := q.Get("name"), q.Get("type")
	if typ != "" && !slices.Contains(clusterTypes, typ) {
		return nil, badQuery("type", "%q is not %s", typ, strings.Join(clusterTypes, ", "))
	}
	out := []ClusterNodeInfo{}
	for _, c := range d.clusterInfos(zoneOf(r.Context())) {
		if strings.HasPrefix(c.Name, name) && (typ == "" || typ == c.Type) {
			out = append(out, c)
		}
	}
	return out, nil
}

func (d *dialect) clusterList(r *http.Request, _ httprouter.Params) (any, error) {
	out, e := d.filtered(r)
	if e != nil {
		return nil, e
	}
	return out, nil
}

// edgeList is GET /cluster/list/edge: Ferry has no edge nodes.
func (d *dialect) edgeList(*http.Request, httprouter.Params) (any, error) {
	return []ClusterNodeInfo{}, nil
}

func (d *dialect) clusterPage(r *http.Request, _ httprouter.Params) (any, error) {
	page, e := pageOf(r.URL.Query())
	if e != nil {
		return nil, e
	}
	out, e := d.filtered(r)
	if e != nil {
		return nil, e
	}
	return paginate(out, page), nil
}

// clusterExists is GET /cluster/exist?name=: whether a cluster has the name.
func (d *dialect) clusterExists(r *http.Request, _ httprouter.Params) (any, error) {
	name, e := requiredQuery(r, "name")
	if e != nil {
		return nil, e
	}
	_, ok := d.find(r, func(c ClusterNodeInfo) bool { return c.Name == name })
	return ok, nil
}

// clusterByName is GET /cluster/info?name=: null when none has it.
func (d *dialect) clusterByName(r *http.Request, _ httprouter.Params) (any, error) {
	name, e := requiredQuery(r, "name")
	if e != nil {
		return nil, e
	}
	if c, ok := d.find(r, func(c ClusterNodeInfo) bool { return c.Name == name }); ok {
		return c, nil
	}
	return nil, nil
}

// clusterByID is GET /cluster/info/{id}, and GET /cluster/info/center: the
// answering agent's own cluster. An unknown id answers data null, as
// bk-repo's ClusterNodeService.getByClusterId does.
func (d *dialect) clusterByID(r *http.Request, ps httprouter.Params) (any, error) {
	id := ps.ByName("id")
	if id == "center" {
		id = d.status.ClusterID()
	}
	if c, ok := d.find(r, func(c ClusterNodeInfo) bool { return c.ID == id }); ok {
		return c, nil
	}
	return nil, nil
}

// clusterRequest is what ClusterNodeCreateRequest and
// ClusterNodeUpdateRequest name a node by.
type clusterRequest struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

func (d *dialect) createCluster(r *http.Request, _ httprouter.Params) (any, error) {
	req, e := readClusterRequest(r)
	if e != nil {
		return nil, e
	}
	if _, ok := d.find(r, func(c ClusterNodeInfo) bool { return c.Name == req.Name }); ok {
		return nil, &Error{http.StatusBadRequest, CodeResourceExisted, fmt.Sprintf("Resource [%s] existed", req.Name)}
	}
	return nil, invalid("name", "%q is not a cluster of this group: a Ferry cluster joins by starting its agent with --join (the address of any agent), and its agent registers it", req.Name)
}

func (d *dialect) updateCluster(r *http.Request, _ httprouter.Params) (any, error) {
	req, e := readClusterRequest(r)
	if e != nil {
		return nil, e
	}
	c, ok := d.find(r, func(c ClusterNodeInfo) bool { return c.Name == req.Name })
	if !ok {
		return nil, clusterNotFound(req.Name)
	}
	return nil, invalid("name", "cluster %s is registered by its own agent, which keeps its name and address: change them in the agent's configuration", c.ID)
}

func (d *dialect) deleteCluster(r *http.Request, ps httprouter.Params) (any, error) {
	c, ok := d.find(r, func(c ClusterNodeInfo) bool { return c.ID == ps.ByName("id") })
	if !ok {
		return nil, clusterNotFound(ps.ByName("id"))
	}
	return nil, invalid("id", "cluster %s leaves the group when its agent leaves it (stopped for good, it is removed once gossip reports it gone)", c.ID)
}

// tryConnect is POST /cluster/tryConnect?name=: the cluster's agent is
// probed, and 250301 is its failure.
func (d *dialect) tryConnect(r *http.Request, _ httprouter.Params) (any, error) {
	name, e := requiredQuery(r, "name")
	if e != nil {
		return nil, e
	}
	c, ok := d.find(r, func(c ClusterNodeInfo) bool { return c.Name == name || c.ID == name })
	if !ok {
		return nil, clusterNotFound(name)
	}
	if err := d.status.ProbeCluster(r.Context(), c.ID); err != nil {
		return nil, &Error{http.StatusBadRequest, CodeRemoteClusterConnectError, fmt.Sprintf("Remote cluster [%s] connect error: %v", c.Name, err)}
	}
	return nil, nil
}

func readClusterRequest(r *http.Request) (clusterRequest, *Error) {
	body, e := readBody(r)
	if e != nil {
		return clusterRequest{}, e
	}
	var head object
	if e := decodeOver(body, &head); e != nil {
		return clusterRequest{}, e
	}
	if e := head.require("", "name"); e != nil {
		return clusterRequest{}, e
	}
	var req clusterRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return clusterRequest{}, unreadable("%v", err)
	}
	return req, nil
}

// requiredQuery is a query parameter bk-repo's controller requires
// (@RequestParam): absent, it is 250103.
func requiredQuery(r *http.Request, name string) (string, *Error) {
	if !r.URL.Query().Has(name) {
		return "", missing(name)
	}
	return r.URL.Query().Get(name), nil
}

func clusterNotFound(id string) *Error {
	return &Error{http.StatusBadRequest, CodeClusterNodeNotFound, fmt.Sprintf("cluster node [%s] is not found", id)}
}
