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
// progress through Raft at a bounded rate, and its local database (a bbolt
// file: the per-object detail of each run, quick-check marks, real-time
// outbox cursors). The Receiver is the target side of the protocol.
//
// A target's pass goes through stages: the planner asks what the target
// lacks, the sender moves content, the committer links paths and commits
// package versions last, in the commit order of phases (committer.go).
//
// It must not decide when a run happens (the scheduler does, REAL_TIME
// standing runs included) nor change replicated state other than by
// proposing run commands.
package replicator
