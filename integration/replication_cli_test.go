package integration

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestRunCLI(t *testing.T) {
	bin := ferryBinary(t)
	nodes := replicationGroup(t)
	sh, bj := nodes[0], nodes[1]
	makeRepo(t, sh.url(), "", "demo", "files", "GENERIC")
	for i := range 5 {
		putFile(t, sh, "demo", "files", fmt.Sprintf("/dir/f%d", i), readAllPatterned(uint64(i), 100<<10), nil)
	}
	via := []string{"--address", bj.a.HTTPAddr(), "--token", mgmtToken}

	out := runFerry(t, bin, 0, append([]string{"run", "start", "--project", "demo", "--repo", "files", "--from", "shanghai", "--to", "beijing,guangzhou", "--watch"}, via...)...)
	id := regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f-]{27}`).FindString(out)
	if id == "" || !strings.Contains(out, "SUCCESS") {
		t.Fatalf("ferry run start --watch:\n%s", out)
	}
	if err := sameTree(tree(t, sh, "demo", "files"), tree(t, bj, "demo", "files")); err != nil {
		t.Fatal(err)
	}
	if ls := runFerry(t, bin, 0, append([]string{"run", "ls"}, via...)...); !strings.Contains(ls, id[:8]) || !strings.Contains(ls, "SUCCESS") {
		t.Fatalf("ferry run ls:\n%s", ls)
	}
	show := runFerry(t, bin, 0, append([]string{"run", "show", id, "--objects"}, via...)...)
	if !strings.Contains(show, "guangzhou") || !strings.Contains(show, "/dir/f4") {
		t.Fatalf("ferry run show --objects:\n%s", show)
	}
	if out := runFerry(t, bin, 1, append([]string{"run", "cancel", id}, via...)...); !strings.Contains(out, "ended") {
		t.Fatalf("cancel of an ended run:\n%s", out)
	}
	if out := runFerry(t, bin, 1, append([]string{"run", "start", "--project", "demo", "--repo", "files", "--to", "mars"}, via...)...); !strings.Contains(out, "mars") {
		t.Fatalf("a run to an unknown cluster:\n%s", out)
	}
}
