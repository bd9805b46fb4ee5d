package sdksign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The captured create-rule request of the contract (§2.4, §3): AK test-ak,
// SK test-sk. The User-Agent's app id is redacted there as <uuid>; it is
// signed as it is, so the signatures below are recomputed with it.
const (
	capturedUA    = "huaweicloud-usdk-go/3.0; os/Debian_GNU/Linux#12_(bookworm)#amd64 go/go1.26.8; app/<uuid>"
	capturedDate  = "20261202T072424Z"
	capturedBody  = `{"remoteRegionId":"cn-east-3","remoteNamespace":"ferry","syncAuto":true,"override":false}` + "\n"
	capturedCanon = "POST\n" +
		"/v2/manage/namespaces/ferry/repos/app%24web/sync_repo/\n" +
		"\n" +
		"user-agent:" + capturedUA + "\n" +
		"x-project-id:0123456789abcdef0123456789abcdef\n" +
		"x-sdk-date:20261202T072424Z\n" +
		"\n" +
		"user-agent;x-project-id;x-sdk-date\n" +
		"63d81e5c18d660fe3fb7688e12dd0fb22c89fc698c76d8bdae0bd7df45f5ee6d"
	jobCanonQuery = "filter=limit%3A%3A10%7Coffset%3A%3A0%7Corder%3A%3Adesc"
)

var capturedAt = time.Date(2026, 12, 2, 7, 24, 24, 0, time.UTC)

// sign computes the signature from the canonical text alone, independently
// of the code under test.
func sign(sk, date, canon string) string {
	sum := sha256.Sum256([]byte(canon))
	mac := hmac.New(sha256.New, []byte(sk))
	mac.Write([]byte("SDK-HMAC-SHA256\n" + date + "\n" + hex.EncodeToString(sum[:])))
	return hex.EncodeToString(mac.Sum(nil))
}

func verifier(at time.Time) Verifier {
	return Verifier{
		Secret: func(ak string) (string, bool) { return "test-sk", ak == "test-ak" },
		Now:    func() time.Time { return at },
	}
}

// capturedRequest is the create-rule request as the server receives it.
func capturedRequest(t *testing.T) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:18080/v2/manage/namespaces/ferry/repos/app$web/sync_repo", strings.NewReader(capturedBody))
	r.Header.Set("User-Agent", capturedUA)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Project-Id", "0123456789abcdef0123456789abcdef")
	r.Header.Set("X-Sdk-Date", capturedDate)
	r.Header.Set("Accept-Encoding", "gzip")
	r.Header.Set("Authorization", "SDK-HMAC-SHA256 Access=test-ak, SignedHeaders=user-agent;x-project-id;x-sdk-date, Signature="+sign("test-sk", capturedDate, capturedCanon))
	return r
}

func TestCanonicalRequestMatchesTheCapture(t *testing.T) {
	r := capturedRequest(t)
	got, err := CanonicalRequest(r, []string{"user-agent", "x-project-id", "x-sdk-date"}, hexSHA256([]byte(capturedBody)))
	if err != nil || got != capturedCanon {
		t.Fatalf("canonical request (%v):\n%s\nwant:\n%s", err, got, capturedCanon)
	}
	for _, raw := range []string{"filter=limit%3A%3A10%7Coffset%3A%3A0%7Corder%3A%3Adesc", "filter=limit::10|offset::0|order::desc"} {
		if q, err := canonicalQuery(raw); err != nil || q != jobCanonQuery {
			t.Errorf("query %q: %q %v, want %q", raw, q, err, jobCanonQuery)
		}
	}
	for raw, want := range map[string]string{"filter": "filter=", "b=2&a=1&a=0": "a=0&a=1&b=2", "": "", "x=a+b": "x=a%20b"} {
		if q, _ := canonicalQuery(raw); q != want {
			t.Errorf("query %q: %q, want %q", raw, q, want)
		}
	}
}

func TestVerifyAcceptsTheSignedRequestAndKeepsTheBody(t *testing.T) {
	r := capturedRequest(t)
	ak, err := verifier(capturedAt.Add(14 * time.Minute)).Verify(r)
	if err != nil || ak != "test-ak" {
		t.Fatalf("Verify: %q %v", ak, err)
	}
	if b, _ := io.ReadAll(r.Body); string(b) != capturedBody {
		t.Fatalf("the handler reads %q, want the body", b)
	}
	// "$" sent escaped signs alike.
	r = capturedRequest(t)
	r.URL.Path, r.URL.RawPath = "/v2/manage/namespaces/ferry/repos/app$web/sync_repo", "/v2/manage/namespaces/ferry/repos/app%24web/sync_repo"
	if _, err := verifier(capturedAt).Verify(r); err != nil {
		t.Fatalf("escaped $: %v", err)
	}
}

