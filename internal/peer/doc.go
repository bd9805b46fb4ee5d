// Package peer is how one agent calls another over HTTP: one client and one
// reading of an error answer, shared by forwarding writes to the leader, the
// executor's run reports and the replication protocol.
//
// It owns the request plumbing (address, token, trace id, JSON both ways)
// and the error body every Ferry agent answers with, {"error": "..."}. It
// must not retry, choose timeouts or know any route: callers decide that,
// because a forward, a probe and a bulk upload want different policies.
package peer
