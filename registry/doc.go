// Package registry is the OCI registry of an agent's built-in store: the
// rules of the distribution spec over DOCKER repositories, for the /v2/
// dialect (api/oci) and the SWR dialect to translate.
//
// It owns how an OCI name finds its repository (and creates it on the first
// push into an existing project), what a manifest PUT must satisfy before
// it is visible (its blobs and children present, its digest right), which
// nodes a push writes in one commit (manifest, tag, referrer link) and
// which a delete removes (a tag's package version goes with its node: the
// store keeps them in step), and the tag, catalog and referrers listings. The
// node layout and the manifest model are package oci's.
//
// It must not speak HTTP (status codes, headers and bodies are api/oci's),
// replicate (the replicator moves the nodes), or hold state of its own: a
// blob upload in progress is a store.Session.
package registry
