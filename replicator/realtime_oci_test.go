package replicator

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/oci"
	"github.com/ferrysync/ferry/store"
)

// dockerRound is a real-time target over two stores' DOCKER repositories
// proj/d: src, the target's dst, and one round of delivery.
type dockerRound struct {
	t        *testing.T
	src, dst store.Repository
	tg       *targetExec
	task     fsm.Task
}

func newDockerRound(t *testing.T, options ...func(*fsm.Task)) *dockerRound {
	ctx := context.Background()
	src, dst := twoStores(t)
	for _, s := range []*store.Local{src, dst} {
		if _, err := s.CreateRepo(ctx, store.Repo{Project: "proj", Name: "d", Type: store.TypeDocker}); err != nil {
			t.Fatal(err)
		}
	}
	srv := replicaServer(t, dst, nil)
	e := newTestExecutor(t, src, srv)
	t.Cleanup(func() { e.Stop() })
	task := fsm.Task{Key: "task1", ProjectID: "proj", SourceCluster: "shanghai", ReplicaObjectType: fsm.ObjectRepository, ReplicaType: fsm.ReplicaRealTime,
		ReplicateDeletes: true,
		Objects:          []fsm.ReplicaObject{{LocalRepoName: "d", RemoteProjectID: "proj", RemoteRepoName: "d"}}, RemoteClusterIDs: []string{"beijing"}}
	for _, o := range options {
		o(&task)
	}
	r := &dockerRound{t: t, tg: realTimeTarget(e, task), task: task}
	r.src, _ = src.Repository(ctx, "proj", "d")
	r.dst, _ = dst.Repository(ctx, "proj", "d")
	return r
}

func (r *dockerRound) deliver() error {
	_, _, err := r.tg.deliver(context.Background(), r.task, 0, r.task.Objects[0])
	return err
}

func (r *dockerRound) put(path string, body []byte, mediaType string) {
	r.t.Helper()
	r.putIn(r.src, path, body, mediaType)
}

func (r *dockerRound) putIn(repo store.Repository, path string, body []byte, mediaType string) {
	r.t.Helper()
	meta := map[string]string{}
	if mediaType != "" {
		meta[oci.MetaMediaType] = mediaType
	}
	if _, err := repo.Write(context.Background(), path, bytes.NewReader(body), store.WriteOptions{Size: int64(len(body)), Metadata: meta}); err != nil {
		r.t.Fatal(err)
	}
}

// push writes an image as the registry does, in push order: a large layer
// (an upload of its own on the wire), the manifest, the tag. It returns the
// manifest's digest.
func (r *dockerRound) push(tag string, seed uint64) oci.Digest {
	return r.pushTo(r.src, tag, seed)
}

func (r *dockerRound) pushTo(repo store.Repository, tag string, seed uint64) oci.Digest {
	layer := make([]byte, 2<<20)
	rng := rand.New(rand.NewPCG(seed, 1))
	for i := range layer {
		layer[i] = byte(rng.Uint32())
	}
	config := []byte(fmt.Sprintf(`{"seed":%d}`, seed))
	manifest := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":%q,"size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":%q,"size":%d}]}`,
		oci.MediaTypeImageManifest, oci.FromBytes(config), len(config), oci.FromBytes(layer), len(layer)))
	r.putIn(repo, oci.BlobPath("web", oci.FromBytes(layer)), layer, "")
	r.putIn(repo, oci.BlobPath("web", oci.FromBytes(config)), config, "")
	d := oci.FromBytes(manifest)
	r.putIn(repo, oci.ManifestPath("web", d), manifest, oci.MediaTypeImageManifest)
	r.putIn(repo, oci.TagPath("web", tag), manifest, oci.MediaTypeImageManifest)
	return d
}

// targetLog is the target's change log: the sequence of each path's last
// change of each kind.
func (r *dockerRound) targetLog() map[string]map[store.ChangeKind]uint64 {
	r.t.Helper()
	cs, err := r.dst.Changes(context.Background(), 1, 1000)
	if err != nil {
		r.t.Fatal(err)
	}
	out := map[string]map[store.ChangeKind]uint64{}
	for _, c := range cs {
		if out[c.Path] == nil {
			out[c.Path] = map[store.ChangeKind]uint64{}
		}
		out[c.Path][c.Kind] = c.Seq
	}
	return out
}

// A pushed image's tag commits on the target after its large layer's
// upload and its manifest, though the change log gives them in one round.
func TestRealTimeCommitsAPushTagLast(t *testing.T) {
	r := newDockerRound(t)
	d := r.push("v1", 1)
	if err := r.deliver(); err != nil {
		t.Fatal(err)
	}
	log := r.targetLog()
	tag := log[oci.TagPath("web", "v1")][store.NodeCreated]
	manifest := log[oci.ManifestPath("web", d)][store.NodeCreated]
	if tag == 0 || manifest == 0 || manifest > tag {
		t.Fatalf("manifest at %d, tag at %d on the target: %v", manifest, tag, log)
	}
	for p, kinds := range log {
		if ref, ok := oci.ParseNodePath(p); ok && ref.Kind == oci.NodeBlob && kinds[store.NodeCreated] > manifest {
			t.Fatalf("blob %s committed at %d, after its manifest at %d", p, kinds[store.NodeCreated], manifest)
		}
	}
}

