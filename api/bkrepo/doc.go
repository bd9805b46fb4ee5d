// Package bkrepo serves bk-repo's replication API (the task, record and
// cluster endpoints under /replication/api, as the bk-repo document and
// TencentBlueKing/bk-repo's ReplicaTaskController, ReplicaRecordController
// and ClusterNodeController define them) over Ferry's native task and run
// service.
//
// The dialect only translates: bk-repo's names and shapes to api.TaskRequest
// and back from api.TaskView and fsm.Run, its {"code","message","data",
// "traceId"} envelope, its error codes (CommonMessageCode and
// ReplicationMessageCode) and its LocalDateTime times in the agent's zone.
// Every rule about what a task may be, when it runs and what a run does is
// the service's (agent/tasks.go, agent/runs.go, fsm): the dialect calls
// the native services (api.Tasks, api.Runs, api.Status) and never decides
// on its own.
//
// It imports api, never the reverse; the agent mounts it with Register right
// after api.New.
package bkrepo
