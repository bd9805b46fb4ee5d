package registry

import (
	"context"
	"io"

	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/store"
)

// ReadManifest reads the manifest a node holds (a manifest, tag or
// referrer node: each holds the manifest's bytes) and parses it as the type
// it was pushed with. The registry's listings and the replicator's
// ordering of image nodes both read manifests so.
func ReadManifest(ctx context.Context, repo store.Nodes, path, mediaType string) ([]byte, oci.Manifest, error) {
	rd, err := repo.Open(ctx, path)
	if err != nil {
		return nil, oci.Manifest{}, err
	}
	defer rd.Close()
	body, err := io.ReadAll(io.LimitReader(rd, oci.MaxManifestSize))
	if err != nil {
		return nil, oci.Manifest{}, err
	}
	m, err := oci.ParseManifest(mediaType, body)
	return body, m, err
}
