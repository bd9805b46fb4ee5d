package swr

import (
	"strings"
	"testing"
)

func TestParseRepoPath(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    repoPath
		wantOK  bool
		comment string
	}{
		{"/busybox/tags", repoPath{Repo: "busybox", Op: opTags}, true, "flat"},
		{"/app$web/tags", repoPath{Repo: "app/web", Op: opTags}, true, "$ is /"},
		{"/app/web/tags", repoPath{Repo: "app/web", Op: opTags}, true, "literal slashes"},
		{"/a$b/c/sync_repo", repoPath{Repo: "a/b/c", Op: opSyncRepo}, true, "mixed"},
		{"/app$web/sync_images", repoPath{Repo: "app/web", Op: opSyncImages}, true, ""},
		{"/app$web/sync_job", repoPath{Repo: "app/web", Op: opSyncJob}, true, ""},
		{"/app$web/tags/v1", repoPath{Repo: "app/web", Op: opTag, Tag: "v1"}, true, "one tag"},
		{"/app/web/tags/v1", repoPath{Repo: "app/web", Op: opTag, Tag: "v1"}, true, ""},
		{"/app$web", repoPath{Repo: "app/web"}, true, "the repository"},
		{"/tags", repoPath{Repo: "tags"}, true, "a repository named tags"},
		{"/x$tags/tags", repoPath{Repo: "x/tags", Op: opTags}, true, "a suffix word sent with $"},
		{"/x/tags/tags", repoPath{Repo: "x/tags", Op: opTags}, true, "literal: the last suffix wins"},
		{"/app$web/", repoPath{Repo: "app/web"}, true, "trailing slash"},
		{"/", repoPath{}, false, "empty"},
		{"//tags", repoPath{Repo: "tags"}, true, ""},
	} {
		got, ok := parseRepoPath(c.in)
		if ok != c.wantOK || ok && got != c.want {
			t.Errorf("%s (%s): %+v %v, want %+v %v", c.in, c.comment, got, ok, c.want, c.wantOK)
		}
	}
}

func FuzzParseRepoPath(f *testing.F) {
	for _, s := range []string{"/app$web/tags", "/a/b/c/tags/v1", "/x", "/", "//$$/tags", "/a/sync_job"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, ok := parseRepoPath(in)
		if !ok {
			return
		}
		if strings.Contains(p.Repo, "$") {
			t.Fatalf("%q: $ left in %q", in, p.Repo)
		}
		if p.Tag != "" && p.Op != opTag {
			t.Fatalf("%q: a tag without opTag: %+v", in, p)
		}
		// A valid name sent with '$' reads back as itself, whatever it ends with.
		if validRepo(p.Repo) {
			back, ok := parseRepoPath("/" + strings.ReplaceAll(p.Repo, "/", "$") + "/tags")
			if !ok || back.Repo != p.Repo || back.Op != opTags {
				t.Fatalf("%q: %q sent with $ reads %+v", in, p.Repo, back)
			}
		}
	})
}

func TestNameRules(t *testing.T) {
	for name, want := range map[string]bool{
		"ferry": true, "a": true, "a1.b_c-d": true, "a__b": true, "a___b": false, "a._b": false, "a--b": false,
		"1a": false, "a-": false, "A": false, strings.Repeat("a", 64): true, strings.Repeat("a", 65): false, "": false,
	} {
		if validNamespace(name) != want {
			t.Errorf("namespace %q: %v", name, !want)
		}
	}
	for name, want := range map[string]bool{
		"app/web": true, "1app": true, "a//b": false, "a/.b": false, "app/": false, "/app": false,
		strings.Repeat("a", 128): true, strings.Repeat("a", 129): false,
	} {
		if validRepo(name) != want {
			t.Errorf("repository %q: %v", name, !want)
		}
	}
}

func TestIDsAreStableInt32(t *testing.T) {
	if id32("ferry") != id32("ferry") || id32("ferry") == id32("ferrz") || id32("x") < 0 {
		t.Fatal("ids")
	}
}
