package pulp

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/ferrysync/ferry/scheduler"
)

func TestErrorBody(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "/pulp/api/v2/repositories/?x=1", nil)
	raw, _ := json.Marshal(invalidValue("schedule", "enabled").body(r))
	var b map[string]any
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	e := b["error"].(map[string]any)
	if b["_href"] != "/pulp/api/v2/repositories/?x=1" || b["http_status"] != 400.0 || b["http_request_method"] != "POST" ||
		b["error_message"] != "Invalid properties: ['schedule', 'enabled']" || b["exception"] != nil || b["traceback"] != nil ||
		e["code"] != "PLP0015" || e["description"] != b["error_message"] || e["data"].(map[string]any)["properties"] != "['schedule', 'enabled']" ||
		len(b["property_names"].([]any)) != 2 || len(e["sub_errors"].([]any)) != 0 {
		t.Fatalf("%s", raw)
	}
}

// FuzzDecodeRepo: any body reads as a repository or is refused with a 400
// Pulp code; none panics.
func FuzzDecodeRepo(f *testing.F) {
	for _, s := range []string{`{"id":"isos","notes":{"a":"b"},"importer_type_id":"iso_importer","importer_config":{"feed":"http://x/"}}`,
		`{"id":"x","distributors":[{"distributor_type_id":"iso_distributor","distributor_id":"d"}]}`, `[]`, `{`, ``, `{"id":5}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/pulp/api/v2/repositories/", strings.NewReader(body))
		obj, e := readObject(r, false)
		if e != nil {
			if e.Status != http.StatusBadRequest || (e.Code != "PLP1009" && e.Code != "PLP1015") {
				t.Fatalf("%+v", e)
			}
			return
		}
		repo, e := decodeRepo(obj)
		switch {
		case e != nil && (e.Status != http.StatusBadRequest || e.Code != "PLP0015"):
			t.Fatalf("%+v", e)
		case e == nil && repo.ID == "":
			t.Fatalf("a repository without an id from %q", body)
		}
	})
}

// FuzzReadUnits: units read or are refused with PLP0015; unit_keys is
// unit_key.
func FuzzReadUnits(f *testing.F) {
	f.Add(`[{"type_id": "iso", "unit_key": {"name": "1.iso"}}]`)
	f.Add(`[{"type_id": "iso", "unit_keys": {"name": "a/2.iso"}}]`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, s string) {
		units, e := readUnits(json.RawMessage(s))
		if e != nil {
			if e.Code != "PLP0015" {
				t.Fatalf("%+v", e)
			}
			return
		}
		for _, u := range units {
			if u.UnitKey == nil {
				t.Fatalf("a unit without its key from %q", s)
			}
		}
	})
}

// FuzzScheduleBody: a schedule body reads as a change or is refused with a
// Pulp 400 (PLP0017 for other keys, PLP0015 for bad values, PLP1009/1015
// for no object); a schedule read is one Pulp's grammar takes.
func FuzzScheduleBody(f *testing.F) {
	for _, s := range []string{`{"schedule": "PT1H", "override_config": {}, "failure_threshold": null, "enabled": true}`,
		`{"schedule": "R3/2030-01-01T00:00:00Z/PT1H", "remaining_runs": 2}`, `{"schedule": "00:00:00Z/P1DT"}`, `{"foo": 1}`, `[]`, ``,
		`{"units": [{"type_id": "iso", "unit_keys": {"name": "a"}}], "options": {}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPut, "/pulp/api/v2/x/", strings.NewReader(body))
		obj, e := readScheduleBody(r, true, "schedule", "override_config", "failure_threshold", "enabled", "remaining_runs", "units", "options")
		var ch ScheduleChange
		if e == nil {
			ch, e = readScheduleChange(obj, false, "schedule")
		}
		if e != nil {
			if e.Status != http.StatusBadRequest || !slices.Contains([]string{"PLP0015", "PLP0017", "PLP1009", "PLP1015"}, e.Code) {
				t.Fatalf("%+v", e)
			}
			return
		}
		if ch.Schedule != nil {
			if _, err := scheduler.ParseInterval(*ch.Schedule); err != nil {
				t.Fatalf("schedule %q read, but %v", *ch.Schedule, err)
			}
		}
		if ch.FailureThreshold != nil && *ch.FailureThreshold != nil && **ch.FailureThreshold < 1 {
			t.Fatalf("failure_threshold %d read", **ch.FailureThreshold)
		}
	})
}
