package oci

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Sentinel errors; the functions of this package wrap them so that a caller
// can pick the registry error code with errors.Is.
var (
	// ErrNameInvalid: a repository name outside the OCI grammar (NAME_INVALID).
	ErrNameInvalid = errors.New("invalid repository name")
	// ErrDigestInvalid: a string that is not a digest this package parses
	// (DIGEST_INVALID).
	ErrDigestInvalid = errors.New("invalid digest")
)

// MaxNameLength is the distribution spec's limit on a whole repository name.
// Clients (docker, containerd) refuse longer names, so accepting them would
// only create repositories nobody can pull.
const MaxNameLength = 255

// nameComponent is the spec's path-component grammar. A component never
// starts with '_' or '.', which is what leaves the store's "_blobs", "_tags"…
// segments free for the layout.
const nameComponent = `[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*`

var (
	nameRE      = regexp.MustCompile(`^` + nameComponent + `(?:/` + nameComponent + `)*$`)
	componentRE = regexp.MustCompile(`^` + nameComponent + `$`)
	tagRE       = regexp.MustCompile(`^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$`)
)

// ValidName reports whether name is an OCI repository name: components of
// lowercase letters and digits joined by '.', '_', '__' or runs of '-',
// separated by '/', at most MaxNameLength bytes in all.
func ValidName(name string) bool {
	return len(name) <= MaxNameLength && nameRE.MatchString(name)
}

// ValidTag reports whether tag is an OCI tag: 1 to 128 characters of
// letters, digits, '_', '.' and '-', not starting with '.' or '-'. A tag
// never contains ':' or '/', which is how a reference is told from a digest
// and how a tag can be one path segment.
func ValidTag(tag string) bool {
	return tagRE.MatchString(tag)
}

// SplitName maps an OCI name onto Ferry's store: the first component is the
// project, the second the repository, and the rest (possibly several
// components, "" for none) the image path inside that repository. So
// "ns/app" is the root image of repository "app" and "ns/app/web/api" the
// image "web/api" in it.
//
// The error wraps ErrNameInvalid for a name outside the OCI grammar or with
// fewer than two components. Ferry's stricter project and repository rules
// (a leading letter, lengths) are left to the caller: they belong to the
// store, not to OCI.
func SplitName(name string) (project, repo, image string, err error) {
	if !ValidName(name) {
		return "", "", "", fmt.Errorf("%w: %q", ErrNameInvalid, name)
	}
	parts := strings.SplitN(name, "/", 3)
	if len(parts) < 2 {
		return "", "", "", fmt.Errorf("%w: %q needs at least <project>/<repository>", ErrNameInvalid, name)
	}
	if len(parts) == 3 {
		image = parts[2]
	}
	return parts[0], parts[1], image, nil
}

// Digest algorithms this package parses.
const (
	SHA256 = "sha256"
	SHA512 = "sha512"
)

// Digest is a parsed content digest such as "sha256:<64 hex>".
type Digest struct {
	Algorithm string // "sha256" or "sha512"
	Hex       string // the encoded part, lowercase hex
}

// hexLen is the encoded length of each parsed algorithm; one table keeps
// parsing and Supported from disagreeing about what exists.
var hexLen = map[string]int{SHA256: 64, SHA512: 128}

// ParseDigest parses "<algorithm>:<hex>" for sha256 (64 hex digits) and
// sha512 (128), lowercase only, as the image spec requires for both. A
// sha512 digest parses (so the caller can answer UNSUPPORTED rather than
// DIGEST_INVALID) but is not Supported. Anything else is an error wrapping
// ErrDigestInvalid.
func ParseDigest(s string) (Digest, error) {
	alg, enc, ok := strings.Cut(s, ":")
	want, known := hexLen[alg]
	if !ok || !known || len(enc) != want || !lowerHex(enc) {
		return Digest{}, fmt.Errorf("%w: %q", ErrDigestInvalid, s)
	}
	return Digest{Algorithm: alg, Hex: enc}, nil
}

// lowerHex reports whether s is made of 0-9 and a-f only: uppercase would
// give one blob two names.
func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// String renders the digest as "<algorithm>:<hex>"; the zero Digest renders
// as "" so that an absent digest never looks like a malformed one.
func (d Digest) String() string {
	if d.Algorithm == "" && d.Hex == "" {
		return ""
	}
	return d.Algorithm + ":" + d.Hex
}

// MarshalText encodes a digest as its string, as the spec writes it.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a digest's string.
func (d *Digest) UnmarshalText(b []byte) error {
	p, err := ParseDigest(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// IsZero reports whether d is the zero Digest (no digest).
func (d Digest) IsZero() bool { return d == Digest{} }

// Supported reports whether Ferry can store content under d: only sha256,
// because the store addresses every node by its sha256.
func (d Digest) Supported() bool {
	return d.Algorithm == SHA256 && len(d.Hex) == hexLen[SHA256]
}

// FromBytes is the sha256 digest of b, the digest a manifest is stored and
// answered under; it sits here so the dialect and the replicator cannot
// compute it differently.
func FromBytes(b []byte) Digest {
	sum := sha256.Sum256(b)
	return Digest{Algorithm: SHA256, Hex: hex.EncodeToString(sum[:])}
}
