package bkrepo

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/ferrysync/ferry/api"
	"github.com/ferrysync/ferry/fsm"
)

// What bk-repo refuses before its service sees a body, and the
// Preconditions its service starts with. bk-repo's request classes are
// Kotlin data classes read by Jackson: a required property that is absent or
// null, a value of the wrong JSON type and an enum value it does not know
// all fail the read (HttpMessageNotReadableException, 250106
// REQUEST_CONTENT_INVALID). Then ReplicaTaskServiceImpl checks what it needs
// with Preconditions: a null value is 250103 PARAMETER_MISSING, an empty one
// 250104 PARAMETER_EMPTY.

// Enum values bk-repo's request classes know. replicaType also has
// RUN_ONCE, EDGE_PULL and FEDERATION, which read fine and which the service
// refuses, as Ferry does not run them (250105).
var (
	objectTypes        = []string{fsm.ObjectRepository, fsm.ObjectPackage, fsm.ObjectPath}
	replicaTypes       = []string{fsm.ReplicaScheduled, fsm.ReplicaRealTime, "RUN_ONCE", "EDGE_PULL", "FEDERATION"}
	conflictStrategies = []string{fsm.ConflictSkip, fsm.ConflictOverwrite, fsm.ConflictFastFail}
	errorStrategies    = []string{fsm.ErrorContinue, fsm.ErrorFastFail}
	executionKinds     = []string{fsm.ExecImmediately, fsm.ExecSpecifiedTime, fsm.ExecCron}
	// repoTypes is bk-repo's RepositoryType (common-artifact).
	repoTypes = []string{"NONE", "GENERIC", "DOCKER", "MAVEN", "PYPI", "NPM", "HELM", "RDS", "COMPOSER", "RPM", "NUGET", "GIT",
		"OCI", "CONAN", "GO", "LFS", "OHPM", "CARGO", "SVN", "HUGGINGFACE", "DDC", "S3"}
)

// Required properties: non-nullable without a default.
var (
	createRequired = []string{"name", "localProjectId", "replicaObjectType", "replicaTaskObjects", "remoteClusterIds", "setting"}
	// bk-repo's ReplicaTaskUpdateRequest also requires setting; the
	// document's update sample has none, and the document wins.
	updateRequired = []string{"key", "name", "localProjectId", "replicaObjectType", "replicaTaskObjects", "remoteClusterIds"}
	copyRequired   = []string{"key", "name"}
	objectRequired = []string{"localRepoName", "repoType"}
)

// object is a JSON object by property, as Jackson sees it before binding.
type object map[string]json.RawMessage

func unreadable(format string, args ...any) *Error {
	return &Error{http.StatusBadRequest, CodeRequestContentInvalid, "Invalid request content: " + fmt.Sprintf(format, args...)}
}

func missing(field string) *Error {
	return &Error{http.StatusBadRequest, CodeParameterMissing, fmt.Sprintf("Missing parameter [%s]", field)}
}

func empty(field string) *Error {
	return &Error{http.StatusBadRequest, CodeParameterEmpty, fmt.Sprintf("Parameter [%s] should not be empty", field)}
}

// given is whether the property is there and not null.
func (o object) given(k string) bool {
	raw, ok := o[k]
	return ok && string(raw) != "null"
}

func (o object) require(path string, keys ...string) *Error {
	for _, k := range keys {
		if !o.given(k) {
			return unreadable("required property [%s%s] is missing or null", path, k)
		}
	}
	return nil
}

// enum checks a property that must be one of values, when it is given.
func (o object) enum(path, k string, values []string) *Error {
	if !o.given(k) {
		return nil
	}
	var s string
	if err := json.Unmarshal(o[k], &s); err != nil || !slices.Contains(values, s) {
		return unreadable("[%s%s] %s is not one of %s", path, k, o[k], strings.Join(values, ", "))
	}
	return nil
}

// list reads a property that is a JSON array, when it is given: an array of
// none is 250104.
func (o object) list(path, k string) ([]json.RawMessage, *Error) {
	if !o.given(k) {
		return nil, nil
	}
	var l []json.RawMessage
	if err := json.Unmarshal(o[k], &l); err != nil {
		return nil, unreadable("[%s%s] %s is not an array", path, k, o[k])
	}
	if len(l) == 0 {
		return nil, empty(path + k)
	}
	return l, nil
}

