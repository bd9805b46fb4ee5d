package integration

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// feedPassword is the feed's password in TestPulpFeedCredentialsStayWithTheSync:
// no answer to a read token and no log line may carry it.
const feedPassword = "s3cret/Feed"

// newAuthFeed is a feed of one file behind HTTP Basic feeder:feedPassword.
func newAuthFeed(t testing.TB) *httptest.Server {
	content := []byte("one")
	manifest := "1.iso,7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed,3\n"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "feeder" || p != feedPassword {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/feed/PULP_MANIFEST":
			fmt.Fprint(w, manifest)
		case "/feed/1.iso":
			w.Write(content)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Credentials written into a feed URL reach the feed, and nothing a read
// token is shown (runs, run list, events, the importer) nor the logs carry
// the password.
func TestPulpFeedCredentialsStayWithTheSync(t *testing.T) {
	n := startGroup(t, regions[:1], withLogs())[0]
	sameLeader(t, 30*time.Second, n)
	feed := strings.Replace(newAuthFeed(t).URL, "http://", "http://feeder:s3cret%2FFeed@", 1) + "/feed/"
	pulpOK(t, n, "POST", "/repositories/", `{"id": "isos", "importer_type_id": "iso_importer", "importer_config": {"feed": "`+feed+`"}}`, 201, nil)
	task := pulpSync(t, n, "isos", "")
	if task.State != "finished" {
		t.Fatalf("sync with the URL's credentials: %+v", task)
	}
	reader := createToken(t, n, mgmtToken, "read").Secret
	var run struct {
		Feed struct {
			URL      string `json:"url"`
			User     string `json:"basicAuthUser"`
			Password string `json:"basicAuthPassword"`
		} `json:"feed"`
	}
	r := call(t, "GET", n.url()+"/v1/runs/"+task.TaskID, reader, nil)
	r.decode(t, &run)
	if strings.Contains(run.Feed.URL, "@") || run.Feed.User != "feeder" || run.Feed.Password != "********" {
		t.Fatalf("run feed %+v", run.Feed)
	}
	shown := map[string]string{}
	for _, path := range []string{"/v1/runs", "/v1/runs/" + task.TaskID, "/v1/runs/" + task.TaskID + "/events"} {
		shown[path] = string(call(t, "GET", n.url()+path, reader, nil).body)
	}
	for _, path := range []string{"/repositories/isos/?details=true", "/repositories/isos/importers/", "/repositories/isos/importers/iso_importer/"} {
		_, raw, _ := pulpCall(t, n, "GET", path, reader, "")
		shown["pulp "+path] = string(raw)
	}
	shown["logs"] = n.logs.String()
	for what, text := range shown {
		if strings.Contains(text, "s3cret") {
			t.Errorf("%s shows the feed's password: %s", what, text)
		}
	}
}
