package client

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// sseEvent is one event of a text/event-stream.
type sseEvent struct {
	Type string // "message" when the stream named none
	Data string // the event's data lines, joined by "\n"
	ID   string // the last event ID the stream set, this event's or earlier
}

// sseParser turns the lines of a text/event-stream into events, following
// the "event stream interpretation" of the HTML standard. The zero value is
// ready to use.
type sseParser struct {
	typ  string
	data []byte
	id   string
}

// line interprets one line, without its end of line. A blank line dispatches
// the event the lines before it built, if they held any data.
func (p *sseParser) line(l string) (sseEvent, bool) {
	if l == "" {
		if len(p.data) == 0 {
			p.typ = ""
			return sseEvent{}, false
		}
		ev := sseEvent{Type: p.typ, Data: string(p.data[:len(p.data)-1]), ID: p.id}
		if ev.Type == "" {
			ev.Type = "message"
		}
		p.typ, p.data = "", p.data[:0]
		return ev, true
	}
	if l[0] == ':' {
		return sseEvent{}, false // a comment, such as ": ping"
	}
	field, value, found := strings.Cut(l, ":")
	if found {
		value = strings.TrimPrefix(value, " ")
	}
	switch field {
	case "event":
		p.typ = value
	case "data":
		p.data = append(append(p.data, value...), '\n')
	case "id":
		if !strings.Contains(value, "\x00") {
			p.id = value
		}
	}
	// "retry" and unknown fields are ignored: WatchRun has its own backoff.
	return sseEvent{}, false
}

// scanSSELines is a bufio.SplitFunc for the lines of an event stream, which
// end with "\r\n", "\n" or "\r". An unterminated last line is dropped: the
// stream broke in the middle of it.
func scanSSELines(data []byte, atEOF bool) (int, []byte, error) {
	i := bytes.IndexAny(data, "\r\n")
	if i < 0 {
		return 0, nil, nil
	}
	if data[i] == '\r' {
		if i+1 == len(data) && !atEOF {
			return 0, nil, nil // "\r\n" may be split between two reads
		}
		if i+1 < len(data) && data[i+1] == '\n' {
			return i + 2, data[:i], nil
		}
	}
	return i + 1, data[:i], nil
}

// readSSE reads an event stream from r, calling fn with each event, until r
// ends (nil), fails, or fn returns an error (which readSSE returns). A line
// longer than maxLine bytes fails with bufio.ErrTooLong. An event the stream
// did not finish with a blank line is not dispatched.
func readSSE(r io.Reader, maxLine int, fn func(sseEvent) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, min(64<<10, maxLine)), maxLine)
	sc.Split(scanSSELines)
	var p sseParser
	first := true
	for sc.Scan() {
		l := sc.Text()
		if first {
			l = strings.TrimPrefix(l, "\uFEFF")
			first = false
		}
		if ev, ok := p.line(l); ok {
			if err := fn(ev); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}
