package store

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Names of projects and repositories.
//
// The one documented rule: a name uses only lowercase ASCII letters (a-z),
// digits (0-9), '.', '_' and '-', and starts with a letter. A project name is
// 2 to 64 characters long, a repository name 1 to 128.
//
// Names are used as-is in URLs, keys and file names, so there is no case
// folding or other normalisation: a name either follows the rule or is
// rejected with an error wrapping ErrInvalid.
const (
	minProjectNameLen = 2
	maxProjectNameLen = 64
	minRepoNameLen    = 1
	maxRepoNameLen    = 128
)

// ValidateProjectName reports whether name is a valid project name: 2-64
// characters, lowercase letters, digits, '.', '_' or '-', starting with a
// letter. The error wraps ErrInvalid.
func ValidateProjectName(name string) error {
	return validateNameRule("project", name, minProjectNameLen, maxProjectNameLen)
}

// ValidateRepoName reports whether name is a valid repository name: 1-128
// characters, lowercase letters, digits, '.', '_' or '-', starting with a
// letter. The error wraps ErrInvalid.
func ValidateRepoName(name string) error {
	return validateNameRule("repository", name, minRepoNameLen, maxRepoNameLen)
}

func validateNameRule(kind, name string, min, max int) error {
	ok := len(name) >= min && len(name) <= max && name[0] >= 'a' && name[0] <= 'z'
	for i := 0; ok && i < len(name); i++ {
		ok = nameByteOK(name[i])
	}
	if ok {
		return nil
	}
	return fmt.Errorf("%w: %s name %q must be %d-%d characters: lowercase letters, digits, '.', '_' or '-', starting with a letter",
		ErrInvalid, kind, name, min, max)
}

// nameByteOK reports whether c may appear in a project or repository name.
func nameByteOK(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// MaxPathBytes is the longest path, in bytes, accepted inside a repository
// (both as given and once normalised).
const MaxPathBytes = 1024

// NormalizePath returns the canonical form of a path inside a repository:
// it starts with "/", its segments are separated by single slashes and there
// is no trailing slash; the root is "/". Repeated slashes are collapsed, "."
// segments and a trailing slash dropped, and a missing leading slash added.
//
// It rejects, with an error wrapping ErrInvalid: a ".." segment (a path may
// not escape its repository), ASCII control characters (0x00-0x1F, 0x7F),
// backslashes, invalid UTF-8, and paths longer than MaxPathBytes.
func NormalizePath(p string) (string, error) {
	if len(p) > MaxPathBytes {
		return "", fmt.Errorf("%w: path is %d bytes, longer than the limit of %d", ErrInvalid, len(p), MaxPathBytes)
	}
	if !utf8.ValidString(p) {
		return "", fmt.Errorf("%w: path %q is not valid UTF-8", ErrInvalid, p)
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c < 0x20 || c == 0x7f:
			return "", fmt.Errorf("%w: path %q contains a control character (byte 0x%02x)", ErrInvalid, p, c)
		case c == '\\':
			return "", fmt.Errorf("%w: path %q contains a backslash", ErrInvalid, p)
		}
	}

	var b strings.Builder
	b.Grow(len(p) + 1)
	rest := p
	for rest != "" {
		var seg string
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			seg, rest = rest[:i], rest[i+1:]
		} else {
			seg, rest = rest, ""
		}
		switch seg {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf("%w: path %q contains a \"..\" segment: paths may not escape the repository", ErrInvalid, p)
		}
		b.WriteByte('/')
		b.WriteString(seg)
	}
	if b.Len() == 0 {
		return "/", nil
	}
	out := b.String()
	if len(out) > MaxPathBytes {
		return "", fmt.Errorf("%w: path is %d bytes once normalised, longer than the limit of %d", ErrInvalid, len(out), MaxPathBytes)
	}
	return out, nil
}

// NormalizeFilePath is NormalizePath for the path of a file: the root "/"
// (which includes "" and paths made only of slashes and "." segments) is an
// error wrapping ErrInvalid, because a file needs a name.
func NormalizeFilePath(p string) (string, error) {
	out, err := NormalizePath(p)
	if err != nil {
		return "", err
	}
	if out == "/" {
		return "", fmt.Errorf("%w: file path %q names the repository root: a file needs a name", ErrInvalid, p)
	}
	return out, nil
}

// parentAndName splits a normalised path into its parent folder and last
// segment: "/a/b/c" gives "/a/b" and "c", "/c" gives "/" and "c", and the
// root "/" gives "/" and "".
func parentAndName(path string) (dir, name string) {
	i := strings.LastIndexByte(path, '/')
	if i < 0 {
		return "/", path
	}
	if i == 0 {
		return "/", path[1:]
	}
	return path[:i], path[i+1:]
}
