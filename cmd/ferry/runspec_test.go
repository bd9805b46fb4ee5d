package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/client"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  bool
	}{
		{in: "0", want: 0},
		{in: "1048576", want: 1 << 20},
		{in: "20MiB", want: 20 << 20},
		{in: "20mib", want: 20 << 20},
		{in: "20Mi", want: 20 << 20},
		{in: "10MB", want: 10_000_000},
		{in: "10M", want: 10_000_000},
		{in: "10 MB", want: 10_000_000},
		{in: " 1KiB ", want: 1024},
		{in: "1kB", want: 1000},
		{in: "512B", want: 512},
		{in: "1.5GiB", want: 3 << 29},
		{in: "0.5KiB", want: 512},
		{in: "1.5", want: 2},
		{in: "2TiB", want: 2 << 40},
		{in: "8388607TiB", want: 8388607 << 40},
		{in: "9223372036854775807", want: 1<<63 - 1},
		{in: "", err: true},
		{in: "MiB", err: true},
		{in: "-1", err: true},
		{in: "10XB", err: true},
		{in: "1.2.3MB", err: true},
		{in: ".", err: true},
		{in: "8388608TiB", err: true},
		{in: "9223372036854775808", err: true},
		{in: "1e3", err: true},
		{in: "99999999999.9TiB", err: true},
	} {
		got, err := parseSize(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("parseSize(%q) = %d, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestParsePackageFlag(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want client.PackageConstraint
		err  string
	}{
		{in: "gav://g:a", want: client.PackageConstraint{PackageKey: "gav://g:a"}},
		{in: "gav://g:a=1.0", want: client.PackageConstraint{PackageKey: "gav://g:a", Versions: []string{"1.0"}}},
		{in: "gav://g:a=1.0, 1.1", want: client.PackageConstraint{PackageKey: "gav://g:a", Versions: []string{"1.0", "1.1"}}},
		{in: "", err: "no package key"},
		{in: "=1.0", err: "no package key"},
		{in: "gav://g:a=", err: "empty version"},
		{in: "gav://g:a=1.0,,1.1", err: "empty version"},
	} {
		got, err := parsePackageFlag(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("parsePackageFlag(%q) = %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parsePackageFlag(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

func TestRunStartFlagsSpec(t *testing.T) {
	no := false
	base := func() runStartFlags {
		return runStartFlags{project: "bkrepo", repos: []string{"maven-local"}, to: []string{"beijing", " guangzhou"}}
	}
	for _, tc := range []struct {
		name string
		edit func(*runStartFlags)
		want client.RunSpec
		err  string
	}{
		{name: "repository", edit: func(*runStartFlags) {}, want: client.RunSpec{
			LocalProjectID: "bkrepo", ReplicaObjectType: "REPOSITORY", RemoteClusterIDs: []string{"beijing", "guangzhou"},
			ReplicaTaskObjects: []client.ReplicaObject{{LocalRepoName: "maven-local"}},
		}},
		{name: "everything", edit: func(f *runStartFlags) {
			f.from, f.remoteProject, f.remoteRepo, f.repoType = "shanghai", "other", "maven-copy", "maven"
			f.packages = []string{"gav://g:a=1.0,1.1", "gav://g:b"}
			f.rate, f.conflict, f.onError, f.noMetadata = "20MiB/s", "overwrite", "FAST_FAIL", true
		}, want: client.RunSpec{
			SourceClusterID: "shanghai", LocalProjectID: "bkrepo", ReplicaObjectType: "PACKAGE", RemoteClusterIDs: []string{"beijing", "guangzhou"},
			ReplicaTaskObjects: []client.ReplicaObject{{LocalRepoName: "maven-local", RemoteProjectID: "other", RemoteRepoName: "maven-copy", RepoType: "MAVEN",
				PackageConstraints: []client.PackageConstraint{{PackageKey: "gav://g:a", Versions: []string{"1.0", "1.1"}}, {PackageKey: "gav://g:b"}}}},
			Setting: client.RunSetting{RateLimit: 20 << 20, IncludeMetadata: &no, ConflictStrategy: "OVERWRITE", ErrorStrategy: "FAST_FAIL"},
		}},
		{name: "paths over two repos", edit: func(f *runStartFlags) {
			f.repos = []string{"a", "b"}
			f.paths = []string{"/x", "y/z"}
		}, want: client.RunSpec{
			LocalProjectID: "bkrepo", ReplicaObjectType: "PATH", RemoteClusterIDs: []string{"beijing", "guangzhou"},
			ReplicaTaskObjects: []client.ReplicaObject{
				{LocalRepoName: "a", PathConstraints: []client.PathConstraint{{Path: "/x"}, {Path: "/y/z"}}},
				{LocalRepoName: "b", PathConstraints: []client.PathConstraint{{Path: "/x"}, {Path: "/y/z"}}},
			},
		}},
		{name: "no project", edit: func(f *runStartFlags) { f.project = "" }, err: "--project is required"},
		{name: "no repo", edit: func(f *runStartFlags) { f.repos = []string{""} }, err: "--repo is required"},
		{name: "no target", edit: func(f *runStartFlags) { f.to = nil }, err: "--to is required"},
		{name: "remote repo for two", edit: func(f *runStartFlags) { f.repos, f.remoteRepo = []string{"a", "b"}, "c" }, err: "single --repo"},
		{name: "bad type", edit: func(f *runStartFlags) { f.objectType = "FILES" }, err: "--type"},
		{name: "path and package", edit: func(f *runStartFlags) { f.paths, f.packages = []string{"/a"}, []string{"k"} }, err: "cannot be used together"},
		{name: "path with REPOSITORY", edit: func(f *runStartFlags) { f.objectType, f.paths = "repository", []string{"/a"} }, err: "--path needs --type PATH"},
		{name: "PATH without path", edit: func(f *runStartFlags) { f.objectType = "path" }, err: "--type PATH needs --path"},
		{name: "PACKAGE without package", edit: func(f *runStartFlags) { f.objectType = "PACKAGE" }, err: "--type PACKAGE needs --package"},
		{name: "empty path", edit: func(f *runStartFlags) { f.paths = []string{""} }, err: "empty path"},
		{name: "bad rate", edit: func(f *runStartFlags) { f.rate = "fast" }, err: "--rate"},
		{name: "bad conflict", edit: func(f *runStartFlags) { f.conflict = "IGNORE" }, err: "--conflict"},
		{name: "bad error", edit: func(f *runStartFlags) { f.onError = "SKIP" }, err: "--error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := base()
			tc.edit(&f)
			got, err := f.spec()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("spec() = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("spec() = %+v, %v\nwant %+v", got, err, tc.want)
			}
		})
	}
}

func TestDecodeRunSpec(t *testing.T) {
	yes := true
	want := client.RunSpec{
		SourceClusterID: "shanghai", LocalProjectID: "bkrepo", ReplicaObjectType: "PATH",
		ReplicaTaskObjects: []client.ReplicaObject{{LocalRepoName: "generic", RepoType: "GENERIC",
			PathConstraints: []client.PathConstraint{{Path: "/a/b"}, {Path: "/c"}}}},
		RemoteClusterIDs: []string{"beijing", "guangzhou"},
		Setting:          client.RunSetting{RateLimit: 1024, IncludeMetadata: &yes, ConflictStrategy: "SKIP"},
	}
	yamlSpec := `
sourceClusterId: shanghai
localProjectId: bkrepo
replicaObjectType: PATH
replicaTaskObjects:
  - localRepoName: generic
    repoType: GENERIC
    pathConstraints: ["/a/b", {path: /c}]
remoteClusterIds: [beijing, guangzhou]
setting: {rateLimit: 1024, includeMetadata: true, conflictStrategy: SKIP}
`
	jsonSpec := `{"sourceClusterId": "shanghai", "localProjectId": "bkrepo", "replicaObjectType": "PATH",
  "replicaTaskObjects": [{"localRepoName": "generic", "repoType": "GENERIC", "pathConstraints": ["/a/b", {"path": "/c"}]}],
  "remoteClusterIds": ["beijing", "guangzhou"], "setting": {"rateLimit": 1024, "includeMetadata": true, "conflictStrategy": "SKIP"}}`
	for _, tc := range []struct{ data, name string }{
		{yamlSpec, "spec.yaml"}, {yamlSpec, "spec.yml"}, {yamlSpec, "-"},
		{jsonSpec, "spec.json"}, {jsonSpec, "-"}, {jsonSpec, "spec.yaml"}, // JSON is YAML too
	} {
		got, err := decodeStrict[client.RunSpec]([]byte(tc.data), tc.name, "spec")
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("decodeRunSpec(%s) = %+v, %v\nwant %+v", tc.name, got, err, want)
		}
	}
	for _, tc := range []struct{ data, name, err string }{
		{"", "spec.yaml", "empty spec"},
		{"", "spec.json", "empty spec"},
		{"localProjectId: p\nremoteClusterIDz: [a]\n", "spec.yaml", `unknown field "remoteClusterIDz"`},
		{`{"localProjectId": "p", "extra": 1}`, "spec.json", `unknown field "extra"`},
		{`{"localProjectId": "p"} {}`, "spec.json", "data after the spec"},
		{"localProjectId: [unclosed\n", "spec.yaml", "yaml"},
		{"1: x\n", "spec.yaml", `unknown field "1"`},
		{"setting: {rateLimit: 20MiB}\n", "spec.yaml", "rateLimit"},
	} {
		if _, err := decodeStrict[client.RunSpec]([]byte(tc.data), tc.name, "spec"); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("decodeRunSpec(%q, %s) = %v, want %q", tc.data, tc.name, err, tc.err)
		}
	}
}
