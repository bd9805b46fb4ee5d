package pulp

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// criteria is Pulp's search Criteria (db/model/criteria.py) read from a
// client: filters, then sort, skip and limit, as Mongo applies them, and
// the fields to show.
type criteria struct {
	match  matcher // nil: every document
	sort   []sortKey
	limit  int // 0: no limit
	skip   int
	fields []string // nil: every field
}

type sortKey struct {
	path []string
	desc bool
}

// criteriaKeys are the keys a criteria document may have, in the order
// Criteria.from_client_input checks them (the first invalid one is named).
var criteriaKeys = []string{"filters", "sort", "limit", "skip", "fields"}

// readCriteria is Criteria.from_client_input: a bad value is PLP0015 naming
// its key, keys it does not take are PLP0015 naming them, and a filter
// Mongo would refuse is PLP0015 criteria with Mongo's words as sub-error
// (SearchView catches OperationFailure so).
func readCriteria(doc map[string]json.RawMessage) (criteria, *Error) {
	var c criteria
	var spec map[string]any
	readers := map[string]func(json.RawMessage) bool{
		"filters": func(raw json.RawMessage) bool { var ok bool; spec, ok = readFilters(raw); return ok },
		"sort":    func(raw json.RawMessage) bool { var ok bool; c.sort, ok = readSort(raw); return ok },
		"limit":   func(raw json.RawMessage) bool { var ok bool; c.limit, ok = readCount(raw, 1); return ok },
		"skip":    func(raw json.RawMessage) bool { var ok bool; c.skip, ok = readCount(raw, 0); return ok },
		"fields":  func(raw json.RawMessage) bool { var ok bool; c.fields, ok = readFields(raw); return ok },
	}
	for _, key := range criteriaKeys {
		if raw, ok := doc[key]; ok && !readers[key](raw) {
			return criteria{}, invalidValue(key)
		}
	}
	if extra := extraKeys(doc); len(extra) > 0 {
		return criteria{}, invalidValue(extra...)
	}
	if spec != nil {
		m, err := compileFilter(withDates(spec).(map[string]any))
		if err != nil {
			e := invalidValue("criteria")
			e.SubErrors = []map[string]any{{"code": "PLP0000", "description": err.Error(), "data": map[string]any{}, "sub_errors": []any{}}}
			return criteria{}, e
		}
		c.match = m
	}
	return c, nil
}

func extraKeys(doc map[string]json.RawMessage) []string {
	var extra []string
	for k := range doc {
		if !slices.Contains(criteriaKeys, k) {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	return extra
}

func isNull(raw json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(raw), []byte("null")) }

// readFilters: a query document, or null for none.
func readFilters(raw json.RawMessage) (map[string]any, bool) {
	if isNull(raw) {
		return nil, true
	}
	var spec map[string]any
	return spec, json.Unmarshal(raw, &spec) == nil
}

// readSort is _validate_sort: [[field, direction], ...], a direction being
// ascending, descending (any case), 1 or -1.
func readSort(raw json.RawMessage) ([]sortKey, bool) {
	if isNull(raw) {
		return nil, true
	}
	var entries [][]json.RawMessage
	if json.Unmarshal(raw, &entries) != nil {
		return nil, false
	}
	keys := []sortKey{}
	for _, e := range entries {
		if len(e) < 2 {
			return nil, false
		}
		field, ok := readString(e[0])
		if !ok {
			return nil, false
		}
		desc, ok := sortDirection(e[1])
		if !ok {
			return nil, false
		}
		keys = append(keys, sortKey{strings.Split(field, "."), desc})
	}
	return keys, true
}

// sortDirection reads a direction as Python's str(direction).lower() is
// compared: a number counts by its literal, so 1.0 is none.
func sortDirection(raw json.RawMessage) (desc, ok bool) {
	flag := string(bytes.TrimSpace(raw))
	if s, isString := readString(raw); isString {
		flag = strings.ToLower(s)
	}
	switch flag {
	case "ascending", "1":
		return false, true
	case "descending", "-1":
		return true, true
	}
	return false, false
}

// readCount is _validate_limit and _validate_skip: Python's int() of a
// number (truncated) or of a decimal string, at least least; not a boolean.
func readCount(raw json.RawMessage, least int) (int, bool) {
	if isNull(raw) {
		return 0, true
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return 0, false
	}
	n := float64(least - 1)
	switch x := v.(type) {
	case float64:
		n = math.Trunc(x)
	case string:
		if i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
			n = float64(i)
		}
	}
	// Beyond what a region holds, a count is as good as the largest int.
	return int(min(n, math.MaxInt32)), n >= float64(least)
}

