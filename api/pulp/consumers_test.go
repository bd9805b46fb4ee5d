package pulp

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/fsm"
	"github.com/julienschmidt/httprouter"
)

// goneAfterBind answers as the agent does when the consumer is deleted
// between the bind's apply and the read that follows it: the bind
// succeeded, the consumer read back is the zero one. The interleaving
// cannot be forced on a real agent, so this stands in for it.
type goneAfterBind struct{ Consumers }

func (goneAfterBind) PulpConsumer(id string) (fsm.PulpConsumer, bool) {
	return fsm.PulpConsumer{ID: id, Cluster: "shanghai"}, true
}

func (goneAfterBind) BindPulpConsumer(context.Context, string, fsm.PulpBinding) (fsm.PulpConsumer, error) {
	return fsm.PulpConsumer{}, nil
}

func TestABindWhoseConsumerWentIs404(t *testing.T) {
	d := &dialect{consumers: goneAfterBind{}}
	r := httptest.NewRequest(http.MethodPost, Prefix+"/consumers/c1/bindings/", strings.NewReader(`{"repo_id": "isos", "distributor_id": "iso"}`))
	_, _, err := d.bind(r, httprouter.Params{{Key: "c", Value: "c1"}})
	e := asError(err)
	if e.Status != http.StatusNotFound || e.Code != "PLP0009" || e.Top["resources"].(map[string]any)["consumer"] != "c1" {
		t.Fatalf("%+v", e)
	}
}
