package swr

import (
	"hash/fnv"
	"regexp"
	"strings"
)

// SWR's name rules (contract §1.1, the seed): separators '.', '_', '-' (and
// '/' in a repository) never next to each other, except "__".
var (
	namespaceRE = regexp.MustCompile(`^[a-z][a-z0-9]*(?:(?:\.|_|__|-)[a-z0-9]+)*$`)
	repoRE      = regexp.MustCompile(`^[a-z0-9]+(?:(?:\.|/|_|__|-)[a-z0-9]+)*$`)
)

// validNamespace reports whether name is an SWR organization name: 1-64
// characters. Ferry's store adds its own (2 characters at least).
func validNamespace(name string) bool { return len(name) <= 64 && namespaceRE.MatchString(name) }

// validRepo reports whether name is an SWR repository name: 1-128
// characters, '/' separating its components.
func validRepo(name string) bool { return len(name) <= 128 && repoRE.MatchString(name) }

// Operations a repository path can end with, read from the right.
const (
	opRepo       = ""     // the repository itself
	opTags       = "tags" // its tag list
	opTag        = "tag"  // tags/{tag}
	opSyncRepo   = "sync_repo"
	opSyncImages = "sync_images"
	opSyncJob    = "sync_job"
)

var opSuffixes = []string{opTags, opSyncRepo, opSyncImages, opSyncJob}

// repoPath is what follows /namespaces/{ns}/repos/.
type repoPath struct {
	Repo string // with '/' between components, '$' decoded
	Op   string
	Tag  string // opTag only
}

// parseRepoPath reads a repository path from the right: the known suffix
// first, what is left the repository, each '$' in it a '/'. A client that
// forgot the '$' sends literal slashes (the SDK does not replace them), so
// "app/web/tags" is the tags of "app/web"; a repository whose last
// component is itself a suffix word ("x/tags") must then be sent as
// "x$tags". ok is false for an empty repository.
func parseRepoPath(rest string) (p repoPath, ok bool) {
	segs := strings.Split(strings.Trim(rest, "/"), "/")
	n := len(segs)
	switch {
	case n >= 2 && contains(opSuffixes, segs[n-1]):
		p.Op, segs = segs[n-1], segs[:n-1]
	case n >= 3 && segs[n-2] == opTags:
		p.Op, p.Tag, segs = opTag, segs[n-1], segs[:n-2]
	}
	p.Repo = strings.ReplaceAll(strings.Join(segs, "/"), "$", "/")
	return p, p.Repo != ""
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ociName is the registry's name of repository repo of namespace ns: the
// first component is the Ferry DOCKER repository, the rest the image path.
func ociName(ns, repo string) string { return ns + "/" + repo }

// id32 is a stable int32 id for a name: the SDK decodes ids as int32, so a
// larger one breaks every list call; Ferry keeps no numeric ids.
func id32(name string) int32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	return int32(h.Sum32() & 0x7fffffff)
}

// id64 is id32's int64 twin for the tag and repository ids SWR types int64.
func id64(name string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return int64(h.Sum64() & 0x7fffffffffffffff)
}
