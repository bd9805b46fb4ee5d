package pulp

import (
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Pulp's criteria filters are raw MongoDB query documents (Criteria.spec
// handed to find()). Ferry keeps no Mongo: a filter is compiled once into a
// matcher over a view decoded from JSON (map[string]any, []any, float64,
// string, bool, nil), so a bad filter is refused even when nothing would be
// searched, as Mongo refuses it when it parses the query.

// matcher tells whether a document matches a compiled filter.
type matcher func(doc map[string]any) bool

// filterErr is a filter Mongo would refuse (OperationFailure), in Mongo's
// words.
func filterErr(format string, args ...any) error { return fmt.Errorf(format, args...) }

// compileFilter compiles a query document: every key is a field condition or
// a top-level $and/$or/$nor, all of which must hold.
func compileFilter(spec map[string]any) (matcher, error) {
	var all []matcher
	for _, key := range slices.Sorted(maps.Keys(spec)) { // the same refusal every time
		m, err := compileKey(key, spec[key])
		if err != nil {
			return nil, err
		}
		all = append(all, m)
	}
	return func(doc map[string]any) bool {
		for _, m := range all {
			if !m(doc) {
				return false
			}
		}
		return true
	}, nil
}

func compileKey(key string, cond any) (matcher, error) {
	if !strings.HasPrefix(key, "$") {
		test, err := compileCondition(cond)
		if err != nil {
			return nil, err
		}
		path := strings.Split(key, ".")
		return func(doc map[string]any) bool { return test(lookup(doc, path)) }, nil
	}
	switch key {
	case "$and", "$or", "$nor":
		return compileLogical(key, cond)
	}
	return nil, filterErr("unknown top level operator: %s", key)
}

// compileLogical is $and, $or or $nor over a nonempty array of documents.
func compileLogical(op string, cond any) (matcher, error) {
	list, ok := cond.([]any)
	if !ok || len(list) == 0 {
		return nil, filterErr("$and/$or/$nor must be a nonempty array")
	}
	subs := make([]matcher, len(list))
	for i, c := range list {
		spec, ok := c.(map[string]any)
		if !ok {
			return nil, filterErr("$or/$and/$nor entries need to be full objects")
		}
		m, err := compileFilter(spec)
		if err != nil {
			return nil, err
		}
		subs[i] = m
	}
	return func(doc map[string]any) bool {
		some := slices.ContainsFunc(subs, func(m matcher) bool { return m(doc) })
		switch op {
		case "$and":
			return !slices.ContainsFunc(subs, func(m matcher) bool { return !m(doc) })
		case "$or":
			return some
		}
		return !some
	}, nil
}

// found is what a field path leads to in a document: the values there, none
// if the path is missing.
type found []any

// lookup follows a dotted path as Mongo does: through documents by key, into
// an array by a numeric index, and across an array's documents otherwise.
func lookup(v any, path []string) found {
	if len(path) == 0 {
		return found{v}
	}
	switch x := v.(type) {
	case map[string]any:
		child, ok := x[path[0]]
		if !ok {
			return nil
		}
		return lookup(child, path[1:])
	case []any:
		if i, err := strconv.Atoi(path[0]); err == nil && i >= 0 {
			if i < len(x) {
				return lookup(x[i], path[1:])
			}
			return nil
		}
		var out found
		for _, e := range x {
			if _, ok := e.(map[string]any); ok {
				out = append(out, lookup(e, path)...)
			}
		}
		return out
	}
	return nil
}

// condition tests what a path found.
type condition func(found) bool

// compileCondition is a field's condition: a document of operators, or a
// value the field must equal (a document without $ keys is equality too).
func compileCondition(cond any) (condition, error) {
	ops, ok := cond.(map[string]any)
	if !ok || !isOperatorDoc(ops) {
		return equals(cond), nil
	}
	var tests []condition
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		arg := ops[op]
		if op == "$options" {
			if _, hasRegex := ops["$regex"]; !hasRegex {
				return nil, filterErr("$options needs a $regex")
			}
			continue
		}
		test, err := compileOperator(op, arg, ops)
		if err != nil {
			return nil, err
		}
		tests = append(tests, test)
	}
	return func(f found) bool {
		return !slices.ContainsFunc(tests, func(t condition) bool { return !t(f) })
	}, nil
}

// isOperatorDoc: Mongo reads a document as operators when its first key
// starts with $; JSON objects decode without order, so any $ key makes it
// one, and then every key must be an operator.
func isOperatorDoc(doc map[string]any) bool {
	for k := range doc {
		if strings.HasPrefix(k, "$") {
			return true
		}
	}
	return false
}

func compileOperator(op string, arg any, ops map[string]any) (condition, error) {
	switch op {
	case "$eq":
		return equals(arg), nil
	case "$ne":
		return not(equals(arg)), nil
	case "$gt", "$gte", "$lt", "$lte":
		return compares(op, arg), nil
	case "$in", "$nin":
		return compileIn(op, arg)
	case "$all":
		return compileAll(arg)
	case "$exists":
		want := truthy(arg)
		return func(f found) bool { return (len(f) > 0) == want }, nil
	case "$regex":
		return compileRegex(arg, ops["$options"])
	case "$not":
		return compileNot(arg)
	}
	return nil, filterErr("unknown operator: %s", op)
}

