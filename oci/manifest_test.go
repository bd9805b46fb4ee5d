package oci

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// dg is a distinct valid digest per label, so examples read like real ones.
func dg(label string) string { return FromBytes([]byte(label)).String() }

var (
	ociImage = fmt.Sprintf(`{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": %q, "size": 1470},
  "layers": [
    {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": %q, "size": 3623807},
    {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": %q, "size": 0},
    {"mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "digest": %q, "size": 1024,
     "urls": ["https://example.com/base.tar.gz"]}
  ],
  "annotations": {"org.opencontainers.image.created": "2026-11-30T00:00:00Z"},
  "x-custom": {"kept": "as pushed"}
}`, dg("config"), dg("layer1"), dg("empty-layer"), dg("foreign"))

	dockerManifest = fmt.Sprintf(`{
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
  "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 7023, "digest": %q},
  "layers": [
    {"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": 32654, "digest": %q},
    {"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", "size": 1000, "digest": %q}
  ]
}`, dg("dconfig"), dg("dlayer"), dg("dforeign"))

	dockerList = fmt.Sprintf(`{
  "schemaVersion": 2,
  "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
  "manifests": [
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 528, "digest": %q,
     "platform": {"architecture": "amd64", "os": "linux"}},
    {"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "size": 528, "digest": %q,
     "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}}
  ]
}`, dg("amd64"), dg("arm64"))

	nestedIndex = fmt.Sprintf(`{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.index.v1+json",
  "manifests": [
    {"mediaType": "application/vnd.oci.image.index.v1+json", "size": 700, "digest": %q},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "size": 500, "digest": %q,
     "platform": {"architecture": "s390x", "os": "linux"}}
  ],
  "annotations": {"org.opencontainers.image.ref.name": "1.0"}
}`, dg("inner-index"), dg("s390x"))

	artifact = fmt.Sprintf(`{
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "artifactType": "application/vnd.example.sbom.v1",
  "config": {"mediaType": "application/vnd.oci.empty.v1+json",
             "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2, "data": "e30="},
  "layers": [{"mediaType": "application/spdx+json", "digest": %q, "size": 4242}],
  "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": %q, "size": 1234},
  "annotations": {"org.opencontainers.image.created": "2026-12-01T00:00:00Z"}
}`, dg("sbom"), dg("subject"))

	// A signature-like artifact with no artifactType: the referrers API
	// lists its config media type instead.
	configTypedArtifact = fmt.Sprintf(`{
  "schemaVersion": 2,
  "config": {"mediaType": "application/vnd.dev.cosign.artifact.sig.v1+json", "digest": %q, "size": 233},
  "layers": [],
  "subject": {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": %q, "size": 99}
}`, dg("sigconfig"), dg("subject"))

	schema1 = `{
  "schemaVersion": 1, "name": "library/hello", "tag": "latest", "architecture": "amd64",
  "fsLayers": [{"blobSum": "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"}],
  "history": [{"v1Compatibility": "{}"}],
  "signatures": [{"header": {"alg": "ES256"}, "signature": "x", "protected": "y"}]
}`
)

