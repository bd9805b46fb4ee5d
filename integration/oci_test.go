package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// ociCall is a registry call with Basic auth (any user, a token as the
// password), as docker and skopeo send it; token "" sends none.
func ociCall(t testing.TB, n *node, method, path, token string, header map[string]string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, n.url()+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.SetBasicAuth("ci", token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func ociOK(t testing.TB, n *node, method, path string, header map[string]string, body []byte, want int) response {
	t.Helper()
	r := ociCall(t, n, method, path, mgmtToken, header, body)
	if r.status != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, r.status, r.body, want)
	}
	return r
}

// ociFails expects the spec's error body with code.
func ociFails(t testing.TB, n *node, method, path string, header map[string]string, body []byte, status int, code string) {
	t.Helper()
	r := ociCall(t, n, method, path, mgmtToken, header, body)
	var e struct {
		Errors []struct{ Code, Message string } `json:"errors"`
	}
	if r.status != status || json.Unmarshal(r.body, &e) != nil || len(e.Errors) != 1 || e.Errors[0].Code != code {
		t.Errorf("%s %s: %d %s, want %d %s", method, path, r.status, r.body, status, code)
	}
}

func digestOf(b []byte) string { return "sha256:" + sha(b) }

// pushBlob pushes content monolithically into name.
func pushBlob(t testing.TB, n *node, name string, content []byte) string {
	t.Helper()
	d := digestOf(content)
	ociOK(t, n, "POST", "/v2/"+name+"/blobs/uploads/?digest="+d, map[string]string{"Content-Type": "application/octet-stream"}, content, http.StatusCreated)
	return d
}

func imageManifest(config, layer string, sizes ...int) []byte {
	m := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":%q,"size":%d}]}`,
		config, sizes[0], layer, sizes[1])
	return []byte(m)
}

const ociManifestType = "application/vnd.oci.image.manifest.v1+json"

