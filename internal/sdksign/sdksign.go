package sdksign

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Algorithm is the Authorization scheme this package verifies.
const Algorithm = "SDK-HMAC-SHA256"

const (
	HeaderDate          = "X-Sdk-Date"
	HeaderContentSHA256 = "X-Sdk-Content-Sha256"
	// DateFormat is X-Sdk-Date's layout, always UTC.
	DateFormat = "20060102T150405Z"
	// UnsignedPayload in X-Sdk-Content-Sha256 leaves the body out of the
	// signature.
	UnsignedPayload = "UNSIGNED-PAYLOAD"
	// MaxSkew is how far X-Sdk-Date may be from the verifier's clock, either
	// way: it bounds how long a captured request can be replayed.
	MaxSkew = 15 * time.Minute
	// MaxHashedBody is the largest body the verifier reads to hash it.
	MaxHashedBody = 1 << 20
)

// IsSigned reports whether the request's Authorization is in this scheme;
// a verifier that refuses it then answers for it (no other credential is
// looked for).
func IsSigned(r *http.Request) bool {
	scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return scheme == Algorithm
}

// Verifier checks signed requests.
type Verifier struct {
	// Secret returns the SK of an AK, false when the AK is unknown.
	Secret func(accessKey string) (string, bool)
	// Now is the clock X-Sdk-Date is checked against; time.Now when nil.
	Now func() time.Time
}

// Verify checks r's signature and returns its AK. The body is left readable
// for the handler. The error says what is wrong, for the caller to log or
// show: it never holds the SK or the expected signature.
func (v Verifier) Verify(r *http.Request) (string, error) {
	auth, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return "", err
	}
	date, err := v.checkDate(r.Header.Get(HeaderDate))
	if err != nil {
		return auth.AccessKey, err
	}
	sk, ok := v.Secret(auth.AccessKey)
	if !ok {
		return auth.AccessKey, fmt.Errorf("unknown access key %q", auth.AccessKey)
	}
	payload, err := payloadHash(r)
	if err != nil {
		return auth.AccessKey, err
	}
	cr, err := CanonicalRequest(r, auth.SignedHeaders, payload)
	if err != nil {
		return auth.AccessKey, err
	}
	if !hmac.Equal(Signature(sk, date, cr), auth.Signature) {
		return auth.AccessKey, errors.New("the signature does not match the request")
	}
	return auth.AccessKey, nil
}

func (v Verifier) checkDate(value string) (string, error) {
	if value == "" {
		return "", errors.New("missing " + HeaderDate)
	}
	t, err := time.Parse(DateFormat, value)
	if err != nil {
		return "", fmt.Errorf("%s %q is not %s", HeaderDate, value, DateFormat)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	if skew := now().Sub(t); skew > MaxSkew || skew < -MaxSkew {
		return "", fmt.Errorf("%s %s is more than %s away from this agent's clock", HeaderDate, value, MaxSkew)
	}
	return value, nil
}

// Authorization is a parsed SDK-HMAC-SHA256 Authorization header.
type Authorization struct {
	AccessKey     string
	SignedHeaders []string
	Signature     []byte
}

// ParseAuthorization parses
// "SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=HEX". Each field
// comes once; x-sdk-date must be signed, or the date that bounds a replay
// could be changed at will.
func ParseAuthorization(v string) (Authorization, error) {
	scheme, rest, ok := strings.Cut(v, " ")
	if !ok || scheme != Algorithm {
		return Authorization{}, fmt.Errorf("authorization is not %s", Algorithm)
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || val == "" {
			return Authorization{}, fmt.Errorf("authorization field %q is not name=value", part)
		}
		if _, dup := fields[k]; dup {
			return Authorization{}, fmt.Errorf("authorization field %s appears twice", k)
		}
		fields[k] = val
	}
	var a Authorization
	for k, val := range fields {
		var err error
		switch k {
		case "Access":
			a.AccessKey = val
		case "SignedHeaders":
			a.SignedHeaders, err = parseSignedHeaders(val)
		case "Signature":
			a.Signature, err = parseSignature(val)
		default:
			err = fmt.Errorf("unknown authorization field %q", k)
		}
		if err != nil {
			return Authorization{}, err
		}
	}
	if a.AccessKey == "" || a.SignedHeaders == nil || a.Signature == nil {
		return Authorization{}, errors.New("authorization needs Access, SignedHeaders and Signature")
	}
	return a, nil
}

func parseSignedHeaders(v string) ([]string, error) {
	names := strings.Split(v, ";")
	for _, n := range names {
		if n == "" || n != strings.ToLower(n) || strings.ContainsAny(n, " \t:") {
			return nil, fmt.Errorf("SignedHeaders %q: %q is not a lowercase header name", v, n)
		}
	}
	if !slices.Contains(names, strings.ToLower(HeaderDate)) {
		return nil, fmt.Errorf("SignedHeaders %q does not sign %s", v, strings.ToLower(HeaderDate))
	}
	return names, nil
}

func parseSignature(v string) ([]byte, error) {
	b, err := hex.DecodeString(v)
	if err != nil || len(b) != sha256.Size {
		return nil, errors.New("signature is not a hex HMAC-SHA256")
	}
	return b, nil
}

// Signature is HMAC-SHA256, keyed with the SK itself (no derived key, unlike
// AWS SigV4), of the string to sign.
func Signature(sk, date, canonicalRequest string) []byte {
	sum := sha256.Sum256([]byte(canonicalRequest))
	mac := hmac.New(sha256.New, []byte(sk))
	mac.Write([]byte(Algorithm + "\n" + date + "\n" + hex.EncodeToString(sum[:])))
	return mac.Sum(nil)
}

// CanonicalRequest is what the signature covers:
// METHOD, URI, query, the signed headers' lines, their names, payload hash.
func CanonicalRequest(r *http.Request, signedHeaders []string, payloadHash string) (string, error) {
	uri, err := canonicalURI(r.URL)
	if err != nil {
		return "", err
	}
	query, err := canonicalQuery(r.URL.RawQuery)
	if err != nil {
		return "", err
	}
	return strings.Join([]string{r.Method, uri, query, canonicalHeaders(r, signedHeaders),
		strings.Join(signedHeaders, ";"), payloadHash}, "\n"), nil
}

// canonicalURI decodes each segment as sent and re-encodes it strictly, so
// that "$" and "%24" sign alike; it always ends with "/".
func canonicalURI(u *url.URL) (string, error) {
	segs := strings.Split(u.EscapedPath(), "/")
	for i, s := range segs {
		d, err := url.PathUnescape(s)
		if err != nil {
			return "", fmt.Errorf("path segment %q: %v", s, err)
		}
		segs[i] = escape(d)
	}
	p := strings.Join(segs, "/")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p, nil
}

// canonicalQuery sorts decoded names, then values, and encodes them
// strictly; a bare "?filter" is "filter=".
func canonicalQuery(raw string) (string, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "", fmt.Errorf("query: %v", err)
	}
	var out []string
	for _, k := range slices.Sorted(maps.Keys(q)) {
		vs := slices.Clone(q[k])
		slices.Sort(vs)
		for _, v := range vs {
			out = append(out, escape(k)+"="+escape(v))
		}
	}
	return strings.Join(out, "&"), nil
}

