// Package tlsutil owns Ferry's mutual TLS: it creates the group's CA and the
// agents' certificates (ca.go), writes them atomically (files.go), holds the
// loaded CA and key pair so that SIGHUP can swap them under live listeners
// (holder.go), builds the server and client tls.Config of the API, Raft and
// agent-to-agent calls (config.go), and names the agent a verified peer
// certificate belongs to (identity.go).
//
// An agent's identity is the DNS name "<cluster-id>.agent.ferry" in its
// certificate, signed by the group's CA; the certificate is valid for both
// server and client authentication, as Consul's agent certificates are.
package tlsutil
