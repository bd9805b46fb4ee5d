package integration

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	swr "github.com/huaweicloud/huaweicloud-sdk-go-v3/services/swr/v2"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/services/swr/v2/model"
)

// swrClient is Huawei Cloud's own SWR client, pointed at an agent and
// signing with an access key, as an SWR user's program is configured.
func swrClient(t *testing.T, n *node, k accessKey) *swr.SwrClient {
	t.Helper()
	cred, err := basic.NewCredentialsBuilder().WithAk(k.AccessKey).WithSk(k.SecretKey).
		WithProjectId("0123456789abcdef0123456789abcdef").SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	hc, err := swr.SwrClientBuilder().WithCredential(cred).WithHttpConfig(config.DefaultHttpConfig().WithTimeout(60 * time.Second)).
		WithEndpoint(n.url()).SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	return swr.NewSwrClient(hc)
}

// jobStatuses is each tag's newest job status, through the SDK.
func jobStatuses(t *testing.T, c *swr.SwrClient) map[string]string {
	t.Helper()
	jobs, err := c.ShowSyncJob(&model.ShowSyncJobRequest{Namespace: "ferry", Repository: "app$web", Filter: "limit::100|offset::0|order::desc"})
	if err != nil || jobs.Body == nil {
		t.Fatalf("jobs %v %v", jobs, err)
	}
	out := map[string]string{}
	for _, j := range *jobs.Body {
		if _, seen := out[j.Tag]; !seen {
			out[j.Tag] = j.Status
		}
	}
	return out
}

// skopeoDigest is the manifest digest skopeo reads for ref on n.
func skopeoDigest(t *testing.T, bin string, n *node, ref string) string {
	t.Helper()
	host := strings.TrimPrefix(n.url(), "http://")
	return strings.TrimSpace(skopeo(t, bin, "inspect", "--tls-verify=false", "--creds", "ci:"+mgmtToken, "--format", "{{.Digest}}", "docker://"+host+"/"+ref))
}

