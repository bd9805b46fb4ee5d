package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// ociImage pushes an image of layers (shared ones are stored once) under
// tag, and answers its manifest.
func ociImage(t testing.TB, n *node, name, tag string, layers ...[]byte) []byte {
	t.Helper()
	config := []byte(fmt.Sprintf(`{"architecture":"amd64","os":"linux","name":%q}`, name+":"+tag))
	var descs []map[string]any
	for _, l := range layers {
		descs = append(descs, map[string]any{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": pushBlob(t, n, name, l), "size": len(l)})
	}
	m, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": ociManifestType,
		"config": map[string]any{"mediaType": "application/vnd.oci.image.config.v1+json", "digest": pushBlob(t, n, name, config), "size": len(config)}, "layers": descs})
	ociOK(t, n, "PUT", "/v2/"+name+"/manifests/"+tag, map[string]string{"Content-Type": ociManifestType}, m, http.StatusCreated)
	return m
}

// pullable checks on n that every tag of name resolves to a manifest whose
// blobs and children are all there: what a client pulling sees.
func pullable(t testing.TB, n *node, name string) error {
	r := ociCall(t, n, "GET", "/v2/"+name+"/tags/list", mgmtToken, nil, nil)
	if r.status == http.StatusNotFound {
		return nil // not replicated yet
	}
	var tags struct{ Tags []string }
	if err := json.Unmarshal(r.body, &tags); err != nil {
		return fmt.Errorf("tags of %s: %d %s", name, r.status, r.body)
	}
	for _, tag := range tags.Tags {
		if err := manifestComplete(t, n, name, tag); err != nil {
			return fmt.Errorf("%s:%s: %w", name, tag, err)
		}
	}
	return nil
}

func manifestComplete(t testing.TB, n *node, name, ref string) error {
	r := ociCall(t, n, "GET", "/v2/"+name+"/manifests/"+ref, mgmtToken, nil, nil)
	if r.status != http.StatusOK {
		return fmt.Errorf("manifest %s: %d", ref, r.status)
	}
	var m struct {
		Config    *struct{ Digest string }
		Layers    []struct{ Digest string }
		Manifests []struct{ Digest string }
	}
	if err := json.Unmarshal(r.body, &m); err != nil {
		return err
	}
	if m.Config != nil {
		m.Layers = append(m.Layers, struct{ Digest string }{m.Config.Digest})
	}
	for _, b := range m.Layers {
		if r := ociCall(t, n, "HEAD", "/v2/"+name+"/blobs/"+b.Digest, mgmtToken, nil, nil); r.status != http.StatusOK {
			return fmt.Errorf("blob %s: %d", b.Digest, r.status)
		}
	}
	for _, c := range m.Manifests {
		if err := manifestComplete(t, n, name, c.Digest); err != nil {
			return err
		}
	}
	return nil
}

// changeSeqs is the sequence at which each path of a repository was last
// written on n.
func changeSeqs(t testing.TB, n *node, project, repo string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for _, c := range repoChanges(t, n, project, repo) {
		out[c.Path] = c.Seq
	}
	return out
}

// repoChange is an entry of a repository's change log.
type repoChange struct {
	Seq  uint64 `json:"seq"`
	Kind string `json:"kind"`
	Path string `json:"path"`
}

// repoChanges is the change log of a repository of n.
func repoChanges(t testing.TB, n *node, project, repo string) []repoChange {
	t.Helper()
	var changes []repoChange
	getOK(t, n, "/v1/projects/"+project+"/repos/"+repo+"/changes?limit=10000", &changes)
	return changes
}

