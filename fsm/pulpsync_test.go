package fsm

import (
	"encoding/json"
	"strings"
	"testing"
)

// A feed URL's user:password@ goes to basic auth, so that the run (shown to
// every read token, kept in the log) holds the URL without it; the
// config's own credentials win; no refusal echoes a secret.
func TestPulpSyncTakesTheFeedURLCredentials(t *testing.T) {
	f, a := populated(t)
	sync := func(id string, config map[string]json.RawMessage) Run {
		t.Helper()
		mustApply(t, a, command(t, CmdPulpCreateRepo, t0, PulpRepo{Cluster: "shanghai", ID: id,
			Importer: &PulpImporter{TypeID: PulpISOImporter, Config: config}}))
		mustApply(t, a, command(t, CmdPulpSync, t0, PulpSync{RunID: "run-" + id, Cluster: "shanghai", Repo: id, Project: "pulp", By: "t"}))
		r, _ := f.Run("run-" + id)
		return r
	}
	r := sync("in-url", map[string]json.RawMessage{"feed": raw(`"http://feeder:s3cret%2Fx@127.0.0.1:1/feed/"`)})
	if r.State != RunWaiting || r.Feed.URL != "http://127.0.0.1:1/feed/" || r.Feed.BasicAuthUser != "feeder" || r.Feed.BasicAuthPassword != "s3cret/x" {
		t.Fatalf("credentials in the URL: %s %q %+v", r.State, r.Error, *r.Feed)
	}
	r = sync("explicit", map[string]json.RawMessage{"feed": raw(`"http://u:url-secret@127.0.0.1:1/feed/"`),
		"basic_auth_username": raw(`"admin"`), "basic_auth_password": raw(`"config-secret"`)})
	if r.Feed.URL != "http://127.0.0.1:1/feed/" || r.Feed.BasicAuthUser != "admin" || r.Feed.BasicAuthPassword != "config-secret" {
		t.Fatalf("explicit credentials: %+v", *r.Feed)
	}
	for id, config := range map[string]map[string]json.RawMessage{
		"bad-password": {"feed": raw(`"http://127.0.0.1:1/feed/"`), "basic_auth_password": raw(`["s3cret"]`)},
		"bad-url":      {"feed": raw(`"http://u:s3cret%zz@127.0.0.1:1/feed/"`)},
	} {
		r := sync(id, config)
		if r.State != RunFailed || r.Error == "" || strings.Contains(r.Error, "s3cret") || strings.Contains(r.Feed.URL, "s3cret") {
			t.Errorf("%s: %s %q, feed %+v", id, r.State, r.Error, *r.Feed)
		}
	}
}

// Redacted masks the feed's password in a copy; the run keeps it.
func TestRunRedacted(t *testing.T) {
	r := Run{ID: "r", Feed: &FeedSpec{URL: "http://u:p@h/feed/", BasicAuthUser: "u", BasicAuthPassword: "s3cret"}}
	v := r.Redacted()
	b, _ := json.Marshal(v)
	if strings.Contains(string(b), "s3cret") || strings.Contains(string(b), ":p@") || v.Feed.BasicAuthUser != "u" || v.Feed.BasicAuthPassword != Masked {
		t.Fatalf("redacted %s", b)
	}
	if r.Feed.BasicAuthPassword != "s3cret" || r.Feed.URL != "http://u:p@h/feed/" {
		t.Fatalf("the run itself changed: %+v", *r.Feed)
	}
	if (Run{}).Redacted().Feed != nil || RedactURL("http://h/a b") != "http://h/a b" {
		t.Fatal("a run without a feed, or a URL without a password, changed")
	}
}
