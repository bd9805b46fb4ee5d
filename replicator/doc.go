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
// outbox cursors). Both ends of the protocol live here.
//
// A target's pass goes through stages: the planner asks what the target
// lacks, the sender moves content, the committer links paths and commits
// package versions last, in the commit order of phases (committer.go). A
// repository's listing longer than Config.ListPart (50,000) is taken in parts,
// each a phase of its own, so that the source holds one part per target and
// not a million objects (listparts.go).
//
// It must not decide when a run happens (the scheduler does, REAL_TIME
// standing runs included) nor change
// replicated state other than by proposing run commands. It does not
// authenticate protocol calls: the agent mounts Receiver.Routes under its
// API's token check.
//
// # The transfer protocol
//
// wire.go lists the routes under /v1/replica and holds their shapes;
// remote.go is the sending side, one remote per target cluster; receiver.go
// is the target side and handler.go serves it over HTTP (Receiver.Routes,
// mounted by the agent, which names the caller with WithCaller).
//
// A run's target calls, in order: head (where the target's change log
// stands, to skip planning a repository unchanged since the last run's mark),
// plan (up to maxPlanObjects paths a call: the target links content it holds
// and answers what it lacks; a dry run, which FAST_FAIL sends first for an
// image's tags, only answers), then batch for small files (frames read whole,
// at most maxBatchFiles files and maxBatchBytes, none above maxBatchFile)
// and, for large ones, uploads GET/PATCH (chunks resumable at the offset the
// target reports, 409 with that offset on a mismatch) followed by commit;
// versions last. Real-time rounds also call delete. JSON bodies are bounded
// by maxJSONBody.
//
// Every call but head and an upload's PATCH is retried with capped
// exponential backoff (defaultRetry) on transport errors, 5xx and 429; other
// answers are final, and the last failed attempt is an unreachableError that
// fails the whole target rather than its objects. A PATCH is sent once: the
// sender asks the status and resumes from there. Retries are safe because
// the target is idempotent: a batch or commit finds what its first attempt
// wrote (the same content and metadata at the path) and answers success,
// also when a retry races that attempt; a plan's links and an identical
// version are no-ops; deleting a missing path or repository is success.
package replicator
