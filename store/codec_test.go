package store

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

func sampleNode() Node {
	t := now()
	return Node{Path: "/d07/f0712", Name: "f0712", Size: 4096,
		SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", MD5: "098f6bcd4621d373cade4e832627b4f6",
		CreatedBy: "replicator:shanghai", CreatedAt: t, ModifiedBy: "replicator:shanghai", ModifiedAt: t.Add(time.Second)}
}

func sampleChange() Change {
	return Change{Seq: 7123, Kind: NodeCreated, Time: now(), Path: "/d07/f0712",
		SHA256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Size: 4096, By: "replicator:shanghai"}
}

func TestCodecRoundTrip(t *testing.T) {
	nodes := []Node{sampleNode(), {Path: "/f", Name: "f", Folder: true}, {Path: "/m", Name: "m", Metadata: map[string]string{"b": "2", "a": "", "ü": "x"}}}
	for _, n := range nodes {
		var got Node
		if err := decodeNode(encodeNode(&n), &got); err != nil || !reflect.DeepEqual(got, n) {
			t.Errorf("node %+v: got %+v, %v", n, got, err)
		}
		// A JSON record, as written before the binary encoding, still reads.
		raw, _ := json.Marshal(n)
		var old Node
		if err := decodeNode(raw, &old); err != nil || !reflect.DeepEqual(old, n) {
			t.Errorf("JSON node %s: got %+v, %v", raw, old, err)
		}
	}
	for _, c := range []Change{sampleChange(), {Seq: 1, Kind: NodeDeleted, Time: now(), PackageKey: "k", Version: "1.0"}} {
		var got Change
		if err := decodeChange(encodeChange(&c), &got); err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("change %+v: got %+v, %v", c, got, err)
		}
		raw, _ := json.Marshal(c)
		var old Change
		if err := decodeChange(raw, &old); err != nil || !reflect.DeepEqual(old, c) {
			t.Errorf("JSON change %s: got %+v, %v", raw, old, err)
		}
	}
}

func TestCodecMalformed(t *testing.T) {
	n := sampleNode()
	n.Metadata = map[string]string{"k": "v"}
	raw := encodeNode(&n)
	for i := 1; i < len(raw); i++ {
		var got Node
		if err := decodeNode(raw[:i], &got); !errors.Is(err, errBadRecord) {
			t.Fatalf("node cut at %d of %d: %v", i, len(raw), err)
		}
	}
	if err := decodeNode(append(raw, 0), new(Node)); !errors.Is(err, errBadRecord) {
		t.Fatalf("trailing byte: %v", err)
	}
	c := sampleChange()
	rc := encodeChange(&c)
	for i := 1; i < len(rc); i++ {
		if err := decodeChange(rc[:i], new(Change)); !errors.Is(err, errBadRecord) {
			t.Fatalf("change cut at %d of %d: %v", i, len(rc), err)
		}
	}
}

// BenchmarkCodec compares the binary encoding of the hot records with JSON.
//
//	go test -run '^$' -bench BenchmarkCodec -benchmem ./store/
func BenchmarkCodec(b *testing.B) {
	n, c := sampleNode(), sampleChange()
	nb, _ := json.Marshal(n)
	cb, _ := json.Marshal(c)
	b.Run("node/encode/json", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(n)
		}
	})
	b.Run("node/encode/binary", func(b *testing.B) {
		for b.Loop() {
			encodeNode(&n)
		}
	})
	b.Run("node/decode/json", func(b *testing.B) {
		for b.Loop() {
			var v Node
			json.Unmarshal(nb, &v)
		}
	})
	raw := encodeNode(&n)
	b.Logf("node: json %d bytes, binary %d bytes", len(nb), len(raw))
	b.Run("node/decode/binary", func(b *testing.B) {
		for b.Loop() {
			var v Node
			decodeNode(raw, &v)
		}
	})
	b.Run("change/encode/json", func(b *testing.B) {
		for b.Loop() {
			json.Marshal(c)
		}
	})
	b.Run("change/encode/binary", func(b *testing.B) {
		for b.Loop() {
			encodeChange(&c)
		}
	})
	b.Run("change/decode/json", func(b *testing.B) {
		for b.Loop() {
			var v Change
			json.Unmarshal(cb, &v)
		}
	})
	rc := encodeChange(&c)
	b.Logf("change: json %d bytes, binary %d bytes", len(cb), len(rc))
	b.Run("change/decode/binary", func(b *testing.B) {
		for b.Loop() {
			var v Change
			decodeChange(rc, &v)
		}
	})
}
