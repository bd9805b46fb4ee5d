package oci

import (
	"strings"
	"testing"
)

func TestLayoutPaths(t *testing.T) {
	d := FromBytes([]byte("layer"))
	s := FromBytes([]byte("subject"))
	h, sh := d.Hex, s.Hex
	cases := []struct{ got, want string }{
		{BlobPath("", d), "/_blobs/sha256/" + h},
		{BlobPath("web/api", d), "/web/api/_blobs/sha256/" + h},
		{ManifestPath("web", d), "/web/_manifests/sha256/" + h},
		{ManifestPath("", d), "/_manifests/sha256/" + h},
		{TagPath("web", "v1.0"), "/web/_tags/v1.0"},
		{TagPath("", "latest"), "/_tags/latest"},
		{ReferrerPath("a/b/c", s, d), "/a/b/c/_referrers/sha256/" + sh + "/sha256/" + h},
		{ReferrerPath("", s, d), "/_referrers/sha256/" + sh + "/sha256/" + h},
		{TagsDir(""), "/_tags"},
		{TagsDir("web"), "/web/_tags"},
		{ManifestsDir("web"), "/web/_manifests"},
		{BlobsDir(""), "/_blobs"},
		{ReferrersDir("web", s), "/web/_referrers/sha256/" + sh},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	// Every node sits under the folder that selects its phase.
	for _, p := range []struct{ node, dir string }{
		{BlobPath("x/y", d), BlobsDir("x/y")},
		{ManifestPath("x/y", d), ManifestsDir("x/y")},
		{TagPath("x/y", "t"), TagsDir("x/y")},
		{ReferrerPath("x/y", s, d), ReferrersDir("x/y", s)},
	} {
		if !strings.HasPrefix(p.node, p.dir+"/") {
			t.Errorf("%q is not under %q", p.node, p.dir)
		}
	}
}

func TestParseNodePathRoundTrip(t *testing.T) {
	d := FromBytes([]byte("m"))
	s := FromBytes([]byte("s"))
	for _, image := range []string{"", "web", "web/api", "a/b/c/d", "manifests/tags", "blobs.v2/tags"} {
		for _, want := range []NodeRef{
			{Kind: NodeBlob, Image: image, Digest: d},
			{Kind: NodeManifest, Image: image, Digest: d},
			{Kind: NodeTag, Image: image, Tag: "latest"},
			{Kind: NodeTag, Image: image, Tag: "_leading_underscore"},
			{Kind: NodeReferrer, Image: image, Digest: d, Subject: s},
		} {
			p := want.Path()
			got, ok := ParseNodePath(p)
			if !ok || got != want {
				t.Errorf("ParseNodePath(%q) = %+v %v, want %+v", p, got, ok, want)
			}
		}
	}
}

func TestParseNodePathRefused(t *testing.T) {
	h := FromBytes([]byte("x")).Hex
	for _, p := range []string{
		"", "/", "_blobs/sha256/" + h, "/web", "/web/file.txt",
		"/_blobs", "/_blobs/sha256", "/web/_manifests/sha256",
		"/_tags", "/_tags/", "/_tags/.x", "/_tags/a/b",
		"/_blobs/sha256/" + h + "/x", "/_blobs/md5/" + h, "/_blobs/sha256/" + strings.ToUpper(h),
		"/_referrers/sha256/" + h, "/_referrers/sha256/" + h + "/sha256",
		"/_referrers/sha256/" + h + "/sha256/nothex",
		"//_tags/latest", "/Web/_tags/latest", "/a//b/_tags/latest", "/../_tags/latest",
		"/_uploads/abc", "/_blobs/sha256/" + h + "/",
	} {
		if got, ok := ParseNodePath(p); ok {
			t.Errorf("ParseNodePath(%q) = %+v, want refused", p, got)
		}
	}
}

func TestReferences(t *testing.T) {
	img := Manifest{MediaType: MediaTypeImageManifest, Config: &Descriptor{MediaType: MediaTypeEmptyJSON},
		Layers:  []Descriptor{{MediaType: "application/vnd.oci.image.layer.nondistributable.v1.tar"}, {MediaType: "x"}},
		Subject: &Descriptor{MediaType: MediaTypeImageManifest}}
	if refs := References(img); len(refs) != 2 || refs[0].MediaType != MediaTypeEmptyJSON || refs[1].MediaType != "x" {
		t.Errorf("image references: %+v", refs)
	}
	idx := Manifest{MediaType: MediaTypeDockerManifestList, Manifests: []Descriptor{{MediaType: MediaTypeDockerManifest}}}
	if refs := References(idx); len(refs) != 1 {
		t.Errorf("index references: %+v", refs)
	}
}

func FuzzParseNodePath(f *testing.F) {
	d, s := FromBytes([]byte("m")), FromBytes([]byte("s"))
	for _, p := range []string{BlobPath("", d), ManifestPath("a/b", d), TagPath("x", "_t"),
		ReferrerPath("r", s, d), "//_tags/x", "/a/_blobs/sha256/zz"} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, p string) {
		ref, ok := ParseNodePath(p)
		if ok && ref.Path() != p {
			t.Fatalf("ParseNodePath(%q) = %+v renders %q", p, ref, ref.Path())
		}
	})
}