// child reads a property that is a JSON object, when it is given.
func (o object) child(path, k string) (object, *Error) {
	if !o.given(k) {
		return nil, nil
	}
	var c object
	if err := json.Unmarshal(o[k], &c); err != nil || c == nil {
		return nil, unreadable("[%s%s] %s is not an object", path, k, o[k])
	}
	return c, nil
}

// checkTaskShape is Jackson's read of a create or update body, and the
// service's first Preconditions on it.
func checkTaskShape(top object, required []string) *Error {
	if e := top.require("", required...); e != nil {
		return e
	}
	for _, c := range []struct {
		k      string
		values []string
	}{{"replicaObjectType", objectTypes}, {"replicaType", replicaTypes}} {
		if e := top.enum("", c.k, c.values); e != nil {
			return e
		}
	}
	objects, e := top.list("", "replicaTaskObjects")
	if e != nil {
		return e
	}
	for i, raw := range objects {
		if e := checkObjectShape(raw, fmt.Sprintf("replicaTaskObjects[%d].", i)); e != nil {
			return e
		}
	}
	if _, e := top.list("", "remoteClusterIds"); e != nil {
		return e
	}
	setting, e := top.child("", "setting")
	if e != nil {
		return e
	}
	for _, c := range []struct {
		k      string
		values []string
	}{{"conflictStrategy", conflictStrategies}, {"errorStrategy", errorStrategies}, {"executionStrategy", executionKinds}} {
		if e := setting.enum("setting.", c.k, c.values); e != nil {
			return e
		}
	}
	return nil
}

func checkObjectShape(raw json.RawMessage, path string) *Error {
	var o object
	if err := json.Unmarshal(raw, &o); err != nil || o == nil {
		return unreadable("[%s] %s is not an object", strings.TrimSuffix(path, "."), raw)
	}
	if e := o.require(path, objectRequired...); e != nil {
		return e
	}
	return o.enum(path, "repoType", repoTypes)
}

// checkTaskRules are ReplicaTaskServiceImpl's Preconditions on what the
// body asked, and its validateReplicaObject: one object for a PATH or
// PACKAGE task, constraints a PACKAGE task needs, the time a SPECIFIED_TIME
// task needs, an IMMEDIATELY plan that runs immediately, records kept 1 to
// 60 days. The rest of a task's rules are Ferry's, for every dialect (fsm).
func checkTaskRules(top object, req api.TaskRequest) *Error {
	if req.ReplicaObjectType != fsm.ObjectRepository && len(req.Objects) > 1 {
		return unreadable("a %s task replicates one object, not %d", req.ReplicaObjectType, len(req.Objects))
	}
	for i, o := range req.Objects {
		if req.ReplicaObjectType != fsm.ObjectPackage {
			continue
		}
		field := fmt.Sprintf("replicaTaskObjects[%d].packageConstraints", i)
		switch {
		case o.PackageConstraints == nil:
			return missing(field)
		case len(o.PackageConstraints) == 0:
			return empty(field)
		}
		for j, c := range o.PackageConstraints {
			if slices.Contains(c.Versions, "") {
				return empty(fmt.Sprintf("%s[%d].versions", field, j))
			}
		}
	}
	if top.given("recordReserveDays") && (req.RecordReserveDays < 1 || req.RecordReserveDays > fsm.MaxRecordReserveDays) {
		return invalid("recordReserveDays", "%d is not within 1..%d", req.RecordReserveDays, fsm.MaxRecordReserveDays)
	}
	if req.ReplicaType != fsm.ReplicaScheduled {
		return nil
	}
	switch plan := req.Setting.ExecutionPlan; req.Setting.ExecutionStrategy {
	case fsm.ExecSpecifiedTime:
		if plan.ExecuteTime.IsZero() {
			return missing("executeTime")
		}
	case fsm.ExecImmediately:
		if !plan.ExecuteImmediately {
			return invalid("executeImmediately", "an IMMEDIATELY task executes immediately")
		}
	}
	return nil
}
