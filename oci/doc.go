// Package oci is the pure model of OCI / Docker images that Ferry's registry
// dialect (api/oci) and its replicator share, so that both read names, paths
// and manifests the same way.
//
// It owns:
//   - OCI names: the repository-name, tag and digest grammars of the
//     distribution spec, and the split of a name into Ferry's
//     <project>/<repository>[/<image>] (names.go);
//   - /v2 request paths: which operation a path names, parsed from the right
//     because "manifests", "blobs" and "tags" are legal name components
//     (path.go);
//   - manifests and their references: media types, validation of a pushed
//     manifest, the blobs it needs and the descriptors it points at
//     (manifest.go);
//   - the node layout of an image inside a DOCKER repository of the store:
//     where blobs, manifests, tags and referrer links live, and the reverse
//     mapping from a node path to what it holds (layout.go).
//
// It must not do I/O, speak HTTP or touch storage: no file, network, store
// or handler imports. Everything here is a function of its arguments, which
// is what lets the dialect, the replicator and the fuzz tests agree on it.
// Ferry's own project and repository name rules (store/names.go) are the
// caller's to apply on top of SplitName; this package knows only the OCI
// grammar.
package oci
