package integration

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestMetrics(t *testing.T) {
	nodes := startGroup(t, regions)
	leader := sameLeader(t, 30*time.Second, nodes...)
	leaderNode := nodeByID(nodes, leader.ID)
	createToken(t, followerOf(nodes, leader.ID), mgmtToken, "read")
	call(t, "GET", leaderNode.url()+"/v1/members", mgmtToken, nil)

	want := []*regexp.Regexp{
		regexp.MustCompile(`(?m)^ferry_cluster_members\{status="alive"\} 3$`),
		regexp.MustCompile(`(?m)^ferry_cluster_members\{status="failed"\} 0$`),
		regexp.MustCompile(`(?m)^ferry_raft_is_leader 1$`),
		regexp.MustCompile(`(?m)^ferry_raft_applied_index [1-9][0-9]*$`),
		regexp.MustCompile(`(?m)^ferry_http_requests_total\{code="200",route="/v1/members"\} [1-9]`),
		regexp.MustCompile(`(?m)^ferry_http_request_duration_seconds_bucket\{route="/v1/members",le="\+Inf"\} [1-9]`),
		// Raft's own metrics, through go-metrics' Prometheus sink.
		regexp.MustCompile(`(?m)^ferry_raft_[a-z_]+`),
	}
	eventually(t, 10*time.Second, "leader metrics", func() error {
		r := call(t, "GET", leaderNode.url()+"/metrics", "", nil)
		if r.status != http.StatusOK {
			return fmt.Errorf("metrics: %d", r.status)
		}
		for _, re := range want {
			if !re.Match(r.body) {
				return fmt.Errorf("no line matches %s", re)
			}
		}
		return nil
	})
	r := call(t, "GET", followerOf(nodes, leader.ID).url()+"/metrics", "", nil)
	if !strings.Contains(string(r.body), "ferry_raft_is_leader 0") {
		t.Fatalf("a follower does not report ferry_raft_is_leader 0")
	}
}
