// Package store owns this cluster's artifacts: projects, repositories of a
// type (GENERIC, MAVEN, NPM, ...), nodes (files at paths with size, sha256,
// md5, times, authors and metadata), packages (a packageKey such as
// gav://com.alibaba:fastjson with versions, each a set of node paths plus
// metadata), and an ordered per-repository change log.
//
// Store holds projects and repositories. A Repository is three facets any
// driver implements, Nodes (files by path), Packages (versions) and
// ChangeLog (Head, Changes), so that a registry driver (OCI distribution)
// implements the core without faking what only the built-in store does
// well; that is the Bulk capability (StatMany, ReadSmall, WriteBatch, Link),
// which replication asserts where it uses it (BulkOf).
//
// The built-in driver (Open) keeps content-addressed blobs on disk by sha256
// and metadata in bbolt. Writes stream to a temporary file while hashing, are
// verified against the expected sha256 and size, fsynced and renamed into
// place, then committed with the change-log entry in one bbolt transaction:
// a crash leaves the old or the new artifact, never half of one. Identical
// content is stored once and reference counted; unreferenced blobs are
// removed. WriteBatch commits many small files in one transaction, so they
// share one fsync. A large content can also arrive in pieces (Upload, Append),
// resumable after a broken connection or a restart, and then be committed
// by Link; a Session does the same for content whose sha256 comes only at
// the end (an OCI blob upload), and Finish makes it such an Upload.
// DESIGN.md draws the layout on disk and says why it is so.
//
// It must not know about other clusters: replication reads from one store
// and writes into another through these interfaces.
package store
