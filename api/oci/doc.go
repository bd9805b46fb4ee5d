// Package oci is the OCI distribution API (v1.1) of every agent under /v2/:
// it translates the registry's HTTP calls (paths read from the right,
// headers, the spec's error body, the Basic challenge) onto package
// registry, which owns what they do.
//
// It must not decide anything itself: which blobs a manifest needs, where
// a blob lives, when a repository is created are registry's.
package oci
