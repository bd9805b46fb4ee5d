package integration

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"
)

// pollPullable checks n's images names for unpullable tags until the
// returned stop is called, which answers the first such tag seen.
func pollPullable(t testing.TB, n *node, names ...string) (stop func() error) {
	done, polled := make(chan struct{}), make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				polled <- nil
				return
			default:
			}
			for _, name := range names {
				if err := pullable(t, n, name); err != nil {
					polled <- err
					return
				}
			}
		}
	}()
	return func() error {
		close(done)
		wg.Wait()
		return <-polled
	}
}

// A REAL_TIME task over a DOCKER repository: a push reaches the target
// tag last (a poller there never sees a tag it cannot pull, the target's
// change log commits the tag after the image's large layer and manifest), a
// moved tag moves, and with deletions a deleted tag or manifest goes.
func TestOCIRealTimePushArrivesTagLast(t *testing.T) {
	nodes := replicationGroup(t)
	byID := byRegion(nodes)
	a, b := byID["shanghai"], byID["beijing"]
	makeRepo(t, a.url(), "", "team", "placeholder", "GENERIC")
	const name = "team/app/web"
	first := ociImage(t, a, name, "v1", []byte("the first image's layer"))

	body := repoSpec("team", "app", "DOCKER", "beijing")
	body["name"], body["replicaType"], body["replicateDeletes"] = "live", "REAL_TIME", true
	setting := body["setting"].(map[string]any)
	setting["executionStrategy"], setting["executionPlan"] = "IMMEDIATELY", map[string]any{"executeImmediately": true}
	setting["includeMetadata"] = false
	setting["rateLimit"] = 1 << 20 // the large layer takes a while: the window a tag must not show in
	createTask(t, a, body)
	onTarget := func(ref string, want []byte) {
		t.Helper()
		eventually(t, 60*time.Second, name+":"+ref+" on beijing", func() error {
			r := ociCall(t, b, "GET", "/v2/"+name+"/manifests/"+ref, mgmtToken, nil, nil)
			if r.status != http.StatusOK || !bytes.Equal(r.body, want) {
				return fmt.Errorf("%d %.80s", r.status, r.body)
			}
			return pullable(t, b, name)
		})
	}
	onTarget("v1", first)

	// A push while beijing is away reaches it in one round: the layer
	// (over 1 MiB) uploads on its own while manifest and tag would fit one
	// batch. beijing is polled from its return.
	b.stop()
	layer := bytes.Repeat([]byte("a layer over one MiB "), 150000)
	second := ociImage(t, a, name, "v2", layer, []byte("a small layer"))
	b.restart()
	sameLeader(t, 30*time.Second, nodes...)
	stop := pollPullable(t, b, name)
	onTarget("v2", second)
	// Moved on the source, v1 moves on beijing.
	ociOK(t, a, "PUT", "/v2/"+name+"/manifests/v1", map[string]string{"Content-Type": ociManifestType}, second, http.StatusCreated)
	onTarget("v1", second)
	if err := stop(); err != nil {
		t.Fatalf("a tag on beijing could not be pulled during the push: %v", err)
	}
	seq := changeSeqs(t, b, "team", "app")
	tag := seq["/web/_tags/v2"]
	for _, path := range []string{"/web/_blobs/sha256/" + sha(layer), "/web/_manifests/sha256/" + sha(second)} {
		if s := seq[path]; s == 0 || s > tag {
			t.Errorf("beijing committed the tag v2 (seq %d) before %s (seq %d)", tag, path, s)
		}
	}

	// A tag deleted on the source goes on beijing; a manifest deleted by
	// digest takes its tags (v1 now) with it.
	ociOK(t, a, "DELETE", "/v2/"+name+"/manifests/v2", nil, nil, http.StatusAccepted)
	gone := func(ref string) {
		t.Helper()
		eventually(t, 60*time.Second, name+":"+ref+" deleted on beijing", func() error {
			if r := ociCall(t, b, "GET", "/v2/"+name+"/manifests/"+ref, mgmtToken, nil, nil); r.status != http.StatusNotFound {
				return fmt.Errorf("%d", r.status)
			}
			return nil
		})
	}
	gone("v2")
	onTarget("v1", second)
	ociOK(t, a, "DELETE", "/v2/"+name+"/manifests/"+digestOf(second), nil, nil, http.StatusAccepted)
	gone(digestOf(second))
	gone("v1")
	onTarget(digestOf(first), first) // untouched: only what was deleted goes
}
