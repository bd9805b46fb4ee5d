// Package connlimit caps the connections a listener keeps open, overall and
// per client address, so that one client cannot take every file descriptor
// of an agent (issue 15, defect 1). A connection over a cap is closed as
// soon as it is accepted, before a byte is read: like Consul's
// http_max_conns_per_client, the refusal costs the agent nothing.
package connlimit
