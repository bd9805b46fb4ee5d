package replicator

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"slices"
	"sync"

	"github.com/ferrysync/ferry/fsm"
)

// The transfer protocol under /v1/replica: remote.go calls it, handler.go
// serves it (doc.go says who calls what, with which bounds and retries).
// Policy admin: the agents of a group share the management token. Errors are
// {"error": "..."}; by names the writer in the target's change log (batch:
// the caller when empty).
//
//	POST  /v1/replica/plan                       PlanRequest → PlanResponse
//	POST  /v1/replica/batch?project=&repo=[&by=] frames      → ItemsResponse
//	GET   /v1/replica/uploads/:sha256?size=      → UploadStatus
//	PATCH /v1/replica/uploads/:sha256?size=&offset=[&md5=]  bytes → UploadStatus (409 with the current offset)
//	POST  /v1/replica/commit                     CommitRequest → ItemsResponse
//	POST  /v1/replica/versions                   VersionsRequest → ItemsResponse
//	POST  /v1/replica/delete                     DeleteRequest → ItemsResponse
//	GET   /v1/replica/head?project=&repo=[&since=&by=]  → RepoHead

// Plan actions: what the target did or needs for one object.
const (
	ActionSend      = "send"             // the content must be sent
	ActionLinked    = "linked"           // the target held the content and linked it at the path
	ActionIdentical = "identical"        // the path already holds this content (and metadata)
	ActionMetadata  = "metadata"         // the path held this content; its metadata was updated
	ActionConflict  = fsm.ActionConflict // the path holds different content and the strategy keeps it
	ActionError     = "error"
	ActionDeleted   = "deleted" // real time: deleted on the target as on the source
)

// PlanRequest asks a target what it lacks of a batch of objects.
type PlanRequest struct {
	Project  string `json:"project"`
	Repo     string `json:"repo"`
	RepoType string `json:"repoType"`
	// Conflict is the run's conflict strategy; with OVERWRITE the target
	// links or asks for the new content, otherwise it reports the conflict.
	Conflict        string       `json:"conflictStrategy"`
	IncludeMetadata bool         `json:"includeMetadata"`
	By              string       `json:"by"`
	Objects         []PlanObject `json:"objects"`
	// DryRun asks what the target would do, with nothing linked, updated
	// or created (not even the repository): a missing path answers send
	// (content the target holds would be linked then), a conflict as the
	// strategy decides. FAST_FAIL learns its conflicts this way before the
	// first byte moves.
	DryRun bool `json:"dryRun,omitempty"`
}

