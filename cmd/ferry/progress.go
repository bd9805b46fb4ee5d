package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

const (
	// progressMinSize is the smallest transfer that gets a progress bar.
	progressMinSize = 8 << 20
	// progressInterval is the least time between two redraws.
	progressInterval = 100 * time.Millisecond
	progressBarWidth = 20
)

// isTerminal reports whether w is a character device (a terminal), the only
// place a "\r"-redrawn progress line makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress draws one self-overwriting line about a transfer of total bytes.
// A nil *progress is valid and draws nothing, so callers need no checks.
// It is safe for concurrent use (an upload body is read by the HTTP
// transport's goroutine).
type progress struct {
	mu       sync.Mutex
	out      io.Writer
	now      func() time.Time
	label    string
	total    int64
	done     int64
	start    time.Time
	drawn    time.Time // last redraw; zero before the first
	width    int       // length of the last line drawn, to blank its rest
	finished bool
}

// newProgress returns a progress line on out, or nil (no output) unless tty is
// true and total is at least progressMinSize. now is the clock.
func newProgress(out io.Writer, label string, total int64, now func() time.Time, tty bool) *progress {
	if !tty || total < progressMinSize {
		return nil
	}
	return &progress{out: out, now: now, label: label, total: total, start: now()}
}

// stderrProgress is newProgress on the command's stderr with the real clock,
// shown only when that stderr is a terminal.
func stderrProgress(stderr io.Writer, label string, total int64) *progress {
	return newProgress(stderr, label, total, time.Now, isTerminal(stderr))
}

// add counts n more bytes done and redraws if the last redraw (or the start)
// is at least progressInterval old.
func (p *progress) add(n int) {
	if p == nil || n <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.done += int64(n)
	now := p.now()
	last := p.drawn
	if last.IsZero() {
		last = p.start // no line in the first interval: its rate would be noise
	}
	if now.Sub(last) < progressInterval {
		return
	}
	p.drawn = now
	p.draw(p.render(p.done, now.Sub(p.start), false))
}

// finish draws the final line and ends it with a newline. Later calls do nothing.
func (p *progress) finish() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	p.draw(p.render(p.done, p.now().Sub(p.start), true))
	fmt.Fprint(p.out, "\n")
}

func (p *progress) draw(line string) {
	pad := ""
	if n := p.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	p.width = len(line)
	fmt.Fprint(p.out, "\r"+line+pad)
}

// render formats the line for done bytes after elapsed:
//
//	upload [=========>          ]  50.0 MiB / 100.0 MiB   50%  10.0 MiB/s  ETA 5s
//
// The final line shows the total time ("in 10s") instead of the ETA.
func (p *progress) render(done int64, elapsed time.Duration, final bool) string {
	frac := 0.0
	if p.total > 0 {
		frac = float64(done) / float64(p.total)
	}
	frac = min(max(frac, 0), 1)
	bar := progressBar(frac)
	rate := -1.0 // bytes per second; unknown
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	rateText := "--- MiB/s"
	if rate >= 0 {
		rateText = fmt.Sprintf("%.1f MiB/s", rate/(1<<20))
	}
	tail := "ETA --"
	switch {
	case final:
		tail = "in " + formatDuration(elapsed)
	case done >= p.total:
		tail = "ETA 0s"
	case rate > 0:
		tail = "ETA " + formatDuration(time.Duration(float64(p.total-done)/rate*float64(time.Second)))
	}
	return fmt.Sprintf("%s [%s] %10s / %s %4d%%  %s  %s",
		p.label, bar, formatSize(done), formatSize(p.total), int(frac*100), rateText, tail)
}

// reader counts what is read from r.
func (p *progress) reader(r io.Reader) io.Reader {
	if p == nil {
		return r
	}
	return &progressReader{r: r, p: p}
}

type progressReader struct {
	r io.Reader
	p *progress
}

func (r *progressReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	r.p.add(n)
	return n, err
}

// formatSize is n bytes, human readable in binary units: "512 B", "1.5 KiB",
// "12.3 MiB".
func formatSize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n) / 1024
	i := 0
	// Move up when the value would round to 1024.0 in this unit.
	for v >= 1023.95 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

// formatDuration is d rounded to seconds in a short form: "42s", "3m05s",
// "1h02m".
func formatDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	default:
		return fmt.Sprintf("%dh%02dm", s/3600, (s%3600)/60)
	}
}

// progressBar is a bar of progressBarWidth columns, as the transfer progress
// line draws it: "=========>          ".
func progressBar(frac float64) string {
	filled := int(min(max(frac, 0), 1) * progressBarWidth)
	bar := strings.Repeat("=", filled)
	if filled < progressBarWidth {
		if filled > 0 {
			bar = bar[:filled-1] + ">"
		}
		bar += strings.Repeat(" ", progressBarWidth-filled)
	}
	return bar
}
