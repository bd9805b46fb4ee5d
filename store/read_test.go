package store

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
)

func TestWalkStatManyReadSmallAndHead(t *testing.T) {
	ctx := context.Background()
	_, r, _ := newRepo(t, TypeGeneric)
	if head, err := r.Head(ctx); err != nil || head != 0 {
		t.Fatalf("empty repository head %d %v", head, err)
	}
	big := bytes.Repeat([]byte("x"), InlineMax+1)
	write(t, r, "/a/1", []byte("one"))
	write(t, r, "/a/b/2", []byte("two"))
	write(t, r, "/c", big)
	var walked []string
	if err := r.Walk(ctx, "/a", func(n Node) error { walked = append(walked, n.Path); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(walked) != 2 || walked[0] != "/a/1" || walked[1] != "/a/b/2" {
		t.Fatalf("walk /a: %v", walked)
	}
	walked = nil
	if err := r.Walk(ctx, "/c", func(n Node) error { walked = append(walked, n.Path); return nil }); err != nil || len(walked) != 1 {
		t.Fatalf("walk of a file: %v %v", walked, err)
	}
	nodes, found, err := r.StatMany(ctx, []string{"/a/1", "/nope", "../bad", "/c"})
	if err != nil || !found[0] || found[1] || found[2] || !found[3] || nodes[3].Size != int64(len(big)) {
		t.Fatalf("StatMany: %v %v %v", found, err, nodes)
	}
	nodes, contents, err := r.ReadSmall(ctx, []string{"/a/b/2", "/c", "/nope"})
	if err != nil || string(contents[0]) != "two" || contents[1] != nil || nodes[1].Path != "/c" || nodes[2].Path != "" {
		t.Fatalf("ReadSmall: %q %v %+v", contents, err, nodes)
	}
	head, _ := r.Head(ctx)
	write(t, r, "/a/1", []byte("one again"))
	if next, _ := r.Head(ctx); next != head+1 {
		t.Fatalf("head %d after a write, was %d", next, head)
	}
}

func TestKnownMD5IsTakenNotComputed(t *testing.T) {
	ctx := context.Background()
	_, r, _ := newRepo(t, TypeGeneric)
	stated := hex.EncodeToString(make([]byte, 16)) // not the content's: shows it is taken as given
	n, err := r.Write(ctx, "/f", bytes.NewReader([]byte("content")), WriteOptions{Size: -1, SHA256: sum([]byte("content")), KnownMD5: stated})
	if err != nil || n.MD5 != stated {
		t.Fatalf("inline write with a known md5: %s %v", n.MD5, err)
	}
	// Without a sha256 nothing proves the content: the md5 is computed.
	if n, _ := r.Write(ctx, "/h", bytes.NewReader([]byte("content")), WriteOptions{Size: -1, KnownMD5: stated}); n.MD5 == stated {
		t.Fatal("a stated md5 was taken without a sha256")
	}
	real := md5.Sum([]byte("content"))
	n, err = r.Write(ctx, "/g", bytes.NewReader([]byte("content")), WriteOptions{Size: -1, KnownMD5: "not-hex"})
	if err != nil || n.MD5 != hex.EncodeToString(real[:]) {
		t.Fatalf("an invalid known md5 is computed instead: %s %v", n.MD5, err)
	}
}

func TestUploadTakesTheSendersMD5(t *testing.T) {
	s, r, _ := newRepo(t, TypeGeneric)
	content := bytes.Repeat([]byte("abc"), InlineMax) // over InlineMax: a file
	u, err := s.Upload(sum(content), int64(len(content)))
	if err != nil {
		t.Fatal(err)
	}
	if err := u.UseMD5("NOT-HEX"); err == nil {
		t.Fatal("an invalid md5 was taken")
	}
	stated := md5hex(content)
	if err := u.UseMD5(stated); err != nil {
		t.Fatal(err)
	}
	if _, err := u.Append(ctx, 0, bytes.NewReader(content)); err != nil || !u.Complete() {
		t.Fatalf("append: %v complete=%v", err, u.Complete())
	}
	n, err := r.Link(ctx, "/big", sum(content), WriteOptions{Size: int64(len(content))})
	if err != nil || n.MD5 != stated {
		t.Fatalf("link: %+v %v", n, err)
	}
}

// A listing taken in parts, each WalkAfter from the last path of the one
// before, lists what one Walk does, once each, under a folder or of a file.
func TestWalkAfterTakesAListingInParts(t *testing.T) {
	ctx := context.Background()
	_, r, _ := newRepo(t, TypeGeneric)
	for _, p := range []string{"/a/1", "/a/2", "/a/b/3", "/a0", "/c/4", "/c/5", "/c/d/e/6", "/z"} {
		write(t, r, p, []byte(p))
	}
	for _, dir := range []string{"/", "/a", "/c", "/z", "/missing"} {
		var whole []string
		if err := r.Walk(ctx, dir, func(n Node) error { whole = append(whole, n.Path); return nil }); err != nil {
			t.Fatal(err)
		}
		var parts []string
		for after := ""; ; {
			var part []string
			err := r.WalkAfter(ctx, dir, after, func(n Node) error {
				if len(part) == 2 {
					return errStopWalk
				}
				part = append(part, n.Path)
				return nil
			})
			if err != nil && err != errStopWalk {
				t.Fatal(err)
			}
			parts = append(parts, part...)
			if len(part) < 2 {
				break
			}
			after = part[len(part)-1]
		}
		if fmt.Sprint(parts) != fmt.Sprint(whole) {
			t.Errorf("%s: in parts %v, whole %v", dir, parts, whole)
		}
	}
}

var errStopWalk = errors.New("part full")
