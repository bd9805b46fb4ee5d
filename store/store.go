package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// RepoType is what a repository holds; it decides the package layout.
type RepoType string

const (
	TypeGeneric  RepoType = "GENERIC"
	TypeMaven    RepoType = "MAVEN"
	TypeNPM      RepoType = "NPM"
	TypeDocker   RepoType = "DOCKER"
	TypeHelm     RepoType = "HELM"
	TypeRPM      RepoType = "RPM"
	TypePyPI     RepoType = "PYPI"
	TypeNuGet    RepoType = "NUGET"
	TypeComposer RepoType = "COMPOSER"
	TypeGo       RepoType = "GO"
	TypeOCI      RepoType = "OCI"
)

// RepoTypes lists every known type.
var RepoTypes = []RepoType{TypeGeneric, TypeMaven, TypeNPM, TypeDocker, TypeHelm, TypeRPM, TypePyPI, TypeNuGet, TypeComposer, TypeGo, TypeOCI}

// Valid reports whether t is a known type.
func (t RepoType) Valid() bool {
	for _, k := range RepoTypes {
		if t == k {
			return true
		}
	}
	return false
}

// Project groups repositories.
type Project struct {
	Name        string    `json:"name"`
	DisplayName string    `json:"displayName,omitempty"`
	Description string    `json:"description,omitempty"`
	CreatedBy   string    `json:"createdBy"`
	CreatedAt   time.Time `json:"createdDate,omitzero"`
}

// Repo is a repository of one project.
type Repo struct {
	Project     string    `json:"projectId"`
	Name        string    `json:"name"`
	Type        RepoType  `json:"type"`
	Description string    `json:"description,omitempty"`
	CreatedBy   string    `json:"createdBy"`
	CreatedAt   time.Time `json:"createdDate,omitzero"`
}

