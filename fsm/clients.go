package fsm

import (
	"encoding/json"
	"fmt"
)

// What an API client may propose. The agents of a group propose anything
// an API client may and their own reports besides (a run's start,
// progress and end, the scheduler's firings): those would let a client
// stop a task's schedule (a fired slot never fires again) or finish runs
// it does not carry out. And a client's command names its author from the
// caller the leader authenticated, never from the payload: a forwarded
// proposal carries a payload the client wrote.

// agentOnly are the commands only an agent proposes.
var agentOnly = map[CommandType]bool{
	CmdStartRun: true, CmdRunProgress: true, CmdFinishRun: true, CmdPulpStartContent: true,
	CmdPulpRecordTask: true, // a task the region's agent carried out itself
}

// authors set a command's author fields to the caller.
var authors = map[CommandType]func(json.RawMessage, string) (json.RawMessage, error){
	CmdCreateRun:        author(func(r *Run, by string) { r.CreatedBy = by }),
	CmdCreateTask:       author(func(t *Task, by string) { t.CreatedBy, t.LastModifiedBy = by, by }),
	CmdUpdateTask:       author(func(u *UpdateTask, by string) { u.CreatedBy, u.LastModifiedBy = by, by }),
	CmdToggleTask:       author(func(t *ToggleTask, by string) { t.By = by }),
	CmdFireTask:         authorFire,
	CmdPulpDeleteRepo:   author(func(r *PulpRepoRef, by string) { r.By = by }),
	CmdPulpUpdateRepo:   author(func(r *PulpRepoUpdate, by string) { r.By = by }),
	CmdPulpSetImporter:  author(func(r *PulpImporterSet, by string) { r.By = by }),
	CmdPulpQueueContent: author(func(q *PulpContentQueue, by string) { q.By = by }),
	CmdPulpPublish:      author(func(p *PulpPublish, by string) { p.By = by }),
	CmdPulpSync:         author(func(p *PulpSync, by string) { p.By = by }),
	CmdPulpRecordTask:   author(func(t *PulpTask, by string) { t.CreatedBy = by }),
}

// ForClient is cmd as an API client named caller may propose it: refused
// when only agents propose it, with its author fields set to caller.
func ForClient(cmd Command, caller string) (Command, error) {
	if cmd.Type.InternalOnly() || agentOnly[cmd.Type] {
		return Command{}, fmt.Errorf("command %q is proposed by agents only", cmd.Type)
	}
	if set, ok := authors[cmd.Type]; ok {
		payload, err := set(cmd.Payload, caller)
		if err != nil {
			return Command{}, fmt.Errorf("%s: %w", cmd.Type, err)
		}
		cmd.Payload = payload
	}
	return cmd, nil
}

func author[T any](set func(*T, string)) func(json.RawMessage, string) (json.RawMessage, error) {
	return func(raw json.RawMessage, by string) (json.RawMessage, error) {
		var p T
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
		set(&p, by)
		return json.Marshal(p)
	}
}

// authorFire lets a client fire a task only as a manual execution: a slot
// is the scheduler's, and a standing run the leader's.
func authorFire(raw json.RawMessage, by string) (json.RawMessage, error) {
	var f FireTask
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, err
	}
	if f.Trigger != TriggerManual || !f.Slot.IsZero() {
		return nil, fmt.Errorf("a client fires a task as a %s execution without a slot, not %q", TriggerManual, f.Trigger)
	}
	f.By = by
	return json.Marshal(f)
}
