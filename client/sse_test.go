package client

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// parseSSE is every event readSSE finds in s.
func parseSSE(t testing.TB, s string, oneByte bool) []sseEvent {
	t.Helper()
	var r = strings.NewReader(s)
	var got []sseEvent
	read := func(ev sseEvent) error { got = append(got, ev); return nil }
	var err error
	if oneByte {
		err = readSSE(iotest.OneByteReader(r), maxSSELine, read)
	} else {
		err = readSSE(r, maxSSELine, read)
	}
	if err != nil {
		t.Fatalf("readSSE(%q): %v", s, err)
	}
	return got
}

func TestReadSSE(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want []sseEvent
	}{
		{"empty", "", nil},
		{"one", "event: run\ndata: {}\n\n", []sseEvent{{Type: "run", Data: "{}"}}},
		{"default type", "data: x\n\n", []sseEvent{{Type: "message", Data: "x"}}},
		{"no space after colon", "event:end\ndata:{\"a\":1}\n\n", []sseEvent{{Type: "end", Data: `{"a":1}`}}},
		{"only one space removed", "data:  x\n\n", []sseEvent{{Type: "message", Data: " x"}}},
		{"split data", "event: run\ndata: {\"id\":\ndata: \"r1\"}\n\n", []sseEvent{{Type: "run", Data: "{\"id\":\n\"r1\"}"}}},
		{"comments ignored", ": ping\n\n: hello\nevent: run\n: between\ndata: 1\n\n", []sseEvent{{Type: "run", Data: "1"}}},
		{"CRLF", "event: run\r\ndata: 1\r\n\r\n", []sseEvent{{Type: "run", Data: "1"}}},
		{"CR", "event: run\rdata: 1\r\r", []sseEvent{{Type: "run", Data: "1"}}},
		{"mixed ends", "event: a\r\ndata: 1\n\revent: b\rdata: 2\r\n\n", []sseEvent{{Type: "a", Data: "1"}, {Type: "b", Data: "2"}}},
		{"no data, no event", "event: run\n\ndata: x\n\n", []sseEvent{{Type: "message", Data: "x"}}},
		{"empty data line", "data\n\n", []sseEvent{{Type: "message", Data: ""}}},
		{"empty data lines", "data:\ndata:\n\n", []sseEvent{{Type: "message", Data: "\n"}}},
		{"unterminated event dropped", "event: run\ndata: 1\n\nevent: end\ndata: 2\n", []sseEvent{{Type: "run", Data: "1"}}},
		{"unterminated line dropped", "data: 1\n\ndata: 2", []sseEvent{{Type: "message", Data: "1"}}},
		{"unknown fields and retry", "retry: 10\nfoo: bar\ndata: 1\n\n", []sseEvent{{Type: "message", Data: "1"}}},
		{"id kept", "id: 7\ndata: 1\n\ndata: 2\n\nid\ndata: 3\n\n", []sseEvent{{Type: "message", Data: "1", ID: "7"}, {Type: "message", Data: "2", ID: "7"}, {Type: "message", Data: "3"}}},
		{"id with NUL ignored", "id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", []sseEvent{{Type: "message", Data: "a", ID: "1"}, {Type: "message", Data: "b", ID: "1"}}},
		{"BOM", "\uFEFFdata: 1\n\n", []sseEvent{{Type: "message", Data: "1"}}},
		{"colon in value", "data: a: b\n\n", []sseEvent{{Type: "message", Data: "a: b"}}},
		{"type reset after dispatch", "event: run\ndata: 1\n\ndata: 2\n\n", []sseEvent{{Type: "run", Data: "1"}, {Type: "message", Data: "2"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, oneByte := range []bool{false, true} {
				if got := parseSSE(t, tc.in, oneByte); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("oneByte=%v: got %q, want %q", oneByte, got, tc.want)
				}
			}
		})
	}
}

func TestReadSSELimitsLines(t *testing.T) {
	in := "data: " + strings.Repeat("x", 100) + "\n\n"
	err := readSSE(strings.NewReader(in), 64, func(sseEvent) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("readSSE with a 106-byte line and a 64-byte limit = %v, want too long", err)
	}
}

func TestReadSSEStopsOnCallbackError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	err := readSSE(strings.NewReader("data: 1\n\ndata: 2\n\n"), maxSSELine, func(sseEvent) error { n++; return stop })
	if err != stop || n != 1 {
		t.Fatalf("readSSE = %v after %d events, want stop after 1", err, n)
	}
}

// encodeSSE writes ev as a stream would.
func encodeSSE(ev sseEvent) string {
	var b strings.Builder
	if ev.ID != "" {
		b.WriteString("id: " + ev.ID + "\n")
	}
	b.WriteString("event: " + ev.Type + "\n")
	for _, l := range strings.Split(ev.Data, "\n") {
		b.WriteString("data: " + l + "\n")
	}
	b.WriteString("\n")
	return b.String()
}

// FuzzParseSSE checks that no input panics readSSE, that events hold no
// line ends but between data lines, and that what it parses encodes and
// parses back to the same event, read whole or a byte at a time.
func FuzzParseSSE(f *testing.F) {
	for _, s := range []string{
		"event: run\ndata: {}\n\n",
		"event: run\r\ndata: a\r\ndata: b\r\n\r\n",
		": ping\n\nevent: end\rdata: x\r\r",
		"\uFEFFid: 1\ndata\n\n",
		"data:  \x00\n\nevent\n\n",
		"retry: 5\nid: a\x00b\ndata: 1\n\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		whole := parseSSE(t, s, false)
		if bytewise := parseSSE(t, s, true); !reflect.DeepEqual(whole, bytewise) {
			t.Fatalf("read whole %q, a byte at a time %q", whole, bytewise)
		}
		for _, ev := range whole {
			if ev.Type == "" || strings.ContainsAny(ev.Type, "\r\n") || strings.ContainsAny(ev.ID, "\r\n\x00") || strings.Contains(ev.Data, "\r") {
				t.Fatalf("bad event %q from %q", ev, s)
			}
			again := parseSSE(t, encodeSSE(ev), false)
			if len(again) != 1 || again[0] != ev {
				t.Fatalf("event %q encodes as %q, which parses as %q", ev, encodeSSE(ev), again)
			}
		}
	})
}
