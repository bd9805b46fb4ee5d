package registry

import (
	"context"
	"errors"
	"io"

	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/store"
)

// Blobs (configs and layers) are nodes at oci.BlobPath of their image: a
// layer pushed to two images is two nodes of one content.

// StatBlob is the node of an image's blob.
func (g *Registry) StatBlob(ctx context.Context, name, ref string) (store.Node, error) {
	img, d, err := g.blobRef(ctx, name, ref)
	if err != nil {
		return store.Node{}, err
	}
	return img.statBlob(ctx, d)
}

// OpenBlob reads an image's blob.
func (g *Registry) OpenBlob(ctx context.Context, name, ref string) (store.Reader, error) {
	img, d, err := g.blobRef(ctx, name, ref)
	if err != nil {
		return nil, err
	}
	rd, err := img.repo.Open(ctx, oci.BlobPath(img.Path, d))
	if errors.Is(err, store.ErrNotFound) {
		return nil, refuse(CodeBlobUnknown, "blob unknown to registry: %s", d)
	}
	return rd, err
}

// DeleteBlob removes an image's blob (its content goes with its last node).
func (g *Registry) DeleteBlob(ctx context.Context, name, ref, by string) error {
	img, d, err := g.blobRef(ctx, name, ref)
	if err != nil {
		return err
	}
	err = img.repo.Delete(ctx, oci.BlobPath(img.Path, d), by)
	if errors.Is(err, store.ErrNotFound) {
		return refuse(CodeBlobUnknown, "blob unknown to registry: %s", d)
	}
	return err
}

// PutBlob stores a blob sent whole (a monolithic upload), verified against
// its digest before it is visible.
func (g *Registry) PutBlob(ctx context.Context, name, ref string, content io.Reader, size int64, by string) (oci.Digest, error) {
	d, err := digest(ref)
	if err != nil {
		return oci.Digest{}, err
	}
	img, err := g.Image(ctx, name, true)
	if err != nil {
		return oci.Digest{}, err
	}
	_, err = img.repo.Write(ctx, oci.BlobPath(img.Path, d), content, store.WriteOptions{SHA256: d.Hex, Size: size, By: by})
	return d, blobWriteError(err, d)
}

// Mount makes the blob of another image (from; any content the store holds
// when from is "") a blob of name, without a byte sent. ok is false when
// there is nothing to mount: the client uploads instead.
func (g *Registry) Mount(ctx context.Context, name, ref, from, by string) (d oci.Digest, ok bool, err error) {
	if d, err = digest(ref); err != nil {
		return d, false, err
	}
	if from != "" {
		if _, err := g.StatBlob(ctx, from, ref); err != nil {
			return d, false, nil // not there, or not readable as a name: upload
		}
	}
	img, err := g.Image(ctx, name, true)
	if err != nil {
		return d, false, err
	}
	_, err = img.bulk.Link(ctx, oci.BlobPath(img.Path, d), d.Hex, store.WriteOptions{Size: -1, By: by})
	if errors.Is(err, store.ErrNotFound) {
		return d, false, nil
	}
	return d, err == nil, err
}

func (g *Registry) blobRef(ctx context.Context, name, ref string) (Image, oci.Digest, error) {
	d, err := digest(ref)
	if err != nil {
		return Image{}, d, err
	}
	img, err := g.Image(ctx, name, false)
	return img, d, err
}

func (img Image) statBlob(ctx context.Context, d oci.Digest) (store.Node, error) {
	n, err := img.repo.Stat(ctx, oci.BlobPath(img.Path, d))
	if errors.Is(err, store.ErrNotFound) || err == nil && n.Folder {
		return store.Node{}, refuse(CodeBlobUnknown, "blob unknown to registry: %s", d)
	}
	return n, err
}

// blobWriteError words a failed blob write: content that is not what its
// digest says is DIGEST_INVALID, nothing stored.
func blobWriteError(err error, d oci.Digest) error {
	if errors.Is(err, store.ErrChecksum) {
		return refuse(CodeDigestInvalid, "provided digest %s did not match uploaded content", d)
	}
	return err
}