// Every agent is a registry: push blobs (whole and in chunks), a manifest
// by tag, pull it back byte-exact by tag and digest, list, refer, delete.
func TestOCIRegistryPushPullListDelete(t *testing.T) {
	n := startGroup(t, regions[:1], withBootstrapExpect(1))[0]
	makeRepo(t, n.url(), "", "team", "tools", "GENERIC")

	// The Basic challenge, then the API with any user and a token.
	if r := ociCall(t, n, "GET", "/v2/", "", nil, nil); r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != `Basic realm="ferry"` ||
		!strings.Contains(string(r.body), "UNAUTHORIZED") {
		t.Fatalf("no credentials: %d %v %s", r.status, r.header, r.body)
	}
	if r := ociOK(t, n, "GET", "/v2/", nil, nil, http.StatusOK); r.header.Get("Docker-Distribution-API-Version") != "registry/2.0" {
		t.Fatalf("GET /v2/ headers %v", r.header)
	}

	// A push into a missing project is NAME_UNKNOWN; into a GENERIC
	// repository too; into an existing project it creates the repository.
	ociFails(t, n, "POST", "/v2/nope/app/blobs/uploads/", nil, nil, http.StatusNotFound, "NAME_UNKNOWN")
	ociFails(t, n, "POST", "/v2/team/tools/blobs/uploads/", nil, nil, http.StatusNotFound, "NAME_UNKNOWN")
	name := "team/app/web"
	config := []byte(`{"architecture":"amd64","os":"linux"}`)
	cd := pushBlob(t, n, name, config)

	// A chunked upload: 416 for a chunk out of order, the session intact.
	layer := bytes.Repeat([]byte("layer-bytes-"), 10000)
	r := ociOK(t, n, "POST", "/v2/"+name+"/blobs/uploads/", nil, nil, http.StatusAccepted)
	loc := r.header.Get("Location")
	if !strings.HasPrefix(loc, "/v2/"+name+"/blobs/uploads/") {
		t.Fatalf("upload location %q", loc)
	}
	half := len(layer) / 2
	r = ociOK(t, n, "PATCH", loc, map[string]string{"Content-Range": fmt.Sprintf("0-%d", half-1), "Content-Type": "application/octet-stream"}, layer[:half], http.StatusAccepted)
	if r.header.Get("Range") != fmt.Sprintf("0-%d", half-1) {
		t.Fatalf("after the first chunk: Range %q", r.header.Get("Range"))
	}
	if r := ociCall(t, n, "PATCH", loc, mgmtToken, map[string]string{"Content-Range": "10-20"}, layer[10:21]); r.status != http.StatusRequestedRangeNotSatisfiable {
		t.Fatalf("a chunk out of order: %d %s", r.status, r.body)
	}
	if r := ociOK(t, n, "GET", loc, nil, nil, http.StatusNoContent); r.header.Get("Range") != fmt.Sprintf("0-%d", half-1) {
		t.Fatalf("status after the 416: Range %q", r.header.Get("Range"))
	}
	ld := digestOf(layer)
	ociFails(t, n, "PUT", loc+"?digest="+digestOf([]byte("other")), nil, layer[half:], http.StatusBadRequest, "DIGEST_INVALID")
	ociOK(t, n, "PUT", loc+"?digest="+ld, nil, nil, http.StatusCreated)
	if r := ociOK(t, n, "HEAD", "/v2/"+name+"/blobs/"+ld, nil, nil, http.StatusOK); r.header.Get("Content-Length") != fmt.Sprint(len(layer)) || r.header.Get("Docker-Content-Digest") != ld {
		t.Fatalf("HEAD blob %v", r.header)
	}
	if r := ociOK(t, n, "GET", "/v2/"+name+"/blobs/"+ld, map[string]string{"Range": "bytes=5-9"}, nil, http.StatusPartialContent); string(r.body) != string(layer[5:10]) {
		t.Fatalf("range %q", r.body)
	}

	// A manifest naming a blob the image lacks is refused; then pushed by
	// tag, pulled by tag and by digest byte-exact.
	ociFails(t, n, "PUT", "/v2/"+name+"/manifests/v1", map[string]string{"Content-Type": ociManifestType}, imageManifest(cd, digestOf([]byte("missing")), len(config), 7), http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN")
	manifest := imageManifest(cd, ld, len(config), len(layer))
	md := digestOf(manifest)
	if r := ociOK(t, n, "PUT", "/v2/"+name+"/manifests/v1", map[string]string{"Content-Type": ociManifestType}, manifest, http.StatusCreated); r.header.Get("Docker-Content-Digest") != md ||
		r.header.Get("Location") != "/v2/"+name+"/manifests/"+md {
		t.Fatalf("manifest PUT %v", r.header)
	}
	for _, ref := range []string{"v1", md} {
		r := ociOK(t, n, "GET", "/v2/"+name+"/manifests/"+ref, nil, nil, http.StatusOK)
		if !bytes.Equal(r.body, manifest) || r.header.Get("Content-Type") != ociManifestType || r.header.Get("Docker-Content-Digest") != md {
			t.Fatalf("GET manifest %s: %v %s", ref, r.header, r.body)
		}
	}
	ociFails(t, n, "GET", "/v2/"+name+"/manifests/v9", nil, nil, http.StatusNotFound, "MANIFEST_UNKNOWN")
	ociFails(t, n, "GET", "/v2/"+name+"/manifests/sha256:zz", nil, nil, http.StatusBadRequest, "DIGEST_INVALID")

	// Docker's v2 media types are kept too, byte-exact; its blobs mounted
	// from the other image, not sent again.
	dockerType := "application/vnd.docker.distribution.manifest.v2+json"
	docker := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":%d,"digest":%q},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":%d,"digest":%q}]}`,
		dockerType, len(config), cd, len(layer), ld))
	for _, d := range []string{cd, ld} {
		ociOK(t, n, "POST", "/v2/team/app/dock/blobs/uploads/?mount="+d+"&from="+name, nil, nil, http.StatusCreated)
	}
	ociOK(t, n, "PUT", "/v2/team/app/dock/manifests/v2", map[string]string{"Content-Type": dockerType}, docker, http.StatusCreated)
	if r := ociOK(t, n, "GET", "/v2/team/app/dock/manifests/v2", nil, nil, http.StatusOK); !bytes.Equal(r.body, docker) || r.header.Get("Content-Type") != dockerType {
		t.Fatalf("docker manifest: %s %s", r.header.Get("Content-Type"), r.body)
	}

	// Tags page in lexical order; the catalog names the image.
	ociOK(t, n, "PUT", "/v2/"+name+"/manifests/v0", map[string]string{"Content-Type": ociManifestType}, manifest, http.StatusCreated)
	r = ociOK(t, n, "GET", "/v2/"+name+"/tags/list?n=1", nil, nil, http.StatusOK)
	if string(r.body) != `{"name":"team/app/web","tags":["v0"]}` || !strings.Contains(r.header.Get("Link"), `last=v0`) {
		t.Fatalf("tags page 1: %s %v", r.body, r.header)
	}
	if r := ociOK(t, n, "GET", "/v2/"+name+"/tags/list?last=v0", nil, nil, http.StatusOK); string(r.body) != `{"name":"team/app/web","tags":["v1"]}` {
		t.Fatalf("tags after v0: %s", r.body)
	}
	if r := ociOK(t, n, "GET", "/v2/_catalog", nil, nil, http.StatusOK); string(r.body) != `{"repositories":["team/app/dock","team/app/web"]}` {
		t.Fatalf("catalog %s", r.body)
	}

	// A referrer: OCI-Subject on its PUT, listed (and filtered) by subject.
	empty := pushBlob(t, n, name, []byte("{}"))
	sig := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.sig","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":%q,"size":2},"layers":[],"subject":{"mediaType":%q,"digest":%q,"size":%d}}`,
		empty, ociManifestType, md, len(manifest)))
	if r := ociOK(t, n, "PUT", "/v2/"+name+"/manifests/"+digestOf(sig), map[string]string{"Content-Type": ociManifestType}, sig, http.StatusCreated); r.header.Get("OCI-Subject") != md {
		t.Fatalf("referrer PUT %v", r.header)
	}
	var index struct {
		Manifests []struct {
			Digest       string `json:"digest"`
			ArtifactType string `json:"artifactType"`
		} `json:"manifests"`
	}
	r = ociOK(t, n, "GET", "/v2/"+name+"/referrers/"+md+"?artifactType=application/vnd.example.sig", nil, nil, http.StatusOK)
	if json.Unmarshal(r.body, &index) != nil || len(index.Manifests) != 1 || index.Manifests[0].Digest != digestOf(sig) || r.header.Get("OCI-Filters-Applied") != "artifactType" {
		t.Fatalf("referrers %v %s", r.header, r.body)
	}
	if r := ociOK(t, n, "GET", "/v2/"+name+"/referrers/"+md+"?artifactType=other", nil, nil, http.StatusOK); strings.Contains(string(r.body), digestOf(sig)) {
		t.Fatalf("filtered referrers %s", r.body)
	}

	// The generic API does not write into a DOCKER repository.
	if r := call(t, "PUT", n.url()+"/generic/team/app/web/_tags/evil", mgmtToken, "x"); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("generic write into DOCKER: %d %s", r.status, r.body)
	}

	// Pushes, pulls and blob bytes are counted by repository.
	metrics := string(call(t, "GET", n.url()+"/metrics", "", nil).body)
	for _, want := range []string{`ferry_registry_pushes_total{repository="team/app"} 4`, `ferry_registry_pulls_total{repository="team/app"} 3`,
		fmt.Sprintf(`ferry_registry_blob_bytes_total{direction="in",repository="team/app"} %d`, len(config)+len(layer)+2)} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// Delete by digest takes its tags; a blob delete its blob.
	ociOK(t, n, "DELETE", "/v2/"+name+"/manifests/"+md, nil, nil, http.StatusAccepted)
	ociFails(t, n, "GET", "/v2/"+name+"/manifests/v1", nil, nil, http.StatusNotFound, "MANIFEST_UNKNOWN")
	if r := ociOK(t, n, "GET", "/v2/"+name+"/tags/list", nil, nil, http.StatusOK); string(r.body) != `{"name":"team/app/web","tags":[]}` {
		t.Fatalf("tags after the delete: %s", r.body)
	}
	ociOK(t, n, "DELETE", "/v2/"+name+"/blobs/"+ld, nil, nil, http.StatusAccepted)
	if r := ociCall(t, n, "HEAD", "/v2/"+name+"/blobs/"+ld, mgmtToken, nil, nil); r.status != http.StatusNotFound {
		t.Fatalf("HEAD of a deleted blob: %d", r.status)
	}
}

