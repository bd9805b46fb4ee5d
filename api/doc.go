// Package api is Ferry's HTTP surface: routing (httprouter), middleware (trace
// id, structured logs, metrics, token auth, read-consistency headers, consistent
// reads through the leader), the native /v1 API and /metrics.
//
// Handlers translate HTTP to calls on the services (Auth, Status, Tokens,
// Forwarder, Runs, Tasks, the store) and results back to JSON. They
// must not hold business rules: validation of what a write means, proposing it
// and forwarding it to the leader belong to the agent's service; the state's
// rules belong to fsm. Later dialects (bkrepo, Pulp, SWR) sit here too and
// translate in the same way.
package api
