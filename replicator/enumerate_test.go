package replicator

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
)

// A PACKAGE object that names files beside its packages (a Pulp consumer's
// file and package units) selects both: the versions' files, the named
// files, each once, and the versions.
func TestAPackageObjectSelectsItsPathsToo(t *testing.T) {
	ctx := context.Background()
	src, _ := twoStores(t)
	repo, _ := src.Repository(ctx, "proj", "r")
	for _, p := range []string{"/pkg/a-1.0.rpm", "/pkg/a-1.0.sig", "/iso/disk.iso", "/other"} {
		if _, err := repo.Write(ctx, p, strings.NewReader(p), store.WriteOptions{Size: -1}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := repo.PutVersion(ctx, store.PackageVersion{PackageKey: "rpm://a", Version: "1.0", Paths: []string{"/pkg/a-1.0.rpm", "/pkg/a-1.0.sig"}}); err != nil {
		t.Fatal(err)
	}
	spec := repositorySpec(fsm.ConflictOverwrite)
	spec.ReplicaObjectType = fsm.ObjectPackage
	spec.Objects[0].PackageConstraints = []fsm.PackageConstraint{{PackageKey: "rpm://a", Versions: []string{"1.0"}}}
	spec.Objects[0].PathConstraints = []fsm.PathConstraint{{Path: "/iso/disk.iso"}, {Path: "/pkg/a-1.0.sig"}}
	sel, err := firstSelection(ctx, src, spec)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, o := range sel.objects {
		paths = append(paths, o.Path+"@"+o.Version)
	}
	slices.Sort(paths)
	if want := []string{"/iso/disk.iso@", "/pkg/a-1.0.rpm@1.0", "/pkg/a-1.0.sig@1.0"}; !slices.Equal(paths, want) {
		t.Fatalf("objects %v, want %v", paths, want)
	}
	if len(sel.versions) != 1 || sel.versions[0].Version != "1.0" {
		t.Fatalf("versions %+v", sel.versions)
	}
}
