package registry

import (
	"context"
	"errors"
	"fmt"

	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/store"
)

// Store is what a Registry needs of the built-in store: its repositories,
// and upload sessions for blobs whose digest comes at the end.
type Store interface {
	store.Store
	CreateSession(owner string) (*store.Session, error)
	OpenSession(id string) (*store.Session, error)
}

// Registry serves OCI names from a store's DOCKER repositories.
type Registry struct {
	Store Store
}

// Error codes of the distribution spec a Registry refuses with.
const (
	CodeBlobUnknown         = "BLOB_UNKNOWN"
	CodeBlobUploadInvalid   = "BLOB_UPLOAD_INVALID"
	CodeBlobUploadUnknown   = "BLOB_UPLOAD_UNKNOWN"
	CodeDigestInvalid       = "DIGEST_INVALID"
	CodeManifestBlobUnknown = "MANIFEST_BLOB_UNKNOWN"
	CodeManifestInvalid     = "MANIFEST_INVALID"
	CodeManifestUnknown     = "MANIFEST_UNKNOWN"
	CodeNameInvalid         = "NAME_INVALID"
	CodeNameUnknown         = "NAME_UNKNOWN"
	CodeSizeInvalid         = "SIZE_INVALID"
	CodeDenied              = "DENIED"
	CodeUnsupported         = "UNSUPPORTED"
)

// Error is a refusal in the spec's terms: its code, a message, and the
// detail the spec lets a registry add.
type Error struct {
	Code    string
	Message string
	Detail  any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func refuse(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf is the spec's code of err, "" when it is no refusal.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// Image is an OCI name resolved: the image at Path (the repository's root
// image when "") of a DOCKER repository.
type Image struct {
	Name    string
	Project string
	Repo    string
	Path    string
	repo    store.Repository
	bulk    store.Bulk
}

// Image resolves name. With create, a missing repository of an existing
// project is created as DOCKER (a first push, as Harbor and SWR do); a
// missing project is NAME_UNKNOWN.
func (g *Registry) Image(ctx context.Context, name string, create bool) (Image, error) {
	project, repo, path, err := oci.SplitName(name)
	if err != nil || !oci.ValidName(name) {
		return Image{}, refuse(CodeNameInvalid, "invalid repository name %q", name)
	}
	r, err := g.Store.Repository(ctx, project, repo)
	if errors.Is(err, store.ErrNotFound) && create {
		r, err = g.createRepo(ctx, project, repo)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Image{}, refuse(CodeNameUnknown, "repository name not known to registry: %s", name)
	case errors.Is(err, store.ErrInvalid):
		return Image{}, refuse(CodeNameInvalid, "%v", err)
	case err != nil:
		return Image{}, err
	case r.Info().Type != store.TypeDocker:
		return Image{}, refuse(CodeNameUnknown, "%s/%s is a %s repository, not DOCKER", project, repo, r.Info().Type)
	}
	bulk, err := store.BulkOf(r)
	if err != nil {
		return Image{}, err
	}
	return Image{Name: name, Project: project, Repo: repo, Path: path, repo: r, bulk: bulk}, nil
}

func (g *Registry) createRepo(ctx context.Context, project, repo string) (store.Repository, error) {
	if _, err := g.Store.Project(ctx, project); err != nil {
		return nil, err
	}
	_, err := g.Store.CreateRepo(ctx, store.Repo{Project: project, Name: repo, Type: store.TypeDocker, CreatedBy: "registry"})
	if err != nil && !errors.Is(err, store.ErrExists) {
		return nil, err
	}
	return g.Store.Repository(ctx, project, repo)
}

// digest parses a digest reference: DIGEST_INVALID when malformed or of an
// algorithm the store cannot address (its keys are sha256).
func digest(ref string) (oci.Digest, error) {
	d, err := oci.ParseDigest(ref)
	if err != nil {
		return oci.Digest{}, refuse(CodeDigestInvalid, "invalid digest %q", ref)
	}
	if !d.Supported() {
		return oci.Digest{}, refuse(CodeDigestInvalid, "digest algorithm %s is not supported: use sha256", d.Algorithm)
	}
	return d, nil
}
