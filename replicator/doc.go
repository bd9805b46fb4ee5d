// Package replicator executes replication runs and speaks the agent-to-agent
// transfer protocol.
//
// It owns: finding the runs this agent must execute (the fsm names the
// executor), enumerating what a spec selects in the local store, and for each
// target cluster planning (the target answers, per path, what it lacks, what
// conflicts and what it already holds; content it holds under any path is
// linked there, not sent), transferring the missing content concurrently
// through token-bucket rate limits (small files batched, large ones in
// resumable uploads), committing nodes and package versions, reporting
// progress through Raft at a bounded rate, and the per-object detail of each
// run in a local bbolt file. The Receiver is the target side of the protocol.
//
// It must not decide when a run happens (the scheduler does) nor change
// replicated state other than by proposing run commands.
package replicator
