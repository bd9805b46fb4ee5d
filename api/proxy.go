package api

import (
	"fmt"
	"net/http"
	"net/http/httputil"
	"net/url"

	"github.com/ferrysync/ferry/internal/sdksign"
	"github.com/ferrysync/ferry/internal/tlsutil"
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
	leader, ok := s.status.Leader()
	if !ok || leader.APIAddr == "" {
		writeError(w, http.StatusServiceUnavailable, "no cluster leader is known; a consistent read needs one")
		return
	}
	s.proxyTo(w, r, leader.ID, leader.APIAddr, s.transport)
}

// proxyTo streams the request, with the caller's credentials and trace id,
// to the agent of cluster id at addr, and its answer back.
func (s *Server) proxyTo(w http.ResponseWriter, r *http.Request, id, addr string, transport http.RoundTripper) {
	if r.Header.Get(headerProxied) != "" {
		writeError(w, http.StatusBadGateway, "request for cluster %s was proxied to agent %s, which is not it", id, s.status.ClusterID())
		return
	}
	target := &url.URL{Scheme: s.scheme, Host: addr}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			pr.Out = pr.Out.WithContext(tlsutil.ExpectAgent(pr.Out.Context(), id))
			if sdksign.IsSigned(r) {
				// A signature may cover host (the Python SDK signs it): the
				// agent it is proxied to checks it against the same one.
				pr.Out.Host = r.Host
			}
			pr.Out.Header.Set(HeaderTraceID, TraceID(r.Context()))
			pr.Out.Header.Set(headerProxied, "1")
		},
		ModifyResponse: func(resp *http.Response) error {
			if resp.TLS != nil && !tlsutil.PeerIs(resp.TLS, id) {
				// A pooled connection, verified for the agent that opened it.
				return fmt.Errorf("the answer's certificate is not the agent of %s", id)
			}
			resp.Header.Del(HeaderTraceID) // ours is already set
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			writeError(w, http.StatusBadGateway, "agent of %s at %s did not answer: %v", id, addr, err)
		},
		Transport:     transport,
		FlushInterval: -1, // stream downloads as they come
	}
	proxy.ServeHTTP(w, r)
}
