package agent

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/replicator"
)

// Throughput per link (GET /v1/links): each agent counts the content it
// sends to each remote cluster (replicator/linkstats.go) and serves its own
// on GET /v1/agent/links (agents only); /v1/links asks every member gossip
// knows (but those that left) at once and lists those that could not
// answer: a failed region is unreachable, not absent.

// linksAnswer is GET /v1/links.
type linksAnswer struct {
	Links       []replicator.LinkStat `json:"links"`
	Unreachable []string              `json:"unreachable"`
	Now         time.Time             `json:"now"`
}

func (a *Agent) linkRoutes(srv *api.Server) {
	srv.Mount(http.MethodGet, "/v1/links", fsm.PolicyRead, api.Answer(a.links))
	srv.MountForAgents(http.MethodGet, "/v1/agent/links", fsm.PolicyAdmin, api.Answer(func(*http.Request) ([]replicator.LinkStat, error) {
		return a.executor.Links(time.Now()), nil
	}))
}

func (a *Agent) links(r *http.Request) (linksAnswer, error) {
	got, failed := askAgents(r.Context(), a, a.knownMembers(), "/v1/agent/links", func() []replicator.LinkStat {
		return a.executor.Links(time.Now())
	})
	for id, err := range failed {
		a.log.Debug("links not read", "cluster", id, "err", err)
	}
	return mergeLinks(got, failed, time.Now().UTC()), nil
}

// mergeLinks lists every agent's links by source and target, and the
// agents that could not be asked.
func mergeLinks(got map[string][]replicator.LinkStat, failed map[string]error, now time.Time) linksAnswer {
	ans := linksAnswer{Links: []replicator.LinkStat{}, Unreachable: []string{}, Now: now}
	for _, links := range got {
		ans.Links = append(ans.Links, links...)
	}
	slices.SortFunc(ans.Links, func(x, y replicator.LinkStat) int {
		if c := strings.Compare(x.Source, y.Source); c != 0 {
			return c
		}
		return strings.Compare(x.Target, y.Target)
	})
	for id := range failed {
		ans.Unreachable = append(ans.Unreachable, id)
	}
	slices.Sort(ans.Unreachable)
	return ans
}
