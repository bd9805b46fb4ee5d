package oci

import (
	"errors"
	"strings"
	"testing"
)

func TestValidName(t *testing.T) {
	long := strings.Repeat("a", 127) + "/" + strings.Repeat("b", 127) // 255
	for name, want := range map[string]bool{
		"a": true, "ns/app": true, "ns/app/web/api": true, "0lead/digit": true,
		"a.b": true, "a_b": true, "a__b": true, "a-b": true, "a---b": true,
		"manifests/blobs/uploads/tags/referrers": true, long: true,
		long + "c": false, "": false, "A": false, "a..b": false, "a___b": false,
		"a-": false, "-a": false, "_a": false, ".a": false, "a/": false, "/a": false,
		"a//b": false, "a/../b": false, "a/./b": false, "a b": false, "a%2fb": false,
		"a._b": false, "a/_blobs": false,
	} {
		if got := ValidName(name); got != want {
			t.Errorf("ValidName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestValidTag(t *testing.T) {
	for tag, want := range map[string]bool{
		"latest": true, "v1.2.3": true, "_x": true, "A-b_c.d": true, "0": true,
		strings.Repeat("t", 128): true, strings.Repeat("t", 129): false,
		"": false, ".x": false, "-x": false, "a:b": false, "a/b": false, "a+b": false,
	} {
		if got := ValidTag(tag); got != want {
			t.Errorf("ValidTag(%q) = %v, want %v", tag, got, want)
		}
	}
}

func TestParseDigest(t *testing.T) {
	h64, h128 := strings.Repeat("ab", 32), strings.Repeat("0f", 64)
	cases := []struct {
		in        string
		ok, suppd bool
	}{
		{"sha256:" + h64, true, true},
		{"sha512:" + h128, true, false},
		{"sha256:" + strings.ToUpper(h64), false, false},
		{"sha256:" + h64[1:], false, false},
		{"sha256:" + h64 + "0", false, false},
		{"sha512:" + h64, false, false},
		{"sha384:" + h64, false, false},
		{"SHA256:" + h64, false, false},
		{h64, false, false},
		{"sha256:", false, false},
		{"", false, false},
		{"sha256:" + h64[:63] + "g", false, false},
		{"sha256+b64u:" + h64, false, false},
	}
	for _, c := range cases {
		d, err := ParseDigest(c.in)
		if (err == nil) != c.ok {
			t.Errorf("ParseDigest(%q) error %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrDigestInvalid) {
				t.Errorf("ParseDigest(%q) error %v does not wrap ErrDigestInvalid", c.in, err)
			}
			continue
		}
		if d.String() != c.in || d.Supported() != c.suppd {
			t.Errorf("ParseDigest(%q) = %v supported %v", c.in, d, d.Supported())
		}
	}
}

func TestFromBytes(t *testing.T) {
	// The empty JSON blob's well-known digest.
	const empty = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
	if got := FromBytes([]byte("{}")).String(); got != empty {
		t.Fatalf("FromBytes({}) = %s, want %s", got, empty)
	}
	if (Digest{}).String() != "" || !(Digest{}).IsZero() {
		t.Fatal("the zero Digest must render as \"\" and be zero")
	}
}

func TestSplitName(t *testing.T) {
	cases := []struct{ name, project, repo, image string }{
		{"ns/app", "ns", "app", ""},
		{"ns/app/web", "ns", "app", "web"},
		{"ns/app/web/api/v2", "ns", "app", "web/api/v2"},
		{"conformance/repo1", "conformance", "repo1", ""},
	}
	for _, c := range cases {
		p, r, i, err := SplitName(c.name)
		if err != nil || p != c.project || r != c.repo || i != c.image {
			t.Errorf("SplitName(%q) = %q %q %q %v", c.name, p, r, i, err)
		}
	}
	for _, bad := range []string{"", "single", "ns/App", "ns//app", "ns/app/"} {
		if _, _, _, err := SplitName(bad); !errors.Is(err, ErrNameInvalid) {
			t.Errorf("SplitName(%q) error %v, want ErrNameInvalid", bad, err)
		}
	}
}
