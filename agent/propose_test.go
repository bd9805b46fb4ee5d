package agent

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/cluster"
	"github.com/ferrysync/ferry/fsm"
	"github.com/ferrysync/ferry/internal/peer"
)

// forward carries the caller's token to the leader, and sorts the answers:
// what never reached the leader or failed there may be retried, a refusal
// may not and keeps the leader's status and message.
func TestForwardSortsTheLeadersAnswers(t *testing.T) {
	var answer func(w http.ResponseWriter)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/internal/apply" || r.Header.Get(api.HeaderAuthToken) != "caller-token" {
			http.Error(w, "wrong call", http.StatusTeapot)
			return
		}
		answer(w)
	}))
	defer srv.Close()
	a := &Agent{peers: &peer.Client{HTTP: srv.Client()}}
	leader := cluster.Leader{ID: "l", APIAddr: strings.TrimPrefix(srv.URL, "http://")}
	cmd, err := fsm.NewCommand(fsm.CmdDeleteTask, fsm.TaskRef{Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	write := func(status int, body string) func(http.ResponseWriter) {
		return func(w http.ResponseWriter) { w.WriteHeader(status); w.Write([]byte(body)) }
	}
	for name, c := range map[string]struct {
		answer    func(http.ResponseWriter)
		index     uint64
		retryable bool
		status    int
		message   string
	}{
		"applied":         {answer: write(200, `{"index":7}`), index: 7},
		"refused by fsm":  {answer: write(200, `{"index":8,"error":{"kind":"not_found","reason":"task k not found"}}`), message: "task k not found"},
		"leader failing":  {answer: write(503, `{"error":"this agent is not the leader"}`), retryable: true, message: "leader l: 503 Service Unavailable: this agent is not the leader"},
		"refused by auth": {answer: write(403, `{"error":"token policy \"read\" does not allow task.delete"}`), status: 403, message: `token policy "read" does not allow task.delete`},
		"unreadable":      {answer: write(200, `not json`), message: "unreadable result"},
	} {
		answer = c.answer
		index, err := a.forward(t.Context(), leader, "caller-token", cmd)
		var sc api.StatusCoder
		switch {
		case index != c.index || retryable(err) != c.retryable:
			t.Errorf("%s: index %d, err %v (retryable %v)", name, index, err, retryable(err))
		case c.message != "" && (err == nil || !strings.Contains(err.Error(), c.message)):
			t.Errorf("%s: %v, want %q", name, err, c.message)
		case c.status != 0 && (!errors.As(err, &sc) || sc.StatusCode() != c.status || err.Error() != c.message):
			t.Errorf("%s: %v, want status %d with the leader's message alone", name, err, c.status)
		}
	}
	answer = write(200, `{"error":{"kind":"invalid","field":"name","reason":"it is required"}}`)
	_, err = a.forward(t.Context(), leader, "caller-token", cmd)
	if fe := new(fsm.Error); !errors.As(err, &fe) || fe.Field != "name" || fe.Kind != fsm.KindInvalid {
		t.Errorf("a refusal by the leader's state keeps its field: %v", err)
	}
	srv.Close()
	if _, err := a.forward(t.Context(), leader, "caller-token", cmd); !retryable(err) {
		t.Errorf("a leader that cannot be reached: %v, want retryable", err)
	}
}
