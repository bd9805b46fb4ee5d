package store

import (
	"errors"
	"path"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// The documented rule, written independently of the implementation.
var (
	projectNameRule = regexp.MustCompile(`^[a-z][a-z0-9._-]{1,63}$`)
	repoNameRule    = regexp.MustCompile(`^[a-z][a-z0-9._-]{0,127}$`)
)

func TestValidateProjectName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"ab", true},
		{"a1", true},
		{"my-project", true},
		{"my_project.v2", true},
		{"a.-_9", true},
		{strings.Repeat("a", 64), true},
		{"a" + strings.Repeat("9", 63), true},

		{"", false},
		{"a", false}, // too short
		{strings.Repeat("a", 65), false},
		{"Ab", false},
		{"aB", false},
		{"1ab", false},
		{"-ab", false},
		{".ab", false},
		{"_ab", false},
		{"a b", false},
		{"a/b", false},
		{"a:b", false},
		{"a\x00b", false},
		{"ab\n", false},
		{"héllo", false},
		{"项目", false},
	}
	for _, tt := range tests {
		err := ValidateProjectName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateProjectName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("ValidateProjectName(%q) error %v does not wrap ErrInvalid", tt.name, err)
			}
			if !strings.Contains(err.Error(), "project name") || !strings.Contains(err.Error(), "2-64") {
				t.Errorf("ValidateProjectName(%q) error %q does not say what is wrong", tt.name, err)
			}
		}
	}
	const want = `invalid: project name "Ab" must be 2-64 characters: lowercase letters, digits, '.', '_' or '-', starting with a letter`
	if err := ValidateProjectName("Ab"); err == nil || err.Error() != want {
		t.Errorf("ValidateProjectName(\"Ab\") = %v, want %s", err, want)
	}
}

func TestValidateRepoName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"a", true},
		{"z", true},
		{"generic-local", true},
		{"maven_releases.2", true},
		{strings.Repeat("r", 128), true},

		{"", false},
		{strings.Repeat("r", 129), false},
		{"A", false},
		{"Repo", false},
		{"9repo", false},
		{"-repo", false},
		{".repo", false},
		{"re po", false},
		{"re/po", false},
		{"re\\po", false},
		{"repo\t", false},
		{"répo", false},
	}
	for _, tt := range tests {
		err := ValidateRepoName(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateRepoName(%q) = %v, want ok=%v", tt.name, err, tt.ok)
			continue
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("ValidateRepoName(%q) error %v does not wrap ErrInvalid", tt.name, err)
			}
			if !strings.Contains(err.Error(), "repository name") || !strings.Contains(err.Error(), "1-128") {
				t.Errorf("ValidateRepoName(%q) error %q does not say what is wrong", tt.name, err)
			}
		}
	}
}

