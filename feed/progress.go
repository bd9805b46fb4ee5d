package feed

import (
	"encoding/json"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The states of a sync, as Pulp's SyncProgressReport names them. A sync
// goes not_started → manifest_in_progress → isos_in_progress → complete,
// or ends in manifest_failed, isos_failed (some file failed) or cancelled.
const (
	StateNotStarted         = "not_started"
	StateManifestInProgress = "manifest_in_progress"
	StateManifestFailed     = "manifest_failed"
	StateISOsInProgress     = "isos_in_progress"
	StateISOsFailed         = "isos_failed"
	StateComplete           = "complete"
	StateCancelled          = "cancelled"
)

// progressInterval is how often, at most, byte counts are reported while
// files download; state changes are reported at once.
const progressInterval = 250 * time.Millisecond

// FileError is a file that failed, as an entry of Pulp's
// iso_error_messages. Pulp put nectar's error_report there (a dict such as
// {"response_code": 404, "response_msg": "Not Found"}); this is a sentence
// that says the same and names the file or its URL.
type FileError struct {
	Name  string `json:"name"`
	Error string `json:"error"`
}

// Progress is the sync's progress_report.iso_importer, field for field.
// Its JSON is Pulp's: error_message and traceback are null when empty,
// total_bytes and num_isos null until the download of files began,
// state_times as Pulp wrote them (UTC, "2006-01-02T15:04:05", no zone:
// Pulp's times there were naive utcnow()), iso_error_messages never null.
//
// Like Pulp, total_bytes and num_isos count the files to download, not the
// ones already held or linked; finished_bytes counts bytes received.
type Progress struct {
	State            string               `json:"state"`
	StateTimes       map[string]time.Time `json:"state_times"`
	ErrorMessage     string               `json:"error_message"`
	TotalBytes       int64                `json:"total_bytes"`
	FinishedBytes    int64                `json:"finished_bytes"`
	NumISOs          int                  `json:"num_isos"`
	NumISOsFinished  int                  `json:"num_isos_finished"`
	ISOErrorMessages []FileError          `json:"iso_error_messages"`
}

// pulpTime is how Pulp's format_iso8601_datetime wrote a naive datetime.
const pulpTime = "2006-01-02T15:04:05"

// MarshalJSON writes Progress as Pulp serialised its progress report.
func (p Progress) MarshalJSON() ([]byte, error) {
	type wire struct {
		State            string            `json:"state"`
		StateTimes       map[string]string `json:"state_times"`
		ErrorMessage     *string           `json:"error_message"`
		Traceback        *string           `json:"traceback"`
		TotalBytes       *int64            `json:"total_bytes"`
		FinishedBytes    int64             `json:"finished_bytes"`
		NumISOs          *int              `json:"num_isos"`
		NumISOsFinished  int               `json:"num_isos_finished"`
		ISOErrorMessages []FileError       `json:"iso_error_messages"`
	}
	w := wire{State: p.State, StateTimes: map[string]string{}, FinishedBytes: p.FinishedBytes,
		NumISOsFinished: p.NumISOsFinished, ISOErrorMessages: p.ISOErrorMessages}
	if w.State == "" {
		w.State = StateNotStarted
	}
	for s, t := range p.StateTimes {
		w.StateTimes[s] = t.UTC().Format(pulpTime)
	}
	if p.ErrorMessage != "" {
		w.ErrorMessage = &p.ErrorMessage
	}
	if _, counted := p.StateTimes[StateISOsInProgress]; counted {
		w.TotalBytes, w.NumISOs = &p.TotalBytes, &p.NumISOs
	}
	if w.ISOErrorMessages == nil {
		w.ISOErrorMessages = []FileError{}
	}
	return json.Marshal(w)
}

func (p Progress) clone() Progress {
	p.StateTimes = maps.Clone(p.StateTimes)
	p.ISOErrorMessages = slices.Clone(p.ISOErrorMessages)
	return p
}

// reporter keeps a sync's Progress and calls Options.Progress with it: at
// once on a change of state, and for other changes (bytes, finished and
// failed files) at the next tick. Calls never overlap, and each sees a
// newer report than the one before.
type reporter struct {
	fn    func(Progress)
	bytes *atomic.Int64 // file bytes received, kept by the downloads

	emitMu sync.Mutex // held while fn runs: calls are serial, in snapshot order

	mu        sync.Mutex // guards what follows
	p         Progress
	changed   bool  // p changed since fn last saw it
	sentBytes int64 // the byte count fn last saw
}

func newReporter(fn func(Progress), bytes *atomic.Int64) *reporter {
	return &reporter{fn: fn, bytes: bytes, p: Progress{State: StateNotStarted,
		StateTimes: map[string]time.Time{StateNotStarted: time.Now().UTC()}}}
}

// setState enters state, with errMsg as the report's error_message when
// not empty, and reports at once.
func (r *reporter) setState(state, errMsg string) {
	r.change(func(p *Progress) {
		p.State = state
		p.StateTimes[state] = time.Now().UTC()
		if errMsg != "" {
			p.ErrorMessage = errMsg
		}
	})
	r.emit()
}

// change alters the report; the change is reported at the next tick or
// state.
func (r *reporter) change(f func(*Progress)) {
	r.mu.Lock()
	f(&r.p)
	r.changed = true
	r.mu.Unlock()
}

// tick reports what changed since the last report, if anything did.
func (r *reporter) tick() {
	r.mu.Lock()
	due := r.changed || r.bytes.Load() != r.sentBytes
	r.mu.Unlock()
	if due {
		r.emit()
	}
}

func (r *reporter) emit() {
	r.emitMu.Lock()
	defer r.emitMu.Unlock()
	p := r.snapshot()
	if r.fn != nil {
		r.fn(p)
	}
}

// snapshot is the report as it stands.
func (r *reporter) snapshot() Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sentBytes = r.bytes.Load()
	r.p.FinishedBytes = r.sentBytes
	r.changed = false
	return r.p.clone()
}

// ticking runs tick every progressInterval until the returned stop is
// called; stop returns once the ticking goroutine has ended.
func (r *reporter) ticking() (stop func()) {
	if r.fn == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				r.tick()
			case <-done:
				return
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}
