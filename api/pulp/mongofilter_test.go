package pulp

import (
	"encoding/json"
	"testing"
)

// task is a task view as JSON reads it back.
const testTask = `{"task_id": "t1", "state": "finished", "tags": ["pulp:repository:isos", "pulp:action:sync"],
	"start_time": "2024-05-01T10:00:00Z", "finish_time": null, "error": null, "n": 3,
	"progress_report": {"iso_importer": {"state": "complete", "num_isos": 2}},
	"spawned_tasks": [{"task_id": "s1"}, {"task_id": "s2"}]}`

func TestCompileFilter(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(testTask), &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		filter string
		want   bool
	}{
		{`{}`, true},
		{`{"state": "finished"}`, true},
		{`{"state": "running"}`, false},
		{`{"state": "finished", "task_id": "t2"}`, false},
		{`{"tags": "pulp:action:sync"}`, true}, // a scalar matches an array's element
		{`{"tags": "pulp:action:publish"}`, false},
		{`{"tags": ["pulp:repository:isos", "pulp:action:sync"]}`, true}, // the whole array
		{`{"tags": ["pulp:action:sync", "pulp:repository:isos"]}`, false},
		{`{"tags": {"$all": ["pulp:action:sync", "pulp:repository:isos"]}}`, true},
		{`{"tags": {"$all": ["pulp:action:sync", "x"]}}`, false},
		{`{"tags": {"$all": []}}`, false},
		{`{"state": {"$in": ["running", "finished"]}}`, true},
		{`{"state": {"$in": []}}`, false},
		{`{"tags": {"$in": ["x", "pulp:action:sync"]}}`, true},
		{`{"state": {"$nin": ["running", "finished"]}}`, false},
		{`{"state": {"$nin": ["running"]}}`, true},
		{`{"state": {"$ne": "finished"}}`, false},
		{`{"tags": {"$ne": "pulp:action:sync"}}`, false},
		{`{"state": {"$eq": "finished"}}`, true},
		{`{"start_time": {"$gte": "2024-05-01T10:00:00Z"}}`, true},
		{`{"start_time": {"$gt": "2024-05-01T10:00:00Z"}}`, false},
		{`{"start_time": {"$lt": "2024-06-01T00:00:00Z", "$gt": "2024-04-30T00:00:00Z"}}`, true},
		{`{"start_time": {"$lte": "2024-04-30T00:00:00Z"}}`, false},
		{`{"start_time": {"$gt": {"$date": "2024-05-01T09:00:00+00:00"}}}`, true},
		{`{"start_time": {"$gt": 5}}`, false}, // a string never orders against a number
		{`{"n": {"$gt": 2, "$lte": 3}}`, true},
		{`{"n": {"$lt": "9"}}`, false},
		{`{"finish_time": null}`, true},
		{`{"nothing": null}`, true}, // null matches a missing field
		{`{"nothing": {"$exists": false}}`, true},
		{`{"finish_time": {"$exists": true}}`, true},
		{`{"finish_time": {"$exists": 0}}`, false},
		{`{"nothing": {"$ne": "x"}}`, true},
		{`{"nothing": {"$gte": null}}`, true},
		{`{"state": {"$regex": "^fin"}}`, true},
		{`{"state": {"$regex": "^FIN"}}`, false},
		{`{"state": {"$regex": "^FIN", "$options": "i"}}`, true},
		{`{"tags": {"$regex": ":sync$"}}`, true},
		{`{"state": {"$not": {"$regex": "^fin"}}}`, false},
		{`{"state": {"$not": "^run"}}`, true},
		{`{"state": {"$not": {"$in": ["running"]}}}`, true},
		{`{"progress_report.iso_importer.state": "complete"}`, true},
		{`{"progress_report.iso_importer.num_isos": {"$gte": 2}}`, true},
		{`{"progress_report.iso_importer.missing": {"$exists": true}}`, false},
		{`{"spawned_tasks.task_id": "s2"}`, true}, // across an array's documents
		{`{"spawned_tasks.1.task_id": "s2"}`, true},
		{`{"spawned_tasks.0.task_id": "s2"}`, false},
		{`{"tags.1": "pulp:action:sync"}`, true},
		{`{"progress_report": {"iso_importer": {"state": "complete", "num_isos": 2}}}`, true},
		{`{"$or": [{"state": "running"}, {"tags": "pulp:action:sync"}]}`, true},
		{`{"$or": [{"state": "running"}, {"state": "error"}]}`, false},
		{`{"$and": [{"state": "finished"}, {"tags": "pulp:action:sync"}]}`, true},
		{`{"$and": [{"state": "finished"}, {"tags": "x"}]}`, false},
		{`{"$nor": [{"state": "running"}, {"state": "error"}]}`, true},
		{`{"$nor": [{"state": "finished"}]}`, false},
	} {
		m, err := compileTestFilter(c.filter)
		if err != nil {
			t.Errorf("%s: %v", c.filter, err)
			continue
		}
		if got := m(doc); got != c.want {
			t.Errorf("%s: %v, want %v", c.filter, got, c.want)
		}
	}
}

func TestCompileFilterRefuses(t *testing.T) {
	for filter, words := range map[string]string{
		`{"state": {"$foo": 1}}`:                      "unknown operator: $foo",
		`{"state": {"$in": 1, "x": 2}}`:               "$in needs an array",
		`{"state": {"$gt": 1, "x": 2}}`:               "unknown operator: x",
		`{"$where": "1"}`:                             "unknown top level operator: $where",
		`{"$or": []}`:                                 "$and/$or/$nor must be a nonempty array",
		`{"$and": {"a": 1}}`:                          "$and/$or/$nor must be a nonempty array",
		`{"$nor": [1]}`:                               "$or/$and/$nor entries need to be full objects",
		`{"$or": [{"a": {"$bad": 1}}]}`:               "unknown operator: $bad",
		`{"state": {"$nin": "x"}}`:                    "$nin needs an array",
		`{"tags": {"$all": "x"}}`:                     "$all needs an array",
		`{"state": {"$regex": 5}}`:                    "$regex has to be a string",
		`{"state": {"$regex": "("}}`:                  "Regular expression is invalid",
		`{"state": {"$regex": "a", "$options": "z"}}`: "invalid flag in regex options: z",
		`{"state": {"$options": "i"}}`:                "$options needs a $regex",
		`{"state": {"$not": {}}}`:                     "$not cannot be empty",
		`{"state": {"$not": 5}}`:                      "$not needs a regex or a document",
		`{"state": {"$not": {"a": 1}}}`:               "$not needs a regex or a document",
	} {
		_, err := compileTestFilter(filter)
		if err == nil || len(err.Error()) < len(words) || err.Error()[:len(words)] != words {
			t.Errorf("%s: %v, want %q", filter, err, words)
		}
	}
}

func compileTestFilter(filter string) (matcher, error) {
	var spec map[string]any
	if err := json.Unmarshal([]byte(filter), &spec); err != nil {
		panic(err)
	}
	return compileFilter(withDates(spec).(map[string]any))
}
