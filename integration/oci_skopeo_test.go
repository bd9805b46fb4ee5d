package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needTool finds a program the test drives; CI installs them (.ci/run sets
// FERRY_REQUIRE_TOOLS), a developer's machine may not have them.
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("FERRY_REQUIRE_TOOLS") != "" {
			t.Fatalf("%s is required: apt-get install %s", name, pkg)
		}
		t.Skipf("%s not installed (apt-get install %s)", name, pkg)
	}
	return p
}

// ociLayout writes an OCI image layout: blobs by digest, index.json naming
// each ref.
type ociLayout struct {
	dir  string
	refs []map[string]any
}

func newOCILayout(t *testing.T) *ociLayout {
	l := &ociLayout{dir: t.TempDir()}
	if err := os.MkdirAll(filepath.Join(l.dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l *ociLayout) blob(t *testing.T, b []byte) map[string]any {
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:])
	if err := os.WriteFile(filepath.Join(l.dir, "blobs", "sha256", h), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return map[string]any{"digest": "sha256:" + h, "size": len(b)}
}

func (l *ociLayout) json(t *testing.T, mediaType string, v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	d := l.blob(t, b)
	d["mediaType"] = mediaType
	return d
}

// image writes an image of n layers for a platform.
func (l *ociLayout) image(t *testing.T, arch string, n int) map[string]any {
	config := l.json(t, "application/vnd.oci.image.config.v1+json", map[string]any{"architecture": arch, "os": "linux", "rootfs": map[string]any{"type": "layers", "diff_ids": []string{}}})
	var layers []map[string]any
	for i := range n {
		d := l.blob(t, []byte(strings.Repeat(fmt.Sprintf("%s layer %d ", arch, i), 1000+i)))
		d["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
		layers = append(layers, d)
	}
	m := l.json(t, ociManifestType, map[string]any{"schemaVersion": 2, "mediaType": ociManifestType, "config": config, "layers": layers})
	m["platform"] = map[string]string{"architecture": arch, "os": "linux"}
	return m
}

func (l *ociLayout) tag(t *testing.T, ref string, desc map[string]any) {
	d := map[string]any{}
	for k, v := range desc {
		d[k] = v
	}
	d["annotations"] = map[string]string{"org.opencontainers.image.ref.name": ref}
	l.refs = append(l.refs, d)
	index, _ := json.Marshal(map[string]any{"schemaVersion": 2, "manifests": l.refs})
	for name, b := range map[string][]byte{"index.json": index, "oci-layout": []byte(`{"imageLayoutVersion":"1.0.0"}`)} {
		if err := os.WriteFile(filepath.Join(l.dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func skopeo(t *testing.T, bin string, args ...string) string {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("skopeo %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// skopeo (the real client) pushes an image and a multi-platform index
// into an agent and copies them back out with their digests kept.
func TestOCISkopeoCopiesInAndOut(t *testing.T) {
	bin := needTool(t, "skopeo", "skopeo")
	n := startGroup(t, regions[:1], withBootstrapExpect(1))[0]
	makeRepo(t, n.url(), "", "team", "placeholder", "GENERIC")
	host := strings.TrimPrefix(n.url(), "http://")
	creds := "ci:" + mgmtToken

	src := newOCILayout(t)
	single := src.image(t, "amd64", 5)
	src.tag(t, "single", single)
	index := src.json(t, "application/vnd.oci.image.index.v1+json", map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []any{src.image(t, "amd64", 3), src.image(t, "arm64", 3)}})
	src.tag(t, "multi", index)

	skopeo(t, bin, "copy", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", creds, "oci:"+src.dir+":single", "docker://"+host+"/team/app/web:1")
	skopeo(t, bin, "copy", "--all", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", creds, "oci:"+src.dir+":multi", "docker://"+host+"/team/app/multi:1")

	for ref, want := range map[string]any{"web:1": single["digest"], "multi:1": index["digest"]} {
		raw := skopeo(t, bin, "inspect", "--raw", "--tls-verify=false", "--creds", creds, "docker://"+host+"/team/app/"+ref)
		sum := sha256.Sum256([]byte(raw))
		if got := "sha256:" + hex.EncodeToString(sum[:]); got != want {
			t.Errorf("%s: the registry serves %s, pushed %s", ref, got, want)
		}
	}
	out := t.TempDir()
	skopeo(t, bin, "copy", "--all", "--preserve-digests", "--src-tls-verify=false", "--src-creds", creds, "docker://"+host+"/team/app/multi:1", "oci:"+out+":multi")
	var back struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	b, err := os.ReadFile(filepath.Join(out, "index.json"))
	if err != nil || json.Unmarshal(b, &back) != nil || len(back.Manifests) != 1 || back.Manifests[0].Digest != index["digest"] {
		t.Fatalf("copied back out: %s %v", b, err)
	}
	// Every blob of both platforms came back: skopeo verified each digest as
	// it wrote it, and the index is the one pushed.
	if r := ociOK(t, n, "GET", "/v2/team/app/multi/tags/list", nil, nil, 200); string(r.body) != `{"name":"team/app/multi","tags":["1"]}` {
		t.Fatalf("tags %s", r.body)
	}
}

// skopeo pushes to one region and pulls, digests kept, from another once a
// run replicated the repository.
func TestOCISkopeoPushHerePullThere(t *testing.T) {
	bin := needTool(t, "skopeo", "skopeo")
	nodes := replicationGroup(t)
	byID := byRegion(nodes)
	a, b := byID["shanghai"], byID["beijing"]
	makeRepo(t, a.url(), "", "team", "placeholder", "GENERIC")
	creds := "ci:" + mgmtToken

	src := newOCILayout(t)
	index := src.json(t, "application/vnd.oci.image.index.v1+json", map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
		"manifests": []any{src.image(t, "amd64", 5), src.image(t, "arm64", 5)}})
	src.tag(t, "multi", index)
	skopeo(t, bin, "copy", "--all", "--preserve-digests", "--dest-tls-verify=false", "--dest-creds", creds, "oci:"+src.dir+":multi",
		"docker://"+strings.TrimPrefix(a.url(), "http://")+"/team/app/multi:1")

	if r := waitRun(t, a, startRun(t, a, repoSpec("team", "app", "DOCKER", "beijing")).ID, 60*time.Second); r.State != "SUCCESS" {
		t.Fatalf("run %+v", r)
	}
	out := t.TempDir()
	skopeo(t, bin, "copy", "--all", "--preserve-digests", "--src-tls-verify=false", "--src-creds", creds,
		"docker://"+strings.TrimPrefix(b.url(), "http://")+"/team/app/multi:1", "oci:"+out+":multi")
	var back struct {
		Manifests []struct {
			Digest string `json:"digest"`
		} `json:"manifests"`
	}
	raw, err := os.ReadFile(filepath.Join(out, "index.json"))
	if err != nil || json.Unmarshal(raw, &back) != nil || len(back.Manifests) != 1 || back.Manifests[0].Digest != index["digest"] {
		t.Fatalf("pulled from beijing: %s %v", raw, err)
	}
}
