package replicator

import (
	"context"

	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/registry"
	"github.com/ferrysync/ferry/store"
)

// An image replicates in the order a client pulling from the target needs:
// its blobs, then its manifests children first (an index only once every
// manifest it names is there), then the referrer links, then its tags. The
// phases' barriers (target.go) make that the order of visibility, so a
// poller of the target never finds a tag whose manifest, children or
// blobs 404, and a registry behind the target never refuses a manifest
// for a blob it lacks.

// ociPhases gives each image node of a DOCKER repository's listing its
// phase; other paths stay content.
func ociPhases(ctx context.Context, repo store.Repository, objs []object) error {
	var manifests []int
	for i, o := range objs {
		ref, ok := oci.ParseNodePath(o.Path)
		switch {
		case !ok:
		case ref.Kind == oci.NodeManifest:
			manifests = append(manifests, i)
		case ref.Kind == oci.NodeReferrer:
			objs[i].phase = phaseReferrer
		case ref.Kind == oci.NodeTag:
			objs[i].phase = phaseTag
		}
	}
	children := map[string][]string{}
	for _, i := range manifests {
		m, err := readManifest(ctx, repo, objs[i])
		if err != nil {
			return err
		}
		for _, c := range m.Manifests {
			children[objs[i].SHA256] = append(children[objs[i].SHA256], c.Digest.Hex)
		}
	}
	levels := manifestLevels{children: children, level: map[string]int{}}
	for _, i := range manifests {
		objs[i].phase = phaseManifest + phase(min(levels.of(objs[i].SHA256), maxManifestLevel))
	}
	return nil
}

// readManifest reads a manifest node of the listing. One that does not
// parse is replicated as it is, as an image manifest: the source accepted
// it, and the target's copy must be byte-exact, not judged again.
func readManifest(ctx context.Context, repo store.Repository, o object) (oci.Manifest, error) {
	body, m, err := registry.ReadManifest(ctx, repo, o.Path, o.Metadata[oci.MetaMediaType])
	if body == nil {
		return oci.Manifest{}, err // unreadable, not unparsable
	}
	return m, nil
}

// manifestLevels is each manifest's height in the graph of indexes: 0 for
// one naming no manifest of the listing.
type manifestLevels struct {
	children map[string][]string
	level    map[string]int
}

func (l manifestLevels) of(sum string) int {
	if n, ok := l.level[sum]; ok {
		return n
	}
	l.level[sum] = 0 // digests cannot cycle; this only guards a forged graph
	n := 0
	for _, c := range l.children[sum] {
		n = max(n, l.of(c)+1)
	}
	l.level[sum] = n
	return n
}