func TestNormalizePath(t *testing.T) {
	long := "/" + strings.Repeat("a", MaxPathBytes-1) // exactly MaxPathBytes
	tests := []struct {
		in, want string
		errHas   string // when non-empty: an error is expected, containing this
	}{
		{in: "", want: "/"},
		{in: "/", want: "/"},
		{in: "//", want: "/"},
		{in: ".", want: "/"},
		{in: "/./", want: "/"},
		{in: "././/.", want: "/"},
		{in: "a", want: "/a"},
		{in: "/a", want: "/a"},
		{in: "/a/", want: "/a"},
		{in: "a/b", want: "/a/b"},
		{in: "/a/./b//c/", want: "/a/b/c"},
		{in: "///a///b///", want: "/a/b"},
		{in: "./a/.", want: "/a"},
		{in: "/a/.b/..c/...", want: "/a/.b/..c/..."},
		{in: "/a b/c d.txt", want: "/a b/c d.txt"},
		{in: "/文件/é.txt", want: "/文件/é.txt"},
		{in: "文件/é.txt", want: "/文件/é.txt"},
		{in: "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar", want: "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar"},
		{in: long, want: long},
		{in: long + "/", errHas: "longer than"},                              // 1025 bytes given, though 1024 once normalised
		{in: strings.Repeat("a", MaxPathBytes), errHas: "longer than"},       // 1025 once the slash is added
		{in: "/" + strings.Repeat("a", MaxPathBytes), errHas: "longer than"}, // 1025 bytes given
		{in: strings.Repeat("/", MaxPathBytes+1), errHas: "longer than"},

		{in: "..", errHas: `".."`},
		{in: "/..", errHas: `".."`},
		{in: "../a", errHas: `".."`},
		{in: "a/../b", errHas: `".."`},
		{in: "/a/b/..", errHas: `".."`},
		{in: "/a/../../etc/passwd", errHas: `".."`},
		{in: "\x00", errHas: "control character"},
		{in: "/a\x00b", errHas: "control character"},
		{in: "/a\nb", errHas: "control character"},
		{in: "/a\rb", errHas: "control character"},
		{in: "/a\tb", errHas: "control character"},
		{in: "/a\x1fb", errHas: "control character"},
		{in: "/a\x7fb", errHas: "control character"},
		{in: "a\\b", errHas: "backslash"},
		{in: "\\", errHas: "backslash"},
		{in: "..\\..\\windows", errHas: "backslash"},
		{in: "/a\xffb", errHas: "UTF-8"},
		{in: "/\xc3", errHas: "UTF-8"},
		{in: "/\xed\xa0\x80", errHas: "UTF-8"}, // surrogate half
		{in: "/\xc0\xaf", errHas: "UTF-8"},     // overlong '/'
	}
	for _, tt := range tests {
		got, err := NormalizePath(tt.in)
		if tt.errHas != "" {
			if err == nil {
				t.Errorf("NormalizePath(%.40q) = %q, want an error", tt.in, got)
				continue
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("NormalizePath(%.40q) error %v does not wrap ErrInvalid", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("NormalizePath(%.40q) error %q does not mention %q", tt.in, err, tt.errHas)
			}
			if got != "" {
				t.Errorf("NormalizePath(%.40q) returned %q with its error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizePath(%.40q) = %.40q, %v; want %.40q", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeFilePath(t *testing.T) {
	tests := []struct {
		in, want string
		errHas   string
	}{
		{in: "a", want: "/a"},
		{in: "/a/./b//c/", want: "/a/b/c"},
		{in: "/文件/é.txt", want: "/文件/é.txt"},
		{in: "", errHas: "root"},
		{in: "/", errHas: "root"},
		{in: "//", errHas: "root"},
		{in: "/./.", errHas: "root"},
		{in: "a/../b", errHas: `".."`},
		{in: "\x00", errHas: "control character"},
		{in: "a\\b", errHas: "backslash"},
		{in: "/\xff", errHas: "UTF-8"},
		{in: "/" + strings.Repeat("a", MaxPathBytes), errHas: "longer than"},
	}
	for _, tt := range tests {
		got, err := NormalizeFilePath(tt.in)
		if tt.errHas != "" {
			if err == nil {
				t.Errorf("NormalizeFilePath(%.40q) = %q, want an error", tt.in, got)
				continue
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.errHas) {
				t.Errorf("NormalizeFilePath(%.40q) error %q: want ErrInvalid mentioning %q", tt.in, err, tt.errHas)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeFilePath(%.40q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParentAndName(t *testing.T) {
	tests := []struct{ in, dir, name string }{
		{"/a/b/c", "/a/b", "c"},
		{"/c", "/", "c"},
		{"/a/b", "/a", "b"},
		{"/文件/é.txt", "/文件", "é.txt"},
		{"/", "/", ""},
	}
	for _, tt := range tests {
		dir, name := parentAndName(tt.in)
		if dir != tt.dir || name != tt.name {
			t.Errorf("parentAndName(%q) = %q, %q; want %q, %q", tt.in, dir, name, tt.dir, tt.name)
		}
	}
}

func FuzzNormalizePath(f *testing.F) {
	for _, s := range []string{
		"", "/", ".", "..", "a", "/a/./b//c/", "a/../b", "\x00", "a\\b", "/文件/é.txt",
		"/a\xffb", "//..//", "/.../", strings.Repeat("a/", 600), strings.Repeat("a", MaxPathBytes),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got, err := NormalizePath(p)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("NormalizePath(%q) error %v does not wrap ErrInvalid", p, err)
			}
			if got != "" {
				t.Fatalf("NormalizePath(%q) returned %q with its error", p, got)
			}
			return
		}
		if !strings.HasPrefix(got, "/") {
			t.Fatalf("NormalizePath(%q) = %q: no leading slash", p, got)
		}
		if got != "/" && strings.HasSuffix(got, "/") {
			t.Fatalf("NormalizePath(%q) = %q: trailing slash", p, got)
		}
		if strings.Contains(got, "//") {
			t.Fatalf("NormalizePath(%q) = %q: contains //", p, got)
		}
		for _, seg := range strings.Split(got[1:], "/") {
			if seg == "." || seg == ".." {
				t.Fatalf("NormalizePath(%q) = %q: contains a %q segment", p, got, seg)
			}
		}
		if strings.Contains(got+"/", "/./") || strings.Contains(got+"/", "/../") {
			t.Fatalf("NormalizePath(%q) = %q: contains /./ or /../", p, got)
		}
		for i := 0; i < len(got); i++ {
			if c := got[i]; c < 0x20 || c == 0x7f || c == '\\' {
				t.Fatalf("NormalizePath(%q) = %q: contains byte 0x%02x", p, got, c)
			}
		}
		if !utf8.ValidString(got) {
			t.Fatalf("NormalizePath(%q) = %q: invalid UTF-8", p, got)
		}
		if len(got) > MaxPathBytes {
			t.Fatalf("NormalizePath(%q) = %d bytes, over MaxPathBytes", p, len(got))
		}
		// Without ".." segments, the canonical form is what path.Clean gives.
		if want := path.Clean("/" + p); got != want {
			t.Fatalf("NormalizePath(%q) = %q, path.Clean gives %q", p, got, want)
		}
		again, err := NormalizePath(got)
		if err != nil || again != got {
			t.Fatalf("NormalizePath(%q) = %q, but NormalizePath(%q) = %q, %v: not idempotent", p, got, got, again, err)
		}
		file, err := NormalizeFilePath(p)
		if got == "/" {
			if err == nil {
				t.Fatalf("NormalizeFilePath(%q) = %q, want an error for the root", p, file)
			}
		} else if err != nil || file != got {
			t.Fatalf("NormalizeFilePath(%q) = %q, %v; NormalizePath gives %q", p, file, err, got)
		}
		if got != "/" {
			dir, name := parentAndName(got)
			if name == "" || strings.Contains(name, "/") || path.Join(dir, name) != got {
				t.Fatalf("parentAndName(%q) = %q, %q", got, dir, name)
			}
		}
	})
}

func FuzzValidateNames(f *testing.F) {
	for _, s := range []string{
		"", "a", "ab", "Ab", "1a", "a-b_c.d", "a b", "é", "a\x00",
		strings.Repeat("a", 64), strings.Repeat("a", 65), strings.Repeat("a", 128), strings.Repeat("a", 129),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := ValidateProjectName(name)
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("ValidateProjectName(%q) error %v does not wrap ErrInvalid", name, err)
		}
		if want := projectNameRule.MatchString(name); (err == nil) != want {
			t.Fatalf("ValidateProjectName(%q) = %v, but the rule says ok=%v", name, err, want)
		}
		err = ValidateRepoName(name)
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("ValidateRepoName(%q) error %v does not wrap ErrInvalid", name, err)
		}
		if want := repoNameRule.MatchString(name); (err == nil) != want {
			t.Fatalf("ValidateRepoName(%q) = %v, but the rule says ok=%v", name, err, want)
		}
	})
}
