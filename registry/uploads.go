package registry

import (
	"context"
	"errors"
	"io"

	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/store"
)

// A blob upload whose digest comes at the end is a store.Session bound to
// its name: appended in order (a chunk at another offset is refused with
// the offset to resume from), and made a blob by Finish only once its
// digest matches.

// StartUpload opens an upload session for a blob of name.
func (g *Registry) StartUpload(ctx context.Context, name string) (*store.Session, error) {
	img, err := g.Image(ctx, name, true)
	if err != nil {
		return nil, err
	}
	return g.Store.CreateSession(img.Name)
}

// Upload is an upload session of name.
func (g *Registry) Upload(ctx context.Context, name, id string) (*store.Session, error) {
	if _, err := g.Image(ctx, name, false); err != nil {
		return nil, err
	}
	ss, err := g.Store.OpenSession(id)
	if errors.Is(err, store.ErrNotFound) || err == nil && ss.Owner() != name {
		return nil, refuse(CodeBlobUploadUnknown, "blob upload unknown to registry: %s", id)
	}
	return ss, err
}

// AppendUpload adds a chunk at offset (the session's end unless the client
// said where it starts).
func (g *Registry) AppendUpload(ctx context.Context, ss *store.Session, offset int64, chunk io.Reader) (int64, error) {
	if offset < 0 {
		offset = ss.Offset()
	}
	return ss.Append(ctx, offset, chunk)
}

// FinishUpload appends the last chunk (nil: none) and makes the session the
// blob ref names, once what it received has that digest. A mismatch is
// DIGEST_INVALID and leaves the session as it was.
func (g *Registry) FinishUpload(ctx context.Context, name string, ss *store.Session, ref string, last io.Reader, by string) (oci.Digest, error) {
	d, err := digest(ref)
	if err != nil {
		return d, err
	}
	img, err := g.Image(ctx, name, true)
	if err != nil {
		return d, err
	}
	if last != nil {
		if _, err := ss.Append(ctx, ss.Offset(), last); err != nil {
			return d, err
		}
	}
	if err := ss.Finish(ctx, d.Hex, -1); err != nil {
		return d, blobWriteError(err, d)
	}
	_, err = img.bulk.Link(ctx, oci.BlobPath(img.Path, d), d.Hex, store.WriteOptions{Size: -1, By: by})
	return d, err
}
