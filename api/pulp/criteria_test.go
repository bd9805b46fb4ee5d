package pulp

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func criteriaDoc(t testing.TB, s string) map[string]json.RawMessage {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestReadCriteriaRefuses(t *testing.T) {
	for body, names := range map[string]string{
		`{"filters": []}`:                               "filters",
		`{"filters": "x"}`:                              "filters",
		`{"sort": {"a": 1}}`:                            "sort",
		`{"sort": [["a"]]}`:                             "sort",
		`{"sort": [[null, "ascending"]]}`:               "sort",
		`{"sort": [["a", "up"]]}`:                       "sort",
		`{"sort": [["a", 1.0]]}`:                        "sort",
		`{"sort": [["a", true]]}`:                       "sort",
		`{"limit": 0}`:                                  "limit",
		`{"limit": true}`:                               "limit",
		`{"limit": "x"}`:                                "limit",
		`{"limit": [1]}`:                                "limit",
		`{"skip": -1}`:                                  "skip",
		`{"skip": false}`:                               "skip",
		`{"fields": "state"}`:                           "fields",
		`{"fields": {"a": 1}}`:                          "fields",
		`{"fields": [null]}`:                            "fields",
		`{"limit": 0, "skip": -1}`:                      "limit", // the first checked
		`{"filter": {}, "order": 1}`:                    "filter,order",
		`{"filters": {"state": {"$bogus": 1}}}`:         "criteria",
		`{"filters": {"a": {"$bogus": 1}}, "x": 1}`:     "x", // keys before the query
		`{"filters": {"$or": "x"}, "sort": [["a", 2]]}`: "sort",
	} {
		_, e := readCriteria(criteriaDoc(t, body))
		if e == nil || e.Status != http.StatusBadRequest || e.Code != "PLP0015" || strings.Join(e.Data["property_names"].([]string), ",") != names {
			t.Errorf("%s: %+v, want PLP0015 %s", body, e, names)
		}
	}
	_, e := readCriteria(criteriaDoc(t, `{"filters": {"state": {"$bogus": 1}}}`))
	if len(e.SubErrors) != 1 || e.SubErrors[0]["description"] != "unknown operator: $bogus" {
		t.Fatalf("%+v", e.SubErrors)
	}
}

func TestReadCriteriaTakes(t *testing.T) {
	c, e := readCriteria(criteriaDoc(t, `{"filters": null, "sort": [["a", "DESCENDING"], ["b", 1], ["c", "-1"]], "limit": "3", "skip": 2.7, "fields": []}`))
	if e != nil || c.match != nil || len(c.sort) != 3 || !c.sort[0].desc || c.sort[1].desc || !c.sort[2].desc || c.limit != 3 || c.skip != 2 || c.fields == nil {
		t.Fatalf("%+v %+v", c, e)
	}
	if c, e := readCriteria(criteriaDoc(t, `{"limit": 1e300}`)); e != nil || c.limit <= 0 {
		t.Fatalf("%+v %+v", c, e)
	}
}

func docs(t testing.TB, s string) []map[string]any {
	var out []map[string]any
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func ids(ds []map[string]any) string {
	var out []string
	for _, d := range ds {
		out = append(out, d["id"].(string))
	}
	return strings.Join(out, ",")
}

func TestCriteriaApply(t *testing.T) {
	all := docs(t, `[{"id": "a", "_id": 1, "state": "finished", "n": 2, "tags": ["x", "m"], "p": {"q": 1, "r": 2}},
		{"id": "b", "_id": 2, "state": "error", "n": 1, "tags": ["a"]},
		{"id": "c", "_id": 3, "state": "finished", "tags": ["z"]},
		{"id": "d", "_id": 4, "state": "running", "n": 3, "tags": []}]`)
	for body, want := range map[string]string{
		`{}`:                                                      "a,b,c,d",
		`{"filters": {"state": "finished"}}`:                      "a,c",
		`{"sort": [["n", "ascending"]]}`:                          "c,b,a,d", // missing sorts as null, first
		`{"sort": [["n", "descending"]]}`:                         "d,a,b,c",
		`{"sort": [["state", 1], ["id", -1]]}`:                    "b,c,a,d",
		`{"sort": [["tags", 1]]}`:                                 "d,b,a,c", // an array by its least element
		`{"sort": [["tags", -1]]}`:                                "c,a,b,d", // by its greatest
		`{"sort": [["id", "descending"]], "skip": 1, "limit": 2}`: "c,b",
		`{"skip": 3}`:                                             "d",
		`{"skip": 9}`:                                             "",
		`{"limit": 1, "filters": {"state": {"$ne": "finished"}}}`:          "b",
		`{"filters": {"n": {"$gte": 2}}, "sort": [["n", -1]], "limit": 5}`: "d,a",
	} {
		c, e := readCriteria(criteriaDoc(t, body))
		if e != nil {
			t.Fatalf("%s: %v", body, e)
		}
		if got := ids(c.apply(all)); got != want {
			t.Errorf("%s: %s, want %s", body, got, want)
		}
	}
}

func TestCriteriaFields(t *testing.T) {
	all := docs(t, `[{"id": "a", "_id": 1, "state": "finished", "p": {"q": 1, "r": 2}, "s": {"t": 1}}]`)
	for fields, want := range map[string]string{
		`["state"]`:          `{"_id":1,"id":"a","state":"finished"}`,
		`[]`:                 `{"_id":1,"id":"a"}`,
		`["p.q", "nothing"]`: `{"_id":1,"id":"a","p":{"q":1}}`,
		`["p.q", "p"]`:       `{"_id":1,"id":"a","p":{"q":1,"r":2}}`,
		`["p", "p.q"]`:       `{"_id":1,"id":"a","p":{"q":1,"r":2}}`,
		`["state.x"]`:        `{"_id":1,"id":"a"}`,
	} {
		c, e := readCriteria(criteriaDoc(t, `{"fields": `+fields+`}`))
		if e != nil {
			t.Fatal(e)
		}
		got, _ := json.Marshal(c.apply(all, "id", "_id"))
		if string(got) != "["+want+"]" {
			t.Errorf("%s: %s, want %s", fields, got, want)
		}
	}
	if got, _ := json.Marshal(all[0]["p"]); string(got) != `{"q":1,"r":2}` {
		t.Fatalf("the view changed: %s", got)
	}
}

func TestQueryCriteria(t *testing.T) {
	q, _ := url.ParseQuery(`filters={"state":"finished"}&sort=[["id","descending"]]&limit=2&skip=0&field=state&field=tags`)
	doc, e := queryCriteria(q)
	if e != nil {
		t.Fatal(e)
	}
	c, e := readCriteria(doc)
	if e != nil || c.match == nil || len(c.sort) != 1 || c.limit != 2 || !slices.Equal(c.fields, []string{"state", "tags"}) {
		t.Fatalf("%+v %+v", c, e)
	}
	for query, name := range map[string]string{"filters={": "filters", "sort=x": "sort", "limit=": "limit", "limit=0": "limit", "tag=x": "tag"} {
		q, _ := url.ParseQuery(query)
		doc, e := queryCriteria(q)
		if e == nil {
			_, e = readCriteria(doc)
		}
		if e == nil || e.Code != "PLP0015" || e.Data["property_names"].([]string)[0] != name {
			t.Errorf("%s: %+v", query, e)
		}
	}
}

// FuzzReadCriteria: any criteria document reads, or is refused with
// PLP0015; what reads applies to views without panicking.
func FuzzReadCriteria(f *testing.F) {
	for _, s := range []string{`{}`, `{"filters": {"state": {"$in": ["a"]}, "$or": [{"tags": "x"}, {"n": {"$not": {"$gt": 1}}}]}}`,
		`{"sort": [["start_time", "descending"]], "limit": 2, "skip": "1", "fields": ["state", "a.b"]}`,
		`{"filters": {"a.0.b": {"$regex": "x", "$options": "i"}, "t": {"$gte": {"$date": "2024-01-01T00:00:00Z"}}}}`,
		`{"filters": {"a": {"$exists": true, "$nin": [null]}, "$nor": [{"b": {"$all": [1, 2]}}]}}`, `{"limit": 0}`, `{"x": 1}`} {
		f.Add(s)
	}
	views := docs(f, `[{"id": "a", "_id": {"$oid": "1"}, "state": "finished", "tags": ["x"], "n": 2, "a": [{"b": "X"}], "t": "2024-02-01T00:00:00Z"},
		{"id": "b", "state": null, "tags": [], "a": {"b": ["y"]}}]`)
	f.Fuzz(func(t *testing.T, s string) {
		var doc map[string]json.RawMessage
		if json.Unmarshal([]byte(s), &doc) != nil {
			return
		}
		c, e := readCriteria(doc)
		if e != nil {
			if e.Status != http.StatusBadRequest || e.Code != "PLP0015" || len(e.Data["property_names"].([]string)) == 0 {
				t.Fatalf("%+v", e)
			}
			return
		}
		got := c.apply(views, "id")
		if len(got) > len(views) || (c.limit > 0 && len(got) > c.limit) {
			t.Fatalf("%d found from %q", len(got), s)
		}
		for _, d := range got {
			if d["id"] == nil {
				t.Fatalf("a document without its id from %q", s)
			}
		}
	})
}
