// Package scheduler owns trigger math and the leader-only loop that turns
// due triggers into runs.
//
// Triggers: Quartz cron expressions (cron.go: Quartz's own rules, as bk-repo
// validates them with org.quartz.CronExpression, including L, W, # and the
// year field), a specified time, or immediately. The loop runs only on the
// leader, after its barrier, and stops when leadership is lost.
// A slot (task, due time) is committed in the same Raft entry as its run
// (fsm's task.fire), so a new leader never fires a committed slot; a slot
// missed while there was no leader fires once, late; a slot that comes due
// while the task's previous run is going is recorded SKIPPED by the state.
// The same leader starts the standing run of each enabled REAL_TIME task
// that has none (Standing), with a capped backoff while those runs fail.
//
// It must not execute transfers (the replicator does) nor write state other
// than by proposing task.fire.
package scheduler
