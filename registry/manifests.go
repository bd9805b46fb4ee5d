package registry

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/store"
)

// A manifest is a node at oci.ManifestPath holding its exact bytes, a tag a
// node at oci.TagPath holding the same bytes (one content), and a manifest
// with a subject also a node under the subject's referrers: all three are
// written in one commit, and only once everything the manifest names is
// there, so no reader sees a tag whose blobs or children are missing. The
// store records a tag node as version <tag> of oci.PackageKey in the same
// transaction (store.PackageOfNode), and drops it with the node: a tag and
// its version are never seen apart, and a delete needs no step of its own.

// Pushed is what a manifest PUT stored.
type Pushed struct {
	Digest  oci.Digest
	Subject *oci.Digest
}

// Manifest is a stored manifest as a GET serves it.
type Manifest struct {
	Digest    oci.Digest
	MediaType string
	Size      int64
}

// PutManifest stores a manifest under ref (a tag or its digest).
func (g *Registry) PutManifest(ctx context.Context, name, ref, contentType string, body []byte, by string) (Pushed, error) {
	img, err := g.Image(ctx, name, true)
	if err != nil {
		return Pushed{}, err
	}
	m, err := oci.ParseManifest(contentType, body)
	if err != nil {
		return Pushed{}, refuse(CodeManifestInvalid, "manifest invalid: %v", err)
	}
	sum := sha256.Sum256(body)
	d := oci.Digest{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
	tag, err := manifestRef(ref, d)
	if err != nil {
		return Pushed{}, err
	}
	if err := img.checkReferences(ctx, m); err != nil {
		return Pushed{}, err
	}
	out := Pushed{Digest: d}
	files := []store.BatchFile{img.manifestFile(oci.ManifestPath(img.Path, d), body, d, m, by)}
	if tag != "" {
		files = append(files, img.manifestFile(oci.TagPath(img.Path, tag), body, d, m, by))
	}
	if m.Subject != nil {
		out.Subject = &m.Subject.Digest
		files = append(files, img.manifestFile(oci.ReferrerPath(img.Path, m.Subject.Digest, d), body, d, m, by))
	}
	return out, img.writeAll(ctx, files)
}

// manifestRef is the tag a PUT names ("" for a digest, which must be the
// body's).
func manifestRef(ref string, d oci.Digest) (string, error) {
	if !strings.Contains(ref, ":") {
		if !oci.ValidTag(ref) {
			return "", refuse(CodeManifestInvalid, "invalid tag %q", ref)
		}
		return ref, nil
	}
	want, err := digest(ref)
	if err != nil {
		return "", err
	}
	if want != d {
		return "", refuse(CodeDigestInvalid, "manifest digest %s does not match the reference %s", d, want)
	}
	return "", nil
}

// checkReferences refuses a manifest whose blobs (non-distributable ones
// aside) or child manifests the image does not hold.
func (img Image) checkReferences(ctx context.Context, m oci.Manifest) error {
	for _, b := range m.Blobs() {
		if _, err := img.statBlob(ctx, b.Digest); err != nil {
			return blobUnknownIn(err, b.Digest)
		}
	}
	for _, c := range m.Manifests {
		if n, err := img.repo.Stat(ctx, oci.ManifestPath(img.Path, c.Digest)); err != nil || n.Folder {
			return blobUnknownIn(refuse(CodeBlobUnknown, "manifest %s", c.Digest), c.Digest)
		}
	}
	return nil
}

func blobUnknownIn(err error, d oci.Digest) error {
	if CodeOf(err) != CodeBlobUnknown {
		return err
	}
	return &Error{Code: CodeManifestBlobUnknown, Message: "blob unknown to registry: " + d.String(), Detail: map[string]string{"digest": d.String()}}
}

func (img Image) manifestFile(path string, body []byte, d oci.Digest, m oci.Manifest, by string) store.BatchFile {
	meta := map[string]string{oci.MetaMediaType: m.MediaType}
	if m.ArtifactType != "" {
		meta[oci.MetaArtifactType] = m.ArtifactType
	}
	if m.Subject != nil {
		meta[oci.MetaSubject] = m.Subject.Digest.String()
	}
	return store.BatchFile{Path: path, Content: body, Opt: store.WriteOptions{SHA256: d.Hex, Size: int64(len(body)), Metadata: meta, By: by}}
}

func (img Image) writeAll(ctx context.Context, files []store.BatchFile) error {
	results, err := img.bulk.WriteBatch(ctx, files)
	if err != nil {
		return err
	}
	var errs []error
	for _, r := range results {
		errs = append(errs, r.Err)
	}
	return errors.Join(errs...)
}

// GetManifest opens the manifest ref names (a tag or a digest).
func (g *Registry) GetManifest(ctx context.Context, name, ref string) (store.Reader, Manifest, error) {
	img, err := g.Image(ctx, name, false)
	if err != nil {
		return nil, Manifest{}, err
	}
	path, err := img.manifestPath(ref)
	if err != nil {
		return nil, Manifest{}, err
	}
	rd, err := img.repo.Open(ctx, path)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Manifest{}, refuse(CodeManifestUnknown, "manifest unknown to registry: %s", ref)
	}
	if err != nil {
		return nil, Manifest{}, err
	}
	n := rd.Node()
	return rd, Manifest{Digest: oci.Digest{Algorithm: "sha256", Hex: n.SHA256}, MediaType: mediaTypeOf(n, rd), Size: n.Size}, nil
}