// A blob the target refuses holds back the manifest and tag naming it: the
// round fails, and the next one (the target fixed) delivers them all.
func TestRealTimeHoldsATagWhoseBlobFailed(t *testing.T) {
	r := newDockerRound(t)
	ctx := context.Background()
	// A file where the blobs folder must go makes every blob fail.
	if _, err := r.dst.Write(ctx, oci.BlobsDir("web"), strings.NewReader("in the way"), store.WriteOptions{Size: -1}); err != nil {
		t.Fatal(err)
	}
	d := r.push("v1", 2)
	if err := r.deliver(); err == nil {
		t.Fatal("a round whose blobs failed succeeded")
	}
	for _, p := range []string{oci.ManifestPath("web", d), oci.TagPath("web", "v1")} {
		if _, err := r.dst.Stat(ctx, p); err == nil {
			t.Fatalf("%s committed on the target though its blobs failed", p)
		}
	}
	if err := r.dst.Delete(ctx, oci.BlobsDir("web"), "admin"); err != nil {
		t.Fatal(err)
	}
	if err := r.deliver(); err != nil {
		t.Fatal(err)
	}
	if n, err := r.dst.Stat(ctx, oci.TagPath("web", "v1")); err != nil || n.SHA256 != d.Hex {
		t.Fatalf("tag on the target: %+v %v", n, err)
	}
}

// A tag moved off a manifest that is then deleted by digest: in one round
// the target moves the tag before deleting the manifest, so the tag never
// names a missing manifest; a tag deleted on the source goes on the target.
func TestRealTimeDeletesAManifestAfterMovingItsTag(t *testing.T) {
	r := newDockerRound(t)
	ctx := context.Background()
	old := r.push("v1", 3)
	r.put(oci.TagPath("web", "old"), mustRead(t, r.src, oci.ManifestPath("web", old)), oci.MediaTypeImageManifest)
	if err := r.deliver(); err != nil {
		t.Fatal(err)
	}
	r.push("v1", 4)
	// The registry's DeleteManifest by digest: its tags, then the manifest.
	for _, p := range []string{oci.TagPath("web", "old"), oci.ManifestPath("web", old)} {
		if err := r.src.Delete(ctx, p, "u"); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.deliver(); err != nil {
		t.Fatal(err)
	}
	log := r.targetLog()
	moved := log[oci.TagPath("web", "v1")][store.NodeUpdated]
	gone := log[oci.ManifestPath("web", old)][store.NodeDeleted]
	if moved == 0 || gone == 0 || gone < moved {
		t.Fatalf("tag v1 moved at %d, the old manifest deleted at %d: %v", moved, gone, log)
	}
	if _, err := r.dst.Stat(ctx, oci.TagPath("web", "old")); err == nil {
		t.Fatal("the deleted tag is still on the target")
	}
}

// A task that keeps what differs on the target (SWR's override false)
// leaves the target's own tag where it is, counts it a conflict, and goes
// on: the round succeeds and a later push still arrives. Without it the
// source's push moves the tag.
func TestRealTimeKeepsADifferingTargetTagWhenTheTaskSaysSo(t *testing.T) {
	ctx := context.Background()
	for _, keep := range []bool{true, false} {
		r := newDockerRound(t, func(task *fsm.Task) { task.KeepDifferingOnTarget = keep })
		theirs := r.pushTo(r.dst, "v1", 20)
		ours := r.push("v1", 21)
		if err := r.deliver(); err != nil {
			t.Fatalf("keep %v: %v", keep, err)
		}
		want := ours
		if keep {
			want = theirs
		}
		if n, err := r.dst.Stat(ctx, oci.TagPath("web", "v1")); err != nil || n.SHA256 != want.Hex {
			t.Fatalf("keep %v: the target's v1 is %+v %v, want %s", keep, n, err, want)
		}
		if keep && r.tg.tally.conflicts.Load() != 1 {
			t.Fatalf("a kept tag is not a conflict: %d", r.tg.tally.conflicts.Load())
		}
		later := r.push("v2", 22)
		if err := r.deliver(); err != nil {
			t.Fatal(err)
		}
		if n, err := r.dst.Stat(ctx, oci.TagPath("web", "v2")); err != nil || n.SHA256 != later.Hex {
			t.Fatalf("keep %v: a later push did not arrive: %+v %v", keep, n, err)
		}
	}
}

func mustRead(t *testing.T, repo store.Repository, path string) []byte {
	t.Helper()
	rd, err := repo.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(rd); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
