package fsm

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// CommandType names one kind of state change.
type CommandType string

const (
	CmdRegisterCluster    CommandType = "cluster.register"
	CmdDeregisterCluster  CommandType = "cluster.deregister"
	CmdCreateToken        CommandType = "token.create"
	CmdDeleteToken        CommandType = "token.delete"
	CmdCreateAccessKey    CommandType = "accesskey.create"
	CmdDeleteAccessKey    CommandType = "accesskey.delete"
	CmdPruneCredentials   CommandType = "credentials.prune"
	CmdCreateRun          CommandType = "run.create"
	CmdCancelRun          CommandType = "run.cancel"
	CmdStartRun           CommandType = "run.start"
	CmdRunProgress        CommandType = "run.progress"
	CmdFinishRun          CommandType = "run.finish"
	CmdCreateTask         CommandType = "task.create"
	CmdUpdateTask         CommandType = "task.update"
	CmdDeleteTask         CommandType = "task.delete"
	CmdToggleTask         CommandType = "task.toggle"
	CmdFireTask           CommandType = "task.fire"
	CmdPulpCreateRepo     CommandType = "pulp.repo.create"
	CmdPulpUpdateRepo     CommandType = "pulp.repo.update"
	CmdPulpDeleteRepo     CommandType = "pulp.repo.delete"
	CmdPulpSetImporter    CommandType = "pulp.importer.set"
	CmdPulpSync           CommandType = "pulp.sync"
	CmdPulpPutSchedule    CommandType = "pulp.schedule.put"
	CmdPulpDeleteSchedule CommandType = "pulp.schedule.delete"
	CmdPulpFire           CommandType = "pulp.fire"
	CmdPulpCreateConsumer CommandType = "pulp.consumer.create"
	CmdPulpUpdateConsumer CommandType = "pulp.consumer.update"
	CmdPulpDeleteConsumer CommandType = "pulp.consumer.delete"
	CmdPulpBind           CommandType = "pulp.bind"
	CmdPulpUnbind         CommandType = "pulp.unbind"
	CmdPulpRecordTask     CommandType = "pulp.task.record"
	CmdPulpPurgeTasks     CommandType = "pulp.task.purge"
	CmdPulpQueueContent   CommandType = "pulp.content.queue"
	CmdPulpStartContent   CommandType = "pulp.content.start"
	CmdPulpPublish        CommandType = "pulp.publish"
	CmdPulpCancelTask     CommandType = "pulp.task.cancel"
)

// Command is the one unit of change in the Raft log.
type Command struct {
	Type CommandType `json:"type"`
	// Version is the payload schema version of Type; Apply rejects versions it
	// does not know rather than guessing.
	Version int `json:"v"`
	// ID makes the command idempotent: a command whose ID was already applied
	// successfully is not applied again. A retry after ErrLeadershipLost reuses it.
	ID string `json:"id"`
	// Time is stamped by the leader just before it proposes the command; Apply
	// uses it instead of a clock so that every agent computes the same state.
	Time    time.Time       `json:"time"`
	Payload json.RawMessage `json:"payload"`
}

// NewCommand builds a command of the current version with a fresh id.
func NewCommand(t CommandType, payload any) (Command, error) {
	h, ok := handlers[t]
	if !ok {
		return Command{}, fmt.Errorf("fsm: unknown command type %q", t)
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return Command{}, fmt.Errorf("fsm: encode %s: %w", t, err)
	}
	return Command{Type: t, Version: h.version, ID: NewID(), Payload: b}, nil
}

// Encode gives the bytes that go into the Raft log.
func (c Command) Encode() ([]byte, error) { return json.Marshal(c) }

// DecodeCommand parses bytes from the Raft log or from a forwarded proposal.
func DecodeCommand(b []byte) (Command, error) {
	var c Command
	if err := json.Unmarshal(b, &c); err != nil {
		return Command{}, fmt.Errorf("fsm: decode command: %w", err)
	}
	if c.Type == "" || c.ID == "" {
		return Command{}, fmt.Errorf("fsm: decode command: type and id are required")
	}
	return c, nil
}

// NewID returns a random 128-bit id in UUID text form.
func NewID() string {
	var b [16]byte
	random(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// RandomHex is n random bytes in hex: token secrets, task keys and ids.
func RandomHex(n int) string {
	b := make([]byte, n)
	random(b)
	return hex.EncodeToString(b)
}

// random fills b from crypto/rand, which does not fail on the systems Go
// supports; if it ever does, no id is safe to hand out.
func random(b []byte) {
	if _, err := rand.Read(b); err != nil {
		panic("fsm: crypto/rand failed: " + err.Error())
	}
}

// InternalOnly reports whether a command may only be proposed by the leader's
// own loops (membership), never on behalf of an API client.
func (t CommandType) InternalOnly() bool {
	h, ok := handlers[t]
	return !ok || h.internal
}

// RequiredPolicy is the token policy an API client needs to propose t.
func (t CommandType) RequiredPolicy() Policy {
	if h, ok := handlers[t]; ok {
		return h.policy
	}
	return PolicyAdmin
}
