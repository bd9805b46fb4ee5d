package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestFormatSize(t *testing.T) {
	for _, tc := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1, "1 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{1<<20 - 1, "1.0 MiB"}, // rounds up a unit rather than "1024.0 KiB"
		{1 << 20, "1.0 MiB"},
		{12*(1<<20) + 300*(1<<10), "12.3 MiB"},
		{8 << 30, "8.0 GiB"},
		{5 << 40, "5.0 TiB"},
		{1 << 60, "1.0 EiB"},
		{1<<63 - 1, "8.0 EiB"},
	} {
		if got := formatSize(tc.n); got != tc.want {
			t.Errorf("formatSize(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{1400 * time.Millisecond, "1s"},
		{59 * time.Second, "59s"},
		{65 * time.Second, "1m05s"},
		{3599 * time.Second, "59m59s"},
		{3720 * time.Second, "1h02m"},
		{50 * time.Hour, "50h00m"},
	} {
		if got := formatDuration(tc.d); got != tc.want {
			t.Errorf("formatDuration(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestProgressOnlyForLargeTransfersOnTerminals(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	var out bytes.Buffer
	if p := newProgress(&out, "x", 100<<20, clk.now, false); p != nil {
		t.Error("progress without a terminal")
	}
	if p := newProgress(&out, "x", progressMinSize-1, clk.now, true); p != nil {
		t.Error("progress for a small transfer")
	}
	if p := newProgress(&out, "x", -1, clk.now, true); p != nil {
		t.Error("progress for an unknown size")
	}
	if p := newProgress(&out, "x", progressMinSize, clk.now, true); p == nil {
		t.Error("no progress for an 8 MiB transfer on a terminal")
	}
	// A nil progress passes readers and writers through and draws nothing.
	var p *progress
	r := strings.NewReader("abc")
	if p.reader(r) != io.Reader(r) {
		t.Error("nil progress wraps")
	}
	p.add(5)
	p.finish()
	if out.Len() != 0 {
		t.Errorf("output %q", out.String())
	}
	// Neither a buffer nor a regular file is a terminal.
	if isTerminal(&out) {
		t.Error("buffer is a terminal")
	}
	f, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Error("regular file is a terminal")
	}
}

func TestProgressRender(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	p := newProgress(io.Discard, "upload", 100<<20, clk.now, true)
	for _, tc := range []struct {
		done    int64
		elapsed time.Duration
		final   bool
		want    string
	}{
		{0, 0, false, "upload [                    ]        0 B / 100.0 MiB    0%  --- MiB/s  ETA --"},
		{25 << 20, 5 * time.Second, false, "upload [====>               ]   25.0 MiB / 100.0 MiB   25%  5.0 MiB/s  ETA 15s"},
		{50 << 20, 5 * time.Second, false, "upload [=========>          ]   50.0 MiB / 100.0 MiB   50%  10.0 MiB/s  ETA 5s"},
		{1 << 20, 10 * time.Second, false, "upload [                    ]    1.0 MiB / 100.0 MiB    1%  0.1 MiB/s  ETA 16m30s"},
		{100 << 20, 20 * time.Second, false, "upload [====================]  100.0 MiB / 100.0 MiB  100%  5.0 MiB/s  ETA 0s"},
		{100 << 20, 20 * time.Second, true, "upload [====================]  100.0 MiB / 100.0 MiB  100%  5.0 MiB/s  in 20s"},
		{40 << 20, 80 * time.Second, true, "upload [=======>            ]   40.0 MiB / 100.0 MiB   40%  0.5 MiB/s  in 1m20s"},
	} {
		if got := p.render(tc.done, tc.elapsed, tc.final); got != tc.want {
			t.Errorf("render(%d, %v, %v)\n got %q\nwant %q", tc.done, tc.elapsed, tc.final, got, tc.want)
		}
	}
}

func TestProgressRedrawsAtMostTenTimesASecond(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	var out bytes.Buffer
	p := newProgress(&out, "get", 10<<20, clk.now, true)
	w := counting{p}
	chunk := make([]byte, 1<<20)

	draws := func() int { return strings.Count(out.String(), "\r") }
	clk.advance(50 * time.Millisecond)
	w.Write(chunk) // too early for a meaningful rate
	if draws() != 0 {
		t.Fatalf("draws = %d in the first interval", draws())
	}
	clk.advance(950 * time.Millisecond)
	w.Write(chunk)
	if draws() != 1 {
		t.Fatalf("draws = %d after the first write", draws())
	}
	for range 5 {
		clk.advance(10 * time.Millisecond)
		w.Write(chunk)
	}
	if draws() != 1 {
		t.Fatalf("draws = %d after 50ms", draws())
	}
	clk.advance(50 * time.Millisecond) // 100ms since the last draw
	w.Write(chunk)
	if draws() != 2 {
		t.Fatalf("draws = %d after 100ms", draws())
	}
	clk.advance(900 * time.Millisecond)
	w.Write(make([]byte, 3<<20))
	clk.advance(time.Second)
	p.finish()
	p.finish() // idempotent
	p.add(1)   // ignored once finished

	// At 1s, 1.1s, 2s, and the final line at 3s, padded with a blank to
	// cover the longer line before it. More than announced is shown as is,
	// capped at 100%.
	want := "\r" + "get [===>                ]    2.0 MiB / 10.0 MiB   20%  2.0 MiB/s  ETA 4s" +
		"\r" + "get [===============>    ]    8.0 MiB / 10.0 MiB   80%  7.3 MiB/s  ETA 0s" +
		"\r" + "get [====================]   11.0 MiB / 10.0 MiB  100%  5.5 MiB/s  ETA 0s" +
		"\r" + "get [====================]   11.0 MiB / 10.0 MiB  100%  3.7 MiB/s  in 3s " + "\n"
	if got := out.String(); got != want {
		t.Fatalf("output\n got %q\nwant %q", got, want)
	}
}

func TestProgressBlanksLeftoverOfLongerLine(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	var out bytes.Buffer
	p := newProgress(&out, "get", 10<<20, clk.now, true)
	r := p.reader(bytes.NewReader(make([]byte, 1<<20)))
	clk.advance(time.Second)
	if _, err := r.Read(make([]byte, 8<<10)); err != nil { // drawn at once
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, r); err != nil { // too soon to redraw
		t.Fatal(err)
	}
	clk.advance(time.Second)
	p.finish()
	want := "\r" + "get [                    ]    8.0 KiB / 10.0 MiB    0%  0.0 MiB/s  ETA 21m19s" +
		"\r" + "get [=>                  ]    1.0 MiB / 10.0 MiB   10%  0.5 MiB/s  in 2s     " + "\n"
	if got := out.String(); got != want {
		t.Fatalf("output\n got %q\nwant %q", got, want)
	}
}

// counting feeds written bytes to a progress, as a transfer's reader does.
type counting struct{ p *progress }

func (c counting) Write(b []byte) (int, error) {
	c.p.add(len(b))
	return len(b), nil
}
