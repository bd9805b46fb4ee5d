package agent

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ferrysync/ferry/replicator"
)

func TestMergeLinks(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name        string
		got         map[string][]replicator.LinkStat
		failed      map[string]error
		links       []string // source>target, in order
		unreachable []string
	}{
		{"nobody", nil, nil, []string{}, []string{}},
		{"every agent's own links, ordered", map[string][]replicator.LinkStat{
			"b": {{Source: "b", Target: "a"}},
			"a": {{Source: "a", Target: "c"}, {Source: "a", Target: "b"}},
			"c": nil,
		}, nil, []string{"a>b", "a>c", "b>a"}, []string{}},
		{"an agent that did not answer", map[string][]replicator.LinkStat{"a": {{Source: "a", Target: "b"}}},
			map[string]error{"c": errors.New("timeout"), "b": errors.New("refused")}, []string{"a>b"}, []string{"b", "c"}},
	}
	for _, tc := range cases {
		ans := mergeLinks(tc.got, tc.failed, now)
		var links []string
		for _, l := range ans.Links {
			links = append(links, l.Source+">"+l.Target)
		}
		if !slices.Equal(links, tc.links) && !(len(links) == 0 && len(tc.links) == 0) || !slices.Equal(ans.Unreachable, tc.unreachable) || !ans.Now.Equal(now) {
			t.Errorf("%s: links %v unreachable %v, want %v %v", tc.name, links, ans.Unreachable, tc.links, tc.unreachable)
		}
		if ans.Links == nil || ans.Unreachable == nil {
			t.Errorf("%s: lists must be [] in JSON, not null", tc.name)
		}
	}
}
