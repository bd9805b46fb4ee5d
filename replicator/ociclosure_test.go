package replicator

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/store"
)

// A PACKAGE run of docker://web selecting two tags lists exactly their
// closures: tag, manifest, an index's children, blobs (not a
// non-distributable layer), referrers with theirs, each once; other tags
// and images stay out, and the tags commit last.
func TestPackageRunListsTagClosures(t *testing.T) {
	ctx := context.Background()
	repo := dockerRepo(t)
	put := func(path string, body []byte, mediaType string) string {
		meta := map[string]string{}
		if mediaType != "" {
			meta[oci.MetaMediaType] = mediaType
		}
		if _, err := repo.Write(ctx, path, bytes.NewReader(body), store.WriteOptions{Size: int64(len(body)), Metadata: meta}); err != nil {
			t.Fatal(err)
		}
		return path
	}
	blob := func(image, content string) (string, oci.Digest) {
		d := oci.FromBytes([]byte(content))
		return put(oci.BlobPath(image, d), []byte(content), ""), d
	}
	desc := func(mediaType string, body []byte) string {
		return fmt.Sprintf(`{"mediaType":%q,"digest":%q,"size":%d}`, mediaType, oci.FromBytes(body), len(body))
	}
	image := func(img string, extra string, layers ...string) ([]byte, []string) {
		var paths, ls []string
		cfgPath, _ := blob(img, "config of "+img+fmt.Sprint(layers))
		paths = append(paths, cfgPath)
		for _, l := range layers {
			p, _ := blob(img, l)
			paths = append(paths, p)
			ls = append(ls, desc("application/vnd.oci.image.layer.v1.tar", []byte(l)))
		}
		if extra != "" {
			ls = append(ls, extra)
		}
		cfg := []byte("config of " + img + fmt.Sprint(layers))
		m := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":%s,"layers":[%s]}`,
			oci.MediaTypeImageManifest, desc("application/vnd.oci.image.config.v1+json", cfg), strings.Join(ls, ",")))
		paths = append(paths, put(oci.ManifestPath(img, oci.FromBytes(m)), m, oci.MediaTypeImageManifest))
		return m, paths
	}
	foreign := `{"mediaType":"application/vnd.oci.image.layer.nondistributable.v1.tar","digest":"sha256:` + fmt.Sprintf("%064x", 1) + `","size":1}`
	one, onePaths := image("web", foreign, "shared layer", "one layer")
	two, twoPaths := image("web", "", "shared layer", "two layer")
	three, _ := image("web", "", "three layer")
	index := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"manifests":[%s,%s]}`,
		oci.MediaTypeImageIndex, desc(oci.MediaTypeImageManifest, one), desc(oci.MediaTypeImageManifest, two)))
	indexPath := put(oci.ManifestPath("web", oci.FromBytes(index)), index, oci.MediaTypeImageIndex)
	// A signature of manifest one: its link, manifest and blob.
	sigBlob, sigBlobD := blob("web", "{}")
	sig := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":%q,"size":2},"layers":[],"subject":%s}`,
		oci.MediaTypeImageManifest, sigBlobD, desc(oci.MediaTypeImageManifest, one)))
	sigPath := put(oci.ManifestPath("web", oci.FromBytes(sig)), sig, oci.MediaTypeImageManifest)
	sigLink := put(oci.ReferrerPath("web", oci.FromBytes(one), oci.FromBytes(sig)), sig, oci.MediaTypeImageManifest)

	tagOne := put(oci.TagPath("web", "one"), one, oci.MediaTypeImageManifest)
	tagMulti := put(oci.TagPath("web", "multi"), index, oci.MediaTypeImageIndex)
	put(oci.TagPath("web", "three"), three, oci.MediaTypeImageManifest) // not selected
	ociOther, _ := image("other", "", "other layer")
	put(oci.TagPath("other", "one"), ociOther, oci.MediaTypeImageManifest)

	sp := fsm.ReplicaSpec{ReplicaObjectType: fsm.ObjectPackage}
	sel := selection{repo: repo, spec: fsm.ReplicaObject{PackageConstraints: []fsm.PackageConstraint{
		{PackageKey: "docker://web", Versions: []string{"one", "multi"}}}}}
	if err := enumerate(ctx, sp, &sel); err != nil {
		t.Fatal(err)
	}
	want := slices.Concat(onePaths, twoPaths, []string{indexPath, sigBlob, sigPath, sigLink, tagOne, tagMulti})
	slices.Sort(want)
	want = slices.Compact(want) // the shared layer
	var got []string
	for _, o := range sel.objects {
		got = append(got, o.Path)
	}
	if sorted := slices.Sorted(slices.Values(got)); !slices.Equal(sorted, want) {
		t.Errorf("listed\n%q\nwant\n%q", sorted, want)
	}
	if n := len(sel.objects); sel.objects[n-1].phase != phaseTag || sel.objects[n-2].phase != phaseTag || sel.objects[n-3].phase == phaseTag {
		t.Errorf("the tags do not commit last: %+v", sel.objects)
	}
	var versions []string
	for _, v := range sel.versions {
		versions = append(versions, v.PackageKey+" "+v.Version+" "+fmt.Sprint(v.Paths))
	}
	if !slices.Equal(versions, []string{"docker://web one [" + tagOne + "]", "docker://web multi [" + tagMulti + "]"}) {
		t.Errorf("versions %q", versions)
	}

	// No versions named: every tag of the image.
	sel = selection{repo: repo, spec: fsm.ReplicaObject{PackageConstraints: []fsm.PackageConstraint{{PackageKey: "docker://web"}}}}
	if err := enumerate(ctx, sp, &sel); err != nil {
		t.Fatal(err)
	}
	if len(sel.versions) != 3 {
		t.Errorf("every tag: %+v", sel.versions)
	}
}
