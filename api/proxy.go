package api

import (
	"net/http"
	"net/http/httputil"
	"net/url"
)

// headerProxied marks a consistent read that one agent already proxied.
const headerProxied = "X-Ferry-Proxied"

// proxyToLeader sends the request, with the caller's credentials, to the
// leader's API. The leader answers it as its own read.
func (s *Server) proxyToLeader(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(headerProxied) != "" {
		// Two agents that each think the other leads must not bounce it forever.
		writeError(w, http.StatusServiceUnavailable, "consistent read: this agent is not the leader either; leadership is changing, retry")
		return
	}
	leader, ok := s.svc.Leader()
	if !ok || leader.APIAddr == "" {
		writeError(w, http.StatusServiceUnavailable, "no cluster leader is known; a consistent read needs one")
		return
	}
	target := &url.URL{Scheme: "http", Host: leader.APIAddr}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out.Header.Set(HeaderTraceID, TraceID(r.Context()))
			pr.Out.Header.Set(headerProxied, "1")
		},
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Del(HeaderTraceID) // ours is already set
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			writeError(w, http.StatusBadGateway, "leader %s at %s did not answer: %v", leader.ID, leader.APIAddr, err)
		},
		Transport: s.transport,
	}
	proxy.ServeHTTP(w, r)
}
