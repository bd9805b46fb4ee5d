package oci

import "strings"

// The node layout of an image inside a DOCKER (or OCI) repository of the
// store (contract §4a). Every node's content is addressed by sha256, so a
// blob or manifest shared by images, repositories or tags is stored once:
//
//	/<image>/_blobs/sha256/<hex>                          a config or layer
//	/<image>/_manifests/sha256/<hex>                      the exact manifest bytes
//	/<image>/_tags/<tag>                                  the bytes of the tagged manifest
//	/<image>/_referrers/sha256/<subject>/sha256/<hex>     the bytes of a referrer of <subject>
//
// The reserved segments start with '_', which no OCI name component can,
// so an image path never collides with them. The root image ("") has its
// nodes directly under "/". Functions here take an image that is "" or
// ValidName and a valid tag or digest; they do not check, ParseNodePath does.

// Reserved segments of the layout.
const (
	blobsSeg     = "_blobs"
	manifestsSeg = "_manifests"
	tagsSeg      = "_tags"
	referrersSeg = "_referrers"
)

// Metadata keys on manifest, tag and referrer nodes. They must travel with
// every replication, also without includeMetadata, or a replica serves the
// wrong Content-Type.
const (
	// MetaPrefix starts every key of them.
	MetaPrefix       = "oci."
	MetaMediaType    = "oci.mediaType"
	MetaArtifactType = "oci.artifactType"
	MetaSubject      = "oci.subject"
)

// imageDir is the folder of an image's nodes: "" for the root image, so
// that joining a "/_…" suffix gives "/_…".
func imageDir(image string) string {
	if image == "" {
		return ""
	}
	return "/" + image
}

func digestSegs(d Digest) string { return d.Algorithm + "/" + d.Hex }

// BlobsDir is the folder of an image's blobs, the first replication phase.
func BlobsDir(image string) string { return imageDir(image) + "/" + blobsSeg }

// BlobPath is the node of a config or layer blob.
func BlobPath(image string, d Digest) string { return BlobsDir(image) + "/" + digestSegs(d) }

// ManifestsDir is the folder of an image's manifests, by digest.
func ManifestsDir(image string) string { return imageDir(image) + "/" + manifestsSeg }

// ManifestPath is the node of a manifest by its digest.
func ManifestPath(image string, d Digest) string {
	return ManifestsDir(image) + "/" + digestSegs(d)
}

// TagsDir is the folder whose children are the image's tags: listing it is
// tags/list.
func TagsDir(image string) string { return imageDir(image) + "/" + tagsSeg }

// TagPath is the node of a tag; its sha256 is the tagged manifest's digest.
func TagPath(image, tag string) string { return TagsDir(image) + "/" + tag }

// ReferrersDir is the folder of the referrers of subject: walking it
// answers the referrers API without reading any other manifest.
func ReferrersDir(image string, subject Digest) string {
	return imageDir(image) + "/" + referrersSeg + "/" + digestSegs(subject)
}

// ReferrerPath is the link recording that referrer has subject as subject.
func ReferrerPath(image string, subject, referrer Digest) string {
	return ReferrersDir(image, subject) + "/" + digestSegs(referrer)
}

// NodeKind is what a node of the layout holds.
type NodeKind int

// Node kinds; the zero NodeKind is no node of the layout.
const (
	NodeBlob NodeKind = iota + 1
	NodeManifest
	NodeTag
	NodeReferrer
)

var nodeKindNames = [...]string{"", "blob", "manifest", "tag", "referrer"}

// String names the kind for logs and counters.
func (k NodeKind) String() string {
	if k <= 0 || int(k) >= len(nodeKindNames) {
		return "node(?)"
	}
	return nodeKindNames[k]
}

// NodeRef is what ParseNodePath reads from a node path.
type NodeRef struct {
	Kind  NodeKind
	Image string // "" for the repository's root image
	// Digest is the blob's or manifest's digest, for a referrer the
	// referrer manifest's; zero for a tag.
	Digest  Digest
	Tag     string // NodeTag only
	Subject Digest // NodeReferrer only
}

// ParseNodePath recognises a node path of the layout (normalised: leading
// '/', no trailing slash), for the replicator to put each node in its
// phase. The reserved part starts at the first segment beginning with '_'
// (no image component can); the segments before it must form a valid
// image. Anything else, including folders of the layout, is not a node.
func ParseNodePath(p string) (NodeRef, bool) {
	rest, ok := strings.CutPrefix(p, "/")
	if !ok {
		return NodeRef{}, false
	}
	segs := strings.Split(rest, "/")
	i := 0
	for i < len(segs) && !strings.HasPrefix(segs[i], "_") {
		i++
	}
	image := strings.Join(segs[:i], "/")
	// i > 0 with an empty image is "//_…": not the root image's node.
	if i == len(segs) || i > 0 && !ValidName(image) {
		return NodeRef{}, false
	}
	ref, ok := parseReserved(segs[i:])
	ref.Image = image
	return ref, ok
}

// parseReserved reads the part of a node path from its reserved segment on.
func parseReserved(segs []string) (NodeRef, bool) {
	switch {
	case len(segs) == 3 && segs[0] == blobsSeg:
		d, ok := digestOf(segs[1], segs[2])
		return NodeRef{Kind: NodeBlob, Digest: d}, ok
	case len(segs) == 3 && segs[0] == manifestsSeg:
		d, ok := digestOf(segs[1], segs[2])
		return NodeRef{Kind: NodeManifest, Digest: d}, ok
	case len(segs) == 2 && segs[0] == tagsSeg:
		return NodeRef{Kind: NodeTag, Tag: segs[1]}, ValidTag(segs[1])
	case len(segs) == 5 && segs[0] == referrersSeg:
		s, okS := digestOf(segs[1], segs[2])
		d, okD := digestOf(segs[3], segs[4])
		return NodeRef{Kind: NodeReferrer, Digest: d, Subject: s}, okS && okD
	}
	return NodeRef{}, false
}

// digestOf parses a digest stored as the two segments <algorithm>/<hex>.
func digestOf(alg, hex string) (Digest, bool) {
	d, err := ParseDigest(alg + ":" + hex)
	return d, err == nil
}

// Path renders ref back as its node path; ParseNodePath(r.Path()) gives r
// back for every r it returned.
func (r NodeRef) Path() string {
	switch r.Kind {
	case NodeBlob:
		return BlobPath(r.Image, r.Digest)
	case NodeManifest:
		return ManifestPath(r.Image, r.Digest)
	case NodeTag:
		return TagPath(r.Image, r.Tag)
	case NodeReferrer:
		return ReferrerPath(r.Image, r.Subject, r.Digest)
	}
	return ""
}

// References are the descriptors m's closure continues with: an index's
// child manifests, or an image manifest's distributable blobs. The subject
// is not one: a referrer points at its subject, it does not contain it,
// and the subject need not exist (referrers are found through
// ReferrersDir of each manifest instead).
func References(m Manifest) []Descriptor {
	if m.IsIndex() {
		return m.Manifests
	}
	return m.Blobs()
}

// PackageKey is the store package whose versions are an image's tags
// (bk-repo's PackageKeys.ofDocker): docker://<image>, and for the root
// image, which has no path of its own, docker://<repository>. An image
// named like its repository therefore shares the root image's key; a tag
// of both is then one version listing both tag nodes.
func PackageKey(repository, image string) string {
	if image == "" {
		image = repository
	}
	return "docker://" + image
}
