package integration

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// readmeBlock is the first ```sh block of README.md after the line that
// contains marker.
func readmeBlock(t *testing.T, marker string) string {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, found := strings.Cut(string(b), marker)
	if !found {
		t.Fatalf("README.md has no %q", marker)
	}
	_, block, found := strings.Cut(after, "```sh\n")
	if !found {
		t.Fatalf("no sh block after %q in README.md", marker)
	}
	block, _, _ = strings.Cut(block, "```")
	return block
}

// README's SWR example, run as written with curl and X-Auth-Token between
// two regions: beijing's organization, shanghai's rule and manual sync of
// two tags, its jobs; then the rule delivers a later push.
func TestTheReadmesSWRSyncWithCurl(t *testing.T) {
	bin := needTool(t, "curl", "curl")
	nodes := replicationGroup(t)
	byID := byRegion(nodes)
	src, dst := byID["shanghai"], byID["beijing"]
	swrOK(t, src, "POST", "/v2/manage/namespaces", map[string]string{"namespace": "ferry"}, 201, nil)
	v1 := ociImage(t, src, "ferry/app/web", "v1", []byte("readme layer 1"))
	v2 := ociImage(t, src, "ferry/app/web", "v2", []byte("readme layer 2"))

	script := readmeBlock(t, "`$SHANGHAI` and `$BEIJING` are the agents' API addresses")
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", script)
	cmd.Env = append(os.Environ(), "PATH="+strings.TrimSuffix(bin, "/curl")+":"+os.Getenv("PATH"),
		"FERRY_TOKEN="+mgmtToken, "SHANGHAI="+src.url(), "BEIJING="+dst.url())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("README's SWR example: %v\n%s", err, out)
	}
	// sync_images answers [] (no tag failed) and sync_job the two jobs.
	if !bytes.Contains(out, []byte("[]")) || !bytes.Contains(out, []byte(`"tag":"v1"`)) || !bytes.Contains(out, []byte(`"tag":"v2"`)) {
		t.Fatalf("README's SWR example answered:\n%s", out)
	}
	manifestOn(t, dst, "mirror/app/web", "v1", v1)
	manifestOn(t, dst, "mirror/app/web", "v2", v2)
	v3 := ociImage(t, src, "ferry/app/web", "v3", []byte("readme layer 3"))
	manifestOn(t, dst, "mirror/app/web", "v3", v3)
}
