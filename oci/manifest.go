package oci

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Media types Ferry recognises. A manifest PUT is accepted only with one of
// the four manifest types; schema 1 is named so it can be refused by name.
const (
	MediaTypeImageManifest      = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeImageIndex         = "application/vnd.oci.image.index.v1+json"
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"

	// MediaTypeEmptyJSON is the "{}" blob artifacts use as config; it is an
	// ordinary blob and must be pushed like any other.
	MediaTypeEmptyJSON = "application/vnd.oci.empty.v1+json"

	MediaTypeImageConfig  = "application/vnd.oci.image.config.v1+json"
	MediaTypeDockerConfig = "application/vnd.docker.container.image.v1+json"

	// Docker schema 1: signed with a key the registry would have to manage,
	// deprecated and unsupported by the referrers model; always refused.
	MediaTypeDockerSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	MediaTypeDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// MaxManifestSize is the largest manifest accepted: the conformance suite
// pushes a 3.9 MB one (390 annotations of 10,000 bytes).
const MaxManifestSize = 4 << 20

var (
	// ErrManifestInvalid: a body that is not an acceptable manifest
	// (MANIFEST_INVALID).
	ErrManifestInvalid = errors.New("invalid manifest")
	// ErrMediaTypeUnsupported additionally marks a manifest refused for its
	// media type alone (schema 1, unknown types), for a caller that
	// prefers UNSUPPORTED there; it always comes with ErrManifestInvalid.
	ErrMediaTypeUnsupported = errors.New("unsupported manifest media type")
)

// Descriptor points at content by digest.
// It encodes as the spec's descriptor (a referrers index lists them).
type Descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       Digest            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	// Platform is kept raw: only clients choose by platform, and a
	// re-encoding could lose fields the pusher put there.
	Platform json.RawMessage `json:"platform,omitempty"`
}

// NonDistributable reports whether the layer lives outside registries
// (Windows base layers and the like): its blob is never pushed, so its
// absence must not fail a manifest PUT, and replication must not ask for it.
func (d Descriptor) NonDistributable() bool {
	return strings.Contains(d.MediaType, "nondistributable") ||
		strings.HasPrefix(d.MediaType, "application/vnd.docker.image.rootfs.foreign.")
}

// Manifest is a parsed image manifest or index. Nothing in it replaces the
// pushed bytes: those are what is stored and served, this is what is read
// from them.
type Manifest struct {
	// MediaType is the type it was pushed with: the Content-Type, else its
	// mediaType field, else derived from its shape.
	MediaType string
	// ArtifactType is artifactType, else config.mediaType for an image
	// manifest: what the referrers API lists.
	ArtifactType string
	Config       *Descriptor // image manifests only
	Layers       []Descriptor
	Manifests    []Descriptor // indexes only
	Subject      *Descriptor
	Annotations  map[string]string
}

// IsIndex reports whether m lists other manifests (OCI index or Docker
// manifest list) rather than blobs.
func (m Manifest) IsIndex() bool { return isIndexType(m.MediaType) }

func isIndexType(t string) bool {
	return t == MediaTypeImageIndex || t == MediaTypeDockerManifestList
}

// Blobs lists the config and layers that must already be in the repository
// before m may be stored, leaving out non-distributable layers, which
// nobody can push. An index needs no blobs.
func (m Manifest) Blobs() []Descriptor {
	var out []Descriptor
	if m.Config != nil {
		out = append(out, *m.Config)
	}
	for _, l := range m.Layers {
		if !l.NonDistributable() {
			out = append(out, l)
		}
	}
	return out
}

// wireDescriptor and wireManifest are the JSON shapes; they are decoded
// into strings and checked before anything becomes a Digest.
type wireDescriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         *int64            `json:"size"`
	ArtifactType string            `json:"artifactType"`
	Annotations  map[string]string `json:"annotations"`
	Platform     json.RawMessage   `json:"platform"`
}

type wireManifest struct {
	SchemaVersion *int              `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        *wireDescriptor   `json:"config"`
	Layers        []wireDescriptor  `json:"layers"`
	Manifests     []wireDescriptor  `json:"manifests"`
	Subject       *wireDescriptor   `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
}

// ParseManifest validates a manifest as pushed with the Content-Type
// mediaType and returns what it says. The body must be a JSON object of at
// most MaxManifestSize bytes with schemaVersion 2 and a manifest media type
// (image manifest or index, OCI or Docker; schema 1 is refused), an image
// manifest needs a config and no "manifests", an index no config or layers,
// and every descriptor a valid digest and a size ≥ 0.
//
// A Content-Type that is empty or generic (application/json,
// application/octet-stream) defers to the mediaType field; a specific one
// must equal it when the field is set, because a registry serves the pushed
// type and a mismatch means one of them lies. With neither, the type is
// derived from the shape ("manifests" ⇒ OCI index, else OCI image
// manifest), the same fallback the replicator uses for a node without
// metadata.
//
// Unknown fields are ignored: the bytes are stored as pushed, so custom
// fields survive without being modelled. Errors wrap ErrManifestInvalid.
func ParseManifest(mediaType string, body []byte) (Manifest, error) {
	if len(body) > MaxManifestSize {
		return Manifest{}, invalid("%d bytes, more than the limit of %d", len(body), MaxManifestSize)
	}
	w, err := decodeWire(body)
	if err != nil {
		return Manifest{}, err
	}
	t, err := effectiveType(mediaType, w)
	if err != nil {
		return Manifest{}, err
	}
	if err := checkShape(t, w); err != nil {
		return Manifest{}, err
	}
	return buildManifest(t, w)
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrManifestInvalid, fmt.Sprintf(format, args...))
}

