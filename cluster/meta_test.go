package cluster

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/memberlist"
)

func TestMetaRoundTrip(t *testing.T) {
	for _, m := range []nodeMeta{
		{Name: "a", API: "10.0.0.1:8080", Raft: "10.0.0.1:8300", Version: "v1.0.0"},
		{Name: "ünïcode <&>", API: "[::1]:8080", Raft: "[::1]:8300", Version: "dev", Expect: 3, HasState: true, Leaving: true,
			Labels: map[string]string{"region": "eu-west", "zone": "a", "": "empty key"}},
	} {
		b, err := m.encode()
		if err != nil {
			t.Fatalf("encode(%+v): %v", m, err)
		}
		if len(b) > memberlist.MetaMaxSize {
			t.Errorf("encode(%+v) = %d bytes, above %d", m, len(b), memberlist.MetaMaxSize)
		}
		got, err := decodeMeta(b)
		if err != nil {
			t.Fatalf("decodeMeta(%s): %v", b, err)
		}
		if !metaEqual(got, m) {
			t.Errorf("round trip:\n got %+v\nwant %+v", got, m)
		}
	}
}

func TestDecodeMetaRefusesNonFerryMetadata(t *testing.T) {
	for _, b := range []string{`{}`, `null`, `{"n":"x","a":"1.2.3.4:1"}`, `{"n":"x","r":"1.2.3.4:2"}`} {
		if _, err := decodeMeta([]byte(b)); err == nil {
			t.Errorf("decodeMeta(%s) accepted metadata without both addresses", b)
		}
	}
}

func TestMetaEncodeRefusesOversize(t *testing.T) {
	labels := map[string]string{}
	for i := range 40 {
		labels[fmt.Sprintf("label-%02d", i)] = strings.Repeat("x", 20)
	}
	b, err := nodeMeta{Name: "a", Raft: "10.0.0.1:8300", Labels: labels}.encode()
	if err == nil {
		t.Fatalf("encode of %d-byte metadata succeeded", len(b))
	}
	if !strings.Contains(err.Error(), "fewer or shorter labels") {
		t.Errorf("err = %v, want advice to use fewer or shorter labels", err)
	}
	if b != nil {
		t.Errorf("encode returned %d bytes along with an error", len(b))
	}

	// Exactly at the limit is fine; one byte more is not.
	base, err := nodeMeta{Labels: map[string]string{"k": ""}}.encode()
	if err != nil {
		t.Fatal(err)
	}
	pad := memberlist.MetaMaxSize - len(base)
	if _, err := (nodeMeta{Labels: map[string]string{"k": strings.Repeat("x", pad)}}).encode(); err != nil {
		t.Errorf("metadata of exactly %d bytes refused: %v", memberlist.MetaMaxSize, err)
	}
	if _, err := (nodeMeta{Labels: map[string]string{"k": strings.Repeat("x", pad+1)}}).encode(); err == nil {
		t.Errorf("metadata of %d bytes accepted", memberlist.MetaMaxSize+1)
	}
}

func TestDecodeMetaErrors(t *testing.T) {
	for _, b := range [][]byte{nil, {}, []byte("{"), []byte("[]"), []byte(`{"n":1}`), []byte(`{"e":"3"}`), []byte("\x82\xa1n")} {
		if m, err := decodeMeta(b); err == nil {
			t.Errorf("decodeMeta(%q) = %+v, want an error", b, m)
		}
	}
}

// metaEqual compares metadata treating a nil and an empty Labels map as equal:
// the encoding omits empty labels.
func metaEqual(a, b nodeMeta) bool {
	if len(a.Labels) == 0 {
		a.Labels = nil
	}
	if len(b.Labels) == 0 {
		b.Labels = nil
	}
	return reflect.DeepEqual(a, b)
}

func FuzzDecodeMeta(f *testing.F) {
	for _, m := range []nodeMeta{
		{},
		{Name: "a", API: "10.0.0.1:8080", Raft: "10.0.0.1:8300", Version: "v1", Expect: 3, HasState: true, Leaving: true, Labels: map[string]string{"k": "v"}},
	} {
		b, err := m.encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{"", "null", "{}", `{"l":{}}`, `{"l":null}`, `{"n":"\xff"}`, `{"N":"a","n":"b"}`, `{"e":-1}`, `{"l":{"<":"&"}}`, "[]", "{"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMeta(b)
		if err != nil {
			return
		}
		enc, err := m.encode()
		if err != nil {
			if !strings.Contains(err.Error(), "fewer or shorter labels") {
				t.Fatalf("encode of decoded %+v: %v", m, err)
			}
			return
		}
		if len(enc) > memberlist.MetaMaxSize {
			t.Fatalf("encode returned %d bytes", len(enc))
		}
		again, err := decodeMeta(enc)
		if err != nil {
			t.Fatalf("decodeMeta(encode(%+v)) = %v (encoded %q)", m, err, enc)
		}
		if !metaEqual(m, again) {
			t.Fatalf("round trip changed metadata:\n first %+v\nsecond %+v", m, again)
		}
	})
}
