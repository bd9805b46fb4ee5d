package replicator

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestFramesRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	files := map[string][]byte{"/a": []byte("alpha"), "/empty": {}, "/b/c": bytes.Repeat([]byte("\n"), 1000)}
	order := []string{"/a", "/empty", "/b/c"}
	for _, p := range order {
		if err := writeFrame(&buf, FrameHeader{Path: p, Size: int64(len(files[p])), Metadata: map[string]string{"k": p}}, files[p]); err != nil {
			t.Fatal(err)
		}
	}
	heads, bodies, err := readFrames(&buf, &frameArena{})
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range order {
		if heads[i].Path != p || !bytes.Equal(bodies[i], files[p]) || heads[i].Metadata["k"] != p {
			t.Fatalf("frame %d: %+v %q", i, heads[i], bodies[i])
		}
	}
}

// A batch body built of pieces reads as the frames written one after the
// other, as often as a retried request reads it; the contents read back are
// each their own (appending to one does not overwrite the next).
func TestBatchBodyReadsAsTheFramesEachTime(t *testing.T) {
	var want bytes.Buffer
	var body batchBody
	for i := range 2000 { // past the receiver's first 1 MiB chunk
		h := FrameHeader{Path: fmt.Sprintf("/f%03d", i), Size: 700}
		content := bytes.Repeat([]byte{byte(i)}, 700)
		if err := writeFrame(&want, h, content); err != nil {
			t.Fatal(err)
		}
		if err := body.add(h, content); err != nil {
			t.Fatal(err)
		}
	}
	if body.size != int64(want.Len()) {
		t.Fatalf("size %d, the frames are %d bytes", body.size, want.Len())
	}
	for attempt := range 2 {
		got, err := io.ReadAll(body.reader())
		if err != nil || !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("attempt %d: %d bytes read (%v), want the %d bytes of the frames", attempt, len(got), err, want.Len())
		}
	}
	heads, bodies, err := readFrames(body.reader(), &frameArena{})
	if err != nil || len(heads) != 2000 {
		t.Fatalf("%d frames, %v", len(heads), err)
	}
	_ = append(bodies[0], 0xff)
	for i, b := range bodies {
		if !bytes.Equal(b, bytes.Repeat([]byte{byte(i)}, 700)) {
			t.Fatalf("frame %d's content changed", i)
		}
	}
}

func TestFramesRefuseWhatTheyCannotTrust(t *testing.T) {
	for name, body := range map[string]string{
		"cut short":       `{"path":"/a","size":10}` + "\nabc",
		"bad header":      "{not json\nabc",
		"negative size":   `{"path":"/a","size":-1}` + "\n",
		"too large":       `{"path":"/a","size":99999999}` + "\n",
		"header too long": strings.Repeat("x", maxFrameHeader+10),
		"no newline":      `{"path":"/a","size":0}`,
	} {
		if _, _, err := readFrames(strings.NewReader(body), &frameArena{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzReadFrames(f *testing.F) {
	var buf bytes.Buffer
	_ = writeFrame(&buf, FrameHeader{Path: "/a", Size: 3, SHA256: "x"}, []byte("abc"))
	f.Add(buf.Bytes())
	f.Add([]byte(`{"path":"/a","size":1}` + "\n"))
	f.Add([]byte("\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		heads, bodies, err := readFrames(bytes.NewReader(b), &frameArena{})
		if err != nil {
			return
		}
		var total int64
		for i, h := range heads {
			if int64(len(bodies[i])) != h.Size || h.Size > maxBatchFile {
				t.Fatalf("frame %d: header says %d bytes, body has %d", i, h.Size, len(bodies[i]))
			}
			total += h.Size
		}
		if total > int64(len(b)) || total > maxBatchBytes {
			t.Fatalf("%d content bytes from %d input bytes", total, len(b))
		}
	})
}

// Chunks released by one batch are reused by the next without touching a
// batch still held: the receiver holds one batch's contents while another
// arrives.
func TestReleasedChunksDoNotReachAHeldBatch(t *testing.T) {
	batch := func(fill byte) io.Reader {
		var body batchBody
		for i := range 300 {
			if err := body.add(FrameHeader{Path: fmt.Sprintf("/f%03d", i), Size: 4096}, bytes.Repeat([]byte{fill}, 4096)); err != nil {
				t.Fatal(err)
			}
		}
		return body.reader()
	}
	var first, held frameArena
	if _, _, err := readFrames(batch(1), &first); err != nil {
		t.Fatal(err)
	}
	_, bodies, err := readFrames(batch(2), &held)
	if err != nil {
		t.Fatal(err)
	}
	first.release()
	var third frameArena
	if _, _, err := readFrames(batch(3), &third); err != nil {
		t.Fatal(err)
	}
	for i, b := range bodies {
		if !bytes.Equal(b, bytes.Repeat([]byte{2}, 4096)) {
			t.Fatalf("content %d of the held batch changed", i)
		}
	}
	held.release()
	third.release()
}