func TestVerifyRejectsAnyChange(t *testing.T) {
	cases := map[string]struct {
		change func(*http.Request)
		at     time.Time
	}{
		"signed header": {change: func(r *http.Request) { r.Header.Set("User-Agent", "curl/8") }},
		"body": {change: func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader(strings.Replace(capturedBody, "true", "false", 1)))
		}},
		"path":     {change: func(r *http.Request) { r.URL.Path = "/v2/manage/namespaces/ferry/repos/app$web/sync_images" }},
		"query":    {change: func(r *http.Request) { r.URL.RawQuery = "filter" }},
		"method":   {change: func(r *http.Request) { r.Method = http.MethodDelete }},
		"date":     {change: func(r *http.Request) { r.Header.Set("X-Sdk-Date", "20261202T072425Z") }},
		"no date":  {change: func(r *http.Request) { r.Header.Del("X-Sdk-Date") }},
		"wrong SK": {change: func(r *http.Request) { setSignature(r, sign("other-sk", capturedDate, capturedCanon)) }},
		"unknown AK": {change: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "test-ak", "other-ak", 1))
		}},
		"date unsigned": {change: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), ";x-sdk-date", "", 1))
		}},
		"16 minutes old": {at: capturedAt.Add(16 * time.Minute)},
		"16 minutes new": {at: capturedAt.Add(-16 * time.Minute)},
		"other algorithm": {change: func(r *http.Request) {
			r.Header.Set("Authorization", "SDK-HMAC-SM3"+strings.TrimPrefix(r.Header.Get("Authorization"), Algorithm))
		}},
	}
	for name, c := range cases {
		r := capturedRequest(t)
		if c.change != nil {
			c.change(r)
		}
		at := c.at
		if at.IsZero() {
			at = capturedAt
		}
		if _, err := verifier(at).Verify(r); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func setSignature(r *http.Request, sig string) {
	a := r.Header.Get("Authorization")
	r.Header.Set("Authorization", a[:strings.LastIndex(a, "=")+1]+sig)
}

func TestSignIsVerified(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "http://agent:7700/v1/clusters?b=1&a=x%2Fy&filter", nil)
	if err := Sign(r, "test-ak", "test-sk", capturedAt); err != nil {
		t.Fatal(err)
	}
	if _, err := verifier(capturedAt).Verify(r); err != nil {
		t.Fatalf("own signature refused: %v", err)
	}
	r.Host = "other:7700" // host is signed
	if _, err := verifier(capturedAt).Verify(r); err == nil {
		t.Fatal("a changed host was accepted")
	}
}

func TestLargeBodies(t *testing.T) {
	big := strings.Repeat("x", MaxHashedBody+1)
	r := httptest.NewRequest(http.MethodPut, "http://agent/v1/x", strings.NewReader(big))
	if err := Sign(r, "test-ak", "test-sk", capturedAt); err != nil {
		t.Fatal(err)
	}
	r.Body = io.NopCloser(strings.NewReader(big))
	if _, err := verifier(capturedAt).Verify(r); err == nil || !strings.Contains(err.Error(), HeaderContentSHA256) {
		t.Fatalf("a body over the bound without its hash: %v", err)
	}

	// With the hash in the header the body streams and is checked at its end.
	for body, wantErr := range map[string]error{big: nil, big[1:] + "y": ErrBodyMismatch} {
		r := httptest.NewRequest(http.MethodPut, "http://agent/v1/x", strings.NewReader(body))
		r.Header.Set(HeaderContentSHA256, hexSHA256([]byte(big)))
		if err := Sign(r, "test-ak", "test-sk", capturedAt); err != nil {
			t.Fatal(err)
		}
		if _, err := verifier(capturedAt).Verify(r); err != nil {
			t.Fatalf("hashed in the header: %v", err)
		}
		if _, err := io.ReadAll(r.Body); !errors.Is(err, wantErr) {
			t.Fatalf("reading the body: %v, want %v", err, wantErr)
		}
	}
}

func TestParseAuthorization(t *testing.T) {
	sig := strings.Repeat("ab", 32)
	a, err := ParseAuthorization("SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;x-sdk-date, Signature=" + sig)
	if err != nil || a.AccessKey != "AK1" || strings.Join(a.SignedHeaders, ";") != "host;x-sdk-date" || hex.EncodeToString(a.Signature) != sig {
		t.Fatalf("%+v %v", a, err)
	}
	for _, bad := range []string{
		"", "Bearer x", "SDK-HMAC-SHA256", "SDK-HMAC-SHA256 Access=AK1",
		"SDK-HMAC-SHA256 Access=AK1, Access=AK2, SignedHeaders=x-sdk-date, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature=zz",
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=X-Sdk-Date, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=host;;x-sdk-date, Signature=" + sig,
		"SDK-HMAC-SHA256 Access=AK1, SignedHeaders=x-sdk-date, Signature=" + sig + ", Extra=1",
		"SDK-HMAC-SHA256 Access=, SignedHeaders=x-sdk-date, Signature=" + sig,
	} {
		if _, err := ParseAuthorization(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add("SDK-HMAC-SHA256 Access=test-ak, SignedHeaders=user-agent;x-project-id;x-sdk-date, Signature=" + strings.Repeat("0", 64))
	f.Add("SDK-HMAC-SHA256 Access=a,SignedHeaders=x-sdk-date,Signature=")
	f.Add("SDK-HMAC-SHA256 ,,,==")
	f.Fuzz(func(t *testing.T, v string) {
		a, err := ParseAuthorization(v)
		if err != nil {
			return
		}
		// What parses has all three fields, a full signature and a signed date.
		if a.AccessKey == "" || len(a.Signature) != sha256.Size || len(a.SignedHeaders) == 0 {
			t.Fatalf("%q parsed to %+v", v, a)
		}
		again, err := ParseAuthorization(Algorithm + " Access=" + a.AccessKey + ", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + ", Signature=" + hex.EncodeToString(a.Signature))
		if err != nil || again.AccessKey != a.AccessKey {
			t.Fatalf("%q: the parsed fields do not parse again: %v", v, err)
		}
	})
}
