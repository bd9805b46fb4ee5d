// Package client is a small Go client for Ferry's native /v1 API, used by the
// ferry CLI. It speaks HTTP only and imports no Ferry package (not even
// internal/peer, the agents' own client): sharing no types with the server,
// it holds any agent to the wire format.
package client
