package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

type swrRule struct {
	ID              int32  `json:"id"`
	CreatedAt       string `json:"createdAt"`
	UpdatedAt       string `json:"updatedAt"`
	DomainID        string `json:"domainID"`
	DomainName      string `json:"domainName"`
	Namespace       string `json:"namespace"`
	Override        bool   `json:"override"`
	RemoteNamespace string `json:"remoteNamespace"`
	RemoteRegionID  string `json:"remoteRegionId"`
	RepoName        string `json:"repoName"`
	SyncAuto        bool   `json:"syncAuto"`
}

type swrJob struct {
	ID             int32  `json:"id"`
	CreatedAt      string `json:"createdAt"`
	RemoteRegionID string `json:"remoteRegionId"`
	Status         string `json:"status"`
	Tag            string `json:"tag"`
}

// manifestOn waits for name:ref on n to be want.
func manifestOn(t *testing.T, n *node, name, ref string, want []byte) {
	t.Helper()
	eventually(t, 60*time.Second, name+":"+ref+" on "+n.cfg.ClusterID, func() error {
		r := ociCall(t, n, "GET", "/v2/"+name+"/manifests/"+ref, mgmtToken, nil, nil)
		if r.status != http.StatusOK || !bytes.Equal(r.body, want) {
			return fmt.Errorf("%d %.80s", r.status, r.body)
		}
		return nil
	})
}

