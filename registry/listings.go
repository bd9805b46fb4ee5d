package registry

import (
	"context"
	"slices"

	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/store"
)

// Head is the change-log position of a DOCKER repository: what is pushed
// into it from now on comes after it.
func (g *Registry) Head(ctx context.Context, project, repo string) (uint64, error) {
	r, err := g.Store.Repository(ctx, project, repo)
	if err != nil {
		return 0, err
	}
	return r.Head(ctx)
}

// Tags lists an image's tags in lexical order, after last, at most n (n < 0:
// all); more says whether a page follows.
func (g *Registry) Tags(ctx context.Context, name string, n int, last string) (tags []string, more bool, err error) {
	img, err := g.Image(ctx, name, false)
	if err != nil {
		return nil, false, err
	}
	err = img.walk(ctx, oci.TagsDir(img.Path), func(node store.Node) error {
		tags = append(tags, node.Name)
		return nil
	})
	tags, more = page(tags, n, last)
	return tags, more, err
}

// Catalog lists the names of every image of the store's DOCKER
// repositories, in lexical order, paged as Tags.
func (g *Registry) Catalog(ctx context.Context, n int, last string) ([]string, bool, error) {
	projects, err := g.Store.Projects(ctx)
	if err != nil {
		return nil, false, err
	}
	var names []string
	for _, p := range projects {
		repos, err := g.Store.Repos(ctx, p.Name)
		if err != nil {
			return nil, false, err
		}
		for _, r := range repos {
			if r.Type != store.TypeDocker {
				continue
			}
			images, err := g.images(ctx, r)
			if err != nil {
				return nil, false, err
			}
			names = append(names, images...)
		}
	}
	names, more := page(names, n, last)
	return names, more, nil
}

// images are the names of a repository's images: those holding a manifest.
func (g *Registry) images(ctx context.Context, r store.Repo) ([]string, error) {
	summaries, err := g.summaries(ctx, r)
	names := make([]string, len(summaries))
	for i, s := range summaries {
		names[i] = s.Name
	}
	return names, err
}

// page sorts names and keeps those after last, at most n of them.
func page(names []string, n int, last string) ([]string, bool) {
	slices.Sort(names)
	names = slices.Compact(names)
	if last != "" {
		i, found := slices.BinarySearch(names, last)
		if found {
			i++
		}
		names = names[i:]
	}
	if n >= 0 && len(names) > n {
		return names[:n], true
	}
	if names == nil {
		names = []string{}
	}
	return names, false
}

// Referrers are the manifests whose subject is ref, as descriptors (of
// artifactType only, when given): an unknown subject has none, also in a
// repository nothing was pushed to yet (the spec answers an empty index).
func (g *Registry) Referrers(ctx context.Context, name, ref, artifactType string) ([]oci.Descriptor, error) {
	out := []oci.Descriptor{}
	img, subject, err := g.blobRef(ctx, name, ref)
	if CodeOf(err) == CodeNameUnknown {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	err = img.walk(ctx, oci.ReferrersDir(img.Path, subject), func(n store.Node) error {
		d, err := img.referrer(ctx, n)
		if err == nil && (artifactType == "" || d.ArtifactType == artifactType) {
			out = append(out, d)
		}
		return err
	})
	return out, err
}

// referrer describes a referrer link: the manifest's own type, artifact
// type and annotations, read from its bytes.
func (img Image) referrer(ctx context.Context, n store.Node) (oci.Descriptor, error) {
	_, m, err := ReadManifest(ctx, img.repo, n.Path, n.Metadata[oci.MetaMediaType])
	if err != nil {
		return oci.Descriptor{}, err
	}
	return oci.Descriptor{MediaType: m.MediaType, Digest: oci.Digest{Algorithm: "sha256", Hex: n.SHA256}, Size: n.Size,
		ArtifactType: m.ArtifactType, Annotations: m.Annotations}, nil
}
