package oci

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of ParsePath. A caller answers ErrNotRoute with a plain 404 (or
// NAME_UNKNOWN), ErrNameInvalid with NAME_INVALID and ErrReferenceInvalid
// with the code of the operation (DIGEST_INVALID, MANIFEST_INVALID,
// BLOB_UPLOAD_UNKNOWN…), which is why ParsePath still fills in the Kind.
var (
	// ErrNotRoute: the path is not one of the registry's /v2 endpoints.
	ErrNotRoute = errors.New("not a registry path")
	// ErrReferenceInvalid: a malformed tag, digest or upload session id.
	ErrReferenceInvalid = errors.New("invalid reference")
)

// Kind is the endpoint a /v2 path names. The constants carry a Kind prefix
// because Manifest is also the name of the parsed manifest type.
type Kind int

// The endpoints of the distribution spec, plus the catalog. The zero Kind
// is no endpoint, so a zero Route never passes for /v2/.
const (
	KindBase      Kind = iota + 1 // /v2/
	KindCatalog                   // /v2/_catalog
	KindManifest                  // /v2/<name>/manifests/<tag|digest>
	KindBlob                      // /v2/<name>/blobs/<digest>
	KindUpload                    // /v2/<name>/blobs/uploads/[<id>]
	KindTags                      // /v2/<name>/tags/list
	KindReferrers                 // /v2/<name>/referrers/<digest>
)

var kindNames = [...]string{"", "base", "catalog", "manifest", "blob", "upload", "tags", "referrers"}

// String names the kind in lowercase, stable enough for a metrics label
// (label by operation, never by path: paths are unbounded).
func (k Kind) String() string {
	if k <= 0 || int(k) >= len(kindNames) {
		return fmt.Sprintf("kind(%d)", int(k))
	}
	return kindNames[k]
}

// Route is a parsed /v2 request path.
type Route struct {
	Kind Kind
	// Name is the repository name, valid by ValidName; "" for KindBase
	// and KindCatalog.
	Name string
	// Reference is, for KindManifest, a tag or a digest; for KindBlob and
	// KindReferrers the digest; for KindUpload the session id ("" for the POST
	// collection …/blobs/uploads/). Always as it appeared in the path.
	Reference string
}

// MaxUploadIDLength bounds an upload session id; the dialect makes its own
// ids, so anything longer is nobody's session.
const MaxUploadIDLength = 128

const v2 = "/v2"

// ParsePath parses the path of a /v2 request (no query string).
//
// The endpoint is read from the right: "manifests", "blobs", "uploads",
// "tags" and "referrers" are legal name components, so
// "/v2/a/manifests/b/manifests/latest" is the tag "latest" of the
// repository "a/manifests/b". Whatever is left of the endpoint's suffix is
// the name and must be ValidName.
//
// The path is used as given and never unescaped: valid names, tags, digests
// and session ids contain no character that URL escaping changes, so the
// escaped (URL.EscapedPath) and decoded (URL.Path) forms are the same for
// every valid route, and "%2F" or a doubly encoded "%252F" is simply an
// invalid name or reference, never a second decoding.
//
// A trailing slash is only accepted where the spec writes one (/v2/ and
// …/blobs/uploads/), and "/v2" and "…/blobs/uploads" are read as those two.
//
// Errors wrap ErrNotRoute, ErrNameInvalid or ErrReferenceInvalid. With
// ErrNameInvalid and ErrReferenceInvalid the returned Route still has its
// Kind (and, for a bad reference, its Name) so the caller can answer with
// the operation's error code.
func ParsePath(p string) (Route, error) {
	rest, ok := strings.CutPrefix(p, v2)
	switch {
	case !ok:
		return Route{}, notRoute(p)
	case rest == "" || rest == "/":
		return Route{Kind: KindBase}, nil
	case rest == "/_catalog":
		return Route{Kind: KindCatalog}, nil
	case rest[0] != '/':
		return Route{}, notRoute(p)
	}
	segs := strings.Split(rest[1:], "/")
	r, nameSegs, ok := matchEndpoint(segs)
	if !ok {
		return Route{}, notRoute(p)
	}
	r.Name = strings.Join(segs[:nameSegs], "/")
	if !ValidName(r.Name) {
		return Route{Kind: r.Kind}, fmt.Errorf("%w: %q in path %q", ErrNameInvalid, r.Name, p)
	}
	if err := checkReference(r); err != nil {
		return r, fmt.Errorf("%w: %w", ErrReferenceInvalid, err)
	}
	return r, nil
}

func notRoute(p string) error { return fmt.Errorf("%w: %q", ErrNotRoute, p) }

// matchEndpoint recognises the endpoint suffix of segs and says how many
// leading segments form the name. It looks at the last segments only, so
// the name may contain any keyword. Uploads are tried before blobs because
// ".../blobs/uploads" would otherwise read as a blob named "uploads".
func matchEndpoint(segs []string) (r Route, nameSegs int, ok bool) {
	n := len(segs)
	at := func(i int) string { // the i-th segment from the end, 1-based
		if i > n {
			return "\x00" // never equal to a keyword
		}
		return segs[n-i]
	}
	switch {
	case at(2) == "tags" && at(1) == "list":
		return Route{Kind: KindTags}, n - 2, true
	case at(3) == "blobs" && at(2) == "uploads":
		return Route{Kind: KindUpload, Reference: at(1)}, n - 3, true
	case at(2) == "blobs" && at(1) == "uploads":
		return Route{Kind: KindUpload}, n - 2, true
	case at(2) == "manifests":
		return Route{Kind: KindManifest, Reference: at(1)}, n - 2, true
	case at(2) == "blobs":
		return Route{Kind: KindBlob, Reference: at(1)}, n - 2, true
	case at(2) == "referrers":
		return Route{Kind: KindReferrers, Reference: at(1)}, n - 2, true
	}
	return Route{}, 0, false
}

// checkReference validates the reference part of r for its kind.
func checkReference(r Route) error {
	switch r.Kind {
	case KindManifest:
		if strings.Contains(r.Reference, ":") {
			_, err := ParseDigest(r.Reference)
			return err
		}
		if !ValidTag(r.Reference) {
			return fmt.Errorf("tag %q", r.Reference)
		}
	case KindBlob, KindReferrers:
		_, err := ParseDigest(r.Reference)
		return err
	case KindUpload:
		if r.Reference != "" && !validUploadID(r.Reference) {
			return fmt.Errorf("upload session id %q", r.Reference)
		}
	}
	return nil
}

// validUploadID reports whether id can be a session id: letters, digits,
// '.', '_' and '-', starting with a letter or digit, so that it is also a
// safe file name ("." and ".." excluded) wherever the store keeps sessions.
func validUploadID(id string) bool {
	if id == "" || len(id) > MaxUploadIDLength || !alnum(id[0]) {
		return false
	}
	for i := 1; i < len(id); i++ {
		if c := id[i]; !alnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// Digest returns the Reference as a digest when it is one: always for a
// valid blob or referrers route, and for a manifest route by digest.
func (r Route) Digest() (Digest, bool) {
	switch r.Kind {
	case KindManifest, KindBlob, KindReferrers:
		d, err := ParseDigest(r.Reference)
		return d, err == nil
	}
	return Digest{}, false
}

// Path renders r as the canonical /v2 path that ParsePath parses back to r;
// the dialect uses it for Location headers. A Route that ParsePath would
// not return renders as something ParsePath refuses.
func (r Route) Path() string {
	base := v2 + "/" + r.Name
	switch r.Kind {
	case KindBase:
		return v2 + "/"
	case KindCatalog:
		return v2 + "/_catalog"
	case KindManifest:
		return base + "/manifests/" + r.Reference
	case KindBlob:
		return base + "/blobs/" + r.Reference
	case KindUpload:
		return base + "/blobs/uploads/" + r.Reference
	case KindTags:
		return base + "/tags/list"
	case KindReferrers:
		return base + "/referrers/" + r.Reference
	}
	return ""
}