// PlanObject describes one file of the source.
type PlanObject struct {
	Path     string            `json:"path"`
	Size     int64             `json:"size"`
	SHA256   string            `json:"sha256"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// PlanResponse answers a PlanRequest, one result per object in order.
type PlanResponse struct {
	Results []PlanResult `json:"results"`
}

// PlanResult is the target's answer for one object.
type PlanResult struct {
	Action string `json:"action"`
	// Conflict is set when the path held different content (whatever the
	// strategy did with it).
	Conflict bool   `json:"conflict,omitempty"`
	Error    string `json:"error,omitempty"`
}

// FrameHeader precedes each file's bytes in a batch body: a JSON line, then
// exactly Size bytes.
type FrameHeader struct {
	Path      string            `json:"path"`
	Size      int64             `json:"size"`
	SHA256    string            `json:"sha256"`
	MD5       string            `json:"md5,omitempty"` // the sender's, so the target need not compute it
	Metadata  map[string]string `json:"metadata,omitempty"`
	Overwrite bool              `json:"overwrite,omitempty"`
}

// ItemsResponse has one result per item of a batch, commit or versions call.
type ItemsResponse struct {
	Results []ItemResult `json:"results"`
}

// ItemResult is one item's outcome; Error is empty on success.
type ItemResult struct {
	Error string `json:"error,omitempty"`
}

// UploadStatus is where a resumable upload stands.
type UploadStatus struct {
	Offset   int64  `json:"offset"`
	Complete bool   `json:"complete"`
	Error    string `json:"error,omitempty"`
}

// CommitRequest creates files from uploaded content.
type CommitRequest struct {
	Project string        `json:"project"`
	Repo    string        `json:"repo"`
	By      string        `json:"by"`
	Entries []FrameHeader `json:"entries"`
}

// VersionsRequest creates or updates package versions whose files are there.
type VersionsRequest struct {
	Project  string           `json:"project"`
	Repo     string           `json:"repo"`
	By       string           `json:"by"`
	Versions []PackageVersion `json:"versions"`
}

// RepoHead is where a repository's change log stands: any change moves it.
type RepoHead struct {
	Exists bool   `json:"exists"`
	Seq    uint64 `json:"seq"`
	// Foreign, asked with since and by, says that some change after since
	// was made by someone else than by.
	Foreign bool `json:"foreign,omitempty"`
}

// DeleteRequest removes paths (real-time replication of deletions).
type DeleteRequest struct {
	Project string   `json:"project"`
	Repo    string   `json:"repo"`
	By      string   `json:"by"`
	Paths   []string `json:"paths"`
}

// PackageVersion is a version as replicated.
type PackageVersion struct {
	PackageKey string            `json:"packageKey"`
	Version    string            `json:"version"`
	Paths      []string          `json:"paths"`
	Metadata   map[string]string `json:"metadata,omitempty"`
}

// Bounds of one protocol call: a bad or hostile peer cannot make the target
// buffer without end.
const (
	maxPlanObjects = 1000
	maxFrameHeader = 64 << 10
	maxBatchFile   = 1 << 20
	maxBatchBytes  = 16 << 20
	maxBatchFiles  = 2000
	maxJSONBody    = 32 << 20
)

// writeFrame writes one file of a batch.
func writeFrame(w io.Writer, h FrameHeader, content []byte) error {
	line, err := frameHeaderLine(h)
	if err != nil {
		return err
	}
	if _, err := w.Write(line); err != nil {
		return err
	}
	_, err = w.Write(content)
	return err
}

// frameHeaderLine is a frame's header as it goes on the wire: JSON and a
// newline.
func frameHeaderLine(h FrameHeader) ([]byte, error) {
	b, err := json.Marshal(h)
	return append(b, '\n'), err
}

// batchBody is a batch's body as the pieces it is made of, each frame's
// header line and its content as the store returned it, not copied into one
// buffer: a 16 MiB buffer a batch, grown and first touched, was 8 % of the
// sender's CPU replicating 10,000 small files (docs/performance.md).
type batchBody struct {
	parts net.Buffers
	size  int64
}

func (b *batchBody) add(h FrameHeader, content []byte) error {
	line, err := frameHeaderLine(h)
	if err != nil {
		return err
	}
	b.parts = append(b.parts, line, content)
	b.size += int64(len(line) + len(content))
	return nil
}

// reader reads the body from its start; each call is a new reader (a
// retried request sends it again).
func (b *batchBody) reader() io.Reader {
	parts := slices.Clone(b.parts)
	return &parts
}

// readFrames reads a whole batch body, bounded, before anything is written:
// a batch cut short by a broken connection commits nothing. The contents
// are in arena's chunks, valid until it is released.
func readFrames(r io.Reader, arena *frameArena) ([]FrameHeader, [][]byte, error) {
	br := frameReaders.Get().(*bufio.Reader)
	br.Reset(r)
	defer func() {
		br.Reset(nil) // the pool holds no request body
		frameReaders.Put(br)
	}()
	var heads []FrameHeader
	var bodies [][]byte
	var total int64
	for {
		line, err := readLine(br)
		if err == io.EOF && len(line) == 0 {
			return heads, bodies, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("batch frame %d: %w", len(heads), err)
		}
		var h FrameHeader
		if err := json.Unmarshal(line, &h); err != nil {
			return nil, nil, fmt.Errorf("batch frame %d: bad header: %w", len(heads), err)
		}
		if h.Size < 0 || h.Size > maxBatchFile {
			return nil, nil, fmt.Errorf("batch frame %d: size %d is not within 0..%d", len(heads), h.Size, maxBatchFile)
		}
		total += h.Size
		if total > maxBatchBytes || len(heads) >= maxBatchFiles {
			return nil, nil, fmt.Errorf("batch is larger than %d files or %d bytes", maxBatchFiles, maxBatchBytes)
		}
		body := arena.take(int(h.Size))
		if _, err := io.ReadFull(br, body); err != nil {
			return nil, nil, fmt.Errorf("batch frame %d (%s): %w", len(heads), h.Path, err)
		}
		h.Metadata = maps.Clone(h.Metadata)
		heads, bodies = append(heads, h), append(bodies, body)
	}
}

// frameArena hands out a batch's contents from a few chunks of 1 MiB
// instead of one allocation each (two thousand 4 KiB allocations a batch
// were most of the receiver's allocation count), and the chunks are reused
// from batch to batch once released: memory the process has not touched
// costs a page fault per 4 KiB, a third of the receiver's CPU at 10,000
// files on the machines measured (docs/performance.md). A content larger
// than a chunk gets its own allocation.
type frameArena struct {
	free   []byte
	chunks []*[]byte
}

const frameChunk = 1 << 20

var (
	frameChunks  = sync.Pool{New: func() any { b := make([]byte, frameChunk); return &b }}
	frameReaders = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 256<<10) }}
)

func (a *frameArena) take(n int) []byte {
	if n > frameChunk {
		return make([]byte, n)
	}
	if cap(a.free)-len(a.free) < n {
		c := frameChunks.Get().(*[]byte)
		a.chunks = append(a.chunks, c)
		a.free = (*c)[:0]
	}
	start := len(a.free)
	a.free = a.free[:start+n]
	return a.free[start : start+n : start+n]
}

// release gives the chunks back: nothing taken from the arena may be used
// after it.
func (a *frameArena) release() {
	for _, c := range a.chunks {
		frameChunks.Put(c)
	}
	a.free, a.chunks = nil, nil
}

// readLine reads up to a newline, bounded by maxFrameHeader.
func readLine(br *bufio.Reader) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxFrameHeader {
			return nil, fmt.Errorf("frame header longer than %d bytes", maxFrameHeader)
		}
		switch err {
		case nil:
			return line[:len(line)-1], nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if len(line) == 0 {
				return nil, io.EOF
			}
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}