// readFields is _validate_fields: an array of strings.
func readFields(raw json.RawMessage) ([]string, bool) {
	if isNull(raw) {
		return nil, true
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil, false
	}
	fields := []string{}
	for _, f := range list {
		s, ok := readString(f)
		if !ok {
			return nil, false
		}
		fields = append(fields, s)
	}
	return fields, true
}

// readString reads a JSON string, and nothing else (json.Unmarshal would
// read null as "").
func readString(raw json.RawMessage) (string, bool) {
	var s string
	raw = bytes.TrimSpace(raw)
	return s, len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil
}

// queryCriteria is the criteria document of a search GET (SearchView.get):
// filters and sort are JSON (PLP0015 naming the one that is not), field is
// repeated, one for each field, and every other parameter is the string it
// has, so limit and skip read as in a body and another one is refused.
func queryCriteria(q url.Values) (map[string]json.RawMessage, *Error) {
	doc := map[string]json.RawMessage{}
	for key, values := range q {
		last := values[len(values)-1]
		switch key {
		case "filters", "sort":
			if !json.Valid([]byte(last)) {
				return nil, invalidValue(key)
			}
			doc[key] = json.RawMessage(last)
		case "field":
			doc["fields"], _ = json.Marshal(values)
		default:
			doc[key], _ = json.Marshal(last)
		}
	}
	return doc, nil
}

// withDates applies Pulp's $date operator: {"$date": "<ISO 8601>"} is that
// time. Views carry times as Pulp's strings, so it becomes the string in
// their layout; one that is no time is left, for Mongo to refuse.
func withDates(v any) any {
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x["$date"].(string); ok && len(x) == 1 {
			if t, ok := parseISOTime(s); ok {
				return t.UTC().Format(TimeLayout)
			}
			return x
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = withDates(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = withDates(e)
		}
		return out
	}
	return v
}

// parseISOTime reads an ISO 8601 time with a zone, or without one as UTC
// (Ferry's reading of naive times).
func parseISOTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// apply finds the documents matched, sorted, skipped and limited; each is
// projected to the fields asked plus keep.
func (c criteria) apply(docs []map[string]any, keep ...string) []map[string]any {
	out := []map[string]any{}
	for _, d := range docs {
		if c.match == nil || c.match(d) {
			out = append(out, d)
		}
	}
	if len(c.sort) > 0 {
		slices.SortStableFunc(out, c.compare)
	}
	out = out[min(c.skip, len(out)):]
	if c.limit > 0 && c.limit < len(out) {
		out = out[:c.limit]
	}
	if c.fields != nil {
		for i, d := range out {
			out[i] = project(d, append(slices.Clone(c.fields), keep...))
		}
	}
	return out
}

func (c criteria) compare(a, b map[string]any) int {
	for _, k := range c.sort {
		r := compareValues(sortValue(a, k), sortValue(b, k))
		if k.desc {
			r = -r
		}
		if r != 0 {
			return r
		}
	}
	return 0
}

// sortValue is what a document sorts by: an array by its least element
// ascending and its greatest descending, as Mongo sorts; missing is null.
func sortValue(doc map[string]any, k sortKey) any {
	f := lookup(doc, k.path)
	var elems []any
	for _, v := range f {
		if arr, ok := v.([]any); ok {
			elems = append(elems, arr...)
		} else {
			elems = append(elems, v)
		}
	}
	if len(elems) == 0 {
		return nil
	}
	pick := slices.MinFunc[[]any]
	if k.desc {
		pick = slices.MaxFunc[[]any]
	}
	return pick(elems, compareValues)
}

// project keeps the fields named (dotted names keep that part of a
// document); whole keys are copied last so a part never writes into them.
func project(doc map[string]any, fields []string) map[string]any {
	paths := make([][]string, len(fields))
	for i, f := range fields {
		paths[i] = strings.Split(f, ".")
	}
	slices.SortStableFunc(paths, func(a, b []string) int { return len(b) - len(a) })
	out := map[string]any{}
	for _, p := range paths {
		projectPath(out, doc, p)
	}
	return out
}

func projectPath(dst, src map[string]any, path []string) {
	v, ok := src[path[0]]
	if !ok {
		return
	}
	if len(path) == 1 {
		dst[path[0]] = v
		return
	}
	sub, ok := v.(map[string]any)
	if !ok {
		return
	}
	part, _ := dst[path[0]].(map[string]any)
	if part == nil {
		part = map[string]any{}
		dst[path[0]] = part
	}
	projectPath(part, sub, path[1:])
}
