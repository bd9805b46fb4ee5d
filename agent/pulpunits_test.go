package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
)

func unit(typ, name, version string) fsm.PulpUnit {
	key := map[string]json.RawMessage{"name": json.RawMessage(fmt.Sprintf("%q", name))}
	if version != "" {
		key["version"] = json.RawMessage(fmt.Sprintf("%q", version))
	}
	return fsm.PulpUnit{TypeID: typ, UnitKey: key}
}

// pulpStore is a store with the pulp repositories isos and other: files,
// and package versions made of files.
func pulpStore(t *testing.T) *store.Local {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.CreateProject(ctx, store.Project{Name: PulpProject}); err != nil {
		t.Fatal(err)
	}
	versions := map[string][]store.PackageVersion{
		"isos": {{PackageKey: "rpm://both", Version: "1"}, {PackageKey: "npm://tool", Version: "1.0"}, {PackageKey: "npm://tool", Version: "2.0"},
			{PackageKey: "gav://g1:dup", Version: "1"}, {PackageKey: "gav://g2:dup", Version: "1"}},
		"other": {{PackageKey: "npm://tool", Version: "1.0"}},
	}
	for _, name := range []string{"isos", "other"} {
		if _, err := st.CreateRepo(ctx, store.Repo{Project: PulpProject, Name: name, Type: store.TypeGeneric}); err != nil {
			t.Fatal(err)
		}
		repo, _ := st.Repository(ctx, PulpProject, name)
		for _, p := range []string{"/a.iso", "/both"} {
			if _, err := repo.Write(ctx, p, strings.NewReader(p), store.WriteOptions{Size: -1}); err != nil {
				t.Fatal(err)
			}
		}
		for _, v := range versions[name] {
			p := "/pkgs/" + strings.NewReplacer("://", "-", ":", "-").Replace(v.PackageKey) + "-" + v.Version
			if _, err := repo.Write(ctx, p, strings.NewReader(p), store.WriteOptions{Size: -1}); err != nil {
				t.Fatal(err)
			}
			v.Paths = []string{p}
			if _, err := repo.PutVersion(ctx, v); err != nil {
				t.Fatal(err)
			}
		}
	}
	return st
}

func consumerOf(repos ...string) fsm.PulpConsumer {
	c := fsm.PulpConsumer{ID: "c", Region: "beijing"}
	for _, r := range repos {
		c.Bindings = append(c.Bindings, fsm.PulpBinding{Repo: r, Distributor: "d"}, fsm.PulpBinding{Repo: r, Distributor: "d2"})
	}
	return c
}

// describe is what was located, one line per repository.
func describe(found map[string]*located) string {
	var b strings.Builder
	for _, repo := range []string{"isos", "other"} {
		if l := found[repo]; l != nil {
			fmt.Fprintf(&b, "%s: %v", repo, l.paths)
			for _, p := range l.packages {
				fmt.Fprintf(&b, " %s@%s(latest %s)", p.key, p.version, p.latest)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// An iso unit is a file first, a package by name if no file has the name;
// any other unit, or one with a version, is a package, by name or key;
// every bound repository holding it gives it, each once.
func TestUnitsAreFilesOrPackages(t *testing.T) {
	a := &Agent{store: pulpStore(t)}
	ctx := context.Background()
	for _, c := range []struct {
		units []fsm.PulpUnit
		want  string
	}{
		{[]fsm.PulpUnit{unit("iso", "a.iso", "")}, "isos: [/a.iso]\nother: [/a.iso]\n"},
		{[]fsm.PulpUnit{unit("iso", "both", "")}, "isos: [/both]\nother: [/both]\n"},
		{[]fsm.PulpUnit{unit("rpm", "both", "")}, "isos: [] rpm://both@(latest 1)\n"},
		{[]fsm.PulpUnit{unit("iso", "both", "1")}, "isos: [] rpm://both@1(latest 1)\n"},
		{[]fsm.PulpUnit{unit("iso", "tool", "")}, "isos: [] npm://tool@(latest 2.0)\nother: [] npm://tool@(latest 1.0)\n"},
		{[]fsm.PulpUnit{unit("npm", "tool", "2.0")}, "isos: [] npm://tool@2.0(latest 2.0)\n"},
		{[]fsm.PulpUnit{unit("generic", "npm://tool", "1.0")}, "isos: [] npm://tool@1.0(latest 2.0)\nother: [] npm://tool@1.0(latest 1.0)\n"},
		{[]fsm.PulpUnit{unit("npm", "a.iso", "")}, "units not found in the bound repositories: npm:a.iso"},
		{[]fsm.PulpUnit{unit("npm", "tool", "9"), unit("iso", "x", "")}, "units not found in the bound repositories: npm:tool 9, iso:x"},
		{[]fsm.PulpUnit{unit("rpm", "dup", "")}, "units naming more than one package (name them by package key): rpm:dup in isos: gav://g1:dup, gav://g2:dup"},
		{[]fsm.PulpUnit{unit("rpm", "gav://g2:dup", "")}, "isos: [] gav://g2:dup@(latest 1)\n"},
	} {
		found, err := a.locateUnits(ctx, consumerOf("isos", "other", "gone"), c.units)
		got := describe(found)
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("%v:\n got %q\nwant %q", c.units, got, c.want)
		}
	}
}

// An install is one run: PATH while every unit is a file, PACKAGE (the
// file units beside) as soon as one is a package, whose version is the
// one named or the latest.
func TestInstallSpecCarriesFilesAndVersions(t *testing.T) {
	clusters := map[string]fsm.ClusterRecord{"shanghai": {}, "beijing": {}}
	files := installSpec("shanghai", "beijing", map[string]*located{"isos": {paths: []string{"/a.iso"}}})
	if files.ReplicaObjectType != fsm.ObjectPath || fsm.ValidateSpec(files, clusters) != nil {
		t.Fatalf("files only: %+v", files)
	}
	mixed := installSpec("shanghai", "beijing", map[string]*located{
		"other": {paths: []string{"/b.iso"}},
		"isos":  {paths: []string{"/a.iso"}, packages: []pkgUnit{{key: "npm://tool", latest: "2.0"}, {key: "rpm://x", version: "1", latest: "3"}}},
	})
	if err := fsm.ValidateSpec(mixed, clusters); err != nil || mixed.ReplicaObjectType != fsm.ObjectPackage {
		t.Fatalf("mixed: %v %+v", err, mixed)
	}
	got, _ := json.Marshal(mixed.Objects)
	want := `[{"localRepoName":"isos","remoteProjectId":"pulp","remoteRepoName":"isos","repoType":"GENERIC",` +
		`"packageConstraints":[{"packageKey":"npm://tool","versions":["2.0"]},{"packageKey":"rpm://x","versions":["1"]}],"pathConstraints":[{"path":"/a.iso"}]},` +
		`{"localRepoName":"other","remoteProjectId":"pulp","remoteRepoName":"other","repoType":"GENERIC","pathConstraints":[{"path":"/b.iso"}]}]`
	if string(got) != want {
		t.Fatalf("objects\n%s\nwant\n%s", got, want)
	}
}

// An uninstall of a package without a version removes every version, one
// with a version that version only.
func TestPackageUnitsRemove(t *testing.T) {
	all, one := pkgUnit{key: "k", latest: "2"}, pkgUnit{key: "k", version: "1", latest: "2"}
	if !all.removes("1") || !all.removes("2") || !one.removes("1") || one.removes("2") {
		t.Fatal("removes")
	}
	if all.installVersion() != "2" || one.installVersion() != "1" {
		t.Fatal("installVersion")
	}
}