// decodeWire decodes an object with schemaVersion 2. The leading-brace test
// is needed because "null" decodes into a struct without complaint.
func decodeWire(body []byte) (wireManifest, error) {
	var w wireManifest
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return w, invalid("not a JSON object")
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return w, invalid("%v", err)
	}
	switch {
	case w.SchemaVersion == nil:
		return w, invalid("no schemaVersion")
	case *w.SchemaVersion == 1:
		return w, unsupported("schema 1")
	case *w.SchemaVersion != 2:
		return w, invalid("schemaVersion %d, want 2", *w.SchemaVersion)
	}
	return w, nil
}

func unsupported(what string) error {
	return fmt.Errorf("%w: %w: %s", ErrManifestInvalid, ErrMediaTypeUnsupported, what)
}

// effectiveType decides the manifest's media type from the header and the
// body's mediaType field, and refuses anything that is not a manifest type.
func effectiveType(header string, w wireManifest) (string, error) {
	header = bareType(header)
	t := header
	switch {
	case genericType(header) && w.MediaType != "":
		t = w.MediaType
	case genericType(header) && w.Manifests != nil:
		t = MediaTypeImageIndex
	case genericType(header):
		t = MediaTypeImageManifest
	case w.MediaType != "" && w.MediaType != header:
		return "", invalid("Content-Type %q but mediaType %q", header, w.MediaType)
	}
	switch t {
	case MediaTypeImageManifest, MediaTypeImageIndex, MediaTypeDockerManifest, MediaTypeDockerManifestList:
		return t, nil
	case MediaTypeDockerSchema1, MediaTypeDockerSchema1Signed:
		return "", unsupported("docker schema 1 (" + t + ")")
	}
	return "", unsupported(fmt.Sprintf("%q is not a manifest media type", t))
}

// bareType drops parameters such as "; charset=utf-8" from a Content-Type.
func bareType(contentType string) string {
	t, _, _ := strings.Cut(contentType, ";")
	return strings.TrimSpace(t)
}

// genericType reports whether a Content-Type says nothing about the
// manifest: what curl and naive clients send.
func genericType(t string) bool {
	return t == "" || t == "application/json" || t == "application/octet-stream"
}

// checkShape refuses the fields that do not belong to the kind of manifest:
// a document with both would be read differently by different clients.
func checkShape(t string, w wireManifest) error {
	if isIndexType(t) {
		if w.Config != nil || w.Layers != nil {
			return invalid("an index (%s) has config or layers", t)
		}
		return nil
	}
	if w.Manifests != nil {
		return invalid("an image manifest (%s) has manifests", t)
	}
	if w.Config == nil {
		return invalid("an image manifest (%s) has no config", t)
	}
	return nil
}

// buildManifest converts the checked wire form.
func buildManifest(t string, w wireManifest) (Manifest, error) {
	m := Manifest{MediaType: t, ArtifactType: w.ArtifactType, Annotations: w.Annotations}
	var err error
	if m.Config, err = optionalDescriptor("config", w.Config); err != nil {
		return Manifest{}, err
	}
	if m.Subject, err = optionalDescriptor("subject", w.Subject); err != nil {
		return Manifest{}, err
	}
	if m.Layers, err = descriptors("layers", w.Layers); err != nil {
		return Manifest{}, err
	}
	if m.Manifests, err = descriptors("manifests", w.Manifests); err != nil {
		return Manifest{}, err
	}
	if m.ArtifactType == "" && m.Config != nil {
		m.ArtifactType = m.Config.MediaType
	}
	return m, nil
}

func optionalDescriptor(field string, w *wireDescriptor) (*Descriptor, error) {
	if w == nil {
		return nil, nil
	}
	d, err := descriptor(field, *w)
	return &d, err
}

func descriptors(field string, ws []wireDescriptor) ([]Descriptor, error) {
	if len(ws) == 0 {
		return nil, nil
	}
	out := make([]Descriptor, len(ws))
	for i, w := range ws {
		d, err := descriptor(fmt.Sprintf("%s[%d]", field, i), w)
		if err != nil {
			return nil, err
		}
		out[i] = d
	}
	return out, nil
}

// descriptor checks one descriptor. The media type is not required: old
// clients omit it in places and nothing here depends on it.
func descriptor(field string, w wireDescriptor) (Descriptor, error) {
	dg, err := ParseDigest(w.Digest)
	if err != nil {
		return Descriptor{}, invalid("%s: %v", field, err)
	}
	if w.Size == nil || *w.Size < 0 {
		return Descriptor{}, invalid("%s: size missing or negative", field)
	}
	return Descriptor{
		MediaType:    w.MediaType,
		Digest:       dg,
		Size:         *w.Size,
		ArtifactType: w.ArtifactType,
		Annotations:  w.Annotations,
		Platform:     w.Platform,
	}, nil
}