func TestParseManifestExamples(t *testing.T) {
	m := mustParse(t, MediaTypeImageManifest, ociImage)
	if m.IsIndex() || m.ArtifactType != MediaTypeImageConfig || len(m.Layers) != 3 {
		t.Errorf("OCI image: %+v", m)
	}
	if b := m.Blobs(); len(b) != 3 || b[0].Digest.String() != dg("config") || b[2].Digest.String() != dg("empty-layer") {
		t.Errorf("OCI image blobs (non-distributable left out): %+v", b)
	}

	m = mustParse(t, MediaTypeDockerManifest, dockerManifest)
	if b := m.Blobs(); len(b) != 2 || b[1].Digest.String() != dg("dlayer") {
		t.Errorf("docker manifest blobs (foreign left out): %+v", b)
	}

	m = mustParse(t, MediaTypeDockerManifestList, dockerList)
	if !m.IsIndex() || len(m.Manifests) != 2 || m.Blobs() != nil || m.Config != nil {
		t.Errorf("docker list: %+v", m)
	}
	if string(m.Manifests[1].Platform) != `{"architecture": "arm64", "os": "linux", "variant": "v8"}` {
		t.Errorf("platform not kept raw: %s", m.Manifests[1].Platform)
	}

	m = mustParse(t, MediaTypeImageIndex, nestedIndex)
	if refs := References(m); len(refs) != 2 || refs[0].MediaType != MediaTypeImageIndex {
		t.Errorf("nested index references: %+v", refs)
	}

	m = mustParse(t, MediaTypeImageManifest, artifact)
	if m.ArtifactType != "application/vnd.example.sbom.v1" || m.Subject == nil ||
		m.Subject.Digest.String() != dg("subject") || m.Config.MediaType != MediaTypeEmptyJSON {
		t.Errorf("artifact: %+v", m)
	}
	if b := m.Blobs(); len(b) != 2 || b[0].Size != 2 {
		t.Errorf("the empty config is a blob like any other: %+v", b)
	}

	m = mustParse(t, "", configTypedArtifact)
	if m.MediaType != MediaTypeImageManifest || m.ArtifactType != "application/vnd.dev.cosign.artifact.sig.v1+json" || m.Layers != nil {
		t.Errorf("config-typed artifact: %+v", m)
	}
}

func mustParse(t *testing.T, mediaType, body string) Manifest {
	t.Helper()
	m, err := ParseManifest(mediaType, []byte(body))
	if err != nil {
		t.Fatalf("ParseManifest(%q): %v", mediaType, err)
	}
	return m
}

func TestParseManifestMediaType(t *testing.T) {
	noField := `{"schemaVersion":2,"config":{"digest":"` + dg("c") + `","size":1},"layers":[]}`
	indexNoField := `{"schemaVersion":2,"manifests":[]}`
	cases := []struct {
		header, body, want string
	}{
		{"application/json", ociImage, MediaTypeImageManifest},
		{"application/octet-stream", dockerList, MediaTypeDockerManifestList},
		{"application/vnd.oci.image.manifest.v1+json; charset=utf-8", ociImage, MediaTypeImageManifest},
		{MediaTypeImageManifest, noField, MediaTypeImageManifest},
		{MediaTypeDockerManifest, noField, MediaTypeDockerManifest},
		{"", noField, MediaTypeImageManifest},
		{"", indexNoField, MediaTypeImageIndex},
	}
	for _, c := range cases {
		m, err := ParseManifest(c.header, []byte(c.body))
		if err != nil || m.MediaType != c.want {
			t.Errorf("ParseManifest(%q, …) = %q, %v; want %q", c.header, m.MediaType, err, c.want)
		}
	}
}

func TestParseManifestRefused(t *testing.T) {
	good := `"config":{"digest":"` + dg("c") + `","size":1}`
	cases := []struct {
		name, header, body string
		unsupported        bool
	}{
		{"schema1", "", schema1, true},
		{"schema1 header", MediaTypeDockerSchema1Signed, `{"schemaVersion":2,` + good + `}`, true},
		{"unknown type", "application/vnd.example+json", `{"schemaVersion":2,` + good + `}`, true},
		{"header vs field", MediaTypeDockerManifest, ociImage, false},
		{"index header, image body", MediaTypeImageIndex, ociImage, false},
		{"null", "", `null`, false},
		{"array", "", `[]`, false},
		{"empty", "", ``, false},
		{"trailing garbage", "", `{"schemaVersion":2,` + good + `} x`, false},
		{"no schemaVersion", "", `{` + good + `}`, false},
		{"schemaVersion 3", "", `{"schemaVersion":3,` + good + `}`, false},
		{"schemaVersion string", "", `{"schemaVersion":"2",` + good + `}`, false},
		{"no config", MediaTypeImageManifest, `{"schemaVersion":2,"layers":[]}`, false},
		{"manifests in image", MediaTypeImageManifest, `{"schemaVersion":2,` + good + `,"manifests":[]}`, false},
		{"config in index", MediaTypeImageIndex, `{"schemaVersion":2,` + good + `,"manifests":[]}`, false},
		{"bad digest", "", `{"schemaVersion":2,"config":{"digest":"sha256:abc","size":1}}`, false},
		{"no size", "", `{"schemaVersion":2,"config":{"digest":"` + dg("c") + `"}}`, false},
		{"negative size", "", `{"schemaVersion":2,"config":{"digest":"` + dg("c") + `","size":-1}}`, false},
		{"bad layer", "", `{"schemaVersion":2,` + good + `,"layers":[{"digest":"x","size":1}]}`, false},
		{"bad subject", "", `{"schemaVersion":2,` + good + `,"subject":{"digest":"","size":1}}`, false},
		{"bad child", "", `{"schemaVersion":2,"manifests":[{"digest":"` + dg("c") + `","size":-5}]}`, false},
		{"annotations not strings", "", `{"schemaVersion":2,` + good + `,"annotations":{"a":1}}`, false},
		{"too big", "", `{"schemaVersion":2,` + good + `,"annotations":{"a":"` + strings.Repeat("x", MaxManifestSize) + `"}}`, false},
	}
	for _, c := range cases {
		_, err := ParseManifest(c.header, []byte(c.body))
		if !errors.Is(err, ErrManifestInvalid) || errors.Is(err, ErrMediaTypeUnsupported) != c.unsupported {
			t.Errorf("%s: error %v, want ErrManifestInvalid (unsupported %v)", c.name, err, c.unsupported)
		}
	}
}

