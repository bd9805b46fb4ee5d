package integration

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/auth/basic"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/config"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/impl"
	"github.com/huaweicloud/huaweicloud-sdk-go-v3/core/request"
)

type accessKey struct {
	AccessKey   string `json:"accessKey"`
	SecretKey   string `json:"secretKey"`
	Description string `json:"description"`
	Policy      string `json:"policy"`
}

func createAccessKey(t testing.TB, n *node, policy string) accessKey {
	t.Helper()
	r := call(t, "POST", n.url()+"/v1/acl/access-keys", mgmtToken, map[string]string{"description": "sdk " + policy, "policy": policy})
	var k accessKey
	if r.status != http.StatusCreated {
		t.Fatalf("create access key: %d %s", r.status, r.body)
	}
	r.decode(t, &k)
	if len(k.AccessKey) != 20 || len(k.SecretKey) != 40 || k.Policy != policy {
		t.Fatalf("created access key: %s", r.body)
	}
	return k
}

// sdkCall sends a request signed by the Huawei Cloud Go SDK's own signer
// (basic credentials' ProcessAuthRequest, as every service client signs),
// with the headers its SWR client sets; a path may end in one bare ?name;
// a non-zero date is put in
// X-Sdk-Date, which the signer then signs.
func sdkCall(t testing.TB, base, method, path string, k accessKey, body any, date time.Time) (int, string) {
	t.Helper()
	cred, err := basic.NewCredentialsBuilder().WithAk(k.AccessKey).WithSk(k.SecretKey).
		WithProjectId("0123456789abcdef0123456789abcdef").SafeBuild()
	if err != nil {
		t.Fatal(err)
	}
	hc := impl.NewDefaultHttpClient(config.DefaultHttpConfig().WithTimeout(30 * time.Second))
	path, query, _ := strings.Cut(path, "?")
	b := request.NewHttpRequestBuilder().WithEndpoint(base).WithPath(path).WithMethod(method).
		WithSigningAlgorithm(hc.GetHttpConfig().SigningAlgorithm).
		AddHeaderParam("User-Agent", "huaweicloud-usdk-go/3.0; ferry integration test").
		AddHeaderParam("Content-Type", "application/json").WithBody("", body)
	if query != "" {
		b.AddQueryParam(query, "") // a bare ?name, as SWR's ?filter
	}
	if !date.IsZero() {
		b.AddHeaderParam("X-Sdk-Date", date.UTC().Format("20060102T150405Z"))
	}
	req, err := cred.ProcessAuthRequest(hc, b.Build())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.SyncInvokeHttp(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	out, _ := resp.GetBodyAsString()
	return resp.GetStatusCode(), out
}

func TestSDKSignedRequests(t *testing.T) {
	n := startNode(t, "shanghai", withBootstrapExpect(1))
	sameLeader(t, 30*time.Second, n)
	write, admin := createAccessKey(t, n, "write"), createAccessKey(t, n, "admin")
	wrongSK := write
	wrongSK.SecretKey = strings.Repeat("x", 40)

	cases := []struct {
		name   string
		method string
		path   string
		key    accessKey
		body   any
		date   time.Time
		want   int
	}{
		{"signed read", "GET", "/v1/clusters", write, nil, time.Time{}, http.StatusOK},
		{"signed read, 14 minutes old", "GET", "/v1/clusters", write, nil, time.Now().Add(-14 * time.Minute), http.StatusOK},
		{"signed regional write with a body", "POST", "/v1/projects", write, map[string]string{"name": "sdk"}, time.Time{}, http.StatusCreated},
		{"signed Raft write by an admin key", "POST", "/v1/acl/tokens", admin, map[string]string{"policy": "read"}, time.Time{}, http.StatusCreated},
		{"a write key is not admin", "POST", "/v1/acl/tokens", write, map[string]string{"policy": "read"}, time.Time{}, http.StatusForbidden},
		{"wrong SK", "GET", "/v1/clusters", wrongSK, nil, time.Time{}, http.StatusUnauthorized},
		{"X-Sdk-Date 16 minutes old", "GET", "/v1/clusters", write, nil, time.Now().Add(-16 * time.Minute), http.StatusUnauthorized},
		{"X-Sdk-Date 16 minutes ahead", "GET", "/v1/clusters", write, nil, time.Now().Add(16 * time.Minute), http.StatusUnauthorized},
	}
	for _, c := range cases {
		status, body := sdkCall(t, n.url(), c.method, c.path, c.key, c.body, c.date)
		if status != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, status, body, c.want)
		}
		if status >= 400 && !strings.Contains(body, `"error"`) {
			t.Errorf("%s: a native route refused with %s", c.name, body)
		}
	}

	// Listings hold no secret key; a deleted key stops working at once.
	r := call(t, "GET", n.url()+"/v1/acl/access-keys", mgmtToken, nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), write.AccessKey) || strings.Contains(string(r.body), write.SecretKey) {
		t.Fatalf("access key listing: %d %s", r.status, r.body)
	}
	if r := call(t, "DELETE", n.url()+"/v1/acl/access-keys/"+write.AccessKey, mgmtToken, nil); r.status != http.StatusNoContent {
		t.Fatalf("delete access key: %d %s", r.status, r.body)
	}
	if status, body := sdkCall(t, n.url(), "GET", "/v1/clusters", write, nil, time.Time{}); status != http.StatusUnauthorized {
		t.Fatalf("deleted access key: %d %s", status, body)
	}
}

// A follower forwards a signed caller's write to the leader signed with the
// same access key, and the leader checks the command against its policy.
func TestSDKSignedWriteThroughAFollower(t *testing.T) {
	nodes := startGroup(t, regions)
	leader := sameLeader(t, 30*time.Second, nodes...)
	follower := followerOf(nodes, leader.ID)
	admin := createAccessKey(t, follower, "admin")
	if status, body := sdkCall(t, follower.url(), "POST", "/v1/acl/tokens", admin, map[string]string{"policy": "read"}, time.Time{}); status != http.StatusCreated {
		t.Fatalf("signed write through a follower: %d %s", status, body)
	}
	if status, body := sdkCall(t, follower.url(), "GET", "/v1/acl/tokens?consistent", admin, nil, time.Time{}); status != http.StatusOK {
		t.Fatalf("signed consistent read proxied to the leader: %d %s", status, body)
	}
}
