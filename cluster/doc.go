// Package cluster owns membership and consensus: gossip (memberlist) with each
// agent's metadata, the Raft node (TCP transport, raft-boltdb/v2 log and stable
// store behind a LogCache, file snapshots), bootstrap once bootstrap-expect
// agents are seen, and the leader's reconcile loop that adds alive members as
// non-voters, promotes them after a stabilization time up to the voter cap, and
// removes members that left at once and failed ones after a dead-server timeout.
//
// It answers who the leader is, where its API is, who the members and peers
// are, and applies opaque command bytes on the leader.
//
// It must not know what a command means: the fsm interprets the bytes, and the
// agent decides what to propose.
package cluster
