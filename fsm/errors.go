package fsm

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrorKind classifies why the state refused a command. The API maps kinds to
// status codes (and each dialect to its own codes).
type ErrorKind string

const (
	KindInvalid  ErrorKind = "invalid"
	KindNotFound ErrorKind = "not_found"
	KindConflict ErrorKind = "conflict"
)

// Error is a refusal by the state. It travels inside Result, and across a
// forwarded proposal, so it is plain data.
//
// Field names the request field at fault in the API's JSON names ("name",
// "remoteClusterIds", "replicaTaskObjects[0].packageConstraints"), or is
// empty when the refusal is not about one field. Reason says what is wrong,
// in words of no dialect: with a Field it is a clause that reads after the
// field's name, where "it" stands for the field ("it is required",
// `"mars" is not a registered cluster`). Each dialect words the pair its own
// way: the native API with Error, bk-repo in its PARAMETER_INVALID message
// (api/bkrepo).
//
// Rule, when set, names the rule a refusal applies (RuleTaskDisabled, ...),
// so a dialect can give each its own code without reading the words.
type Error struct {
	Kind   ErrorKind
	Field  string
	Reason string
	Rule   Rule
}

// Rule names a rule of the state a command broke.
type Rule string

// Rules a refusal may name.
const (
	// RuleTaskDisabled: a disabled task is not executed.
	RuleTaskDisabled Rule = "task_disabled"
	// RuleTaskBusy: a task with a run going (a REAL_TIME task always has
	// one) is not executed again until it ends.
	RuleTaskBusy Rule = "task_busy"
	// RuleTaskNotStarted: a one-shot task (IMMEDIATELY, SPECIFIED_TIME)
	// that has not fired yet is not executed by hand: it would run twice.
	RuleTaskNotStarted Rule = "task_not_started"
	// RuleTaskHasRun: an update asked only of a task that never ran.
	RuleTaskHasRun Rule = "task_has_run"
	// RuleNameTaken: task names are unique across all projects.
	RuleNameTaken Rule = "name_taken"
	// RuleUnknownCluster: a cluster id that is not registered.
	RuleUnknownCluster Rule = "unknown_cluster"
	// RuleDuplicate: the id is taken (a Pulp repository of the cluster).
	RuleDuplicate Rule = "duplicate"
)

// RuleOf is the rule a refusal names, or "".
func RuleOf(err error) Rule {
	var e *Error
	if errors.As(err, &e) {
		return e.Rule
	}
	return ""
}

// Error is the native wording: "name is required",
// `remoteClusterIds: "mars" is not a registered cluster`.
func (e *Error) Error() string {
	if e.Field == "" {
		return e.Reason
	}
	if rest, ok := strings.CutPrefix(e.Reason, "it "); ok {
		return e.Field + " " + rest
	}
	return e.Field + ": " + e.Reason
}

// errorJSON is Error on the wire. Message is the native wording: an agent
// of an older version reads only it, and sends only it.
type errorJSON struct {
	Kind    ErrorKind `json:"kind"`
	Field   string    `json:"field,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	Rule    Rule      `json:"rule,omitempty"`
	Message string    `json:"message"`
}

// MarshalJSON writes the error with its native wording beside field and
// reason.
func (e *Error) MarshalJSON() ([]byte, error) {
	return json.Marshal(errorJSON{Kind: e.Kind, Field: e.Field, Reason: e.Reason, Rule: e.Rule, Message: e.Error()})
}

// UnmarshalJSON reads an error, from an older agent too: its message is the
// reason, with no field.
func (e *Error) UnmarshalJSON(b []byte) error {
	var j errorJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	e.Kind, e.Field, e.Reason, e.Rule = j.Kind, j.Field, j.Reason, j.Rule
	if j.Field == "" && j.Reason == "" {
		e.Reason = j.Message
	}
	return nil
}

func errorf(kind ErrorKind, format string, args ...any) *Error {
	return &Error{Kind: kind, Reason: fmt.Sprintf(format, args...)}
}

// refusal is a refusal that names its rule.
func refusal(kind ErrorKind, rule Rule, format string, args ...any) *Error {
	return &Error{Kind: kind, Rule: rule, Reason: fmt.Sprintf(format, args...)}
}

// FieldError is an invalid request field: field and reason as Error
// documents them.
func FieldError(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Field: field, Reason: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of a state refusal, or "" for any other error.
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return ""
}
