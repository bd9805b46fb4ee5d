package replicator

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/store"
)

// An image's nodes commit blobs first, then manifests children first
// (image manifests, indexes of them, an index of indexes), referrer links,
// and tags last; other paths of the repository are content.
func TestOCIPhasesOrderAnImage(t *testing.T) {
	ctx := context.Background()
	repo := dockerRepo(t)
	put := func(path string, body []byte, mediaType string) object {
		n, err := repo.Write(ctx, path, bytes.NewReader(body), store.WriteOptions{Size: int64(len(body)), Metadata: map[string]string{oci.MetaMediaType: mediaType}})
		if err != nil {
			t.Fatal(err)
		}
		return object{Path: n.Path, SHA256: n.SHA256, Size: n.Size, Metadata: n.Metadata}
	}
	layer := []byte("layer")
	image := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":5},"layers":[]}`,
		oci.MediaTypeImageManifest, oci.FromBytes(layer)))
	index := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[{"mediaType":%q,"digest":%q,"size":%d}]}`,
		oci.MediaTypeImageIndex, oci.MediaTypeImageManifest, oci.FromBytes(image), len(image)))
	top := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[{"mediaType":%q,"digest":%q,"size":%d}]}`,
		oci.MediaTypeImageIndex, oci.MediaTypeImageIndex, oci.FromBytes(index), len(index)))
	objs := []object{ // in path order, as a listing gives them
		put("/README", []byte("docs"), ""),
		put(oci.BlobPath("web", oci.FromBytes(layer)), layer, ""),
		put(oci.ManifestPath("web", oci.FromBytes(top)), top, oci.MediaTypeImageIndex),
		put(oci.ManifestPath("web", oci.FromBytes(image)), image, oci.MediaTypeImageManifest),
		put(oci.ManifestPath("web", oci.FromBytes(index)), index, oci.MediaTypeImageIndex),
		put(oci.ReferrerPath("web", oci.FromBytes(image), oci.FromBytes(index)), index, oci.MediaTypeImageIndex),
		put(oci.TagPath("web", "latest"), top, oci.MediaTypeImageIndex),
	}
	if err := ociPhases(ctx, repo, objs); err != nil {
		t.Fatal(err)
	}
	want := []phase{phaseContent, phaseContent, phaseManifest + 2, phaseManifest, phaseManifest + 1, phaseReferrer, phaseTag}
	var got []phase
	for _, o := range objs {
		got = append(got, o.phase)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("phases %v, want %v", got, want)
	}
	inCommitOrder(objs)
	var order []string
	for _, o := range objs {
		order = append(order, o.Path)
	}
	if order[3] != oci.ManifestPath("web", oci.FromBytes(index)) || order[4] != oci.ManifestPath("web", oci.FromBytes(top)) || order[6] != oci.TagPath("web", "latest") {
		t.Fatalf("commit order %v", order)
	}
}

// dockerRepo is the DOCKER repository team/app of a store of its own.
func dockerRepo(t *testing.T) store.Repository {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.CreateProject(ctx, store.Project{Name: "team"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateRepo(ctx, store.Repo{Project: "team", Name: "app", Type: store.TypeDocker}); err != nil {
		t.Fatal(err)
	}
	repo, err := s.Repository(ctx, "team", "app")
	if err != nil {
		t.Fatal(err)
	}
	return repo
}