// Node is a file at a path in a repository (or, in listings, a folder).
type Node struct {
	Path       string            `json:"fullPath"`
	Name       string            `json:"name"`
	Folder     bool              `json:"folder"`
	Size       int64             `json:"size"`
	SHA256     string            `json:"sha256,omitempty"`
	MD5        string            `json:"md5,omitempty"`
	CreatedBy  string            `json:"createdBy,omitempty"`
	CreatedAt  time.Time         `json:"createdDate,omitzero"`
	ModifiedBy string            `json:"lastModifiedBy,omitempty"`
	ModifiedAt time.Time         `json:"lastModifiedDate,omitzero"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	// Created is set on the node a Write returns when the write created it.
	Created bool `json:"-"`
}

// PackageVersion is one version of a package: a set of node paths and metadata.
type PackageVersion struct {
	PackageKey string            `json:"packageKey"`
	Version    string            `json:"name"`
	Paths      []string          `json:"paths"`
	Metadata   map[string]string `json:"metadata,omitempty"`
	CreatedBy  string            `json:"createdBy,omitempty"`
	CreatedAt  time.Time         `json:"createdDate,omitzero"`
	ModifiedBy string            `json:"lastModifiedBy,omitempty"`
	ModifiedAt time.Time         `json:"lastModifiedDate,omitzero"`
	// CreatedSeq is the change-log sequence of the version's creation: it
	// orders versions even when their timestamps are equal.
	CreatedSeq uint64 `json:"createdSeq"`
}

// Package summarises a packageKey's versions.
type Package struct {
	Key           string    `json:"key"`
	Name          string    `json:"name"`
	LatestVersion string    `json:"latest"`
	Versions      int       `json:"versions"`
	ModifiedAt    time.Time `json:"lastModifiedDate,omitzero"`
}

// ChangeKind is what a change-log entry records.
type ChangeKind string

const (
	NodeCreated    ChangeKind = "NODE_CREATED"
	NodeUpdated    ChangeKind = "NODE_UPDATED"
	NodeDeleted    ChangeKind = "NODE_DELETED"
	VersionCreated ChangeKind = "VERSION_CREATED"
	VersionUpdated ChangeKind = "VERSION_UPDATED"
	VersionDeleted ChangeKind = "VERSION_DELETED"
)

// Change is one entry of a repository's change log.
type Change struct {
	Seq        uint64     `json:"seq"`
	Kind       ChangeKind `json:"kind"`
	Time       time.Time  `json:"time"`
	Path       string     `json:"path,omitempty"`
	SHA256     string     `json:"sha256,omitempty"`
	Size       int64      `json:"size,omitempty"`
	PackageKey string     `json:"packageKey,omitempty"`
	Version    string     `json:"version,omitempty"`
	By         string     `json:"by,omitempty"`
}

// Page is one page of a listing.
type Page[T any] struct {
	PageNumber   int   `json:"pageNumber"`
	PageSize     int   `json:"pageSize"`
	TotalRecords int64 `json:"totalRecords"`
	TotalPages   int64 `json:"totalPages"`
	Records      []T   `json:"records"`
}

// PageRequest selects a page; numbers start at 1.
type PageRequest struct {
	Number int
	Size   int
}

// ListOptions select nodes under a folder.
type ListOptions struct {
	Path      string // folder, "/" for the root
	Recursive bool   // files at any depth (no folders); else direct children, folders first
	Page      PageRequest
}

// WriteOptions govern a write.
type WriteOptions struct {
	// SHA256 (hex), when given, must match the content or nothing is stored.
	SHA256 string
	// Size is the exact length the content must have; -1 when unknown. Note
	// that the zero value expects an empty body (an HTTP Content-Length: 0).
	Size int64
	// KnownMD5 is the content's md5 (lowercase hex) as its source computed
	// it: the store takes it instead of computing it again (the sha256 is
	// still checked, and proves the content). For replication, whose
	// sender holds the content verified.
	KnownMD5 string
	// Metadata replaces the node's metadata.
	Metadata map[string]string
	// NoOverwrite refuses (ErrExists) when the path already holds a file.
	NoOverwrite bool
	By          string
}

// BatchFile is one file of a WriteBatch.
type BatchFile struct {
	Path    string
	Content []byte
	Opt     WriteOptions
}

// BatchResult is the outcome of one file of a WriteBatch.
type BatchResult struct {
	Node Node
	Err  error
}

// Reader reads one node's content; it supports io.Seeker for ranges.
type Reader interface {
	io.ReadSeekCloser
	Node() Node
	// Served reports bytes sent from the reader's file by means other than
	// Read (sendfile), so that the store's read counters stay true.
	Served(n int64)
}

// Store is one cluster's artifact store.
type Store interface {
	CreateProject(ctx context.Context, p Project) (Project, error)
	Project(ctx context.Context, name string) (Project, error)
	Projects(ctx context.Context) ([]Project, error)
	// DeleteProject deletes an empty project (no repositories).
	DeleteProject(ctx context.Context, name string) error

	CreateRepo(ctx context.Context, r Repo) (Repo, error)
	Repos(ctx context.Context, project string) ([]Repo, error)
	// Repository opens a repository for its files, packages and changes.
	Repository(ctx context.Context, project, name string) (Repository, error)
	// DeleteRepo deletes a repository with everything in it.
	DeleteRepo(ctx context.Context, project, name string) error

	Stats() Stats
	Close() error
}

// Repository is one repository's content: its files, packages and change
// log. A driver for a real registry (OCI distribution) implements the same
// facets; what only the built-in store does well is the Bulk capability,
// which callers assert where they use it.
type Repository interface {
	Nodes
	Packages
	ChangeLog
}

// Nodes are a repository's files, by path.
type Nodes interface {
	Info() Repo
	Stat(ctx context.Context, path string) (Node, error)
	// Walk calls fn with every file under dir (a file path: that file), in
	// path order, in one read: for whole-repository passes, unlike List's pages.
	Walk(ctx context.Context, dir string, fn func(Node) error) error
	// WalkAfter is Walk from the first path under dir that sorts after
	// `after` ("": from the start), in a read of its own: a listing too
	// large to hold is taken in parts, each part where the last ended.
	WalkAfter(ctx context.Context, dir, after string, fn func(Node) error) error
	List(ctx context.Context, opt ListOptions) (Page[Node], error)
	Open(ctx context.Context, path string) (Reader, error)
	Write(ctx context.Context, path string, content io.Reader, opt WriteOptions) (Node, error)
	Delete(ctx context.Context, path, by string) error
	SetMetadata(ctx context.Context, path string, metadata map[string]string, by string) (Node, error)
}

// Packages are a repository's package versions: named sets of node paths.
type Packages interface {
	PutVersion(ctx context.Context, v PackageVersion) (PackageVersion, error)
	Version(ctx context.Context, packageKey, version string) (PackageVersion, error)
	Versions(ctx context.Context, packageKey string, page PageRequest) (Page[PackageVersion], error)
	Packages(ctx context.Context, prefix string, page PageRequest) (Page[Package], error)
	DeleteVersion(ctx context.Context, packageKey, version, by string) error
}

// ChangeLog is a repository's ordered record of changes, written in the
// same transaction as each change.
type ChangeLog interface {
	// Head is the sequence of the change log's last entry (0 when empty):
	// it moves with every change to the repository.
	Head(ctx context.Context) (uint64, error)
	// Changes returns up to limit change-log entries with Seq >= from, in order.
	Changes(ctx context.Context, from uint64, limit int) ([]Change, error)
}

// Bulk is the capability to move many files per call. It is not part of
// Repository: replication asserts it where it uses it (BulkOf), and the
// built-in store has it.
type Bulk interface {
	// StatMany stats many paths in one read; a path that holds no file (or
	// is not a valid path) has found[i] false.
	StatMany(ctx context.Context, paths []string) (nodes []Node, found []bool, err error)
	// ReadSmall reads many small files in one read: the node of each path
	// that holds a file (else a zero Node) and, when the content is kept
	// inline (at most InlineMax bytes), the content; otherwise use Open.
	ReadSmall(ctx context.Context, paths []string) (nodes []Node, contents [][]byte, err error)
	// WriteBatch writes many files in one transaction. Each file's content is
	// verified (SHA256/Size in its options) and committed like Write would; a
	// file that fails (checksum, clash, NoOverwrite on an existing path, invalid
	// path or metadata) gets its own error and does not stop the others.
	// The store keeps no reference to a file's Content once it has returned:
	// the caller may reuse the memory (the receiver's pooled chunks do).
	WriteBatch(ctx context.Context, files []BatchFile) ([]BatchResult, error)
	// Link makes path hold content this store already has, found by sha256,
	// without it being sent again; ErrNotFound when there is no such content.
	// The built-in store also takes the content of a complete Upload.
	Link(ctx context.Context, path, sha256 string, opt WriteOptions) (Node, error)
}

// BulkOf is repo's Bulk capability, or an error saying it has none.
func BulkOf(repo Repository) (Bulk, error) {
	if b, ok := repo.(Bulk); ok {
		return b, nil
	}
	return nil, fmt.Errorf("repository %s/%s: %w: no bulk transfer", repo.Info().Project, repo.Info().Name, ErrUnsupported)
}

// Stats are the store's totals, for metrics.
type Stats struct {
	Blobs     int64 // distinct contents stored
	BlobBytes int64 // their total size
	// Of the segments small contents are packed into (the built-in store):
	// the bytes live contents take, and the committed bytes no content
	// names any more, which compaction gives back.
	SegmentLiveBytes, SegmentDeadBytes int64
}

// Errors a caller can tell apart with errors.Is.
var (
	ErrNotFound          = errors.New("not found")
	ErrExists            = errors.New("already exists")
	ErrInvalid           = errors.New("invalid")
	ErrChecksum          = errors.New("content does not match the expected checksum or size")
	ErrNotEmpty          = errors.New("not empty")
	ErrInsufficientSpace = errors.New("insufficient storage")
	ErrUnsupported       = errors.New("not supported by this repository")
)
