package replicator

import (
	"context"
	"errors"

	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/store"
)

// A PACKAGE run of a DOCKER repository names tags (versions of
// docker://<image>), whose version records hold only the tag node: what a
// pull of the tag needs is read from its manifests. ociPhases then orders
// the nodes as for any image.

// tagClosure adds, through add, every node a pull of the tag node needs and
// what refers to it: the tag, its manifest, an index's children
// recursively, each image manifest's config and distributable layers, and
// the referrers of every manifest of it (their links and manifests, with
// their own closures). A node the source lacks (a blob deleted under a
// manifest) is left out: the target can hold no more than the source.
// seen holds the manifests already walked, shared by the tags of one
// selection so that what they share is read once.
func tagClosure(ctx context.Context, repo store.Repository, tag store.Node, seen map[string]bool, add func(store.Node)) error {
	add(tag)
	ref, ok := oci.ParseNodePath(tag.Path)
	if !ok || ref.Kind != oci.NodeTag {
		return nil // a version made by hand names plain files
	}
	c := closure{ctx: ctx, repo: repo, image: ref.Image, seen: seen, add: add}
	return c.manifest(oci.Digest{Algorithm: "sha256", Hex: tag.SHA256}, &tag)
}

type closure struct {
	ctx   context.Context
	repo  store.Repository
	image string
	seen  map[string]bool
	add   func(store.Node)
}

// manifest walks the manifest d; tag, when set, holds the same bytes should
// the manifest node be missing (a tag is readable without it).
func (c *closure) manifest(d oci.Digest, tag *store.Node) error {
	key := c.image + "@" + d.String()
	if c.seen[key] {
		return nil
	}
	c.seen[key] = true
	src, ok, err := c.stat(oci.ManifestPath(c.image, d))
	switch {
	case err != nil:
		return err
	case ok:
		c.add(src)
	case tag != nil:
		src = *tag
	default:
		return nil
	}
	m, err := readManifest(c.ctx, c.repo, object{Path: src.Path, Metadata: src.Metadata})
	if err != nil {
		return err
	}
	for _, r := range oci.References(m) {
		if m.IsIndex() {
			err = c.manifest(r.Digest, nil)
		} else {
			err = c.node(oci.BlobPath(c.image, r.Digest))
		}
		if err != nil {
			return err
		}
	}
	return c.referrers(d)
}

// referrers walks the manifests whose subject is d, with their links.
func (c *closure) referrers(d oci.Digest) error {
	var links []store.Node
	err := c.repo.Walk(c.ctx, oci.ReferrersDir(c.image, d), func(n store.Node) error {
		links = append(links, n)
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	for _, l := range links {
		ref, ok := oci.ParseNodePath(l.Path)
		if !ok || ref.Kind != oci.NodeReferrer {
			continue
		}
		// The link comes before its manifest in the listing; the phases
		// commit the manifest first whatever the order here.
		c.add(l)
		if err := c.manifest(ref.Digest, &l); err != nil {
			return err
		}
	}
	return nil
}

// node adds the file at path, if the source holds it.
func (c *closure) node(path string) error {
	n, ok, err := c.stat(path)
	if ok {
		c.add(n)
	}
	return err
}

func (c *closure) stat(path string) (store.Node, bool, error) {
	n, err := c.repo.Stat(c.ctx, path)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Node{}, false, nil
	case err != nil:
		return store.Node{}, false, err
	}
	return n, !n.Folder, nil
}
