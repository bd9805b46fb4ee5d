package integration

import (
	"testing"
	"time"
)

// pulpNode is one agent, its own leader: a region's Pulp server.
func pulpNode(t *testing.T) *node {
	n := startGroup(t, regions[:1])[0]
	sameLeader(t, 30*time.Second, n)
	return n
}

// A content action other than install, update and uninstall is Pulp's
// view's own 400: the plain text "bad request", not an error body.
func TestPulpUnknownContentActionIsBadRequest(t *testing.T) {
	n := pulpNode(t)
	pulpOK(t, n, "POST", "/consumers/", `{"id": "c1"}`, 201, nil)
	for _, c := range []string{"c1", "nobody"} {
		status, raw, ct := pulpCall(t, n, "POST", "/consumers/"+c+"/actions/content/reinstall/", mgmtToken, `{"units": [], "options": {}}`)
		if status != 400 || string(raw) != "bad request" || ct != "text/plain; charset=utf-8" {
			t.Fatalf("consumer %s: %d %q %s", c, status, raw, ct)
		}
	}
}

// distributor_configs naming a distributor the repository lacks is 404
// PLP0009 of that distributor (the repository is there), as Pulp's
// distributor update answers; nothing of the update is applied. (A create
// naming an unknown distributor type is 400 PLP0015 distributor_type_id.)
func TestPulpUpdateOfAnUnknownDistributor(t *testing.T) {
	n := pulpNode(t)
	e := pulpFails(t, n, "POST", "/repositories/", mgmtToken,
		`{"id": "r1", "distributors": [{"distributor_type_id": "yum_distributor", "distributor_id": "d"}]}`, 400, "PLP0015")
	if len(e.PropertyNames) != 1 || e.PropertyNames[0] != "distributor_type_id" {
		t.Fatalf("create: %+v", e)
	}
	pulpOK(t, n, "POST", "/repositories/", `{"id": "r1", "distributors": [{"distributor_type_id": "iso_distributor", "distributor_id": "iso"}]}`, 201, nil)
	e = pulpFails(t, n, "PUT", "/repositories/r1/", mgmtToken,
		`{"delta": {"display_name": "changed"}, "distributor_configs": {"iso": {"serve_http": true}, "nope": {"serve_http": true}}}`, 404, "PLP0009")
	if len(e.Resources) != 1 || e.Resources["distributor_id"] != "nope" {
		t.Fatalf("%+v", e)
	}
	var repo struct {
		DisplayName string `json:"display_name"`
	}
	pulpOK(t, n, "GET", "/repositories/r1/", "", 200, &repo)
	if repo.DisplayName != "r1" {
		t.Fatalf("a refused update changed the repository: %+v", repo)
	}
}

// A publication's GET is a read: a repository whose content was never
// stored (here: its store repository deleted) publishes an empty
// PULP_MANIFEST and no files, and the store repository stays absent.
func TestPulpPublicationReadCreatesNothing(t *testing.T) {
	n := pulpNode(t)
	pulpOK(t, n, "POST", "/repositories/", `{"id": "r1", "distributors": [{"distributor_type_id": "iso_distributor", "distributor_id": "iso"}]}`, 201, nil)
	if r := call(t, "DELETE", n.url()+"/v1/projects/pulp/repos/r1", mgmtToken, nil); r.status >= 300 {
		t.Fatalf("delete the store repository: %d %s", r.status, r.body)
	}
	if r := call(t, "GET", n.url()+"/pulp/isos/r1/PULP_MANIFEST", mgmtToken, nil); r.status != 200 || len(r.body) != 0 {
		t.Fatalf("manifest: %d %q", r.status, r.body)
	}
	if r := call(t, "GET", n.url()+"/pulp/isos/r1/1.iso", mgmtToken, nil); r.status != 404 {
		t.Fatalf("a file: %d %q", r.status, r.body)
	}
	if r := call(t, "GET", n.url()+"/v1/projects/pulp/repos/r1", mgmtToken, nil); r.status != 404 {
		t.Fatalf("the reads created the store repository: %d %s", r.status, r.body)
	}
}