// The official Go SDK drives an image sync between two regions unchanged:
// organizations, regions, a rule that delivers a later push, a manual sync
// of two tags, the jobs, the rule's delete; a wrong secret key is refused.
func TestSWRSyncThroughTheGoSDK(t *testing.T) {
	nodes := replicationGroup(t)
	byID := byRegion(nodes)
	src, dst := byID["shanghai"], byID["beijing"]
	c, mirror := swrClient(t, src, createAccessKey(t, src, "write")), swrClient(t, dst, createAccessKey(t, dst, "write"))
	for client, ns := range map[*swr.SwrClient]string{c: "ferry", mirror: "mirror"} {
		if _, err := client.CreateNamespace(&model.CreateNamespaceRequest{Body: &model.CreateNamespaceRequestBody{Namespace: ns}}); err != nil {
			t.Fatalf("create namespace %s: %v", ns, err)
		}
	}
	if list, err := c.ListNamespaces(&model.ListNamespacesRequest{}); err != nil || list.Namespaces == nil || len(*list.Namespaces) != 1 || (*list.Namespaces)[0].Name != "ferry" {
		t.Fatalf("namespaces %v %v", list, err)
	}
	regions, err := c.ListSyncRegions(&model.ListSyncRegionsRequest{})
	if err != nil || regions.Body == nil || !slices.ContainsFunc(*regions.Body, func(r model.RegionInfo) bool { return r.RegionID == "beijing" }) {
		t.Fatalf("regions %v %v", regions, err)
	}
	v1 := ociImage(t, src, "ferry/app/web", "v1", []byte("sdk layer 1"))
	ociImage(t, src, "ferry/app/web", "v0", []byte("sdk layer 0"))

	// A rule, listed with an int32 id; a push after it arrives.
	syncAuto, override := true, false
	if _, err := c.CreateImageSyncRepo(&model.CreateImageSyncRepoRequest{Namespace: "ferry", Repository: "app$web",
		Body: &model.CreateImageSyncRepoRequestBody{RemoteRegionId: "beijing", RemoteNamespace: "mirror", SyncAuto: &syncAuto, Override: &override}}); err != nil {
		t.Fatalf("create rule: %v", err)
	}
	rules, err := c.ListImageAutoSyncReposDetails(&model.ListImageAutoSyncReposDetailsRequest{Namespace: "ferry", Repository: "app$web"})
	if err != nil || rules.Body == nil || len(*rules.Body) != 1 || !(*rules.Body)[0].SyncAuto || (*rules.Body)[0].RemoteRegionId != "beijing" {
		t.Fatalf("rules %v %v", rules, err)
	}
	v2 := ociImage(t, src, "ferry/app/web", "v2", []byte("sdk layer 2"))
	manifestOn(t, dst, "mirror/app/web", "v2", v2)

	ruleKeepsADifferentTargetTag(t, c, src, dst)

	// A manual sync of two tags pushed before the rule answers [] and
	// lands them with their digests, as skopeo reads them on both sides;
	// a tag that does not exist is answered failed.
	synced, err := c.CreateManualImageSyncRepo(&model.CreateManualImageSyncRepoRequest{Namespace: "ferry", Repository: "app$web",
		Body: &model.CreateManualImageSyncRepoRequestBody{ImageTag: []string{"v0", "v1"}, Override: &override, RemoteNamespace: "mirror", RemoteRegionId: "beijing"}})
	if err != nil || synced.Body == nil || len(*synced.Body) != 0 {
		t.Fatalf("manual sync %v %v", synced, err)
	}
	if r := ociOK(t, dst, "GET", "/v2/mirror/app/web/manifests/v1", nil, nil, 200); !bytes.Equal(r.body, v1) {
		t.Fatal("v1 on beijing differs")
	}
	bin := needTool(t, "skopeo", "skopeo")
	for _, tag := range []string{"v0", "v1"} {
		if a, b := skopeoDigest(t, bin, src, "ferry/app/web:"+tag), skopeoDigest(t, bin, dst, "mirror/app/web:"+tag); a != b {
			t.Errorf("%s: %s on shanghai, %s on beijing", tag, a, b)
		}
	}
	synced, err = c.CreateManualImageSyncRepo(&model.CreateManualImageSyncRepoRequest{Namespace: "ferry", Repository: "app$web",
		Body: &model.CreateManualImageSyncRepoRequestBody{ImageTag: []string{"nope"}, RemoteNamespace: "mirror", RemoteRegionId: "beijing"}})
	if err != nil || synced.Body == nil || !slices.Equal(*synced.Body, []string{"nope"}) {
		t.Fatalf("manual sync of a missing tag %v %v", synced, err)
	}
	jobs, err := c.ShowSyncJob(&model.ShowSyncJobRequest{Namespace: "ferry", Repository: "app$web", Filter: "limit::10|offset::0|order::desc"})
	if err != nil || jobs.Body == nil || len(*jobs.Body) == 0 || jobs.ContentRange == nil || !strings.HasPrefix(*jobs.ContentRange, "0-") {
		t.Fatalf("jobs %v %v", jobs, err)
	}
	if st := jobStatuses(t, c); st["v0"] != "success" || st["v1"] != "success" {
		t.Fatalf("the manual sync's jobs: %v", st)
	}
	if _, err := c.DeleteImageSyncRepo(&model.DeleteImageSyncRepoRequest{Namespace: "ferry", Repository: "app$web",
		Body: &model.DeleteImageSyncRepoRequestBody{RemoteRegionId: "beijing", RemoteNamespace: "mirror"}}); err != nil {
		t.Fatalf("delete rule: %v", err)
	}

	// A wrong secret key: 401 with SWR's code in the error the SDK gives.
	bad := createAccessKey(t, src, "read")
	bad.SecretKey = strings.Repeat("x", 40)
	if _, err := swrClient(t, src, bad).ListNamespaces(&model.ListNamespacesRequest{}); err == nil || !strings.Contains(err.Error(), "SVCSTG.SWR.4010000") {
		t.Fatalf("a wrong secret key: %v", err)
	}
}

// ruleKeepsADifferentTargetTag: override false holds for the rule too:
// beijing's own v5 stays when shanghai pushes another v5, the job says
// existed, and the rule goes on delivering (v6, pushed after, arrives).
func ruleKeepsADifferentTargetTag(t *testing.T, c *swr.SwrClient, src, dst *node) {
	t.Helper()
	theirs := ociImage(t, dst, "mirror/app/web", "v5", []byte("beijing's own v5"))
	ociImage(t, src, "ferry/app/web", "v5", []byte("shanghai's v5"))
	v6 := ociImage(t, src, "ferry/app/web", "v6", []byte("sdk layer 6"))
	manifestOn(t, dst, "mirror/app/web", "v6", v6)
	if r := ociOK(t, dst, "GET", "/v2/mirror/app/web/manifests/v5", nil, nil, 200); !bytes.Equal(r.body, theirs) {
		t.Fatal("the rule overwrote beijing's different v5 though override is false")
	}
	// A run's object records are written at each progress report.
	eventually(t, 30*time.Second, "the rule's jobs", func() error {
		if st := jobStatuses(t, c); st["v5"] != "existed" || st["v6"] != "success" {
			return fmt.Errorf("statuses %v", st)
		}
		return nil
	})
}
