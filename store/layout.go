package store

import (
	"strings"

	"github.com/ferrysync/ferry/oci"
)

// PackageOfNode is PackageForPath for a file of repository r, and also
// knows the DOCKER layout, whose root image takes r's name: a tag node
// /<image>/_tags/<tag> is version <tag> of oci.PackageKey(r.Name, image),
// and it is that version's only path. A layer or manifest belongs to many
// tags while a path belongs to at most one version, so a tag's closure is
// read from its manifests (replicator), never recorded in the version.
func PackageOfNode(r Repo, path string) (packageKey, version string, ok bool) {
	if r.Type != TypeDocker {
		return PackageForPath(r.Type, path)
	}
	ref, ok := oci.ParseNodePath(path)
	if !ok || ref.Kind != oci.NodeTag {
		return "", "", false
	}
	return oci.PackageKey(r.Name, ref.Image), ref.Tag, true
}

// PackageForPath tells which package version a file at path belongs to, so
// that writing the file can register the version. path is a normalised path
// (see NormalizePath). ok is false when the file is not part of a package
// version: a checksum, signature or metadata document, a path off the
// repository type's layout, or a repository type without a layout (only
// MAVEN and NPM have one).
//
// MAVEN uses the standard layout
// <group as folders>/<artifactId>/<version>/<artifactId>-<version>[-<classifier>].<ext>,
// so /com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar gives
// ("gav://com.alibaba:fastjson", "1.2.47"). In a -SNAPSHOT version folder the
// file may also be a timestamped snapshot,
// <artifactId>-<base version>-<yyyyMMdd.HHmmss>-<build number>[-<classifier>].<ext>;
// the version is the folder's (1.0-SNAPSHOT).
//
// NPM tarballs are /<name>/-/<name>-<version>.tgz and, for scoped packages,
// /@<scope>/<name>/-/<name>-<version>.tgz: /@scope/pkg/-/pkg-2.1.0.tgz gives
// ("npm://@scope/pkg", "2.1.0"). The version must start with a digit.
func PackageForPath(t RepoType, path string) (packageKey, version string, ok bool) {
	if !strings.HasPrefix(path, "/") {
		return "", "", false
	}
	segs := strings.Split(path[1:], "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." {
			return "", "", false
		}
	}
	switch t {
	case TypeMaven:
		return mavenPackage(segs)
	case TypeNPM:
		return npmPackage(segs)
	}
	return "", "", false
}

// mavenNotArtifact lists suffixes of files that accompany an artifact
// without being one: checksums and signatures.
var mavenNotArtifact = []string{".sha1", ".md5", ".sha256", ".sha512", ".asc"}

func mavenPackage(segs []string) (string, string, bool) {
	n := len(segs)
	if n < 4 { // at least one group folder, artifactId, version, file
		return "", "", false
	}
	file, version, artifact, group := segs[n-1], segs[n-2], segs[n-3], segs[:n-3]

	lower := strings.ToLower(file)
	for _, suf := range mavenNotArtifact {
		if strings.HasSuffix(lower, suf) {
			return "", "", false
		}
	}
	if lower == "maven-metadata.xml" || strings.HasPrefix(lower, "maven-metadata-") && strings.HasSuffix(lower, ".xml") {
		return "", "", false // maven-metadata.xml, maven-metadata-<repo id>.xml
	}
	// ':' separates group and artifactId in the key.
	if strings.Contains(artifact, ":") {
		return "", "", false
	}
	for _, g := range group {
		if strings.Contains(g, ":") {
			return "", "", false
		}
	}

	matched := false
	if rest, found := strings.CutPrefix(file, artifact+"-"+version); found {
		matched = classifierAndExt(rest)
	}
	if !matched {
		if base, snapshot := strings.CutSuffix(version, "-SNAPSHOT"); snapshot && base != "" {
			if rest, found := strings.CutPrefix(file, artifact+"-"+base+"-"); found {
				if rest, found = cutSnapshotTimestamp(rest); found {
					matched = classifierAndExt(rest)
				}
			}
		}
	}
	if !matched {
		return "", "", false
	}
	return "gav://" + strings.Join(group, ".") + ":" + artifact, version, true
}

// classifierAndExt reports whether rest, what follows <artifactId>-<version>
// in a file name, is ".<ext>" or "-<classifier>.<ext>" with non-empty parts.
func classifierAndExt(rest string) bool {
	switch {
	case strings.HasPrefix(rest, "."):
		return len(rest) > 1
	case strings.HasPrefix(rest, "-"):
		classifier, ext, found := strings.Cut(rest[1:], ".")
		return found && classifier != "" && ext != ""
	}
	return false
}

// cutSnapshotTimestamp removes the leading "<yyyyMMdd>.<HHmmss>-<build
// number>" of a timestamped snapshot file name's remainder.
func cutSnapshotTimestamp(s string) (string, bool) {
	const stamp = len("20200101.120000")
	if len(s) < stamp+2 || s[8] != '.' || !layoutAllDigits(s[:8]) || !layoutAllDigits(s[9:stamp]) || s[stamp] != '-' {
		return "", false
	}
	s = s[stamp+1:]
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return "", false
	}
	return s[i:], true
}

func layoutAllDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func npmPackage(segs []string) (string, string, bool) {
	var name, key string
	switch {
	case len(segs) == 3 && !strings.HasPrefix(segs[0], "@"):
		name, key = segs[0], segs[0]
	case len(segs) == 4 && len(segs[0]) > 1 && strings.HasPrefix(segs[0], "@") && !strings.HasPrefix(segs[1], "@"):
		name, key = segs[1], segs[0]+"/"+segs[1]
		segs = segs[1:]
	default:
		return "", "", false
	}
	if segs[1] != "-" || name == "-" {
		return "", "", false
	}
	rest, found := strings.CutPrefix(segs[2], name+"-")
	if !found {
		return "", "", false
	}
	version, found := strings.CutSuffix(rest, ".tgz")
	if !found || version == "" || version[0] < '0' || version[0] > '9' {
		return "", "", false
	}
	return "npm://" + key, version, true
}
