package agent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/internal/peer"
	"github.com/ferrysync/ferry/store"
)

// ProjectInRegion implements swr.Regions: SWR's sync checks that the
// target organization exists in the target region, whose agent alone
// knows (projects are per store).
func (a *Agent) ProjectInRegion(ctx context.Context, region, project string) (bool, error) {
	if region == a.cfg.ClusterID {
		_, err := a.store.Project(ctx, project)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
	addr, ok := a.ClusterAPIAddr(region)
	if !ok {
		return false, fmt.Errorf("region %s has no known API address", region)
	}
	req := peer.Request{Method: http.MethodGet, Addr: addr, Cluster: region, Path: "/v1/projects/" + url.PathEscape(project), Token: a.cfg.Token, TraceID: api.TraceID(ctx)}
	err := a.peers.Do(ctx, req, nil)
	var se *peer.StatusError
	if errors.As(err, &se) && se.Code == http.StatusNotFound {
		return false, nil
	}
	return err == nil, err
}