// SWR's image sync between two regions: an automatic rule delivers later
// pushes, a manual sync copies tags now and answers the failed ones, jobs
// list each tag and target, deleting the rule stops its replication.
func TestSWRImageSync(t *testing.T) {
	nodes := replicationGroup(t)
	byID := byRegion(nodes)
	src, dst := byID["shanghai"], byID["beijing"]
	const base = "/v2/manage/namespaces/ferry/repos/app$web/"
	swrOK(t, src, "POST", "/v2/manage/namespaces", map[string]string{"namespace": "ferry"}, http.StatusCreated, nil)
	old := ociImage(t, src, "ferry/app/web", "v1", []byte("web layer 1"))
	rule := map[string]any{"remoteRegionId": "beijing", "remoteNamespace": "mirror", "syncAuto": true, "override": false}
	swrFails(t, src, "POST", base+"sync_repo", mgmtToken, rule, http.StatusNotFound, "SVCSTG.SWR.4040058") // not on beijing yet
	swrOK(t, dst, "POST", "/v2/manage/namespaces", map[string]string{"namespace": "mirror"}, http.StatusCreated, nil)
	swrOK(t, src, "POST", base+"sync_repo", rule, http.StatusOK, nil)
	swrOK(t, src, "POST", base+"sync_repo", rule, http.StatusOK, nil) // the same key: an update, not a second rule

	rules, _ := swrList[swrRule](t, src, base+"sync_repo")
	if len(rules) != 1 || rules[0].ID < 0 || rules[0].RepoName != "app/web" || rules[0].Namespace != "ferry" || rules[0].RemoteRegionID != "beijing" ||
		rules[0].RemoteNamespace != "mirror" || !rules[0].SyncAuto || rules[0].Override || rules[0].CreatedAt == "" || rules[0].UpdatedAt == "" || rules[0].DomainName == "" {
		t.Fatalf("rules %+v", rules)
	}

	// A push after the rule reaches beijing's mirror organization; what was
	// there before the rule is not the rule's (deliveries are in order, so
	// once v2 is there, v1 would have been too).
	v2 := ociImage(t, src, "ferry/app/web", "v2", []byte("web layer 2"))
	manifestOn(t, dst, "mirror/app/web", "v2", v2)
	if r := ociCall(t, dst, "GET", "/v2/mirror/app/web/manifests/v1", mgmtToken, nil, nil); r.status != http.StatusNotFound {
		t.Fatalf("the rule copied v1, pushed before it: %d", r.status)
	}

	// Manual: two tags answer [] and land with the same digests; an unknown
	// tag is answered failed.
	v3 := ociImage(t, src, "ferry/app/web", "v3", []byte("web layer 3"))
	var failed []string
	swrOK(t, src, "POST", base+"sync_images", map[string]any{"imageTag": []string{"v1", "v3"}, "override": false, "remoteNamespace": "mirror", "remoteRegionId": "beijing"}, http.StatusOK, &failed)
	if len(failed) != 0 {
		t.Fatalf("sync_images failed %v", failed)
	}
	manifestOn(t, dst, "mirror/app/web", "v1", old)
	manifestOn(t, dst, "mirror/app/web", "v3", v3)
	swrOK(t, src, "POST", base+"sync_images", map[string]any{"imageTag": []string{"nope"}, "remoteNamespace": "mirror", "remoteRegionId": "beijing"}, http.StatusOK, &failed)
	if !slices.Equal(failed, []string{"nope"}) {
		t.Fatalf("an unknown tag: %v", failed)
	}

	// Deleting the rule stops it: a push after it does not arrive while a
	// manual sync of a tag pushed later still does (the pipeline works).
	swrOK(t, src, "DELETE", base+"sync_repo", map[string]string{"remoteRegionId": "beijing", "remoteNamespace": "mirror"}, http.StatusOK, nil)
	if rules, _ := swrList[swrRule](t, src, base+"sync_repo"); len(rules) != 0 {
		t.Fatalf("rules after delete %+v", rules)
	}
	// The rule's standing run stops once its executor has seen the delete;
	// only a push after that is one it must not deliver.
	eventually(t, 30*time.Second, "the rule's real-time run ended", func() error {
		var p struct {
			Records []struct {
				ID      string `json:"id"`
				Trigger string `json:"trigger"`
				State   string `json:"state"`
			} `json:"records"`
		}
		getOK(t, src, "/v1/runs?pageSize=1000", &p)
		for _, r := range p.Records {
			if r.Trigger == "REAL_TIME" && !terminal(r.State) {
				return fmt.Errorf("run %s is %s", r.ID, r.State)
			}
		}
		return nil
	})
	ociImage(t, src, "ferry/app/web", "late", []byte("late layer"))
	proof := ociImage(t, src, "ferry/app/web", "proof", []byte("proof layer"))
	swrOK(t, src, "POST", base+"sync_images", map[string]any{"imageTag": []string{"proof"}, "remoteNamespace": "mirror", "remoteRegionId": "beijing"}, http.StatusOK, &failed)
	manifestOn(t, dst, "mirror/app/web", "proof", proof)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if r := ociCall(t, dst, "GET", "/v2/mirror/app/web/manifests/late", mgmtToken, nil, nil); r.status != http.StatusNotFound {
			t.Fatalf("a push after the rule's delete reached beijing: %d", r.status)
		}
		time.Sleep(200 * time.Millisecond) // a poll's pace, not a synchronisation
	}
	// A missing rule: 400 4001158 in the live service's wrapped body.
	r := swrCall(t, src, "DELETE", base+"sync_repo", mgmtToken, map[string]string{"remoteRegionId": "beijing", "remoteNamespace": "mirror"})
	var e struct{ Errors []struct{ ErrorCode string } }
	if r.status != http.StatusBadRequest || json.Unmarshal(r.body, &e) != nil || len(e.Errors) != 1 || e.Errors[0].ErrorCode != "SVCSTG.SWR.4001158" {
		t.Errorf("delete of a missing rule: %d %s", r.status, r.body)
	}

	// override false keeps a different tag on the target: failed, job existed.
	ociImage(t, dst, "mirror/app/web", "v9", []byte("the target's own v9"))
	ociImage(t, src, "ferry/app/web", "v9", []byte("the source's v9"))
	swrOK(t, src, "POST", base+"sync_images", map[string]any{"imageTag": []string{"v9"}, "remoteNamespace": "mirror", "remoteRegionId": "beijing"}, http.StatusOK, &failed)
	if !slices.Equal(failed, []string{"v9"}) {
		t.Errorf("a kept different tag: %v", failed)
	}

	jobs, rng := swrList[swrJob](t, src, base+"sync_job?filter=limit::100|offset::0|order::desc")
	status := map[string]string{}
	for _, j := range jobs {
		if _, seen := status[j.Tag]; !seen {
			status[j.Tag] = j.Status // newest first
		}
		if j.RemoteRegionID != "beijing" || j.ID < 0 {
			t.Errorf("job %+v", j)
		}
	}
	if status["v9"] != "existed" || status["v1"] != "success" || status["v3"] != "success" || status["proof"] != "success" || status["v2"] != "success" {
		t.Errorf("job statuses %v", status)
	}
	if want := fmt.Sprintf("0-%d/%d", len(jobs), len(jobs)); rng != want {
		t.Errorf("Content-Range %q, want %q", rng, want)
	}
	page, rng := swrList[swrJob](t, src, base+"sync_job?filter=limit%3A%3A1%7Coffset%3A%3A1%7Corder%3A%3Aasc")
	if len(page) != 1 || rng != fmt.Sprintf("1-1/%d", len(jobs)) {
		t.Errorf("page %+v %q", page, rng)
	}
	if past, _ := swrList[swrJob](t, src, fmt.Sprintf("%ssync_job?filter=limit::10|offset::%d", base, len(jobs))); past == nil || len(past) != 0 {
		t.Errorf("past the end %v", past)
	}
	swrFails(t, src, "GET", base+"sync_job?filter=limit::10", mgmtToken, nil, http.StatusBadRequest, "SVCSTG.SWR.4001036")
}