func (img Image) manifestPath(ref string) (string, error) {
	if !strings.Contains(ref, ":") {
		if !oci.ValidTag(ref) {
			return "", refuse(CodeManifestInvalid, "invalid tag %q", ref)
		}
		return oci.TagPath(img.Path, ref), nil
	}
	d, err := digest(ref)
	if err != nil {
		return "", err
	}
	return oci.ManifestPath(img.Path, d), nil
}

// mediaTypeOf is the type a manifest was pushed with; a node that lost its
// metadata (written by an older agent) shows the type its bytes declare.
func mediaTypeOf(n store.Node, rd store.Reader) string {
	if t := n.Metadata[oci.MetaMediaType]; t != "" {
		return t
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(rd); err == nil {
		_, _ = rd.Seek(0, 0)
		if m, err := oci.ParseManifest("", buf.Bytes()); err == nil {
			return m.MediaType
		}
	}
	return oci.MediaTypeImageManifest
}

// DeleteManifest deletes a tag, or a manifest by digest with every tag of
// it and its referrer link.
func (g *Registry) DeleteManifest(ctx context.Context, name, ref, by string) error {
	img, err := g.Image(ctx, name, false)
	if err != nil {
		return err
	}
	path, err := img.manifestPath(ref)
	if err != nil {
		return err
	}
	n, err := img.repo.Stat(ctx, path)
	if errors.Is(err, store.ErrNotFound) || err == nil && n.Folder {
		return refuse(CodeManifestUnknown, "manifest unknown to registry: %s", ref)
	}
	if err != nil {
		return err
	}
	if !strings.Contains(ref, ":") {
		return img.repo.Delete(ctx, path, by)
	}
	if err := img.deleteTagsOf(ctx, n.SHA256, by); err != nil {
		return err
	}
	if s, err := oci.ParseDigest(n.Metadata[oci.MetaSubject]); err == nil {
		d, _ := oci.ParseDigest(ref)
		if err := img.repo.Delete(ctx, oci.ReferrerPath(img.Path, s, d), by); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return img.repo.Delete(ctx, path, by)
}

// deleteTagsOf deletes the image's tags that point at the manifest sum.
func (img Image) deleteTagsOf(ctx context.Context, sum, by string) error {
	var paths []string
	err := img.walk(ctx, oci.TagsDir(img.Path), func(n store.Node) error {
		if n.SHA256 == sum {
			paths = append(paths, n.Path)
		}
		return nil
	})
	for _, p := range paths {
		if err == nil {
			err = img.repo.Delete(ctx, p, by)
		}
	}
	return err
}

// walk walks dir, a folder that may not exist yet.
func (img Image) walk(ctx context.Context, dir string, fn func(store.Node) error) error {
	err := img.repo.Walk(ctx, dir, fn)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}
