package registry

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/store"
)

// ImageSummary is one image of a DOCKER repository as a listing shows it:
// what a registry console (SWR's repository list) needs in one pass over
// the repository, without reading a manifest.
type ImageSummary struct {
	Name    string // the OCI name, project/repository[/path]
	Project string
	Repo    string
	Path    string // "" for the repository's root image
	Tags    []string
	// Size counts the image's blobs and manifests once each (tags and
	// referrer links are the same content again).
	Size    int64
	Created time.Time
	Updated time.Time
}

// Images summarises every image (a path holding a manifest) of the DOCKER
// repositories of project, by name.
func (g *Registry) Images(ctx context.Context, project string) ([]ImageSummary, error) {
	repos, err := g.Store.Repos(ctx, project)
	if err != nil {
		return nil, err
	}
	var out []ImageSummary
	for _, r := range repos {
		if r.Type != store.TypeDocker {
			continue
		}
		images, err := g.summaries(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, images...)
	}
	slices.SortFunc(out, func(a, b ImageSummary) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// summaries are the images of one repository, in one walk of its nodes.
func (g *Registry) summaries(ctx context.Context, r store.Repo) ([]ImageSummary, error) {
	repo, err := g.Store.Repository(ctx, r.Project, r.Name)
	if err != nil {
		return nil, err
	}
	byPath := map[string]*ImageSummary{}
	manifests := map[string]bool{}
	err = repo.Walk(ctx, "/", func(n store.Node) error {
		ref, ok := oci.ParseNodePath(n.Path)
		if !ok {
			return nil
		}
		s := byPath[ref.Image]
		if s == nil {
			s = &ImageSummary{Name: strings.TrimSuffix(r.Project+"/"+r.Name+"/"+ref.Image, "/"), Project: r.Project, Repo: r.Name, Path: ref.Image}
			byPath[ref.Image] = s
		}
		s.add(n, ref)
		manifests[ref.Image] = manifests[ref.Image] || ref.Kind == oci.NodeManifest
		return nil
	})
	var out []ImageSummary
	for path, s := range byPath {
		if manifests[path] {
			slices.Sort(s.Tags)
			out = append(out, *s)
		}
	}
	return out, err
}

func (s *ImageSummary) add(n store.Node, ref oci.NodeRef) {
	switch ref.Kind {
	case oci.NodeTag:
		s.Tags = append(s.Tags, ref.Tag)
	case oci.NodeBlob, oci.NodeManifest:
		s.Size += n.Size
	}
	if s.Created.IsZero() || n.CreatedAt.Before(s.Created) {
		s.Created = n.CreatedAt
	}
	s.Updated = later(s.Updated, n.CreatedAt, n.ModifiedAt)
}

func later(ts ...time.Time) time.Time {
	var out time.Time
	for _, t := range ts {
		if t.After(out) {
			out = t
		}
	}
	return out
}

// TagDetail is one tag of an image with what its manifest says.
type TagDetail struct {
	Tag       string
	Digest    oci.Digest
	MediaType string
	Manifest  []byte
	// Config is an image manifest's config digest (zero for an index).
	Config oci.Digest
	Index  bool
	// Size is the manifest's and, as its descriptors say, its blobs' or
	// children's bytes: the image's size, not the tag node's.
	Size    int64
	Created time.Time
	Updated time.Time
}

// TagDetails lists an image's tags in lexical order, each with its manifest.
func (g *Registry) TagDetails(ctx context.Context, name string) ([]TagDetail, error) {
	img, err := g.Image(ctx, name, false)
	if err != nil {
		return nil, err
	}
	out := []TagDetail{}
	err = img.walk(ctx, oci.TagsDir(img.Path), func(n store.Node) error {
		t, err := img.tagDetail(ctx, n)
		if err == nil {
			out = append(out, t)
		}
		return err
	})
	return out, err
}

func (img Image) tagDetail(ctx context.Context, n store.Node) (TagDetail, error) {
	body, m, err := ReadManifest(ctx, img.repo, n.Path, n.Metadata[oci.MetaMediaType])
	if err != nil {
		return TagDetail{}, err
	}
	t := TagDetail{Tag: n.Name, Digest: oci.Digest{Algorithm: oci.SHA256, Hex: n.SHA256}, MediaType: m.MediaType, Manifest: body,
		Index: m.IsIndex(), Size: int64(len(body)), Created: n.CreatedAt, Updated: later(n.CreatedAt, n.ModifiedAt)}
	if m.Config != nil {
		t.Config = m.Config.Digest
	}
	for _, d := range append(m.Blobs(), m.Manifests...) {
		t.Size += d.Size
	}
	return t, nil
}
