package swr

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
)

func TestParseFilter(t *testing.T) {
	for _, c := range []struct {
		in   string
		want filter
		bad  bool
	}{
		{"", filter{}, false},
		{"limit::10|offset::0|order::desc", filter{"limit": "10", "offset": "0", "order": "desc"}, false},
		{"namespace::ferry|mode::visible", filter{"namespace": "ferry", "mode": "visible"}, false},
		{"name::", filter{"name": ""}, false},
		{"tag::a::b", filter{"tag": "a::b"}, false},
		{"limit", nil, true},
		{"limit:10", nil, true},
		{"::10", nil, true},
		{"limit::1|", nil, true},
		{"limit::1|limit::2", nil, true},
	} {
		got, err := parseFilter(c.in)
		if (err != nil) != c.bad || !c.bad && !reflect.DeepEqual(got, c.want) {
			t.Errorf("%q: %v %v, want %v (bad %v)", c.in, got, err, c.want, c.bad)
		}
	}
}

// Raw, percent-encoded and bare: the three forms clients send decode alike.
func TestListParams(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want params
		code string
	}{
		{"filter=limit::10|offset::0", params{"limit": "10", "offset": "0"}, ""},
		{"filter=limit%3A%3A10%7Coffset%3A%3A0", params{"limit": "10", "offset": "0"}, ""},
		{"filter", params{}, ""},
		{"limit=5&filter=limit::10", params{"limit": "10"}, ""},
		{"limit=5&other=1", params{"limit": "5"}, ""},
		{"filter=bogus::1", nil, CodeInvalidFilter},
		{"filter=limit", nil, CodeInvalidFilter},
	} {
		q, err := url.ParseQuery(c.raw)
		if err != nil {
			t.Fatal(err)
		}
		got, e := listParams(q, "limit", "offset")
		switch {
		case c.code != "" && (e == nil || e.Code != c.code):
			t.Errorf("%q: %v %v, want %s", c.raw, got, e, c.code)
		case c.code == "" && (e != nil || !reflect.DeepEqual(got, c.want)):
			t.Errorf("%q: %v %v, want %v", c.raw, got, e, c.want)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"", "limit::10|offset::0", "a::", "::", "a::b::c|d::e", "|"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseFilter(in)
		if err != nil {
			return
		}
		again, err := parseFilter(got.String())
		if err != nil || !reflect.DeepEqual(got, again) {
			t.Fatalf("%q: %v written %q reads %v %v", in, got, got.String(), again, err)
		}
		for k := range got {
			if k == "" || strings.Contains(k, "|") || strings.Contains(k, "::") {
				t.Fatalf("%q: key %q", in, k)
			}
		}
	})
}

func TestPageOf(t *testing.T) {
	items := []int{1, 2, 3, 4, 5}
	for _, c := range []struct {
		w    window
		want []int
		rng  string
	}{
		{window{offset: 0, limit: 2, ranged: true}, []int{1, 2}, "0-2/5"},
		{window{offset: 4, limit: 2, ranged: true}, []int{5}, "4-1/5"},
		{window{offset: 9, limit: 2, ranged: true}, []int{}, "9-0/5"},
		{window{offset: 1, limit: -1}, []int{2, 3, 4, 5}, ""},
		{window{limit: 3}, []int{1, 2, 3}, ""},
	} {
		got, rng := pageOf(items, c.w)
		if !reflect.DeepEqual(got, c.want) || rng != c.rng {
			t.Errorf("%+v: %v %q, want %v %q", c.w, got, rng, c.want, c.rng)
		}
	}
}

func TestWindowOf(t *testing.T) {
	for _, c := range []struct {
		p    params
		want window
		code string
	}{
		{params{}, window{limit: 100}, ""},
		{params{"limit": "10", "offset": "20"}, window{offset: 20, limit: 10, ranged: true}, ""},
		{params{"limit": "0"}, window{}, CodeInvalidPageSize},
		{params{"limit": "1001"}, window{}, CodeInvalidPageSize},
		{params{"limit": "x"}, window{}, CodeInvalidPageSize},
		{params{"offset": "-1"}, window{}, CodeInvalidParameter},
	} {
		got, err := windowOf(c.p, 100, 1000)
		if c.code != "" {
			if asError(err).Code != c.code {
				t.Errorf("%v: %v, want %s", c.p, err, c.code)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%v: %+v %v, want %+v", c.p, got, err, c.want)
		}
	}
}
