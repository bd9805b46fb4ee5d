package api

import "strings"

// Route is one registered method and path pattern (httprouter's syntax:
// :name and *name parameters).
type Route struct {
	Method string
	Path   string
}

// Routes are every route registered with Handle, in registration order,
// and one per subtree (its prefix, any method): what a fuzzer or a route
// inventory walks.
func (s *Server) Routes() []Route {
	out := append([]Route(nil), s.routeList...)
	for _, t := range s.subtrees {
		out = append(out, Route{Method: "*", Path: strings.TrimSuffix(t.Prefix, "/") + "/*path"})
	}
	return out
}