// canonicalHeaders is one "name:value" line per signed header value, each
// ending in "\n" (an absent header gives no line, as the SDK signs it).
// Go keeps Host out of r.Header.
func canonicalHeaders(r *http.Request, signed []string) string {
	var b strings.Builder
	for _, name := range signed {
		values := r.Header.Values(name)
		if name == "host" {
			values = []string{r.Host}
		}
		values = slices.Clone(values)
		slices.Sort(values)
		for _, v := range values {
			b.WriteString(name + ":" + strings.TrimSpace(v) + "\n")
		}
	}
	if b.Len() == 0 {
		return "\n"
	}
	return b.String()
}

// escape percent-encodes every byte but A-Za-z0-9 - _ . ~, in uppercase hex.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// payloadHash is the hash the signature covers: the header's when sent
// (the body is then checked as it is read), else the body's, read and put
// back for the handler.
func payloadHash(r *http.Request) (string, error) {
	if h := r.Header.Get(HeaderContentSHA256); h != "" {
		if h != UnsignedPayload && r.Body != nil {
			r.Body = &checkedBody{rc: r.Body, h: sha256.New(), want: strings.ToLower(h)}
		}
		return h, nil
	}
	if r.Body == nil || r.Body == http.NoBody {
		return hexSHA256(nil), nil
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxHashedBody+1))
	if err != nil {
		return "", fmt.Errorf("reading the body to hash it: %v", err)
	}
	if len(b) > MaxHashedBody {
		return "", fmt.Errorf("a body over %d bytes must carry its SHA-256 in %s", MaxHashedBody, HeaderContentSHA256)
	}
	r.Body = readCloser{bytes.NewReader(b), r.Body}
	return hexSHA256(b), nil
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// readCloser reads the buffered body and closes the original.
type readCloser struct {
	io.Reader
	io.Closer
}

// ErrBodyMismatch ends the reading of a body whose SHA-256 is not the one
// its X-Sdk-Content-Sha256 signed.
var ErrBodyMismatch = errors.New("sdksign: the body does not match " + HeaderContentSHA256)

// checkedBody hashes the body as the handler reads it and turns its end
// into ErrBodyMismatch when the hash differs.
type checkedBody struct {
	rc   io.ReadCloser
	h    hash.Hash
	want string
}

func (c *checkedBody) Read(p []byte) (int, error) {
	n, err := c.rc.Read(p)
	c.h.Write(p[:n])
	if err == io.EOF && hex.EncodeToString(c.h.Sum(nil)) != c.want {
		return n, ErrBodyMismatch
	}
	return n, err
}

func (c *checkedBody) Close() error { return c.rc.Close() }
