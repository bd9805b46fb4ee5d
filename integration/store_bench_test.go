package integration

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ferrysync/ferry/internal/benchpeer"
)

// Artifact throughput through the HTTP API of a real agent on loopback,
// beside cp of the same data on the same disk, in the same run. Uploads are
// verified (X-Checksum-Sha256) and fsynced by the store; cp is not, so
// cp+fsync is reported too. Downloads are written to a file, like cp.
//
//	go test -run '^$' -bench BenchmarkHTTP -benchtime 10x ./integration/
func BenchmarkHTTPLargeObject(b *testing.B) {
	const size = 64 << 20
	n := startNode(b, "bench", withBootstrapExpect(1))
	sameLeader(b, 30*time.Second, n)
	makeRepo(b, n.url(), "", "demo", "files", "GENERIC")
	dir := b.TempDir()
	src := filepath.Join(dir, "src.bin")
	f, _ := os.Create(src)
	io.Copy(f, patterned(7, size))
	f.Close()
	sum, _ := shaOf(b, must(os.Open(src)))
	dst := filepath.Join(dir, "dst.bin")
	url := n.url() + "/generic/demo/files/big.bin"

	b.Run("upload-64MiB", func(b *testing.B) {
		b.SetBytes(size)
		var api, cp, cpSync time.Duration
		for b.Loop() {
			in := must(os.Open(src))
			start := time.Now()
			req, _ := http.NewRequest("PUT", url, in)
			req.ContentLength = size
			req.Header.Set("X-Auth-Token", mgmtToken)
			req.Header.Set("X-Checksum-Sha256", sum)
			resp, err := bulkClient.Do(req)
			if err != nil || resp.StatusCode >= 300 {
				b.Fatalf("upload: %v %v", err, resp.Status)
			}
			resp.Body.Close()
			api += time.Since(start)
			in.Close()
			b.StopTimer()
			do(b, "DELETE", url, nil, nil) // the next upload stores the content anew
			cp += benchpeer.Cp(b, src, dst, false)
			cpSync += benchpeer.Cp(b, src, dst, true)
			b.StartTimer()
		}
		benchpeer.ReportThroughput(b, "api", size*int64(b.N), api, cp, cpSync)
	})

	b.Run("download-64MiB", func(b *testing.B) {
		in := must(os.Open(src))
		req, _ := http.NewRequest("PUT", url, in)
		req.ContentLength = size
		req.Header.Set("X-Auth-Token", mgmtToken)
		resp, err := httpClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		in.Close()
		b.SetBytes(size)
		var api, cp, cpSync time.Duration
		for b.Loop() {
			start := time.Now()
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("X-Auth-Token", mgmtToken)
			resp, err := bulkClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			out := must(os.Create(dst))
			if _, err := io.Copy(out, resp.Body); err != nil {
				b.Fatal(err)
			}
			out.Close()
			resp.Body.Close()
			api += time.Since(start)
			b.StopTimer()
			cp += benchpeer.Cp(b, src, dst, false)
			cpSync += benchpeer.Cp(b, src, dst, true)
			b.StartTimer()
		}
		benchpeer.ReportThroughput(b, "api", size*int64(b.N), api, cp, cpSync)
	})
}

// BenchmarkHTTPSmallObjects puts and gets 4 KiB objects one request at a
// time; the peer is cp -r of a directory with the same files.
func BenchmarkHTTPSmallObjects(b *testing.B) {
	const count, size = 500, 4 << 10
	n := startNode(b, "bench", withBootstrapExpect(1))
	sameLeader(b, 30*time.Second, n)
	makeRepo(b, n.url(), "", "demo", "small", "GENERIC")
	dir := b.TempDir()
	srcDir := filepath.Join(dir, "src")
	os.Mkdir(srcDir, 0o750)
	contents := make([][]byte, count)
	for i := range count {
		contents[i], _ = io.ReadAll(patterned(uint64(i), size))
		os.WriteFile(filepath.Join(srcDir, fmt.Sprintf("f%04d", i)), contents[i], 0o640)
	}
	var cp time.Duration
	b.Run("upload-500x4KiB", func(b *testing.B) {
		b.SetBytes(count * size)
		var api time.Duration
		for b.Loop() {
			// -count reruns this in the same agent: every round writes new paths.
			iter := benchRound.Add(1)
			start := time.Now()
			for i := range count {
				r := do(b, "PUT", fmt.Sprintf("%s/generic/demo/small/it%d/f%04d", n.url(), iter, i), bytes.NewReader(contents[i]), nil)
				if r.status != http.StatusCreated {
					b.Fatalf("put: %d %s", r.status, r.body)
				}
			}
			api += time.Since(start)
			b.StopTimer()
			cp += benchpeer.Cp(b, srcDir, filepath.Join(dir, "copy"), false)
			b.StartTimer()
		}
		benchpeer.ReportRate(b, "api", count*b.N, api, cp)
	})
	b.Run("download-500x4KiB", func(b *testing.B) {
		b.SetBytes(count * size)
		var api time.Duration
		for b.Loop() {
			start := time.Now()
			for i := range count {
				r := do(b, "GET", fmt.Sprintf("%s/generic/demo/small/it1/f%04d", n.url(), i), nil, nil)
				if r.status != http.StatusOK {
					b.Fatalf("get: %d", r.status)
				}
			}
			api += time.Since(start)
		}
		benchpeer.ReportRate(b, "api", count*b.N, api, 0)
	})
}

var benchRound atomic.Int64

// bulkClient reads with large buffers, as a bulk download client should
// (net/http's default is 4 KiB, which makes the client the bottleneck).
var bulkClient = &http.Client{Transport: &http.Transport{ReadBufferSize: 1 << 20, WriteBufferSize: 1 << 20}}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
