package store

import (
	"strings"
	"testing"
)

func TestPackageForPath(t *testing.T) {
	tests := []struct {
		typ     RepoType
		path    string
		key     string
		version string // empty: not a package (ok=false)
	}{
		// MAVEN artifacts.
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar", "gav://com.alibaba:fastjson", "1.2.47"},
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.pom", "gav://com.alibaba:fastjson", "1.2.47"},
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47-sources.jar", "gav://com.alibaba:fastjson", "1.2.47"},
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47-javadoc.jar", "gav://com.alibaba:fastjson", "1.2.47"},
		{TypeMaven, "/org/example/web/2.0/web-2.0.war", "gav://org.example:web", "2.0"},
		{TypeMaven, "/org/example/dist/2.0/dist-2.0-bin.tar.gz", "gav://org.example:dist", "2.0"},
		{TypeMaven, "/junit/junit/4.13.2/junit-4.13.2.jar", "gav://junit:junit", "4.13.2"}, // one group segment
		{TypeMaven, "/io/netty/netty-transport-native-epoll/4.1.100.Final/netty-transport-native-epoll-4.1.100.Final-linux-x86_64.jar",
			"gav://io.netty:netty-transport-native-epoll", "4.1.100.Final"},
		// SNAPSHOT versions: plain and timestamped file names.
		{TypeMaven, "/com/example/app/1.0-SNAPSHOT/app-1.0-SNAPSHOT.jar", "gav://com.example:app", "1.0-SNAPSHOT"},
		{TypeMaven, "/com/example/app/1.0-SNAPSHOT/app-1.0-20200101.120000-1.jar", "gav://com.example:app", "1.0-SNAPSHOT"},
		{TypeMaven, "/com/example/app/1.0-SNAPSHOT/app-1.0-20200101.120000-1.pom", "gav://com.example:app", "1.0-SNAPSHOT"},
		{TypeMaven, "/com/example/app/1.0-SNAPSHOT/app-1.0-20200101.120000-12-sources.jar", "gav://com.example:app", "1.0-SNAPSHOT"},
		// MAVEN non-artifacts.
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar.sha1", "", ""},
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar.md5", "", ""},
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar.sha256", "", ""},
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar.sha512", "", ""},
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar.asc", "", ""},
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.pom.asc.sha1", "", ""},
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.JAR.SHA1", "", ""},
		{TypeMaven, "/com/alibaba/fastjson/maven-metadata.xml", "", ""},
		{TypeMaven, "/com/alibaba/fastjson/maven-metadata.xml.sha1", "", ""},
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/maven-metadata.xml", "", ""},
		{TypeMaven, "/com/example/app/1.0-SNAPSHOT/maven-metadata.xml", "", ""},
		{TypeMaven, "/com/example/app/1.0-SNAPSHOT/maven-metadata-local.xml", "", ""},
		{TypeMaven, "/com/alibaba/maven-metadata.xml", "", ""},
		{TypeMaven, "/maven-metadata.xml", "", ""},
		{TypeMaven, "/fastjson/1.2.47/fastjson-1.2.47.jar", "", ""}, // no group
		{TypeMaven, "/1.2.47/fastjson-1.2.47.jar", "", ""},
		{TypeMaven, "/fastjson-1.2.47.jar", "", ""},
		{TypeMaven, "/", "", ""},
		{TypeMaven, "", "", ""},
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/other-1.2.47.jar", "", ""},    // artifactId mismatch
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.48.jar", "", ""}, // version mismatch
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson.jar", "", ""},
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47", "", ""},      // no extension
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.", "", ""},     // empty extension
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47-.jar", "", ""}, // empty classifier
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47-sources", "", ""},
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47x.jar", "", ""},
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/README.txt", "", ""},
		{TypeMaven, "/com/alibaba/fastjson/1.2.47/", "", ""},
		{TypeMaven, "com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar", "", ""}, // not normalised
		{TypeMaven, "/com//alibaba/fastjson/1.2.47/fastjson-1.2.47.jar", "", ""},
		{TypeMaven, "/com/a:b/fastjson/1.2.47/fastjson-1.2.47.jar", "", ""},                // ':' is the key's separator
		{TypeMaven, "/com/example/app/1.0-SNAPSHOT/app-2.0-20200101.120000-1.jar", "", ""}, // wrong base version
		{TypeMaven, "/com/example/app/1.0-SNAPSHOT/app-1.0.jar", "", ""},                   // not a snapshot file
		{TypeMaven, "/com/example/app/1.0-SNAPSHOT/app-1.0-2020.120000-1.jar", "", ""},     // bad timestamp
		{TypeMaven, "/com/example/app/1.0-SNAPSHOT/app-1.0-20200101.120000-.jar", "", ""},  // no build number
		{TypeMaven, "/com/example/app/1.0-SNAPSHOT/app-1.0-20200101.120000-1", "", ""},     // no extension
		{TypeMaven, "/com/example/app/1.0-SNAPSHOT/app-1.0-20200101.120000-1.jar.sha1", "", ""},
		{TypeMaven, "/com/example/app/1.0/app-1.0-20200101.120000-1.jar", "gav://com.example:app", "1.0"}, // release: "20200101.120000-1" is a classifier
		{TypeMaven, "/com/example/app/1.0/app-0.9-20200101.120000-1.jar", "", ""},

		// NPM tarballs.
		{TypeNPM, "/helloworld/-/helloworld-1.0.0.tgz", "npm://helloworld", "1.0.0"},
		{TypeNPM, "/@scope/pkg/-/pkg-2.1.0-beta.1.tgz", "npm://@scope/pkg", "2.1.0-beta.1"},
		{TypeNPM, "/left-pad/-/left-pad-1.3.0.tgz", "npm://left-pad", "1.3.0"},
		{TypeNPM, "/@types/node/-/node-20.11.5.tgz", "npm://@types/node", "20.11.5"},
		{TypeNPM, "/pkg/-/pkg-1.0.0+build.5.tgz", "npm://pkg", "1.0.0+build.5"},
		// NPM non-tarballs.
		{TypeNPM, "/helloworld/package.json", "", ""},
		{TypeNPM, "/helloworld", "", ""},
		{TypeNPM, "/@scope/pkg/package.json", "", ""},
		{TypeNPM, "/@scope/pkg", "", ""},
		{TypeNPM, "/helloworld/-/helloworld-1.0.0.tgz.sha1", "", ""},
		{TypeNPM, "/helloworld/-/helloworld-1.0.0.tar.gz", "", ""},
		{TypeNPM, "/helloworld/-/helloworld-.tgz", "", ""},      // empty version
		{TypeNPM, "/helloworld/-/helloworld.tgz", "", ""},       // no version
		{TypeNPM, "/helloworld/-/other-1.0.0.tgz", "", ""},      // name mismatch
		{TypeNPM, "/hello/-/helloworld-1.0.0.tgz", "", ""},      // name mismatch
		{TypeNPM, "/foo/-/foo-bar-1.0.0.tgz", "", ""},           // foo-bar's tarball filed under foo
		{TypeNPM, "/helloworld/x/helloworld-1.0.0.tgz", "", ""}, // no "-" folder
		{TypeNPM, "/helloworld/-/sub/helloworld-1.0.0.tgz", "", ""},
		{TypeNPM, "/a/helloworld/-/helloworld-1.0.0.tgz", "", ""}, // scope without '@'
		{TypeNPM, "/@scope/pkg/-/@scope-pkg-2.1.0.tgz", "", ""},
		{TypeNPM, "/@scope/pkg/-/scope-pkg-2.1.0.tgz", "", ""},
		{TypeNPM, "/@/pkg/-/pkg-2.1.0.tgz", "", ""},            // empty scope
		{TypeNPM, "/@scope/-/pkg-2.1.0.tgz", "", ""},           // scope without a package
		{TypeNPM, "/@a/@b/-/@b-1.0.0.tgz", "", ""},             // nested scopes
		{TypeNPM, "/-/-/--1.0.0.tgz", "", ""},                  // "-" is not a name
		{TypeNPM, "helloworld/-/helloworld-1.0.0.tgz", "", ""}, // not normalised
		{TypeNPM, "/", "", ""},
		{TypeNPM, "", "", ""},

		// Types without a layout, and layouts of the wrong type.
		{TypeGeneric, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar", "", ""},
		{TypeGeneric, "/helloworld/-/helloworld-1.0.0.tgz", "", ""},
		{TypeDocker, "/helloworld/-/helloworld-1.0.0.tgz", "", ""},
		{TypeHelm, "/helloworld/-/helloworld-1.0.0.tgz", "", ""},
		{TypePyPI, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar", "", ""},
		{RepoType("maven"), "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar", "", ""},
		{RepoType(""), "/helloworld/-/helloworld-1.0.0.tgz", "", ""},
		{TypeMaven, "/helloworld/-/helloworld-1.0.0.tgz", "", ""},
		{TypeNPM, "/com/alibaba/fastjson/1.2.47/fastjson-1.2.47.jar", "", ""},
	}
	for _, tt := range tests {
		key, version, ok := PackageForPath(tt.typ, tt.path)
		wantOK := tt.version != ""
		if ok != wantOK || key != tt.key || version != tt.version {
			t.Errorf("PackageForPath(%s, %q) = %q, %q, %v; want %q, %q, %v",
				tt.typ, tt.path, key, version, ok, tt.key, tt.version, wantOK)
		}
	}
}

// A DOCKER tag node is a version of its image's package; the root image's
// package takes the repository's name; other nodes belong to none.
func TestPackageOfNodeDocker(t *testing.T) {
	r := Repo{Name: "app", Type: TypeDocker}
	tests := []struct{ path, key, version string }{
		{"/_tags/v1", "docker://app", "v1"},
		{"/web/_tags/1.0", "docker://web", "1.0"},
		{"/team/web/_tags/latest", "docker://team/web", "latest"},
		{"/web/_manifests/sha256/" + strings.Repeat("a", 64), "", ""},
		{"/web/_blobs/sha256/" + strings.Repeat("a", 64), "", ""},
		{"/web/_tags/bad:tag", "", ""},
		{"/README", "", ""},
	}
	for _, tc := range tests {
		key, version, ok := PackageOfNode(r, tc.path)
		if ok != (tc.version != "") || key != tc.key || version != tc.version {
			t.Errorf("PackageOfNode(%s) = %q %q %v, want %q %q", tc.path, key, version, ok, tc.key, tc.version)
		}
	}
	if _, _, ok := PackageOfNode(Repo{Name: "m", Type: TypeMaven}, "/_tags/v1"); ok {
		t.Error("a MAVEN repository has no tags")
	}
}