// An upload session outlives its agent: after a restart its status shows
// what was received, and the rest completes it.
func TestOCIUploadSurvivesARestart(t *testing.T) {
	n := startGroup(t, regions[:1], withBootstrapExpect(1))[0]
	makeRepo(t, n.url(), "", "team", "placeholder", "GENERIC")
	layer := bytes.Repeat([]byte("0123456789abcdef"), 64<<10)
	loc := ociOK(t, n, "POST", "/v2/team/app/blobs/uploads/", nil, nil, http.StatusAccepted).header.Get("Location")
	half := len(layer) / 2
	ociOK(t, n, "PATCH", loc, map[string]string{"Content-Range": fmt.Sprintf("0-%d", half-1)}, layer[:half], http.StatusAccepted)

	n.stop()
	n.restart()
	eventually(t, 30*time.Second, "the registry answers again", func() error {
		if r := ociCall(t, n, "GET", "/v2/", mgmtToken, nil, nil); r.status != http.StatusOK {
			return fmt.Errorf("%d", r.status)
		}
		return nil
	})
	if r := ociOK(t, n, "GET", loc, nil, nil, http.StatusNoContent); r.header.Get("Range") != fmt.Sprintf("0-%d", half-1) {
		t.Fatalf("after the restart: Range %q", r.header.Get("Range"))
	}
	if r := ociCall(t, n, "HEAD", "/v2/team/app/blobs/"+digestOf(layer), mgmtToken, nil, nil); r.status != http.StatusNotFound {
		t.Fatalf("half a blob is visible: %d", r.status)
	}
	ociOK(t, n, "PATCH", loc, map[string]string{"Content-Range": fmt.Sprintf("%d-%d", half, len(layer)-1)}, layer[half:], http.StatusAccepted)
	ociOK(t, n, "PUT", loc+"?digest="+digestOf(layer), nil, nil, http.StatusCreated)
	if r := ociOK(t, n, "GET", "/v2/team/app/blobs/"+digestOf(layer), nil, nil, http.StatusOK); !bytes.Equal(r.body, layer) {
		t.Fatalf("the resumed blob differs (%d bytes)", len(r.body))
	}
	ociFails(t, n, "GET", loc, nil, nil, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN")
}
