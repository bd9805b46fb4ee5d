package swr

import (
	"net/http"
	"slices"
	"strings"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// regions is GET /regions: every cluster of the group, the valid
// remoteRegionId values of a sync rule.
func (d *dialect) regions(*http.Request, httprouter.Params) (reply, error) {
	clusters := slices.Clone(d.clusters.Clusters())
	slices.SortFunc(clusters, func(a, b fsm.ClusterRecord) int { return strings.Compare(a.ID, b.ID) })
	out := []map[string]string{}
	for _, c := range clusters {
		out = append(out, map[string]string{"regionID": c.ID})
	}
	return ok(out), nil
}

// checkAgency is GET /agency: SWR's console asks whether its IAM agency for
// cross-region sync exists. Ferry's agents need none, so it always does;
// the domain is the caller (Ferry has no accounts).
func (d *dialect) checkAgency(r *http.Request, _ httprouter.Params) (reply, error) {
	return ok(map[string]any{"domain_id": api.CallerOf(r.Context()).Name, "is_agency": true}), nil
}

// createAgency is POST /agency: nothing to create. {} rather than an empty
// body, which the SDK may fail to decode.
func (d *dialect) createAgency(*http.Request, httprouter.Params) (reply, error) {
	return ok(map[string]any{}), nil
}
