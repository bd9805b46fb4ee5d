package store

import (
	"bytes"
	"log/slog"
	"testing"
)

// Every change goes through commit, which observes each write's outcome
// once; a request refused for its path or metadata is not counted.
func TestOpenWithObserverCountsEachOutcomeOnce(t *testing.T) {
	obs := &countingObserver{}
	s, err := Open(t.TempDir(), slog.New(slog.DiscardHandler), WithObserver(obs))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.CreateProject(ctx, Project{Name: "demo"})
	s.CreateRepo(ctx, Repo{Project: "demo", Name: "repo", Type: TypeGeneric})
	r := mustFull(s.Repository(ctx, "demo", "repo"))

	n := write(t, r, "/a", []byte("abc"))
	r.Write(ctx, "/b", bytes.NewReader([]byte("abc")), WriteOptions{Size: 4})                   // checksum_mismatch
	r.Write(ctx, "/a", bytes.NewReader([]byte("x")), WriteOptions{Size: -1, NoOverwrite: true}) // conflict
	r.Write(ctx, "../x", bytes.NewReader([]byte("x")), WriteOptions{Size: -1})                  // refused: not counted
	if _, err := r.Link(ctx, "/c", n.SHA256, WriteOptions{Size: -1}); err != nil {
		t.Fatal(err)
	}
	r.Delete(ctx, "/c", "x") // not a write
	if got, want := obs.String(), "map[checksum_mismatch:1 conflict:1 linked:1 ok:1] 3 bytes"; got != want {
		t.Fatalf("observed %s, want %s", got, want)
	}
}
