// Package integration holds tests that start several real Ferry agents in
// this process, on loopback ports the kernel picks at run time, with real Raft
// and bbolt files in temporary directories, and drive them over HTTP only.
//
// It starts agents through the agent package's public Start/Leave/Shutdown and
// must not import internals (cluster, fsm, api): what it asserts is what a
// user sees on the wire.
package integration
