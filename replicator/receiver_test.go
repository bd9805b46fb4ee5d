package replicator

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"testing"

	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/store"
)

// A dry-run plan answers as the plan would, a conflict included, and
// changes nothing: no link of held content, no metadata, no repository.
func TestADryRunPlanWritesNothing(t *testing.T) {
	ctx := context.Background()
	_, dst := twoStores(t)
	repo, err := dst.Repository(ctx, "proj", "r")
	if err != nil {
		t.Fatal(err)
	}
	write := func(path, content string, meta map[string]string) {
		if _, err := repo.Write(ctx, path, bytes.NewReader([]byte(content)), store.WriteOptions{Size: int64(len(content)), Metadata: meta}); err != nil {
			t.Fatal(err)
		}
	}
	write("/tag", "the target's own", nil)
	write("/held", "held content", nil)
	write("/same", "same content", map[string]string{"k": "old"})
	head, err := repo.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	obj := func(path, content string, meta map[string]string) PlanObject {
		s := sha256.Sum256([]byte(content))
		return PlanObject{Path: path, Size: int64(len(content)), SHA256: hex.EncodeToString(s[:]), Metadata: meta}
	}
	req := PlanRequest{Project: "proj", Repo: "r", RepoType: "GENERIC", Conflict: fsm.ConflictFastFail, IncludeMetadata: true, By: "run", DryRun: true,
		Objects: []PlanObject{
			obj("/tag", "the source's", nil),                            // a conflict
			obj("/new", "held content", nil),                            // the plan would link it
			obj("/same", "same content", map[string]string{"k": "new"}), // the plan would update it
			obj("/missing", "nobody has it", nil),
		}}
	rc := &Receiver{Store: dst}
	resp, err := rc.Plan(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	want := []PlanResult{{Action: ActionConflict, Conflict: true}, {Action: ActionSend}, {Action: ActionMetadata}, {Action: ActionSend}}
	for i, w := range want {
		if resp.Results[i] != w {
			t.Errorf("%s: %+v, want %+v", req.Objects[i].Path, resp.Results[i], w)
		}
	}
	if after, err := repo.Head(ctx); err != nil || after != head {
		t.Errorf("the change log moved from %d to %d (%v)", head, after, err)
	}
	if _, err := repo.Stat(ctx, "/new"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("/new was linked: %v", err)
	}
	if n, _ := repo.Stat(ctx, "/same"); !maps.Equal(n.Metadata, map[string]string{"k": "old"}) {
		t.Errorf("/same metadata %v", n.Metadata)
	}

	// Into a repository the target lacks: all new, and still not created.
	req.Repo = "absent"
	if resp, err = rc.Plan(ctx, req); err != nil || len(resp.Results) != len(req.Objects) || resp.Results[0].Action != ActionSend {
		t.Errorf("into a missing repository: %+v %v", resp, err)
	}
	if _, err := dst.Repository(ctx, "proj", "absent"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a dry run created the repository: %v", err)
	}

	// The same plan for real links and updates.
	req.Repo, req.DryRun = "r", false
	if resp, err = rc.Plan(ctx, req); err != nil || resp.Results[1].Action != ActionLinked || resp.Results[2].Action != ActionMetadata {
		t.Errorf("the real plan: %+v %v", resp, err)
	}
}
