package swr

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// filter is a parsed filter parameter: "key::value" pairs joined by '|'.
type filter map[string]string

// parseFilter reads a filter as it arrives once the query is decoded
// (clients send it raw or percent-encoded; both decode to the same). An
// empty string is an empty filter (a bare ?filter). A pair without "::", an
// empty key or a key given twice is invalid; a value may be empty
// (name::), as Terraform sends for an unset attribute.
func parseFilter(s string) (filter, error) {
	f := filter{}
	if s == "" {
		return f, nil
	}
	for _, pair := range strings.Split(s, "|") {
		k, v, ok := strings.Cut(pair, "::")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q is not key::value", pair)
		}
		if _, dup := f[k]; dup {
			return nil, fmt.Errorf("%q is given twice", k)
		}
		f[k] = v
	}
	return f, nil
}

// String writes f back in its wire syntax, keys sorted.
func (f filter) String() string {
	pairs := make([]string, 0, len(f))
	for _, k := range slices.Sorted(maps.Keys(f)) {
		pairs = append(pairs, k+"::"+f[k])
	}
	return strings.Join(pairs, "|")
}

// params are a request's listing parameters: the plain query parameters
// the call takes, overridden by the filter's (as SWR documents for repos).
type params map[string]string

// listParams reads keys from the query and its filter; a filter key the
// call does not take is an invalid filter (4001035), an unknown plain
// parameter is ignored (the SDK sends every field it has).
func listParams(q url.Values, keys ...string) (params, *Error) {
	p := params{}
	for _, k := range keys {
		if q.Has(k) {
			p[k] = q.Get(k)
		}
	}
	f, err := parseFilter(q.Get("filter"))
	if err != nil {
		return nil, invalidFilter(err.Error())
	}
	for k, v := range f {
		if !contains(keys, k) {
			return nil, invalidFilter(fmt.Sprintf("key %q is not one of %s", k, strings.Join(keys, ", ")))
		}
		p[k] = v
	}
	return p, nil
}
