package integration

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"
)

// A target killed mid-layer keeps no half blob and no tag, and the next
// run sends the rest of the layer, not all of it again.
func TestOCILayerResumesAfterTheTargetWasKilled(t *testing.T) {
	nodes := replicationGroup(t)
	byID := byRegion(nodes)
	a, b := byID["shanghai"], byID["beijing"]
	makeRepo(t, a.url(), "", "team", "placeholder", "GENERIC")
	layer := readAllPatterned(77, 8<<20)
	manifest := ociImage(t, a, "team/app/big", "v1", layer)

	spec := repoSpec("team", "app", "DOCKER", "beijing")
	spec["setting"].(map[string]any)["rateLimit"] = 2 << 20
	first := startRun(t, a, spec)
	waitSending(t, a, first.ID, "beijing", 3<<20)
	b.stop()
	if r := waitRun(t, a, first.ID, 60*time.Second); r.State != "FAILED" || !strings.Contains(r.target(t, "beijing").Error, "unreachable") {
		t.Fatalf("run with its target gone: %s %q", r.State, r.Error)
	}
	b.restart()
	sameLeader(t, 30*time.Second, nodes...) // and b ready: caught up with the leader
	if err := pullable(t, b, "team/app/big"); err != nil {
		t.Fatal(err)
	}
	if r := ociCall(t, b, "GET", "/v2/team/app/big/manifests/v1", mgmtToken, nil, nil); r.status == http.StatusOK {
		t.Fatal("the tag is on beijing before its layer")
	}

	delete(spec["setting"].(map[string]any), "rateLimit")
	second := waitRun(t, a, startRun(t, a, spec).ID, 60*time.Second)
	if second.State != "SUCCESS" {
		t.Fatalf("second run: %s %q", second.State, second.Error)
	}
	if sent := second.target(t, "beijing").BytesSent; sent > 7<<20 {
		t.Fatalf("second run sent %d bytes: the layer started over instead of resuming", sent)
	}
	if r := ociOK(t, b, "GET", "/v2/team/app/big/manifests/v1", nil, nil, http.StatusOK); !bytes.Equal(r.body, manifest) {
		t.Fatal("the manifest on beijing differs")
	}
	if r := ociOK(t, b, "GET", "/v2/team/app/big/blobs/"+digestOf(layer), nil, nil, http.StatusOK); !bytes.Equal(r.body, layer) {
		t.Fatal("the layer on beijing differs")
	}
}
