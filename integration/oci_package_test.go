package integration

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// ociPackageSpec is a PACKAGE run of the tags of image team/app/<image>.
func ociPackageSpec(image string, tags []string, targets ...string) map[string]any {
	spec := repoSpec("team", "app", "DOCKER", targets...)
	spec["replicaObjectType"] = "PACKAGE"
	obj := spec["replicaTaskObjects"].([]map[string]any)[0]
	obj["packageConstraints"] = []map[string]any{{"packageKey": "docker://" + image, "versions": tags}}
	return spec
}

// repoPaths are the paths a repository of n holds, from its change log
// (written, and not deleted since).
func repoPaths(t testing.TB, n *node, project, repo string) []string {
	t.Helper()
	held := map[string]bool{}
	for _, c := range repoChanges(t, n, project, repo) {
		if c.Path != "" {
			held[c.Path] = !strings.Contains(strings.ToLower(c.Kind), "delete")
		}
	}
	var out []string
	for p, ok := range held {
		if ok {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// A PACKAGE run of docker://web with two of its three image tags and an
// index tag brings exactly their closures (children, blobs, a referrer),
// every tag pullable and its version recorded; the other tags stay behind.
func TestOCIPackageRunReplicatesTagClosures(t *testing.T) {
	nodes := replicationGroup(t)
	a, b, c := nodes[0], nodes[1], nodes[2]
	if a.id() != "shanghai" {
		t.Fatalf("the source is %s", a.id())
	}
	makeRepo(t, a.url(), "", "team", "placeholder", "GENERIC")
	name := "team/app/web"
	base := []byte("base layer")
	v1 := ociImage(t, a, name, "v1", base, []byte("v1 layer"))
	ociImage(t, a, name, "v2", base, []byte("v2 layer"))
	v3 := ociImage(t, a, name, "v3", base, []byte("v3 layer"))
	amd, arm := ociImage(t, a, name, "amd64", base, []byte("amd layer")), ociImage(t, a, name, "arm64", []byte("arm layer"))
	index := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":%q,"digest":%q,"size":%d},{"mediaType":%q,"digest":%q,"size":%d}]}`,
		ociManifestType, digestOf(amd), len(amd), ociManifestType, digestOf(arm), len(arm)))
	ociOK(t, a, "PUT", "/v2/"+name+"/manifests/multi", map[string]string{"Content-Type": "application/vnd.oci.image.index.v1+json"}, index, http.StatusCreated)
	empty := pushBlob(t, a, name, []byte("{}"))
	sig := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"artifactType":"application/vnd.example.sig","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":%q,"size":2},"layers":[],"subject":{"mediaType":%q,"digest":%q,"size":%d}}`,
		ociManifestType, empty, ociManifestType, digestOf(v1), len(v1)))
	ociOK(t, a, "PUT", "/v2/"+name+"/manifests/"+digestOf(sig), map[string]string{"Content-Type": ociManifestType}, sig, http.StatusCreated)

	tags := []string{"v1", "v2", "multi"}
	r := waitRun(t, a, startRun(t, a, ociPackageSpec("web", tags, b.id(), c.id())).ID, 60*time.Second)
	if r.State != "SUCCESS" {
		t.Fatalf("run %+v", r)
	}

	// What stays behind: the unselected tags, and what only v3 holds.
	v3Config := fmt.Sprintf(`{"architecture":"amd64","os":"linux","name":%q}`, name+":v3")
	behind := map[string]bool{
		"/web/_tags/v3": true, "/web/_tags/amd64": true, "/web/_tags/arm64": true,
		"/web/_manifests/sha256/" + sha(v3):             true,
		"/web/_blobs/sha256/" + sha([]byte("v3 layer")): true,
		"/web/_blobs/sha256/" + sha([]byte(v3Config)):   true,
	}
	var want []string
	for _, p := range repoPaths(t, a, "team", "app") {
		if !behind[p] {
			want = append(want, p)
		}
	}
	for _, target := range []*node{b, c} {
		if got := repoPaths(t, target, "team", "app"); !slices.Equal(got, want) {
			t.Errorf("%s holds\n%q\nwant\n%q", target.id(), got, want)
		}
		var list struct{ Tags []string }
		r := ociOK(t, target, "GET", "/v2/"+name+"/tags/list", nil, nil, http.StatusOK)
		r.decode(t, &list)
		if !slices.Equal(list.Tags, []string{"multi", "v1", "v2"}) {
			t.Errorf("%s tags %q", target.id(), list.Tags)
		}
		if err := pullable(t, target, name); err != nil {
			t.Errorf("%s: %v", target.id(), err)
		}
		if r := ociOK(t, target, "GET", "/v2/"+name+"/referrers/"+digestOf(v1), nil, nil, http.StatusOK); !strings.Contains(string(r.body), digestOf(sig)) {
			t.Errorf("%s referrers of v1: %s", target.id(), r.body)
		}
		for _, tag := range tags {
			var v struct{ Paths []string }
			getOK(t, target, "/v1/projects/team/repos/app/packages/version?packageKey="+url.QueryEscape("docker://web")+"&version="+tag, &v)
			if !slices.Equal(v.Paths, []string{"/web/_tags/" + tag}) {
				t.Errorf("%s version %s: %q", target.id(), tag, v.Paths)
			}
		}
	}
}

// Under FAST_FAIL a tag the target holds at another manifest fails the
// run before any byte moves: the tags are planned as a dry run first.
func TestOCIFastFailBeforeAnyByteMoves(t *testing.T) {
	nodes := replicationGroup(t)
	a, b := nodes[0], nodes[1]
	for _, n := range []*node{a, b} {
		makeRepo(t, n.url(), "", "team", "placeholder", "GENERIC")
	}
	name := "team/app/web"
	ociImage(t, b, name, "v1", []byte("beijing's own layer"))
	ociImage(t, a, name, "v1", bytes.Repeat([]byte("shanghai's layer "), 100000))
	ociImage(t, a, name, "v2", []byte("another layer"))
	before := repoChanges(t, b, "team", "app")

	spec := repoSpec("team", "app", "DOCKER", b.id())
	spec["setting"].(map[string]any)["conflictStrategy"] = "FAST_FAIL"
	r := waitRun(t, a, startRun(t, a, spec).ID, 60*time.Second)
	if tg := r.target(t, b.id()); r.State != "FAILED" || tg.BytesSent != 0 || tg.Conflicts == 0 {
		t.Fatalf("run %+v", r)
	}
	if after := repoChanges(t, b, "team", "app"); !slices.Equal(after, before) {
		t.Errorf("beijing changed: %d changes before, %d after", len(before), len(after))
	}
	if r := ociOK(t, b, "GET", "/v2/"+name+"/tags/list", nil, nil, http.StatusOK); !strings.Contains(string(r.body), `["v1"]`) {
		t.Errorf("beijing's tags: %s", r.body)
	}
}
