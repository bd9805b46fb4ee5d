// Package client is a small Go client for Ferry's native /v1 API, used by the
// ferry CLI. It speaks HTTP only and shares no types with the server, so it
// holds any agent to the wire format.
package client