// A DOCKER repository replicates byte-exact, tag-complete at every moment
// (a poller of the target never sees a tag it cannot pull), media types
// travel without includeMetadata, a re-run sends nothing, and tag
// conflicts follow the strategy.
func TestOCIRepositoryReplicatesTagComplete(t *testing.T) {
	nodes := replicationGroup(t)
	byID := byRegion(nodes)
	a, b, c := byID["shanghai"], byID["beijing"], byID["guangzhou"]
	makeRepo(t, a.url(), "", "team", "placeholder", "GENERIC")

	base := bytes.Repeat([]byte("base layer "), 20000) // in every image: sent once per target
	var names []string
	manifests := map[string][]byte{}
	for i := range 20 { // 20 images of 5 layers
		name := fmt.Sprintf("team/app/img%02d", i)
		names = append(names, name)
		// A layer over 1 MiB goes as an upload of its own, while the small
		// nodes go in batches: only the phases keep the tag behind it.
		big := bytes.Repeat([]byte(fmt.Sprintf("layer %02d ", i)), 120000+i)
		manifests[name] = ociImage(t, a, name, "v1", base, big, []byte(fmt.Sprintf("small %d", i)),
			bytes.Repeat([]byte{byte(i)}, 4096), bytes.Repeat([]byte(fmt.Sprintf("mid %d ", i)), 10000))
	}
	// An index of two images, and a referrer of img0's manifest.
	multi := "team/app/multi"
	one, two := ociImage(t, a, multi, "amd64", base), ociImage(t, a, multi, "arm64", []byte("arm layer"))
	index := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":%q,"digest":%q,"size":%d},{"mediaType":%q,"digest":%q,"size":%d}]}`,
		ociManifestType, digestOf(one), len(one), ociManifestType, digestOf(two), len(two)))
	ociOK(t, a, "PUT", "/v2/"+multi+"/manifests/latest", map[string]string{"Content-Type": "application/vnd.oci.image.index.v1+json"}, index, http.StatusCreated)
	names = append(names, multi)
	empty := pushBlob(t, a, names[0], []byte("{}"))
	sig := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"artifactType":"application/vnd.example.sig","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":%q,"size":2},"layers":[],"subject":{"mediaType":%q,"digest":%q,"size":%d}}`,
		ociManifestType, empty, ociManifestType, digestOf(manifests[names[0]]), len(manifests[names[0]])))
	ociOK(t, a, "PUT", "/v2/"+names[0]+"/manifests/"+digestOf(sig), map[string]string{"Content-Type": ociManifestType}, sig, http.StatusCreated)

	// Poll b while the run goes.
	stopPolling := pollPullable(t, b, names...)
	spec := repoSpec("team", "app", "DOCKER", "beijing", "guangzhou")
	spec["setting"].(map[string]any)["includeMetadata"] = false
	spec["setting"].(map[string]any)["rateLimit"] = 8 << 20 // the large layers take a while: the window a tag must not show in
	first := waitRun(t, a, startRun(t, a, spec).ID, 60*time.Second)
	if err := stopPolling(); err != nil {
		t.Fatalf("a tag on beijing could not be pulled during the run: %v", err)
	}
	if first.State != "SUCCESS" {
		t.Fatalf("run %+v", first)
	}

	// On the target, every tag was committed after every blob and manifest
	// of its image (the change log's order is the order of visibility),
	// and the index after its children.
	for _, target := range []*node{b, c} {
		seq := changeSeqs(t, target, "team", "app")
		for _, name := range names {
			image := "/" + strings.TrimPrefix(name, "team/app/")
			for path, s := range seq {
				if strings.HasPrefix(path, image+"/_tags/") {
					for other, o := range seq {
						if (strings.HasPrefix(other, image+"/_blobs/") || strings.HasPrefix(other, image+"/_manifests/")) && o > s {
							t.Errorf("%s: %s visible (seq %d) before %s (seq %d)", target.id(), path, s, other, o)
						}
					}
				}
			}
		}
		indexSeq := seq["/multi/_manifests/sha256/"+sha(index)]
		for _, child := range [][]byte{one, two} {
			if s := seq["/multi/_manifests/sha256/"+sha(child)]; s == 0 || s > indexSeq {
				t.Errorf("%s: the index (seq %d) before its child (seq %d)", target.id(), indexSeq, s)
			}
		}
	}

	// Byte-exact, with their media types, on both targets.
	for _, target := range []*node{b, c} {
		for _, name := range names {
			want := ociOK(t, a, "GET", "/v2/"+name+"/tags/list", nil, nil, http.StatusOK).body
			if got := ociOK(t, target, "GET", "/v2/"+name+"/tags/list", nil, nil, http.StatusOK).body; !bytes.Equal(got, want) {
				t.Errorf("%s on %s: tags %s, want %s", name, target.id(), got, want)
			}
			if err := pullable(t, target, name); err != nil {
				t.Errorf("%s on %s: %v", name, target.id(), err)
			}
		}
		r := ociOK(t, target, "GET", "/v2/"+multi+"/manifests/latest", nil, nil, http.StatusOK)
		if !bytes.Equal(r.body, index) || r.header.Get("Content-Type") != "application/vnd.oci.image.index.v1+json" {
			t.Errorf("index on %s: %s %s", target.id(), r.header.Get("Content-Type"), r.body)
		}
		if r := ociOK(t, target, "GET", "/v2/"+names[0]+"/referrers/"+digestOf(manifests[names[0]]), nil, nil, http.StatusOK); !bytes.Contains(r.body, []byte(digestOf(sig))) {
			t.Errorf("referrers on %s: %s", target.id(), r.body)
		}
	}

	// Blobs, manifests and tags are counted apart.
	metrics := string(call(t, "GET", a.url()+"/metrics", "", nil).body)
	for _, kind := range []string{"blob", "manifest", "referrer", "tag"} {
		if !strings.Contains(metrics, `ferry_replication_image_nodes_total{kind="`+kind+`",result=`) {
			t.Errorf("no %s counted in the image metrics", kind)
		}
	}

	// Unchanged: a second run sends no byte.
	again := waitRun(t, a, startRun(t, a, spec).ID, 60*time.Second)
	if tg := again.target(t, "beijing"); again.State != "SUCCESS" || tg.BytesSent != 0 {
		t.Fatalf("re-run %+v", again)
	}

	// beijing re-points img1:v1 at an image of its own: SKIP keeps it,
	// OVERWRITE moves it back.
	own := ociImage(t, b, names[1], "v1", []byte("beijing's own layer"))
	waitRun(t, a, startRun(t, a, spec).ID, 60*time.Second)
	if r := ociOK(t, b, "GET", "/v2/"+names[1]+"/manifests/v1", nil, nil, http.StatusOK); !bytes.Equal(r.body, own) {
		t.Fatalf("SKIP moved beijing's tag")
	}
	spec["setting"].(map[string]any)["conflictStrategy"] = "OVERWRITE"
	waitRun(t, a, startRun(t, a, spec).ID, 60*time.Second)
	if r := ociOK(t, b, "GET", "/v2/"+names[1]+"/manifests/v1", nil, nil, http.StatusOK); !bytes.Equal(r.body, manifests[names[1]]) {
		t.Fatalf("OVERWRITE left beijing's tag: %s", r.body)
	}
}

// A PATH run of one image's folder brings that image, tag-complete, and
// no other.
func TestOCIPathRunBringsOneImage(t *testing.T) {
	nodes := replicationGroup(t)
	byID := byRegion(nodes)
	a, b := byID["shanghai"], byID["beijing"]
	makeRepo(t, a.url(), "", "team", "placeholder", "GENERIC")
	web := ociImage(t, a, "team/app/web", "v1", []byte("web layer"))
	ociImage(t, a, "team/app/db", "v1", []byte("db layer"))
	spec := map[string]any{
		"sourceClusterId": "shanghai", "localProjectId": "team", "replicaObjectType": "PATH",
		"replicaTaskObjects": []map[string]any{{"localRepoName": "app", "remoteProjectId": "team", "remoteRepoName": "app", "repoType": "DOCKER",
			"pathConstraints": []map[string]string{{"path": "/web/"}}}},
		"remoteClusterIds": []string{"beijing"},
		"setting":          map[string]any{"conflictStrategy": "SKIP", "errorStrategy": "CONTINUE", "includeMetadata": false},
	}
	if r := waitRun(t, a, startRun(t, a, spec).ID, 60*time.Second); r.State != "SUCCESS" {
		t.Fatalf("run %+v", r)
	}
	if r := ociOK(t, b, "GET", "/v2/team/app/web/manifests/v1", nil, nil, http.StatusOK); !bytes.Equal(r.body, web) || r.header.Get("Content-Type") != ociManifestType {
		t.Fatalf("web on beijing: %s", r.body)
	}
	if err := pullable(t, b, "team/app/web"); err != nil {
		t.Fatal(err)
	}
	ociFails(t, b, "GET", "/v2/team/app/db/manifests/v1", nil, nil, http.StatusNotFound, "MANIFEST_UNKNOWN")
}
