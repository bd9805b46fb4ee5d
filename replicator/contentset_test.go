package replicator

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestContentSet(t *testing.T) {
	var s contentSet
	sum := sha256.Sum256([]byte("a"))
	lower := hex.EncodeToString(sum[:])
	other := sha256.Sum256([]byte("b"))
	if s.has(lower) {
		t.Fatal("empty set holds a sum")
	}
	s.add(lower)
	for _, tc := range []struct {
		sum  string
		want bool
	}{
		{lower, true},
		{strings.ToUpper(lower), true}, // the same 32 bytes
		{hex.EncodeToString(other[:]), false},
		{lower[:63], false},
		{lower[:63] + "g", false},
		{"", false},
	} {
		if got := s.has(tc.sum); got != tc.want {
			t.Errorf("has(%q) = %v, want %v", tc.sum, got, tc.want)
		}
	}
	s.add("not a sum") // ignored
	if len(s.sums) != 1 {
		t.Fatalf("%d sums, want 1", len(s.sums))
	}
}
