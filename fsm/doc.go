// Package fsm owns Ferry's replicated state and is the only code that changes it.
//
// Every change is a typed, versioned Command carrying an idempotency id and the
// time the leader stamped on it. Apply is deterministic: it never reads the
// clock, the network or the disk, so every agent that applies the same log ends
// in the same state. A command the state rejects (not found, conflict, invalid)
// comes back as the Result's error, never as a panic or a Raft error.
//
// Snapshot copies the state under a read lock and returns; Persist encodes it.
// Restore replaces all state. The first replicated objects are the cluster
// registry and API tokens.
//
// This package must not call the clock, the network or the disk outside
// Snapshot/Restore, and knows nothing about HTTP or gossip.
package fsm