func not(c condition) condition { return func(f found) bool { return !c(f) } }

// anyValue holds when test holds for a value found or, Mongo's array
// semantics, for an element of an array found.
func anyValue(f found, test func(any) bool) bool {
	for _, v := range f {
		if test(v) {
			return true
		}
		if arr, ok := v.([]any); ok && slices.ContainsFunc(arr, test) {
			return true
		}
	}
	return false
}

// equals is Mongo's equality; null also matches a missing field.
func equals(want any) condition {
	return func(f found) bool {
		if want == nil && len(f) == 0 {
			return true
		}
		return anyValue(f, func(v any) bool { return reflect.DeepEqual(v, want) })
	}
}

// compares is $gt, $gte, $lt, $lte: only values of the same kind compare
// (Mongo's type bracketing: a string never orders against a number), so
// times, strings of one layout, order lexically.
func compares(op string, bound any) condition {
	return func(f found) bool {
		if len(f) == 0 {
			f = found{nil} // a missing field compares as null
		}
		return anyValue(f, func(v any) bool {
			if typeRank(v) != typeRank(bound) || typeRank(v) >= rankObject {
				return false
			}
			c := compareValues(v, bound)
			switch op {
			case "$gt":
				return c > 0
			case "$gte":
				return c >= 0
			case "$lt":
				return c < 0
			}
			return c <= 0
		})
	}
}

func compileIn(op string, arg any) (condition, error) {
	list, ok := arg.([]any)
	if !ok {
		return nil, filterErr("%s needs an array", op)
	}
	tests := make([]condition, len(list))
	for i, v := range list {
		tests[i] = equals(v)
	}
	in := func(f found) bool { return slices.ContainsFunc(tests, func(t condition) bool { return t(f) }) }
	if op == "$nin" {
		return not(in), nil
	}
	return in, nil
}

// compileAll: the field holds every value (an empty $all matches nothing).
func compileAll(arg any) (condition, error) {
	list, ok := arg.([]any)
	if !ok {
		return nil, filterErr("$all needs an array")
	}
	return func(f found) bool {
		if len(list) == 0 {
			return false
		}
		return !slices.ContainsFunc(list, func(v any) bool { return !equals(v)(f) })
	}, nil
}

// compileRegex is $regex with $options (i, m, s: Go's regexp has no x).
func compileRegex(arg, options any) (condition, error) {
	pattern, ok := arg.(string)
	if !ok {
		return nil, filterErr("$regex has to be a string")
	}
	flags := ""
	if options != nil {
		opts, ok := options.(string)
		if !ok {
			return nil, filterErr("$options has to be a string")
		}
		for _, c := range opts {
			if !strings.ContainsRune("ims", c) {
				return nil, filterErr("invalid flag in regex options: %c", c)
			}
		}
		flags = opts
	}
	return regexCondition(pattern, flags)
}

func regexCondition(pattern, flags string) (condition, error) {
	if flags != "" {
		pattern = "(?" + flags + ")" + pattern
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, filterErr("Regular expression is invalid: %v", err)
	}
	return func(f found) bool {
		return anyValue(f, func(v any) bool { s, ok := v.(string); return ok && re.MatchString(s) })
	}, nil
}

// compileNot is $not of an operator document or, as Pulp compiles a string
// under $not (_compile_regexs_for_not), of a regular expression.
func compileNot(arg any) (condition, error) {
	switch x := arg.(type) {
	case string:
		c, err := regexCondition(x, "")
		if err != nil {
			return nil, err
		}
		return not(c), nil
	case map[string]any:
		if len(x) == 0 {
			return nil, filterErr("$not cannot be empty")
		}
		if !isOperatorDoc(x) {
			return nil, filterErr("$not needs a regex or a document")
		}
		c, err := compileCondition(x)
		if err != nil {
			return nil, err
		}
		return not(c), nil
	}
	return nil, filterErr("$not needs a regex or a document")
}

// truthy is how Mongo reads $exists' argument.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	}
	return true
}

// Mongo's order of kinds (BSON comparison order) for those JSON has.
const (
	rankNull = iota
	rankNumber
	rankString
	rankObject
	rankArray
	rankBool
)

func typeRank(v any) int {
	switch v.(type) {
	case nil:
		return rankNull
	case float64:
		return rankNumber
	case string:
		return rankString
	case map[string]any:
		return rankObject
	case []any:
		return rankArray
	case bool:
		return rankBool
	}
	return rankObject
}

// compareValues orders two values as Mongo sorts them: by kind first, then
// by value; documents and arrays by their JSON text, an approximation
// nobody sorts tasks by.
func compareValues(a, b any) int {
	if ra, rb := typeRank(a), typeRank(b); ra != rb {
		return ra - rb
	}
	switch x := a.(type) {
	case float64:
		y := b.(float64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case string:
		return strings.Compare(x, b.(string))
	case bool:
		if x == b.(bool) {
			return 0
		}
		if !x {
			return -1
		}
		return 1
	case nil:
		return 0
	}
	return strings.Compare(fmt.Sprint(a), fmt.Sprint(b))
}
