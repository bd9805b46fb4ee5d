// Package agent wires one Ferry agent together and runs its lifecycle: it
// opens the HTTP listener, starts the cluster node over the fsm, serves the API,
// starts the leader-only loops after a barrier when this agent gains leadership
// and stops them when it loses it, and leaves or shuts down in order.
//
// It is also the service every API dialect calls: it validates a write,
// builds the typed command and proposes it, on the leader directly or through
// the leader when this agent is a follower, and answers once the write is
// applied here (read-your-writes on the agent that answered).
//
// It must not grow into a second API layer: HTTP shapes belong to api, the
// state's rules to fsm, membership mechanics to cluster.
package agent
