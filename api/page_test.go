package api

import (
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/ferrysync/ferry/store"
)

// The paging parser and the page it cuts: no input panics, a refusal is a
// 400, and a page holds at most MaxPageSize records (issue 15 defect 6).
func FuzzPageOf(f *testing.F) {
	f.Add("9223372036854775807", "20")
	f.Add(strconv.Itoa(math.MaxInt/store.MaxPageSize+2), "1000")
	f.Add("-1", "x")
	f.Add("", "")
	all := make([]int, 2500)
	f.Fuzz(func(t *testing.T, number, size string) {
		w := httptest.NewRecorder()
		p, ok := pageOf(w, number, size)
		if !ok {
			if w.Code != http.StatusBadRequest {
				t.Fatalf("refused %q %q with %d", number, size, w.Code)
			}
			return
		}
		if page := store.Paginate(all, p); len(page.Records) > store.MaxPageSize {
			t.Fatalf("page %q size %q: %d records", number, size, len(page.Records))
		}
	})
}

func TestAHugePageNumberIsAnEmptyPage(t *testing.T) {
	w := httptest.NewRecorder()
	p, ok := pageOf(w, "9223372036854775807", "")
	if !ok {
		t.Fatalf("refused: %d", w.Code)
	}
	if page := store.Paginate([]int{1, 2}, p); len(page.Records) != 0 {
		t.Fatalf("%d records, want none", len(page.Records))
	}
}
