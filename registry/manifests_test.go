package registry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/store"
)

func newRegistry(t *testing.T) (*Registry, *store.Local) {
	t.Helper()
	s, err := store.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.CreateProject(context.Background(), store.Project{Name: "team"}); err != nil {
		t.Fatal(err)
	}
	return &Registry{Store: s}, s
}

// pushImage pushes a one-layer image under ref and answers its manifest.
func pushImage(t *testing.T, g *Registry, name, ref, layer string) []byte {
	t.Helper()
	ctx := context.Background()
	for _, b := range []string{"{}", layer} {
		if _, err := g.PutBlob(ctx, name, oci.FromBytes([]byte(b)).String(), bytes.NewReader([]byte(b)), int64(len(b)), "t"); err != nil {
			t.Fatal(err)
		}
	}
	m := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}]}`,
		oci.MediaTypeImageManifest, oci.FromBytes([]byte("{}")), oci.FromBytes([]byte(layer)), len(layer)))
	if _, err := g.PutManifest(ctx, name, ref, oci.MediaTypeImageManifest, m, "t"); err != nil {
		t.Fatal(err)
	}
	return m
}

// Every tag is a version of the image's docker:// package holding the tag
// node alone; deleting the tag, or its manifest, deletes the version.
func TestTagsArePackageVersions(t *testing.T) {
	ctx := context.Background()
	g, s := newRegistry(t)
	root := pushImage(t, g, "team/app", "v1", "root layer")
	pushImage(t, g, "team/app/web", "v1", "web layer")
	web2 := pushImage(t, g, "team/app/web", "v2", "web layer 2")
	pushImage(t, g, "team/app/web", "v3", "web layer 2") // the same manifest as v2
	pushImage(t, g, "team/app/web", "v1", "web layer 2") // v1 moves to it
	repo, err := s.Repository(ctx, "team", "app")
	if err != nil {
		t.Fatal(err)
	}
	version := func(key, tag string) (store.PackageVersion, error) { return repo.Version(ctx, key, tag) }
	for _, c := range []struct{ key, tag, path string }{
		{"docker://app", "v1", oci.TagPath("", "v1")}, // the root image takes the repository's name
		{"docker://web", "v1", oci.TagPath("web", "v1")},
		{"docker://web", "v2", oci.TagPath("web", "v2")},
		{"docker://web", "v3", oci.TagPath("web", "v3")},
	} {
		v, err := version(c.key, c.tag)
		if err != nil || !slices.Equal(v.Paths, []string{c.path}) {
			t.Errorf("%s %s: %+v %v", c.key, c.tag, v, err)
		}
	}
	if _, err := g.PutManifest(ctx, "team/app", oci.FromBytes(root).String(), oci.MediaTypeImageManifest, root, "t"); err != nil {
		t.Fatal(err)
	}
	if p, err := repo.Versions(ctx, "docker://app", store.PageRequest{Number: 1, Size: 10}); err != nil || len(p.Records) != 1 {
		t.Errorf("a push by digest is no version: %+v %v", p.Records, err)
	}

	if err := g.DeleteManifest(ctx, "team/app/web", "v1", "t"); err != nil {
		t.Fatal(err)
	}
	if _, err := version("docker://web", "v1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleted tag v1: version %v", err)
	}
	if err := g.DeleteManifest(ctx, "team/app/web", oci.FromBytes(web2).String(), "t"); err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"v2", "v3"} {
		if _, err := version("docker://web", tag); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("manifest of %s deleted: version %v", tag, err)
		}
	}
	if _, err := version("docker://app", "v1"); err != nil {
		t.Errorf("another image's version went too: %v", err)
	}
}

// The listing behind SWR's repositories and tags: images with their tags
// and sizes, tags with their manifests.
func TestImagesAndTagDetails(t *testing.T) {
	ctx := context.Background()
	g, _ := newRegistry(t)
	m := pushImage(t, g, "team/app", "v1", "root layer")
	pushImage(t, g, "team/app/web", "v2", "web layer")
	pushImage(t, g, "team/app/web", "v1", "web layer")
	images, err := g.Images(ctx, "team")
	if err != nil || len(images) != 2 {
		t.Fatalf("images %+v %v", images, err)
	}
	root, web := images[0], images[1]
	if root.Name != "team/app" || root.Path != "" || !slices.Equal(root.Tags, []string{"v1"}) ||
		root.Size != int64(len(m)+len("{}")+len("root layer")) || root.Updated.IsZero() {
		t.Errorf("root image %+v", root)
	}
	if web.Name != "team/app/web" || !slices.Equal(web.Tags, []string{"v1", "v2"}) {
		t.Errorf("web image %+v", web)
	}
	tags, err := g.TagDetails(ctx, "team/app")
	if err != nil || len(tags) != 1 {
		t.Fatalf("tags %+v %v", tags, err)
	}
	if tg := tags[0]; tg.Tag != "v1" || tg.Digest != oci.FromBytes(m) || !bytes.Equal(tg.Manifest, m) || tg.Index ||
		tg.Config != oci.FromBytes([]byte("{}")) || tg.Size != int64(len(m)+2+len("root layer")) {
		t.Errorf("tag %+v", tg)
	}
	if _, err := g.TagDetails(ctx, "team/nope"); CodeOf(err) != CodeNameUnknown {
		t.Errorf("a missing image: %v", err)
	}
}
