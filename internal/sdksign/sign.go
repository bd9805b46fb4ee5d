package sdksign

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Sign signs r as the SDK does, at now, for an agent that forwards a
// signed caller's write and for tests: it sets X-Sdk-Date and
// Authorization, signing host and every header already set but
// Content-Type (which the Go SDK leaves out too). The body is hashed and
// put back.
func Sign(r *http.Request, ak, sk string, now time.Time) error {
	date := now.UTC().Format(DateFormat)
	r.Header.Set(HeaderDate, date)
	signed := []string{"host"}
	for name := range r.Header {
		if n := strings.ToLower(name); !strings.HasPrefix(n, "content-type") && n != "authorization" {
			signed = append(signed, n)
		}
	}
	slices.Sort(signed)
	payload, err := bodyHash(r)
	if err != nil {
		return err
	}
	if h := r.Header.Get(HeaderContentSHA256); h != "" {
		payload = h
	}
	cr, err := CanonicalRequest(r, signed, payload)
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", fmt.Sprintf("%s Access=%s, SignedHeaders=%s, Signature=%s",
		Algorithm, ak, strings.Join(signed, ";"), hex.EncodeToString(Signature(sk, date, cr))))
	return nil
}

func bodyHash(r *http.Request) (string, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return hexSHA256(nil), nil
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return "", err
	}
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(b))
	return hexSHA256(b), nil
}
