package oci

import (
	"errors"
	"strings"
	"testing"
)

var (
	testHex    = strings.Repeat("ab", 32)
	testDigest = "sha256:" + testHex
)

func TestParsePath(t *testing.T) {
	d := testDigest
	cases := []struct {
		path string
		want Route
	}{
		{"/v2/", Route{Kind: KindBase}},
		{"/v2", Route{Kind: KindBase}},
		{"/v2/_catalog", Route{Kind: KindCatalog}},
		{"/v2/ns/app/manifests/latest", Route{KindManifest, "ns/app", "latest"}},
		{"/v2/ns/app/manifests/" + d, Route{KindManifest, "ns/app", d}},
		{"/v2/a/manifests/b/manifests/latest", Route{KindManifest, "a/manifests/b", "latest"}},
		{"/v2/manifests/manifests/manifests", Route{KindManifest, "manifests", "manifests"}},
		{"/v2/a/blobs/" + d, Route{KindBlob, "a", d}},
		{"/v2/blobs/blobs/" + d, Route{KindBlob, "blobs", d}},
		{"/v2/a/blobs/uploads/", Route{KindUpload, "a", ""}},
		{"/v2/a/blobs/uploads", Route{KindUpload, "a", ""}},
		{"/v2/a/blobs/uploads/3f2a-91.x_Y", Route{KindUpload, "a", "3f2a-91.x_Y"}},
		{"/v2/x/blobs/uploads/y/blobs/uploads/", Route{KindUpload, "x/blobs/uploads/y", ""}},
		{"/v2/x/blobs/uploads/blobs/uploads/uploads", Route{KindUpload, "x/blobs/uploads", "uploads"}},
		{"/v2/a/tags/list", Route{KindTags, "a", ""}},
		{"/v2/tags/list/tags/list", Route{KindTags, "tags/list", ""}},
		{"/v2/a/manifests/tags/list", Route{KindTags, "a/manifests", ""}},
		{"/v2/a/tags/manifests/list", Route{KindManifest, "a/tags", "list"}},
		{"/v2/a/referrers/" + d, Route{KindReferrers, "a", d}},
		{"/v2/referrers/referrers/" + d, Route{KindReferrers, "referrers", d}},
		{"/v2/a/b/c/d/e/manifests/v1", Route{KindManifest, "a/b/c/d/e", "v1"}},
	}
	for _, c := range cases {
		got, err := ParsePath(c.path)
		if err != nil || got != c.want {
			t.Errorf("ParsePath(%q) = %+v, %v; want %+v", c.path, got, err, c.want)
			continue
		}
		if back, err := ParsePath(got.Path()); err != nil || back != got {
			t.Errorf("ParsePath(%q).Path() = %q parses to %+v, %v", c.path, got.Path(), back, err)
		}
	}
}

func TestParsePathErrors(t *testing.T) {
	d := testDigest
	cases := []struct {
		path string
		err  error
		kind Kind
	}{
		{"", ErrNotRoute, 0},
		{"/", ErrNotRoute, 0},
		{"/v1/", ErrNotRoute, 0},
		{"/v2x/a/tags/list", ErrNotRoute, 0},
		{"v2/a/tags/list", ErrNotRoute, 0},
		{"/v2/a", ErrNotRoute, 0},
		{"/v2/_catalog/", ErrNotRoute, 0},
		{"/v2/a/manifests/latest/", ErrNotRoute, 0},
		{"/v2/a/tags/list/", ErrNotRoute, 0},
		{"/v2/a/blobs/" + d + "/", ErrNotRoute, 0},
		{"/v2/a/manifests//latest", ErrNotRoute, 0},
		{"/v2/a/blobs/uploads/x/", ErrNotRoute, 0},
		{"/v2/../../etc/passwd", ErrNotRoute, 0},
		{"/v2//a/manifests/latest", ErrNameInvalid, KindManifest},
		{"/v2/a//b/manifests/latest", ErrNameInvalid, KindManifest},
		{"/v2/a/../b/manifests/latest", ErrNameInvalid, KindManifest},
		{"/v2/../manifests/latest", ErrNameInvalid, KindManifest},
		{"/v2/./a/tags/list", ErrNameInvalid, KindTags},
		{"/v2/manifests/latest", ErrNameInvalid, KindManifest},
		{"/v2/tags/list", ErrNameInvalid, KindTags},
		{"/v2/A/tags/list", ErrNameInvalid, KindTags},
		{"/v2/a%2Fb/tags/list", ErrNameInvalid, KindTags},
		{"/v2/a%252Fb/tags/list", ErrNameInvalid, KindTags},
		{"/v2/_catalog/tags/list", ErrNameInvalid, KindTags},
		{"/v2/" + strings.Repeat("a", 256) + "/tags/list", ErrNameInvalid, KindTags},
		{"/v2/a/manifests/sha256:short", ErrReferenceInvalid, KindManifest},
		{"/v2/a/manifests/.bad", ErrReferenceInvalid, KindManifest},
		{"/v2/a/manifests/lat%65st", ErrReferenceInvalid, KindManifest},
		{"/v2/a/blobs/latest", ErrReferenceInvalid, KindBlob},
		{"/v2/a/blobs/sha256%3A" + testHex, ErrReferenceInvalid, KindBlob},
		{"/v2/a/blobs/" + strings.ToUpper(d), ErrReferenceInvalid, KindBlob},
		{"/v2/a/referrers/latest", ErrReferenceInvalid, KindReferrers},
		{"/v2/a/blobs/uploads/..", ErrReferenceInvalid, KindUpload},
		{"/v2/a/blobs/uploads/" + strings.Repeat("x", 129), ErrReferenceInvalid, KindUpload},
	}
	for _, c := range cases {
		got, err := ParsePath(c.path)
		if !errors.Is(err, c.err) || got.Kind != c.kind {
			t.Errorf("ParsePath(%q) = %+v, %v; want kind %v and %v", c.path, got, err, c.kind, c.err)
		}
	}
}

func TestRouteDigest(t *testing.T) {
	r, _ := ParsePath("/v2/a/manifests/" + testDigest)
	if d, ok := r.Digest(); !ok || d.String() != testDigest {
		t.Errorf("Digest of %+v = %v %v", r, d, ok)
	}
	r, _ = ParsePath("/v2/a/manifests/latest")
	if _, ok := r.Digest(); ok {
		t.Errorf("a tag reference gave a digest")
	}
}

func TestKindString(t *testing.T) {
	if KindUpload.String() != "upload" || Kind(0).String() != "kind(0)" || Kind(99).String() != "kind(99)" {
		t.Error("Kind.String")
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"/v2/", "/v2/_catalog", "/v2/a/manifests/b/manifests/latest",
		"/v2/x/blobs/uploads/y/blobs/uploads/", "/v2/a/blobs/" + testDigest,
		"/v2/a/referrers/" + testDigest, "/v2/a/tags/list", "/v2/a/blobs/uploads/id-1",
		"/v2//a/tags/list", "/v2/a/../b/manifests/x", "/v2/a%2Fb/tags/list",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		r, err := ParsePath(p)
		if err != nil {
			return
		}
		named := r.Kind != KindBase && r.Kind != KindCatalog
		if named != ValidName(r.Name) {
			t.Fatalf("ParsePath(%q) = %+v: name validity %v", p, r, !named)
		}
		back, err := ParsePath(r.Path())
		if err != nil || back != r {
			t.Fatalf("ParsePath(%q) = %+v renders %q, which parses to %+v, %v", p, r, r.Path(), back, err)
		}
	})
}