func TestParseManifestLarge(t *testing.T) {
	// The conformance suite's ~3.9 MB manifest: 390 annotations of 10,000 bytes.
	var b strings.Builder
	b.WriteString(`{"schemaVersion":2,"mediaType":"` + MediaTypeImageManifest + `","config":{"mediaType":"` +
		MediaTypeEmptyJSON + `","digest":"` + dg("{}") + `","size":2},"layers":[],"annotations":{`)
	for i := 0; i < 390; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"a%d":"%s"`, i, strings.Repeat("v", 10000))
	}
	b.WriteString(`}}`)
	m := mustParse(t, MediaTypeImageManifest, b.String())
	if len(m.Annotations) != 390 {
		t.Errorf("%d annotations", len(m.Annotations))
	}
}

func TestNonDistributable(t *testing.T) {
	for mt, want := range map[string]bool{
		"application/vnd.oci.image.layer.nondistributable.v1.tar":      true,
		"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd": true,
		"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip":    true,
		"application/vnd.oci.image.layer.v1.tar+gzip":                  false,
		"application/vnd.docker.image.rootfs.diff.tar.gzip":            false,
		"application/vnd.example.foreign+json":                         false,
	} {
		if got := (Descriptor{MediaType: mt}).NonDistributable(); got != want {
			t.Errorf("NonDistributable(%q) = %v", mt, got)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	for _, s := range []string{ociImage, dockerManifest, dockerList, nestedIndex, artifact, configTypedArtifact, schema1, `{}`, `null`} {
		f.Add("", s)
		f.Add(MediaTypeImageManifest, s)
	}
	f.Add(MediaTypeImageIndex, nestedIndex)
	f.Add(MediaTypeDockerManifestList, dockerList)
	f.Fuzz(func(t *testing.T, mediaType string, body string) {
		m, err := ParseManifest(mediaType, []byte(body))
		if err != nil {
			if !errors.Is(err, ErrManifestInvalid) {
				t.Fatalf("error %v does not wrap ErrManifestInvalid", err)
			}
			return
		}
		all := append(append(append([]Descriptor{}, m.Layers...), m.Manifests...), References(m)...)
		for _, p := range []*Descriptor{m.Config, m.Subject} {
			if p != nil {
				all = append(all, *p)
			}
		}
		for _, d := range all {
			if _, err := ParseDigest(d.Digest.String()); err != nil || d.Size < 0 {
				t.Fatalf("accepted a descriptor with digest %q size %d", d.Digest, d.Size)
			}
		}
		if m.IsIndex() == (m.Config != nil) {
			t.Fatalf("index %v but config %v: an index has none, an image manifest needs one", m.IsIndex(), m.Config)
		}
	})
}
